/**
 * Integration-test helpers. The test plays the broker's role: it creates the streams and buckets
 * the way the broker does (protocol's names), publishes InboundEvents to SB_INBOUND and reads
 * SB_OUTBOUND / SB_DEAD. The real broker is covered by its own tests.
 */
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import {
  DEAD_LETTER_STREAM,
  INBOUND_STREAM,
  OUTBOUND_STREAM,
  PLUGINS_BUCKET,
  PLUGIN_MANIFESTS_BUCKET,
  STREAMS,
  decodeDeadLetter,
  decodeOutboundAction,
  encodeInboundEvent,
  encodePluginConfigRecord,
  inboundSubjectOf,
  pluginConfigKey,
  type DeadLetter,
  type MessageEvent,
  type OutboundAction,
  type SendAction,
} from "@session-bot/protocol";
import { pino } from "pino";
import { buildApp, type App } from "../src/app.js";
import { loadConfig, type HostConfig } from "../src/config.js";
import { loadPlugins } from "../src/plugins/loader.js";

export const BOT = "itest";
export const FIXTURE_PLUGINS = fileURLToPath(new URL("./fixtures/plugins", import.meta.url));
export const MAIN_JS = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** A conversation id (a valid Session ID) from a small number. */
export function peer(n: number): string {
  return `05${n.toString(16).padStart(64, "0")}`;
}

export interface Bus {
  readonly nats: TestNats;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  close(): Promise<void>;
}

/** Starts nats-server and creates streams and buckets as the broker would. */
export async function startBus(): Promise<Bus> {
  const nats = await startNats({ kind: "binary" });
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  for (const s of [STREAMS.inbound, STREAMS.outbound, STREAMS.deadLetter]) {
    await jsm.streams.add({ name: s.name, subjects: [...s.subjects], duplicate_window: 120_000_000_000 });
  }
  const kvm = new Kvm(nc);
  await kvm.create(PLUGINS_BUCKET, { history: 5 });
  await kvm.create(PLUGIN_MANIFESTS_BUCKET, { history: 1 });
  return {
    nats,
    nc,
    js: jetstream(nc),
    jsm,
    async close() {
      await nc.close();
      await nats.stop();
    },
  };
}

let seq = 0;
/** A message event (valid InboundEvent). */
export function message(conversation: string, text: string, id = `it-${Date.now()}-${++seq}`): MessageEvent {
  return { v: 1, id, bot: BOT, conversation, sender: conversation, timestamp: Date.now(), receivedAt: Date.now(), kind: "message", text, attachments: [] };
}

/** Publishes an event as the broker does (partition subject, Nats-Msg-Id = event id). */
export async function publishEvent(bus: Bus, event: MessageEvent, partitions: number): Promise<void> {
  await bus.js.publish(inboundSubjectOf(event, partitions), encodeInboundEvent(event), { msgID: event.id });
}

/** Every message of a stream, decoded by `decode`, in stream order. */
async function readStream<T>(bus: Bus, stream: string, decode: (b: Uint8Array) => T): Promise<T[]> {
  const info = await bus.jsm.streams.info(stream);
  const out: T[] = [];
  for (let s = info.state.first_seq; s <= info.state.last_seq && info.state.messages > 0; s++) {
    const m = await bus.jsm.streams.getMessage(stream, { seq: s }).catch(() => null);
    if (m) out.push(decode(m.data));
  }
  return out;
}

export const outbound = (bus: Bus): Promise<OutboundAction[]> => readStream(bus, OUTBOUND_STREAM, decodeOutboundAction);
export const deadLetters = (bus: Bus): Promise<DeadLetter[]> => readStream(bus, DEAD_LETTER_STREAM, decodeDeadLetter);
export async function sends(bus: Bus): Promise<SendAction[]> {
  return (await outbound(bus)).filter((a): a is SendAction => a.action === "send");
}
export { INBOUND_STREAM };

/** Polls `check` until it returns a truthy value. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 20_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Env for a test worker (fast retries and timeouts). */
export function testEnv(bus: Bus, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SB_BOT: BOT,
    NATS_URL: bus.nats.url,
    LOG_LEVEL: "silent",
    PLUGIN_HOST_HTTP_PORT: "0",
    SB_PARTITIONS: "8",
    PLUGIN_HOST_ACK_WAIT_MS: "2000",
    PLUGIN_HOST_HANDLER_TIMEOUT_MS: "1000",
    PLUGIN_HOST_MAX_DELIVER: "3",
    PLUGIN_HOST_BACKOFF_MS: "50,100",
    PLUGIN_HOST_SHUTDOWN_GRACE_MS: "2000",
    PLUGIN_HOST_PLUGINS: "@session-bot/plugin-echo,@session-bot/plugin-help",
    PLUGIN_HOST_PLUGIN_DIR: FIXTURE_PLUGINS,
    ...extra,
  };
}

/** An in-process worker: its own NATS connection, app and HTTP (not listening: use inject). */
export interface Worker {
  readonly app: App;
  readonly config: HostConfig;
  readonly nc: NatsConnection;
  stop(): Promise<void>;
}

export async function startWorker(bus: Bus, instance: string, extra: Record<string, string> = {}): Promise<Worker> {
  const config = loadConfig({ ...testEnv(bus, extra), PLUGIN_HOST_INSTANCE: instance });
  const nc = await connect({ servers: bus.nats.url });
  const plugins = await loadPlugins(config.plugins, config.pluginDir);
  const app = buildApp({ nc, config, log: pino({ level: process.env.SB_TEST_LOG ?? "silent" }), plugins, version: "0.0.0-test" });
  await app.start();
  let stopped = false;
  return {
    app,
    config,
    nc,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop(500);
      await nc.drain().catch(() => undefined);
    },
  };
}

/** Writes a plugin config record to KV `sb_plugins` as the gateway would. */
export async function putPluginConfig(bus: Bus, plugin: string, enabled: boolean, config: Record<string, unknown>): Promise<void> {
  const kv = await new Kvm(bus.nc).open(PLUGINS_BUCKET);
  await kv.put(pluginConfigKey(BOT, plugin), encodePluginConfigRecord({ v: 1, enabled, config, updatedAt: Date.now(), updatedBy: "test" }));
}
