/**
 * Renders `results/latest.json` into `docs/benchmarks.md` and SVG charts (vega-lite compiled to
 * vega, rendered headlessly by vega's SVG renderer: no browser, no canvas).
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Results } from "./results.js";

const round = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }) : "—");
const mark = (met: boolean): string => (met ? "met" : "**missed**");

export async function svgOf(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const base = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", width: 420, height: 220, background: "white", config: { legend: { labelLimit: 320 }, axis: { labelLimit: 320 } } } as const;

/** The chart specs of a run, by file name (under docs/benchmarks/). */
export function chartSpecs(r: Results): Record<string, TopLevelSpec> {
  const bus = [
    { case: "raw JetStream publish-with-ack", value: r.bus.raw.msgsPerSec },
    { case: `bus pipeline, ${r.bus.partitions} partitions (default)`, value: r.bus.pipeline.msgsPerSec },
    { case: "bus pipeline, 64 partitions", value: r.bus.pipeline64.msgsPerSec },
  ];
  const lat = [
    { case: "raw publish-with-ack", q: "p50", ms: r.bus.raw.halfRateLatency.p50Ms },
    { case: "raw publish-with-ack", q: "p99", ms: r.bus.raw.halfRateLatency.p99Ms },
    { case: "bus pipeline", q: "p50", ms: r.bus.pipeline.halfRate.latency.p50Ms },
    { case: "bus pipeline", q: "p99", ms: r.bus.pipeline.halfRate.latency.p99Ms },
  ];
  const scaling = r.scaling.rows.flatMap((x) => [
    { workers: String(x.workers), what: "plugin-host workers", value: x.msgsPerSec },
    { workers: String(x.workers), what: "bare processes (baseline)", value: x.bareMsgsPerSec },
  ]);
  const loop = r.fullLoop.latenciesMs.map((ms) => ({ ms }));
  const startup = r.resources.startup.map((s) => ({ service: s.service, ms: s.readyMs }));
  const rss = [
    { what: "bare Node.js process", mb: r.resources.bareNodeRssMb },
    { what: "broker, empty database, ready", mb: r.resources.brokerRssMb.emptyReady },
    { what: "broker, ready", mb: r.resources.brokerRssMb.ready },
    { what: "broker, conversations listed", mb: r.resources.brokerRssMb.afterListing },
    { what: "broker, after full loop", mb: r.resources.brokerRssMb.afterLoop },
    { what: "broker, peak (VmHWM)", mb: r.resources.brokerRssMb.peak },
  ];
  const rule = (v: number, axis: "x" | "y") => ({ data: { values: [{}] }, mark: { type: "rule" as const, color: "firebrick", strokeDash: [4, 3], strokeWidth: 2 }, encoding: { [axis]: { datum: v } } });
  return {
    "bus-throughput.svg": {
      ...base,
      title: "Bus: messages/s (target ≥ 10,000, dashed)",
      layer: [
        { data: { values: bus }, mark: "bar", encoding: { y: { field: "case", type: "nominal", title: null }, x: { field: "value", type: "quantitative", title: "messages/s" } } },
        rule(10_000, "x"),
      ],
    },
    "bus-latency.svg": {
      ...base,
      title: `Latency at ~half the maximum rate (${round(r.bus.pipeline.halfRate.achievedPerSec)}/s)`,
      data: { values: lat },
      mark: { type: "point", filled: true, size: 160 },
      encoding: {
        y: { field: "case", type: "nominal", title: null },
        x: { field: "ms", type: "quantitative", title: "ms (log scale)", scale: { type: "log" } },
        color: { field: "q", type: "nominal", title: "quantile" },
        shape: { field: "q", type: "nominal", title: "quantile" },
      },
    },
    "scaling.svg": {
      ...base,
      title: `Scaling on a ${r.scaling.cpuMs} ms CPU-bound plugin (dashed: one core's ideal)`,
      layer: [
        {
          data: { values: scaling },
          mark: "bar",
          encoding: {
            x: { field: "workers", type: "ordinal", title: "processes", axis: { labelAngle: 0 } },
            xOffset: { field: "what" },
            color: { field: "what", type: "nominal", title: null },
            y: { field: "value", type: "quantitative", title: "messages/s" },
          },
        },
        rule(r.scaling.idealOneCorePerSec, "y"),
      ],
    },
    "full-loop-latency.svg": {
      ...base,
      title: `Full loop latency, ${r.fullLoop.replies} replies (chat → devnet → bot → chat)`,
      data: { values: loop },
      mark: "bar",
      encoding: { x: { field: "ms", type: "quantitative", bin: { maxbins: 30 }, title: "ms" }, y: { aggregate: "count", type: "quantitative", title: "replies" } },
    },
    "startup.svg": {
      ...base,
      title: "Start-up to ready (target ≤ 2,000 ms, dashed)",
      layer: [
        { data: { values: startup }, mark: "bar", encoding: { y: { field: "service", type: "nominal", title: null, sort: null }, x: { field: "ms", type: "quantitative", title: "ms" } } },
        rule(2_000, "x"),
      ],
    },
    "broker-rss.svg": {
      ...base,
      title: `RSS with ${round(r.resources.conversations)} conversations (target ≤ 200 MB, dashed)`,
      layer: [
        { data: { values: rss }, mark: "bar", encoding: { y: { field: "what", type: "nominal", title: null, sort: null }, x: { field: "mb", type: "quantitative", title: "MB" } } },
        rule(200, "x"),
      ],
    },
  };
}

