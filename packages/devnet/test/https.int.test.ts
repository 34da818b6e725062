// HTTPS mode: a self-signed certificate generated at start, trusted explicitly by the client.
// (undici's own fetch: Node's built-in fetch bundles another undici major and refuses its Agent.)
import { Agent, fetch as undiciFetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../src/index.js";

let net: Devnet;
beforeAll(async () => {
  net = await startDevnet({ snodeCount: 3, swarmCount: 1 });
});
afterAll(() => net.stop());

describe("HTTPS devnet", () => {
  it("serves the seed, snodes and file server over TLS with the generated certificate", async () => {
    expect(net.scheme).toBe("https");
    expect(net.seedUrls[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/json_rpc$/);
    expect(net.seedCertificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const dispatcher = new Agent({ connect: { ca: net.seedCertificatePem! } });
    try {
      const seed = await undiciFetch(net.seedUrls[0]!, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "get_n_service_nodes", params: {} }),
        dispatcher,
      });
      expect(seed.status).toBe(200);
      const info = await undiciFetch(`${net.snodes[0]!.url}/storage_rpc/v1`, {
        method: "POST",
        body: JSON.stringify({ method: "info", params: {} }),
        dispatcher,
      });
      expect(info.status).toBe(200);
      const fsRes = await undiciFetch(`${net.fileServerUrl}/file/1`, { dispatcher });
      expect(fsRes.status).toBe(404);
    } finally {
      await dispatcher.close();
    }
  });

  it("is refused by a client that trusts nothing, and accepted with verification off", async () => {
    await expect(undiciFetch(`${net.snodes[0]!.url}/storage_rpc/v1`, { method: "POST", body: "{}" })).rejects.toThrow();
    const insecure = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      const r = await undiciFetch(`${net.snodes[1]!.url}/storage_rpc/v1`, { method: "POST", body: "{}", dispatcher: insecure });
      expect(r.status).toBe(400);
    } finally {
      await insecure.close();
    }
  });
});
