/** The per-worker concurrency limit and the task lease, against a real nats-server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { INBOUND_STREAM, partitionOf, pluginHostConsumer } from "@session-bot/protocol";
import { acquireLease, releaseLease } from "../src/tasks/scheduler.js";
import { BOT, message, peer, publishEvent, sends, startBus, startWorker, waitFor, type Bus, type Worker } from "./helpers.js";

const PARTITIONS = 8;
let bus: Bus;
let worker: Worker;

beforeAll(async () => {
  bus = await startBus();
  worker = await startWorker(bus, "limited", { PLUGIN_HOST_CONCURRENCY: "2", PLUGIN_HOST_PLUGINS: "" });
});

afterAll(async () => {
  await worker?.stop();
  await bus?.close();
});

describe("limits", () => {
  it("one worker handles at most PLUGIN_HOST_CONCURRENCY events at once, and does use them", async () => {
    // One conversation per partition, so only the worker's own limit holds them back.
    const convs: string[] = [];
    for (let n = 1; convs.length < PARTITIONS; n++) {
      const c = peer(n);
      if (!convs.some((x) => partitionOf(x, PARTITIONS) === partitionOf(c, PARTITIONS))) convs.push(c);
    }
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, worker.app.stats().inFlight)), 5);
    await Promise.all(convs.map((c, i) => publishEvent(bus, message(c, `/slow 300 c${i}`), PARTITIONS)));
    await waitFor(async () => (await sends(bus)).length >= PARTITIONS, 20_000, "all replies");
    clearInterval(poll);
    expect(peak).toBe(2);
  });

  it("a task lease has one holder; it is renewed by its holder, taken over after expiry, released on demand", async () => {
    const kv = await new Kvm(bus.nc).create("sb_state_leasetest");
    const t0 = 1_000_000;
    const [a, b] = await Promise.all([acquireLease(kv, "_lease.t", "A", 1_000, t0), acquireLease(kv, "_lease.t", "B", 1_000, t0)]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const holder = a ? "A" : "B";
    const other = a ? "B" : "A";
    expect(await acquireLease(kv, "_lease.t", other, 1_000, t0 + 500)).toBe(false);
    expect(await acquireLease(kv, "_lease.t", holder, 1_000, t0 + 500)).toBe(true); // renewed until t0 + 1500
    expect(await acquireLease(kv, "_lease.t", other, 1_000, t0 + 1_200)).toBe(false);
    expect(await acquireLease(kv, "_lease.t", other, 1_000, t0 + 1_600)).toBe(true); // expired: taken over
    await releaseLease(kv, "_lease.t", holder); // not the holder any more: no effect
    expect(await acquireLease(kv, "_lease.t", holder, 1_000, t0 + 1_700)).toBe(false);
    await releaseLease(kv, "_lease.t", other);
    expect(await acquireLease(kv, "_lease.t", holder, 1_000, t0 + 1_700)).toBe(true);
  });

  it("recreates a partition consumer that was deleted, and goes on consuming", async () => {
    const conv = peer(1);
    const durable = pluginHostConsumer(BOT, partitionOf(conv, PARTITIONS));
    await bus.jsm.consumers.delete(INBOUND_STREAM, durable);
    await waitFor(() => bus.jsm.consumers.info(INBOUND_STREAM, durable).then(() => true, () => false), 20_000, "consumer recreated");
    await publishEvent(bus, message(conv, "/seq 42"), PARTITIONS);
    await waitFor(async () => (await sends(bus)).some((s) => s.conversation === conv && s.text === "seq 42"), 30_000, "reply after recreation");
    // The replayed earlier event of that partition did not produce a second reply.
    expect((await sends(bus)).filter((s) => s.conversation === conv && s.text.startsWith("done"))).toHaveLength(1);
  });
});
