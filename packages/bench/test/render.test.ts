// The report generator renders valid SVG charts and the markdown page from a fixture of results.
// Nothing here measures anything or depends on speed.
import { readFileSync } from "node:fs";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { chartSpecs, renderCharts, renderMarkdown } from "../src/render.js";
import type { Results } from "../src/results.js";
import { quantile, summarize } from "../src/stats.js";
import { topFrames } from "../src/profile.js";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/results.json", import.meta.url), "utf8")) as Results;

describe("report", () => {
  it("renders every chart as well-formed SVG with its data drawn", async () => {
    const charts = await renderCharts(fixture);
    expect(Object.keys(charts).sort()).toEqual(Object.keys(chartSpecs(fixture)).sort());
    for (const [name, svg] of Object.entries(charts)) {
      expect(XMLValidator.validate(svg), name).toBe(true);
      const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as { svg?: Record<string, unknown> };
      expect(doc.svg, name).toBeDefined();
      expect(svg).toMatch(/<path|<rect/);
    }
    expect(charts["bus-throughput.svg"]).toContain("raw JetStream publish-with-ack");
  });

  it("renders the markdown with every section, table and chart link", () => {
    const md = renderMarkdown(fixture, "The analysis.");
    for (const h of ["# Benchmarks", "## Targets", "## 1. Bus pipeline", "## 2. Scaling", "## 3. Full loop", "## 4. Resources", "## Profiles", "## Analysis"]) expect(md).toContain(h);
    for (const name of Object.keys(chartSpecs(fixture))) expect(md).toContain(`(benchmarks/${name})`);
    expect(md).toContain("| bus | throughput | ≥ 10,000 msg/s | 2,000 msg/s | **missed** |");
    expect(md).toContain("The analysis.");
    // A pipe inside a frame name must not break the table.
    expect(md).toContain("a\\|b (x.js:1)");
    // Every table row has as many cells as its header.
    const lines = md.split("\n");
    for (let i = 1; i < lines.length; i++) {
      if (/^\| -/.test(lines[i]!)) {
        const cols = lines[i]!.split("|").length;
        for (let j = i + 1; j < lines.length && lines[j]!.startsWith("|"); j++) expect(lines[j]!.replace(/\\\|/g, "").split("|").length, lines[j]).toBe(cols);
      }
    }
  });
});

describe("stats and profiles", () => {
  it("takes nearest-rank quantiles", () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(Number.isNaN(quantile([], 0.5))).toBe(true);
    expect(summarize([1, 2, 3]).count).toBe(3);
  });

  it("sums self time per frame of a cpuprofile", () => {
    const p = topFrames("x", {
      startTime: 0,
      endTime: 3000,
      nodes: [
        { id: 1, callFrame: { functionName: "", url: "", lineNumber: 0 } },
        { id: 2, callFrame: { functionName: "hot", url: "file:///work/main/services/broker/dist/a.js", lineNumber: 9 } },
      ],
      samples: [2, 2, 1],
      timeDeltas: [1000, 1000, 1000],
    });
    expect(p.top[0]).toEqual({ frame: "hot (services/broker/dist/a.js:10)", selfMs: 2, share: 2 / 3 });
  });
});
