import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * The gateway's single AJV instance: configuration, broker replies and plugin configs are
 * checked with it. Validators are compiled once (at start, or once per plugin manifest revision),
 * never per request. Fastify keeps its own instance for route schemas.
 */
export const ajv: Ajv = addFormats(
  new Ajv({
    allErrors: true,
    strict: false,
    // Plugin config schemas come from plugin authors; keep `$id`s from different manifests apart.
    addUsedSchema: false,
  }),
);

/** AJV errors as `{ path, message }` pairs, safe to return to a client (no data values). */
export function describeErrors(errors: ErrorObject[] | null | undefined): { path: string; message: string }[] {
  return (errors ?? []).map((e) => ({ path: e.instancePath || "/", message: e.message ?? e.keyword }));
}
