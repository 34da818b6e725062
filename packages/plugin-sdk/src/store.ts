/**
 * The plugin's own key/value store. In plugin-host it is the NATS KV bucket `sb_state_<plugin>`;
 * in the test harness it is in memory. Values are JSON.
 */
import { PluginError } from "./errors.js";

/** Largest JSON value a plugin may store under one key (bytes of UTF-8 JSON). */
export const MAX_STORE_VALUE_BYTES = 64 * 1024;
/** Longest key (after conversation scoping). */
export const MAX_STORE_KEY_LENGTH = 512;

/** A JSON value as stored. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The plugin-facing store. */
export interface PluginStore {
  /** The value under `key`, or undefined. */
  get<T = JsonValue>(key: string): Promise<T | undefined>;
  /** Stores `value` (JSON) under `key`. */
  set(key: string, value: unknown): Promise<void>;
  /** Removes `key` (no error when absent). */
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` (default: all keys of this store), sorted. */
  keys(prefix?: string): Promise<string[]>;
  /** A view of this store whose keys live under one conversation (`c.<conversation>.<key>`). */
  conversation(conversationId: string): PluginStore;
}

/** Raw bytes storage a {@link PluginStore} is built on (implemented by plugin-host over NATS KV). */
export interface StoreBackend {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key starting with `prefix`. */
  keys(prefix: string): Promise<string[]>;
}

// NATS KV key rules: tokens of [-/_=a-zA-Z0-9] separated by single dots. Keys starting with "_"
// are reserved for the host (leases of scheduled tasks).
const KEY_RE = /^[A-Za-z0-9=/-][-/_=A-Za-z0-9]*(\.[-/_=A-Za-z0-9]+)*$/;
const SAFE_TOKEN_RE = /^[A-Za-z0-9_-]{1,200}$/;

/** Throws PLUGIN_INVALID_KEY unless `key` is a valid store key. */
export function assertStoreKey(key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_STORE_KEY_LENGTH || !KEY_RE.test(key)) {
    throw new PluginError(
      "PLUGIN_INVALID_KEY",
      `invalid store key ${JSON.stringify(String(key).slice(0, 64))}: use letters, digits, '-', '_', '=', '/', and '.' between tokens; no leading '_'`,
    );
  }
}

/** The key token for a conversation id: itself when safe, else `b64-` + base64url. */
export function conversationToken(conversationId: string): string {
  if (SAFE_TOKEN_RE.test(conversationId)) return conversationId;
  return `b64-${Buffer.from(conversationId, "utf8").toString("base64url")}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds the plugin-facing store over raw bytes storage. */
export function createStore(backend: StoreBackend, prefix = ""): PluginStore {
  const full = (key: string): string => {
    assertStoreKey(key);
    const k = prefix + key;
    if (k.length > MAX_STORE_KEY_LENGTH) throw new PluginError("PLUGIN_INVALID_KEY", `store key longer than ${MAX_STORE_KEY_LENGTH}`);
    return k;
  };
  return {
    async get<T>(key: string): Promise<T | undefined> {
      const bytes = await backend.get(full(key));
      if (bytes === undefined) return undefined;
      try {
        return JSON.parse(decoder.decode(bytes)) as T;
      } catch (cause) {
        throw new PluginError("PLUGIN_INVALID_VALUE", `stored value of ${key} is not JSON`, { cause });
      }
    },
    async set(key: string, value: unknown): Promise<void> {
      const k = full(key);
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (cause) {
        throw new PluginError("PLUGIN_INVALID_VALUE", `value for ${key} is not serialisable to JSON`, { cause });
      }
      if (json === undefined) throw new PluginError("PLUGIN_INVALID_VALUE", `value for ${key} is not serialisable to JSON`);
      const bytes = encoder.encode(json);
      if (bytes.byteLength > MAX_STORE_VALUE_BYTES) {
        throw new PluginError("PLUGIN_INVALID_VALUE", `value for ${key} is ${bytes.byteLength} bytes, over ${MAX_STORE_VALUE_BYTES}`);
      }
      await backend.put(k, bytes);
    },
    async delete(key: string): Promise<void> {
      await backend.delete(full(key));
    },
    async keys(keyPrefix = ""): Promise<string[]> {
      const all = await backend.keys(prefix + keyPrefix);
      return all
        .filter((k) => k.startsWith(prefix + keyPrefix) && !k.startsWith("_"))
        .map((k) => k.slice(prefix.length))
        .sort();
    },
    conversation(conversationId: string): PluginStore {
      return createStore(backend, `${prefix}c.${conversationToken(conversationId)}.`);
    },
  };
}

/** An in-memory {@link StoreBackend} (the harness's store; also handy in plugin unit tests). */
export class MemoryStoreBackend implements StoreBackend {
  readonly data = new Map<string, Uint8Array>();

  get(key: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.data.get(key));
  }
  put(key: string, value: Uint8Array): Promise<void> {
    this.data.set(key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.data.delete(key);
    return Promise.resolve();
  }
  keys(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.data.keys()].filter((k) => k.startsWith(prefix)));
  }
}
