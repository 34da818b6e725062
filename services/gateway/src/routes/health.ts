import type { Fleet } from "../fleet/fleet.js";
import type { Metrics } from "../metrics/metrics.js";
import { Health, Readiness, ref } from "../schemas/api.js";
import type { App } from "./shared.js";

/** `/healthz`, `/readyz`, `/metrics`: no token, for probes and scrapers. */
export function healthRoutes(app: App, deps: { fleet: Fleet; metrics: Metrics }): void {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["health"],
        summary: "The process is alive (no dependency is checked).",
        response: { 200: ref(Health) },
      },
    },
    () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "NATS is connected, the broker answers and at least one plugin-host is registered.",
        description: "503 with the same body when a check fails; `checks` says which one.",
        response: { 200: ref(Readiness), 503: ref(Readiness) },
      },
    },
    async (_request, reply) => {
      const readiness = await deps.fleet.readiness();
      return reply.code(readiness.status === "ready" ? 200 : 503).send(readiness);
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        tags: ["health"],
        summary: "Prometheus metrics of the gateway and of the fleet (read live from the services API and JetStream).",
        produces: ["text/plain"],
        response: {
          200: {
            description: "Prometheus text exposition format.",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        },
      },
    },
    async (_request, reply) => {
      await deps.metrics.refreshFleet();
      const body = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(body);
    },
  );
}
