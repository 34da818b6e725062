/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return -- RPC answers are untyped JSON, checked field by field */
// The storage RPC over real HTTP against a started devnet (plain HTTP mode).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet, type DevnetSnode } from "../src/index.js";
import { VEC, randomIdentity, rpc, post, signedRetrieve, storeParams, testIdentity, verify, type Identity } from "./helpers.js";

let net: Devnet;
let me: Identity;
let member: DevnetSnode;
let member2: DevnetSnode;
let outsider: DevnetSnode;

beforeAll(async () => {
  net = await startDevnet({ http: true, seed: "storage-rpc-test" });
  me = await testIdentity();
  const swarm = net.swarmFor(me.sessionId);
  member = swarm.snodes[0]!;
  member2 = swarm.snodes[1]!;
  outsider = net.snodes.find((s) => s.swarmId !== swarm.swarmId)!;
});
afterAll(() => net.stop());

const hello = Buffer.from("hello devnet");

describe("request envelope", () => {
  it("answers 400 text for bad JSON, missing method/params and unknown methods", async () => {
    const url = `${member.url}/storage_rpc/v1`;
    expect(await post(url, "{nope")).toMatchObject({ status: 400, text: "invalid json" });
    expect(await post(url, JSON.stringify({ params: {} }))).toMatchObject({ status: 400, text: "invalid json: no `method` field" });
    expect(await post(url, JSON.stringify({ method: "info" }))).toMatchObject({ status: 400, text: "invalid json: no `params` field" });
    const r = await rpc(member.url, "frobnicate", {});
    expect(r).toMatchObject({ status: 400, text: "no method frobnicate" });
    expect(r.contentType).toMatch(/^text\/plain/);
  });

  it("info carries version, timestamp, t and hf", async () => {
    const before = Date.now();
    const r = await rpc(member.url, "info", {});
    expect(r.status).toBe(200);
    expect(r.json.version).toEqual([2, 10, 0]);
    expect(r.json.hf).toEqual([19, 3]);
    expect(r.json.t).toBeGreaterThanOrEqual(before);
    expect(r.json.timestamp).toBe(r.json.t);
  });

  it("410 for the obsolete long-poll header and 404 elsewhere", async () => {
    const r = await rpc(member.url, "info", {}, { headers: { "X-Loki-Long-Poll": "true" } });
    expect(r.status).toBe(410);
    const res = await fetch(`${member.url}/nope`);
    expect(res.status).toBe(404);
  });
});

describe("get_swarm", () => {
  it("answers the pubkey's swarm from any snode, with both method names and the pubKey alias", async () => {
    const expected = net.swarmFor(me.sessionId);
    for (const [method, params] of [
      ["get_swarm", { pubkey: me.sessionId }],
      ["get_snodes_for_pubkey", { pubKey: me.sessionId }],
    ] as const) {
      const r = await rpc(outsider.url, method, params);
      expect(r.status).toBe(200);
      expect(r.json.swarm).toBe(BigInt(expected.swarmId).toString(16));
      expect(r.json.snodes.map((s: any) => s.pubkey_ed25519)).toEqual(expected.snodes.map((s) => s.pubkeyEd25519));
      const s0 = r.json.snodes[0];
      expect(s0).toMatchObject({ ip: "127.0.0.1", port_https: expected.snodes[0]!.port, port: String(expected.snodes[0]!.port) });
      expect(s0.pubkey_x25519).toBe(expected.snodes[0]!.pubkeyX25519);
      expect(s0.address).toMatch(/^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}\.snode$/);
      expect(typeof r.json.t).toBe("number");
      expect(r.json.hf).toEqual([19, 3]);
    }
  });

  it("maps pubkeys to swarms by the nearest swarm id to the swarm-space value", async () => {
    for (let i = 0; i < 12; i++) {
      const id = await randomIdentity();
      const v = BigInt(`0x${id.sessionId.slice(2, 18)}`) ^ BigInt(`0x${id.sessionId.slice(18, 34)}`) ^ BigInt(`0x${id.sessionId.slice(34, 50)}`) ^ BigInt(`0x${id.sessionId.slice(50, 66)}`);
      const ids = net.swarms.map((s) => BigInt(s.swarmId));
      const dist = (a: bigint): bigint => {
        const d = (a - v) & ((1n << 64n) - 1n);
        const e = (v - a) & ((1n << 64n) - 1n);
        return d < e ? d : e;
      };
      const best = ids.reduce((a, b) => (dist(b) < dist(a) ? b : a));
      expect(net.swarmFor(id.sessionId).swarmId).toBe(best.toString());
    }
  });

  it("rejects malformed pubkeys", async () => {
    const r = await rpc(member.url, "get_swarm", { pubkey: "05abc" });
    expect(r).toMatchObject({ status: 400, text: "invalid request: Pubkey must be 66 hex digits/33 bytes long" });
    const r2 = await rpc(member.url, "get_swarm", {});
    expect(r2).toMatchObject({ status: 400, text: "invalid request: Required field 'pubkey' missing" });
  });
});

