// Public API of @session-bot/session. See README.md.
export { SessionError, isSessionError, SESSION_ERROR_CODES } from "./errors.js";
export type { SessionErrorCode, SessionErrorDetails } from "./errors.js";

export { Identity } from "./identity/identity.js";
export type { PublicKeys } from "./identity/identity.js";
export { encodeMnemonic, decodeMnemonic, decodeMnemonicHex, normaliseMnemonic, MNEMONIC_WORD_COUNT } from "./identity/mnemonic.js";
export { isSessionId, sessionIdToX25519, x25519ToSessionId, normaliseSessionId } from "./identity/session-id.js";

export { loadSodium } from "./crypto/sodium.js";
export { padMessage, unpadMessage } from "./crypto/padding.js";
export { encryptForRecipient, decryptForRecipient } from "./crypto/message-crypto.js";
export type { DecryptedMessage } from "./crypto/message-crypto.js";
export { wrapEnvelope, unwrapEnvelope, encodeContent, decodeContent } from "./proto/wire.js";
export type { UnwrappedEnvelope, WrapOptions } from "./proto/wire.js";

export type {
  Network,
  RequestSigner,
  StoreRequest,
  StoreResult,
  RetrieveRequest,
  RetrieveResult,
  RetrievedMessage,
  UploadedFile,
} from "./network/network.js";
export { StorageRpcNetwork, DEFAULT_FILE_SERVER_URL, MAX_FILE_BYTES, parseSwarm } from "./network/storage-rpc-network.js";
export type { StorageRpcNetworkOptions, RetryOptions, Snode } from "./network/storage-rpc-network.js";
export type { TlsTrust } from "./network/http.js";
export { NetworkClock } from "./network/clock.js";
export { MemoryNetwork } from "./network/memory-network.js";
export type { MemoryNetworkOptions } from "./network/memory-network.js";
export { messageHash } from "./network/message-hash.js";

export { MemoryStorage } from "./storage/storage.js";
export type { Storage } from "./storage/storage.js";
export type { Logger } from "./logger.js";

export { classifyStoredMessage, attachmentInfoOf } from "./messages/inbound.js";
export type { Classified, StoredMeta } from "./messages/inbound.js";
export { MAX_TEXT_LENGTH, MAX_ATTACHMENTS } from "./messages/outgoing.js";
export type {
  SessionEvent,
  SessionEventKind,
  EventBase,
  MessageEvent,
  ReactionEvent,
  ReadReceiptEvent,
  TypingEvent,
  MessageRequestResponseEvent,
  UnsendEvent,
  ExpirationTimerUpdateEvent,
  DataExtractionEvent,
  AttachmentInfo,
  MessageRef,
  Profile,
  ExpirationMode,
} from "./messages/events.js";

export {
  encryptAttachment,
  decryptAttachmentLegacy,
  decryptAttachmentDeterministic,
  paddedAttachmentSize,
  MAX_ATTACHMENT_BYTES,
} from "./attachments/attachment-crypto.js";
export type { EncryptedAttachment } from "./attachments/attachment-crypto.js";

export { SessionClient, MESSAGE_TTL_MS, TYPING_TTL_MS, MAX_DISPLAY_NAME_LENGTH } from "./client/session-client.js";
export type {
  SessionClientOptions,
  SendResult,
  PollBatch,
  PolledItem,
  InboundErrorEvent,
  ClientStats,
  SessionClientEventMap,
  AttachmentMetadata,
} from "./client/session-client.js";
export type { PollCursor } from "./client/poll-state.js";
