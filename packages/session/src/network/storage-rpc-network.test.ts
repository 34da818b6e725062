// Error paths of StorageRpcNetwork against a scripted loopback HTTP server (the devnet
// integration tests in packages/devnet/test/session cover the normal and fault paths).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { StorageRpcNetwork } from "./storage-rpc-network.js";
import { httpRequest } from "./http.js";
import { Identity } from "../identity/identity.js";

type Handler = (method: string, params: Record<string, unknown>) => { status: number; body: unknown };

let server: http.Server;
let port: number;
let seedHandler: (body: string) => { status: number; body: string; contentType?: string };
let snodeHandler: Handler;
const calls: string[] = [];
const ED = "ab".repeat(32);
const PK = "05" + "cd".repeat(32);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      if (req.url === "/json_rpc") {
        const out = seedHandler(raw);
        res.writeHead(out.status, { "content-type": out.contentType ?? "application/json" }).end(out.body);
        return;
      }
      if (req.url === "/big") {
        res.writeHead(200).end(Buffer.alloc(10_000));
        return;
      }
      if (req.url === "/slow") return; // never answers
      const { method, params } = JSON.parse(raw) as { method: string; params: Record<string, unknown> };
      calls.push(method);
      const out = snodeHandler(method, params);
      const text = typeof out.body === "string" ? out.body : JSON.stringify(out.body);
      res.writeHead(out.status, { "content-type": typeof out.body === "string" ? "text/plain" : "application/json" }).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  calls.length = 0;
  seedHandler = () => ({
    status: 200,
    body: JSON.stringify({ result: { service_node_states: [{ public_ip: "127.0.0.1", storage_port: port, pubkey_ed25519: ED, pubkey_x25519: ED }, { public_ip: "0.0.0.0", storage_port: 1, pubkey_ed25519: "cd".repeat(32) }] } }),
  });
  snodeHandler = (method) =>
    method === "get_swarm"
      ? { status: 200, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: ED, pubkey_x25519: ED }], t: Date.now() } }
      : { status: 200, body: { t: Date.now() } };
});

function network(extra: Partial<ConstructorParameters<typeof StorageRpcNetwork>[0]> = {}) {
  return new StorageRpcNetwork({
    seedUrls: [`http://127.0.0.1:${port}/json_rpc`],
    snodeScheme: "http",
    requestTimeoutMs: 500,
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 10 },
    ...extra,
  });
}