describe("store", () => {
  it("computes the reference hash, answers for every swarm member with their signatures", async () => {
    const before = Date.now();
    const r = await rpc(member.url, "store", storeParams(me.sessionId, hello));
    expect(r.status).toBe(200);
    expect(r.json.hash).toBe(VEC.hashHelloNs0);
    expect(r.json.hf).toEqual([19, 3]);
    expect(r.json.t).toBeGreaterThanOrEqual(before);
    const swarm = net.swarmFor(me.sessionId);
    expect(Object.keys(r.json.swarm).sort()).toEqual(swarm.snodes.map((s) => s.pubkeyEd25519).sort());
    for (const [ed, entry] of Object.entries<any>(r.json.swarm)) {
      expect(entry.hash).toBe(VEC.hashHelloNs0);
      expect(await verify(entry.signature, VEC.hashHelloNs0, ed)).toBe(true);
      expect(entry.expiry).toBeGreaterThan(before);
    }
    expect(r.json.swarm[member.pubkeyEd25519].t).toBe(r.json.t);
  });

  it("is idempotent: same hash, already:true, the later expiry kept", async () => {
    const data = Buffer.from(`dup ${Math.random()}`);
    const first = await rpc(member.url, "store", storeParams(me.sessionId, data, { ttl: 20_000 }));
    const again = await rpc(member2.url, "store", storeParams(me.sessionId, data, { ttl: 50_000 }));
    expect(again.json.hash).toBe(first.json.hash);
    const e1 = first.json.swarm[member.pubkeyEd25519];
    const e2 = again.json.swarm[member.pubkeyEd25519];
    expect(e1.already).toBeUndefined();
    expect(e2.already).toBe(true);
    expect(e2.expiry).toBeGreaterThan(e1.expiry);
    const lower = await rpc(member.url, "store", storeParams(me.sessionId, data, { ttl: 15_000 }));
    expect(lower.json.swarm[member.pubkeyEd25519].expiry).toBe(e2.expiry);
  });

  it("server hash for namespaces 2 and -10 matches the vectors", async () => {
    const ts = Date.now();
    const r2 = await rpc(member.url, "store", {
      ...storeParams(me.sessionId, hello, { timestamp: ts }),
      namespace: 2,
      pubkey_ed25519: me.edPkHex,
      signature: me.sign(`store2${ts}`),
    });
    expect(r2.status).toBe(200);
    expect(r2.json.hash).toBe(VEC.hashHelloNs2);
    const r10 = await rpc(member.url, "store", storeParams(me.sessionId, hello, { namespace: -10 }));
    expect(r10.json.hash).toBe(VEC.hashHelloNsMinus10);
  });

  it("accepts stringified timestamp/ttl and an absolute expiry", async () => {
    const now = Date.now();
    const a = await rpc(member.url, "store", storeParams(me.sessionId, "str", { timestamp: String(now), ttl: "30000" }));
    expect(a.status).toBe(200);
    expect(a.json.swarm[member.pubkeyEd25519].expiry).toBe(now + 30_000);
    const b = await rpc(member.url, "store", { pubkey: me.sessionId, data: Buffer.from("abs").toString("base64"), timestamp: now, expiry: now + 40_000 });
    expect(b.json.swarm[member.pubkeyEd25519].expiry).toBe(now + 40_000);
  });

  it("421 with the right swarm on a snode outside the pubkey's swarm", async () => {
    const r = await rpc(outsider.url, "store", storeParams(me.sessionId, "wrong swarm"));
    expect(r.status).toBe(421);
    expect(r.contentType).toBe("application/json");
    const swarm = net.swarmFor(me.sessionId);
    expect(r.json.swarm).toBe(BigInt(swarm.swarmId).toString(16));
    expect(r.json.snodes.map((s: any) => s.pubkey_ed25519)).toEqual(swarm.snodes.map((s) => s.pubkeyEd25519));
    expect(typeof r.json.t).toBe("number");
    expect(r.json.hf).toEqual([19, 3]);
    expect(net.messages(me.sessionId).some((m) => Buffer.from(m.data, "base64").toString() === "wrong swarm")).toBe(false);
  });

  it("rejects TTLs out of range with 403", async () => {
    const bad = [9_999, 14 * 24 * 3600_000 + 1];
    for (const ttl of bad) {
      const r = await rpc(member.url, "store", storeParams(me.sessionId, "ttl", { ttl }));
      expect(r).toMatchObject({ status: 403, text: "Provided expiry/TTL is not valid." });
    }
    // A private namespace allows up to 30 days.
    const ts = Date.now();
    const priv = await rpc(member.url, "store", {
      ...storeParams(me.sessionId, "priv", { timestamp: ts, ttl: 20 * 24 * 3600_000 }),
      namespace: 3,
      pubkey_ed25519: me.edPkHex,
      signature: me.sign(`store3${ts}`),
    });
    expect(priv.status).toBe(200);
  });

  it("rejects clocks out of tolerance with 406", async () => {
    const future = await rpc(member.url, "store", storeParams(me.sessionId, "f", { timestamp: Date.now() + 15_000 }));
    expect(future).toMatchObject({ status: 406, text: "Timestamp error: check your clock" });
    const old = Date.now() - 120_000;
    const expired = await rpc(member.url, "store", storeParams(me.sessionId, "e", { timestamp: old, ttl: 60_000 }));
    expect(expired.status).toBe(406);
  });

  it("enforces the 76,800-byte limit and base64", async () => {
    const ok = await rpc(member.url, "store", storeParams(me.sessionId, Buffer.alloc(76_800, 7)));
    expect(ok.status).toBe(200);
    const big = await rpc(member.url, "store", storeParams(me.sessionId, Buffer.alloc(76_801, 7)));
    expect(big).toMatchObject({ status: 400, text: "invalid request: Message body exceeds maximum allowed length of 76800 bytes" });
    const notB64 = await rpc(member.url, "store", { ...storeParams(me.sessionId, "x"), data: "not base64!" });
    expect(notB64).toMatchObject({ status: 400, text: "invalid request: Invalid 'data' value: not base64 encoded" });
  });

  it("parse errors: both ttl and expiry, neither, missing timestamp, wrong types", async () => {
    const base = storeParams(me.sessionId, "p");
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, expiry: Date.now() + 20_000 }, "Cannot specify both 'expiry' and 'ttl'"],
      [{ ...base, ttl: undefined }, "Required field 'expiry' or 'ttl' missing"],
      [{ ...base, timestamp: undefined }, "Required field 'timestamp' missing"],
      [{ ...base, namespace: 40_000 }, "Invalid value given for 'namespace': value out of range"],
      [{ ...base, ttl: "soon" }, `Invalid value given for 'ttl': "soon"`],
      [{ ...base, pubkey: "06".padEnd(66, "0") }, "Pubkey must be 66 hex digits (33 bytes) long"],
    ];
    for (const [params, msg] of cases) {
      const r = await rpc(member.url, "store", params);
      expect(r).toMatchObject({ status: 400, text: `invalid request: ${msg}` });
    }
  });

  it("private namespaces need a valid, fresh signature", async () => {
    const ts = Date.now();
    const unsigned = await rpc(member.url, "store", { ...storeParams(me.sessionId, "p5", { timestamp: ts }), namespace: 5 });
    expect(unsigned).toMatchObject({ status: 401, text: "store: signature required to store to namespace 5" });
    const wrongMsg = await rpc(member.url, "store", {
      ...storeParams(me.sessionId, "p5", { timestamp: ts }),
      namespace: 5,
      pubkey_ed25519: me.edPkHex,
      signature: me.sign(`store4${ts}`),
    });
    expect(wrongMsg).toMatchObject({ status: 401, text: "store signature verification failed" });
    const staleTs = ts - 70_000;
    const stale = await rpc(member.url, "store", {
      ...storeParams(me.sessionId, "p5", { timestamp: ts }),
      namespace: 5,
      sig_timestamp: staleTs,
      pubkey_ed25519: me.edPkHex,
      signature: me.sign(`store5${staleTs}`),
    });
    expect(stale).toMatchObject({ status: 406, text: "store signature timestamp too far from current time" });
    const good = await rpc(member.url, "store", {
      ...storeParams(me.sessionId, "p5", { timestamp: ts }),
      namespace: 5,
      pubkey_ed25519: me.edPkHex,
      signature: me.sign(`store5${ts}`),
    });
    expect(good.status).toBe(200);
  });
});

