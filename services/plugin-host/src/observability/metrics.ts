/** Prometheus metrics of one worker (served at /metrics). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface HostMetrics {
  readonly registry: Registry;
  readonly deliveries: Counter<"outcome">;
  readonly pluginEvents: Counter<"plugin" | "outcome">;
  readonly pluginLatency: Histogram<"plugin">;
  readonly actions: Counter<"action" | "duplicate">;
  readonly configChanges: Counter<"plugin" | "result">;
  readonly tasks: Counter<"plugin" | "task" | "outcome">;
  readonly inFlight: Gauge;
  readonly ownedPartitions: Gauge;
  /** 1 for each partition this worker pulls now (label `partition`). */
  readonly partitionOwned: Gauge<"partition">;
  /** Sets both ownership gauges from the list of pulled partitions. */
  setOwned(partitions: readonly number[]): void;
}

/** Creates a registry with the worker's metrics (plus Node.js process metrics). */
export function createMetrics(inFlight: () => number): HostMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const ownedPartitions = new Gauge({ name: "sb_plugin_host_owned_partitions", help: "Inbound partitions this worker pulls now (partition ownership, PROTOCOL.md §6.2.1).", registers: [registry] });
  const partitionOwned = new Gauge({ name: "sb_plugin_host_partition_owned", help: "1 for each inbound partition this worker pulls now (label partition).", labelNames: ["partition"], registers: [registry] });
  return {
    ownedPartitions,
    partitionOwned,
    setOwned(partitions) {
      ownedPartitions.set(partitions.length);
      partitionOwned.reset();
      for (const p of partitions) partitionOwned.set({ partition: String(p) }, 1);
    },
    registry,
    deliveries: new Counter({ name: "sb_plugin_host_deliveries_total", help: "Inbound deliveries by outcome (ack, nak, dead_letter, poison, ignored, shutdown).", labelNames: ["outcome"], registers: [registry] }),
    pluginEvents: new Counter({ name: "sb_plugin_host_plugin_events_total", help: "Events handled per plugin by outcome (ok, error, timeout).", labelNames: ["plugin", "outcome"], registers: [registry] }),
    pluginLatency: new Histogram({
      name: "sb_plugin_host_plugin_handler_seconds",
      help: "Handler duration per plugin.",
      labelNames: ["plugin"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: [registry],
    }),
    actions: new Counter({ name: "sb_plugin_host_actions_total", help: "Outbound actions published (duplicate=true: dropped by JetStream as a repeat).", labelNames: ["action", "duplicate"], registers: [registry] }),
    configChanges: new Counter({ name: "sb_plugin_host_config_changes_total", help: "Plugin config records applied or refused.", labelNames: ["plugin", "result"], registers: [registry] }),
    tasks: new Counter({ name: "sb_plugin_host_task_runs_total", help: "Scheduled task runs by outcome.", labelNames: ["plugin", "task", "outcome"], registers: [registry] }),
    inFlight: new Gauge({
      name: "sb_plugin_host_in_flight",
      help: "Events being handled now.",
      registers: [registry],
      collect() {
        this.set(inFlight());
      },
    }),
  };
}
