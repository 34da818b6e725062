// Process concerns only: config → logger → NATS → database → Session client → buildApp → listen,
// and one shutdown path (stop intake, finish in-flight sends, drain NATS, close the database).
import { writeSync } from "node:fs";
import { SessionClient, StorageRpcNetwork } from "@session-bot/session";
import { buildApp } from "./app.js";
import { MAINNET_SEED_URLS, loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { BrokerStore } from "./db/store.js";
import { createLogger } from "./logger.js";
import { connectNats } from "./nats/connect.js";
import { resolveIdentity } from "./session/identity.js";
import { SqliteStorage } from "./session/sqlite-storage.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    // Before the logger exists: one JSON line on stderr, no secret in it (ConfigError names variables only).
    process.stderr.write(JSON.stringify({ level: "fatal", msg: err instanceof Error ? err.message : "invalid configuration" }) + "\n");
    process.exit(2);
  }
  const log = createLogger(config);
  // The one process-level handler for failures nobody expected. A rejection is logged; an uncaught
  // exception leaves the process in an unknown state, so it exits (nothing is lost: the poll cursor
  // and outbound acks only move after durable writes).
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
  process.on("uncaughtException", (err) => {
    writeSync(2, JSON.stringify({ level: 60, msg: "uncaught exception; exiting", err: err.message, code: (err as { code?: unknown }).code }) + "\n");
    process.exit(1);
  });

  const nc = await connectNats(config.nats, log.child({ component: "nats" }));
  const database = openDatabase(config.databaseFile);
  const storage = new SqliteStorage(new BrokerStore(database.db));
  const net = config.network;
  const network = new StorageRpcNetwork({
    seedUrls: [...(net.seedUrls ?? MAINNET_SEED_URLS)],
    snodeScheme: net.snodeScheme,
    ...(net.fileServerUrl ? { fileServerUrl: net.fileServerUrl } : {}),
    ...(net.seedCertificatePem ? { seedCertificatePem: net.seedCertificatePem, fileServerTrust: { kind: "pinned", certificatePem: net.seedCertificatePem } } : {}),
    storage,
    logger: log.child({ component: "session-network" }),
  });
  const identity = await resolveIdentity(config.identity, log);
  const client = await SessionClient.create({
    identity,
    network,
    storage,
    logger: log.child({ component: "session" }),
    ...(config.displayName ? { displayName: config.displayName } : {}),
  });

  const app = buildApp({ config, log, nc, database, client });
  await app.start();
  await app.http.listen({ host: config.http.host, port: config.http.port });
  const addr = app.http.server.address();
  log.info({ http: typeof addr === "object" && addr ? `${addr.address}:${addr.port}` : addr }, "listening");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
    const force = setTimeout(() => {
      log.error("grace period over; exiting with work unfinished");
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    try {
      await app.http.close();
      await app.stop();
      await client.close();
      await network.close();
      await nc.drain();
      database.close();
      log.info("stopped");
      process.exit(0);
    } catch (err) {
      log.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(JSON.stringify({ level: "fatal", msg: "broker failed to start", code: (err as { code?: unknown }).code, err: err instanceof Error ? err.message : String(err) }) + "\n");
  process.exit(1);
});
