// Message and file storage: one SQLite database (in memory by default, a file when persistence
// is on). Every snode of a swarm reads and writes the same rows, which stands in for the
// replication real swarm members do among themselves.
import Database from "better-sqlite3";
import { DevnetError } from "./errors.js";

/** Bytes counted per retrieved message on top of its hash and base64 data (JSON field names). */
export const RETRIEVE_OVERHEAD_BYTES = 70;

/** A stored swarm message. */
export interface StoredMessage {
  readonly hash: string;
  readonly pubkey: string;
  readonly namespace: number;
  /** The store request's `timestamp` (ms). */
  readonly timestamp: number;
  /** Absolute expiry (ms). */
  readonly expiry: number;
  readonly data: Buffer;
}

/** A stored file-server blob. */
export interface StoredFile {
  readonly id: string;
  readonly data: Buffer;
  /** Unix seconds (float). */
  readonly uploaded: number;
  /** Unix seconds (float). */
  readonly expires: number;
}

/** Result of a store: whether the hash was new and the expiry now in force. */
export interface StoreOutcome {
  readonly isNew: boolean;
  readonly expiry: number;
}

interface MessageRow {
  id: number;
  hash: string;
  pubkey: string;
  namespace: number;
  timestamp: number;
  expiry: number;
  data: Buffer;
}

/** SQLite-backed storage shared by all snodes and the file server. */
export class DevnetStore {
  private readonly db: Database.Database;
  private readonly st: {
    findByHash: Database.Statement<[string]>;
    insert: Database.Statement<[string, string, number, number, number, Buffer]>;
    raiseExpiry: Database.Statement<[number, number]>;
    idOfHash: Database.Statement<[string, number, string]>;
    listAfter: Database.Statement<[string, number, number, number, number]>;
    deleteExpired: Database.Statement<[number]>;
    deleteExpiredFiles: Database.Statement<[number]>;
    insertFile: Database.Statement<[string, Buffer, number, number]>;
    getFile: Database.Statement<[string]>;
    setFileExpiry: Database.Statement<[number, string]>;
    getMeta: Database.Statement<[string]>;
    setMeta: Database.Statement<[string, string]>;
  };

