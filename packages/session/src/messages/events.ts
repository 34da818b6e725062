/**
 * Inbound events: what a decrypted, verified and classified 1:1 message means
 * (docs/session-protocol.md 7.10). Every field is JSON-serialisable (bytes as base64) so events
 * can be published as they are.
 */

/** A sender's self-declared profile (untrusted text). */
export interface Profile {
  displayName?: string;
  /** Avatar URL (encrypted with the profile key, which is not decoded here). */
  profilePictureUrl?: string;
  /** Unix seconds of the sender's last profile change (orders updates). */
  lastUpdateSeconds?: number;
}

/** Identifies a message: its sent timestamp T (ms) and its author's Session ID. */
export interface MessageRef {
  timestamp: number;
  author: string;
}

/** An attachment as announced in a message (download it with `client.downloadAttachment`). */
export interface AttachmentInfo {
  /** Download URL (with its `#` fragment, which says the scheme). */
  url: string;
  /** File-server id (numeric string, 44-char id, or "" when the URL has none). */
  id: string;
  contentType?: string;
  /** Plaintext size in bytes. */
  size: number;
  /** Decryption key, base64 (64 bytes legacy, 32 bytes deterministic). */
  keyBase64: string;
  /** SHA-256 of the encrypted blob, base64 (legacy scheme). */
  digestBase64?: string;
  fileName?: string;
  width?: number;
  height?: number;
  caption?: string;
  voiceMessage: boolean;
  /** True for the 2025+ deterministic scheme (`#d` in the URL). */
  deterministic: boolean;
}

/** Disappearing-message setting. */
export type ExpirationMode = "off" | "deleteAfterRead" | "deleteAfterSend";

/** Fields common to every inbound event. */
export interface EventBase {
  /** Storage-server hash of the message (unique; use it for deduplication). */
  hash: string;
  /** Authenticated sender Session ID. */
  sender: string;
  /** Sent timestamp T (ms), the message's identity for replies, reactions and receipts. */
  timestamp: number;
  /** When the swarm drops the message (ms). */
  expiration: number;
}

/** A visible message (text and/or attachments, maybe a reply). */
export interface MessageEvent extends EventBase {
  kind: "message";
  text: string;
  attachments: AttachmentInfo[];
  quote?: MessageRef;
  profile?: Profile;
  /** Sender's disappearing setting for this conversation. */
  expirationMode: ExpirationMode;
  expirationTimerSeconds: number;
  communityInvitation?: { url: string; name: string };
}

/** An emoji reaction added to or removed from a message. */
export interface ReactionEvent extends EventBase {
  kind: "reaction";
  target: MessageRef;
  emoji: string;
  action: "add" | "remove";
  profile?: Profile;
}

/** Read receipt for messages we sent (their sent timestamps). */
export interface ReadReceiptEvent extends EventBase {
  kind: "readReceipt";
  timestamps: number[];
}

/** Typing indicator. */
export interface TypingEvent extends EventBase {
  kind: "typing";
  typing: boolean;
}

/** The peer accepted the conversation (message request). */
export interface MessageRequestResponseEvent extends EventBase {
  kind: "messageRequestResponse";
  approved: boolean;
  profile?: Profile;
}

/** The peer deleted one of the conversation's messages for everyone. */
export interface UnsendEvent extends EventBase {
  kind: "unsend";
  target: MessageRef;
}

/** The peer changed the conversation's disappearing-message timer. */
export interface ExpirationTimerUpdateEvent extends EventBase {
  kind: "expirationTimerUpdate";
  expirationMode: ExpirationMode;
  expirationTimerSeconds: number;
}

/** The peer took a screenshot or saved media. */
export interface DataExtractionEvent extends EventBase {
  kind: "dataExtraction";
  type: "screenshot" | "mediaSaved";
  targetTimestamp?: number;
}

/** Every inbound event. */
export type SessionEvent =
  | MessageEvent
  | ReactionEvent
  | ReadReceiptEvent
  | TypingEvent
  | MessageRequestResponseEvent
  | UnsendEvent
  | ExpirationTimerUpdateEvent
  | DataExtractionEvent;

/** The `kind` of a {@link SessionEvent}. */
export type SessionEventKind = SessionEvent["kind"];
