// A TypeScript-side chunked service (@session-bot/chunker/nats) for the Python interop tests.
// Usage: node chunk_server.mjs <repo> <nats-url> <subject>. Replies reverse(request); a request
// starting with "fail" makes the handler throw { code: "NOT_FOUND" }. Prints "ready" when serving.
import { pathToFileURL } from "node:url";
const [repo, url, subject] = process.argv.slice(2);
const chunker = await import(pathToFileURL(`${repo}/packages/chunker/dist/nats.js`).href);
const { connect } = await import(pathToFileURL(`${repo}/packages/chunker/node_modules/@nats-io/transport-node/lib/mod.js`).href);
const nc = await connect({ servers: url });
const svc = chunker.serveChunked(nc, subject, async (req) => {
  if (new TextDecoder().decode(req.subarray(0, 4)) === "fail") {
    throw Object.assign(new Error("no such attachment"), { code: "NOT_FOUND" });
  }
  return Uint8Array.from(req).reverse();
}, { maxFragmentBytes: 1024 });
await nc.flush();
console.log("ready");
process.on("SIGTERM", async () => { await svc.stop({ abort: true }); await nc.close(); process.exit(0); });
