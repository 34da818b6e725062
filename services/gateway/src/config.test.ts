import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

const TOKEN = "0123456789abcdef-token";

function codeAndMessage(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return { code: (err as { code?: string }).code, message: (err as Error).message };
  }
  throw new Error("expected a throw");
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({ GATEWAY_ADMIN_TOKENS: TOKEN });
    expect(c).toMatchObject({
      bot: "bot",
      host: "127.0.0.1",
      port: 8080,
      logLevel: "info",
      nats: { servers: ["nats://127.0.0.1:4222"] },
      adminTokens: [TOKEN],
      corsOrigins: [],
      rateLimit: { max: 300, windowMs: 60_000 },
      bodyLimit: 65536,
      requestTimeoutMs: 5000,
      discoveryWaitMs: 300,
      trustProxy: false,
    });
  });

  it("reads every variable", () => {
    const c = loadConfig({
      SB_BOT: "demo-1",
      GATEWAY_HOST: "0.0.0.0",
      GATEWAY_PORT: "0",
      LOG_LEVEL: "debug",
      NATS_URL: "nats://a:4222, nats://b:4222",
      NATS_USER: "u",
      NATS_PASSWORD: "p",
      GATEWAY_ADMIN_TOKENS: `${TOKEN},${TOKEN}-2`,
      GATEWAY_CORS_ORIGINS: "https://admin.example",
      GATEWAY_RATE_LIMIT_MAX: "5",
      GATEWAY_RATE_LIMIT_WINDOW_MS: "1000",
      GATEWAY_BODY_LIMIT: "2048",
      GATEWAY_REQUEST_TIMEOUT_MS: "250",
      GATEWAY_DISCOVERY_WAIT_MS: "100",
      GATEWAY_TRUST_PROXY: "true",
    });
    expect(c.bot).toBe("demo-1");
    expect(c.port).toBe(0);
    expect(c.nats).toEqual({ servers: ["nats://a:4222", "nats://b:4222"], user: "u", password: "p" });
    expect(c.adminTokens).toEqual([TOKEN, `${TOKEN}-2`]);
    expect(c.corsOrigins).toEqual(["https://admin.example"]);
    expect(c.rateLimit).toEqual({ max: 5, windowMs: 1000 });
    expect(c.trustProxy).toBe(true);
  });

  it("reads tokens from a _FILE, one per line", () => {
    const dir = mkdtempSync(join(tmpdir(), "gw-cfg-"));
    const file = join(dir, "tokens");
    writeFileSync(file, `${TOKEN}\n${TOKEN}-b\n\n`);
    expect(loadConfig({ GATEWAY_ADMIN_TOKENS_FILE: file }).adminTokens).toEqual([TOKEN, `${TOKEN}-b`]);
  });

  it("refuses a missing token, a short token, both variants, an unreadable file", () => {
    expect(codeAndMessage(() => loadConfig({})).code).toBe("CONFIG_INVALID");
    expect(codeAndMessage(() => loadConfig({ GATEWAY_ADMIN_TOKENS: "short" })).code).toBe("CONFIG_INVALID");
    expect(codeAndMessage(() => loadConfig({ GATEWAY_ADMIN_TOKENS: TOKEN, GATEWAY_ADMIN_TOKENS_FILE: "/x" })).code).toBe("CONFIG_INVALID");
    expect(codeAndMessage(() => loadConfig({ GATEWAY_ADMIN_TOKENS_FILE: "/nonexistent/tokens" })).code).toBe("CONFIG_INVALID");
  });

  it("refuses malformed values and names the variable path, never a secret", () => {
    for (const env of [
      { GATEWAY_PORT: "eighty" },
      { GATEWAY_PORT: "70000" },
      { SB_BOT: "Bad.Bot" },
      { LOG_LEVEL: "loud" },
      { GATEWAY_TRUST_PROXY: "maybe" },
      { GATEWAY_RATE_LIMIT_MAX: "0" },
    ]) {
      const r = codeAndMessage(() => loadConfig({ GATEWAY_ADMIN_TOKENS: TOKEN, ...env }));
      expect(r.code).toBe("CONFIG_INVALID");
      expect(r.message).not.toContain(TOKEN);
    }
    const short = codeAndMessage(() => loadConfig({ GATEWAY_ADMIN_TOKENS: "tiny-secret" }));
    expect(short.message).toContain("/adminTokens/0");
    expect(short.message).not.toContain("tiny-secret");
  });
});
