// Builds and publishes DeadLetter documents (sb.dead.<bot>, stream SB_DEAD).
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import {
  DEAD_LETTER_STREAM,
  HEADER_PROTOCOL_VERSION,
  MAX_ERROR_MESSAGE_LENGTH,
  PROTOCOL_VERSION,
  deadLetterPayload,
  deadLetterSubject,
  encodeDeadLetter,
  type DeadLetter,
} from "@session-bot/protocol";

const ID_RE = /^[A-Za-z0-9+/=:._-]{1,128}$/;

/** What went wrong with a message taken from a stream. */
export interface DeadLetterInput {
  readonly bot: string;
  readonly stream: string;
  readonly subject: string;
  readonly sequence: number;
  readonly consumer: string;
  readonly messageId: string | undefined;
  readonly body: Uint8Array;
  readonly code: string;
  readonly message: string;
  readonly deliveries: number;
  readonly firstSeen: number;
  readonly plugin?: string | undefined;
}

/** Builds the DeadLetter document (id `<stream>:<sequence>`, so repeats collapse). */
export function buildDeadLetter(i: DeadLetterInput, now: number): DeadLetter {
  return {
    v: PROTOCOL_VERSION,
    id: `${i.stream}:${i.sequence}`,
    bot: i.bot,
    source: {
      stream: i.stream,
      subject: i.subject,
      sequence: i.sequence,
      consumer: i.consumer,
      ...(i.messageId !== undefined && ID_RE.test(i.messageId) ? { messageId: i.messageId } : {}),
    },
    payload: deadLetterPayload(i.body),
    reason: { code: i.code, message: Array.from(i.message).slice(0, MAX_ERROR_MESSAGE_LENGTH).join("") },
    deliveries: i.deliveries,
    firstSeen: i.firstSeen,
    failedAt: now,
    ...(i.plugin !== undefined ? { plugin: i.plugin } : {}),
  };
}

/** Publishes a dead letter and waits for the stream's ack. */
export async function publishDeadLetter(js: JetStreamClient, dl: DeadLetter): Promise<void> {
  const h = natsHeaders();
  h.set(HEADER_PROTOCOL_VERSION, String(PROTOCOL_VERSION));
  await js.publish(deadLetterSubject(dl.bot), encodeDeadLetter(dl), { msgID: dl.id, expect: { streamName: DEAD_LETTER_STREAM }, headers: h });
}
