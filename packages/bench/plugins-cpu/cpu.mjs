// Bench plugin (plain ESM, loaded by plugin-host from PLUGIN_HOST_PLUGIN_DIR): a CPU-bound handler.
// Each message costs a fixed amount of work, BENCH_CPU_ITERS rounds of SHA-256 (the bench calibrates
// it to about BENCH_CPU_MS of one core), done synchronously so it holds the worker's event loop
// like real CPU-bound plugin code; then it answers with one text.
/* global Buffer, process */
import { createHash } from "node:crypto";

export function burn(iters) {
  let h = Buffer.alloc(32);
  for (let i = 0; i < iters; i++) h = createHash("sha256").update(h).digest();
  return h;
}

const ITERS = Number(process.env.BENCH_CPU_ITERS ?? 2000);

export default {
  name: "benchcpu",
  version: "1.0.0",
  description: "Bench: CPU-bound handler (fixed work per message).",
  async onMessage(ctx) {
    burn(ITERS);
    await ctx.reply("ok");
  },
};
