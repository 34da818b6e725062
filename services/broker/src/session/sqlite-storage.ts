// The Session client's Storage over the broker's SQLite database (table session_kv).
import type { Storage } from "@session-bot/session";
import type { BrokerStore } from "../db/store.js";

const NAMESPACE = "session";

/** A durable {@link Storage}: poll cursor, delivered hashes, profile and swarm cache survive restarts. */
export class SqliteStorage implements Storage {
  readonly #store: BrokerStore;
  constructor(store: BrokerStore) {
    this.#store = store;
  }
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#store.kvGet(NAMESPACE, key));
  }
  set(key: string, value: string): Promise<void> {
    this.#store.kvSet(NAMESPACE, key, value);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.#store.kvDelete(NAMESPACE, key);
    return Promise.resolve();
  }
}
