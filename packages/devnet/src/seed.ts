// The seed node's JSON-RPC (reference 4.2 / 10.1): `get_n_service_nodes` as oxend answers it.
import type { SnodeIdentity, Topology } from "./topology.js";

const ALL_FIELDS = [
  "public_ip",
  "storage_port",
  "storage_lmq_port",
  "pubkey_x25519",
  "pubkey_ed25519",
  "service_node_pubkey",
  "requested_unlock_height",
  "swarm_id",
  "active",
  "funded",
] as const;

/** Chain height the devnet reports. */
export const DEVNET_HEIGHT = 1_234_567;

/**
 * The oxend `get_n_service_nodes` result for every snode, with only the requested `fields`
 * (all of them when none are named).
 */
export function serviceNodeStatesOf(
  topo: Topology,
  host: string,
  portOf: (sn: SnodeIdentity) => number,
  fields?: Record<string, unknown>,
): Record<string, unknown> {
  const named = fields !== undefined && Object.keys(fields).length > 0;
  const want = (k: string): boolean => !named || fields[k] === true;
  const value = (sn: SnodeIdentity, k: (typeof ALL_FIELDS)[number]): unknown => {
    switch (k) {
      case "public_ip":
        return host;
      case "storage_port":
      case "storage_lmq_port":
        return portOf(sn);
      case "pubkey_x25519":
        return sn.pubkeyX25519;
      case "pubkey_ed25519":
      case "service_node_pubkey":
        return sn.pubkeyEd25519;
      case "requested_unlock_height":
        return 0;
      case "swarm_id":
        // oxend sends a JSON uint64; above 2^53 JavaScript readers lose precision either way.
        return Number(sn.swarmId);
      case "active":
      case "funded":
        return true;
    }
  };
  return {
    service_node_states: topo.snodes.map((sn) => Object.fromEntries(ALL_FIELDS.filter(want).map((k) => [k, value(sn, k)]))),
    height: DEVNET_HEIGHT,
    target_height: DEVNET_HEIGHT,
    hardfork: 19,
    status: "OK",
  };
}

/** Answers one seed JSON-RPC body (always HTTP 200, errors as JSON-RPC error objects). */
export function seedJsonRpc(text: string, states: (fields?: Record<string, unknown>) => Record<string, unknown>): Record<string, unknown> {
  let req: unknown;
  try {
    req = JSON.parse(text);
  } catch {
    return { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } };
  }
  if (typeof req !== "object" || req === null || Array.isArray(req))
    return { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } };
  const r = req as { id?: unknown; method?: unknown; params?: unknown };
  // JSON-RPC 2.0: an id is a string, a number or null; anything else is an Invalid Request
  // answered with id null (echoing it back could be arbitrarily deep or large).
  if (r.id !== undefined && r.id !== null && typeof r.id !== "string" && typeof r.id !== "number")
    return { jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } };
  const id = r.id ?? null;
  if (r.method !== "get_n_service_nodes" && r.method !== "get_service_nodes")
    return { jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } };
  const params = (typeof r.params === "object" && r.params !== null ? r.params : {}) as { fields?: unknown; limit?: unknown };
  const fields = typeof params.fields === "object" && params.fields !== null ? (params.fields as Record<string, unknown>) : undefined;
  const result = states(fields);
  if (typeof params.limit === "number" && params.limit > 0) {
    // oxend returns a random subset when a limit is given.
    const list = [...(result.service_node_states as unknown[])];
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [list[i], list[j]] = [list[j], list[i]];
    }
    result.service_node_states = list.slice(0, params.limit);
  }
  return { jsonrpc: "2.0", id, result };
}
