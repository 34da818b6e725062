// Prometheus metrics of the broker, on a registry of its own (tests build several apps).
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The broker's metrics. */
export interface BrokerMetrics {
  readonly registry: Registry;
  /** Inbound events published, by kind. */
  readonly inbound: Counter<"kind">;
  /** Inbound messages dropped, by reason (blocked, rate_limited, invalid, ignored, unsupported). */
  readonly inboundDropped: Counter<"reason">;
  /** Messages that could not be decrypted/verified/parsed, by Session error code. */
  readonly decryptFailures: Counter<"code">;
  readonly pollLatency: Histogram;
  readonly pollFailures: Counter;
  /** Outbound actions by action and result (sent, duplicate, retry, failed, invalid). */
  readonly outbound: Counter<"action" | "result">;
  readonly publishLatency: Histogram;
  readonly rateLimited: Counter;
  /** Dead letters by origin (published by the broker, recorded from SB_DEAD). */
  readonly deadLetters: Counter<"origin">;
  /** Attachment transfers by direction and result. */
  readonly attachments: Counter<"op" | "result">;
}

/** Creates the metrics on a fresh registry (with the process defaults). */
export function createMetrics(): BrokerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const r = [registry];
  return {
    registry,
    inbound: new Counter({ name: "sb_broker_inbound_total", help: "Inbound events published to SB_INBOUND, by kind", labelNames: ["kind"], registers: r }),
    inboundDropped: new Counter({ name: "sb_broker_inbound_dropped_total", help: "Inbound messages dropped, by reason", labelNames: ["reason"], registers: r }),
    decryptFailures: new Counter({ name: "sb_broker_decrypt_failures_total", help: "Inbound messages that failed to decrypt, verify or parse, by code", labelNames: ["code"], registers: r }),
    pollLatency: new Histogram({ name: "sb_broker_poll_seconds", help: "Duration of one poll of the swarm", buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r }),
    pollFailures: new Counter({ name: "sb_broker_poll_failures_total", help: "Polls that failed", registers: r }),
    outbound: new Counter({ name: "sb_broker_outbound_total", help: "Outbound actions by action and result", labelNames: ["action", "result"], registers: r }),
    publishLatency: new Histogram({ name: "sb_broker_publish_seconds", help: "JetStream publish latency (until the ack)", buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: r }),
    rateLimited: new Counter({ name: "sb_broker_rate_limited_total", help: "Inbound messages refused by the per-sender rate limit", registers: r }),
    deadLetters: new Counter({ name: "sb_broker_dead_letters_total", help: "Dead letters, by origin (published, recorded)", labelNames: ["origin"], registers: r }),
    attachments: new Counter({ name: "sb_broker_attachments_total", help: "Attachment transfers, by op and result", labelNames: ["op", "result"], registers: r }),
  };
}
