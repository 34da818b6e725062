/**
 * `WorkerPresence`: the heartbeat with which the workers that share a set of partition consumers
 * find each other, and the rule that splits the partitions among them (PROTOCOL.md §7).
 *
 * Ownership is an optimisation, never a guarantee: every partition consumer keeps
 * `max_ack_pending: 1`, so two workers that briefly pull the same partition (while their views of
 * the members differ) still get its events one at a time, in order. What ownership buys is that each
 * worker pulls only its own partitions, so the workers run side by side instead of taking turns on
 * every partition.
 */
import { Type, type Static } from "@sinclair/typebox";
import { MAX_SAFE_INTEGER } from "../limits.js";
import { defineCodec } from "../validation.js";
import { versionField } from "./common.js";

/** Pattern of a worker instance name in a presence message (a subject-safe token). */
export const WORKER_INSTANCE_PATTERN = "^[A-Za-z0-9_.-]{1,128}$";
/** Pattern of a consumer set: `host` (plugin-host's `sb_host_*` consumers) or a worker group name. */
export const CONSUMER_SET_PATTERN = "^[a-z0-9][a-z0-9_-]{0,31}$";
/** The consumer set of plugin-host's own partition consumers (`sb_host_<bot>_p<n>`). */
export const HOST_CONSUMER_SET = "host";
/** How often a worker announces itself by default (ms). */
export const DEFAULT_PRESENCE_INTERVAL_MS = 1_000;
/** A member that has not announced itself for this many of its intervals is gone. */
export const PRESENCE_EXPIRY_INTERVALS = 3;

export const WorkerPresenceSchema = Type.Object(
  {
    v: versionField(),
    instance: Type.String({ pattern: WORKER_INSTANCE_PATTERN, description: "The worker's instance name, unique in its consumer set." }),
    set: Type.String({ pattern: CONSUMER_SET_PATTERN, description: "The consumer set it pulls: `host`, or its worker group." }),
    state: Type.Union([Type.Literal("up"), Type.Literal("leaving")], {
      description: "`up`: counts as a member until `intervalMs × 3` without news. `leaving`: stopping now; the others take its partitions at once.",
    }),
    intervalMs: Type.Integer({ minimum: 100, maximum: 60_000, description: "How often this worker announces itself." }),
    startedAt: Type.Integer({ minimum: 0, maximum: MAX_SAFE_INTEGER, description: "When the worker started (ms since the epoch)." }),
  },
  {
    title: "WorkerPresence",
    description: "The heartbeat of a worker on sb.plugin-host.<bot>.presence.<set> (core NATS, not stored).",
  },
);
/** The heartbeat of one worker of a consumer set. */
export type WorkerPresence = Static<typeof WorkerPresenceSchema>;

const codec = defineCodec("WorkerPresence", WorkerPresenceSchema);

/** Returns the value typed as {@link WorkerPresence} or throws `ProtocolError`. */
export const parseWorkerPresence = codec.parse;
/** Type guard for {@link WorkerPresence}. */
export const isWorkerPresence = codec.is;
/** UTF-8 JSON → {@link WorkerPresence}, or throws `ProtocolError`. */
export const decodeWorkerPresence = codec.decode;
/** {@link WorkerPresence} → UTF-8 JSON (validated first). */
export const encodeWorkerPresence = codec.encode;
/** The codec (registry use). */
export const workerPresenceCodec = codec;

/**
 * The partitions `self` owns among `members` (which should include `self`): the member names are
 * sorted by their UTF-16 code units (they are ASCII, so this is byte order in every language), and
 * partition `p` goes to the member at index `p mod n`. Every member computes the same split from
 * the same member list; the split is as even as it can be (sizes differ by at most one).
 *
 * `self` missing from `members` is added. Returns the partitions in increasing order.
 */
export function ownedPartitions(self: string, members: Iterable<string>, partitions: number): number[] {
  const sorted = [...new Set([...members, self])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = sorted.indexOf(self);
  const owned: number[] = [];
  for (let p = index; p < partitions; p += sorted.length) owned.push(p);
  return owned;
}
