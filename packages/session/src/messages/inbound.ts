/**
 * Stored bytes -> authenticated, classified {@link SessionEvent} (docs/session-protocol.md
 * 2.3, 2.4, 3, 7.10). Every failure is a typed {@link SessionError}; nothing here throws anything else.
 */
import { isFieldSet } from "@bufbuild/protobuf";
import { SessionError, isSessionError } from "../errors.js";
import { toBase64 } from "../encoding.js";
import { decryptForRecipient } from "../crypto/message-crypto.js";
import type { Identity } from "../identity/identity.js";
import { isSessionId } from "../identity/session-id.js";
import {
  ContentSchema,
  Content_ExpirationType,
  DataExtractionNotification_Type,
  DataMessageSchema,
  DataMessage_Reaction_Action,
  ReceiptMessage_Type,
  TypingMessage_Action,
  type AttachmentPointer,
  type Content,
  type LokiProfile,
} from "../gen/signalservice_pb.js";
import { decodeContent, unwrapEnvelope } from "../proto/wire.js";
import type { AttachmentInfo, EventBase, ExpirationMode, MessageRef, Profile, SessionEvent } from "./events.js";

/** The outcome for one stored message. */
export type Classified =
  | { status: "event"; event: SessionEvent }
  | { status: "ignored"; reason: string; sender?: string; timestamp?: number }
  | { status: "error"; error: SessionError };

/** Storage metadata of a retrieved message. */
export interface StoredMeta {
  hash: string;
  expiration: number;
}

const DATA_FLAG_EXPIRATION_TIMER_UPDATE = 2;

function malformed(message: string): SessionError {
  return new SessionError("SESSION_MALFORMED", message);
}

function toNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${what} out of range`);
  return Number(value);
}

function ref(id: bigint, author: string, what: string): MessageRef {
  if (!isSessionId(author)) throw malformed(`${what} author is not a Session ID`);
  return { timestamp: toNumber(id, `${what} timestamp`), author: author.toLowerCase() };
}

function profileOf(p: LokiProfile | undefined): Profile | undefined {
  if (p === undefined) return undefined;
  const out: Profile = {};
  if (p.displayName !== "") out.displayName = p.displayName;
  if (p.profilePicture !== "") out.profilePictureUrl = p.profilePicture;
  if (p.lastProfileUpdateSeconds !== 0n) out.lastUpdateSeconds = Number(p.lastProfileUpdateSeconds);
  return out;
}

function expirationModeOf(content: Content): ExpirationMode {
  switch (content.expirationType) {
    case Content_ExpirationType.DELETE_AFTER_READ:
      return "deleteAfterRead";
    case Content_ExpirationType.DELETE_AFTER_SEND:
      return "deleteAfterSend";
    default:
      return content.expirationTimer > 0 ? "deleteAfterSend" : "off";
  }
}

/** The attachment described by a pointer, or an error when it cannot be downloaded. */
export function attachmentInfoOf(p: AttachmentPointer): AttachmentInfo {
  if (p.url === "") throw malformed("attachment has no url");
  let fragment = "";
  let id = "";
  try {
    const u = new URL(p.url);
    fragment = u.hash.replace(/^#/, "");
    id = /\/file\/([A-Za-z0-9_-]+)$/.exec(u.pathname)?.[1] ?? "";
  } catch (cause) {
    throw new SessionError("SESSION_MALFORMED", "attachment url is not a URL", { cause });
  }
  const deterministic = new URLSearchParams(fragment).has("d");
  if (p.key.length !== (deterministic ? 32 : 64)) throw malformed(`attachment key is ${p.key.length} bytes`);
  const info: AttachmentInfo = {
    url: p.url,
    id,
    size: p.size,
    keyBase64: toBase64(p.key),
    voiceMessage: (p.flags & 1) === 1,
    deterministic,
  };
  if (p.contentType !== "") info.contentType = p.contentType;
  if (p.digest.length > 0) info.digestBase64 = toBase64(p.digest);
  if (p.fileName !== "") info.fileName = p.fileName;
  if (p.width > 0) info.width = p.width;
  if (p.height > 0) info.height = p.height;
  if (p.caption !== "") info.caption = p.caption;
  return info;
}

/**
 * Decrypts, verifies and classifies one stored message addressed to `self`.
 * Own sync copies, calls and messages from ourselves are `ignored`; anything undecryptable,
 * malformed or of an unknown kind is an `error` (never a throw).
 */
export function classifyStoredMessage(self: Identity, meta: StoredMeta, data: Uint8Array | null): Classified {
  try {
    if (data === null) throw malformed("stored data is not base64");
    const envelope = unwrapEnvelope(data);
    const opened = decryptForRecipient(self, envelope.sealed);
    const content = decodeContent(opened.content);
    const base: EventBase = { hash: meta.hash, sender: opened.senderSessionId, timestamp: envelope.timestamp, expiration: meta.expiration };
    // 2025+ rule: a non-zero sigTimestamp must equal the envelope timestamp.
    if (isFieldSet(content, ContentSchema.field.sigTimestamp) && content.sigTimestamp !== 0n && content.sigTimestamp !== BigInt(envelope.timestamp)) {
      throw new SessionError("SESSION_BAD_SIGNATURE", "sigTimestamp differs from the envelope timestamp");
    }
    const dm = content.dataMessage;
    if (dm?.syncTarget !== undefined && dm.syncTarget !== "") {
      return { status: "ignored", reason: opened.senderSessionId === self.sessionId ? "own sync copy" : "sync message from another account", sender: base.sender, timestamp: base.timestamp };
    }
    if (opened.senderSessionId === self.sessionId) return { status: "ignored", reason: "message from ourselves", sender: base.sender, timestamp: base.timestamp };
    return classifyContent(content, base);
  } catch (err) {
    if (isSessionError(err)) return { status: "error", error: err };
    return { status: "error", error: new SessionError("SESSION_MALFORMED", "message could not be decoded", { cause: err }) };
  }
}

function classifyContent(content: Content, base: EventBase): Classified {
  const dm = content.dataMessage;
  if (dm !== undefined) {
    if (dm.reaction !== undefined) {
      const r = dm.reaction;
      const event: SessionEvent = {
        ...base,
        kind: "reaction",
        target: ref(r.id, r.author, "reaction"),
        emoji: r.emoji,
        action: r.action === DataMessage_Reaction_Action.REMOVE ? "remove" : "add",
      };
      const profile = profileOf(dm.profile);
      if (profile !== undefined) event.profile = profile;
      return { status: "event", event };
    }
    if ((dm.flags & DATA_FLAG_EXPIRATION_TIMER_UPDATE) !== 0) {
      return { status: "event", event: { ...base, kind: "expirationTimerUpdate", expirationMode: expirationModeOf(content), expirationTimerSeconds: content.expirationTimer } };
    }
    const hasVisible = dm.body !== "" || dm.attachments.length > 0 || dm.quote !== undefined || dm.communityInvitation !== undefined;
    if (hasVisible) {
      const event: SessionEvent = {
        ...base,
        kind: "message",
        text: dm.body,
        attachments: dm.attachments.map(attachmentInfoOf),
        expirationMode: expirationModeOf(content),
        expirationTimerSeconds: content.expirationTimer,
      };
      if (dm.quote !== undefined) event.quote = ref(dm.quote.id, dm.quote.author, "quote");
      const profile = profileOf(dm.profile);
      if (profile !== undefined) event.profile = profile;
      if (dm.communityInvitation !== undefined) event.communityInvitation = { url: dm.communityInvitation.url, name: dm.communityInvitation.name };
      return { status: "event", event };
    }
    if (isFieldSet(dm, DataMessageSchema.field.profile) && dm.$unknown === undefined) {
      return { status: "ignored", reason: "profile-only data message", sender: base.sender, timestamp: base.timestamp };
    }
    throw new SessionError("SESSION_UNSUPPORTED", "data message of an unsupported kind (e.g. a group update)");
  }
  if (content.receiptMessage !== undefined) {
    if (content.receiptMessage.type !== ReceiptMessage_Type.READ) throw new SessionError("SESSION_UNSUPPORTED", "receipt of an unknown type");
    return { status: "event", event: { ...base, kind: "readReceipt", timestamps: content.receiptMessage.timestamp.map((t) => toNumber(t, "receipt timestamp")) } };
  }
  if (content.typingMessage !== undefined) {
    if (content.typingMessage.timestamp !== BigInt(base.timestamp)) throw malformed("typing timestamp differs from the envelope timestamp");
    return { status: "event", event: { ...base, kind: "typing", typing: content.typingMessage.action === TypingMessage_Action.STARTED } };
  }
  if (content.messageRequestResponse !== undefined) {
    const mrr = content.messageRequestResponse;
    const event: SessionEvent = { ...base, kind: "messageRequestResponse", approved: mrr.isApproved };
    const profile = profileOf(mrr.profile);
    if (profile !== undefined) event.profile = profile;
    return { status: "event", event };
  }
  if (content.unsendRequest !== undefined) {
    return { status: "event", event: { ...base, kind: "unsend", target: ref(content.unsendRequest.timestamp, content.unsendRequest.author, "unsend") } };
  }
  if (content.dataExtractionNotification !== undefined) {
    const n = content.dataExtractionNotification;
    const event: SessionEvent = { ...base, kind: "dataExtraction", type: n.type === DataExtractionNotification_Type.MEDIA_SAVED ? "mediaSaved" : "screenshot" };
    if (n.timestamp !== 0n) event.targetTimestamp = toNumber(n.timestamp, "data extraction timestamp");
    return { status: "event", event };
  }
  if (content.callMessage !== undefined) return { status: "ignored", reason: "call message", sender: base.sender, timestamp: base.timestamp };
  throw new SessionError("SESSION_UNSUPPORTED", "content of an unknown kind");
}