  /** Opens (and creates) the database; `file` undefined = in memory. */
  constructor(file?: string) {
    try {
      this.db = new Database(file ?? ":memory:");
      if (file) this.db.pragma("journal_mode = WAL");
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS messages (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          hash TEXT NOT NULL UNIQUE,
          pubkey TEXT NOT NULL,
          namespace INTEGER NOT NULL,
          timestamp INTEGER NOT NULL,
          expiry INTEGER NOT NULL,
          data BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS messages_owner ON messages(pubkey, namespace, id);
        CREATE INDEX IF NOT EXISTS messages_expiry ON messages(expiry);
        CREATE TABLE IF NOT EXISTS files (
          id TEXT PRIMARY KEY,
          data BLOB NOT NULL,
          uploaded REAL NOT NULL,
          expires REAL NOT NULL
        );
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      `);
    } catch (err) {
      throw new DevnetError("DEVNET_STORAGE", `cannot open the devnet database${file ? ` ${file}` : ""}`, {
        cause: err,
      });
    }
    const db = this.db;
    this.st = {
      findByHash: db.prepare("SELECT * FROM messages WHERE hash = ?"),
      insert: db.prepare(
        "INSERT INTO messages (hash, pubkey, namespace, timestamp, expiry, data) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      raiseExpiry: db.prepare("UPDATE messages SET expiry = ? WHERE id = ?"),
      idOfHash: db.prepare("SELECT id FROM messages WHERE pubkey = ? AND namespace = ? AND hash = ?"),
      listAfter: db.prepare(
        "SELECT * FROM messages WHERE pubkey = ? AND namespace = ? AND id > ? AND expiry > ? ORDER BY id LIMIT ?",
      ),
      deleteExpired: db.prepare("DELETE FROM messages WHERE expiry <= ?"),
      deleteExpiredFiles: db.prepare("DELETE FROM files WHERE expires <= ?"),
      insertFile: db.prepare("INSERT INTO files (id, data, uploaded, expires) VALUES (?, ?, ?, ?)"),
      getFile: db.prepare("SELECT * FROM files WHERE id = ?"),
      setFileExpiry: db.prepare("UPDATE files SET expires = ? WHERE id = ?"),
      getMeta: db.prepare("SELECT value FROM meta WHERE key = ?"),
      setMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    };
  }

  /** Stores a message; an existing hash keeps its row and gets the later of the two expiries. */
  store(msg: StoredMessage): StoreOutcome {
    return this.db.transaction((): StoreOutcome => {
      const existing = this.st.findByHash.get(msg.hash) as MessageRow | undefined;
      if (existing) {
        if (msg.expiry > existing.expiry) {
          this.st.raiseExpiry.run(msg.expiry, existing.id);
          return { isNew: false, expiry: msg.expiry };
        }
        return { isNew: false, expiry: existing.expiry };
      }
      this.st.insert.run(msg.hash, msg.pubkey, msg.namespace, msg.timestamp, msg.expiry, msg.data);
      return { isNew: true, expiry: msg.expiry };
    })();
  }

  /**
   * Messages of (pubkey, namespace) after `lastHash` in insertion order (from the start when the
   * hash is unknown), not expired at `now`, limited by count and by total data size (at least one
   * message is returned when any is available). `more` says whether messages were left out.
   */
  retrieve(
    pubkey: string,
    namespace: number,
    lastHash: string | undefined,
    now: number,
    maxCount: number | undefined,
    maxSize: number,
  ): { messages: StoredMessage[]; more: boolean } {
    let afterId = 0;
    if (lastHash) {
      const row = this.st.idOfHash.get(pubkey, namespace, lastHash) as { id: number } | undefined;
      if (row) afterId = row.id;
    }
    const limit = maxCount ?? 1_000_000;
    const rows = this.st.listAfter.all(pubkey, namespace, afterId, now, limit + 1) as MessageRow[];
    const out: StoredMessage[] = [];
    let size = 0;
    let more = rows.length > limit;
    for (const row of rows.slice(0, limit)) {
      // As the storage server counts: a fixed per-message overhead, the hash and the base64 data.
      const cost = RETRIEVE_OVERHEAD_BYTES + row.hash.length + Math.ceil((row.data.length * 4) / 3);
      if (out.length > 0 && size + cost > maxSize) {
        more = true;
        break;
      }
      size += cost;
      out.push(toMessage(row));
    }
    return { messages: out, more };
  }

  /** Looks a message up by hash (expired ones included until purged). */
  get(hash: string): StoredMessage | undefined {
    const row = this.st.findByHash.get(hash) as MessageRow | undefined;
    return row ? toMessage(row) : undefined;
  }

  /** Deletes the given hashes of `pubkey`; returns the ones that existed. */
  deleteHashes(pubkey: string, hashes: readonly string[], now: number): string[] {
    return this.db.transaction(() => {
      const deleted: string[] = [];
      const del = this.db.prepare("DELETE FROM messages WHERE pubkey = ? AND hash = ? AND expiry > ?");
      for (const h of new Set(hashes)) if (del.run(pubkey, h, now).changes > 0) deleted.push(h);
      return deleted;
    })();
  }

  /** Deletes all (unexpired) messages of `pubkey` in one namespace or all; returns [ns, hash] pairs. */
  deleteAll(pubkey: string, namespace: number | "all", now: number): Array<[number, string]> {
    return this.db.transaction(() => {
      const rows = (
        namespace === "all"
          ? this.db.prepare("SELECT namespace, hash FROM messages WHERE pubkey = ? AND expiry > ?").all(pubkey, now)
          : this.db
              .prepare("SELECT namespace, hash FROM messages WHERE pubkey = ? AND namespace = ? AND expiry > ?")
              .all(pubkey, namespace, now)
      ) as Array<{ namespace: number; hash: string }>;
      const del = this.db.prepare("DELETE FROM messages WHERE hash = ?");
      for (const r of rows) del.run(r.hash);
      return rows.map((r): [number, string] => [r.namespace, r.hash]);
    })();
  }

  /** Deletes (unexpired) messages of `pubkey` with `timestamp <= before`; returns [ns, hash] pairs. */
  deleteBefore(pubkey: string, namespace: number | "all", before: number, now: number): Array<[number, string]> {
    return this.db.transaction(() => {
      const rows = (
        namespace === "all"
          ? this.db
              .prepare("SELECT namespace, hash FROM messages WHERE pubkey = ? AND timestamp <= ? AND expiry > ?")
              .all(pubkey, before, now)
          : this.db
              .prepare("SELECT namespace, hash FROM messages WHERE pubkey = ? AND namespace = ? AND timestamp <= ? AND expiry > ?")
              .all(pubkey, namespace, before, now)
      ) as Array<{ namespace: number; hash: string }>;
      const del = this.db.prepare("DELETE FROM messages WHERE hash = ?");
      for (const r of rows) del.run(r.hash);
      return rows.map((r): [number, string] => [r.namespace, r.hash]);
    })();
  }

  /** Lowers to `expiry` the expiries of `pubkey`'s messages that end later; returns [ns, hash] pairs. */
  shortenAll(pubkey: string, namespace: number | "all", expiry: number, now: number): Array<[number, string]> {
    return this.db.transaction(() => {
      const rows = (
        namespace === "all"
          ? this.db.prepare("SELECT id, namespace, hash FROM messages WHERE pubkey = ? AND expiry > ? AND expiry > ?").all(pubkey, expiry, now)
          : this.db
              .prepare("SELECT id, namespace, hash FROM messages WHERE pubkey = ? AND namespace = ? AND expiry > ? AND expiry > ?")
              .all(pubkey, namespace, expiry, now)
      ) as Array<{ id: number; namespace: number; hash: string }>;
      const set = this.db.prepare("UPDATE messages SET expiry = ? WHERE id = ?");
      for (const r of rows) set.run(expiry, r.id);
      return rows.map((r): [number, string] => [r.namespace, r.hash]);
    })();
  }

  /**
   * Sets new expiries on messages of `pubkey`. `mode` "extend" only raises, "shorten" only lowers.
   * Returns the [hash, newExpiry] pairs that changed.
   */
  updateExpiry(
    pubkey: string,
    hashes: readonly string[],
    expiries: readonly number[],
    mode: "extend" | "shorten" | "set",
    now: number,
  ): Array<[string, number]> {
    return this.db.transaction(() => {
      const updated: Array<[string, number]> = [];
      const get = this.db.prepare("SELECT id, expiry FROM messages WHERE pubkey = ? AND hash = ? AND expiry > ?");
      const set = this.db.prepare("UPDATE messages SET expiry = ? WHERE id = ?");
      hashes.forEach((h, i) => {
        const exp = expiries.length === 1 ? expiries[0]! : expiries[i]!;
        const row = get.get(pubkey, h, now) as { id: number; expiry: number } | undefined;
        if (!row) return;
        if (mode === "extend" && exp <= row.expiry) return;
        if (mode === "shorten" && exp >= row.expiry) return;
        if (exp === row.expiry) return;
        set.run(exp, row.id);
        updated.push([h, exp]);
      });
      return updated;
    })();
  }

  /** Current expiries of the given hashes of `pubkey` (missing/expired ones left out). */
  expiries(pubkey: string, hashes: readonly string[], now: number): Map<string, number> {
    const out = new Map<string, number>();
    const get = this.db.prepare("SELECT expiry FROM messages WHERE pubkey = ? AND hash = ? AND expiry > ?");
    for (const h of hashes) {
      const row = get.get(pubkey, h, now) as { expiry: number } | undefined;
      if (row) out.set(h, row.expiry);
    }
    return out;
  }

  /** All unexpired messages of a pubkey (any namespace unless given), oldest first. */
  messagesOf(pubkey: string, now: number, namespace?: number): StoredMessage[] {
    const rows = (
      namespace === undefined
        ? this.db.prepare("SELECT * FROM messages WHERE pubkey = ? AND expiry > ? ORDER BY id").all(pubkey, now)
        : this.db
            .prepare("SELECT * FROM messages WHERE pubkey = ? AND namespace = ? AND expiry > ? ORDER BY id")
            .all(pubkey, namespace, now)
    ) as MessageRow[];
    return rows.map(toMessage);
  }

  /** Deletes expired messages and files; returns how many rows went. */
  purge(nowMs: number): { messages: number; files: number } {
    const messages = this.st.deleteExpired.run(nowMs).changes;
    const files = this.st.deleteExpiredFiles.run(nowMs / 1000).changes;
    return { messages, files };
  }

  /** Adds a file; false when the id is taken. */
  putFile(file: StoredFile): boolean {
    try {
      this.st.insertFile.run(file.id, file.data, file.uploaded, file.expires);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY") return false;
      throw err;
    }
  }

  /** A file by id, or undefined when unknown or expired at `nowS` (seconds). */
  getFile(id: string, nowS: number): StoredFile | undefined {
    const row = this.st.getFile.get(id) as StoredFile | undefined;
    if (!row || row.expires <= nowS) return undefined;
    return row;
  }

  /** Sets a file's expiry (seconds). */
  setFileExpiry(id: string, expires: number): void {
    this.st.setFileExpiry.run(expires, id);
  }

  /** Reads a metadata value. */
  getMeta(key: string): string | undefined {
    return (this.st.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  /** Writes a metadata value. */
  setMeta(key: string, value: string): void {
    this.st.setMeta.run(key, value);
  }

  /** Closes the database. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    hash: row.hash,
    pubkey: row.pubkey,
    namespace: row.namespace,
    timestamp: row.timestamp,
    expiry: row.expiry,
    data: row.data,
  };
}
