// Creates or updates, idempotently, the streams, durable consumers and KV buckets the broker owns
// (docs/decisions.md "Who creates what on NATS"). Names come only from @session-bot/protocol.
import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, jetstreamManager, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import {
  MAX_BUS_MESSAGE_BYTES,
  PLUGIN_MANIFESTS_BUCKET,
  PLUGINS_BUCKET,
  STREAMS,
  brokerDeadLetterConsumer,
  brokerOutboundConsumer,
  deadLetterSubject,
  outboundFilter,
  type StreamNames,
} from "@session-bot/protocol";
import type { Logger } from "pino";
import type { BrokerConfig } from "../config.js";
import { BrokerError } from "../errors.js";

/** What {@link ensureTopology} needs from the configuration. */
export interface TopologyOptions {
  readonly bot: string;
  readonly streams: BrokerConfig["streams"];
  readonly outbound: BrokerConfig["outbound"];
}

/** Names of what was ensured (for logs and tests). */
export interface Topology {
  readonly outboundConsumer: string;
  readonly deadLetterConsumer: string;
}

const STREAM_NOT_FOUND = 10059;

async function ensureStream(jsm: JetStreamManager, names: StreamNames, maxAgeMs: number, opts: TopologyOptions, log: Logger): Promise<void> {
  const cfg: Partial<StreamConfig> = {
    description: names.description,
    subjects: [...names.subjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAgeMs),
    duplicate_window: nanos(opts.streams.duplicateWindowMs),
    max_msg_size: MAX_BUS_MESSAGE_BYTES,
    num_replicas: opts.streams.replicas,
  };
  try {
    await jsm.streams.info(names.name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND) {
      try {
        await jsm.streams.add({ name: names.name, ...cfg });
        log.info({ stream: names.name }, "stream created");
        return;
      } catch (addErr) {
        // Another broker (another bot of the deployment) created it in between: update below.
        if (!(addErr instanceof JetStreamApiError)) throw addErr;
      }
    } else {
      throw err;
    }
  }
  await jsm.streams.update(names.name, cfg);
  log.debug({ stream: names.name }, "stream updated");
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  filter: string,
  opts: { ackWaitMs: number; maxDeliver: number; backoffMs?: readonly number[]; maxAckPending: number },
): Promise<void> {
  // JetStream requires max_deliver > len(backoff); the last backoff value repeats.
  const backoff = opts.backoffMs?.slice(0, Math.max(0, opts.maxDeliver - 1));
  const config = {
    ack_wait: nanos(opts.ackWaitMs),
    max_deliver: opts.maxDeliver,
    max_ack_pending: opts.maxAckPending,
    filter_subject: filter,
    ...(backoff && backoff.length > 0 ? { backoff: backoff.map((ms) => nanos(ms)) } : {}),
  };
  try {
    await jsm.consumers.info(stream, durable);
    await jsm.consumers.update(stream, durable, config);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== 10014) throw err; // 10014: consumer not found
    await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ...config });
  }
}

/**
 * Ensures streams SB_INBOUND, SB_OUTBOUND and SB_DEAD (subjects from protocol, replicas and max
 * age from configuration), the broker's durable consumers on SB_OUTBOUND and SB_DEAD, and the KV
 * buckets `sb_plugins` and `sb_plugin_manifests`. Safe to call on every start.
 */
export async function ensureTopology(nc: NatsConnection, opts: TopologyOptions, log: Logger): Promise<Topology> {
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, STREAMS.inbound, opts.streams.inboundMaxAgeMs, opts, log);
    await ensureStream(jsm, STREAMS.outbound, opts.streams.outboundMaxAgeMs, opts, log);
    await ensureStream(jsm, STREAMS.deadLetter, opts.streams.deadMaxAgeMs, opts, log);
    const outboundConsumer = brokerOutboundConsumer(opts.bot);
    await ensureConsumer(jsm, STREAMS.outbound.name, outboundConsumer, outboundFilter(opts.bot), {
      ackWaitMs: opts.outbound.ackWaitMs,
      maxDeliver: opts.outbound.maxDeliver,
      backoffMs: opts.outbound.backoffMs,
      maxAckPending: Math.max(16, opts.outbound.concurrency * 4),
    });
    const deadLetterConsumer = brokerDeadLetterConsumer(opts.bot);
    await ensureConsumer(jsm, STREAMS.deadLetter.name, deadLetterConsumer, deadLetterSubject(opts.bot), {
      ackWaitMs: 30_000,
      maxDeliver: 10,
      maxAckPending: 64,
    });
    const kvm = new Kvm(nc);
    for (const bucket of [PLUGINS_BUCKET, PLUGIN_MANIFESTS_BUCKET]) {
      await kvm.create(bucket, { replicas: opts.streams.replicas, history: 5 });
    }
    return { outboundConsumer, deadLetterConsumer };
  } catch (err) {
    throw new BrokerError("BROKER_NATS_SETUP", "cannot create or update the broker's streams, consumers and buckets", { cause: err, transient: true });
  }
}
