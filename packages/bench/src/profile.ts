/** Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and lists the top frames by self time. */
import type { Profile, ProfileFrame } from "./results.js";

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

function shorten(url: string): string {
  const u = url.replace(/^file:\/\//, "");
  const pnpm = u.indexOf("/node_modules/.pnpm/");
  if (pnpm >= 0) {
    const rest = u.slice(pnpm + "/node_modules/.pnpm/".length);
    const nm = rest.indexOf("/node_modules/");
    return nm >= 0 ? rest.slice(nm + "/node_modules/".length) : rest;
  }
  const m = /\/(services|packages|plugins)\/(.*)$/.exec(u);
  return m ? `${m[1]}/${m[2]}` : u;
}

export function topFrames(processName: string, profile: CpuProfile, n = 12): Profile {
  const durationMs = (profile.endTime - profile.startTime) / 1000;
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, deltas[i] ?? 0));
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const cf = node.callFrame;
    const name = cf.functionName === "" ? "(anonymous)" : cf.functionName;
    const frame = cf.url === "" ? name : `${name} (${shorten(cf.url)}:${cf.lineNumber + 1})`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + us);
    total += us;
  }
  const top: ProfileFrame[] = [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: total === 0 ? 0 : us / total }));
  return { process: processName, durationMs, top };
}
