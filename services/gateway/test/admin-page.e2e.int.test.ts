/**
 * The admin page in a real headless Chromium (Debian's /usr/bin/chromium via playwright-core,
 * no downloaded browser) against the gateway listening on loopback, over a real nats-server with
 * the fleet fixtures. The page logs in, toggles a plugin (and the change reaches KV), edits a
 * config, watches live worker stats, sends a message, blocks a conversation and retries a dead
 * letter — with no CSP violation or script error on the way.
 */
import { existsSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { BOT, peer, startFleetFixture, type FleetFixture } from "./fixtures/fleet.js";
import { TOKEN, buildTestApp } from "./fixtures/app.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let fx: FleetFixture;
let app: FastifyInstance;
let browser: BrowserContext;
let page: Page;
let base: string;
let profileDir: string;
const problems: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
  fx = await startFleetFixture({ hosts: 2 });
  app = await buildTestApp(fx);
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  profileDir = mkdtempSync(join(tmpdir(), "gw-chromium-"));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("console", (m) => {
    // The browser logs every 4xx; the 401 (wrong token) and 422 (invalid config) are provoked on purpose.
    if (m.type() === "error" && !/status of (401|422)/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fx?.stop();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

async function kvRecord(plugin: string): Promise<{ enabled: boolean; config: Record<string, unknown> } | undefined> {
  const e = await fx.kv.plugins.get(`${BOT}.${plugin}`);
  return e ? e.json() : undefined;
}

describe("admin page in headless Chromium", () => {
  it("refuses a wrong token, then signs in with the right one", async () => {
    await page.goto(`${base}/`);
    await page.locator("#token").fill("this-is-not-the-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator("#login-error").textContent()).toBe("That token is not valid.");
    expect(await page.locator("#console").isHidden()).toBe(true);

    await page.locator("#token").fill(TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#console").waitFor({ state: "visible" });
    await expect.poll(() => page.locator('[data-field="Session ID"]').textContent()).toBe(fx.state.info.sessionId);
    expect(await page.locator('[data-field="Display name"]').textContent()).toBe("Test Bot");
    // The token is kept in memory only.
    const stored = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]");
    expect(stored).toEqual([0, 0, ""]);
    expect(await page.locator("#token").inputValue()).toBe("");
  });

  it("toggles a plugin on and off, and the change reaches KV", async () => {
    await page.getByRole("button", { name: "Plugins" }).click();
    const toggle = page.locator('[data-plugin-toggle="echo"]');
    await toggle.waitFor();
    expect(await toggle.isChecked()).toBe(false);
    // No record in KV yet: the page does not pretend to know.
    expect(await page.locator('[data-plugin-state="echo"]').textContent()).toBe("worker default");

    await toggle.check();
    await expect.poll(() => page.locator('[data-plugin-state="echo"]').textContent()).toBe("on");
    await expect.poll(async () => (await kvRecord("echo"))?.enabled).toBe(true);

    // Reload the list from the server: it shows what KV holds.
    await page.getByRole("button", { name: "Workers" }).click();
    await page.getByRole("button", { name: "Plugins" }).click();
    await expect.poll(() => page.locator('[data-plugin-toggle="echo"]').isChecked()).toBe(true);

    await page.locator('[data-plugin-toggle="echo"]').uncheck();
    await expect.poll(async () => `${await page.locator('[data-plugin-state="echo"]').textContent()} ${await page.locator("#status").textContent()}`).toBe("off echo disabled.");
    await expect.poll(async () => (await kvRecord("echo"))?.enabled).toBe(false);
  });

  it("edits a config: an invalid one is refused with the reason, a valid one is written", async () => {
    const card = page.locator('[data-plugin="ping"]');
    await card.locator("summary").click();
    // Opening the editor shows the plugin's config schema (from its manifest).
    await expect.poll(() => page.locator('[data-plugin-schema="ping"]').textContent()).toContain('"reply"');
    const editor = page.locator('[data-plugin-config="ping"]');
    await editor.fill('{ "reply": "" }');
    await card.getByRole("button", { name: "Save config" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toContain("PLUGIN_CONFIG_INVALID");
    expect(await kvRecord("ping")).toBeUndefined();

    await editor.fill('{ "reply": "pong from the page" }');
    await card.getByRole("button", { name: "Save config" }).click();
    await expect.poll(() => page.locator("#status").textContent()).toBe("ping: config saved.");
    expect((await kvRecord("ping"))?.config).toEqual({ reply: "pong from the page" });
  });

  it("shows workers with live stats", async () => {
    await page.getByRole("button", { name: "Workers" }).click();
    await expect.poll(() => page.locator("#workers tbody tr[data-worker]").count()).toBe(2);
    expect(await page.locator('[data-worker="host-1"] [data-field="inFlight"]').textContent()).toBe("1");
    fx.counters.set("host-1", { v: 1, inFlight: 5, handled: 77, errors: 0, plugins: { echo: { handled: 77, errors: 0, averageLatencyMs: 1 } } });
    await expect.poll(() => page.locator('[data-worker="host-1"] [data-field="handled"]').textContent(), { timeout: 10_000 }).toBe("77");
  });

  it("opens a conversation, sends a text, blocks it", async () => {
    await page.getByRole("button", { name: "Conversations" }).click();
    const row = page.locator(`[data-conversation="${peer(1)}"]`);
    await row.waitFor();
    await row.locator("button.link").click();
    await expect.poll(() => page.locator("#messages li").count()).toBe(2);
    await page.locator("#send-text").fill("hello from the admin page");
    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => fx.state.sent.map((s) => s.text)).toContain("hello from the admin page");

    await row.getByRole("button", { name: "Block" }).click();
    await expect.poll(() => fx.state.conversations.find((c) => c.conversation === peer(1))?.blocked).toBe(true);
    await expect.poll(() => page.locator(`[data-conversation="${peer(1)}"] button`).last().textContent()).toBe("Unblock");
  });

  it("retries a dead letter", async () => {
    await page.getByRole("button", { name: "Dead letters" }).click();
    const row = page.locator('[data-dead-letter="SB_INBOUND:7"]');
    await row.getByRole("button", { name: "Retry" }).click();
    await expect.poll(() => fx.state.retried).toEqual(["SB_INBOUND:7"]);
    await expect.poll(() => page.locator("#status").textContent()).toContain("Retried SB_INBOUND:7");
  });

  it("the API docs UI renders the operations under the same CSP", async () => {
    const docs = await browser.newPage();
    const docProblems: string[] = [];
    docs.on("console", (m) => {
      if (m.type() === "error") docProblems.push(m.text());
    });
    docs.on("pageerror", (e) => docProblems.push(e.message));
    await docs.goto(`${base}/docs`);
    await docs.locator(".opblock-summary-path", { hasText: "/admin/plugins/{name}" }).first().waitFor({ timeout: 20_000 });
    expect(await docs.locator(".opblock").count()).toBeGreaterThanOrEqual(16);
    expect(docProblems).toEqual([]);
    await docs.close();
  });

  it("forgets the token on reload, and had no script or CSP errors", async () => {
    await page.reload();
    await page.locator("#login").waitFor({ state: "visible" });
    expect(await page.locator("#console").isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });
});
