/** Publishes outbound actions to SB_OUTBOUND with their id as Nats-Msg-Id (JetStream drops duplicates). */
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import {
  CONTENT_TYPE_JSON,
  HEADER_CAUSATION_ID,
  HEADER_CONTENT_TYPE,
  HEADER_EXPECTED_STREAM,
  HEADER_PLUGIN,
  OUTBOUND_STREAM,
  encodeOutboundAction,
  outboundSubjectOf,
  type OutboundAction,
} from "@session-bot/protocol";

/** What publishing needs from JetStream. */
export type OutboundPublisher = (action: OutboundAction) => Promise<{ duplicate: boolean }>;

/** Creates the publisher: validated body, idempotency key, causation and plugin headers. */
export function outboundPublisher(js: JetStreamClient, onPublish?: (action: OutboundAction, duplicate: boolean) => void): OutboundPublisher {
  return async (action) => {
    const h = headers();
    h.set(HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
    h.set(HEADER_EXPECTED_STREAM, OUTBOUND_STREAM);
    if (action.causationId !== undefined) h.set(HEADER_CAUSATION_ID, action.causationId);
    if (action.plugin !== undefined) h.set(HEADER_PLUGIN, action.plugin);
    const ack = await js.publish(outboundSubjectOf(action), encodeOutboundAction(action), { msgID: action.id, headers: h, expect: { streamName: OUTBOUND_STREAM } });
    onPublish?.(action, ack.duplicate);
    return { duplicate: ack.duplicate };
  };
}