describe("StorageRpcNetwork error paths", () => {
  it("filters 0.0.0.0 snodes from the seed list", async () => {
    expect((await network().getSnodes()).map((s) => s.pubkeyEd25519)).toEqual([ED]);
  });

  it("reports a seed that answers garbage as SESSION_NO_SNODES", async () => {
    seedHandler = () => ({ status: 200, body: "not json" });
    await expect(network().getSnodes()).rejects.toMatchObject({ code: "SESSION_NO_SNODES" });
    seedHandler = () => ({ status: 500, body: "boom" });
    await expect(network().getSnodes()).rejects.toMatchObject({ code: "SESSION_NO_SNODES" });
  });

  it("does not retry a 401 and reports SESSION_RPC_REJECTED", async () => {
    snodeHandler = (method) => (method === "get_swarm" ? { status: 200, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: ED }] } } : { status: 401, body: "bad signature" });
    await expect(network().store({ pubkey: PK, namespace: 0, data: Uint8Array.of(1), ttlMs: 60_000 })).rejects.toMatchObject({ code: "SESSION_RPC_REJECTED", details: { status: 401 } });
    expect(calls.filter((c) => c === "store")).toHaveLength(1);
  });

  it("gives SESSION_CLOCK_SKEW when 406 persists after one resync", async () => {
    snodeHandler = (method) =>
      method === "get_swarm" ? { status: 200, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: ED }] } } : method === "info" ? { status: 200, body: { t: Date.now() } } : { status: 406, body: "Timestamp error: check your clock" };
    await expect(network().store({ pubkey: PK, namespace: 0, data: Uint8Array.of(1), ttlMs: 60_000 })).rejects.toMatchObject({ code: "SESSION_CLOCK_SKEW" });
    expect(calls.filter((c) => c === "store")).toHaveLength(2);
    expect(calls).toContain("info");
  });

  it("gives SESSION_RATE_LIMITED when every attempt is 429", async () => {
    snodeHandler = (method) => (method === "get_swarm" ? { status: 200, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: ED }] } } : { status: 429, body: "slow down" });
    await expect(network().store({ pubkey: PK, namespace: 0, data: Uint8Array.of(1), ttlMs: 60_000 })).rejects.toMatchObject({ code: "SESSION_RATE_LIMITED" });
    expect(calls.filter((c) => c === "store")).toHaveLength(3);
  });

  it("reads retrieve results from inside a batch, and 421 inside a batch moves the swarm", async () => {
    const id = await Identity.generate();
    let moved = false;
    snodeHandler = (method, params) => {
      if (method === "get_swarm") return { status: 200, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: ED }] } };
      const sub = (params.requests as { method: string; params: Record<string, unknown> }[])[0]!;
      expect(sub.method).toBe("retrieve");
      expect(sub.params.pubkey_ed25519).toBe(id.ed25519PublicKeyHex);
      if (!moved) {
        moved = true;
        return { status: 200, body: { results: [{ code: 421, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: "ef".repeat(32) }] } }] } };
      }
      return { status: 200, body: { results: [{ code: 200, body: { messages: [{ hash: "h".repeat(43), timestamp: 1, expiration: 2, data: "AQID" }, { hash: "i".repeat(43), data: "%%%" }], more: false, t: Date.now() } }] } };
    };
    const n = network();
    const res = await n.retrieve({ pubkey: id.sessionId, namespace: 0, signer: id, lastHashes: {} });
    expect(res.snode).toBe("ef".repeat(32));
    expect(res.messages[0]).toEqual({ hash: "h".repeat(43), timestamp: 1, expiration: 2, data: Uint8Array.of(1, 2, 3) });
    expect(res.messages[1]!.data).toBeNull();
    expect((await n.getSwarm(id.sessionId)).map((s) => s.pubkeyEd25519)).toEqual(["ef".repeat(32)]);
  });

  it("refuses payloads over 76,800 bytes and signed namespaces before sending", async () => {
    await expect(network().store({ pubkey: PK, namespace: 0, data: new Uint8Array(76_801), ttlMs: 60_000 })).rejects.toMatchObject({ code: "SESSION_PAYLOAD_TOO_LARGE" });
    await expect(network().store({ pubkey: PK, namespace: 2, data: Uint8Array.of(1), ttlMs: 60_000 })).rejects.toMatchObject({ code: "SESSION_UNSUPPORTED" });
    expect(calls).toHaveLength(0);
  });

  it("only downloads from allowed file servers", async () => {
    const n = network({ fileServerUrl: `http://127.0.0.1:${port}` });
    await expect(n.downloadFile("http://169.254.169.254/file/1")).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_URL_NOT_ALLOWED" });
    await expect(n.downloadFile(`http://127.0.0.1:${port}/etc/passwd`)).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_URL_NOT_ALLOWED" });
    await expect(n.downloadFile("not a url")).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_URL_NOT_ALLOWED" });
  });

  it("rejects bad constructor options", () => {
    expect(() => new StorageRpcNetwork({ seedUrls: [] })).toThrow(expect.objectContaining({ code: "SESSION_INVALID_ARGUMENT" }));
    expect(() => new StorageRpcNetwork({ seedUrls: ["ftp://x/"] })).toThrow(expect.objectContaining({ code: "SESSION_INVALID_ARGUMENT" }));
  });

  it("refuses work after close", async () => {
    const n = network();
    await n.close();
    await expect(n.store({ pubkey: PK, namespace: 0, data: Uint8Array.of(1), ttlMs: 60_000 })).rejects.toMatchObject({ code: "SESSION_CLOSED" });
  });
});

