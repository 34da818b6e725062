// JetStream publish-with-ack: this package's publisher beside nats.js's js.publish(), same server,
// same stream (file storage), same payloads, 256 in flight; messages/s and client CPU per message.
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startNats } from "@session-bot/nats-testing";
import { JetStreamPublisher } from "../src/index.js";

const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const WINDOW = 256;
const nats = await startNats({ kind: "binary" });
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
await (await jetstreamManager(nc)).streams.add({ name: "B", subjects: ["b.>"], storage: StorageType.File });
const js = jetstream(nc);
const pub = new JetStreamPublisher(nc);
const data = new TextEncoder().encode(JSON.stringify({ v: 1, text: "x".repeat(200) }));

async function run(send: (i: number) => Promise<unknown>): Promise<{ perSec: number; cpuUs: number }> {
  const t = performance.now();
  const c0 = process.cpuUsage();
  const pending = new Set<Promise<unknown>>();
  for (let i = 0; i < N; i++) {
    if (pending.size >= WINDOW) await Promise.race(pending);
    const p: Promise<unknown> = send(i).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
  const c = process.cpuUsage(c0);
  return { perSec: (N / (performance.now() - t)) * 1000, cpuUs: (c.user + c.system) / N };
}
const rows: Record<string, string>[] = [];
for (let round = 0; round < 3; round++) {
  const a = await run((i) => js.publish(`b.${i % 16}`, data, { msgID: `js-${round}-${i}` }));
  const b = await run((i) => pub.publish(`b.${i % 16}`, data, { msgID: `own-${round}-${i}` }));
  rows.push({ round: String(round + 1), "js.publish msg/s": a.perSec.toFixed(0), "js.publish µs CPU": a.cpuUs.toFixed(1), "publisher msg/s": b.perSec.toFixed(0), "publisher µs CPU": b.cpuUs.toFixed(1), "× msg/s": (b.perSec / a.perSec).toFixed(2) });
}
console.table(rows);
pub.close();
await nc.close();
await nats.stop();
