/**
 * A {@link Network} inside one process: one shared "swarm" per pubkey, real message hashes,
 * TTLs and `last_hash` semantics, and an in-memory file server. For tests and demos of code built
 * on the client (e.g. the broker) without a devnet; it does no cryptographic checks of requests.
 */
import { randomInt } from "node:crypto";
import { SessionError } from "../errors.js";
import { loadSodium } from "../crypto/sodium.js";
import { messageHash } from "./message-hash.js";
import type { Network, RetrieveRequest, RetrieveResult, StoreRequest, StoreResult, UploadedFile } from "./network.js";

interface StoredEntry {
  hash: string;
  timestamp: number;
  expiration: number;
  data: Uint8Array;
}

/** Options of {@link MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** Base URL used in file URLs (default `http://files.memory.invalid`). */
  fileServerUrl?: string;
  /** Messages returned per retrieve before `more` is set (default 100). */
  pageSize?: number;
}

/** A shared in-memory network: create one and give it to several clients. */
export class MemoryNetwork implements Network {
  static readonly SNODE = "00".repeat(32);
  readonly #messages = new Map<string, StoredEntry[]>();
  readonly #files = new Map<string, Uint8Array>();
  readonly #now: () => number;
  readonly #fileServerUrl: string;
  readonly #pageSize: number;

  constructor(options: MemoryNetworkOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#fileServerUrl = options.fileServerUrl ?? "http://files.memory.invalid";
    this.#pageSize = options.pageSize ?? 100;
  }

  now(): number {
    return this.#now();
  }

  async store(request: StoreRequest): Promise<StoreResult> {
    await loadSodium();
    if (request.data.length > 76_800) throw new SessionError("SESSION_PAYLOAD_TOO_LARGE", "a stored message is at most 76,800 bytes");
    const key = `${request.pubkey}:${request.namespace}`;
    const list = this.#messages.get(key) ?? [];
    const hash = messageHash(request.pubkey, request.namespace, request.data);
    const now = this.#now();
    const existing = list.find((e) => e.hash === hash);
    if (existing !== undefined) existing.expiration = Math.max(existing.expiration, now + request.ttlMs);
    else list.push({ hash, timestamp: now, expiration: now + request.ttlMs, data: request.data.slice() });
    this.#messages.set(key, list);
    return { hash, snode: MemoryNetwork.SNODE };
  }

  retrieve(request: RetrieveRequest): Promise<RetrieveResult> {
    const now = this.#now();
    const list = (this.#messages.get(`${request.pubkey}:${request.namespace}`) ?? []).filter((e) => e.expiration > now);
    const last = request.lastHashes[MemoryNetwork.SNODE];
    const index = last === undefined ? -1 : list.findIndex((e) => e.hash === last);
    const rest = list.slice(index + 1);
    const page = rest.slice(0, this.#pageSize);
    return Promise.resolve({
      snode: MemoryNetwork.SNODE,
      messages: page.map((e) => ({ hash: e.hash, timestamp: e.timestamp, expiration: e.expiration, data: e.data.slice() })),
      more: rest.length > page.length,
    });
  }

  uploadFile(data: Uint8Array): Promise<UploadedFile> {
    const id = String(randomInt(1, 2 ** 47));
    this.#files.set(id, data.slice());
    return Promise.resolve({ id, url: `${this.#fileServerUrl}/file/${id}` });
  }

  downloadFile(url: string, options: { maxBytes?: number } = {}): Promise<Uint8Array> {
    const prefix = `${this.#fileServerUrl}/file/`;
    if (!url.startsWith(prefix)) return Promise.reject(new SessionError("SESSION_ATTACHMENT_URL_NOT_ALLOWED", "not a file of this network"));
    const file = this.#files.get(url.slice(prefix.length).replace(/#.*$/, ""));
    if (file === undefined) return Promise.reject(new SessionError("SESSION_FILE_SERVER", "file not found", { details: { status: 404 } }));
    if (options.maxBytes !== undefined && file.length > options.maxBytes) {
      return Promise.reject(new SessionError("SESSION_ATTACHMENT_TOO_LARGE", "file too large", { details: { limit: options.maxBytes } }));
    }
    return Promise.resolve(file.slice());
  }

  /** Raw stored payloads of a pubkey (tests: inject duplicates or garbage). */
  inject(pubkey: string, data: Uint8Array, ttlMs = 60_000): Promise<StoreResult> {
    return this.store({ pubkey, namespace: 0, data, ttlMs });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
