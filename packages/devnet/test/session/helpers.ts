// Helpers of the @session-bot/session integration tests over the devnet.
import { Identity, MemoryStorage, SessionClient, StorageRpcNetwork, type PollBatch, type SessionEvent, type Storage, type StorageRpcNetworkOptions } from "@session-bot/session";
import type { Devnet } from "../../src/index.js";

/** Network options that reach `net` (HTTP or HTTPS with the pinned devnet certificate). */
export function networkOptions(net: Devnet, extra: Partial<StorageRpcNetworkOptions> = {}): StorageRpcNetworkOptions {
  const pem = net.seedCertificatePem;
  return {
    seedUrls: [...net.seedUrls],
    snodeScheme: net.scheme,
    fileServerUrl: net.fileServerUrl,
    ...(pem === undefined ? {} : { seedCertificatePem: pem, fileServerTrust: { kind: "pinned" as const, certificatePem: pem } }),
    requestTimeoutMs: 3_000,
    retry: { attempts: 6, baseDelayMs: 20, maxDelayMs: 200 },
    ...extra,
  };
}

/** A client with its own network and storage, and a fresh identity unless one is given. */
export async function makeClient(
  net: Devnet,
  options: { identity?: Identity; storage?: Storage; network?: Partial<StorageRpcNetworkOptions>; displayName?: string } = {},
): Promise<{ client: SessionClient; network: StorageRpcNetwork; storage: Storage }> {
  const storage = options.storage ?? new MemoryStorage();
  const network = new StorageRpcNetwork(networkOptions(net, { storage, ...options.network }));
  const client = await SessionClient.create({
    identity: options.identity ?? (await Identity.generate()),
    network,
    storage,
    ...(options.displayName === undefined ? {} : { displayName: options.displayName }),
  });
  return { client, network, storage };
}

/** Polls (and commits) until `count` events arrived or the deadline passes; returns every batch item. */
export async function pollEvents(client: SessionClient, count: number, timeoutMs = 10_000): Promise<{ events: SessionEvent[]; batches: PollBatch[] }> {
  const deadline = Date.now() + timeoutMs;
  const events: SessionEvent[] = [];
  const batches: PollBatch[] = [];
  while (events.length < count && Date.now() < deadline) {
    const batch = await client.pollOnce();
    batches.push(batch);
    for (const item of batch.items) if (item.status === "event") events.push(item.event);
    await client.commit(batch);
    if (events.length < count) await new Promise((r) => setTimeout(r, 100));
  }
  return { events, batches };
}
