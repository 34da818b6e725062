/**
 * Property-based fuzz of the whole HTTP API from its own OpenAPI document (schemathesis, from
 * PyPI, installed into .venv by scripts/fuzz-setup.sh). The gateway listens on loopback over a
 * real nats-server with the fleet fixtures; every generated request (valid and invalid) must get
 * an answer that is not a 5xx, that matches the documented responses (status, content type,
 * schema), and invalid input must be refused.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { startFleetFixture, type FleetFixture } from "./fixtures/fleet.js";
import { TOKEN, buildTestApp } from "./fixtures/app.js";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const SCHEMATHESIS = join(PACKAGE_DIR, ".venv", "bin", "schemathesis");
const MAX_EXAMPLES = process.env.SB_FUZZ_EXAMPLES ?? "10";

let fx: FleetFixture;
let app: FastifyInstance;
let base: string;
let reportDir: string;

beforeAll(async () => {
  // Installs the pinned schemathesis when missing (PyPI); fails loudly when it cannot.
  execFileSync(join(PACKAGE_DIR, "scripts", "fuzz-setup.sh"), { stdio: "inherit", timeout: 300_000 });
  if (!existsSync(SCHEMATHESIS)) throw new Error("schemathesis is not installed in .venv");
  fx = await startFleetFixture({ hosts: 1 });
  // Two schemathesis workers keep this 2-core machine busy: a 150 ms discovery window could miss
  // the fixture plugin-host's $SRV.PING answer and make /readyz a (correct, but unwanted) 503.
  app = await buildTestApp(fx, { rateLimit: { max: 1_000_000, windowMs: 60_000 } }, { discoveryWaitMs: 1_000 });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  reportDir = mkdtempSync(join(tmpdir(), "gw-fuzz-"));
}, 360_000);

afterAll(async () => {
  await app?.close();
  await fx?.stop();
  if (reportDir) rmSync(reportDir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS, args, { cwd: reportDir, env: { ...process.env, NO_COLOR: "1", SCHEMATHESIS_TELEMETRY: "false" } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code: code ?? -1, output }));
  });
}

describe("OpenAPI fuzz (schemathesis)", () => {
  it(
    "finds no 5xx and no answer outside the documented responses",
    async () => {
      const junit = join(reportDir, "junit.xml");
      const { code, output } = await run([
        "run",
        `${base}/openapi.json`,
        "--header",
        `Authorization: Bearer ${TOKEN}`,
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        "20261125",
        // Coverage (boundary values, every documented/undocumented input shape) and fuzzing;
        // the stateful phase doubles the time for little more on this API.
        "--phases",
        "coverage,fuzzing",
        "--workers",
        "2",
        "--request-timeout",
        "10",
        "--max-time",
        "75",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        junit,
      ]);
      if (code !== 0) console.log(output);
      expect(code, "schemathesis found failures (output above)").toBe(0);
      // It ran authenticated (the token header worked): valid profile updates reached the broker.
      expect(fx.state.info.displayName).not.toBe("Test Bot");
      // It really exercised the API: every operation appears in the report.
      const report = readFileSync(junit, "utf8");
      for (const op of ["GET /admin/bot", "PATCH /admin/plugins/{name}", "POST /admin/messages", "GET /readyz", "POST /admin/dead-letters/{id}/retry"]) {
        expect(report, op).toContain(op);
      }
    },
    240_000,
  );
});