export async function renderCharts(r: Results): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(chartSpecs(r))) out[name] = await svgOf(spec);
  return out;
}

function latencyRow(name: string, l: { count: number; p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number }): string {
  return `| ${name} | ${l.count} | ${round(l.p50Ms, 2)} | ${round(l.p90Ms, 2)} | ${round(l.p99Ms, 2)} | ${round(l.maxMs, 2)} |`;
}

/** The markdown report. `analysis` is the hand-written part (bottlenecks), kept beside the generator. */
export function renderMarkdown(r: Results, analysis: string): string {
  const m = r.meta;
  const l = (a: number[]) => a.map((x) => x.toFixed(2)).join(" / ");
  const samples = m.loadSamples.length > 0 ? `${Math.min(...m.loadSamples).toFixed(2)}–${Math.max(...m.loadSamples).toFixed(2)}` : "—";
  const lines: string[] = [];
  lines.push(
    "# Benchmarks",
    "",
    "<!-- Generated by `pnpm --filter @session-bot/bench bench` (measures, then renders) or `pnpm --filter @session-bot/bench report` (renders packages/bench/results/latest.json again). Edit packages/bench/src/render.ts or packages/bench/ANALYSIS.md, not this file. -->",
    "",
    `Run of ${m.date} on ${m.cpus} CPUs (${m.cpuModel}), Node.js ${m.node}, ${round(m.durationS)} s in all. Results: \`packages/bench/results/latest.json\`.`,
    "",
    `**Machine load.** Load average (1/5/15 min) ${l(m.loadBefore)} before, ${l(m.loadAfter)} after, 1-minute load sampled during the run ${samples} on ${m.cpus} cores (the run's own processes included; the busiest processes at the start are listed below). The machine is a shared VM and its speed varies from run to run, so every figure below is given beside a baseline measured in the same run, and the ratio is the number to compare between runs.`,
    "",
  );
  if (m.busyProcesses.length > 0) lines.push("Busiest other processes when the run started (`ps`, %CPU):", "", "```", ...m.busyProcesses, "```", "");
  lines.push("## Targets", "", "| part | what | target | measured | |", "| --- | --- | --- | --- | --- |");
  for (const t of r.targets) lines.push(`| ${t.part} | ${t.what} | ${t.target} | ${t.measured} | ${mark(t.met)} |`);
  lines.push("");

  const b = r.bus;
  lines.push(
    "## 1. Bus pipeline",
    "",
    `${b.events} synthetic \`InboundEvent\`s (200 conversations, ${b.partitions} partitions) published to \`SB_INBOUND\` with \`@session-bot/js-publisher\` (as the broker does) → one plugin-host worker process (\`PLUGIN_HOST_CONCURRENCY=${b.concurrency}\`, only the \`benchnoop\` plugin: one text reply per event, no work) → \`SB_OUTBOUND\` → a durable pull consumer standing for the broker's \`sb_broker_out_<bot>\` (decodes each action with protocol's codec and acks it). Throughput = events / (first publish → last action consumed), best of 3 rounds. The baseline, in the same run on the same nats-server: raw JetStream publish-with-ack of the same number of events (256 publishes in flight, as for the pipeline; best of 3 rounds) to a stream of the same configuration.`,
    "",
    "| case | messages/s | × raw |",
    "| --- | --- | --- |",
    `| raw JetStream publish-with-ack, nats.js \`js.publish()\` (baseline) | ${round(b.raw.msgsPerSec)} | 1.00 |`,
    `| raw JetStream publish-with-ack, \`@session-bot/js-publisher\` (diagnostic) | ${round(b.raw.publisherMsgsPerSec)} | ${round(b.raw.publisherMsgsPerSec / b.raw.msgsPerSec, 2)} |`,
    `| bus pipeline, ${b.partitions} partitions (the default) | ${round(b.pipeline.msgsPerSec)} | ${round(b.pipeline.ratioToRaw, 2)} |`,
    `| bus pipeline, 64 partitions (diagnostic) | ${round(b.pipeline64.msgsPerSec)} | ${round(b.pipeline64.ratioToRaw, 2)} |`,
    "",
    "![bus throughput](benchmarks/bus-throughput.svg)",
    "",
    "Where the CPU goes: CPU time (utime + stime from /proc, and `process.cpuUsage()` for the driver) of each process over the throughput rounds, per event. The machine has 2 cores, so the pipeline cannot pass 2,000,000 µs ÷ (the sum) events/s, whatever the design.",
    "",
    "| process | CPU µs per event |",
    "| --- | --- |",
    `| plugin-host (the worker, profiled) | ${round(b.pipeline.cpuUsPerEvent.pluginHost)} |`,
    `| nats-server (two streams: each event is stored twice, delivered twice, acked twice) | ${round(b.pipeline.cpuUsPerEvent.natsServer)} |`,
    `| bench driver (publishes the events as the broker does, consumes the actions as the broker's outbound consumer does) | ${round(b.pipeline.cpuUsPerEvent.benchDriver)} |`,
    `| sum → ceiling on 2 cores | ${round(b.pipeline.cpuUsPerEvent.pluginHost + b.pipeline.cpuUsPerEvent.natsServer + b.pipeline.cpuUsPerEvent.benchDriver)} → ${round(2_000_000 / (b.pipeline.cpuUsPerEvent.pluginHost + b.pipeline.cpuUsPerEvent.natsServer + b.pipeline.cpuUsPerEvent.benchDriver))} events/s |`,
    "",
    `Latency at about half the pipeline's maximum rate (paced at ${round(b.pipeline.halfRate.targetPerSec)}/s, achieved ${round(b.pipeline.halfRate.achievedPerSec)}/s). Measured for ~4 s after a 2 s pause and 1 s at the same rate that is not measured (steady state, not the recovery from the max-rate rounds). Pipeline latency = publish start → the action reaches the outbound consumer (so it includes one publish-with-ack); raw = one publish-with-ack at the same pace.`,
    "",
    "| case | n | p50 ms | p90 ms | p99 ms | max ms |",
    "| --- | --- | --- | --- | --- | --- |",
    latencyRow("raw publish-with-ack (baseline)", b.raw.halfRateLatency),
    latencyRow("bus pipeline, end to end", b.pipeline.halfRate.latency),
    latencyRow(`bus pipeline at a quarter of the maximum (${round(b.quarterRate.targetPerSec)}/s, diagnostic)`, b.quarterRate.latency),
    "",
    "![bus latency](benchmarks/bus-latency.svg)",
    "",
  );

  const s = r.scaling;
  lines.push(
    "## 2. Scaling",
    "",
    `${s.events} events through 1, 2 and 4 plugin-host worker processes running only \`benchcpu\`, a plugin that does a fixed amount of CPU work per event (${s.cpuIters} rounds of JSON encode + decode of a 50-item document, calibrated at the start of this part to ≈ ${s.cpuMs} ms of one core, so ${round(s.idealOneCorePerSec)} events/s per free core) before replying. Baseline, in the same run just before each case: as many bare Node.js processes doing the same total work with no NATS and no plugin-host: what the machine gave to that many processes at that moment. "Cores used" = CPU seconds the workers got (utime + stime from /proc) per second of wall time.`,
    "",
    "| processes | workers msg/s | workers × 1 | bare msg/s (baseline) | bare × 1 | workers ÷ bare | cores used by the workers | events per worker |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...s.rows.map((x) => `| ${x.workers} | ${round(x.msgsPerSec)} | ${round(x.ratioToOne, 2)} | ${round(x.bareMsgsPerSec)} | ${round(x.bareRatioToOne, 2)} | ${round(x.msgsPerSec / x.bareMsgsPerSec, 2)} | ${round(x.workerCoresUsed, 2)} | ${x.eventsPerWorker.join(" / ")} |`),
    "",
    "![scaling](benchmarks/scaling.svg)",
    "",
    "Diagnostic, same run: the same workers with partition ownership off (`PLUGIN_HOST_PARTITION_OWNERSHIP=false`: every worker keeps a pull waiting on every partition, as plugin-host did before ownership). Ratios are to the 1-worker row above.",
    "",
    "| processes | workers msg/s | workers × 1 | bare × 1 | cores used by the workers | events per worker |",
    "| --- | --- | --- | --- | --- | --- |",
    ...s.withoutOwnership.map((x) => `| ${x.workers} | ${round(x.msgsPerSec)} | ${round(x.ratioToOne, 2)} | ${round(x.bareRatioToOne, 2)} | ${round(x.workerCoresUsed, 2)} | ${x.eventsPerWorker.join(" / ")} |`),
    "",
  );

  const f = r.fullLoop;
  lines.push(
    "## 3. Full loop",
    "",
    `${f.identities} chat identities (in-process \`SessionClient\`s, each with its own \`StorageRpcNetwork\`) each send ${f.perIdentity} \`/echo <token>\` messages, one after the other, to the bot through the devnet (HTTP, 6 snodes, 2 swarms) → broker (poll every ${f.brokerPollIntervalMs} ms) → JetStream → 2 plugin-host workers (echo) → broker → devnet → the identities (poll every ${f.clientPollIntervalMs} ms). Before the measured messages, each identity sends one message and waits for its reply (warm-up: codecs compiled, code JIT-compiled, each new conversation's message request accepted). Latency = before \`sendText\` → the reply is decrypted by the identity. Baseline: the identities' own send rate (store on the bot's swarm), which the loop cannot beat.`,
    "",
    "| | value |",
    "| --- | --- |",
    `| messages sent / replies received | ${f.sent} / ${f.replies} |`,
    `| identities' send rate (baseline) | ${round(f.sendPerSec)} messages/s |`,
    `| full loop, first send → last reply | ${round(f.msgsPerSec, 1)} messages/s (${round(f.ratioToSend, 2)}× the send rate) |`,
    `| full loop, sustained (replies between the 10th and 90th percentile of reply times) | ${round(f.sustainedMsgsPerSec, 1)} messages/s, all processes using ${round(f.sustainedCores, 2)} cores (${round((f.sustainedCores * 1e6) / f.sustainedMsgsPerSec)} µs CPU per message) |`,
    `| broker polls of its swarm (whole life) | ${round(f.brokerMetrics.polls)}, ${round((f.brokerMetrics.pollSecondsSum / f.brokerMetrics.polls) * 1000, 1)} ms each on average |`,
    `| broker publishes to SB_INBOUND | ${round(f.brokerMetrics.publishes)}, ${round((f.brokerMetrics.publishSecondsSum / f.brokerMetrics.publishes) * 1000, 2)} ms each on average |`,
    "",
    "| case | n | p50 ms | p90 ms | p99 ms | max ms |",
    "| --- | --- | --- | --- | --- | --- |",
    latencyRow("full loop", f.latency),
    "",
    "![full loop latency](benchmarks/full-loop-latency.svg)",
    "",
    "Where the CPU goes (utime + stime of each process from the first send to the last reply, per message; the bench driver is this process, which plays every identity). The sum bounds the loop on 2 cores at 2,000,000 µs ÷ the sum.",
    "",
    "| process | CPU µs per message |",
    "| --- | --- |",
    ...Object.entries(f.cpuUsPerMessage).map(([k, v]) => `| ${k} | ${round(v)} |`),
    `| sum → ceiling on 2 cores | ${round(Object.values(f.cpuUsPerMessage).reduce((a, b) => a + b, 0))} → ${round(2_000_000 / Object.values(f.cpuUsPerMessage).reduce((a, b) => a + b, 0))} messages/s |`,
    "",
  );

  const res = r.resources;
  lines.push(
    "## 4. Resources",
    "",
    `**Broker memory.** ${res.method}`,
    "",
    "| process | RSS MB |",
    "| --- | --- |",
    `| bare Node.js process (baseline) | ${round(res.bareNodeRssMb, 1)} |`,
    `| broker, ready, empty database (baseline) | ${round(res.brokerRssMb.emptyReady, 1)} |`,
    `| broker, ready, ${round(res.conversations)} conversations in its database | ${round(res.brokerRssMb.ready, 1)} |`,
    `| broker, after listing every conversation through \`sb.broker.<bot>.conversations\` | ${round(res.brokerRssMb.afterListing, 1)} |`,
    `| broker, after the full loop | ${round(res.brokerRssMb.afterLoop, 1)} |`,
    `| broker, peak (VmHWM) | ${round(res.brokerRssMb.peak, 1)} |`,
    "",
    "![broker RSS](benchmarks/broker-rss.svg)",
    "",
    `**Start-up to ready**, each process spawned on its own and timed to its readiness check (baseline: \`node -e ""\` start to exit, ${round(res.bareNodeStartMs)} ms):`,
    "",
    "| service | ready after ms | × bare Node.js | readiness check |",
    "| --- | --- | --- | --- |",
    ...res.startup.map((x) => `| ${x.service} | ${round(x.readyMs)} | ${round(x.readyMs / res.bareNodeStartMs, 1)} | ${x.readiness} |`),
    "",
    "![start-up](benchmarks/startup.svg)",
    "",
  );

  lines.push("## Profiles", "", "Each process below ran with `node --cpu-prof` during the run; the top frames by self time (all samples of the process's life, start-up included):", "");
  for (const p of r.profiles) {
    lines.push(`### ${p.process} (${round(p.durationMs / 1000, 1)} s profiled)`, "", "| self ms | share | frame |", "| --- | --- | --- |");
    for (const fr of p.top) lines.push(`| ${round(fr.selfMs)} | ${round(fr.share * 100, 1)} % | \`${fr.frame.replace(/\|/g, "\\|")}\` |`);
    lines.push("");
  }
  lines.push("## Analysis", "", analysis.trim(), "", "## Reproduce", "", "```sh", "pnpm --filter @session-bot/bench bench    # measure (≈ 3–5 min), write results/latest.json, render this page", "pnpm --filter @session-bot/bench report   # render this page and the charts again from results/latest.json", "```", "");
  return lines.join("\n");
}
