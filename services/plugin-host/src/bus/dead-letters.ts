/** Publishes DeadLetters to `sb.dead.<bot>` (stream SB_DEAD). */
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import {
  CONTENT_TYPE_JSON,
  DEAD_LETTER_STREAM,
  HEADER_CONTENT_TYPE,
  HEADER_PLUGIN,
  deadLetterSubject,
  encodeDeadLetter,
  type DeadLetter,
} from "@session-bot/protocol";

/** Publishes one dead letter and waits for the stream's ack. */
export type DeadLetterPublisher = (dl: DeadLetter) => Promise<void>;

export function deadLetterPublisher(js: JetStreamClient): DeadLetterPublisher {
  return async (dl) => {
    const h = headers();
    h.set(HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
    if (dl.plugin !== undefined) h.set(HEADER_PLUGIN, dl.plugin);
    await js.publish(deadLetterSubject(dl.bot), encodeDeadLetter(dl), { msgID: dl.id, headers: h, expect: { streamName: DEAD_LETTER_STREAM } });
  };
}
