// Opens the broker's SQLite file (WAL) and applies the committed drizzle migrations.
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { BrokerError } from "../errors.js";
import * as schema from "./schema.js";

/** The drizzle handle over the broker's schema (with its better-sqlite3 connection, `$client`). */
export type BrokerDb = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** An open database: the drizzle handle and the underlying connection (for close and pragmas). */
export interface OpenDatabase {
  readonly db: BrokerDb;
  readonly sqlite: Database.Database;
  close(): void;
}

/**
 * The committed migrations (services/broker/drizzle). Found from this module's location, which is
 * src/db/ (tests), dist/db/ (the library build) or dist/ (the bundled service, dist/main.js).
 */
export const MIGRATIONS_FOLDER = findMigrationsFolder(import.meta.url);

function findMigrationsFolder(moduleUrl: string): string {
  const candidates = ["../drizzle", "../../drizzle"].map((rel) => fileURLToPath(new URL(rel, moduleUrl)));
  return candidates.find((dir) => existsSync(join(dir, "meta", "_journal.json"))) ?? candidates[1]!;
}

/**
 * Opens (creating if needed) the database file, switches it to WAL, and runs pending migrations.
 * Throws `BROKER_DATABASE` when the file cannot be opened or migrated.
 */
export function openDatabase(file: string): OpenDatabase {
  let sqlite: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    sqlite = new Database(file);
    sqlite.pragma("journal_mode = WAL");
    // NORMAL in WAL mode survives a process crash (SIGKILL); only power loss may drop the last commit.
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
    const db = drizzle({ client: sqlite, schema });
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    const conn = sqlite;
    return {
      db,
      sqlite: conn,
      close() {
        if (conn.open) conn.close();
      },
    };
  } catch (err) {
    sqlite?.close();
    throw new BrokerError("BROKER_DATABASE", `cannot open database ${file}`, { cause: err });
  }
}
