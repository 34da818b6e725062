import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_PLUGINS, loadConfig } from "./config.js";
import { isHostError } from "./errors.js";

const admin = `05${"ab".repeat(32)}`;

describe("loadConfig", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      bot: "bot",
      nats: { servers: ["nats://127.0.0.1:4222"] },
      http: { host: "127.0.0.1", port: 9102 },
      plugins: [...DEFAULT_PLUGINS],
      partitions: 16,
      concurrency: 16,
      maxDeliver: 5,
      commandPrefix: "/",
      pluginsEnabledByDefault: true,
      admins: [],
    });
    expect(c.instance).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("reads every variable, lists and secrets from files", () => {
    const dir = mkdtempSync(join(tmpdir(), "ph-cfg-"));
    writeFileSync(join(dir, "pw"), "s3cret\n");
    const c = loadConfig({
      SB_BOT: "mybot",
      NATS_URL: "nats://a:4222, nats://b:4222",
      NATS_USER: "u",
      NATS_PASSWORD_FILE: join(dir, "pw"),
      PLUGIN_HOST_HTTP_PORT: "0",
      PLUGIN_HOST_PLUGINS: "@x/a, ./b.js",
      PLUGIN_HOST_PLUGIN_DIR: "/plugins",
      SB_PARTITIONS: "4",
      PLUGIN_HOST_BACKOFF_MS: "10,20",
      PLUGIN_HOST_ADMINS: admin,
      PLUGIN_HOST_UNKNOWN_COMMAND_REPLY: "",
      PLUGIN_HOST_PLUGINS_ENABLED_BY_DEFAULT: "false",
    });
    expect(c).toMatchObject({
      bot: "mybot",
      nats: { servers: ["nats://a:4222", "nats://b:4222"], user: "u", pass: "s3cret" },
      http: { port: 0 },
      plugins: ["@x/a", "./b.js"],
      pluginDir: "/plugins",
      partitions: 4,
      backoffMs: [10, 20],
      admins: [admin],
      unknownCommandReply: "",
      pluginsEnabledByDefault: false,
    });
  });

  it("refuses bad values with HOST_BAD_CONFIG naming them", () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ SB_BOT: "Bad Bot" }, /\/bot/],
      [{ PLUGIN_HOST_CONCURRENCY: "0" }, /\/concurrency/],
      [{ PLUGIN_HOST_MAX_DELIVER: "x" }, /PLUGIN_HOST_MAX_DELIVER must be an integer/],
      [{ PLUGIN_HOST_ADMINS: "not-a-session-id" }, /\/admins\/0/],
      [{ PLUGIN_HOST_BACKOFF_MS: "1,fast" }, /PLUGIN_HOST_BACKOFF_MS/],
      [{ PLUGIN_HOST_HANDLER_TIMEOUT_MS: "5000", PLUGIN_HOST_ACK_WAIT_MS: "5000" }, /must be below PLUGIN_HOST_ACK_WAIT_MS/],
      [{ NATS_TOKEN_FILE: "/nonexistent/token" }, /NATS_TOKEN_FILE/],
      [{ PLUGIN_HOST_PLUGINS_ENABLED_BY_DEFAULT: "maybe" }, /true or false/],
    ];
    for (const [env, re] of cases) {
      let caught: unknown;
      try {
        loadConfig(env);
      } catch (err) {
        caught = err;
      }
      expect(isHostError(caught, "HOST_BAD_CONFIG"), JSON.stringify(env)).toBe(true);
      expect((caught as Error).message).toMatch(re);
    }
  });

  it("never puts a secret in an error message", () => {
    let caught: unknown;
    try {
      loadConfig({ NATS_TOKEN: "tok-very-secret", SB_BOT: "BAD" });
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).message).not.toContain("tok-very-secret");
  });
});
