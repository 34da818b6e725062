/** A plugin's store backend over its NATS KV bucket `sb_state_<plugin>` (created here, idempotently). */
import type { KV } from "@nats-io/kv";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { StoreBackend } from "@session-bot/plugin-sdk";
import { pluginStateBucket } from "@session-bot/protocol";

/** Opens (creating if needed) the plugin's state bucket. */
export async function openStateBucket(nc: NatsConnection, plugin: string): Promise<KV> {
  return new Kvm(nc).create(pluginStateBucket(plugin), { history: 1, description: `session_bot state of plugin ${plugin}` });
}

/** The SDK store backend over a KV bucket. */
export function kvStoreBackend(kv: KV): StoreBackend {
  return {
    async get(key) {
      const e = await kv.get(key);
      if (!e || e.operation !== "PUT") return undefined;
      return e.value;
    },
    async put(key, value) {
      await kv.put(key, value);
    },
    async delete(key) {
      await kv.delete(key);
    },
    async keys(prefix) {
      // A prefix ending at a token boundary can be a subject filter; otherwise list all and filter.
      const filter = prefix === "" ? ">" : prefix.endsWith(".") ? `${prefix}>` : ">";
      const out: string[] = [];
      for await (const k of await kv.keys(filter)) if (k.startsWith(prefix)) out.push(k);
      return out;
    },
  };
}
