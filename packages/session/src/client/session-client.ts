/**
 * The Session client: one account, an injected {@link Network} and {@link Storage}.
 * Sending: every method builds Content (sigTimestamp = T), pads, signs, seals, wraps and stores it
 * on the recipient's swarm, and returns the hash and T. Receiving: {@link SessionClient.pollOnce}
 * + {@link SessionClient.commit} (the caller moves the cursor), or {@link SessionClient.startPolling}
 * with typed events.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { SessionError, isSessionError } from "../errors.js";
import { fromBase64Strict } from "../encoding.js";
import { Identity } from "../identity/identity.js";
import { normaliseSessionId } from "../identity/session-id.js";
import { encryptForRecipient } from "../crypto/message-crypto.js";
import { loadSodium } from "../crypto/sodium.js";
import { encodeContent, wrapEnvelope } from "../proto/wire.js";
import { childLogger, silentLogger, type Logger } from "../logger.js";
import { MemoryStorage, getJson, setJson, type Storage } from "../storage/storage.js";
import type { Network } from "../network/network.js";
import { classifyStoredMessage, type Classified } from "../messages/inbound.js";
import {
  buildMessageRequestResponse,
  buildReaction,
  buildReadReceipt,
  buildTyping,
  buildUnsend,
  buildVisibleMessage,
  textLength,
  type OutgoingAttachmentPointer,
  type OwnProfile,
} from "../messages/outgoing.js";
import type { Content } from "../gen/signalservice_pb.js";
import type {
  AttachmentInfo,
  DataExtractionEvent,
  ExpirationTimerUpdateEvent,
  MessageEvent,
  MessageRef,
  MessageRequestResponseEvent,
  ReactionEvent,
  ReadReceiptEvent,
  SessionEvent,
  TypingEvent,
  UnsendEvent,
} from "../messages/events.js";
import {
  MAX_ATTACHMENT_BYTES,
  decryptAttachmentDeterministic,
  decryptAttachmentLegacy,
  encryptAttachment,
} from "../attachments/attachment-crypto.js";
import { PollState, type PollCursor } from "./poll-state.js";

/** TTL of ordinary messages (14 days). */
export const MESSAGE_TTL_MS = 14 * 86_400_000;
/** TTL of typing indicators (20 s). */
export const TYPING_TTL_MS = 20_000;
/**
 * Longest display name, in code points: 100, as `@session-bot/protocol` and libsession's
 * contact name field (`CONTACT_MAX_NAME_LENGTH`) have it.
 */
export const MAX_DISPLAY_NAME_LENGTH = 100;

/** Options of {@link SessionClient.create}. */
export interface SessionClientOptions {
  /** The account's 13-word recovery password (or pass `identity`). */
  mnemonic?: string;
  /** An already derived identity (instead of `mnemonic`). */
  identity?: Identity;
  /** How to reach the Session network, e.g. a {@link StorageRpcNetwork}. */
  network: Network;
  /** Poll cursor, seen hashes and profile (default: in memory). */
  storage?: Storage;
  logger?: Logger;
  /** Display name sent with messages; stored, and its `lastUpdateSeconds` bumped when it changes. */
  displayName?: string;
  /** Delay between polls of {@link SessionClient.startPolling} (default 3,000 ms; 0..60 % jitter is added). */
  pollIntervalMs?: number;
  /** Most `retrieve` rounds per {@link SessionClient.pollOnce} while the snode says `more` (default 10). */
  maxRetrieveRounds?: number;
  /** Most delivered hashes remembered for deduplication (default 50,000). */
  maxSeenHashes?: number;
  /** TTL of sent messages (default 14 days). */
  messageTtlMs?: number;
}

/** What a send returns. */
export interface SendResult {
  /** Storage-server hash of the stored message. */
  hash: string;
  /** Sent timestamp T (ms): the message's id for quotes, reactions, receipts and unsend. */
  timestamp: number;
}

