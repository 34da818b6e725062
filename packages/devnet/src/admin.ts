// Loopback-only admin endpoints on the seed's port: fault injection for other processes.
import type http from "node:http";
import type { Fault, Faults } from "./faults.js";
import { ClientGone, isLoopback, readBody, sendJson } from "./http.js";

/**
 * Handles `/_devnet/faults` (GET list, POST inject, DELETE clear), `/_devnet/move` (POST
 * `{target, swarmId}`) and `/_devnet/info` (GET).
 */
export function adminHandler(
  faults: Faults,
  info: () => Record<string, unknown>,
  moveSnode: (target: number | string, swarmId: string) => void,
): (req: http.IncomingMessage, res: http.ServerResponse, path: string) => Promise<void> {
  return async (req, res, path) => {
    if (!isLoopback(req.socket.remoteAddress)) return sendJson(res, 403, { error: "loopback only" });
    if (path === "/_devnet/info" && req.method === "GET") return sendJson(res, 200, info());
    if (path === "/_devnet/move" && req.method === "POST") {
      try {
        const body = JSON.parse((await readBody(req, 65_536)).toString("utf8")) as { target?: unknown; swarmId?: unknown };
        if ((typeof body.target !== "number" && typeof body.target !== "string") || typeof body.swarmId !== "string")
          return sendJson(res, 400, { error: "target (snode index or ed25519 hex) and swarmId (decimal string) required" });
        moveSnode(body.target, body.swarmId);
        return sendJson(res, 200, { ok: true, swarms: info().swarms });
      } catch (err) {
        if (err instanceof ClientGone) throw err;
        return sendJson(res, 400, { error: err instanceof Error ? err.message : "bad request" });
      }
    }
    if (path !== "/_devnet/faults") return sendJson(res, 404, { error: "not found" });
    if (req.method === "GET") return sendJson(res, 200, { faults: faults.list() });
    if (req.method === "DELETE") {
      faults.clear();
      return sendJson(res, 200, { ok: true });
    }
    if (req.method !== "POST") return sendJson(res, 405, { error: "method not allowed" });
    try {
      const body = JSON.parse((await readBody(req, 65_536)).toString("utf8")) as {
        target?: unknown;
        fault?: unknown;
        kind?: unknown;
        ms?: unknown;
        count?: unknown;
      };
      if (typeof body.target !== "number" && typeof body.target !== "string")
        return sendJson(res, 400, { error: "target (snode index or ed25519 hex, or seed/file-server) required" });
      const fault = (body.fault ?? { kind: body.kind, ms: body.ms, count: body.count }) as Fault;
      faults.inject(body.target, fault);
      return sendJson(res, 200, { ok: true, faults: faults.list() });
    } catch (err) {
      if (err instanceof ClientGone) throw err;
      return sendJson(res, 400, { error: err instanceof Error ? err.message : "bad request" });
    }
  };
}
