import type { FastifyInstance, RawServerDefault } from "fastify";
import type { FastifyBaseLogger, RawReplyDefaultExpression, RawRequestDefaultExpression } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Problem, ref } from "../schemas/api.js";
import { PROBLEM_CONTENT_TYPE } from "../http/problem.js";

/** The Fastify instance routes are registered on (TypeBox types from the route schemas). */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Problem responses every route may give (added to each route by `app.ts`). */
export const problemResponses = {
  "4xx": {
    description: "The request was refused (RFC 9457 problem, see `code`).",
    content: { [PROBLEM_CONTENT_TYPE]: { schema: ref(Problem) } },
  },
  "5xx": {
    description: "The gateway or the fleet failed (RFC 9457 problem, see `code`).",
    content: { [PROBLEM_CONTENT_TYPE]: { schema: ref(Problem) } },
  },
} as const;

export const bearerSecurity = [{ bearerAuth: [] }];

declare module "fastify" {
  interface FastifyRequest {
    /** Who an authenticated admin request acts as (`gateway:token-<n>`); empty outside /admin. */
    adminActor: string;
  }
}
