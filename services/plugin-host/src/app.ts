/**
 * The application: wires the loaded plugins to NATS (inbound consumers, outbound publisher, dead
 * letters, state buckets, live config, $SRV) and to HTTP. Built by a function from plain
 * dependencies so tests can build it against a test nats-server; `main.ts` owns the process.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Service } from "@nats-io/services";
import { JetStreamPublisher } from "@session-bot/js-publisher";
import { createStore, type AnyPlugin } from "@session-bot/plugin-sdk";
import type { RuntimeDeps } from "@session-bot/plugin-sdk/runtime";
import {
  DEAD_LETTER_STREAM,
  HOST_CONSUMER_SET,
  INBOUND_STREAM,
  OUTBOUND_STREAM,
  PLUGIN_MANIFESTS_BUCKET,
  PLUGINS_BUCKET,
  encodePluginManifest,
  pluginManifestKey,
  type InboundEvent,
  type WorkerStats,
} from "@session-bot/protocol";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { brokerAttachments } from "./bus/attachments.js";
import { deadLetterPublisher } from "./bus/dead-letters.js";
import { outboundPublisher, type OutboundPublisher } from "./bus/outbound.js";
import { kvStoreBackend, openStateBucket } from "./bus/state-store.js";
import type { HostConfig } from "./config.js";
import { InboundConsumer, ensurePartitionConsumers, type DeliveryOutcome } from "./consuming/inbound-consumer.js";
import { PartitionOwnership } from "./consuming/ownership.js";
import { HostError } from "./errors.js";
import { buildHttp } from "./http/server.js";
import { watchPluginConfig, type ConfigWatcher } from "./live-config/watcher.js";
import { createMetrics, type HostMetrics } from "./observability/metrics.js";
import { registerService } from "./observability/service.js";
import type { LoadedPlugin } from "./plugins/loader.js";
import { PluginRegistry } from "./plugins/registry.js";
import { ROUTER_NAME, processEvent, type ProcessOutcome } from "./processing/processor.js";
import { ExternalCommands } from "./routing/external-commands.js";
import { ProgressMarkers } from "./processing/progress.js";
import { PluginStats } from "./processing/stats.js";
import { TaskScheduler } from "./tasks/scheduler.js";

/** What buildApp needs. */
export interface AppDeps {
  readonly nc: NatsConnection;
  readonly config: HostConfig;
  readonly log: Logger;
  readonly plugins: readonly LoadedPlugin[];
  /** plugin-host's version (for $SRV). */
  readonly version: string;
}

/** The running application. */
export interface App {
  readonly http: FastifyInstance;
  readonly registry: PluginRegistry;
  readonly metrics: HostMetrics;
  /** Waits for the broker's streams and buckets, then starts consuming. Resolves when running. */
  start(): Promise<void>;
  /** Stops intake, finishes in-flight work up to `graceMs`, releases leases. Does not close NATS. */
  stop(graceMs: number): Promise<void>;
  /** Why the worker is not ready (empty when ready). */
  readiness(): string[];
  /** Protocol's WorkerStats of this worker. */
  stats(): WorkerStats;
  /** The inbound partitions this worker pulls now (all, or those it owns; PROTOCOL.md §6.2.1). */
  partitions(): number[];
}

const SETUP_RETRY_MAX_MS = 5_000;

