// Writes one JSON Schema file per top-level message to schemas/ from the compiled dist/ (so the
// build needs nothing but node), and removes stale *.schema.json files.
// Usage: node scripts/generate-schemas.mjs [outDir]
import process from "node:process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MESSAGE_CODECS, jsonSchemaDocument, schemaFileName } from "../dist/index.js";

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
process.stdout.write(`generate-schemas: ${wanted.size} files in ${outDir}\n`);
