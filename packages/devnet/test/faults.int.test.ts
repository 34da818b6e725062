/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- RPC answers are untyped JSON, checked field by field */
// Fault injection over real HTTP: API and the loopback admin endpoint.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../src/index.js";
import { post, randomIdentity, rpc, signedRetrieve, storeParams, type Identity } from "./helpers.js";

let net: Devnet;
let me: Identity;
let adminUrl: string;

beforeAll(async () => {
  net = await startDevnet({ http: true, snodeCount: 6, swarmCount: 2 });
  me = await randomIdentity();
  adminUrl = net.seedUrls[0]!.replace(/\/json_rpc$/, "/_devnet/faults");
});
afterAll(() => net.stop());

describe("faults", () => {
  it("421-once: one 421 naming the swarm without the moved snode, then normal answers", async () => {
    const sw = net.swarmFor(me.sessionId);
    const sn = sw.snodes[0]!;
    net.faults.inject(sn.pubkeyEd25519, { kind: "421-once" });
    const r = await rpc(sn.url, "store", storeParams(me.sessionId, "x"));
    expect(r.status).toBe(421);
    expect(r.json.swarm).toBe(BigInt(sw.swarmId).toString(16));
    const listed = r.json.snodes.map((s: any) => s.pubkey_ed25519);
    expect(listed).not.toContain(sn.pubkeyEd25519);
    expect(listed).toEqual(sw.snodes.slice(1).map((s) => s.pubkeyEd25519));
    expect((await rpc(sn.url, "store", storeParams(me.sessionId, "x"))).status).toBe(200);
  });

  it("421-once inside a batch marks every pubkey subrequest", async () => {
    const sn = net.swarmFor(me.sessionId).snodes[1]!;
    net.faults.inject(sn.index, { kind: "421-once" });
    const r = await rpc(sn.url, "batch", {
      requests: [
        { method: "retrieve", params: signedRetrieve(me, 0, Date.now()) },
        { method: "info", params: {} },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.json.results.map((x: any) => x.code)).toEqual([421, 200]);
  });

  it("500 and 429 for `count` requests as text", async () => {
    const sn = net.snodes[0]!;
    net.faults.inject(0, { kind: "500", count: 2 });
    const a = await rpc(sn.url, "info", {});
    const b = await rpc(sn.url, "info", {});
    const c = await rpc(sn.url, "info", {});
    expect([a.status, b.status, c.status]).toEqual([500, 500, 200]);
    expect(a.contentType).toMatch(/^text\/plain/);
    net.faults.inject(0, { kind: "429" });
    expect((await rpc(sn.url, "info", {})).status).toBe(429);
    expect((await rpc(sn.url, "info", {})).status).toBe(429);
    net.faults.clear();
    expect((await rpc(sn.url, "info", {})).status).toBe(200);
  });

  it("latency delays the answer", async () => {
    const sn = net.snodes[1]!;
    net.faults.inject(1, { kind: "latency", ms: 300, count: 1 });
    const t0 = performance.now();
    expect((await rpc(sn.url, "info", {})).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it("drop closes the connection without an answer", async () => {
    const sn = net.snodes[2]!;
    net.faults.inject(2, { kind: "drop", count: 1 });
    await expect(rpc(sn.url, "info", {})).rejects.toThrow();
    expect((await rpc(sn.url, "info", {})).status).toBe(200);
  });

  it("clock-offset shifts t and the clock checks", async () => {
    const sw = net.swarmFor(me.sessionId);
    const sn = sw.snodes[0]!;
    net.faults.inject(sn.index, { kind: "clock-offset", ms: -3_600_000 });
    try {
      const info = await rpc(sn.url, "info", {});
      expect(Date.now() - info.json.t).toBeGreaterThan(3_590_000);
      // The client's clock is now an hour ahead of the snode's: its store is "in the future".
      expect((await rpc(sn.url, "store", storeParams(me.sessionId, "late"))).status).toBe(406);
      expect((await rpc(sn.url, "retrieve", signedRetrieve(me, 0, Date.now()))).status).toBe(406);
      // Using the snode's t as network time works.
      expect((await rpc(sn.url, "retrieve", signedRetrieve(me, 0, info.json.t))).status).toBe(200);
    } finally {
      net.faults.clear(sn.index);
    }
  });

  it("faults on the seed and the file server", async () => {
    net.faults.inject("seed", { kind: "500", count: 1 });
    const body = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "get_n_service_nodes", params: {} });
    expect((await post(net.seedUrls[0]!, body)).status).toBe(500);
    expect((await post(net.seedUrls[0]!, body)).status).toBe(200);
    net.faults.inject("file-server", { kind: "429", count: 1 });
    expect((await fetch(`${net.fileServerUrl}/file/1`)).status).toBe(429);
    expect((await fetch(`${net.fileServerUrl}/file/1`)).status).toBe(404);
  });
});

describe("admin endpoint /_devnet/faults", () => {
  it("injects, lists and clears over HTTP", async () => {
    const add = await post(adminUrl, JSON.stringify({ target: 3, kind: "500", count: 1 }));
    expect(add.status).toBe(200);
    const add2 = await post(adminUrl, JSON.stringify({ target: net.snodes[4]!.pubkeyEd25519, fault: { kind: "latency", ms: 5 } }));
    expect(add2.status).toBe(200);
    const list = (await (await fetch(adminUrl)).json()) as { faults: unknown[] };
    expect(list.faults).toEqual([
      { target: net.snodes[3]!.pubkeyEd25519, kind: "500", remaining: 1 },
      { target: net.snodes[4]!.pubkeyEd25519, kind: "latency", ms: 5 },
    ]);
    expect((await rpc(net.snodes[3]!.url, "info", {})).status).toBe(500);
    const del = await fetch(adminUrl, { method: "DELETE" });
    expect(del.status).toBe(200);
    expect(net.faults.list()).toEqual([]);
  });

  it("answers 400 with the reason for bad faults and unknown targets", async () => {
    const bad = await post(adminUrl, JSON.stringify({ target: 0, kind: "explode" }));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/fault kind must be one of/);
    const unknown = await post(adminUrl, JSON.stringify({ target: 99, kind: "500" }));
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatch(/unknown fault target/);
    const info = (await (await fetch(adminUrl.replace("faults", "info"))).json()) as { snodes: unknown[] };
    expect(info.snodes).toHaveLength(6);
  });
});

describe("421-once and requests without a pubkey", () => {
  it("is not used up by info or get_swarm", async () => {
    const sn = net.swarmFor(me.sessionId).snodes[0]!;
    net.faults.inject(sn.index, { kind: "421-once" });
    expect((await rpc(sn.url, "info", {})).status).toBe(200);
    expect((await rpc(sn.url, "get_swarm", { pubkey: me.sessionId })).status).toBe(200);
    expect((await rpc(sn.url, "retrieve", signedRetrieve(me, 0, Date.now()))).status).toBe(421);
    expect((await rpc(sn.url, "retrieve", signedRetrieve(me, 0, Date.now()))).status).toBe(200);
  });
});

describe("rate limit (option)", () => {
  it("answers 429 past the burst when rateLimit is on, and not at all when off", async () => {
    const limited = await startDevnet({ http: true, snodeCount: 1, swarmCount: 1, rateLimit: { burst: 20, perSecond: 1 } });
    try {
      const url = limited.snodes[0]!.url;
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await rpc(url, "info", {})).status);
      expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
      const rejected = statuses.filter((s) => s === 429);
      expect(rejected.length).toBeGreaterThanOrEqual(5);
      const r = await rpc(url, "info", {});
      if (r.status === 429) expect(r.text).toBe("Too many requests, try again later");
    } finally {
      await limited.stop();
    }
    const statuses = await Promise.all(Array.from({ length: 50 }, () => rpc(net.snodes[5]!.url, "info", {})));
    expect(statuses.every((r) => r.status === 200)).toBe(true);
  });
});
