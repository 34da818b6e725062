// The devnet at the process edge: a real `startDevnet({ http: true })`, random and mutated request
// bodies to the snodes' `/storage_rpc/v1` and the seed's `/json_rpc` over real HTTP. Every request
// gets a 2xx/4xx answer (never a 5xx, never a dropped connection) within a timeout, bytes that are
// not HTTP get a 400, clients that drop mid-request are counted but not logged as failures, the
// devnet logs no request failure, and it keeps serving valid requests during and after the run.
import http from "node:http";
import { connect } from "node:net";
import fc from "fast-check";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { Identity, encryptForRecipient, wrapEnvelope } from "@session-bot/session";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzParams, heapUsed, HEAP_GROWTH_LIMIT, mutatedBytes, mutatedJson, recordingLogger, withTimeout } from "../src/index.js";

/** Per-request bound: a loopback answer takes milliseconds; this only catches hangs. */
const CASE_TIMEOUT_MS = 5_000;

let net: Devnet;
let alice: Identity;
let bob: Identity;
let heapAtStart = 0;
/** Request failures the devnet logged (its `onError`: what became a 500 or a destroyed socket). */
const logged: unknown[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });


interface Answer {
  status: number;
  body: string;
}

/** One raw HTTP request; rejects on a dropped connection, a timeout, or a transport error. */
function send(url: string, body: Uint8Array | string, options: { method?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Answer> {
  const req = new Promise<Answer>((resolve, reject) => {
    // Always frame the body (Node sends a GET/DELETE/OPTIONS body unframed otherwise: bad HTTP).
    const framing = options.headers?.["transfer-encoding"] !== undefined ? {} : { "content-length": Buffer.byteLength(body) };
    const headers = { "content-type": "application/json", ...framing, ...options.headers };
    const r = http.request(url, { method: options.method ?? "POST", agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    r.on("error", reject);
    r.end(body);
  });
  return withTimeout(req, CASE_TIMEOUT_MS, `${options.method ?? "POST"} ${new URL(url).pathname}`);
}

const rpcUrl = (i: number): string => `${net.snodes[i % net.snodes.length]!.url}/storage_rpc/v1`;
const seedUrl = (): string => net.seedUrls[0]!;

/** The port of a snode (0), the seed (1) or the file server (2). */
function listenerPort(which: number): number {
  if (which === 1) return Number(new URL(seedUrl()).port);
  if (which === 2) return Number(new URL(net.fileServerUrl).port);
  return net.snodes[0]!.port;
}

/**
 * Raw bytes on a fresh TCP connection: `end` half-closes after writing, `destroyAfterMs` drops the
 * connection; resolves with all the server sent once the connection is closed (by either side).
 * Rejects when it is still open after the case timeout (a hang).
 */
function wire(port: number, bytes: string, opts: { end?: boolean; destroyAfterMs?: number }): Promise<{ answer: string }> {
  const exchange = new Promise<{ answer: string }>((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, "127.0.0.1", () => {
      if (opts.end === true) s.end(bytes, "latin1");
      else s.write(bytes, "latin1");
      if (opts.destroyAfterMs !== undefined) setTimeout(() => s.destroy(), opts.destroyAfterMs);
    });
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => undefined);
    s.on("close", () => resolve({ answer: Buffer.concat(chunks).toString("latin1") }));
    // Clean up a socket the timeout below gives up on.
    setTimeout(() => s.destroy(), CASE_TIMEOUT_MS + 100).unref();
  });
  return withTimeout(exchange, CASE_TIMEOUT_MS, `raw bytes to port ${port}`);
}

/** 2xx or 4xx, nothing else. */
function expectHandled(a: Answer, what: string): void {
  expect(a.status >= 200 && a.status < 500, `${what}: HTTP ${a.status} ${a.body.slice(0, 200)}`).toBe(true);
}

// --- the valid corpus ---------------------------------------------------------------------------

function retrieveParams(who: Identity, namespace = 0): Record<string, unknown> {
  const timestamp = Date.now();
  const sig = who.sign(new TextEncoder().encode(`retrieve${namespace === 0 ? "" : namespace}${timestamp}`));
  return {
    pubkey: who.sessionId,
    pubkey_ed25519: Buffer.from(who.publicKeys.ed25519).toString("hex"),
    timestamp,
    signature: Buffer.from(sig).toString("base64"),
    ...(namespace === 0 ? {} : { namespace }),
  };
}

function storeParams(): Record<string, unknown> {
  const timestamp = Date.now();
  const data = wrapEnvelope(encryptForRecipient(alice, bob.sessionId, new TextEncoder().encode("hi")), timestamp);
  return { pubkey: bob.sessionId, data: Buffer.from(data).toString("base64"), ttl: 60_000, timestamp, namespace: 0 };
}

function validRpcBodies(): Record<string, unknown>[] {
  return [
    { method: "info", params: {} },
    { method: "get_swarm", params: { pubkey: bob.sessionId } },
    { method: "get_snodes_for_pubkey", params: { pubKey: alice.sessionId } },
    { method: "store", params: storeParams() },
    { method: "retrieve", params: retrieveParams(bob) },
    { method: "retrieve", params: { ...retrieveParams(bob), last_hash: "q3ZJb4Ew2mZ0l1yP9mA4fJ8vD7dK0nQ6s2T5uW1xY3z", max_count: 5 } },
    { method: "oxend_request", params: { endpoint: "get_service_nodes", params: { fields: { pubkey_ed25519: true } } } },
    { method: "batch", params: { requests: [{ method: "store", params: storeParams() }, { method: "retrieve", params: retrieveParams(bob) }] } },
    { method: "sequence", params: { requests: [{ method: "info", params: {} }, { method: "get_swarm", params: { pubkey: alice.sessionId } }] } },
  ];
}

const validSeedBodies = (): Record<string, unknown>[] => [
  { jsonrpc: "2.0", id: 1, method: "get_n_service_nodes", params: { fields: { public_ip: true, storage_port: true, pubkey_ed25519: true, swarm_id: true } } },
  { jsonrpc: "2.0", id: "x", method: "get_n_service_nodes", params: { limit: 2, active_only: true } },
  { jsonrpc: "2.0", method: "get_service_nodes", params: {} },
];

/** Valid requests still get their normal answers. */
async function expectServing(): Promise<void> {
  const info = await send(rpcUrl(0), JSON.stringify({ method: "info", params: {} }));
  expect(info.status).toBe(200);
  const retrieve = await send(rpcUrl(1), JSON.stringify({ method: "retrieve", params: retrieveParams(bob) }));
  expect(retrieve.status, retrieve.body).toBe(200);
  const seed = await send(seedUrl(), JSON.stringify(validSeedBodies()[0]));
  expect(seed.status).toBe(200);
  expect((JSON.parse(seed.body) as { result?: { service_node_states?: unknown[] } }).result?.service_node_states?.length).toBe(net.snodes.length);
}

beforeAll(async () => {
  alice = await Identity.generate();
  bob = await Identity.generate();
  net = await startDevnet({ http: true, snodeCount: 2, swarmCount: 1, logger: recordingLogger(logged) as never });
  await expectServing();
  heapAtStart = heapUsed();
});

afterAll(async () => {
  agent.destroy();
  await net?.stop();
});

/** Runs `cases` through `sendOne`, checking liveness every 50 cases. */
function httpProperty<T>(arb: fc.Arbitrary<T>, sendOne: (t: T) => Promise<Answer>, what: string): fc.IAsyncProperty<[T]> {
  let n = 0;
  return fc.asyncProperty(arb, async (t) => {
    const a = await sendOne(t);
    expectHandled(a, what);
    if (++n % 50 === 0) await expectServing();
  });
}

const anyRpcBody: () => fc.Arbitrary<string | Uint8Array> = () =>
  fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.string({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.record({ method: fc.string({ maxLength: 12 }), params: fc.jsonValue({ maxDepth: 3 }) }).map((v) => JSON.stringify(v)),
  );

describe("devnet storage RPC over real HTTP", () => {
  it("the valid corpus is answered 200", async () => {
    for (const b of validRpcBodies()) {
      const a = await send(rpcUrl(0), JSON.stringify(b));
      expect(a.status, `${String(b.method)}: ${a.body.slice(0, 200)}`).toBe(200);
    }
    for (const b of validSeedBodies()) {
      const a = await send(seedUrl(), JSON.stringify(b));
      expect(a.status).toBe(200);
      expect(JSON.parse(a.body)).toHaveProperty("result");
    }
  });

  it("random bodies to /storage_rpc/v1 get a 2xx/4xx", async () => {
    await fc.assert(
      httpProperty(fc.tuple(anyRpcBody(), fc.nat(1)), ([body, i]) => send(rpcUrl(i), body), "random rpc body"),
      fuzzParams(400),
    );
  });

  it("mutations of valid RPC requests (JSON-level) get a 2xx/4xx", async () => {
    const bodies = validRpcBodies();
    await fc.assert(
      httpProperty(fc.tuple(mutatedJson(fc.constantFrom(...bodies)), fc.nat(1)), ([v, i]) => send(rpcUrl(i), JSON.stringify(v) ?? ""), "mutated rpc request"),
      fuzzParams(800),
    );
  });

  it("mutations of valid RPC requests (byte-level) get a 2xx/4xx", async () => {
    const bodies = validRpcBodies().map((b) => new TextEncoder().encode(JSON.stringify(b)));
    await fc.assert(
      httpProperty(fc.tuple(mutatedBytes(fc.constantFrom(...bodies)), fc.nat(1)), ([b, i]) => send(rpcUrl(i), b), "byte-mutated rpc request"),
      fuzzParams(400),
    );
  });

  it("random and mutated bodies to the seed's /json_rpc get a 2xx/4xx", async () => {
    const seeds = validSeedBodies();
    const body = fc.oneof(anyRpcBody(), mutatedJson(fc.constantFrom(...seeds)).map((v) => JSON.stringify(v) ?? ""));
    await fc.assert(
      httpProperty(body, (b) => send(seedUrl(), b), "seed json_rpc"),
      fuzzParams(400),
    );
  });

  it("hostile HTTP around the body (methods, paths, headers, sizes) gets a 2xx/4xx", async () => {
    const request = fc.record({
      method: fc.constantFrom("POST", "GET", "PUT", "DELETE", "OPTIONS", "PATCH"),
      path: fc.constantFrom("/storage_rpc/v1", "/storage_rpc/v1?x=1", "/storage_rpc/v1/", "//storage_rpc/v1", "/json_rpc", "/%ZZ", "/", "/storage_rpc/v1#a"),
      seed: fc.boolean(),
      headers: fc.dictionary(fc.constantFrom("x-loki-long-poll", "content-type", "accept-encoding", "x-forwarded-for"), fc.constantFrom("1", "", "gzip", "text/plain")),
      body: anyRpcBody(),
    });
    await fc.assert(
      httpProperty(
        request,
        (r) => send(`${r.seed ? new URL(seedUrl()).origin : net.snodes[0]!.url}${r.path}`, r.method === "GET" ? "" : r.body, { method: r.method, headers: r.headers }),
        "hostile request",
      ),
      fuzzParams(200),
    );
    // Bodies over the limits are refused by their declared length, before being read.
    const chunked = await send(rpcUrl(0), JSON.stringify({ method: "info", params: {} }), { headers: { "transfer-encoding": "chunked" } });
    expect(chunked.status).toBe(200);
    const tooLarge = await send(rpcUrl(0), new Uint8Array(10_000_001));
    expect(tooLarge.status).toBe(413);
    const seedTooLarge = await send(seedUrl(), new Uint8Array(1_000_001));
    expect(seedTooLarge.status).toBe(413);
  });

  it("concurrent bursts of mutated requests all get a 2xx/4xx", async () => {
    const bodies = validRpcBodies();
    const burst = fc.array(fc.tuple(mutatedJson(fc.constantFrom(...bodies)), fc.nat(1)), { minLength: 2, maxLength: 16 });
    await fc.assert(
      fc.asyncProperty(burst, async (reqs) => {
        const answers = await Promise.all(reqs.map(([v, i]) => send(rpcUrl(i), JSON.stringify(v) ?? "")));
        answers.forEach((a) => expectHandled(a, "burst request"));
      }),
      fuzzParams(40),
    );
    await expectServing();
  });

  it("the file server: random methods, paths and bodies get a 2xx/4xx", async () => {
    const request = fc.record({
      method: fc.constantFrom("POST", "GET", "PUT", "DELETE", "HEAD"),
      path: fc.oneof(
        fc.constantFrom("/file", "/file/", "/file/1", "/file/abc/def", "/files", "/", "/file/%00", "/file/..%2f..", "/file/" + "9".repeat(40)),
        fc.string({ maxLength: 20 }).map((t) => `/file/${encodeURIComponent(t)}`),
      ),
      body: fc.uint8Array({ maxLength: 200 }),
    });
    await fc.assert(
      httpProperty(request, (r) => send(`${net.fileServerUrl}${r.path}`, r.method === "GET" || r.method === "HEAD" ? "" : r.body, { method: r.method }), "file server request"),
      fuzzParams(200),
    );
  });

  it("bytes on the wire that are not HTTP get 400 Bad Request before the connection closes (regression: devnet-malformed-http-closed-without-400)", async () => {
    // A request line that is no HTTP at all: a token without spaces, or random printable bytes.
    const garbage = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_!-]{1,40}$/).map((t) => `${t}\r\n\r\n`),
      fc.uint8Array({ minLength: 1, maxLength: 60 }).map((b) => `${Buffer.from(b.map((x) => 0x21 + (x % 0x5e))).toString("latin1")}\r\n\r\n`),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(garbage, fc.nat(2), async (bytes, which) => {
        const { answer } = await wire(listenerPort(which), bytes, { end: false });
        expect(answer.split("\r\n")[0], JSON.stringify(bytes)).toMatch(/^HTTP\/1\.1 (400 Bad Request|405 |404 |431 )/);
        if (++n % 50 === 0) await expectServing();
      }),
      fuzzParams(200),
    );
  });

  it("byte mutations of a raw HTTP request (request line, headers, framing) get only 2xx/4xx status lines, and the connection closes", async () => {
    const body = JSON.stringify({ method: "info", params: {} });
    const rawRequest = new TextEncoder().encode(`POST /storage_rpc/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutatedBytes(fc.constant(rawRequest)), fc.nat(2), async (bytes, which) => {
        // The client sends its bytes and ends its side: the server answers what it can, then closes.
        const { answer } = await wire(listenerPort(which), Buffer.from(bytes).toString("latin1"), { end: true });
        for (const status of answer.match(/HTTP\/1\.1 \d{3}/g) ?? []) {
          const code = Number(status.slice(9));
          expect(code >= 200 && code < 500, `${status} for ${JSON.stringify(Buffer.from(bytes).toString("latin1"))}`).toBe(true);
        }
        if (++n % 50 === 0) await expectServing();
      }),
      fuzzParams(300),
    );
  });

  it("clients that close the connection in the middle of a request body are counted, not logged as failures (regression: devnet-client-abort-logged-as-request-failure)", async () => {
    const before = net.clientAborts();
    const body = JSON.stringify({ method: "retrieve", params: retrieveParams(alice) });
    const cut = fc.record({ which: fc.nat(2), keep: fc.nat(body.length - 1), afterMs: fc.integer({ min: 0, max: 15 }) });
    let aborted = 0;
    await fc.assert(
      fc.asyncProperty(cut, async ({ which, keep, afterMs }) => {
        const head = `POST ${which === 1 ? "/json_rpc" : which === 2 ? "/file" : "/storage_rpc/v1"} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;
        const { answer } = await wire(listenerPort(which), head + body.slice(0, keep), { destroyAfterMs: afterMs });
        expect(answer).toBe("");
        aborted += 1;
      }),
      fuzzParams(60),
    );
    // The server sees each abort asynchronously.
    for (let waited = 0; net.clientAborts() - before < aborted && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(net.clientAborts() - before).toBe(aborted);
    expect(logged).toEqual([]);
    await expectServing();
  });

  it("a client holding a request body half-sent does not stop others from being served", async () => {
    const sockets = await Promise.all(
      [net.snodes[0]!.port, new URL(seedUrl()).port, net.snodes[1]!.port].map(
        (port) =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const s = connect(Number(port), "127.0.0.1", () => {
              s.write(`POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"method":"info",`);
              resolve(s);
            });
            s.on("error", () => undefined);
          }),
      ),
    );
    try {
      await expectServing();
    } finally {
      // Dropped mid-body: a client abort, which the devnet counts and does not log as a failure.
      for (const s of sockets) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
  });

  it("keeps serving valid requests afterwards, logged no request failure, and its heap stayed bounded", async () => {
    await expectServing();
    expect(logged).toEqual([]);
    expect(heapUsed() - heapAtStart).toBeLessThan(HEAP_GROWTH_LIMIT);
  });
});
