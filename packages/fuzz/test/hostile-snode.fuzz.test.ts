// The other side of the process edge: the client (`StorageRpcNetwork` of @session-bot/session)
// talking to a hostile seed and snode over real HTTP. Our own server here answers `get_swarm`
// correctly (so requests reach the snode) and everything else with random statuses and random or
// mutated bodies. `retrieve` and `store` must resolve or reject with a SessionError, within a
// timeout; never with another error, never hang.
import http from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { Identity, StorageRpcNetwork, isSessionError } from "@session-bot/session";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzParams, heapUsed, HEAP_GROWTH_LIMIT, mutatedJson, nastyJsonValue, withTimeout } from "../src/index.js";

const CASE_TIMEOUT_MS = 15_000;
const SNODE_ED = "ab".repeat(32);

/** What the hostile snode answers to the next non-`get_swarm` request. */
interface Answer {
  status: number;
  body: string;
}

let server: http.Server;
let port = 0;
let next: Answer = { status: 200, body: "{}" };
/** When set, what the hostile seed answers instead of the valid list. */
let nextSeed: Answer | undefined;
let me: Identity;
let heapAtStart = 0;

/** A snode entry (port filled in at answer time would be better; the shape is what matters). */
const selfSnodeTemplate = { ip: "127.0.0.1", port_https: 1, pubkey_ed25519: SNODE_ED, pubkey_x25519: "cd".repeat(32) };
const selfSnode = (): Record<string, unknown> => ({ ip: "127.0.0.1", port_https: port, pubkey_ed25519: SNODE_ED, pubkey_x25519: "cd".repeat(32) });

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const send = (status: number, body: string): void => {
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url === "/json_rpc") {
      if (nextSeed !== undefined) return send(nextSeed.status, nextSeed.body);
      send(200, JSON.stringify({ result: { service_node_states: [{ public_ip: "127.0.0.1", storage_port: port, pubkey_ed25519: SNODE_ED, pubkey_x25519: "cd".repeat(32) }] } }));
      return;
    }
    let method: unknown;
    try {
      method = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { method?: unknown }).method;
    } catch {
      method = undefined;
    }
    if (method === "get_swarm") send(200, JSON.stringify({ snodes: [selfSnode()], t: Date.now(), hf: [19, 3] }));
    else send(next.status, next.body);
  });
}

function network(): StorageRpcNetwork {
  return new StorageRpcNetwork({
    seedUrls: [`http://127.0.0.1:${port}/json_rpc`],
    snodeScheme: "http",
    requestTimeoutMs: 3_000,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
}

// --- valid answers, the mutation corpus ---------------------------------------------------------
const HASH = "q3ZJb4Ew2mZ0l1yP9mA4fJ8vD7dK0nQ6s2T5uW1xY3z";
const validBodies = (): unknown[] => [
  { results: [{ code: 200, body: { messages: [{ hash: HASH, data: "AAEC", timestamp: 1, expiration: Date.now() + 60_000 }], more: false, t: Date.now(), hf: [19, 3] } }] },
  { results: [{ code: 200, body: { messages: [], more: true, t: Date.now() } }] },
  { hash: HASH, swarm: { [SNODE_ED]: { hash: HASH } }, t: Date.now() },
  { snodes: [selfSnode()], swarm: "1" },
  { t: Date.now(), timestamp: Date.now(), version: [2, 10, 0] },
];

const statusArb = fc.constantFrom(200, 200, 200, 421, 406, 425, 429, 500, 503, 400, 401, 404, 0 /* replaced below */).map((s) => (s === 0 ? 299 : s));
const bodyArb = fc.oneof(
  mutatedJson(fc.constantFrom(...validBodies())).map((v) => JSON.stringify(v) ?? ""),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  nastyJsonValue.map((v) => JSON.stringify({ results: [{ code: 200, body: { messages: v } }], snodes: v })),
  fc.string({ maxLength: 100 }),
  // snode lists and batch results whose entries are anything at all
  fc
    .array(fc.oneof(fc.constant(null), nastyJsonValue, mutatedJson(fc.constant(selfSnodeTemplate))), { maxLength: 3 })
    .map((list) => JSON.stringify({ snodes: list, results: list.length > 0 ? list : [null], messages: list })),
);
const answerArb: fc.Arbitrary<Answer> = fc.record({ status: statusArb, body: bodyArb });

beforeAll(async () => {
  me = await Identity.generate();
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  heapAtStart = heapUsed();
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function outcome(p: Promise<unknown>, what: string): Promise<void> {
  try {
    await withTimeout(p, CASE_TIMEOUT_MS, what);
  } catch (err) {
    if (!isSessionError(err)) throw new Error(`${what} rejected with ${String((err as Error)?.name)}: ${String((err as Error)?.message)}, not a SessionError`, { cause: err });
  }
}

describe("StorageRpcNetwork against a hostile snode over real HTTP", () => {
  it("getSnodes against a hostile seed: usable snodes or a SessionError", async () => {
    const validSeed = () => ({ jsonrpc: "2.0", id: 0, result: { service_node_states: [{ public_ip: "127.0.0.1", storage_port: port, pubkey_ed25519: SNODE_ED, pubkey_x25519: "cd".repeat(32) }] } });
    const seedBody = fc.oneof(
      mutatedJson(fc.constant(validSeed())).map((v) => JSON.stringify(v) ?? ""),
      fc.array(fc.oneof(fc.constant(null), nastyJsonValue), { maxLength: 3 }).map((l) => JSON.stringify({ result: { service_node_states: l } })),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 50 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.record({ status: fc.constantFrom(200, 200, 200, 404, 500), body: seedBody }), async (answer) => {
        nextSeed = answer;
        const net = network();
        try {
          const snodes = await withTimeout(net.getSnodes(), CASE_TIMEOUT_MS, "getSnodes").catch((err: unknown) => {
            if (!isSessionError(err)) throw new Error(`getSnodes rejected with ${String((err as Error)?.name)}: ${String((err as Error)?.message)}`, { cause: err });
            return [];
          });
          for (const s of snodes) {
            expect(Number.isInteger(s.port) && s.port > 0 && s.port <= 65535).toBe(true);
            expect(s.pubkeyEd25519).toMatch(/^[0-9a-f]{64}$/);
          }
        } finally {
          nextSeed = undefined;
          await net.close();
        }
      }),
      fuzzParams(200),
    );
  });

  it("retrieve and store resolve or reject with a SessionError", async () => {
    await fc.assert(
      fc.asyncProperty(answerArb, fc.boolean(), async (answer, doStore) => {
        next = answer;
        const net = network();
        try {
          if (doStore) await outcome(net.store({ pubkey: me.sessionId, namespace: 0, data: new Uint8Array([1, 2, 3]), ttlMs: 60_000 }), "store");
          else await outcome(net.retrieve({ pubkey: me.sessionId, namespace: 0, signer: me, lastHashes: {} }), "retrieve");
        } finally {
          await net.close();
        }
      }),
      fuzzParams(250),
    );
    expect(heapUsed() - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
  });
});
