// What the fuzzing found in other packages, now fixed: each input exactly as it was found, kept as
// a regression test that must pass from now on (the properties that found them keep covering their
// neighbourhood: see the README's Findings). A new finding that cannot be fixed at once goes here as
// a test of the behaviour the owner should have (marked `it.fails` with the finding's id, never
// skipped), so that the fix flips it and it becomes a plain regression.
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { Identity, StorageRpcNetwork, isSessionError } from "@session-bot/session";
import { MAX_JSON_DEPTH, assertPluginConfig, decodeInboundEvent, encodeInboundEvent, isProtocolError, parsePluginManifest } from "@session-bot/protocol";
import { sampleMessages } from "@session-bot/protocol/samples";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingLogger, withTimeout } from "../src/index.js";

/** What the devnet logs at error level (its `onError`: "devnet request failed"). */
const logged: unknown[][] = [];
let devnet: Devnet;

/** Writes raw bytes on a fresh TCP connection; resolves with what came back when it closes. */
function raw(port: number, bytes: string, opts: { destroyAfterMs?: number } = {}): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      const s = net.connect(port, "127.0.0.1", () => {
        s.write(bytes);
        if (opts.destroyAfterMs !== undefined) setTimeout(() => s.destroy(), opts.destroyAfterMs);
      });
      s.on("data", (c: Buffer) => chunks.push(c));
      s.on("error", () => undefined);
      s.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    }),
    10_000,
    "raw request",
  );
}

/**
 * A seed + snode on one port that answers the seed and `get_swarm` correctly and every other RPC
 * with `status` and `body`; returns the StorageRpcNetwork's error for one `retrieve` (or "resolved").
 */
async function retrieveAgainst(status: number, body: string): Promise<unknown> {
  const ed = "ab".repeat(32);
  let port = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (s: number, b: string): void => {
        res.writeHead(s, { "content-type": "application/json" });
        res.end(b);
      };
      if (req.url === "/json_rpc") return send(200, JSON.stringify({ result: { service_node_states: [{ public_ip: "127.0.0.1", storage_port: port, pubkey_ed25519: ed }] } }));
      const method = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { method?: unknown }).method;
      if (method === "get_swarm") return send(200, JSON.stringify({ snodes: [{ ip: "127.0.0.1", port_https: port, pubkey_ed25519: ed }] }));
      send(status, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  const me = await Identity.generate();
  const network = new StorageRpcNetwork({ seedUrls: [`http://127.0.0.1:${port}/json_rpc`], snodeScheme: "http", retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
  try {
    await withTimeout(network.retrieve({ pubkey: me.sessionId, namespace: 0, signer: me, lastHashes: {} }), 10_000, "retrieve");
    return "resolved";
  } catch (err) {
    return err;
  } finally {
    await network.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `{"a":{"a":…{}…}}`, `depth` levels (built iteratively). */
function deepObject(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

beforeAll(async () => {
  devnet = await startDevnet({ http: true, snodeCount: 1, swarmCount: 1, logger: recordingLogger(logged) as never });
});

afterAll(async () => {
  await devnet?.stop();
});

describe("fixed fuzz findings (regressions)", () => {
  it("session-parse-swarm-null-entry: a 421 listing a null snode gives a SessionError, not a TypeError", async () => {
    const err = await retrieveAgainst(421, JSON.stringify({ snodes: [null] }));
    expect(isSessionError(err), String(err)).toBe(true);
  });

  it("devnet-seed-deep-id-500: the seed answers an id nested 10,000 levels with Invalid Request, not a 500", async () => {
    logged.length = 0;
    const body = `{"jsonrpc":"2.0","id":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)},"method":"nope"}`;
    const res = await withTimeout(fetch(devnet.seedUrls[0]!, { method: "POST", body }), 10_000, "seed request");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request" } });
    expect(logged).toEqual([]);
  });

  it("protocol-plugin-config-deep-recursive-schema: a config nested 20,000 levels under a recursive schema is PROTOCOL_TOO_LARGE", () => {
    const manifest = parsePluginManifest({ ...sampleMessages().PluginManifest![0]!, configSchema: { type: "object", additionalProperties: { $ref: "#" } } });
    let thrown: unknown;
    try {
      assertPluginConfig(manifest, deepObject(20_000));
    } catch (err) {
      thrown = err;
    }
    expect(isProtocolError(thrown) && thrown.code === "PROTOCOL_TOO_LARGE", String(thrown)).toBe(true);
  });

  it("protocol-decode-accepts-what-encode-cannot-write: an extra field nested 50,000 levels is PROTOCOL_TOO_LARGE on decode, and what decodes encodes", () => {
    const sample = sampleMessages().InboundEvent![0] as Record<string, unknown>;
    const text = (levels: number): string => JSON.stringify({ ...sample, zz: 0 }).replace('"zz":0', `"zz":${'{"a":'.repeat(levels)}{}${"}".repeat(levels)}`);
    let thrown: unknown;
    try {
      decodeInboundEvent(text(50_000));
    } catch (err) {
      thrown = err;
    }
    expect(isProtocolError(thrown) && thrown.code === "PROTOCOL_TOO_LARGE", String(thrown)).toBe(true);
    // The deepest message that decodes (the extra field adds 1 + levels to the message's 1) encodes again.
    const deepest = decodeInboundEvent(text(MAX_JSON_DEPTH - 2));
    expect(new TextDecoder().decode(encodeInboundEvent(deepest))).toBe(text(MAX_JSON_DEPTH - 2));
  });

  it("devnet-client-abort-logged-as-request-failure: a client that closes the connection mid-body is counted, nothing logged at error", async () => {
    logged.length = 0;
    const before = devnet.clientAborts();
    for (const [port, path] of [
      [devnet.snodes[0]!.port, "/storage_rpc/v1"],
      [Number(new URL(devnet.seedUrls[0]!).port), "/json_rpc"],
    ] as const) {
      const answer = await raw(port, `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"method":`, { destroyAfterMs: 50 });
      expect(answer).toBe("");
    }
    // The server sees the abort asynchronously: give a busy machine up to 3 s.
    for (let waited = 0; devnet.clientAborts() - before < 2 && waited < 3_000; waited += 50) await sleep(50);
    expect(devnet.clientAborts() - before).toBe(2);
    expect(logged).toEqual([]);
  });

  it("devnet-malformed-http-closed-without-400: a request line that is not HTTP gets 400 Bad Request, then the connection closes", async () => {
    const answer = await raw(devnet.snodes[0]!.port, "GARBAGE\r\n\r\n");
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
  });

  it("the devnet keeps serving after all of them", async () => {
    const res = await fetch(`${devnet.snodes[0]!.url}/storage_rpc/v1`, { method: "POST", body: JSON.stringify({ method: "info", params: {} }) });
    expect(res.status).toBe(200);
    expect(logged).toEqual([]);
  });
});
