import type { ErrorObject } from "ajv";
import { ajv } from "@session-bot/protocol";

/**
 * The workspace's single AJV instance (from @session-bot/protocol, per docs/decisions.md): the
 * configuration schema is compiled with it once at start. Fastify's route validators live in
 * `http/validation.ts`.
 */
export { ajv };

/** AJV errors as `{ path, message }` pairs, safe to return to a client (no data values). */
export function describeErrors(errors: ErrorObject[] | null | undefined): { path: string; message: string }[] {
  return (errors ?? []).map((e) => ({ path: e.instancePath || "/", message: e.message ?? e.keyword }));
}
