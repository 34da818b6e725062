// Renders docs/benchmarks.md and docs/benchmarks/*.svg from results/latest.json (and ANALYSIS.md).
// `pnpm --filter @session-bot/bench report`; also called at the end of `bench`.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderCharts, renderMarkdown } from "../src/render.js";
import type { Results } from "../src/results.js";

const PKG = fileURLToPath(new URL("..", import.meta.url));
const DOCS = join(PKG, "..", "..", "docs");

export async function writeReport(results: Results): Promise<void> {
  const analysisFile = join(PKG, "ANALYSIS.md");
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, "utf8") : "(no analysis written yet)";
  mkdirSync(join(DOCS, "benchmarks"), { recursive: true });
  for (const [name, svg] of Object.entries(await renderCharts(results))) writeFileSync(join(DOCS, "benchmarks", name), svg);
  writeFileSync(join(DOCS, "benchmarks.md"), renderMarkdown(results, analysis));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = JSON.parse(readFileSync(join(PKG, "results", "latest.json"), "utf8")) as Results;
  await writeReport(results);
  console.log("wrote docs/benchmarks.md and docs/benchmarks/*.svg");
}
