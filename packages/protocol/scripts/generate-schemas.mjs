// Writes one JSON Schema file per top-level message to schemas/ and the conformance vectors to
// vectors/, from the compiled dist/ (so the build needs nothing but node); removes stale files.
// Usage: node scripts/generate-schemas.mjs [schemasDir] [vectorsDir]
import process from "node:process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MESSAGE_CODECS, jsonSchemaDocument, schemaFileName } from "../dist/index.js";
import { conformanceVectors } from "../dist/vectors.js";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(here, "..", "schemas"));
mkdirSync(outDir, { recursive: true });

const wanted = new Set();
for (const codec of MESSAGE_CODECS) {
  const file = schemaFileName(codec.name);
  wanted.add(file);
  writeFileSync(join(outDir, file), `${JSON.stringify(jsonSchemaDocument(codec), null, 2)}\n`);
}
for (const file of readdirSync(outDir)) {
  if (file.endsWith(".schema.json") && !wanted.has(file)) rmSync(join(outDir, file));
}
const vectorsDir = resolve(process.argv[3] ?? join(here, "..", "vectors"));
mkdirSync(vectorsDir, { recursive: true });
const vectors = conformanceVectors();
for (const [file, content] of Object.entries(vectors)) writeFileSync(join(vectorsDir, file), `${JSON.stringify(content, null, 2)}\n`);
for (const file of readdirSync(vectorsDir)) {
  if (file.endsWith(".json") && !(file in vectors)) rmSync(join(vectorsDir, file));
}
process.stdout.write(`generate-schemas: ${wanted.size} schemas in ${outDir}, ${Object.keys(vectors).length} vector files in ${vectorsDir}\n`);
