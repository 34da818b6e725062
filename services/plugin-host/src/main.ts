/**
 * Process concerns only: config → logger → NATS → plugins → buildApp → listen → start, and one
 * shutdown path (SIGTERM/SIGINT: stop pulling, finish in-flight work up to the grace period,
 * close HTTP, drain NATS).
 */
import { readFileSync } from "node:fs";
import { connect, credsAuthenticator, type ConnectionOptions } from "@nats-io/transport-node";
import { buildApp } from "./app.js";
import { loadConfig, type HostConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { loadPlugins } from "./plugins/loader.js";

const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

function natsOptions(config: HostConfig): ConnectionOptions {
  const o: ConnectionOptions = {
    servers: config.nats.servers,
    name: `sb-plugin-host-${config.instance}`,
    maxReconnectAttempts: -1,
    // nats.js otherwise builds two Errors with stack traces for every request (every
    // publish-with-ack): 6.7 % of a busy worker's CPU in the benchmarks.
    noAsyncTraces: true,
  };
  if (config.nats.credsFile !== undefined) o.authenticator = credsAuthenticator(readFileSync(config.nats.credsFile));
  if (config.nats.user !== undefined) {
    o.user = config.nats.user;
    o.pass = config.nats.pass ?? "";
  }
  if (config.nats.token !== undefined) o.token = config.nats.token;
  return o;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, { bot: config.bot, instance: config.instance });
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
  process.on("uncaughtException", (err) => {
    log.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  const plugins = await loadPlugins(config.plugins, config.pluginDir);
  log.info({ plugins: plugins.map((p) => `${p.plugin.name}@${p.plugin.version}`) }, "plugins loaded");
  if (plugins.length === 0) log.warn("no plugin loaded (PLUGIN_HOST_PLUGINS and PLUGIN_HOST_PLUGIN_DIR name none): only the router will answer");
  const nc = await connect(natsOptions(config));
  log.info({ server: nc.getServer() }, "connected to NATS");
  const app = buildApp({ nc, config, log, plugins, version: VERSION });
  await app.http.listen({ host: config.http.host, port: config.http.port });
  const address = app.http.server.address();
  log.info({ port: typeof address === "object" && address ? address.port : config.http.port }, "http listening");

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
    try {
      await app.stop(config.shutdownGraceMs);
      await app.http.close();
      await nc.drain();
      log.info("stopped");
      process.exit(0);
    } catch (err) {
      log.error({ err }, "shutdown failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));

  try {
    await app.start();
  } catch (err) {
    if (!shuttingDown) throw err;
  }
}

main().catch((err: unknown) => {
  // The logger may not exist yet (bad config): write one JSON line to stderr.
  process.stderr.write(`${JSON.stringify({ level: 60, service: "plugin-host", msg: "failed to start", err: { message: (err as Error).message, code: (err as { code?: string }).code } })}\n`);
  process.exit(1);
});
