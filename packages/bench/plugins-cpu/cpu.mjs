// Bench plugin (plain ESM, loaded by plugin-host from PLUGIN_HOST_PLUGIN_DIR): a CPU-bound handler.
// Each message costs a fixed amount of work, BENCH_CPU_ITERS rounds of JSON encode + decode of a
// 50-item document (the bench calibrates it to about BENCH_CPU_MS of one core), done synchronously
// so it holds the worker's event loop like real CPU-bound plugin code; then it answers with one text.
//
// Not SHA-256: the two vCPUs of the development VM share one core's SHA throughput (two bare
// processes hashing get 1.0–1.15× one), so hashing measures the VM, not the workers. Plain
// JavaScript work runs on both vCPUs at full speed (two bare processes: 2.0×).
/* global process */

const DOC = { items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ["a", "b", "c"], price: i * 1.5, ok: i % 2 === 0 })) };

export function burn(iters) {
  let n = 0;
  for (let i = 0; i < iters; i++) n += JSON.parse(JSON.stringify(DOC)).items.length;
  return n;
}

const ITERS = Number(process.env.BENCH_CPU_ITERS ?? 200);

export default {
  name: "benchcpu",
  version: "1.0.0",
  description: "Bench: CPU-bound handler (fixed work per message).",
  async onMessage(ctx) {
    burn(ITERS);
    await ctx.reply("ok");
  },
};
