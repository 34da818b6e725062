/**
 * Plugin manifests (KV `sb_plugin_manifests`, key = plugin name, written by plugin-host) and the
 * bot's enable/config records (KV `sb_plugins`, key = `<bot>.<plugin>`, watched by every worker).
 * The gateway only reads manifests and writes records, after checking a new config against the
 * manifest's config schema.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import {
  PLUGINS_BUCKET,
  PLUGIN_MANIFESTS_BUCKET,
  PROTOCOL_VERSION,
  assertPluginConfig,
  isPluginConfigRecord,
  isPluginManifest,
  isProtocolError,
  pluginConfigKey,
  pluginManifestKey,
  type PluginConfigRecord,
  type PluginManifest,
} from "@session-bot/protocol";
import { GatewayError } from "../errors.js";
import type { PluginPatch } from "../schemas/api.js";

/** A plugin as stored: its manifest and, when one exists, this bot's record. */
export interface StoredPlugin {
  manifest: PluginManifest;
  record?: PluginConfigRecord;
}

export interface PluginStore {
  /** Every plugin with a valid manifest, sorted by name. */
  list(): Promise<StoredPlugin[]>;
  /** One plugin's manifest; `PLUGIN_NOT_FOUND` when none is published. */
  manifest(name: string): Promise<PluginManifest>;
  /** Applies `patch` (compare-and-set on the record) on behalf of `actor` and returns the result. */
  update(name: string, patch: PluginPatch, actor: string): Promise<StoredPlugin>;
}

/** A plugin without a record does not run (protocol: PluginStatus.enabled is false without a record). */
const ENABLED_WITHOUT_RECORD = false;
/** Each losing round means another writer won, so this many concurrent writers all get through. */
const MAX_CAS_ATTEMPTS = 10;

export function createPluginStore(nc: NatsConnection, bot: string, log: Logger): PluginStore {
  const kvm = new Kvm(nc);
  const opened = new Map<string, Promise<KV>>();

  async function bucket(name: string): Promise<KV> {
    let p = opened.get(name);
    if (!p) {
      p = kvm.open(name);
      opened.set(name, p);
    }
    try {
      return await p;
    } catch (cause) {
      opened.delete(name);
      throw jsFailure(`cannot open KV ${name}`, cause);
    }
  }

  async function get(kv: KV, key: string, what: string): Promise<KvEntry | null> {
    try {
      return await kv.get(key);
    } catch (cause) {
      throw jsFailure(`cannot read ${what}`, cause);
    }
  }

  async function readManifest(kv: KV, name: string): Promise<PluginManifest | undefined> {
    const entry = await get(kv, pluginManifestKey(name), "plugin manifest");
    if (!entry || entry.operation !== "PUT") return undefined;
    const manifest = decode(entry);
    if (!isPluginManifest(manifest) || manifest.name !== name) {
      log.warn({ plugin: name, revision: entry.revision }, "ignoring an invalid plugin manifest");
      return undefined;
    }
    return manifest;
  }

  async function readRecord(kv: KV, name: string): Promise<{ record?: PluginConfigRecord; entry: KvEntry | null }> {
    const entry = await get(kv, pluginConfigKey(bot, name), "plugin record");
    if (!entry || entry.operation !== "PUT") return { entry };
    const record = decode(entry);
    if (!isPluginConfigRecord(record)) {
      log.warn({ plugin: name, revision: entry.revision }, "plugin record does not match its schema; treating it as absent");
      return { entry };
    }
    return { record, entry };
  }

  return {
    async list() {
      const mkv = await bucket(PLUGIN_MANIFESTS_BUCKET);
      const rkv = await bucket(PLUGINS_BUCKET);
      const names: string[] = [];
      try {
        for await (const k of await mkv.keys()) names.push(k);
      } catch (cause) {
        // Typically the bucket does not exist yet: the broker creates it at start.
        throw jsFailure(`cannot list plugin manifests (KV ${PLUGIN_MANIFESTS_BUCKET})`, cause);
      }
      names.sort();
      const out: StoredPlugin[] = [];
      for (const name of names) {
        let manifest: PluginManifest | undefined;
        try {
          manifest = await readManifest(mkv, name);
        } catch (err) {
          if (isProtocolError(err)) continue; // a key that is not a plugin name
          throw err;
        }
        if (!manifest) continue;
        const { record } = await readRecord(rkv, name);
        out.push(record ? { manifest, record } : { manifest });
      }
      return out;
    },

    async manifest(name) {
      const manifest = await readManifest(await bucket(PLUGIN_MANIFESTS_BUCKET), name);
      if (!manifest) throw new GatewayError("PLUGIN_NOT_FOUND", `no plugin named ${name} has published a manifest`);
      return manifest;
    },

    async update(name, patch, actor) {
      const mkv = await bucket(PLUGIN_MANIFESTS_BUCKET);
      const rkv = await bucket(PLUGINS_BUCKET);
      const manifest = await readManifest(mkv, name);
      if (!manifest) throw new GatewayError("PLUGIN_NOT_FOUND", `no plugin named ${name} has published a manifest`);
      if (patch.config !== undefined) checkConfig(manifest, patch.config);
      const key = pluginConfigKey(bot, name);
      for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
        const { record, entry } = await readRecord(rkv, name);
        const next: PluginConfigRecord = {
          v: PROTOCOL_VERSION,
          enabled: patch.enabled ?? record?.enabled ?? ENABLED_WITHOUT_RECORD,
          config: patch.config ?? record?.config ?? {},
          updatedAt: Date.now(),
          updatedBy: actor,
        };
        const data = JSON.stringify(next);
        try {
          // Compare-and-set: a concurrent writer makes this fail and we re-read. A deleted
          // record keeps a revision, so `update` covers it too.
          if (entry) await rkv.update(key, data, entry.revision);
          else await rkv.create(key, data);
          log.info({ plugin: name, enabled: next.enabled, configChanged: patch.config !== undefined, actor }, "plugin record updated");
          return { manifest, record: next };
        } catch (cause) {
          if (!isWrongLastSequence(cause)) throw jsFailure("cannot write plugin record", cause);
          // Someone else wrote first: re-read after a short random pause, so writers spread out.
          await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 20)));
        }
      }
      throw new GatewayError("PLUGIN_CONFLICT", `plugin ${name} kept changing while it was being updated; try again`);
    },
  };
}

function checkConfig(manifest: PluginManifest, config: Record<string, unknown>): void {
  try {
    assertPluginConfig(manifest, config);
  } catch (err) {
    if (!isProtocolError(err)) throw err;
    const problems = err.problems.map((p) => ({ path: p.instancePath || "/", message: p.message }));
    if (problems.some((p) => p.path.startsWith("/configSchema"))) {
      throw new GatewayError("PLUGIN_MANIFEST_INVALID", `the config schema of plugin ${manifest.name} does not compile`, { cause: err });
    }
    throw new GatewayError("PLUGIN_CONFIG_INVALID", `the config does not satisfy the config schema of plugin ${manifest.name}`, {
      cause: err,
      details: { errors: problems },
    });
  }
}

function decode(entry: KvEntry): unknown {
  try {
    return entry.json<unknown>();
  } catch {
    return undefined;
  }
}

function jsFailure(message: string, cause: unknown): GatewayError {
  return new GatewayError("JETSTREAM_FAILED", message, { cause, details: { component: "kv" } });
}

function isWrongLastSequence(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e.code === 10071 || e.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(e.message ?? "");
}
