/**
 * Builders of outgoing Content (docs/session-protocol.md 7): every one sets
 * `sigTimestamp = T`, and data messages carry the sender's profile.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { SessionError } from "../errors.js";
import { isSessionId } from "../identity/session-id.js";
import type {
  AttachmentPointerSchema,
  LokiProfileSchema} from "../gen/signalservice_pb.js";
import {
  ContentSchema,
  DataMessage_Reaction_Action,
  ReceiptMessage_Type,
  TypingMessage_Action,
  type Content,
} from "../gen/signalservice_pb.js";
import type { MessageRef } from "./events.js";

/** Largest text of a message, in Unicode code points (Session's limit for non-Pro accounts). */
export const MAX_TEXT_LENGTH = 2000;
/** Most attachments in one message (Session clients allow 32). */
export const MAX_ATTACHMENTS = 32;

/** The sender's profile as sent in messages. */
export interface OwnProfile {
  displayName: string;
  /** Unix seconds of the last change; must increase when the name changes. */
  lastUpdateSeconds: number;
}

/** An attachment pointer to send (see `uploadAttachment`). */
export type OutgoingAttachmentPointer = MessageInitShape<typeof AttachmentPointerSchema>;

function loki(profile: OwnProfile | undefined): MessageInitShape<typeof LokiProfileSchema> | undefined {
  if (profile === undefined || profile.displayName === "") return undefined;
  return { displayName: profile.displayName, lastProfileUpdateSeconds: BigInt(Math.max(0, Math.floor(profile.lastUpdateSeconds))) };
}

function checkRef(target: MessageRef, what: string): { id: bigint; author: string } {
  if (!Number.isSafeInteger(target.timestamp) || target.timestamp <= 0) throw new SessionError("SESSION_INVALID_ARGUMENT", `${what} timestamp must be a positive integer (ms)`);
  if (!isSessionId(target.author)) throw new SessionError("SESSION_INVALID_ARGUMENT", `${what} author must be a Session ID`);
  return { id: BigInt(target.timestamp), author: target.author.toLowerCase() };
}

/** Length of `text` in code points. */
export function textLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** A visible message: text and/or attachments, optionally quoting another message. */
export function buildVisibleMessage(
  t: number,
  input: { text?: string; attachments?: OutgoingAttachmentPointer[]; quote?: MessageRef; profile?: OwnProfile },
): Content {
  const text = input.text ?? "";
  const length = textLength(text);
  if (length > MAX_TEXT_LENGTH) {
    throw new SessionError("SESSION_TEXT_TOO_LONG", `a message is at most ${MAX_TEXT_LENGTH} characters`, { details: { limit: MAX_TEXT_LENGTH, actual: length } });
  }
  const attachments = input.attachments ?? [];
  if (attachments.length > MAX_ATTACHMENTS) {
    throw new SessionError("SESSION_INVALID_ARGUMENT", `a message carries at most ${MAX_ATTACHMENTS} attachments`, { details: { limit: MAX_ATTACHMENTS, actual: attachments.length } });
  }
  if (text.trim() === "" && attachments.length === 0) throw new SessionError("SESSION_INVALID_ARGUMENT", "a message needs text or an attachment");
  return create(ContentSchema, {
    dataMessage: {
      body: text,
      attachments,
      quote: input.quote === undefined ? undefined : checkRef(input.quote, "quote"),
      profile: loki(input.profile),
    },
    sigTimestamp: BigInt(t),
  });
}

/** An emoji reaction to `target` (add or remove). */
export function buildReaction(t: number, target: MessageRef, emoji: string, action: "add" | "remove", profile?: OwnProfile): Content {
  if (emoji === "" || textLength(emoji) > 16) throw new SessionError("SESSION_INVALID_ARGUMENT", "a reaction is one emoji");
  return create(ContentSchema, {
    dataMessage: {
      reaction: { ...checkRef(target, "reaction"), emoji, action: action === "remove" ? DataMessage_Reaction_Action.REMOVE : DataMessage_Reaction_Action.REACT },
      profile: loki(profile),
    },
    sigTimestamp: BigInt(t),
  });
}

/** Read receipt for the messages sent at `timestamps`. */
export function buildReadReceipt(t: number, timestamps: number[]): Content {
  if (timestamps.length === 0 || timestamps.length > 1000 || !timestamps.every((x) => Number.isSafeInteger(x) && x > 0)) {
    throw new SessionError("SESSION_INVALID_ARGUMENT", "a read receipt lists 1..1000 positive timestamps (ms)");
  }
  return create(ContentSchema, { receiptMessage: { type: ReceiptMessage_Type.READ, timestamp: timestamps.map((x) => BigInt(x)) }, sigTimestamp: BigInt(t) });
}

/** Typing started (true) or stopped (false); its timestamp equals T. */
export function buildTyping(t: number, typing: boolean): Content {
  return create(ContentSchema, {
    typingMessage: { timestamp: BigInt(t), action: typing ? TypingMessage_Action.STARTED : TypingMessage_Action.STOPPED },
    sigTimestamp: BigInt(t),
  });
}

/** Accepts a conversation (message request), with the sender's profile. */
export function buildMessageRequestResponse(t: number, profile?: OwnProfile): Content {
  return create(ContentSchema, { messageRequestResponse: { isApproved: true, profile: loki(profile) }, sigTimestamp: BigInt(t) });
}

/** Deletes `target` for everyone. */
export function buildUnsend(t: number, target: MessageRef): Content {
  const r = checkRef(target, "unsend");
  return create(ContentSchema, { unsendRequest: { timestamp: r.id, author: r.author }, sigTimestamp: BigInt(t) });
}