describe("retrieve", () => {
  let alice: Identity;
  let aliceMember: DevnetSnode;
  let aliceMember2: DevnetSnode;
  const hashes: string[] = [];

  beforeAll(async () => {
    alice = await randomIdentity();
    const sw = net.swarmFor(alice.sessionId);
    aliceMember = sw.snodes[0]!;
    aliceMember2 = sw.snodes[sw.snodes.length - 1]!;
    for (let i = 0; i < 5; i++) {
      const r = await rpc(aliceMember.url, "store", storeParams(alice.sessionId, `m${i}`));
      hashes.push(r.json.hash);
    }
  });

  it("returns messages stored on another member, in insertion order, with t/hf", async () => {
    const r = await rpc(aliceMember2.url, "retrieve", signedRetrieve(alice, 0, Date.now()));
    expect(r.status).toBe(200);
    expect(r.json.messages.map((m: any) => m.hash)).toEqual(hashes);
    const m0 = r.json.messages[0];
    expect(Buffer.from(m0.data, "base64").toString()).toBe("m0");
    expect(m0.expiration - m0.timestamp).toBe(60_000);
    expect(r.json.more).toBe(false);
    expect(r.json.hf).toEqual([19, 3]);
  });

  it("pages with last_hash and max_count, from the start for an unknown hash", async () => {
    const p1 = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { max_count: 2 }));
    expect(p1.json.messages.map((m: any) => m.hash)).toEqual(hashes.slice(0, 2));
    expect(p1.json.more).toBe(true);
    const p2 = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { last_hash: hashes[1] }));
    expect(p2.json.messages.map((m: any) => m.hash)).toEqual(hashes.slice(2));
    const unknown = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { lastHash: "A".repeat(43) }));
    expect(unknown.json.messages).toHaveLength(5);
    const empty = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { last_hash: "" }));
    expect(empty.json.messages).toHaveLength(5);
    const bad = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { last_hash: "short" }));
    expect(bad).toMatchObject({ status: 400, text: "invalid request: Invalid last_hash: expected base64 (43 chars)" });
  });

  it("max_size limits bytes but always returns one message", async () => {
    const r = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { max_size: 1 }));
    expect(r.json.messages).toHaveLength(1);
    expect(r.json.more).toBe(true);
    // Each tiny message costs 70 (overhead) + 43 (hash) + 4 (base64 of 2 bytes) = 117 bytes.
    const two = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { max_size: 2 * 117 }));
    expect(two.json.messages).toHaveLength(2);
    const all = await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, Date.now(), { max_size: -1 }));
    expect(all.json.messages).toHaveLength(5);
    expect(all.json.more).toBe(false);
  });

  it("needs a signature for namespace 0 (401, or 400 when the namespace is given)", async () => {
    const r = await rpc(aliceMember.url, "retrieve", { pubkey: alice.sessionId });
    expect(r).toMatchObject({ status: 401, text: "retrieve: request signature required" });
    const r2 = await rpc(aliceMember.url, "retrieve", { pubkey: alice.sessionId, namespace: 0 });
    expect(r2).toMatchObject({ status: 400, text: "invalid request: Required field 'signature' missing" });
  });

  it("rejects a bad signature, a wrong key and a stale timestamp", async () => {
    const ts = Date.now();
    const tampered = signedRetrieve(alice, 0, ts);
    tampered.signature = alice.sign(`retrieve${ts + 1}`);
    expect(await rpc(aliceMember.url, "retrieve", tampered)).toMatchObject({ status: 401, text: "retrieve signature verification failed" });

    // Signed by someone else with their own ed key: the ed key does not convert to alice's id.
    const mallory = await randomIdentity();
    const wrongKey = { ...signedRetrieve(mallory, 0, ts), pubkey: alice.sessionId };
    expect(await rpc(aliceMember.url, "retrieve", wrongKey)).toMatchObject({ status: 401 });
    // Without pubkey_ed25519 a 05 id cannot be verified.
    const noEd = signedRetrieve(alice, 0, ts) as Record<string, unknown>;
    delete noEd.pubkey_ed25519;
    expect((await rpc(aliceMember.url, "retrieve", noEd)).status).toBe(401);

    const staleTs = Date.now() - 61_000;
    expect(await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, staleTs))).toMatchObject({
      status: 406,
      text: "retrieve timestamp too far from current time",
    });
    const futureTs = Date.now() + 61_000;
    expect((await rpc(aliceMember.url, "retrieve", signedRetrieve(alice, 0, futureTs))).status).toBe(406);

    const badSig = { ...signedRetrieve(alice, 0, ts), signature: "abc" };
    expect(await rpc(aliceMember.url, "retrieve", badSig)).toMatchObject({
      status: 400,
      text: "invalid request: invalid signature: expected base64 encoded Ed25519 signature",
    });
  });

  it("accepts the reference 1.4 retrieve signatures when the snode's clock reads their timestamp", async () => {
    const sw = net.swarmFor(VEC.sessionId);
    const target = sw.snodes[2]!;
    net.faults.inject(target.index, { kind: "clock-offset", ms: 1_700_000_000_000 - Date.now() });
    try {
      for (const [ns, sig] of [
        [0, VEC.retrieveSigNs0],
        [2, VEC.retrieveSigNs2],
      ] as const) {
        const r = await rpc(target.url, "retrieve", {
          pubkey: VEC.sessionId,
          pubkey_ed25519: VEC.edPk,
          namespace: ns,
          timestamp: 1_700_000_000_000,
          signature: sig,
        });
        expect(r.status).toBe(200);
        expect(Math.abs(r.json.t - 1_700_000_000_000)).toBeLessThan(30_000);
      }
    } finally {
      net.faults.clear(target.index);
    }
  });

  it("reads namespace -10 without a signature; 421 off-swarm", async () => {
    await rpc(aliceMember.url, "store", storeParams(alice.sessionId, "legacy", { namespace: -10 }));
    const r = await rpc(aliceMember.url, "retrieve", { pubkey: alice.sessionId, namespace: -10 });
    expect(r.status).toBe(200);
    expect(r.json.messages).toHaveLength(1);
    const off = net.snodes.find((s) => s.swarmId !== net.swarmFor(alice.sessionId).swarmId)!;
    expect((await rpc(off.url, "retrieve", signedRetrieve(alice, 0, Date.now()))).status).toBe(421);
  });

  it("never returns expired messages, and purges them", async () => {
    const bob = await randomIdentity();
    const sn = net.swarmFor(bob.sessionId).snodes[0]!;
    // TTL 10 s measured from a timestamp 9.7 s ago: expires 300 ms from now.
    const r = await rpc(sn.url, "store", storeParams(bob.sessionId, "short-lived", { timestamp: Date.now() - 9_700, ttl: 10_000 }));
    expect(r.status).toBe(200);
    expect((await rpc(sn.url, "retrieve", signedRetrieve(bob, 0, Date.now()))).json.messages).toHaveLength(1);
    await new Promise((res) => setTimeout(res, 450));
    expect((await rpc(sn.url, "retrieve", signedRetrieve(bob, 0, Date.now()))).json.messages).toHaveLength(0);
    expect(net.purgeExpired().messages).toBeGreaterThanOrEqual(1);
  });
});

