/** Shape of `results/latest.json`: everything one `pnpm bench` run measured. */
import type { LatencySummary } from "./stats.js";

export interface ProfileFrame {
  /** `function (file:line)`, repository paths shortened. */
  frame: string;
  selfMs: number;
  /** Share of all samples of the profile, 0..1. */
  share: number;
}

export interface Profile {
  process: string;
  durationMs: number;
  top: ProfileFrame[];
}

export interface Target {
  part: string;
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Results {
  meta: {
    date: string;
    durationS: number;
    cpus: number;
    cpuModel: string;
    node: string;
    loadBefore: number[];
    loadAfter: number[];
    /** 1-minute load average sampled every few seconds during the run. */
    loadSamples: number[];
    /** Other processes using noticeable CPU at the start (top of `ps`), for the record. */
    busyProcesses: string[];
  };
  bus: {
    events: number;
    partitions: number;
    concurrency: number;
    /** Raw publish-with-ack: nats.js's js.publish() (the baseline), and @session-bot/js-publisher (diagnostic). */
    raw: { msgsPerSec: number; publisherMsgsPerSec: number; halfRateLatency: LatencySummary };
    /** Diagnostic: pipeline latency at a quarter of the maximum rate. */
    quarterRate: { targetPerSec: number; latency: LatencySummary };
    /** Diagnostic: the same pipeline with 64 partitions. */
    pipeline64: { msgsPerSec: number; ratioToRaw: number };
    pipeline: {
      msgsPerSec: number;
      ratioToRaw: number;
      /** CPU time (utime + stime) per event of each process over the throughput rounds, µs. */
      cpuUsPerEvent: { pluginHost: number; natsServer: number; benchDriver: number };
      halfRate: { targetPerSec: number; achievedPerSec: number; latency: LatencySummary } };
  };
  scaling: {
    cpuMs: number;
    events: number;
    /** One core doing nothing but the plugin's work: 1000 / cpuMs events/s. */
    idealOneCorePerSec: number;
    /** JSON rounds per message, calibrated at the start of the scaling part to ≈ cpuMs of one core. */
    cpuIters: number;
    rows: {
      workers: number;
      msgsPerSec: number;
      ratioToOne: number;
      /** Baseline: as many bare Node.js processes doing the same total work (no NATS). */
      bareMsgsPerSec: number;
      bareRatioToOne: number;
      /** CPU seconds the workers got per second of wall time while the events ran. */
      workerCoresUsed: number;
      /** Events acked by each worker (its /metrics). */
      eventsPerWorker: number[];
    }[];
    /** Diagnostic, same run: 2 and 4 workers with partition ownership off (every worker pulls every partition). */
    withoutOwnership: Results["scaling"]["rows"];
  };
  fullLoop: {
    identities: number;
    perIdentity: number;
    sent: number;
    replies: number;
    /** The chat identities' own send rate to the devnet (the baseline: the loop cannot beat it). */
    sendPerSec: number;
    /** Replies / (first send → last reply). */
    msgsPerSec: number;
    /** Replies between the 10th and 90th percentile of reply times, per second (no ramp-up, no tail). */
    sustainedMsgsPerSec: number;
    /** CPU cores all the loop's processes (the bench driver included) used in that window (100 ms samples). */
    sustainedCores: number;
    /** CPU time per message of each process over the loop (first send → last reply), µs. */
    cpuUsPerMessage: Record<string, number>;
    ratioToSend: number;
    latency: LatencySummary;
    latenciesMs: number[];
    brokerPollIntervalMs: number;
    /** From the broker's /metrics over its whole life (start-up included). */
    brokerMetrics: { polls: number; pollSecondsSum: number; publishes: number; publishSecondsSum: number };
    clientPollIntervalMs: number;
  };
  resources: {
    conversations: number;
    method: string;
    /** A Node.js process doing nothing, the baseline. */
    bareNodeRssMb: number;
    /** emptyReady: the same broker on an empty database, the second baseline. */
    brokerRssMb: { emptyReady: number; ready: number; afterListing: number; afterLoop: number; peak: number };
    /** `node -e ""` start to exit, the baseline. */
    bareNodeStartMs: number;
    startup: { service: string; readyMs: number; readiness: string }[];
  };
  profiles: Profile[];
  targets: Target[];
}
