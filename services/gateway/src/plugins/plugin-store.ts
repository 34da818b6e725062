/**
 * Plugin manifests (KV `sb_plugin_manifests`, written by plugin-host) and enable/config records
 * (KV `sb_plugins`, watched by every worker). The gateway only reads manifests and writes
 * records, after checking a new config against the manifest's config schema.
 */
import type { ValidateFunction } from "ajv";
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import { GatewayError } from "../errors.js";
import { ajv, describeErrors } from "../validation/ajv.js";
import {
  PLUGIN_ENABLED_BY_DEFAULT,
  PluginConfigRecord,
  PluginManifest,
} from "../schemas/dto.js";
import type { PluginPatch } from "../schemas/api.js";
import { MANIFESTS_BUCKET, PLUGINS_BUCKET } from "../fleet/names.js";

const validateManifest = ajv.compile<PluginManifest>(PluginManifest);
const validateRecord = ajv.compile<PluginConfigRecord>(PluginConfigRecord);

/** A plugin as stored: its manifest and, when one exists, its record. */
export interface StoredPlugin {
  manifest: PluginManifest;
  record?: PluginConfigRecord;
}

export interface PluginStore {
  /** Every plugin with a valid manifest, sorted by name. */
  list(): Promise<StoredPlugin[]>;
  /** Applies `patch` (compare-and-set on the record) and returns the stored result. */
  update(name: string, patch: PluginPatch): Promise<StoredPlugin>;
}

const MAX_CAS_ATTEMPTS = 5;

export function createPluginStore(nc: NatsConnection, log: Logger): PluginStore {
  const kvm = new Kvm(nc);
  let manifests: Promise<KV> | undefined;
  let records: Promise<KV> | undefined;
  // Config validators, compiled once per manifest revision.
  const validators = new Map<string, { revision: number; validate: ValidateFunction }>();

  async function bucket(which: "manifests" | "records"): Promise<KV> {
    const name = which === "manifests" ? MANIFESTS_BUCKET : PLUGINS_BUCKET;
    let p = which === "manifests" ? manifests : records;
    if (!p) {
      p = kvm.open(name);
      if (which === "manifests") manifests = p;
      else records = p;
    }
    try {
      return await p;
    } catch (cause) {
      if (which === "manifests") manifests = undefined;
      else records = undefined;
      throw jsFailure(`cannot open KV ${name}`, cause);
    }
  }

  async function readManifest(kv: KV, name: string): Promise<{ manifest: PluginManifest; revision: number } | undefined> {
    const entry = await kv.get(name).catch((cause: unknown) => {
      throw jsFailure(`cannot read manifest`, cause);
    });
    if (!entry || entry.operation !== "PUT") return undefined;
    const manifest = decode(entry);
    if (!validateManifest(manifest) || manifest.name !== name) {
      log.warn({ plugin: name, revision: entry.revision }, "ignoring an invalid plugin manifest");
      return undefined;
    }
    return { manifest, revision: entry.revision };
  }

  async function readRecord(kv: KV, name: string): Promise<{ record?: PluginConfigRecord; entry: KvEntry | null }> {
    const entry = await kv.get(name).catch((cause: unknown) => {
      throw jsFailure(`cannot read plugin record`, cause);
    });
    if (!entry || entry.operation !== "PUT") return { entry };
    const record = decode(entry);
    if (!validateRecord(record)) {
      log.warn({ plugin: name, revision: entry.revision }, "plugin record does not match its schema; treating it as absent");
      return { entry };
    }
    return { record, entry };
  }

  function configValidator(manifest: PluginManifest, revision: number): ValidateFunction {
    const cached = validators.get(manifest.name);
    if (cached && cached.revision === revision) return cached.validate;
    // A plugin without a config schema takes no configuration.
    const schema = manifest.configSchema ?? { type: "object", maxProperties: 0 };
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (cause) {
      throw new GatewayError("PLUGIN_MANIFEST_INVALID", `the config schema of plugin ${manifest.name} does not compile`, { cause });
    }
    validators.set(manifest.name, { revision, validate });
    return validate;
  }

  return {
    async list() {
      const mkv = await bucket("manifests");
      const rkv = await bucket("records");
      const names: string[] = [];
      try {
        for await (const k of await mkv.keys()) names.push(k);
      } catch (cause) {
        throw jsFailure("cannot list plugin manifests", cause);
      }
      names.sort();
      const out: StoredPlugin[] = [];
      for (const name of names) {
        const m = await readManifest(mkv, name);
        if (!m) continue;
        const { record } = await readRecord(rkv, name);
        out.push(record ? { manifest: m.manifest, record } : { manifest: m.manifest });
      }
      return out;
    },

    async update(name, patch) {
      const mkv = await bucket("manifests");
      const rkv = await bucket("records");
      const m = await readManifest(mkv, name);
      if (!m) throw new GatewayError("PLUGIN_NOT_FOUND", `no plugin named ${name} has published a manifest`);
      if (patch.config !== undefined) {
        const validate = configValidator(m.manifest, m.revision);
        if (!validate(patch.config)) {
          throw new GatewayError("PLUGIN_CONFIG_INVALID", `the config does not satisfy the config schema of plugin ${name}`, {
            details: { errors: describeErrors(validate.errors) },
          });
        }
      }
      for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
        const { record, entry } = await readRecord(rkv, name);
        const next: PluginConfigRecord = {
          enabled: patch.enabled ?? record?.enabled ?? PLUGIN_ENABLED_BY_DEFAULT,
          config: patch.config ?? record?.config ?? {},
          updatedAt: new Date().toISOString(),
        };
        const data = JSON.stringify(next);
        try {
          // Compare-and-set: a concurrent writer makes this fail and we re-read.
          // A deleted record keeps a revision, so `update` covers it too.
          if (entry) await rkv.update(name, data, entry.revision);
          else await rkv.create(name, data);
          log.info({ plugin: name, enabled: next.enabled, configChanged: patch.config !== undefined }, "plugin record updated");
          return { manifest: m.manifest, record: next };
        } catch (cause) {
          if (!isWrongLastSequence(cause)) throw jsFailure("cannot write plugin record", cause);
        }
      }
      throw new GatewayError("PLUGIN_CONFLICT", `plugin ${name} kept changing while it was being updated; try again`);
    },
  };
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
