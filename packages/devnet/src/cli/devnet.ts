#!/usr/bin/env node
// session-devnet: runs the local Session network in the foreground until Ctrl-C / SIGTERM.
import path from "node:path";
import { pino } from "pino";
import { startDevnet, type Devnet } from "../devnet.js";
import { isDevnetError } from "../errors.js";
import { generateCertificate } from "../tls.js";
import { DEFAULT_BASE_PORT, DEVNET_USAGE, parseDevnetArgs } from "./config.js";
import { loadOrCreateConfig, removeState, saveConfig, STATE_FILE, writeState } from "./state.js";

async function main(): Promise<number> {
  const cfg = parseDevnetArgs(process.argv.slice(2));
  if (cfg.help) {
    process.stdout.write(DEVNET_USAGE);
    return 0;
  }
  const logger = pino({ level: cfg.logLevel, base: { app: "session-devnet" } }, pino.destination(2));
  let fileCfg = loadOrCreateConfig(cfg.dataDir, cfg.port, DEFAULT_BASE_PORT);
  if (!cfg.http && !fileCfg.tls) {
    // Keep the certificate across restarts so clients that trusted it keep working.
    fileCfg = { ...fileCfg, tls: await generateCertificate() };
    saveConfig(cfg.dataDir, fileCfg);
  }
  const net: Devnet = await startDevnet({
    http: cfg.http,
    snodeCount: cfg.snodes,
    swarmCount: cfg.swarms,
    seed: fileCfg.seed,
    ...(fileCfg.basePort > 0 ? { basePort: fileCfg.basePort } : {}),
    ...(cfg.persist ? { dataFile: path.join(cfg.dataDir, "devnet.sqlite") } : {}),
    rateLimit: cfg.rateLimit,
    ...(fileCfg.tls && !cfg.http ? { tls: fileCfg.tls } : {}),
    logger,
  });
  writeState(cfg.dataDir, {
    seedUrls: net.seedUrls,
    fileServerUrl: net.fileServerUrl,
    scheme: net.scheme,
    ...(net.seedCertificatePem ? { seedCertificatePem: net.seedCertificatePem } : {}),
    pid: process.pid,
    startedAt: new Date().toISOString(),
  });
  process.stdout.write(
    [
      `session-devnet ready (${cfg.snodes} snodes in ${cfg.swarms} swarms, ${net.scheme}${cfg.persist ? ", persistent" : ", in memory"})`,
      `  seed:        ${net.seedUrls[0]}`,
      `  file server: ${net.fileServerUrl}`,
      `  state file:  ${path.join(cfg.dataDir, STATE_FILE)}`,
      `  faults:      ${net.seedUrls[0]!.replace(/\/json_rpc$/, "")}/_devnet/faults`,
      "Ctrl-C to stop.",
      "",
    ].join("\n"),
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, "second signal: exiting now");
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, "stopping");
      net
        .stop()
        .then(() => {
          removeState(cfg.dataDir);
          resolve(0);
        })
        .catch((err: unknown) => {
          logger.error({ err }, "stop failed");
          resolve(1);
        });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

main().then(
  (code) => {
    process.exitCode = code;
    // Listeners are closed; exit even if a client still holds a keep-alive socket open.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`session-devnet: ${isDevnetError(err) ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
