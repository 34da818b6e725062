import type { Fleet } from "../../fleet/fleet.js";
import { ref } from "../../schemas/api.js";
import { StreamStatusList, WorkerList } from "../../schemas/dto.js";
import type { App } from "../shared.js";

/** plugin-host workers and JetStream streams. */
export function fleetRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/workers",
    {
      schema: {
        tags: ["fleet"],
        summary: "plugin-host instances of the bot with their live stats ($SRV.STATS): in-flight, handled, errors, per-plugin counters.",
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
        summary: "The bus streams (SB_INBOUND, SB_OUTBOUND, SB_DEAD) with their consumers' lag; a stream not created yet is absent.",
        response: { 200: ref(StreamStatusList) },
      },
    },
    () => deps.fleet.streams(),
  );
}
