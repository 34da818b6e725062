/**
 * Partition ownership against a real nats-server: the presence heartbeats, the split, leaving and
 * expiry (PartitionOwnership on its own), then whole workers joining and leaving while events
 * flow: every event answered exactly once, each conversation in order.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { workerPresenceSubject } from "@session-bot/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartitionOwnership } from "../src/consuming/ownership.js";
import { BOT, message, peer, publishEvent, sends, startBus, startWorker, waitFor, type Bus, type Worker } from "./helpers.js";

let bus: Bus;
const conns: NatsConnection[] = [];
const log = pino({ level: process.env.SB_TEST_LOG ?? "silent" });

beforeAll(async () => {
  bus = await startBus();
});
afterAll(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  await bus?.close();
});

interface Member {
  readonly o: PartitionOwnership;
  readonly nc: NatsConnection;
  readonly changes: (readonly number[])[];
}
async function member(instance: string, intervalMs: number, set = "host", partitions = 16): Promise<Member> {
  const nc = await connect({ servers: bus.nats.url });
  conns.push(nc);
  const changes: (readonly number[])[] = [];
  const o = new PartitionOwnership(nc, { bot: BOT, set, instance, partitions, intervalMs }, (owned) => changes.push(owned), log);
  o.start();
  return { o, nc, changes };
}

/** True when the members' partitions are disjoint and cover 0..partitions-1. */
function splitExactly(ms: readonly Member[], partitions = 16): boolean {
  const all = ms.flatMap((m) => m.o.owned);
  return all.length === partitions && new Set(all).size === partitions;
}

describe("PartitionOwnership", () => {
  it("a lone worker owns every partition", async () => {
    const a = await member("solo-a", 100, "solo");
    expect(a.o.owned).toEqual(Array.from({ length: 16 }, (_, i) => i));
    await a.o.stop();
  });

  it("splits the partitions evenly among the members it hears, and a newcomer learns the fleet within a round trip", async () => {
    // A 60 s interval: only the immediate answer to a newcomer can make them meet within the wait.
    const ms = [await member("split-a", 60_000, "split"), await member("split-b", 60_000, "split")];
    await waitFor(() => ms.every((m) => m.o.members.length === 2) && splitExactly(ms), 5_000, "two members");
    ms.push(await member("split-c", 60_000, "split"));
    await waitFor(() => ms.every((m) => m.o.members.length === 3) && splitExactly(ms), 5_000, "three members");
    expect(ms.map((m) => m.o.owned.length).sort()).toEqual([5, 5, 6]);
    expect(ms[0]!.o.owned).toEqual([0, 3, 6, 9, 12, 15]);
    expect(ms[0]!.changes.at(-1)).toEqual([0, 3, 6, 9, 12, 15]);

    // Leaving: the others take its partitions at once (far sooner than 3 × 60 s).
    await ms[1]!.o.stop();
    const rest = [ms[0]!, ms[2]!];
    await waitFor(() => rest.every((m) => m.o.members.length === 2) && splitExactly(rest), 5_000, "after leaving");
    for (const m of rest) await m.o.stop();
  });

  it("drops a member that stops announcing itself (killed) after three of its intervals", async () => {
    const a = await member("exp-a", 100, "expiry");
    const b = await member("exp-b", 100, "expiry");
    await waitFor(() => a.o.members.length === 2 && b.o.members.length === 2, 5_000, "two members");
    // No `leaving`: its connection just goes away.
    await b.nc.close();
    await waitFor(() => a.o.members.length === 1 && a.o.owned.length === 16, 5_000, "expiry");
    await a.o.stop();
  });

  it("ignores invalid presence messages and members of other sets", async () => {
    const a = await member("inv-a", 100, "inv");
    bus.nc.publish(workerPresenceSubject(BOT, "inv"), new TextEncoder().encode("{not json"));
    bus.nc.publish(workerPresenceSubject(BOT, "inv"), new TextEncoder().encode(JSON.stringify({ v: 1, instance: "bad name!", set: "inv", state: "up", intervalMs: 100, startedAt: 0 })));
    bus.nc.publish(workerPresenceSubject(BOT, "inv"), new TextEncoder().encode(JSON.stringify({ v: 1, instance: "other", set: "elsewhere", state: "up", intervalMs: 100, startedAt: 0 })));
    const b = await member("inv-b", 100, "inv");
    await waitFor(() => a.o.members.length === 2, 5_000, "the valid member");
    await bus.nc.flush();
    expect(a.o.members).toEqual(["inv-a", "inv-b"]);
    await a.o.stop();
    await b.o.stop();
  });
});

describe("workers joining and leaving while events flow", () => {
  const workers: Worker[] = [];
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });

  it("answers every event exactly once and keeps each conversation in order", async () => {
    const extra = { PLUGIN_HOST_PRESENCE_INTERVAL_MS: "200" };
    workers.push(await startWorker(bus, "flow-1", extra));
    const convs = Array.from({ length: 8 }, (_, i) => peer(5_000 + i));
    const N = 15;
    const publishing = (async () => {
      for (let n = 0; n < N; n++) {
        for (const c of convs) await publishEvent(bus, message(c, `/seq ${n}`), 8);
        if (n === 3) workers.push(await startWorker(bus, "flow-2", extra));
        if (n === 6) workers.push(await startWorker(bus, "flow-3", extra));
        if (n === 9) await workers[0]!.stop(); // leaves with events in hand
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await publishing;
    await waitFor(async () => (await sends(bus)).filter((s) => convs.includes(s.conversation)).length >= N * convs.length, 60_000, "every reply");
    // Late duplicates would show up here.
    await new Promise((r) => setTimeout(r, 300));
    const all = (await sends(bus)).filter((s) => convs.includes(s.conversation));
    for (const c of convs) {
      expect(all.filter((s) => s.conversation === c).map((s) => s.text)).toEqual(Array.from({ length: N }, (_, n) => `seq ${n}`));
    }
    // The two remaining workers split the 8 partitions between them and both worked.
    const live = workers.slice(1);
    await waitFor(() => live.every((w) => w.app.partitions().length === 4), 5_000, "4 partitions each");
    expect(new Set(live.flatMap((w) => w.app.partitions())).size).toBe(8);
    expect(live.every((w) => w.app.stats().handled > 0)).toBe(true);
    // /metrics says which worker has which partition.
    for (const w of live) {
      const text = (await w.app.http.inject({ url: "/metrics" })).body;
      const listed = [...text.matchAll(/^sb_plugin_host_partition_owned\{partition="(\d+)"\} 1$/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
      expect(listed).toEqual(w.app.partitions());
      expect(text).toMatch(/^sb_plugin_host_owned_partitions 4$/m);
    }
  });
});
