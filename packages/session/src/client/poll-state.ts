/**
 * Persistent poll state of one account and namespace: the cursor (last hash per snode) and the
 * hashes already delivered (deduplication until they expire). Only {@link PollState.commit}
 * changes it, so a caller decides when the cursor moves.
 */
import { getJson, setJson, type Storage } from "../storage/storage.js";

/** Where polling stands: the last hash seen from each snode, and the snode polled last. */
export interface PollCursor {
  /** Snode Ed25519 key (hex) -> last message hash retrieved from it. */
  lastHashes: Record<string, string>;
  /** Snode polled last (polling sticks to it while it is healthy). */
  snode?: string;
}

interface SeenFile {
  /** hash -> expiration (ms). */
  h: Record<string, number>;
}

export class PollState {
  readonly #storage: Storage;
  readonly #cursorKey: string;
  readonly #seenKey: string;
  readonly #maxSeen: number;
  #cursor: PollCursor | undefined;
  #seen: Map<string, number> | undefined;

  constructor(storage: Storage, prefix: string, maxSeen: number) {
    this.#storage = storage;
    this.#cursorKey = `${prefix}cursor`;
    this.#seenKey = `${prefix}seen`;
    this.#maxSeen = maxSeen;
  }

  /** The committed cursor (a copy). */
  async cursor(): Promise<PollCursor> {
    if (this.#cursor === undefined) {
      const stored = await getJson<PollCursor>(this.#storage, this.#cursorKey);
      const lastHashes: Record<string, string> = {};
      if (stored !== undefined && typeof stored.lastHashes === "object" && stored.lastHashes !== null) {
        for (const [k, v] of Object.entries(stored.lastHashes)) if (typeof v === "string") lastHashes[k] = v;
      }
      this.#cursor = typeof stored?.snode === "string" ? { lastHashes, snode: stored.snode } : { lastHashes };
    }
    return structuredClone(this.#cursor);
  }

  /** True when `hash` was already committed (and has not expired). */
  async seen(hash: string): Promise<boolean> {
    return (await this.#seenMap()).has(hash);
  }

  async #seenMap(): Promise<Map<string, number>> {
    if (this.#seen === undefined) {
      const stored = await getJson<SeenFile>(this.#storage, this.#seenKey);
      this.#seen = new Map(stored !== undefined && typeof stored.h === "object" && stored.h !== null ? Object.entries(stored.h).filter(([, v]) => typeof v === "number") : []);
    }
    return this.#seen;
  }

  /**
   * Advances the cursor and records `hashes` (with their expiration, ms) as delivered; prunes
   * hashes that expired before `now` and keeps at most `maxSeen` of the newest.
   */
  async commit(cursor: PollCursor, hashes: { hash: string; expiration: number }[], now: number): Promise<void> {
    const seen = await this.#seenMap();
    if (hashes.length > 0) {
      for (const { hash, expiration } of hashes) seen.set(hash, expiration > 0 ? expiration : now + 14 * 86_400_000);
      for (const [hash, expiration] of seen) if (expiration <= now) seen.delete(hash);
      if (seen.size > this.#maxSeen) {
        const keep = [...seen.entries()].sort((a, b) => b[1] - a[1]).slice(0, this.#maxSeen);
        seen.clear();
        for (const [h, e] of keep) seen.set(h, e);
      }
      await setJson(this.#storage, this.#seenKey, { h: Object.fromEntries(seen) } satisfies SeenFile);
    }
    const next: PollCursor = structuredClone(cursor);
    if (JSON.stringify(next) !== JSON.stringify(this.#cursor)) {
      await setJson(this.#storage, this.#cursorKey, next);
      this.#cursor = next;
    }
  }
}