describe("batch and sequence", () => {
  it("runs subrequests in order and answers each with code and body", async () => {
    const ts = Date.now();
    const r = await rpc(member.url, "batch", {
      requests: [
        { method: "info", params: {} },
        { method: "store", params: storeParams(me.sessionId, "in batch") },
        { method: "retrieve", params: signedRetrieve(me, 0, ts) },
        { method: "retrieve", params: { pubkey: me.sessionId } },
      ],
    });
    expect(r.status).toBe(200);
    const codes = r.json.results.map((x: any) => x.code);
    expect(codes).toEqual([200, 200, 200, 401]);
    expect(r.json.results[3].body).toBe("retrieve: request signature required");
    expect(typeof r.json.results[2].body.t).toBe("number");
    expect(r.json.results[2].body.messages.some((m: any) => Buffer.from(m.data, "base64").toString() === "in batch")).toBe(true);
  });

  it("gives 421 per subrequest for pubkeys of other swarms", async () => {
    const other = await randomIdentity();
    let o = other;
    while (net.swarmFor(o.sessionId).swarmId === member.swarmId) o = await randomIdentity();
    const r = await rpc(member.url, "batch", {
      requests: [
        { method: "retrieve", params: signedRetrieve(o, 0, Date.now()) },
        { method: "retrieve", params: signedRetrieve(me, 0, Date.now()) },
      ],
    });
    expect(r.json.results[0].code).toBe(421);
    expect(r.json.results[0].body.swarm).toBe(BigInt(net.swarmFor(o.sessionId).swarmId).toString(16));
    expect(r.json.results[1].code).toBe(200);
  });

  it("sequence stops after the first failure", async () => {
    const r = await rpc(member.url, "sequence", {
      requests: [
        { method: "info", params: {} },
        { method: "retrieve", params: { pubkey: me.sessionId } },
        { method: "info", params: {} },
      ],
    });
    expect(r.json.results.map((x: any) => x.code)).toEqual([200, 401]);
  });

  it("400 for empty, oversized, nested or malformed batches", async () => {
    const info = { method: "info", params: {} };
    const cases: Array<[unknown, string]> = [
      [{ requests: [] }, 'Invalid batch request: no valid "requests" field'],
      [{ requests: Array(21).fill(info) }, "Invalid batch request: subrequest limit exceeded"],
      [{ requests: [{ method: "batch", params: { requests: [info] } }] }, "Invalid batch subrequest: subrequests may not contain meta-requests"],
      [{ requests: [{ method: "nope", params: {} }] }, 'Invalid batch subrequest: invalid method "nope"'],
      [{ requests: [{ method: "info" }] }, "Invalid batch request: subrequests must have method/params keys"],
      [{ requests: [info, { method: "store", params: { pubkey: me.sessionId } }] }, "Required field 'timestamp' missing"],
    ];
    for (const [params, msg] of cases) {
      const r = await rpc(member.url, "batch", params);
      expect(r).toMatchObject({ status: 400, text: `invalid request: ${msg}` });
    }
    const twenty = await rpc(member.url, "batch", { requests: Array(20).fill(info) });
    expect(twenty.status).toBe(200);
  });
});

