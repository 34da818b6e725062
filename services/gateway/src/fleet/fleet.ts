/**
 * The fleet as the routes and metrics see it: the broker's admin endpoints, the plugin-host
 * workers (services API), JetStream streams/consumers and the plugin KV buckets. Everything is
 * read live; the gateway keeps no state of its own.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { GatewayError, isGatewayError } from "../errors.js";
import { ajv } from "../validation/ajv.js";
import { PLUGIN_ENABLED_BY_DEFAULT, WorkerStatsData, type PluginCounters } from "../schemas/dto.js";
import type { PluginList, PluginPatch, PluginStatus, Readiness, StreamList, StreamStatus, Worker, WorkerList } from "../schemas/api.js";
import { createPluginStore, type StoredPlugin } from "../plugins/plugin-store.js";
import { createBrokerClient, type BrokerApi } from "./broker-client.js";
import { BROKER_SERVICE, PLUGIN_HOST_SERVICE, STREAMS } from "./names.js";
import { ping, stats, type StatsReply } from "./services-api.js";

const validateWorkerData = ajv.compile<WorkerStatsData>(WorkerStatsData);

/** One live look at the fleet, for `/metrics`. */
export interface FleetSnapshot {
  workers: Worker[];
  /** `$SRV.STATS` of every service instance of the bot (broker and plugin-hosts). */
  services: StatsReply[];
  streams: StreamStatus[];
}

export interface Fleet {
  readonly broker: BrokerApi;
  readiness(): Promise<Readiness>;
  workers(): Promise<WorkerList>;
  streams(): Promise<StreamList>;
  plugins(): Promise<PluginList>;
  updatePlugin(name: string, patch: PluginPatch): Promise<PluginStatus>;
  snapshot(): Promise<FleetSnapshot>;
}

export interface FleetOptions {
  bot: string;
  requestTimeoutMs: number;
  discoveryWaitMs: number;
}

