// Scaling diagnostic: is the plugin-host scaling limit the intake design (every worker pulls every
// partition, one unacked event per partition) rather than the machine? Runs a model of the intake
// (bench/intake-worker.ts) with 1 worker, 2 workers sharing all 16 partitions (plugin-host's way),
// 2 workers owning 8 partitions each, and 2 workers sharing but yielding to the event loop before
// the CPU work. Returns messages/s per case.
import { fork } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { until } from "@session-bot/chaos";

const HERE = fileURLToPath(new URL(".", import.meta.url));
export interface ModelCase {
  case: string;
  msgsPerSec: number;
}

export async function intakeModel(url: string, iters: number, events = 400, partitions = 16): Promise<ModelCase[]> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const all = Array.from({ length: partitions }, (_, p) => p);
  const half = partitions / 2;
  const cases: { name: string; workers: number[][]; yieldFirst: boolean }[] = [
    { name: "1 worker, all partitions", workers: [all], yieldFirst: false },
    { name: "2 workers sharing all partitions (plugin-host's way)", workers: [all, all], yieldFirst: false },
    { name: "2 workers sharing, yield before the CPU work", workers: [all, all], yieldFirst: true },
    { name: "2 workers owning half the partitions each", workers: [all.slice(0, half), all.slice(half)], yieldFirst: false },
  ];
  const out: ModelCase[] = [];
  for (const c of cases) {
    for (const s of ["MODEL_IN", "MODEL_OUT"]) await jsm.streams.delete(s).catch(() => undefined);
    await jsm.streams.add({ name: "MODEL_IN", subjects: ["model.in.>"] });
    await jsm.streams.add({ name: "MODEL_OUT", subjects: ["model.out.>"] });
    for (const p of all) await jsm.consumers.add("MODEL_IN", { durable_name: `p${p}`, filter_subject: `model.in.${p}`, ack_policy: AckPolicy.Explicit, max_ack_pending: 1 });
    const children = c.workers.map((parts) =>
      fork(join(HERE, "intake-worker.ts"), [url, parts.join(","), String(iters), c.yieldFirst ? "1" : "0"], { execArgv: ["--import", "tsx"], stdio: "ignore" }),
    );
    await Promise.all(children.map((ch) => new Promise((r) => ch.once("message", r))));
    const t = performance.now();
    await Promise.all(Array.from({ length: events }, (_, i) => js.publish(`model.in.${i % partitions}`, new Uint8Array(64))));
    await until("model replies", async () => ((await jsm.streams.info("MODEL_OUT")).state.messages >= events ? true : undefined), 120_000, 20);
    out.push({ case: c.name, msgsPerSec: (events / (performance.now() - t)) * 1000 });
    for (const ch of children) ch.kill("SIGTERM");
    await Promise.all(children.map((ch) => new Promise((r) => (ch.exitCode !== null || ch.signalCode !== null ? r(null) : ch.once("exit", r)))));
  }
  await nc.close();
  return out;
}