describe("delete, delete_all, expire, get_expiries", () => {
  let carol: Identity;
  let sn: DevnetSnode;
  beforeAll(async () => {
    carol = await randomIdentity();
    sn = net.swarmFor(carol.sessionId).snodes[0]!;
  });
  const store = async (text: string, ns = 0): Promise<string> => {
    const ts = Date.now();
    const params: Record<string, unknown> = storeParams(carol.sessionId, text, { namespace: ns, timestamp: ts });
    if (ns % 10 !== 0) Object.assign(params, { pubkey_ed25519: carol.edPkHex, signature: carol.sign(`store${ns}${ts}`) });
    const r = await rpc(sn.url, "store", params);
    expect(r.status).toBe(200);
    return r.json.hash;
  };

  it("delete: verifies the signature, deletes, and every member signs the result", async () => {
    const h1 = await store("d1");
    const h2 = await store("d2");
    const unknown = "B".repeat(43);
    const messages = [h2, unknown, h1];
    const bad = await rpc(sn.url, "delete", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, messages, signature: carol.sign("delete") });
    expect(bad).toMatchObject({ status: 401, text: "delete_msgs signature verification failed" });
    const r = await rpc(sn.url, "delete", {
      pubkey: carol.sessionId,
      pubkey_ed25519: carol.edPkHex,
      messages,
      signature: carol.sign(`delete${messages.join("")}`),
    });
    expect(r.status).toBe(200);
    const sorted = [h1, h2].sort();
    for (const [ed, entry] of Object.entries<any>(r.json.swarm)) {
      expect(entry.deleted).toEqual(sorted);
      expect(await verify(entry.signature, carol.sessionId + messages.join("") + sorted.join(""), ed)).toBe(true);
    }
    expect(net.messages(carol.sessionId).map((m) => m.hash)).not.toContain(h1);
    const again = await rpc(sn.url, "delete", {
      pubkey: carol.sessionId,
      pubkey_ed25519: carol.edPkHex,
      messages: [h1],
      required: true,
      signature: carol.sign(`delete${h1}`),
    });
    expect(again.status).toBe(404);
  });

  it("delete_all: one namespace or all, signed with a fresh timestamp", async () => {
    const a = await store("a0");
    const b = await store("b3", 3);
    let ts = Date.now();
    const one = await rpc(sn.url, "delete_all", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, timestamp: ts, signature: carol.sign(`delete_all${ts}`) });
    expect(one.status).toBe(200);
    const entry = one.json.swarm[sn.pubkeyEd25519];
    expect(entry.deleted).toContain(a);
    expect(entry.deleted).not.toContain(b);
    expect(await verify(entry.signature, carol.sessionId + ts + entry.deleted.join(""), sn.pubkeyEd25519)).toBe(true);
    ts = Date.now();
    const all = await rpc(sn.url, "delete_all", {
      pubkey: carol.sessionId,
      pubkey_ed25519: carol.edPkHex,
      namespace: "all",
      timestamp: ts,
      signature: carol.sign(`delete_allall${ts}`),
    });
    expect(all.json.swarm[sn.pubkeyEd25519].deleted).toEqual({ "3": [b] });
    const stale = Date.now() - 120_000;
    const old = await rpc(sn.url, "delete_all", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, timestamp: stale, signature: carol.sign(`delete_all${stale}`) });
    expect(old).toMatchObject({ status: 406, text: "delete_all timestamp too far from current time" });
  });

  it("delete_before deletes by store timestamp; expire_all shortens expiries", async () => {
    const early = await store("early");
    await new Promise((r) => setTimeout(r, 20));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    const late = await store("late");
    const future = Date.now() + 120_000;
    const tooLate = await rpc(sn.url, "delete_before", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, before: future, signature: carol.sign(`delete_before${future}`) });
    expect(tooLate).toMatchObject({ status: 401, text: "delete_before timestamp too far in the future" });
    const r = await rpc(sn.url, "delete_before", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, before: cut, signature: carol.sign(`delete_before${cut}`) });
    expect(r.status).toBe(200);
    const entry = r.json.swarm[sn.pubkeyEd25519];
    expect(entry.deleted).toContain(early);
    expect(entry.deleted).not.toContain(late);
    expect(await verify(entry.signature, carol.sessionId + cut + entry.deleted.join(""), sn.pubkeyEd25519)).toBe(true);

    const newExpiry = Date.now() + 30_000;
    const bad = await rpc(sn.url, "expire_all", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, expiry: newExpiry, signature: carol.sign(`expire_all${newExpiry + 1}`) });
    expect(bad).toMatchObject({ status: 401, text: "expire_all signature verification failed" });
    const e = await rpc(sn.url, "expire_all", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, expiry: newExpiry, signature: carol.sign(`expire_all${newExpiry}`) });
    expect(e.status).toBe(200);
    expect(e.json.swarm[sn.pubkeyEd25519].updated).toContain(late);
    expect(net.messages(carol.sessionId, 0).find((m) => m.hash === late)?.expiry).toBe(newExpiry);
  });

  it("expire and get_expiries", async () => {
    const h = await store("exp");
    const newExpiry = Date.now() + 5 * 60_000;
    const r = await rpc(sn.url, "expire", {
      pubkey: carol.sessionId,
      pubkey_ed25519: carol.edPkHex,
      messages: [h],
      expiry: newExpiry,
      extend: true,
      signature: carol.sign(`expireextend${newExpiry}${h}`),
    });
    expect(r.status).toBe(200);
    const e = r.json.swarm[sn.pubkeyEd25519];
    expect(e.updated).toEqual([h]);
    expect(e.expiry).toBe(newExpiry);
    expect(await verify(e.signature, `${carol.sessionId}${newExpiry}${h}${h}`, sn.pubkeyEd25519)).toBe(true);
    const bad = await rpc(sn.url, "expire", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, messages: [h], expiry: newExpiry, signature: carol.sign(`expire${newExpiry}`) });
    expect(bad.status).toBe(401);
    const ts = Date.now();
    const g = await rpc(sn.url, "get_expiries", { pubkey: carol.sessionId, pubkey_ed25519: carol.edPkHex, messages: [h], timestamp: ts, signature: carol.sign(`get_expiries${ts}${h}`) });
    expect(g.status).toBe(200);
    expect(g.json.expiries).toEqual({ [h]: newExpiry });
  });
});

