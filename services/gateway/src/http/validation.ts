/**
 * Validators of HTTP input. Query strings and path parameters arrive as text, so they are
 * coerced to the schema's types; JSON bodies are not (a number where a string belongs is an
 * error, not a string). Hence two AJV instances here, both built once at start, next to the
 * gateway's own one in `validation/ajv.ts` — Fastify would otherwise coerce everything.
 */
import { Ajv, type AnySchema } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** A validator compiler for Fastify that knows the shared (`$id`) schemas. */
export function createHttpValidatorCompiler(shared: readonly AnySchema[]): FastifySchemaCompiler<AnySchema> {
  const options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
  const body = addFormats(new Ajv({ ...options, coerceTypes: false }));
  const text = addFormats(new Ajv({ ...options, coerceTypes: "array" }));
  for (const s of shared) {
    body.addSchema(s);
    text.addSchema(s);
  }
  return ({ schema, httpPart }) => (httpPart === "body" ? body : text).compile(schema);
}
