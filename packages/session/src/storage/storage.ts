/**
 * Key/value persistence for poll cursors, seen hashes, the swarm cache and the profile.
 * Values are strings (JSON); implementations must be safe for concurrent calls.
 */
export interface Storage {
  /** The value of `key`, or undefined. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key`, replacing any previous value. */
  set(key: string, value: string): Promise<void>;
  /** Removes `key` (no error when absent). */
  delete(key: string): Promise<void>;
}

/** The default {@link Storage}: a Map in memory (lost on restart). */
export class MemoryStorage implements Storage {
  readonly #map = new Map<string, string>();

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#map.get(key));
  }

  set(key: string, value: string): Promise<void> {
    this.#map.set(key, value);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#map.delete(key);
    return Promise.resolve();
  }

  /** Number of keys (for tests and diagnostics). */
  get size(): number {
    return this.#map.size;
  }
}

/** Reads a JSON value; a missing or unparsable value gives undefined. */
export async function getJson<T>(storage: Storage, key: string): Promise<T | undefined> {
  const raw = await storage.get(key);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return undefined;
  }
}

/** Writes a JSON value. */
export function setJson(storage: Storage, key: string, value: unknown): Promise<void> {
  return storage.set(key, JSON.stringify(value));
}
