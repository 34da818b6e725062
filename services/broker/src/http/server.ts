// Health, readiness and metrics over HTTP (Fastify). Built by a function so tests use inject().
import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

/** What the HTTP server asks the rest of the broker. */
export interface HttpDeps {
  readonly registry: Registry;
  /** Named readiness checks; all must be true for /readyz to answer 200. */
  readonly readiness: () => Record<string, boolean>;
}

/** Builds the HTTP app: `/healthz` (process alive), `/readyz` (NATS, database, poller), `/metrics`. */
export function buildHttp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const checks = deps.readiness();
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", checks });
  });
  app.get("/metrics", async (_req, reply) => {
    const body = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(body);
  });
  return app;
}