/** Builds the application (does not touch NATS until `start`). */
export function buildApp(deps: AppDeps): App {
  const { nc, config, log } = deps;
  const registry = new PluginRegistry(deps.plugins, config.pluginsEnabledByDefault);
  const admins = new Set(config.admins);
  let consumer: InboundConsumer | undefined;
  let ownership: PartitionOwnership | undefined;
  let publisher: JetStreamPublisher | undefined;
  const metrics = createMetrics(() => consumer?.inFlight ?? 0);
  const stats = new PluginStats((plugin, outcome, ms) => {
    metrics.pluginEvents.inc({ plugin, outcome });
    metrics.pluginLatency.observe({ plugin }, ms / 1_000);
  });
  const counters = { handled: 0, errors: 0 };
  const waiting: string[] = ["starting"];
  let stopping = false;
  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  let publish: OutboundPublisher | undefined;
  const buckets = new Map<string, KV>();
  const runtimes = new Map<string, RuntimeDeps>();
  let watcher: ConfigWatcher | undefined;
  // Commands owned by plugins of other workers (manifests in KV), so the router does not call them unknown.
  const external = new ExternalCommands(new Set(deps.plugins.map((p) => p.plugin.name)));
  let stopManifestWatch: (() => void) | undefined;
  let service: Service | undefined;
  let scheduler: TaskScheduler | undefined;
  const attachments = brokerAttachments(nc, config.bot, config.handlerTimeoutMs);

  const emit = async (action: Parameters<OutboundPublisher>[0]): Promise<void> => {
    if (!publish) throw new HostError("HOST_NATS_SETUP_FAILED", "outbound publisher not ready");
    const { duplicate } = await publish(action);
    metrics.actions.inc({ action: action.action, duplicate: String(duplicate) });
  };

  const runtimeFor = (plugin: AnyPlugin): RuntimeDeps => {
    let rt = runtimes.get(plugin.name);
    if (!rt) {
      const kv = buckets.get(plugin.name);
      if (!kv) throw new HostError("HOST_NATS_SETUP_FAILED", `state bucket of ${plugin.name} not open`);
      rt = {
        bot: config.bot,
        instance: config.instance,
        emit,
        attachments,
        store: createStore(kvStoreBackend(kv)),
        log: log.child({ plugin: plugin.name }),
        isAdmin: (id) => admins.has(id),
        rtt: () => nc.rtt(),
        // This worker's enabled plugins, then those of other workers of the bot (e.g. a Python
        // group), so the help plugin lists every command the bot answers, as the router does.
        plugins: () => [...registry.summaries(), ...external.summaries()],
        now: () => Date.now(),
      };
      runtimes.set(plugin.name, rt);
    }
    return rt;
  };

  const progress = new ProgressMarkers(
    (plugin) => buckets.get(plugin),
    (err, op) => log.warn({ err, op }, "progress marker failed"),
  );

  // A retry re-runs only the plugins that have not succeeded on an earlier delivery. The router
  // keeps no marker: its only effect is a reply, which the idempotent action id deduplicates.
  const handle = async (event: InboundEvent, signal: AbortSignal, delivery: { deliveries: number; final: boolean }): Promise<ProcessOutcome> => {
    const names = registry.runnable().map((r) => r.plugin.name);
    const skip = delivery.deliveries > 1 ? await progress.done(event.id, names) : new Set<string>();
    const outcome = await runPlugins(event, signal, skip);
    if (outcome.failures.length === 0 || delivery.final) {
      if (delivery.deliveries > 1) await progress.clear(event.id, names);
    } else {
      await progress.mark(event.id, outcome.succeeded.filter((p) => p !== ROUTER_NAME));
    }
    return outcome;
  };

  const runPlugins = (event: InboundEvent, signal: AbortSignal, skip: ReadonlySet<string>): Promise<ProcessOutcome> =>
    processEvent(
      event,
      {
        registry,
        runtimeFor,
        emit,
        stats,
        log,
        handlerTimeoutMs: config.handlerTimeoutMs,
        commandPrefix: config.commandPrefix,
        unknownCommandReply: config.unknownCommandReply,
        isAdmin: (id) => admins.has(id),
        externalPlugins: () => external.summaries(),
      },
      signal,
      skip,
    );

  const waitFor = async (what: string, check: () => Promise<unknown>): Promise<void> => {
    let delay = 200;
    for (;;) {
      if (stopping) throw new HostError("HOST_NATS_SETUP_FAILED", "stopped while waiting for NATS resources");
      try {
        await check();
        return;
      } catch (err) {
        if (!waiting.includes(what)) waiting.push(what);
        log.warn({ what, err: (err as Error).message, retryInMs: delay }, "waiting for NATS resource (created by the broker)");
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, SETUP_RETRY_MAX_MS);
      }
    }
  };
  const done = (what: string) => {
    const i = waiting.indexOf(what);
    if (i >= 0) waiting.splice(i, 1);
  };

  const onDelivery = (outcome: DeliveryOutcome) => {
    metrics.deliveries.inc({ outcome });
    if (outcome === "ack") counters.handled++;
    else counters.errors++;
  };

  // Readiness follows the connection: not ready while NATS is disconnected.
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") connected = false;
      else if (s.type === "reconnect") connected = true;
    }
  })().catch(() => undefined);

  function readiness(): string[] {
    const reasons = [...waiting];
    if (nc.isClosed()) reasons.push("nats closed");
    else if (!connected) reasons.push("nats disconnected");
    return reasons;
  }

  function workerStats(): WorkerStats {
    const snap = stats.snapshot();
    // Every loaded plugin is listed (the gateway reads the worker's plugins from these keys).
    const plugins: WorkerStats["plugins"] = {};
    for (const { plugin } of deps.plugins) {
      const c = snap[plugin.name];
      plugins[plugin.name] = c ? { handled: c.handled - c.errors, errors: c.errors, averageLatencyMs: c.avgMs } : { handled: 0, errors: 0, averageLatencyMs: 0 };
    }
    return { v: 1, inFlight: consumer?.inFlight ?? 0, handled: counters.handled, errors: counters.errors, plugins };
  }

  const app: App = {
    http: buildHttp({ readiness, registry: metrics.registry }),
    registry,
    metrics,
    async start() {
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      const m = jsm;
      for (const stream of [INBOUND_STREAM, OUTBOUND_STREAM, DEAD_LETTER_STREAM]) {
        await waitFor(`stream ${stream}`, () => m.streams.info(stream));
        done(`stream ${stream}`);
      }
      const kvm = new Kvm(nc);
      let pluginsKv: KV | undefined;
      let manifestsKv: KV | undefined;
      await waitFor(`bucket ${PLUGINS_BUCKET}`, async () => {
        pluginsKv = await kvm.open(PLUGINS_BUCKET);
        await pluginsKv.status();
      });
      done(`bucket ${PLUGINS_BUCKET}`);
      await waitFor(`bucket ${PLUGIN_MANIFESTS_BUCKET}`, async () => {
        manifestsKv = await kvm.open(PLUGIN_MANIFESTS_BUCKET);
        await manifestsKv.status();
      });
      done(`bucket ${PLUGIN_MANIFESTS_BUCKET}`);
      for (const { plugin, manifest } of deps.plugins) {
        buckets.set(plugin.name, await openStateBucket(nc, plugin.name));
        await manifestsKv!.put(pluginManifestKey(plugin.name), encodePluginManifest(manifest));
      }
      const manifests = await manifestsKv!.watch({ key: ">" });
      stopManifestWatch = () => manifests.stop();
      void (async () => {
        try {
          for await (const e of manifests) {
            if (!external.apply(e.key, e.operation === "PUT" ? e.value : undefined)) log.warn({ key: e.key }, "ignored an invalid plugin manifest in KV");
          }
        } catch (err) {
          if (!stopping) log.error({ err }, "plugin manifest watch ended");
        }
      })();
      publisher = new JetStreamPublisher(nc);
      publish = outboundPublisher(publisher);
      watcher = await watchPluginConfig(pluginsKv!, config.bot, registry, log.child({ component: "live-config" }), (plugin, result) =>
        metrics.configChanges.inc({ plugin, result }),
      );
      await ensurePartitionConsumers(jsm, config);
      consumer = new InboundConsumer(config, {
        js,
        jsm,
        handle,
        publishDeadLetter: deadLetterPublisher(js),
        log: log.child({ component: "inbound" }),
        onDelivery,
      });
      if (config.partitionOwnership) {
        // Split the partitions with the other workers of the set (PROTOCOL.md §6.2.1); start on
        // what this worker owns alone (every partition) and narrow as the others answer.
        ownership = new PartitionOwnership(
          nc,
          { bot: config.bot, set: HOST_CONSUMER_SET, instance: config.instance, partitions: config.partitions, intervalMs: config.presenceIntervalMs },
          (owned) => {
            metrics.setOwned(owned);
            consumer?.setPartitions(owned).catch((err: unknown) => log.error({ err }, "could not change the pulled partitions"));
          },
          log.child({ component: "ownership" }),
        );
        ownership.start();
        metrics.setOwned(ownership.owned);
        await consumer.start(ownership.owned);
      } else {
        metrics.setOwned(Array.from({ length: config.partitions }, (_, p) => p));
        await consumer.start();
      }
      scheduler = new TaskScheduler({
        instance: config.instance,
        runnable: () => registry.runnable(),
        bucketOf: (plugin) => buckets.get(plugin.name)!,
        runtimeFor,
        handlerTimeoutMs: config.handlerTimeoutMs,
        log: log.child({ component: "tasks" }),
        onRun: (plugin, task, outcome) => metrics.tasks.inc({ plugin, task, outcome }),
      });
      scheduler.start(deps.plugins.map((p) => p.plugin));
      service = await registerService(
        nc,
        { bot: config.bot, instance: config.instance, version: deps.version, plugins: deps.plugins.map((p) => p.plugin.name) },
        workerStats,
      );
      // A denied subscription (NATS permissions) stops the whole registration: say so loudly;
      // events are still processed.
      void service.stopped.then((err) => {
        if (err && !stopping) log.error({ err }, "services API registration stopped: $SRV discovery and stats are unavailable");
      });
      done("starting");
      log.info({ plugins: deps.plugins.map((p) => p.plugin.name), partitions: config.partitions, concurrency: config.concurrency }, "plugin-host running");
    },
    async stop(graceMs) {
      stopping = true;
      if (!waiting.includes("stopping")) waiting.push("stopping");
      const started = Date.now();
      // Leave first: the others take this worker's partitions while it finishes what it holds.
      await ownership?.stop();
      await consumer?.stop(graceMs);
      await scheduler?.stop(
        deps.plugins.map((p) => p.plugin),
        Math.max(0, graceMs - (Date.now() - started)),
      );
      watcher?.stop();
      stopManifestWatch?.();
      await service?.stop().catch(() => undefined);
      publisher?.close();
    },
    readiness,
    stats: workerStats,
    partitions: () => consumer?.partitions ?? [],
  };
  return app;
}
