/**
 * Process concerns only: configuration → logger → NATS → app → listen, and one shutdown path
 * (stop intake, drain NATS). Nothing here is imported by the app or its tests.
 */
import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { buildApp } from "./app.js";
import { loadConfig, type Config } from "./config.js";
import { createNatsFleet } from "./fleet/fleet.js";
import { createLogger } from "./logger.js";

async function connectNats(config: Config): Promise<NatsConnection> {
  const n = config.nats;
  return connect({
    servers: n.servers,
    name: `sb-gateway-${config.bot}`,
    maxReconnectAttempts: -1,
    ...(n.credsFile ? { authenticator: credsAuthenticator(readFileSync(n.credsFile)) } : {}),
    ...(n.user ? { user: n.user, pass: n.password ?? "" } : {}),
    ...(n.token ? { token: n.token } : {}),
  });
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  log.info({ bot: config.bot, servers: config.nats.servers, tokens: config.adminTokens.length }, "gateway starting");

  // The one place unforeseen failures end up: log them once and stop (the orchestrator restarts us).
  const fatal = (kind: string) => (err: unknown) => {
    log.fatal({ err, kind }, "unexpected failure; exiting");
    process.exit(1);
  };
  process.on("uncaughtException", fatal("uncaughtException"));
  process.on("unhandledRejection", fatal("unhandledRejection"));

  const nc = await connectNats(config);
  void (async () => {
    for await (const s of nc.status()) log.info({ status: s.type }, "nats connection status");
  })();

  const fleet = createNatsFleet(
    nc,
    { bot: config.bot, requestTimeoutMs: config.requestTimeoutMs, discoveryWaitMs: config.discoveryWaitMs },
    log.child({ component: "fleet" }),
  );
  const app = await buildApp({ config, fleet, logger: log });
  await app.listen({ host: config.host, port: config.port });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "gateway stopping");
    // Stop intake first (in-flight requests finish), then drain NATS.
    app
      .close()
      .then(() => nc.drain())
      .then(() => {
        log.info("gateway stopped");
        process.exitCode = 0;
      })
      .catch((err: unknown) => {
        log.error({ err }, "unclean shutdown");
        process.exitCode = 1;
      });
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  // Before the logger exists (bad configuration) this is the only way to say why.
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${JSON.stringify({ level: 60, name: "gateway", code, msg: message })}\n`);
  process.exitCode = 1;
});
