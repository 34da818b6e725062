// Across packages and processes: anyone may store into a Session inbox (namespace 0 takes unsigned
// stores), so what a client retrieves is attacker-controlled. Hostile data is stored through the
// devnet's RPC over real HTTP into the bot's inbox, between real messages from a peer; the bot's
// SessionClient (StorageRpcNetwork → devnet) must poll without throwing, classify every item as an
// event, ignored or a SessionError, and still deliver the peer's real messages.
import http from "node:http";
import fc from "fast-check";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { createHash } from "node:crypto";
import {
  Identity,
  SESSION_ERROR_CODES,
  SessionClient,
  StorageRpcNetwork,
  encryptAttachment,
  encryptForRecipient,
  isSessionError,
  wrapEnvelope,
  type AttachmentInfo,
} from "@session-bot/session";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits, fuzzParams, heapUsed, HEAP_GROWTH_LIMIT, mutatedBytes, withTimeout } from "../src/index.js";
import { contentBytes } from "../src/session-content.js";

const CASE_TIMEOUT_MS = 15_000;

let net: Devnet;
let bot: SessionClient;
let peer: SessionClient;
let bobNetwork: StorageRpcNetwork;
let peerNetwork: StorageRpcNetwork;
let peerIdentity: Identity;
let heapAtStart = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

function network(): StorageRpcNetwork {
  return new StorageRpcNetwork({ seedUrls: [...net.seedUrls], snodeScheme: net.scheme, fileServerUrl: net.fileServerUrl });
}

/** Stores `data` (base64 of it) into the bot's inbox, unsigned, as anyone can. */
function storeRaw(data: Uint8Array | string): Promise<number> {
  const body = JSON.stringify({
    method: "store",
    params: { pubkey: bot.sessionId, namespace: 0, timestamp: Date.now(), ttl: 600_000, data: typeof data === "string" ? data : Buffer.from(data).toString("base64") },
  });
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const r = http.request(`${net.snodes[0]!.url}/storage_rpc/v1`, { method: "POST", agent, headers: { "content-length": Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      r.on("error", reject);
      r.end(body);
    }),
    CASE_TIMEOUT_MS,
    "store",
  );
}

/** Hostile stored data: random bytes, mutated real messages, real envelopes around hostile Content. */
const hostile = (): fc.Arbitrary<Uint8Array | string> => {
  const real = fc.tuple(contentBytes, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })).map(([c, t]) => wrapEnvelope(encryptForRecipient(peerIdentity, bot.sessionId, c), t));
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 300 }),
    real,
    mutatedBytes(real),
    fc.constantFrom("AA==", "AA", "////", "=", "a".repeat(4_000)),
  );
};

beforeAll(async () => {
  net = await startDevnet({ http: true, snodeCount: 2, swarmCount: 1 });
  bobNetwork = network();
  peerNetwork = network();
  bot = await SessionClient.create({ identity: await Identity.generate(), network: bobNetwork });
  peerIdentity = await Identity.generate();
  peer = await SessionClient.create({ identity: peerIdentity, network: peerNetwork });
  heapAtStart = heapUsed();
});

afterAll(async () => {
  agent.destroy();
  await bobNetwork?.close();
  await peerNetwork?.close();
  await net?.stop();
});

describe("a bot's inbox full of hostile data", () => {
  it("polls without throwing, classifies every item, and still gets the real messages", async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(hostile(), { minLength: 1, maxLength: 4 }), async (datas) => {
        round++;
        for (const d of datas) {
          const status = await storeRaw(d);
          expect(status >= 200 && status < 500, `store answered ${status}`).toBe(true);
        }
        const text = `real message ${round}`;
        await withTimeout(peer.sendText(bot.sessionId, text), CASE_TIMEOUT_MS, "sendText");
        const batch = await withTimeout(bot.pollOnce(), CASE_TIMEOUT_MS, "pollOnce");
        for (const item of batch.items) {
          expect(["event", "ignored", "error"]).toContain(item.status);
          if (item.status === "error") expect(SESSION_ERROR_CODES).toContain(item.error.code);
          if (item.status === "event") expect(() => JSON.stringify(item.event)).not.toThrow();
        }
        const texts = batch.items.flatMap((i) => (i.status === "event" && i.event.kind === "message" ? [i.event.text] : []));
        expect(texts).toContain(text);
        await withTimeout(bot.commit(batch), CASE_TIMEOUT_MS, "commit");
      }),
      fuzzParams(40),
    );
    expect(heapUsed() - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
  });
});

