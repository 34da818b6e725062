/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument -- RPC answers are untyped JSON, checked field by field */
// A permanent swarm membership change: the moved snode answers 421 with the new membership.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDevnetError, startDevnet, type Devnet } from "../src/index.js";
import { post, randomIdentity, rpc, signedRetrieve, storeParams, type Identity } from "./helpers.js";

let net: Devnet;
beforeAll(async () => {
  net = await startDevnet({ http: true, snodeCount: 6, swarmCount: 2 });
});
afterAll(() => net.stop());

async function identityIn(swarmId: string): Promise<Identity> {
  for (;;) {
    const id = await randomIdentity();
    if (net.swarmFor(id.sessionId).swarmId === swarmId) return id;
  }
}

describe("moveSnode", () => {
  it("moves a snode between swarms; clients of its old swarm get 421 with the new membership", async () => {
    const [a, b] = net.swarms;
    const alice = await identityIn(a!.swarmId);
    const bob = await identityIn(b!.swarmId);
    const moved = a!.snodes[0]!;
    net.moveSnode(moved.index, b!.swarmId);

    expect(net.snodes[moved.index]!.swarmId).toBe(b!.swarmId);
    expect(net.swarmFor(alice.sessionId).snodes.map((s) => s.index)).not.toContain(moved.index);
    expect(net.swarmFor(bob.sessionId).snodes.map((s) => s.index)).toContain(moved.index);

    const r = await rpc(moved.url, "store", storeParams(alice.sessionId, "to the old swarm"));
    expect(r.status).toBe(421);
    expect(r.json.snodes.map((s: any) => s.pubkey_ed25519)).toEqual(net.swarmFor(alice.sessionId).snodes.map((s) => s.pubkeyEd25519));
    const gs = await rpc(moved.url, "get_swarm", { pubkey: alice.sessionId });
    expect(gs.json.snodes).toHaveLength(2);

    // It now serves its new swarm, sharing that swarm's messages.
    const stored = await rpc(moved.url, "store", storeParams(bob.sessionId, "via the newcomer"));
    expect(stored.status).toBe(200);
    expect(Object.keys(stored.json.swarm)).toHaveLength(4);
    const other = net.swarmFor(bob.sessionId).snodes.find((s) => s.index !== moved.index)!;
    const got = await rpc(other.url, "retrieve", signedRetrieve(bob, 0, Date.now()));
    expect(got.json.messages.map((m: any) => m.hash)).toContain(stored.json.hash);
  });

  it("refuses to empty a swarm, unknown swarms and unknown snodes", () => {
    const small = net.swarms.find((s) => s.snodes.length === 2)!;
    const other = net.swarms.find((s) => s !== small)!;
    net.moveSnode(small.snodes[0]!.pubkeyEd25519, other.swarmId);
    const last = net.swarms.find((s) => s.swarmId === small.swarmId)!.snodes[0]!;
    expect(() => net.moveSnode(last.index, other.swarmId)).toThrow(expect.objectContaining({ code: "DEVNET_BAD_OPTIONS" }));
    expect(() => net.moveSnode(0, "12345")).toThrow(expect.objectContaining({ code: "DEVNET_BAD_OPTIONS" }));
    try {
      net.moveSnode(99, other.swarmId);
      expect.unreachable();
    } catch (err) {
      expect(isDevnetError(err, "DEVNET_UNKNOWN_TARGET")).toBe(true);
    }
  });

  it("is available over the admin endpoint", async () => {
    const admin = net.seedUrls[0]!.replace(/\/json_rpc$/, "/_devnet/move");
    const big = net.swarms.reduce((x, y) => (x.snodes.length >= y.snodes.length ? x : y));
    const small = net.swarms.find((s) => s !== big)!;
    const sn = big.snodes[0]!;
    const r = await post(admin, JSON.stringify({ target: sn.index, swarmId: small.swarmId }));
    expect(r.status).toBe(200);
    expect(net.snodes[sn.index]!.swarmId).toBe(small.swarmId);
    const bad = await post(admin, JSON.stringify({ target: sn.index, swarmId: "not a number" }));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/swarm id/);
  });
});
