/**
 * Writes the OpenAPI document the routes generate to `openapi.json` (`--write`), or checks that
 * the committed one is current (`--check`, the `check:generated` task): an API change shows up in
 * review as a diff of this file. No NATS is needed: building the app does not touch the fleet.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { buildApp } from "../src/app.js";
import { GatewayError } from "../src/errors.js";
import type { Fleet } from "../src/fleet/fleet.js";

const FILE = fileURLToPath(new URL("../openapi.json", import.meta.url));

// Every fleet call fails loudly: generating the document must not need one.
const noFleet = new Proxy({} as Fleet, {
  get: () => () => Promise.reject(new GatewayError("NATS_UNAVAILABLE", "no fleet while generating the OpenAPI document")),
});

const app = await buildApp({
  config: { bot: "bot", adminTokens: ["x".repeat(32)], corsOrigins: [], rateLimit: { max: 1, windowMs: 1000 }, bodyLimit: 65536, trustProxy: false },
  fleet: noFleet,
  logger: pino({ level: "silent" }),
});
await app.ready();
const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
await app.close();

if (process.argv.includes("--write")) {
  writeFileSync(FILE, doc);
  console.log(`wrote ${FILE}`);
} else {
  let current = "";
  try {
    current = readFileSync(FILE, "utf8");
  } catch {
    // missing: reported below
  }
  if (current !== doc) {
    console.error("openapi.json is out of date: run `pnpm --filter @session-bot/gateway openapi`");
    process.exitCode = 1;
  } else {
    console.log("openapi.json is current");
  }
}