describe("StorageRpcNetwork store batching", () => {
  type Sub = { method: string; params: Record<string, unknown> };
  const swarm = (ed = ED) => ({ status: 200, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: ed }] } });
  const hashOf = (params: Record<string, unknown>) => `${String(params.data)}`.replace(/[^A-Za-z0-9]/g, "x").padEnd(43, "h").slice(0, 43);
  const stored: string[] = [];
  const store = (n: ReturnType<typeof network>, byte: number) => n.store({ pubkey: PK, namespace: 0, data: Uint8Array.of(byte), ttlMs: 60_000 });
  beforeEach(() => {
    stored.length = 0;
  });

  it("sends the stores of one turn to a snode in one batch, each with its own result; a store alone is a plain store", async () => {
    const batchSizes: number[] = [];
    snodeHandler = (method, params) => {
      if (method === "get_swarm") return swarm();
      if (method === "store") return { status: 200, body: { hash: hashOf(params), t: Date.now() } };
      const subs = params.requests as Sub[];
      batchSizes.push(subs.length);
      expect(subs.every((x) => x.method === "store")).toBe(true);
      return { status: 200, body: { results: subs.map((x) => ({ code: 200, body: { hash: hashOf(x.params), t: Date.now() } })) } };
    };
    const n = network();
    await n.getSwarm(PK); // the swarm is known: the stores below start in the same turn
    const results = await Promise.all([1, 2, 3, 4, 5].map((b) => store(n, b)));
    expect(batchSizes).toEqual([5]);
    expect(results.map((r) => r.hash)).toEqual([1, 2, 3, 4, 5].map((b) => hashOf({ data: Buffer.from([b]).toString("base64") })));
    const single = await store(n, 9);
    expect(single.hash).toBe(hashOf({ data: Buffer.from([9]).toString("base64") }));
    expect(calls.filter((c) => c !== "get_swarm")).toEqual(["batch", "store"]);
    await n.close();
  });

  it("never puts more than 20 stores in one batch", async () => {
    const batchSizes: number[] = [];
    snodeHandler = (method, params) => {
      if (method === "get_swarm") return swarm();
      const subs = method === "batch" ? (params.requests as Sub[]) : [{ method, params }];
      batchSizes.push(subs.length);
      return method === "batch"
        ? { status: 200, body: { results: subs.map((x) => ({ code: 200, body: { hash: hashOf(x.params) } })) } }
        : { status: 200, body: { hash: hashOf(params) } };
    };
    const n = network();
    await n.getSwarm(PK);
    await Promise.all(Array.from({ length: 45 }, (_, i) => store(n, i)));
    expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(45);
    expect(Math.max(...batchSizes)).toBe(20);
    await n.close();
  });

  it("handles each store's status on its own: a 421 moves that store to the new swarm, the others are done", async () => {
    const NEW = "ef".repeat(32);
    snodeHandler = (method, params) => {
      if (method === "get_swarm") return swarm();
      if (method === "store") {
        stored.push(`plain:${String(params.data)}`);
        return { status: 200, body: { hash: hashOf(params) } };
      }
      const subs = params.requests as Sub[];
      return {
        status: 200,
        body: {
          results: subs.map((x, i) =>
            i === 1 ? { code: 421, body: { snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: NEW }] } } : { code: 200, body: { hash: hashOf(x.params) } },
          ),
        },
      };
    };
    const n = network();
    await n.getSwarm(PK);
    const [a, b, c] = await Promise.all([store(n, 1), store(n, 2), store(n, 3)]);
    expect([a.snode, c.snode]).toEqual([ED, ED]);
    expect(b.snode).toBe(NEW);
    expect(stored).toEqual([`plain:${Buffer.from([2]).toString("base64")}`]);
    await n.close();
  });

  it("a batch request that fails (HTTP 500) fails each store, which retries and succeeds", async () => {
    let failed = false;
    snodeHandler = (method, params) => {
      if (method === "get_swarm") return swarm();
      if (method === "batch" && !failed) {
        failed = true;
        return { status: 500, body: "boom" };
      }
      const subs = method === "batch" ? (params.requests as Sub[]) : [{ method, params }];
      return method === "batch"
        ? { status: 200, body: { results: subs.map((x) => ({ code: 200, body: { hash: hashOf(x.params) } })) } }
        : { status: 200, body: { hash: hashOf(params) } };
    };
    const n = network();
    await n.getSwarm(PK);
    const results = await Promise.all([1, 2, 3].map((b) => store(n, b)));
    expect(results).toHaveLength(3);
    expect(calls.filter((c) => c !== "get_swarm")[0]).toBe("batch");
    expect(calls.filter((c) => c !== "get_swarm").length).toBeGreaterThan(1);
    await n.close();
  });

  it("a batch answer without a result for a store is SESSION_MALFORMED for that store (retried)", async () => {
    let short = true;
    snodeHandler = (method, params) => {
      if (method === "get_swarm") return swarm();
      if (method === "store") return { status: 200, body: { hash: hashOf(params) } };
      const subs = params.requests as Sub[];
      const results = subs.map((x) => ({ code: 200, body: { hash: hashOf(x.params) } }));
      if (short) {
        short = false;
        results.pop();
      }
      return { status: 200, body: { results } };
    };
    const n = network();
    await n.getSwarm(PK);
    const results = await Promise.all([1, 2].map((b) => store(n, b)));
    expect(results.map((r) => r.hash)).toEqual([1, 2].map((b) => hashOf({ data: Buffer.from([b]).toString("base64") })));
    await n.close();
  });
});

describe("httpRequest", () => {
  it("times out, caps the response size and aborts", async () => {
    const base = { method: "GET" as const, trust: { kind: "system" as const }, maxResponseBytes: 1_000_000 };
    await expect(httpRequest({ ...base, url: `http://127.0.0.1:${port}/slow`, timeoutMs: 100 })).rejects.toMatchObject({ code: "SESSION_TIMEOUT" });
    await expect(httpRequest({ ...base, url: `http://127.0.0.1:${port}/big`, timeoutMs: 1000, maxResponseBytes: 100 })).rejects.toMatchObject({ code: "SESSION_NETWORK" });
    const abort = new AbortController();
    const p = httpRequest({ ...base, url: `http://127.0.0.1:${port}/slow`, timeoutMs: 5000, signal: abort.signal });
    abort.abort();
    await expect(p).rejects.toMatchObject({ code: "SESSION_CLOSED" });
    await expect(httpRequest({ ...base, url: "http://127.0.0.1:1/", timeoutMs: 1000 })).rejects.toMatchObject({ code: "SESSION_NETWORK" });
  });

  it("refuses a request whose signal is already aborted without an uncaught 'socket hang up'", async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => {
      uncaught.push(err);
    };
    process.on("uncaughtException", onUncaught);
    try {
      const abort = new AbortController();
      abort.abort();
      const base = { method: "GET" as const, trust: { kind: "system" as const }, maxResponseBytes: 1_000 };
      await expect(httpRequest({ ...base, url: `http://127.0.0.1:${port}/slow`, timeoutMs: 5000, signal: abort.signal })).rejects.toMatchObject({ code: "SESSION_CLOSED" });
      // The destroyed request reports its error on a later tick: give it the chance.
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
  });
});
