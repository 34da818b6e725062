/** Publishes outbound actions to SB_OUTBOUND with their id as Nats-Msg-Id (JetStream drops duplicates). */
import { headers } from "@nats-io/nats-core";
import type { JetStreamPublisher } from "@session-bot/js-publisher";
import {
  CONTENT_TYPE_JSON,
  HEADER_CAUSATION_ID,
  HEADER_CONTENT_TYPE,
  HEADER_PLUGIN,
  OUTBOUND_STREAM,
  encodeOutboundAction,
  outboundSubjectOf,
  type OutboundAction,
} from "@session-bot/protocol";

/** What publishing needs from JetStream. */
export type OutboundPublisher = (action: OutboundAction) => Promise<{ duplicate: boolean }>;

/**
 * Creates the publisher: validated body, idempotency key, causation and plugin headers. It goes
 * through `@session-bot/js-publisher` (a third of nats.js's client CPU per publish-with-ack).
 */
export function outboundPublisher(publisher: JetStreamPublisher, onPublish?: (action: OutboundAction, duplicate: boolean) => void): OutboundPublisher {
  return async (action) => {
    const h = headers();
    h.set(HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
    if (action.causationId !== undefined) h.set(HEADER_CAUSATION_ID, action.causationId);
    if (action.plugin !== undefined) h.set(HEADER_PLUGIN, action.plugin);
    const ack = await publisher.publish(outboundSubjectOf(action), encodeOutboundAction(action), { msgID: action.id, headers: h, expectStream: OUTBOUND_STREAM });
    onPublish?.(action, ack.duplicate);
    return { duplicate: ack.duplicate };
  };
}
