/** Publishes DeadLetters to `sb.dead.<bot>` (stream SB_DEAD). */
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import {
  CONTENT_TYPE_JSON,
  DEAD_LETTER_STREAM,
  HEADER_CONTENT_TYPE,
  HEADER_PLUGIN,
  MAX_DEAD_LETTER_PAYLOAD_LENGTH,
  deadLetterSubject,
  encodeDeadLetter,
  type DeadLetter,
  type DeadLetterPayload,
} from "@session-bot/protocol";

/** The body of a dead letter: parsed JSON when the bytes are JSON (and small enough), else base64. */
export function deadLetterPayload(data: Uint8Array): DeadLetterPayload {
  try {
    if (data.byteLength <= (MAX_DEAD_LETTER_PAYLOAD_LENGTH / 4) * 3) {
      return { encoding: "json", json: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data)) as unknown };
    }
  } catch {
    // not JSON: kept as bytes below
  }
  const maxBytes = (MAX_DEAD_LETTER_PAYLOAD_LENGTH / 4) * 3;
  const truncated = data.byteLength > maxBytes;
  return { encoding: "base64", data: Buffer.from(truncated ? data.subarray(0, maxBytes) : data).toString("base64"), ...(truncated ? { truncated: true } : {}) };
}

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
