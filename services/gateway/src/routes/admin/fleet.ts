import type { Fleet } from "../../fleet/fleet.js";
import { StreamList, WorkerList, ref } from "../../schemas/api.js";
import type { App } from "../shared.js";

/** plugin-host workers and JetStream streams. */
export function fleetRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/workers",
    {
      schema: {
        tags: ["fleet"],
        summary: "plugin-host instances with their live stats ($SRV.STATS): requests, errors, in-flight, per-plugin counters.",
        response: { 200: ref(WorkerList) },
      },
    },
    () => deps.fleet.workers(),
  );

  app.get(
    "/streams",
    {
      schema: {
        tags: ["fleet"],
        summary: "JetStream streams of the bot with their consumers' lag.",
        response: { 200: ref(StreamList) },
      },
    },
    () => deps.fleet.streams(),
  );
}
