/** A plugin's store backend over its NATS KV bucket `sb_state_<plugin>` (created here, idempotently). */
import type { KV } from "@nats-io/kv";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { StoreBackend } from "@session-bot/plugin-sdk";
import { pluginStateBucket } from "@session-bot/protocol";

/**
 * Opens the plugin's state bucket, creating it when it does not exist. An existing bucket is used
 * as it is (whoever created it — another worker, another SDK, an operator — and with whatever
 * settings), so a difference in settings never stops a worker from starting.
 */
export async function openStateBucket(nc: NatsConnection, plugin: string): Promise<KV> {
  const kvm = new Kvm(nc);
  const name = pluginStateBucket(plugin);
  try {
    const kv = await kvm.open(name);
    await kv.status();
    return kv;
  } catch {
    return kvm.create(name, { history: 1, description: `session_bot state of plugin ${plugin}` });
  }
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
