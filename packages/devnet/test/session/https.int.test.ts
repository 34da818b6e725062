// The client over a devnet in HTTPS mode: seed and file server pinned to the devnet certificate,
// snodes' self-signed certificates accepted as Session clients do.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Identity, SessionClient, StorageRpcNetwork } from "@session-bot/session";
import { startDevnet, type Devnet } from "../../src/index.js";
import { makeClient, networkOptions, pollEvents } from "./helpers.js";

let net: Devnet;
const toClose: StorageRpcNetwork[] = [];

beforeAll(async () => {
  net = await startDevnet({ snodeCount: 3, swarmCount: 1 });
});
afterAll(async () => {
  for (const n of toClose) await n.close();
  await net?.stop();
});

describe("HTTPS devnet", () => {
  it("exchanges a message and an attachment with the seed certificate pinned", async () => {
    expect(net.scheme).toBe("https");
    expect(net.seedCertificatePem).toBeDefined();
    const a = await makeClient(net);
    const b = await makeClient(net);
    toClose.push(a.network, b.network);
    const file = new Uint8Array(randomBytes(5_000));
    const info = await a.client.uploadAttachment(file, { fileName: "x.bin" });
    const sent = await a.client.sendMessage(b.client.sessionId, { text: "over TLS", attachments: [info] });
    const { events } = await pollEvents(b.client, 1);
    expect(events[0]).toMatchObject({ kind: "message", text: "over TLS", hash: sent.hash });
    if (events[0]?.kind !== "message") return;
    expect(await b.client.downloadAttachment(events[0].attachments[0]!)).toEqual(file);
  });

  it("refuses a seed whose certificate is not the pinned one", async () => {
    const other = await startDevnet({ snodeCount: 1, swarmCount: 1 });
    try {
      const network = new StorageRpcNetwork({ ...networkOptions(net), seedCertificatePem: other.seedCertificatePem! });
      toClose.push(network);
      const client = await SessionClient.create({ identity: await Identity.generate(), network });
      const err = await client.pollOnce().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: "SESSION_NO_SNODES" });
      expect(String((err as Error & { cause?: Error }).cause?.message)).toMatch(/pinned certificate/);
    } finally {
      await other.stop();
    }
  });

  it("refuses the self-signed seed with system trust", async () => {
    const network = new StorageRpcNetwork({ ...networkOptions(net), seedCertificatePem: undefined, seedTrust: { kind: "system" } });
    toClose.push(network);
    await expect(network.getSnodes()).rejects.toMatchObject({ code: "SESSION_NO_SNODES" });
  });
});
