import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createHarness } from "@session-bot/plugin-sdk/testing";
import files from "./index.js";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe("files plugin", () => {
  it("/hash answers with the SHA-256 of each attached file", async () => {
    const h = createHarness(files);
    const a = new TextEncoder().encode("hello world");
    const b = new Uint8Array(100_000).fill(7);
    const r = await h.message("/hash", { attachments: [h.addAttachment(a, { fileName: "a.txt" }), h.addAttachment(b)] });
    const [text] = r.texts;
    expect(text).toContain("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9  a.txt (11 bytes)");
    expect(text).toContain(`${createHash("sha256").update(b).digest("hex")}  in-`);
    expect(r.replies[0]!.quote).toBeDefined();
  });

  it("/hash without a file explains how to use it", async () => {
    expect((await createHarness(files).message("/hash")).texts[0]).toMatch(/^Send a file/);
  });

  it("/qr uploads a PNG and sends it", async () => {
    const h = createHarness(files, { config: { qrWidth: 128 } });
    const r = await h.message("/qr https://getsession.org");
    const [reply] = r.replies;
    expect(reply!.text).toBe("");
    const upload = h.uploads.get(reply!.attachments![0]!)!;
    expect(upload.meta).toEqual({ contentType: "image/png", fileName: "qr.png" });
    expect([...upload.bytes.subarray(0, 8)]).toEqual(PNG_MAGIC);
    // IHDR width (bytes 16..19, big-endian) is the configured width.
    expect(new DataView(upload.bytes.buffer, upload.bytes.byteOffset).getUint32(16)).toBe(128);
  });

  it("/qr refuses empty and over-long text", async () => {
    const h = createHarness(files, { config: { maxQrText: 5 } });
    expect((await h.message("/qr")).texts).toEqual(["Usage: /qr <text>"]);
    expect((await h.message("/qr 123456")).texts[0]).toMatch(/too long/);
    expect(h.uploads.size).toBe(0);
  });
});
