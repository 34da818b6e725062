import { Type } from "@sinclair/typebox";
import type { Fleet } from "../../fleet/fleet.js";
import { ref } from "../../schemas/api.js";
import { DeadLetterPage, Id, PageQuery, RetryResult } from "../../schemas/dto.js";
import type { App } from "../shared.js";

/** Dead letters kept by the broker, and retrying one. */
export function deadLetterRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/dead-letters",
    {
      schema: {
        tags: ["dead-letters"],
        summary: "Messages that failed permanently (inbound past max_deliver, outbound refused), paged.",
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
        summary: "Republish a dead letter to its original subject.",
        params: Type.Object({ id: Id }, { additionalProperties: false }),
        response: { 200: ref(RetryResult) },
      },
    },
    (request) => deps.fleet.broker.retryDeadLetter(request.params.id),
  );
}