describe("oxend_request and the seed", () => {
  it("oxend_request get_service_nodes lists every snode", async () => {
    const r = await rpc(member.url, "oxend_request", { endpoint: "get_service_nodes", params: { active_only: true } });
    expect(r.status).toBe(200);
    expect(r.json.result.service_node_states).toHaveLength(net.snodes.length);
    const bad = await rpc(member.url, "oxend_request", { endpoint: "get_info" });
    expect(bad).toMatchObject({ status: 400, text: "invalid request: Invalid oxend endpoint 'get_info'" });
  });

  it("get_n_service_nodes answers the reference shape with Content-Type application/json", async () => {
    const body = {
      jsonrpc: "2.0",
      id: 7,
      method: "get_n_service_nodes",
      params: {
        active_only: true,
        fields: { public_ip: true, storage_port: true, pubkey_x25519: true, pubkey_ed25519: true, requested_unlock_height: true, height: true },
      },
    };
    const r = await post(net.seedUrls[0]!, JSON.stringify(body));
    expect(r.status).toBe(200);
    expect(r.contentType).toBe("application/json");
    expect(r.json.id).toBe(7);
    expect(r.json.jsonrpc).toBe("2.0");
    expect(typeof r.json.result.height).toBe("number");
    const states = r.json.result.service_node_states;
    expect(states).toHaveLength(9);
    expect(Object.keys(states[0]).sort()).toEqual(["pubkey_ed25519", "pubkey_x25519", "public_ip", "requested_unlock_height", "storage_port"]);
    expect(states.map((s: any) => s.storage_port)).toEqual(net.snodes.map((s) => s.port));
    expect(states.map((s: any) => s.pubkey_ed25519)).toEqual(net.snodes.map((s) => s.pubkeyEd25519));
    expect(states.every((s: any) => s.public_ip === "127.0.0.1" && s.requested_unlock_height === 0)).toBe(true);
  });

  it("JSON-RPC errors for unknown methods and bad JSON", async () => {
    const r = await post(net.seedUrls[0]!, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "get_info" }));
    expect(r.json).toEqual({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: "Method not found" } });
    const p = await post(net.seedUrls[0]!, "{");
    expect(p.json.error.code).toBe(-32700);
  });
});
