// Shared set-up of the broker's integration tests: a real nats-server, the devnet, temporary SQLite.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Devnet } from "@session-bot/devnet";
import { INBOUND_STREAM, inboundFilter, type InboundEvent } from "@session-bot/protocol";
import { MemoryStorage, SessionClient, StorageRpcNetwork, type SessionEvent } from "@session-bot/session";

/** A fresh temporary directory. */
export function tempDir(prefix = "sb-broker-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A network over the devnet (plain HTTP). */
export function devnetNetwork(net: Devnet, storage?: MemoryStorage, extra: Partial<ConstructorParameters<typeof StorageRpcNetwork>[0]> = {}): StorageRpcNetwork {
  return new StorageRpcNetwork({ seedUrls: [...net.seedUrls], snodeScheme: "http", fileServerUrl: net.fileServerUrl, ...(storage ? { storage } : {}), ...extra });
}

/** A session-chat-style peer: its own identity, in-memory storage. */
export async function makePeer(net: Devnet, mnemonic?: string): Promise<{ client: SessionClient; network: StorageRpcNetwork; received: SessionEvent[]; poll: () => Promise<SessionEvent[]> }> {
  const storage = new MemoryStorage();
  const network = devnetNetwork(net, storage);
  const client = await SessionClient.create({ ...(mnemonic ? { mnemonic } : { identity: await (await import("@session-bot/session")).Identity.generate() }), network, storage });
  const received: SessionEvent[] = [];
  const poll = async () => {
    const batch = await client.pollOnce();
    const events = batch.items.flatMap((i) => (i.status === "event" ? [i.event] : []));
    await client.commit(batch);
    received.push(...events);
    return events;
  };
  return { client, network, received, poll };
}

/** Polls `check` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every InboundEvent of `bot` on SB_INBOUND, in stream order, with its Nats-Msg-Id. */
export async function inboundEvents(nc: NatsConnection, bot: string): Promise<{ msgId: string | undefined; subject: string; event: InboundEvent }[]> {
  const js: JetStreamClient = jetstream(nc);
  const c = await js.consumers.get(INBOUND_STREAM, { filter_subjects: [inboundFilter(bot)] });
  const out: { msgId: string | undefined; subject: string; event: InboundEvent }[] = [];
  const info = await c.info(true);
  let remaining = info.num_pending;
  while (remaining > 0) {
    const batch = await c.fetch({ max_messages: Math.min(remaining, 100), expires: 2000 });
    let got = 0;
    for await (const m of batch) {
      out.push({ msgId: m.headers?.get("Nats-Msg-Id"), subject: m.subject, event: JSON.parse(new TextDecoder().decode(m.data)) as InboundEvent });
      got++;
    }
    if (got === 0) break;
    remaining -= got;
  }
  return out;
}