/** Builds the fleet over one NATS connection (owned by the caller). */
export function createNatsFleet(nc: NatsConnection, opts: FleetOptions, log: Logger): Fleet {
  const broker = createBrokerClient(nc, { bot: opts.bot, timeoutMs: opts.requestTimeoutMs });
  const store = createPluginStore(nc, log.child({ component: "plugin-store" }));
  let jsm: Promise<JetStreamManager> | undefined;

  const ofBot = (r: { metadata?: Record<string, string> | null }) => r.metadata?.bot === undefined || r.metadata.bot === opts.bot;

  async function manager(): Promise<JetStreamManager> {
    jsm ??= jetstreamManager(nc, { timeout: opts.requestTimeoutMs });
    try {
      return await jsm;
    } catch (cause) {
      jsm = undefined;
      throw new GatewayError("JETSTREAM_FAILED", "JetStream is not available", { cause, details: { component: "jetstream" } });
    }
  }

  async function workerStats(): Promise<StatsReply[]> {
    ensureOpen(nc);
    const found = await stats(nc, PLUGIN_HOST_SERVICE, { maxWaitMs: opts.discoveryWaitMs });
    if (found.invalid > 0) log.warn({ invalid: found.invalid }, "ignored invalid $SRV.STATS replies from plugin-hosts");
    return found.replies.filter(ofBot);
  }

  async function workers(): Promise<Worker[]> {
    const replies = await workerStats();
    return replies.map(toWorker).sort((a, b) => a.id.localeCompare(b.id));
  }

  async function streams(): Promise<StreamStatus[]> {
    ensureOpen(nc);
    const m = await manager();
    const out: StreamStatus[] = [];
    for (const name of STREAMS) {
      try {
        const info = await m.streams.info(name);
        const consumers = [];
        for await (const c of m.consumers.list(name)) {
          consumers.push({
            name: c.name,
            pending: c.num_pending,
            ackPending: c.num_ack_pending,
            redelivered: c.num_redelivered,
            waiting: c.num_waiting,
          });
        }
        consumers.sort((a, b) => a.name.localeCompare(b.name));
        out.push({ name, exists: true, messages: info.state.messages, bytes: info.state.bytes, consumers });
      } catch (cause) {
        if (isStreamNotFound(cause)) {
          out.push({ name, exists: false, messages: 0, bytes: 0, consumers: [] });
          continue;
        }
        throw new GatewayError("JETSTREAM_FAILED", `cannot read stream ${name}`, { cause, details: { component: "jetstream" } });
      }
    }
    return out;
  }

  function toStatus(p: StoredPlugin, counters: Map<string, { handled: number; errors: number }>): PluginStatus {
    const c = counters.get(p.manifest.name) ?? { handled: 0, errors: 0 };
    return {
      name: p.manifest.name,
      version: p.manifest.version,
      ...(p.manifest.description === undefined ? {} : { description: p.manifest.description }),
      enabled: p.record?.enabled ?? PLUGIN_ENABLED_BY_DEFAULT,
      configured: p.record !== undefined,
      config: p.record?.config ?? {},
      ...(p.manifest.configSchema === undefined ? {} : { configSchema: p.manifest.configSchema }),
      ...(p.record ? { updatedAt: p.record.updatedAt } : {}),
      handled: c.handled,
      errors: c.errors,
    };
  }

  async function pluginCounters(): Promise<Map<string, { handled: number; errors: number }>> {
    const totals = new Map<string, { handled: number; errors: number }>();
    for (const w of await workers()) {
      for (const p of w.plugins) {
        const t = totals.get(p.name) ?? { handled: 0, errors: 0 };
        t.handled += p.handled;
        t.errors += p.errors;
        totals.set(p.name, t);
      }
    }
    return totals;
  }

  return {
    broker,

    async readiness() {
      const checks: Readiness["checks"] = {
        nats: { ok: false, detail: "" },
        broker: { ok: false, detail: "not checked: NATS is not connected" },
        pluginHosts: { ok: false, detail: "not checked: NATS is not connected", count: 0 },
      };
      try {
        ensureOpen(nc);
        const rtt = await withTimeout(nc.rtt(), opts.requestTimeoutMs, "NATS round trip timed out");
        checks.nats = { ok: true, detail: `connected to ${nc.getServer()} (rtt ${rtt.toFixed(1)} ms)` };
      } catch (err) {
        checks.nats = { ok: false, detail: `not connected: ${describe(err)}` };
        return { status: "not_ready", checks };
      }
      const [brokerCheck, hostsCheck] = await Promise.all([
        broker.info().then(
          (info) => ({ ok: true, detail: `broker answers for bot ${info.bot}` }),
          (err: unknown) => ({ ok: false, detail: `broker info failed: ${describe(err)}` }),
        ),
        ping(nc, PLUGIN_HOST_SERVICE, { maxWaitMs: opts.requestTimeoutMs, enough: 1 }).then(
          (found) => {
            const count = found.replies.filter(ofBot).length;
            return count > 0
              ? { ok: true, detail: `${count} plugin-host(s) answered $SRV.PING`, count }
              : { ok: false, detail: `no plugin-host answered $SRV.PING.${PLUGIN_HOST_SERVICE}`, count };
          },
          (err: unknown) => ({ ok: false, detail: `plugin-host ping failed: ${describe(err)}`, count: 0 }),
        ),
      ]);
      checks.broker = brokerCheck;
      checks.pluginHosts = hostsCheck;
      return { status: brokerCheck.ok && hostsCheck.ok ? "ready" : "not_ready", checks };
    },

    async workers() {
      const list = await workers();
      return { service: PLUGIN_HOST_SERVICE, count: list.length, workers: list };
    },

    async streams() {
      return { streams: await streams() };
    },

    async plugins() {
      ensureOpen(nc);
      const [stored, counters] = await Promise.all([store.list(), pluginCounters()]);
      return { plugins: stored.map((p) => toStatus(p, counters)) };
    },

    async updatePlugin(name, patch) {
      ensureOpen(nc);
      const stored = await store.update(name, patch);
      return toStatus(stored, await pluginCounters());
    },

    async snapshot() {
      ensureOpen(nc);
      const [ws, brokerStats, ss] = await Promise.all([
        workerStats(),
        stats(nc, BROKER_SERVICE, { maxWaitMs: opts.discoveryWaitMs }).then((d) => d.replies.filter(ofBot)),
        streams(),
      ]);
      return { workers: ws.map(toWorker), services: [...brokerStats, ...ws], streams: ss };
    },
  };
}

/** A plugin-host's `$SRV.STATS` reply as a worker view. */
export function toWorker(r: StatsReply): Worker {
  const endpoints = r.endpoints ?? [];
  let plugins: PluginCounters[] = [];
  let inFlight: number | undefined;
  for (const e of endpoints) {
    if (validateWorkerData(e.data)) {
      plugins = e.data.plugins;
      inFlight = e.data.inFlight;
      break;
    }
  }
  return {
    id: r.id,
    ...(r.metadata?.instance ? { instance: r.metadata.instance } : {}),
    version: r.version,
    started: r.started,
    ...(inFlight === undefined ? {} : { inFlight }),
    requests: endpoints.reduce((n, e) => n + e.num_requests, 0),
    errors: endpoints.reduce((n, e) => n + e.num_errors, 0),
    plugins,
  };
}

function ensureOpen(nc: NatsConnection): void {
  if (nc.isClosed() || nc.isDraining()) throw new GatewayError("NATS_UNAVAILABLE", "the NATS connection is closed");
}

function isStreamNotFound(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: string; code?: unknown; message?: string };
  return e.name === "StreamNotFoundError" || e.code === 10059 || /stream not found/i.test(e.message ?? "");
}

function describe(err: unknown): string {
  if (isGatewayError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
