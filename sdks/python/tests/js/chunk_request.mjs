// TypeScript-side caller (@session-bot/chunker/nats requestChunked) for the Python interop tests.
// Usage: node chunk_request.mjs <repo> <nats-url> <subject> <bytes>. Sends bytes i%251, prints the
// reply as hex on stdout, or "ERROR <code> <remoteCode>" on failure.
import { pathToFileURL } from "node:url";
const [repo, url, subject, n] = process.argv.slice(2);
const chunker = await import(pathToFileURL(`${repo}/packages/chunker/dist/nats.js`).href);
const { connect } = await import(pathToFileURL(`${repo}/packages/chunker/node_modules/@nats-io/transport-node/lib/mod.js`).href);
const nc = await connect({ servers: url });
const payload = Uint8Array.from({ length: Number(n) }, (_, i) => i % 251);
try {
  const reply = await chunker.requestChunked(nc, subject, payload, { maxFragmentBytes: 700, windowBytes: 4096, timeoutMs: 10_000 });
  console.log(Buffer.from(reply).toString("hex"));
} catch (err) {
  console.log(`ERROR ${err.code} ${err.details?.remoteCode ?? ""}`);
}
await nc.close();
