// The conformance vectors other languages run: the reference implementation must satisfy them, the
// JSON Schema files alone must reject every invalid vector, and the committed files must be current.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { MESSAGE_CODECS, schemaFileName } from "./registry.js";
import { conformanceVectors, invalidVectors } from "./vectors.js";
import { catchError } from "./test-support.js";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const root = join(dirname(fileURLToPath(import.meta.url)), "..");

describe("conformance vectors", () => {
  const independent = new Ajv({ allErrors: true, strict: false });
  addFormats(independent);
  const validators = new Map(
    MESSAGE_CODECS.map((c) => [c.name, independent.compile(JSON.parse(readFileSync(join(root, "schemas", schemaFileName(c.name)), "utf8")) as object)]),
  );

  it("committed vectors/*.json are what the build generates", () => {
    for (const [file, content] of Object.entries(conformanceVectors())) {
      expect(JSON.parse(readFileSync(join(root, "vectors", file), "utf8"))).toEqual(JSON.parse(JSON.stringify(content)));
    }
  });

  it.each(invalidVectors().map((v) => [v.description, v] as const))("invalid: %s", (_d, vector) => {
    const codec = MESSAGE_CODECS.find((c) => c.name === vector.message)!;
    const err = catchError(() => codec.parse(vector.value));
    expect(err.code).toBe(vector.code);
    expect(err.problems.map((p) => p.instancePath)).toContain(vector.pointer);
    // The language-neutral schema alone refuses it too.
    expect(validators.get(vector.message)!(vector.value)).toBe(false);
  });

  it("valid vectors pass the language-neutral schemas", () => {
    const valid = conformanceVectors()["valid.json"] as Record<string, unknown[]>;
    for (const [name, values] of Object.entries(valid)) for (const v of values) expect(validators.get(name)!(v)).toBe(true);
  });
});
