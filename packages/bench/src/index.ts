export { quantile, summarize } from "./stats.js";
export type { LatencySummary } from "./stats.js";
export type { Results, Profile, ProfileFrame, Target } from "./results.js";
export { chartSpecs, renderCharts, renderMarkdown, svgOf } from "./render.js";
export { topFrames } from "./profile.js";
