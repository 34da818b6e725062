// End-to-end throughput of plugin-host: InboundEvents published to SB_INBOUND → the echo plugin
// → replies on SB_OUTBOUND, for 1 and 2 in-process workers, beside a baseline measured in the
// same run: a bare JetStream loop (one pull consumer, no ordering bound, no plugins, 16 events in
// flight) that reads each event and publishes a reply with a Nats-Msg-Id. Target: 1 worker ≥ 0.25× the baseline
// (plugin-host pays for per-conversation ordering: max_ack_pending = 1 per partition).
// Prints a table and writes bench/last-run.json. Not a test: nothing here fails on a slow machine.
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats } from "@session-bot/nats-testing";
import { PLUGINS_BUCKET, PLUGIN_MANIFESTS_BUCKET, STREAMS, encodeInboundEvent, inboundSubjectOf, type MessageEvent } from "@session-bot/protocol";
import { pino } from "pino";
import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { loadPlugins } from "../src/plugins/loader.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 600);
const PARTITIONS = 16;
const BOT = "bench";

const nats = await startNats({ kind: "binary" });
const admin = await connect({ servers: nats.url });
const jsm = await jetstreamManager(admin);
const js = jetstream(admin);

async function resetStreams(): Promise<void> {
  for (const s of [STREAMS.inbound, STREAMS.outbound, STREAMS.deadLetter]) {
    await jsm.streams.delete(s.name).catch(() => undefined);
    await jsm.streams.add({ name: s.name, subjects: [...s.subjects] });
  }
}
const kvm = new Kvm(admin);
await kvm.create(PLUGINS_BUCKET);
await kvm.create(PLUGIN_MANIFESTS_BUCKET);

const peer = (n: number) => `05${n.toString(16).padStart(64, "0")}`;
async function publishAll(tag: string): Promise<void> {
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const ev: MessageEvent = { v: 1, id: `${tag}-${i}`, bot: BOT, conversation: peer(i % 200), sender: peer(i % 200), timestamp: i, receivedAt: Date.now(), kind: "message", text: `/echo ${i}`, attachments: [] };
    acks.push(js.publish(inboundSubjectOf(ev, PARTITIONS), encodeInboundEvent(ev), { msgID: ev.id }));
  }
  await Promise.all(acks);
}
async function waitReplies(): Promise<void> {
  for (;;) {
    const info = await jsm.streams.info(STREAMS.outbound.name);
    if (info.state.messages >= EVENTS) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function baseline(): Promise<number> {
  await resetStreams();
  await jsm.consumers.add(STREAMS.inbound.name, { durable_name: "bare", ack_policy: AckPolicy.Explicit, max_ack_pending: 1_000 });
  const nc = await connect({ servers: nats.url });
  const bjs = jetstream(nc);
  const c = await bjs.consumers.get(STREAMS.inbound.name, "bare");
  const msgs = await c.consume({ max_messages: 200 });
  // Up to 16 events in flight, like one plugin-host worker with PLUGIN_HOST_CONCURRENCY=16.
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const m of msgs) {
      if (inflight.size >= 16) await Promise.race(inflight);
      const p: Promise<void> = bjs.publish(`sb.out.${BOT}.send`, m.data, { msgID: `r-${m.seq}` }).then(() => {
        m.ack();
        inflight.delete(p);
      });
      inflight.add(p);
    }
  })();
  const t = performance.now();
  await publishAll("b");
  await waitReplies();
  const ms = performance.now() - t;
  await msgs.close();
  await loop;
  await nc.close();
  return (EVENTS / ms) * 1000;
}

async function host(workers: number): Promise<number> {
  await resetStreams();
  const env = {
    SB_BOT: BOT,
    NATS_URL: nats.url,
    SB_PARTITIONS: String(PARTITIONS),
    PLUGIN_HOST_PLUGINS: "@session-bot/plugin-echo",
    PLUGIN_HOST_CONCURRENCY: "16",
    PLUGIN_HOST_HTTP_PORT: "0",
  };
  const plugins = await loadPlugins(["@session-bot/plugin-echo"], undefined);
  const running: Array<{ nc: NatsConnection; stop: () => Promise<void> }> = [];
  for (let w = 0; w < workers; w++) {
    const config = loadConfig({ ...env, PLUGIN_HOST_INSTANCE: `bench-${w}` });
    const nc = await connect({ servers: nats.url });
    const app = buildApp({ nc, config, log: pino({ level: "silent" }), plugins, version: "0.0.0-bench" });
    await app.start();
    running.push({ nc, stop: () => app.stop(1_000) });
  }
  const t = performance.now();
  await publishAll(`h${workers}`);
  await waitReplies();
  const ms = performance.now() - t;
  for (const r of running) {
    await r.stop();
    await r.nc.close();
  }
  // Consumers are bound to the stream: recreated per run with it.
  return (EVENTS / ms) * 1000;
}

const base = await baseline();
const one = await host(1);
const two = await host(2);
await admin.close();
await nats.stop();

const rows = [
  { case: "bare JetStream loop (baseline)", eventsPerSec: base, ratio: 1 },
  { case: "plugin-host, 1 worker, echo", eventsPerSec: one, ratio: one / base },
  { case: "plugin-host, 2 workers, echo", eventsPerSec: two, ratio: two / base },
];
console.table(rows.map((r) => ({ case: r.case, "events/s": Math.round(r.eventsPerSec), "× baseline": r.ratio.toFixed(2) })));
console.log(`target: 1 worker ≥ 0.25× baseline → ${one / base >= 0.25 ? "met" : "NOT met"} (${EVENTS} events, ${PARTITIONS} partitions, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)})`);
writeFileSync(
  fileURLToPath(new URL("./last-run.json", import.meta.url)),
  `${JSON.stringify({ date: new Date().toISOString(), events: EVENTS, partitions: PARTITIONS, cpus: cpus().length, rows }, null, 2)}\n`,
);