/** One retrieved message, after decryption and classification. */
export type PolledItem = { hash: string; expiration: number } & Classified;

/** Result of {@link SessionClient.pollOnce}. */
export interface PollBatch {
  /** New messages in the order the swarm returned them (duplicates already removed). */
  items: PolledItem[];
  /** Cursor after these items; pass the batch to {@link SessionClient.commit} to make it durable. */
  cursor: PollCursor;
  /** Messages skipped because their hash was already committed (or repeated in this batch). */
  duplicates: number;
}

/** An inbound message that could not be used (undecryptable, malformed, unknown). */
export interface InboundErrorEvent {
  hash: string;
  error: SessionError;
}

/** Counters since the client was created. */
export interface ClientStats {
  polls: number;
  pollFailures: number;
  events: number;
  errors: number;
  ignored: number;
  duplicates: number;
  sent: number;
}

/** Event name -> payload of {@link SessionClient.on}. */
export interface SessionClientEventMap {
  message: MessageEvent;
  reaction: ReactionEvent;
  readReceipt: ReadReceiptEvent;
  typing: TypingEvent;
  messageRequestResponse: MessageRequestResponseEvent;
  unsend: UnsendEvent;
  expirationTimerUpdate: ExpirationTimerUpdateEvent;
  dataExtraction: DataExtractionEvent;
  /** Every inbound event, whatever its kind. */
  event: SessionEvent;
  /** An inbound message that could not be decrypted, verified or understood. */
  error: InboundErrorEvent;
  /** A poll that failed (network); polling goes on. */
  pollError: SessionError;
}

type Listener<T> = (payload: T) => void | Promise<void>;

/** Metadata of an attachment to upload. */
export interface AttachmentMetadata {
  contentType?: string;
  fileName?: string;
  width?: number;
  height?: number;
  caption?: string;
  voiceMessage?: boolean;
}

/** A Session account connected to a network. */
export class SessionClient {
  readonly identity: Identity;
  readonly network: Network;
  readonly storage: Storage;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #pollState: PollState;
  readonly #listeners = new Map<keyof SessionClientEventMap, Set<Listener<never>>>();
  readonly #o: { pollIntervalMs: number; maxRetrieveRounds: number; messageTtlMs: number };
  readonly #stats: ClientStats = { polls: 0, pollFailures: 0, events: 0, errors: 0, ignored: 0, duplicates: 0, sent: 0 };
  #profile: OwnProfile | undefined;
  #lastT = 0;
  #pollLoop: Promise<void> | undefined;
  #pollAbort: AbortController | undefined;
  #closed = false;

