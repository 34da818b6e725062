/**
 * The gateway under the deployment's NATS permissions (deploy/nats/auth.conf, user `gateway`):
 * every route works without a permission violation. The test stand-ins run as the users of the
 * services they stand for (`broker`, `plugin-host`).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Service } from "@nats-io/services";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { BOT, initialBrokerState, peer, setupBus, startFakeBroker, startFakePluginHost } from "./fixtures/fleet.js";
import { auth, buildTestApp } from "./fixtures/app.js";

const AUTH_CONF = fileURLToPath(new URL("../../../deploy/nats/auth.conf", import.meta.url));
const PASSWORDS = { NATS_BROKER_PASSWORD: "brokerPw1", NATS_PLUGIN_HOST_PASSWORD: "hostPw1", NATS_GATEWAY_PASSWORD: "gatewayPw1" };

let nats: TestNats;
let brokerNc: NatsConnection;
let hostNc: NatsConnection;
let nc: NatsConnection;
let app: FastifyInstance;
const services: Service[] = [];
const violations: string[] = [];

beforeAll(async () => {
  // The nats-server reads the passwords from its environment (a binary server inherits ours).
  Object.assign(process.env, PASSWORDS);
  nats = await startNats({ kind: "binary", extraConfig: readFileSync(AUTH_CONF, "utf8") });
  brokerNc = await connect({ servers: nats.url, user: "broker", pass: PASSWORDS.NATS_BROKER_PASSWORD });
  await setupBus(brokerNc);
  services.push(await startFakeBroker(brokerNc, initialBrokerState()));
  hostNc = await connect({ servers: nats.url, user: "plugin-host", pass: PASSWORDS.NATS_PLUGIN_HOST_PASSWORD });
  services.push(
    await startFakePluginHost(hostNc, "host-0", () => ({ v: 1, inFlight: 0, handled: 1, errors: 0, plugins: { echo: { handled: 1, errors: 0, averageLatencyMs: 1 } } })),
  );
  nc = await connect({ servers: nats.url, user: "gateway", pass: PASSWORDS.NATS_GATEWAY_PASSWORD });
  void (async () => {
    for await (const s of nc.status()) if (s.type === "error") violations.push(String((s as { error?: unknown }).error));
  })();
  app = await buildTestApp({ nc });
});

afterAll(async () => {
  await app?.close();
  for (const s of services) await s.stop().catch(() => undefined);
  for (const c of [nc, hostNc, brokerNc]) await c?.close();
  await nats?.stop();
});

describe("gateway with the deployment's NATS permissions", () => {
  it("answers every route with the least-privilege user", async () => {
    const conv = peer(1);
    const calls: [string, string, unknown?][] = [
      ["GET", "/readyz"],
      ["GET", "/metrics"],
      ["GET", "/admin/bot"],
      ["PUT", "/admin/profile", { displayName: "Least Privilege" }],
      ["GET", "/admin/workers"],
      ["GET", "/admin/streams"],
      ["GET", "/admin/plugins"],
      ["PATCH", "/admin/plugins/ping", { enabled: true, config: { reply: "pong" } }],
      ["GET", "/admin/conversations"],
      ["GET", `/admin/conversations/${conv}/messages`],
      ["POST", `/admin/conversations/${conv}/block`],
      ["POST", `/admin/conversations/${conv}/unblock`],
      ["POST", "/admin/messages", { conversation: conv, text: "hi" }],
      ["GET", "/admin/dead-letters"],
      ["POST", "/admin/dead-letters/SB_INBOUND:7/retry"],
    ];
    for (const [method, url, payload] of calls) {
      const r = await app.inject({ method: method as "GET", url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
      expect(r.statusCode, `${method} ${url}: ${r.body.slice(0, 300)}`).toBeLessThan(300);
    }
    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/^sb_fleet_scrape_success 1$/m);
    expect(metrics).toMatch(/^sb_workers 1$/m);
    expect(violations).toEqual([]);
    expect((await app.inject({ url: "/admin/plugins", headers: auth })).json()).toMatchObject({ items: [{ name: "echo" }, { name: "ping", enabled: true }] });
  });

  it("is refused by NATS where it has no business (it cannot publish inbound events)", async () => {
    const before = violations.length;
    nc.publish(`sb.in.${BOT}.0.message`, "{}");
    await nc.flush();
    await expect.poll(() => violations.length).toBeGreaterThan(before);
    expect(violations.at(-1)).toMatch(/permissions violation/i);
  });
});
