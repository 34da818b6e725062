// One snode's HTTP front: injected faults and rate limit first, then `/storage_rpc/v1`.
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Faults } from "./faults.js";
import { BodyTooLarge, readBody, sendJson, sendText, sleep, type Handler } from "./http.js";
import type { RateLimiter } from "./rate-limit.js";
import type { StorageRpc } from "./storage-rpc.js";
import type { SnodeIdentity } from "./topology.js";

/** Largest request body a snode reads (a batch of 20 full stores is ~2 MB). */
const MAX_BODY = 10_000_000;
/** How long the replay of a request answered by an injected 421 gets the same answer. */
const REPLAY_WINDOW_MS = 5_000;

/** What a snode's handler needs. */
export interface SnodeHandlerDeps {
  readonly snode: SnodeIdentity;
  readonly faults: Faults;
  readonly rpc: StorageRpc;
  readonly limiter: RateLimiter | undefined;
  readonly log: Logger;
  readonly onRequest: () => void;
}

/** Builds the request handler of one snode listener. */
export function snodeHandler(deps: SnodeHandlerDeps): Handler {
  const { snode, faults, rpc, limiter, log } = deps;
  const key = snode.pubkeyEd25519;
  const replays421 = new Map<string, number>();

  return async (req, res) => {
    deps.onRequest();
    const plan = faults.take(key);
    if (plan.delayMs > 0) await sleep(plan.delayMs);
    if (plan.drop) {
      log.debug("dropping connection (injected fault)");
      req.socket.destroy();
      return;
    }
    if (plan.status === 500) return sendText(res, 500, "Internal Server Error (injected fault)");
    if (plan.status === 429) return sendText(res, 429, "Too Many Requests (injected fault)");
    if (limiter && !limiter.take(req.socket.remoteAddress ?? "", Date.now()))
      return sendText(res, 429, "Too many requests, try again later");
    const path = new URL(req.url ?? "/", "http://devnet").pathname;
    if (path !== "/storage_rpc/v1") return sendText(res, 404, "Not Found");
    if (req.method !== "POST") return sendText(res, 405, "Method Not Allowed");
    if (req.headers["x-loki-long-poll"] !== undefined) return sendText(res, 410, "long polling is no longer supported");
    let body: Buffer;
    try {
      body = await readBody(req, MAX_BODY);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendText(res, 413, "Request body too large");
      throw err;
    }
    // Fetch clients (undici, browsers) re-send a request that got 421 once on a new connection
    // (Fetch standard); give that replay the same 421 so the client sees the injected one.
    const digest = createHash("sha256").update(body).digest("base64");
    const replayUntil = replays421.get(digest);
    replays421.delete(digest);
    let misdirected: boolean | undefined = replayUntil !== undefined && replayUntil > Date.now() ? true : undefined;
    const result = rpc.handleBody(body.toString("utf8"), {
      snode,
      now: Date.now() + plan.clockOffsetMs,
      misdirect: () => {
        if (misdirected === undefined) {
          misdirected = faults.takeMisdirect(key);
          if (misdirected) replays421.set(digest, Date.now() + REPLAY_WINDOW_MS);
        }
        return misdirected;
      },
    });
    log.debug({ status: result.status }, "storage rpc");
    if (result.json) sendJson(res, result.status, result.json);
    else sendText(res, result.status, result.text ?? "");
  };
}
