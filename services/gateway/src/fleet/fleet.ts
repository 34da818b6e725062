/**
 * The fleet as the routes and metrics see it: the broker's admin endpoints, the plugin-host
 * workers (services API), JetStream streams/consumers and the plugin KV buckets. Everything is
 * read live; the gateway keeps no state of its own.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import {
  BROKER_SERVICE,
  PLUGIN_HOST_SERVICE,
  PROTOCOL_VERSION,
  STREAMS,
  isWorkerStats,
  type PluginManifest,
  type PluginStatus,
  type PluginStatusList,
  type StreamStatus,
  type StreamStatusList,
  type WorkerInfo,
  type WorkerList,
  type WorkerStats,
} from "@session-bot/protocol";
import { GatewayError, isGatewayError } from "../errors.js";
import type { PluginPatch, Readiness } from "../schemas/api.js";
import { createPluginStore, type StoredPlugin } from "../plugins/plugin-store.js";
import { createBrokerClient, type BrokerApi } from "./broker-client.js";
import { ping, stats, type StatsReply } from "./services-api.js";

/** One live look at the fleet, for `/metrics`. */
export interface FleetSnapshot {
  workers: WorkerInfo[];
  /** `$SRV.STATS` of every service instance of the bot (broker and plugin-hosts). */
  services: StatsReply[];
  streams: StreamStatus[];
}

export interface Fleet {
  readonly broker: BrokerApi;
  readiness(): Promise<Readiness>;
  workers(): Promise<WorkerList>;
  streams(): Promise<StreamStatusList>;
  plugins(): Promise<PluginStatusList>;
  /** The manifest of one plugin (with its config schema). */
  pluginManifest(name: string): Promise<PluginManifest>;
  /** `actor` is recorded as the record's `updatedBy`. */
  updatePlugin(name: string, patch: PluginPatch, actor: string): Promise<PluginStatus>;
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
  const store = createPluginStore(nc, opts.bot, log.child({ component: "plugin-store" }));
  let jsm: Promise<JetStreamManager> | undefined;

  // One NATS account may serve several bots: keep only this bot's instances.
  const ofBot = (r: { metadata?: Record<string, string> | null }) => r.metadata?.bot === opts.bot;

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

  async function workers(): Promise<WorkerInfo[]> {
    const replies = await workerStats();
    return replies.map((r) => toWorker(r, opts.bot)).sort((a, b) => a.id.localeCompare(b.id));
  }

  async function streams(): Promise<StreamStatus[]> {
    ensureOpen(nc);
    const m = await manager();
    const out: StreamStatus[] = [];
    for (const { name } of [STREAMS.inbound, STREAMS.outbound, STREAMS.deadLetter]) {
      try {
        const info = await m.streams.info(name);
        const consumers = [];
        for await (const c of m.consumers.list(name)) {
          consumers.push({
            stream: name,
            consumer: c.name,
            pending: c.num_pending,
            ackPending: c.num_ack_pending,
            redelivered: c.num_redelivered,
            waiting: c.num_waiting,
          });
        }
        consumers.sort((a, b) => a.consumer.localeCompare(b.consumer));
        out.push({
          stream: name,
          messages: info.state.messages,
          bytes: info.state.bytes,
          firstSeq: info.state.first_seq,
          lastSeq: info.state.last_seq,
          consumers,
        });
      } catch (cause) {
        // Not created yet (the broker creates streams at start): absent from the list.
        if (isStreamNotFound(cause)) continue;
        throw new GatewayError("JETSTREAM_FAILED", `cannot read stream ${name}`, { cause, details: { component: "jetstream" } });
      }
    }
    return out;
  }

  function toStatus(p: StoredPlugin, ws: WorkerInfo[]): PluginStatus {
    const m = p.manifest;
    return {
      name: m.name,
      version: m.version,
      description: m.description,
      enabled: p.record?.enabled ?? false,
      config: p.record?.config ?? {},
      ...(p.record ? { updatedAt: p.record.updatedAt, updatedBy: p.record.updatedBy } : {}),
      commands: m.commands,
      workers: ws.filter((w) => w.plugins.includes(m.name)).length,
    };
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
        ping(nc, PLUGIN_HOST_SERVICE, { maxWaitMs: opts.discoveryWaitMs }).then(
          (found) => {
            const count = found.replies.filter(ofBot).length;
            return count > 0
              ? { ok: true, detail: `${count} plugin-host(s) of bot ${opts.bot} answered $SRV.PING`, count }
              : { ok: false, detail: `no plugin-host of bot ${opts.bot} answered $SRV.PING.${PLUGIN_HOST_SERVICE}`, count };
          },
          (err: unknown) => ({ ok: false, detail: `plugin-host ping failed: ${describe(err)}`, count: 0 }),
        ),
      ]);
      checks.broker = brokerCheck;
      checks.pluginHosts = hostsCheck;
      return { status: brokerCheck.ok && hostsCheck.ok ? "ready" : "not_ready", checks };
    },

    async workers() {
      return { v: PROTOCOL_VERSION, items: await workers() };
    },

    async streams() {
      return { v: PROTOCOL_VERSION, items: await streams() };
    },

    async plugins() {
      ensureOpen(nc);
      const [stored, ws] = await Promise.all([store.list(), workers()]);
      return { v: PROTOCOL_VERSION, items: stored.map((p) => toStatus(p, ws)) };
    },

    async pluginManifest(name) {
      ensureOpen(nc);
      return store.manifest(name);
    },

    async updatePlugin(name, patch, actor) {
      ensureOpen(nc);
      const stored = await store.update(name, patch, actor);
      return toStatus(stored, await workers());
    },

    async snapshot() {
      ensureOpen(nc);
      const [ws, brokerStats, ss] = await Promise.all([
        workerStats(),
        stats(nc, BROKER_SERVICE, { maxWaitMs: opts.discoveryWaitMs }).then((d) => d.replies.filter(ofBot)),
        streams(),
      ]);
      return { workers: ws.map((r) => toWorker(r, opts.bot)), services: [...brokerStats, ...ws], streams: ss };
    },
  };
}

/** A plugin-host's `$SRV.STATS` reply as protocol's `WorkerInfo`. */
export function toWorker(r: StatsReply, bot: string): WorkerInfo {
  let workerStats: WorkerStats | undefined;
  for (const e of r.endpoints ?? []) {
    if (isWorkerStats(e.data)) {
      workerStats = e.data;
      break;
    }
  }
  const started = Date.parse(r.started);
  return {
    id: r.id,
    bot,
    ...(r.metadata?.instance ? { instance: r.metadata.instance } : {}),
    version: r.version,
    ...(Number.isFinite(started) ? { startedAt: started } : {}),
    // Loaded plugins: the `plugins` metadata (comma-separated) plugin-host registers, plus any
    // plugin its stats report on.
    plugins: [...new Set([...(r.metadata?.plugins ?? "").split(",").filter((p) => p !== ""), ...Object.keys(workerStats?.plugins ?? {})])].sort(),
    ...(workerStats ? { stats: workerStats } : {}),
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
