import { beforeAll, describe, expect, it } from "vitest";
import { sodiumReady } from "./crypto.js";
import { seedJsonRpc, serviceNodeStatesOf } from "./seed.js";
import { Topology } from "./topology.js";

let topo: Topology;
beforeAll(async () => {
  await sodiumReady();
  topo = new Topology("seed-test", 5, 2);
});

const states = (fields?: Record<string, unknown>): Record<string, unknown> => serviceNodeStatesOf(topo, "127.0.0.1", (sn) => 40_000 + sn.index, fields);

describe("seed json_rpc", () => {
  it("returns only the requested fields, and all of them without `fields`", () => {
    const r = seedJsonRpc(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "get_n_service_nodes", params: { fields: { public_ip: true, storage_port: true, height: true } } }), states);
    const result = r.result as { service_node_states: Array<Record<string, unknown>>; height: number; status: string };
    expect(r.id).toBe(3);
    expect(result.service_node_states[2]).toEqual({ public_ip: "127.0.0.1", storage_port: 40_002 });
    expect(result.height).toBeGreaterThan(0);
    expect(result.status).toBe("OK");
    const all = (seedJsonRpc(JSON.stringify({ method: "get_service_nodes" }), states).result as { service_node_states: Array<Record<string, unknown>> }).service_node_states;
    expect(all[0]).toMatchObject({ pubkey_ed25519: topo.snodes[0]!.pubkeyEd25519, pubkey_x25519: topo.snodes[0]!.pubkeyX25519, requested_unlock_height: 0 });
  });

  it("honours limit with a subset of distinct snodes", () => {
    const r = seedJsonRpc(JSON.stringify({ method: "get_n_service_nodes", params: { limit: 3, fields: { pubkey_ed25519: true } } }), states);
    const list = (r.result as { service_node_states: Array<{ pubkey_ed25519: string }> }).service_node_states;
    expect(list).toHaveLength(3);
    expect(new Set(list.map((s) => s.pubkey_ed25519)).size).toBe(3);
  });

  it("answers JSON-RPC errors", () => {
    expect(seedJsonRpc("[1]", states)).toMatchObject({ error: { code: -32600 } });
    expect(seedJsonRpc("nope", states)).toMatchObject({ id: null, error: { code: -32700 } });
    expect(seedJsonRpc(JSON.stringify({ id: "x", method: "get_info" }), states)).toEqual({ jsonrpc: "2.0", id: "x", error: { code: -32601, message: "Method not found" } });
  });
});