describe("attachment downloads: attacker-controlled pointers, blobs on the devnet's file server", () => {
  it("downloadAttachment resolves to the plaintext or rejects with a SessionError", async () => {
    const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64");
    // One real upload per property run keeps the budget; the pointers are what varies.
    const plain = new TextEncoder().encode("the real attachment");
    const enc = encryptAttachment(plain);
    const good = await withTimeout(bobNetwork.uploadFile(enc.blob), CASE_TIMEOUT_MS, "upload");
    const junk = await withTimeout(bobNetwork.uploadFile(applyEdits(enc.blob, [{ op: "flip", at: 40, bit: 3 }])), CASE_TIMEOUT_MS, "upload");
    const empty = await withTimeout(bobNetwork.uploadFile(new Uint8Array([0x53, 1, 2])), CASE_TIMEOUT_MS, "upload");
    /** The valid value most of the time, so that the other fields' hostility reaches deep. */
    const mostly = <T>(valid: T, other: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 3, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: other });
    const info = fc.record({
      url: mostly(
        good.url,
        fc.oneof(
          fc.constantFrom(junk.url, empty.url, `${net.fileServerUrl}/file/nope`, `${net.fileServerUrl}/file/`, "http://example.invalid/file/1", "not a url", `${good.url}#x`, `${good.url}?a=1`),
          fc.string({ maxLength: 30 }).map((t) => `${net.fileServerUrl}/file/${t}`),
        ),
      ),
      keyBase64: mostly(b64(enc.key), fc.oneof(fc.uint8Array({ maxLength: 70 }).map(b64), fc.constant(b64(enc.key.subarray(0, 32))), fc.string({ maxLength: 20 }))),
      digestBase64: mostly<string | undefined>(
        b64(enc.digest),
        fc.option(fc.oneof(fc.uint8Array({ maxLength: 40 }).map(b64), fc.string({ maxLength: 10 })), { nil: undefined }),
      ),
      size: mostly(plain.length, fc.oneof(fc.constantFrom(0, 1, -1, 2 ** 31, 9_000_001, Number.MAX_SAFE_INTEGER), fc.integer({ min: -5, max: 100 }))),
      deterministic: mostly(false, fc.constant(true)),
    });
    await fc.assert(
      fc.asyncProperty(info, async (i) => {
        const attachment: AttachmentInfo = { id: "1", voiceMessage: false, ...i };
        let out: Uint8Array;
        try {
          out = await withTimeout(bot.downloadAttachment(attachment), CASE_TIMEOUT_MS, "downloadAttachment");
        } catch (err) {
          if (!isSessionError(err)) throw new Error(`downloadAttachment rejected with ${String((err as Error)?.name)}: ${String((err as Error)?.message)}`, { cause: err });
          expect(SESSION_ERROR_CODES).toContain(err.code);
          return;
        }
        // Whatever decrypts is the real file (MAC and digest, or the stream tags, hold): truncated
        // to a positive size, else the padded plaintext (zeros after the file).
        if (i.size > 0 && i.size <= plain.length) expect(Buffer.from(out).equals(Buffer.from(plain.subarray(0, i.size)))).toBe(true);
        else {
          expect(Buffer.from(out.subarray(0, plain.length)).equals(Buffer.from(plain))).toBe(true);
          expect(out.subarray(plain.length).every((b) => b === 0)).toBe(true);
        }
      }),
      fuzzParams(150),
    );
    expect(createHash("sha256").update(enc.blob).digest().equals(Buffer.from(enc.digest))).toBe(true);
  });
});
