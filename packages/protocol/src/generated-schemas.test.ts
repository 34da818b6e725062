// The committed JSON Schema files are what other languages use: check that they are exactly what
// the code generates, that they are valid draft-07 JSON Schema, and that an independent validator
// (a fresh AJV without the discriminator extension) agrees with the package's codecs.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { MESSAGE_CODECS, jsonSchemaDocument, schemaFileName } from "./registry.js";
import { sampleMessages } from "./samples.js";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const schemasDir = join(dirname(fileURLToPath(import.meta.url)), "..", "schemas");

function readSchema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(schemasDir, file), "utf8")) as Record<string, unknown>;
}

describe("schemas/*.schema.json", () => {
  it("holds exactly one file per top-level message", () => {
    const files = readdirSync(schemasDir).filter((f) => f.endsWith(".schema.json")).sort();
    expect(files).toEqual(MESSAGE_CODECS.map((c) => schemaFileName(c.name)).sort());
  });

  it("names files in kebab case", () => {
    expect(schemaFileName("InboundEvent")).toBe("inbound-event.schema.json");
    expect(schemaFileName("AttachmentGetRequest")).toBe("attachment-get-request.schema.json");
  });

  // A fresh, independent validator: plain draft-07 (the `discriminator` keyword is only an annotation for it).
  const independent = new Ajv({ allErrors: true, strict: false });
  addFormats(independent);
  const samples = sampleMessages();

  for (const codec of MESSAGE_CODECS) {
    const file = schemaFileName(codec.name);
    describe(file, () => {
      const doc = readSchema(file);

      it("is what the build generates (run `pnpm build` and commit schemas/ if not)", () => {
        expect(doc).toEqual(jsonSchemaDocument(codec));
      });

      it("is valid draft-07 JSON Schema with $schema, $id and title", () => {
        expect(doc["$schema"]).toBe("http://json-schema.org/draft-07/schema#");
        expect(doc["$id"]).toMatch(/^https:\/\/.+\.schema\.json$/);
        expect(doc["title"]).toBe(codec.name);
        expect(independent.validateSchema(doc)).toBe(true);
      });

      it("compiles in an independent validator that agrees with the codec", () => {
        const validate = independent.getSchema(String(doc["$id"])) ?? independent.compile(doc);
        for (const sample of samples[codec.name] ?? []) {
          expect(validate(sample)).toBe(true);
          const broken = { ...(sample as object), v: 2 };
          expect(validate(broken)).toBe(codec.is(broken));
          expect(validate({})).toBe(false);
        }
      });
    });
  }
});
