// Robustness of the storage RPC: whatever a client sends, the answer is a status and a body,
// never an exception (so a malformed request can never take a snode down).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sodiumReady } from "./crypto.js";
import { StorageRpc, type RpcContext } from "./storage-rpc.js";
import { DevnetStore } from "./store.js";
import { Topology } from "./topology.js";

let rpc: StorageRpc;
let store: DevnetStore;
let topo: Topology;

beforeAll(async () => {
  await sodiumReady();
  topo = new Topology("fuzz", 4, 2);
  store = new DevnetStore();
  rpc = new StorageRpc(topo, store, (sn) => 30_000 + sn.index, () => ({ service_node_states: [] }));
});
afterAll(() => store.close());

const ctx = (i: number): RpcContext => ({ snode: topo.snodes[i % 4]!, now: Date.now(), misdirect: () => false });
const METHODS = ["info", "get_swarm", "store", "retrieve", "delete", "delete_all", "delete_before", "expire", "expire_all", "get_expiries", "oxend_request", "batch", "sequence", "nope"];
const KEYS = ["pubkey", "pubKey", "data", "ttl", "timestamp", "expiry", "namespace", "signature", "pubkey_ed25519", "sig_timestamp", "last_hash", "max_count", "max_size", "messages", "requests", "endpoint", "before", "extend", "shorten", "required"];
const sid = `05${"11".repeat(32)}`;
const value = fc.oneof(
  fc.constant(sid),
  fc.constant(Date.now()),
  fc.constant("all"),
  fc.constant(Buffer.from("x").toString("base64")),
  fc.integer({ min: -40_000, max: 40_000 }),
  fc.double(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.array(fc.record({ method: fc.constantFrom(...METHODS), params: fc.dictionary(fc.constantFrom(...KEYS), fc.string()) }), { maxLength: 3 }),
);

describe("StorageRpc never throws", () => {
  it("answers arbitrary params of every method with a status and a body", () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), fc.dictionary(fc.constantFrom(...KEYS), value), fc.nat(3), (method, params, i) => {
        const r = rpc.handle(method, params, ctx(i));
        expect([200, 400, 401, 403, 404, 406, 421]).toContain(r.status);
        if (r.status === 200 || r.status === 421) expect(r.json).toBeDefined();
        else expect(typeof (r.text ?? r.json)).not.toBe("undefined");
      }),
      { numRuns: 400 },
    );
  });

  it("answers arbitrary bodies", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (body) => {
        const r = rpc.handleBody(body, ctx(0));
        expect(r.status).toBeGreaterThanOrEqual(200);
      }),
      { numRuns: 300 },
    );
  });
});