  private constructor(identity: Identity, options: SessionClientOptions) {
    this.identity = identity;
    this.network = options.network;
    this.storage = options.storage ?? new MemoryStorage();
    this.#log = childLogger(options.logger ?? silentLogger, { component: "session-client", sessionId: identity.sessionId });
    this.#prefix = `session:${identity.sessionId}:`;
    this.#pollState = new PollState(this.storage, `${this.#prefix}poll:0:`, options.maxSeenHashes ?? 50_000);
    this.#o = {
      pollIntervalMs: options.pollIntervalMs ?? 3_000,
      maxRetrieveRounds: options.maxRetrieveRounds ?? 10,
      messageTtlMs: options.messageTtlMs ?? MESSAGE_TTL_MS,
    };
  }

  /**
   * Creates a client for the account of `mnemonic` (or `identity`).
   * @throws SessionError `SESSION_INVALID_MNEMONIC`, `SESSION_INVALID_ARGUMENT`
   */
  static async create(options: SessionClientOptions): Promise<SessionClient> {
    await loadSodium();
    let identity = options.identity;
    if (identity === undefined) {
      if (options.mnemonic === undefined) throw new SessionError("SESSION_INVALID_ARGUMENT", "pass a mnemonic or an identity");
      identity = await Identity.fromMnemonic(options.mnemonic);
    }
    const client = new SessionClient(identity, options);
    const stored = await getJson<OwnProfile>(client.storage, `${client.#prefix}profile`);
    if (stored !== undefined && typeof stored.displayName === "string" && typeof stored.lastUpdateSeconds === "number") client.#profile = stored;
    if (options.displayName !== undefined) await client.setDisplayName(options.displayName);
    return client;
  }

  /** The account's Session ID (`05` + 64 hex). */
  get sessionId(): string {
    return this.identity.sessionId;
  }

  /** The profile sent with messages, if a display name was set. */
  get profile(): Readonly<OwnProfile> | undefined {
    return this.#profile;
  }

  /** Counters since creation. */
  get stats(): Readonly<ClientStats> {
    return { ...this.#stats };
  }

  // ---------------------------------------------------------------- events

  /** Subscribes to an event; returns the unsubscribe function. Async listeners are awaited before the poll cursor moves. */
  on<K extends keyof SessionClientEventMap>(name: K, listener: Listener<SessionClientEventMap[K]>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return () => this.off(name, listener);
  }

  /** Removes a listener added with {@link on}. */
  off<K extends keyof SessionClientEventMap>(name: K, listener: Listener<SessionClientEventMap[K]>): void {
    this.#listeners.get(name)?.delete(listener);
  }

  async #emit<K extends keyof SessionClientEventMap>(name: K, payload: SessionClientEventMap[K]): Promise<void> {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        await (listener as Listener<SessionClientEventMap[K]>)(payload);
      } catch (err) {
        // A failing handler must not stop polling nor lose the other handlers' work.
        this.#log.error({ err, event: name }, "event listener threw");
      }
    }
  }

  // ---------------------------------------------------------------- receiving

  /**
   * Retrieves new messages of namespace 0 from the own swarm, decrypts and classifies them,
   * WITHOUT moving the stored cursor. Items already committed are left out. Call
   * {@link commit} with the batch once the items are safely handled; until then a new
   * `pollOnce` returns them again (at-least-once delivery).
   * @throws SessionError from the network (`SESSION_NETWORK`, `SESSION_TIMEOUT`, `SESSION_NO_SNODES`, ...)
   */
  async pollOnce(options: { signal?: AbortSignal } = {}): Promise<PollBatch> {
    this.#checkOpen();
    const cursor = await this.#pollState.cursor();
    const lastHashes = { ...cursor.lastHashes };
    let snode = cursor.snode;
    const items: PolledItem[] = [];
    const inBatch = new Set<string>();
    let duplicates = 0;
    try {
      for (let round = 0; round < this.#o.maxRetrieveRounds; round++) {
        const res = await this.network.retrieve({
          pubkey: this.sessionId,
          namespace: 0,
          signer: this.identity,
          lastHashes,
          ...(snode === undefined ? {} : { preferredSnode: snode }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        snode = res.snode;
        const now = this.network.now();
        for (const m of res.messages) {
          if (inBatch.has(m.hash) || (await this.#pollState.seen(m.hash))) {
            duplicates++;
            continue;
          }
          inBatch.add(m.hash);
          if (m.expiration > 0 && m.expiration <= now) {
            items.push({ hash: m.hash, expiration: m.expiration, status: "ignored", reason: "expired" });
            continue;
          }
          items.push({ hash: m.hash, expiration: m.expiration, ...classifyStoredMessage(this.identity, { hash: m.hash, expiration: m.expiration }, m.data) });
        }
        const last = res.messages.at(-1);
        if (last !== undefined) lastHashes[res.snode] = last.hash;
        if (!res.more || res.messages.length === 0) break;
      }
    } finally {
      this.#stats.polls++;
    }
    this.#stats.duplicates += duplicates;
    return { items, cursor: snode === undefined ? { lastHashes } : { lastHashes, snode }, duplicates };
  }

  /**
   * Makes a batch durable: stores its cursor and remembers its hashes as delivered. Call it only
   * after every item was handled (e.g. published to a durable queue).
   */
  async commit(batch: Pick<PollBatch, "cursor" | "items">): Promise<void> {
    await this.#pollState.commit(
      batch.cursor,
      batch.items.map((i) => ({ hash: i.hash, expiration: i.expiration })),
      this.network.now(),
    );
  }

  /** Emits the events of a batch (awaiting async listeners) and updates the counters. */
  async dispatch(batch: PollBatch): Promise<void> {
    for (const item of batch.items) {
      if (item.status === "event") {
        this.#stats.events++;
        await this.#emit(item.event.kind, item.event);
        await this.#emit("event", item.event);
      } else if (item.status === "error") {
        this.#stats.errors++;
        this.#log.warn({ hash: item.hash, code: item.error.code }, "inbound message dropped");
        await this.#emit("error", { hash: item.hash, error: item.error });
      } else {
        this.#stats.ignored++;
        this.#log.debug({ hash: item.hash, reason: item.reason }, "inbound message ignored");
      }
    }
  }

  /** One poll with events: {@link pollOnce}, {@link dispatch}, {@link commit}. Returns the batch. */
  async pollAndDispatch(options: { signal?: AbortSignal } = {}): Promise<PollBatch> {
    const batch = await this.pollOnce(options);
    await this.dispatch(batch);
    await this.commit(batch);
    return batch;
  }

  /** True while {@link startPolling} runs. */
  get polling(): boolean {
    return this.#pollLoop !== undefined;
  }

  /**
   * Polls in the background every `pollIntervalMs` (with jitter), emitting events and committing
   * after the listeners finish. Failures are emitted as `pollError` and polling goes on.
   */
  startPolling(): void {
    this.#checkOpen();
    if (this.#pollLoop !== undefined) return;
    const abort = new AbortController();
    this.#pollAbort = abort;
    this.#pollLoop = this.#runPolling(abort.signal);
  }

  async #runPolling(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let delay = this.#o.pollIntervalMs;
      try {
        const batch = await this.pollAndDispatch({ signal });
        failures = 0;
        // A full batch may have more behind it: poll again soon.
        if (batch.items.length + batch.duplicates >= 100) delay = Math.min(delay, 200);
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.#stats.pollFailures++;
        const error = isSessionError(err) ? err : new SessionError("SESSION_NETWORK", "poll failed", { cause: err });
        this.#log.warn({ code: error.code, failures }, "poll failed");
        await this.#emit("pollError", error);
        delay = Math.min(60_000, this.#o.pollIntervalMs * 2 ** Math.min(failures, 5));
      }
      try {
        await sleep(Math.round(delay * (1 + Math.random() * 0.6)), undefined, { signal });
      } catch {
        break;
      }
    }
  }

  /** Stops background polling and waits for the poll in progress (its batch is committed or dropped whole). */
  async stopPolling(): Promise<void> {
    const loop = this.#pollLoop;
    if (loop === undefined) return;
    this.#pollAbort?.abort();
    await loop;
    this.#pollLoop = undefined;
    this.#pollAbort = undefined;
  }

  /** Stops polling and refuses further calls. The injected network is left open (its owner closes it). */
  async close(): Promise<void> {
    await this.stopPolling();
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SessionError("SESSION_CLOSED", "the client is closed");
  }

  // ---------------------------------------------------------------- sending

  #nextTimestamp(): number {
    const t = Math.max(Math.floor(this.network.now()), this.#lastT + 1);
    this.#lastT = t;
    return t;
  }

  async #send(to: string, build: (t: number) => Content, ttlMs: number = this.#o.messageTtlMs): Promise<SendResult> {
    this.#checkOpen();
    const recipient = normaliseSessionId(to);
    const t = this.#nextTimestamp();
    const content = build(t);
    const data = wrapEnvelope(encryptForRecipient(this.identity, recipient, encodeContent(content)), t);
    const { hash } = await this.network.store({ pubkey: recipient, namespace: 0, data, ttlMs });
    this.#stats.sent++;
    return { hash, timestamp: t };
  }

  /**
   * Sends a text message (at most 2,000 code points), optionally replying to `quote`.
   * @throws SessionError `SESSION_TEXT_TOO_LONG`, `SESSION_INVALID_SESSION_ID`, network codes
   */
  sendText(to: string, text: string, options: { quote?: MessageRef } = {}): Promise<SendResult> {
    return this.sendMessage(to, { text, ...(options.quote === undefined ? {} : { quote: options.quote }) });
  }

  /** Sends a visible message with text and/or uploaded attachments (see {@link uploadAttachment}). */
  sendMessage(to: string, message: { text?: string; attachments?: AttachmentInfo[]; quote?: MessageRef }): Promise<SendResult> {
    const attachments = (message.attachments ?? []).map(toPointer);
    return this.#send(to, (t) =>
      buildVisibleMessage(t, {
        text: message.text ?? "",
        attachments,
        ...(message.quote === undefined ? {} : { quote: message.quote }),
        ...(this.#profile === undefined ? {} : { profile: this.#profile }),
      }),
    );
  }

  /** Reacts to `target` (sent timestamp + author) with `emoji`. */
  react(to: string, target: MessageRef, emoji: string): Promise<SendResult> {
    return this.#send(to, (t) => buildReaction(t, target, emoji, "add", this.#profile));
  }

  /** Removes an earlier reaction. */
  removeReaction(to: string, target: MessageRef, emoji: string): Promise<SendResult> {
    return this.#send(to, (t) => buildReaction(t, target, emoji, "remove", this.#profile));
  }

  /** Tells `to` that the messages it sent at `timestamps` were read. */
  sendReadReceipt(to: string, timestamps: number[]): Promise<SendResult> {
    return this.#send(to, (t) => buildReadReceipt(t, timestamps));
  }

  /** Typing indicator on (true) or off (false); stored with a 20 s TTL. */
  sendTyping(to: string, typing: boolean): Promise<SendResult> {
    return this.#send(to, (t) => buildTyping(t, typing), TYPING_TTL_MS);
  }

  /** Accepts the conversation with `to` (answers a message request), with our display name. */
  acceptMessageRequest(to: string): Promise<SendResult> {
    return this.#send(to, (t) => buildMessageRequestResponse(t, this.#profile));
  }

  /** Deletes a message for everyone in the conversation with `to` (default author: us). */
  unsend(to: string, target: { timestamp: number; author?: string }): Promise<SendResult> {
    return this.#send(to, (t) => buildUnsend(t, { timestamp: target.timestamp, author: target.author ?? this.sessionId }));
  }

  /**
   * Sets the display name sent with every message and request response. When it changes,
   * `lastUpdateSeconds` increases (strictly), so peers apply it.
   * @throws SessionError `SESSION_INVALID_ARGUMENT` for an empty or over-long name
   */
  async setDisplayName(name: string): Promise<void> {
    const trimmed = name.trim();
    if (trimmed === "" || textLength(trimmed) > MAX_DISPLAY_NAME_LENGTH) {
      throw new SessionError("SESSION_INVALID_ARGUMENT", `a display name has 1..${MAX_DISPLAY_NAME_LENGTH} characters`);
    }
    if (this.#profile?.displayName === trimmed) return;
    const nowSeconds = Math.floor(this.network.now() / 1000);
    const profile = { displayName: trimmed, lastUpdateSeconds: Math.max(nowSeconds, (this.#profile?.lastUpdateSeconds ?? 0) + 1) };
    await setJson(this.storage, `${this.#prefix}profile`, profile);
    this.#profile = profile;
  }

  // ---------------------------------------------------------------- attachments

  /**
   * Encrypts (legacy AES-CBC + HMAC scheme) and uploads a file; returns what {@link sendMessage}
   * takes in `attachments`.
   * @throws SessionError `SESSION_ATTACHMENT_TOO_LARGE`, `SESSION_FILE_SERVER`, network codes
   */
  async uploadAttachment(data: Uint8Array, metadata: AttachmentMetadata = {}): Promise<AttachmentInfo> {
    this.#checkOpen();
    if (data.length === 0) throw new SessionError("SESSION_INVALID_ARGUMENT", "an attachment cannot be empty");
    const enc = encryptAttachment(data);
    const file = await this.network.uploadFile(enc.blob);
    const info: AttachmentInfo = {
      url: file.url,
      id: file.id,
      size: enc.size,
      keyBase64: Buffer.from(enc.key).toString("base64"),
      digestBase64: Buffer.from(enc.digest).toString("base64"),
      voiceMessage: metadata.voiceMessage === true,
      deterministic: false,
    };
    if (metadata.contentType !== undefined) info.contentType = metadata.contentType;
    if (metadata.fileName !== undefined) info.fileName = metadata.fileName;
    if (metadata.width !== undefined) info.width = metadata.width;
    if (metadata.height !== undefined) info.height = metadata.height;
    if (metadata.caption !== undefined) info.caption = metadata.caption;
    return info;
  }

  /**
   * Downloads and decrypts an attachment of an inbound message (either scheme); checks the
   * digest (legacy) or the stream authentication (deterministic), and the size limit.
   * @throws SessionError `SESSION_ATTACHMENT_TOO_LARGE`, `SESSION_ATTACHMENT_URL_NOT_ALLOWED`,
   * `SESSION_ATTACHMENT_DIGEST_MISMATCH`, `SESSION_DECRYPT_FAILED`, `SESSION_FILE_SERVER`
   */
  async downloadAttachment(attachment: AttachmentInfo, options: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Uint8Array> {
    this.#checkOpen();
    const max = Math.min(options.maxBytes ?? MAX_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES);
    if (attachment.size > max) {
      throw new SessionError("SESSION_ATTACHMENT_TOO_LARGE", `attachment of ${attachment.size} bytes exceeds ${max}`, { details: { limit: max, actual: attachment.size } });
    }
    const key = fromBase64Strict(attachment.keyBase64);
    if (key === null) throw new SessionError("SESSION_MALFORMED", "attachment key is not base64");
    // Encrypted blobs are a little larger than the plaintext (padding, IV, MAC, stream tags).
    const blob = await this.network.downloadFile(attachment.url, {
      maxBytes: Math.ceil(max * 1.06) + 4096,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (attachment.deterministic) return decryptAttachmentDeterministic(blob, key, attachment.size);
    const digest = attachment.digestBase64 === undefined ? undefined : (fromBase64Strict(attachment.digestBase64) ?? undefined);
    return decryptAttachmentLegacy(blob, key, digest, attachment.size);
  }
}

function toPointer(a: AttachmentInfo): OutgoingAttachmentPointer {
  const key = fromBase64Strict(a.keyBase64);
  if (key === null || (key.length !== 64 && key.length !== 32)) throw new SessionError("SESSION_INVALID_ARGUMENT", "attachment key must be 32 or 64 bytes of base64");
  const digest = a.digestBase64 === undefined ? undefined : fromBase64Strict(a.digestBase64);
  const pointer: OutgoingAttachmentPointer = {
    deprecatedId: /^\d{1,19}$/.test(a.id) && BigInt(a.id) < 2n ** 64n ? BigInt(a.id) : 0n,
    url: a.url,
    key,
    size: a.size,
    flags: a.voiceMessage ? 1 : 0,
  };
  if (digest !== undefined && digest !== null) pointer.digest = digest;
  if (a.contentType !== undefined) pointer.contentType = a.contentType;
  if (a.fileName !== undefined) pointer.fileName = a.fileName;
  if (a.width !== undefined) pointer.width = a.width;
  if (a.height !== undefined) pointer.height = a.height;
  if (a.caption !== undefined) pointer.caption = a.caption;
  return pointer;
}
