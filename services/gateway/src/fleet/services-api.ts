/**
 * A small client of the NATS services API (`$SRV.PING/STATS`): it gathers every instance's
 * answer for a bounded time. Replies are checked before use; an instance that answers garbage is
 * skipped and counted, never trusted.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Empty, type NatsConnection } from "@nats-io/transport-node";
import { ajv } from "../validation/ajv.js";

const Identity = {
  name: Type.String(),
  id: Type.String(),
  version: Type.String(),
  metadata: Type.Optional(Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()])),
};

export const PingReply = Type.Object({ type: Type.Literal("io.nats.micro.v1.ping_response"), ...Identity });
export type PingReply = Static<typeof PingReply>;

export const EndpointStats = Type.Object({
  name: Type.String(),
  subject: Type.String(),
  num_requests: Type.Integer({ minimum: 0 }),
  num_errors: Type.Integer({ minimum: 0 }),
  last_error: Type.Optional(Type.String()),
  processing_time: Type.Number({ minimum: 0 }),
  average_processing_time: Type.Number({ minimum: 0 }),
  data: Type.Optional(Type.Unknown()),
});
export type EndpointStats = Static<typeof EndpointStats>;

export const StatsReply = Type.Object({
  type: Type.Literal("io.nats.micro.v1.stats_response"),
  ...Identity,
  started: Type.String(),
  endpoints: Type.Optional(Type.Union([Type.Array(EndpointStats), Type.Null()])),
});
export type StatsReply = Static<typeof StatsReply>;

const validatePing = ajv.compile<PingReply>(PingReply);
const validateStats = ajv.compile<StatsReply>(StatsReply);

/** What one discovery round saw. */
export interface Discovery<T> {
  replies: T[];
  /** Answers that were not a valid services-API reply. */
  invalid: number;
}

export interface DiscoverOptions {
  /** Stop waiting after this long. */
  maxWaitMs: number;
  /** Stop as soon as this many valid answers arrived (e.g. 1 for a readiness probe). */
  enough?: number;
}

/** `$SRV.PING.<service>`: which instances are alive. */
export function ping(nc: NatsConnection, service: string, opts: DiscoverOptions): Promise<Discovery<PingReply>> {
  return gather(nc, serviceDiscoverySubject("PING", service), (v): v is PingReply => validatePing(v), opts);
}

/** `$SRV.STATS.<service>`: per-instance, per-endpoint counters (and each endpoint's `data`). */
export function stats(nc: NatsConnection, service: string, opts: DiscoverOptions): Promise<Discovery<StatsReply>> {
  return gather(nc, serviceDiscoverySubject("STATS", service), (v): v is StatsReply => validateStats(v), opts);
}

async function gather<T>(
  nc: NatsConnection,
  subject: string,
  valid: (v: unknown) => v is T,
  opts: DiscoverOptions,
): Promise<Discovery<T>> {
  const replies: T[] = [];
  let invalid = 0;
  const iter = await nc.requestMany(subject, Empty, {
    strategy: opts.enough === undefined ? "timer" : "count",
    maxWait: opts.maxWaitMs,
    ...(opts.enough === undefined ? {} : { maxMessages: opts.enough }),
  });
  try {
    for await (const msg of iter) {
      let body: unknown;
      try {
        body = msg.json<unknown>();
      } catch {
        invalid++;
        continue;
      }
      if (valid(body)) replies.push(body);
      else invalid++;
    }
  } catch (err) {
    // Nobody registered: an empty fleet, not a failure of the gateway.
    if (!isNoResponders(err)) throw err;
  }
  return { replies, invalid };
}

/** `$SRV.<verb>.<service>`: the discovery subjects defined by the NATS services API (not ours). */
export function serviceDiscoverySubject(verb: "PING" | "INFO" | "STATS", service: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(service)) throw new TypeError("invalid service name");
  return `$SRV.${verb}.${service}`;
}

function isNoResponders(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: string; isNoResponders?: () => boolean; cause?: unknown };
  // nats.js names it "NoResponders" (the class is NoRespondersError); accept both.
  if (e.name === "NoRespondersError" || e.name === "NoResponders") return true;
  if (typeof e.isNoResponders === "function" && e.isNoResponders()) return true;
  return e.cause !== undefined && isNoResponders(e.cause);
}

export { isNoResponders };
