/**
 * Every route the OpenAPI document lists is checked here: each admin route refuses a missing or
 * wrong token (so a new route cannot be left open by mistake), each public one answers without.
 * Also: rate limiting of the admin API and CORS when configured.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { peer, startFleetFixture, type FleetFixture } from "./fixtures/fleet.js";
import { OTHER_TOKEN, TOKEN, auth, buildTestApp } from "./fixtures/app.js";

interface Operation {
  method: string;
  path: string;
  url: string;
  secured: boolean;
}

let fx: FleetFixture;
let app: FastifyInstance;
let operations: Operation[];

/** Concrete values for path parameters (valid ones, so only the token decides). */
const SAMPLE_PARAMS: Record<string, string> = { id: peer(1), name: "echo" };

beforeAll(async () => {
  fx = await startFleetFixture({ hosts: 1 });
  app = await buildTestApp(fx);
  const doc = (await app.inject({ url: "/openapi.json" })).json<{
    paths: Record<string, Record<string, { security?: { bearerAuth?: unknown }[] }>>;
  }>();
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      url: path.replace(/\{(\w+)\}/g, (_, p: string) => {
        const v = SAMPLE_PARAMS[p];
        if (v === undefined) throw new Error(`no sample value for path parameter ${p}: add one to SAMPLE_PARAMS`);
        return v;
      }),
      secured: (op.security ?? []).some((s) => "bearerAuth" in s),
    })),
  );
});
afterAll(async () => {
  await app?.close();
  await fx?.stop();
});

describe("authentication, from the OpenAPI document", () => {
  it("lists every admin route, and every admin route declares the bearer scheme", () => {
    const admin = operations.filter((o) => o.path.startsWith("/admin/"));
    expect(admin.map((o) => `${o.method} ${o.path}`).sort()).toEqual(
      [
        "GET /admin/bot",
        "PUT /admin/profile",
        "GET /admin/workers",
        "GET /admin/streams",
        "GET /admin/plugins",
        "PATCH /admin/plugins/{name}",
        "GET /admin/plugins/{name}/manifest",
        "GET /admin/conversations",
        "GET /admin/conversations/{id}/messages",
        "POST /admin/conversations/{id}/block",
        "POST /admin/conversations/{id}/unblock",
        "POST /admin/messages",
        "GET /admin/dead-letters",
        "POST /admin/dead-letters/{id}/retry",
      ].sort(),
    );
    for (const o of admin) expect(o.secured, `${o.method} ${o.path}`).toBe(true);
    // And nothing outside /admin claims to need a token it would not check.
    for (const o of operations.filter((x) => !x.path.startsWith("/admin/"))) expect(o.secured, o.path).toBe(false);
  });

  it("every secured route refuses a missing, malformed or wrong token with a 401 problem", async () => {
    const secured = operations.filter((o) => o.secured);
    expect(secured.length).toBeGreaterThan(0);
    const attempts: [Record<string, string>, string][] = [
      [{}, "AUTH_MISSING"],
      [{ authorization: "" }, "AUTH_MISSING"],
      [{ authorization: `Basic ${TOKEN}` }, "AUTH_INVALID"],
      [{ authorization: `Bearer ${TOKEN}x` }, "AUTH_INVALID"],
      [{ authorization: `Bearer ${TOKEN.slice(1)}` }, "AUTH_INVALID"],
      [{ authorization: "Bearer wrong-token-of-some-length" }, "AUTH_INVALID"],
    ];
    for (const o of secured) {
      for (const [headers, code] of attempts) {
        const r = await app.inject({ method: o.method as "GET", url: o.url, headers, payload: o.method === "GET" ? undefined : {} });
        expect(r.statusCode, `${o.method} ${o.url} with ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
        expect(r.headers["www-authenticate"]).toMatch(/^Bearer/);
        expect(r.json()).toMatchObject({ code, status: 401 });
        expect(r.body).not.toContain(TOKEN);
      }
    }
    // Fastify answers HEAD for every GET route: those are guarded too.
    for (const o of secured.filter((x) => x.method === "GET")) {
      const r = await app.inject({ method: "HEAD", url: o.url });
      expect(r.statusCode, `HEAD ${o.url}`).toBe(401);
    }
    // Nothing was changed by the refused requests.
    expect(fx.state.sent).toEqual([]);
    expect(fx.state.retried).toEqual([]);
    expect(await fx.kv.plugins.get("testbot.echo")).toBeNull();
  });

  it("every secured route lets a valid token past authentication (any configured token)", async () => {
    for (const o of operations.filter((x) => x.secured)) {
      for (const token of [TOKEN, OTHER_TOKEN]) {
        const r = await app.inject({ method: o.method as "GET", url: o.url, headers: { authorization: `Bearer ${token}` }, payload: o.method === "GET" ? undefined : {} });
        expect(r.statusCode, `${o.method} ${o.url}`).not.toBe(401);
      }
    }
  });

  it("public routes answer without a token", async () => {
    for (const o of operations.filter((x) => !x.secured)) {
      const r = await app.inject({ method: o.method as "GET", url: o.url });
      expect([200, 503], o.path).toContain(r.statusCode);
    }
    for (const url of ["/openapi.json", "/docs", "/ui/", "/ui/app.js", "/ui/style.css"]) {
      expect((await app.inject({ url })).statusCode, url).toBe(200);
    }
    for (const url of ["/", "/ui"]) {
      const r = await app.inject({ url });
      expect(r.statusCode, url).toBeGreaterThanOrEqual(300);
      expect(r.statusCode, url).toBeLessThan(400);
      expect(r.headers.location, url).toMatch(/\/ui\/$/);
    }
    expect((await app.inject({ url: "/ui/../package.json" })).statusCode).toBe(404);
  });
});

describe("rate limiting", () => {
  it("answers 429 problems past the limit, counting unauthenticated attempts too", async () => {
    const limited = await buildTestApp(fx, { rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) codes.push((await limited.inject({ url: "/admin/bot", headers: { authorization: "Bearer guess-guess-guess-guess" } })).statusCode);
      expect(codes).toEqual([401, 401, 401]);
      const r = await limited.inject({ url: "/admin/bot", headers: auth });
      expect(r.statusCode).toBe(429);
      expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
      expect(r.json()).toMatchObject({ code: "RATE_LIMITED" });
      expect(r.headers["retry-after"]).toBeDefined();
      // Health is not rate-limited.
      expect((await limited.inject({ url: "/healthz" })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("CORS", () => {
  it("allows only the configured origins", async () => {
    const withCors = await buildTestApp(fx, { corsOrigins: ["https://admin.example"] });
    try {
      const ok = await withCors.inject({
        method: "OPTIONS",
        url: "/admin/bot",
        headers: { origin: "https://admin.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
      });
      expect(ok.statusCode).toBeLessThan(300);
      expect(ok.headers["access-control-allow-origin"]).toBe("https://admin.example");
      const other = await withCors.inject({ url: "/healthz", headers: { origin: "https://evil.example" } });
      expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    } finally {
      await withCors.close();
    }
  });
});
