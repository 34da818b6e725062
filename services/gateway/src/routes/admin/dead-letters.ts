import type { Fleet } from "../../fleet/fleet.js";
import { ref } from "../../schemas/api.js";
import { Ack, DeadLetterPage, DeadLetterParams, PageQuery } from "../../schemas/dto.js";
import type { App } from "../shared.js";

/** Dead letters kept by the broker, and retrying one. */
export function deadLetterRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/dead-letters",
    {
      schema: {
        tags: ["dead-letters"],
        summary: "Messages that failed permanently (inbound past max_deliver, outbound refused), newest first, paged.",
        querystring: PageQuery,
        response: { 200: ref(DeadLetterPage) },
      },
    },
    (request) => deps.fleet.broker.deadLetters(request.query),
  );

  app.post(
    "/dead-letters/:id/retry",
    {
      schema: {
        tags: ["dead-letters"],
        summary: "Republish a dead letter's payload to its original subject.",
        params: DeadLetterParams,
        response: { 200: ref(Ack) },
      },
    },
    (request) => deps.fleet.broker.retryDeadLetter(request.params.id),
  );
}
