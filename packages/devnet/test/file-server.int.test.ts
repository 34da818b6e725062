// File server over real HTTP: upload, download, info, extend, limits, expiry.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../src/index.js";

let net: Devnet;
beforeAll(async () => {
  net = await startDevnet({ http: true, snodeCount: 1, swarmCount: 1, fileServer: { maxBytes: 1000, ttlSeconds: 3600 } });
});
afterAll(() => net.stop());

const upload = (body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${net.fileServerUrl}/file`, { method: "POST", body, headers: { "Content-Type": "application/octet-stream", ...headers } });

describe("file server", () => {
  it("uploads and downloads the same bytes, with info", async () => {
    const blob = Buffer.from(Array.from({ length: 700 }, (_, i) => i & 255));
    const before = Date.now() / 1000;
    const res = await upload(blob);
    expect(res.status).toBe(200);
    const up = (await res.json()) as { id: string; uploaded: number; expires: number };
    expect(up.id).toMatch(/^\d+$/);
    expect(Number(up.id)).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(up.uploaded).toBeGreaterThanOrEqual(before - 1);
    expect(up.expires - up.uploaded).toBeCloseTo(3600, 3);
    const dl = await fetch(`${net.fileServerUrl}/file/${up.id}`);
    expect(dl.status).toBe(200);
    expect(dl.headers.get("content-type")).toBe("application/octet-stream");
    expect(Buffer.from(await dl.arrayBuffer()).equals(blob)).toBe(true);
    const info = (await (await fetch(`${net.fileServerUrl}/file/${up.id}/info`)).json()) as Record<string, number>;
    expect(info).toEqual({ size: 700, uploaded: up.uploaded, expires: up.expires });
  });

  it("413 above the size limit (exactly the limit is fine)", async () => {
    expect((await upload(Buffer.alloc(1000, 1))).status).toBe(200);
    const big = await upload(Buffer.alloc(1001, 1));
    expect(big.status).toBe(413);
  });

  it("404 {status_code:404} for unknown ids", async () => {
    const r = await fetch(`${net.fileServerUrl}/file/12345`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ status_code: 404 });
    expect((await fetch(`${net.fileServerUrl}/file/12345/info`)).status).toBe(404);
  });

  it("expires uploads (X-FS-TTL) and extends them", async () => {
    const up = (await (await upload(Buffer.from("short"), { "X-FS-TTL": "1" })).json()) as { id: string; expires: number; uploaded: number };
    expect(up.expires - up.uploaded).toBeCloseTo(1, 3);
    const keep = (await (await upload(Buffer.from("kept"), { "X-FS-TTL": "1" })).json()) as { id: string };
    const ext = await fetch(`${net.fileServerUrl}/file/${keep.id}/extend`, { method: "POST" });
    expect(ext.status).toBe(200);
    const extended = (await ext.json()) as { expires: number };
    expect(extended.expires - Date.now() / 1000).toBeGreaterThan(3500);
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await fetch(`${net.fileServerUrl}/file/${up.id}`)).status).toBe(404);
    expect((await fetch(`${net.fileServerUrl}/file/${keep.id}`)).status).toBe(200);
    expect(net.purgeExpired().files).toBeGreaterThanOrEqual(1);
  });

  it("serves the legacy JSON API", async () => {
    const r = await fetch(`${net.fileServerUrl}/files`, { method: "POST", body: JSON.stringify({ file: Buffer.from("legacy").toString("base64") }) });
    const j = (await r.json()) as { result: number; status_code: number };
    expect(j.status_code).toBe(200);
    const g = (await (await fetch(`${net.fileServerUrl}/files/${j.result}`)).json()) as { result: string };
    expect(Buffer.from(g.result, "base64").toString()).toBe("legacy");
  });
});
