// A stand-in for the broker's attachment endpoints, built from the TypeScript packages
// (@session-bot/chunker/nats + @session-bot/protocol envelopes), for the Python interop tests.
// Usage: node attachment_broker.mjs <repo> <nats-url> <bot>. Prints "ready". Stores put files in
// memory; `attachments.get` of an unknown id fails with code NOT_FOUND.
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
const [repo, url, bot] = process.argv.slice(2);
const chunker = await import(pathToFileURL(`${repo}/packages/chunker/dist/nats.js`).href);
const protocol = await import(pathToFileURL(`${repo}/packages/protocol/dist/index.js`).href);
const { connect } = await import(pathToFileURL(`${repo}/packages/chunker/node_modules/@nats-io/transport-node/lib/mod.js`).href);
const nc = await connect({ servers: url });
const files = new Map();
files.set("seeded", { bytes: new TextEncoder().encode("seeded file ✓"), contentType: "text/plain", fileName: "seed.txt" });
const descriptor = (id, f) => ({ id, contentType: f.contentType, size: f.bytes.length, sha256: createHash("sha256").update(f.bytes).digest("hex"), ...(f.fileName ? { fileName: f.fileName } : {}) });
const get = chunker.serveChunked(nc, protocol.brokerSubject(bot, "attachments.get"), async (req) => {
  const { attachmentId } = protocol.parseAttachmentGetRequest(JSON.parse(new TextDecoder().decode(req)));
  const f = files.get(attachmentId);
  if (!f) throw Object.assign(new Error("no such attachment"), { code: "NOT_FOUND" });
  return protocol.encodeAttachmentGetPayload({ v: 1, attachment: descriptor(attachmentId, f) }, f.bytes);
}, { maxFragmentBytes: 4096 });
const put = chunker.serveChunked(nc, protocol.brokerSubject(bot, "attachments.put"), async (req) => {
  const { header, bytes } = protocol.decodeAttachmentPutPayload(req);
  const id = `up${files.size}`;
  files.set(id, { bytes: Uint8Array.from(bytes), contentType: header.contentType, fileName: header.fileName });
  return new TextEncoder().encode(JSON.stringify({ v: 1, attachment: descriptor(id, files.get(id)) }));
}, { maxFragmentBytes: 4096 });
await nc.flush();
console.log("ready");
process.on("SIGTERM", async () => { await get.stop({ abort: true }); await put.stop({ abort: true }); await nc.close(); process.exit(0); });
