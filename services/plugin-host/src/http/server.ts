/** `/healthz`, `/readyz`, `/metrics` (Fastify app built by a function: tests use inject()). */
import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

/** Why the worker is not ready (empty: ready). */
export type ReadinessProbe = () => readonly string[];

export interface HttpDeps {
  readonly readiness: ReadinessProbe;
  readonly registry: Registry;
}

/** Builds the HTTP app (not listening). */
export function buildHttp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get("/healthz", () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const reasons = deps.readiness();
    if (reasons.length > 0) return reply.code(503).send({ status: "not_ready", reasons });
    return { status: "ready" };
  });
  app.get("/metrics", async (_req, reply) => {
    const body = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(body);
  });
  return app;
}
