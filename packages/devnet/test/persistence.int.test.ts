/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- RPC answers are untyped JSON, checked field by field */
// SQLite persistence: messages and files survive a restart with the same seed and data file.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isDevnetError, startDevnet, type Devnet } from "../src/index.js";
import { randomIdentity, rpc, signedRetrieve, storeParams } from "./helpers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "devnet-persist-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("persistence", () => {
  it("keeps keys (same seed), messages and files across a restart", async () => {
    const dataFile = path.join(dir, "devnet.sqlite");
    const me = await randomIdentity();
    const first = await startDevnet({ http: true, seed: "persist", dataFile });
    const sn = first.swarmFor(me.sessionId).snodes[0]!;
    const stored = await rpc(sn.url, "store", storeParams(me.sessionId, "survives"));
    expect(stored.status).toBe(200);
    const up = (await (await fetch(`${first.fileServerUrl}/file`, { method: "POST", body: Buffer.from("file survives") })).json()) as { id: string };
    const keys = first.snodes.map((s) => s.pubkeyEd25519);
    await first.stop();
    await first.stop(); // idempotent
    expect(() => first.messages(me.sessionId)).toThrow(expect.objectContaining({ code: "DEVNET_STOPPED" }));

    const second = await startDevnet({ http: true, seed: "persist", dataFile });
    try {
      expect(second.snodes.map((s) => s.pubkeyEd25519)).toEqual(keys);
      const sn2 = second.swarmFor(me.sessionId).snodes[1]!;
      const r = await rpc(sn2.url, "retrieve", signedRetrieve(me, 0, Date.now()));
      expect(r.json.messages.map((m: any) => m.hash)).toEqual([stored.json.hash]);
      const dl = await fetch(`${second.fileServerUrl}/file/${up.id}`);
      expect(Buffer.from(await dl.arrayBuffer()).toString()).toBe("file survives");
    } finally {
      await second.stop();
    }
  });

  it("an in-memory devnet forgets everything on restart", async () => {
    const me = await randomIdentity();
    const a = await startDevnet({ http: true, seed: "mem" });
    await rpc(a.swarmFor(me.sessionId).snodes[0]!.url, "store", storeParams(me.sessionId, "gone"));
    expect(a.messages(me.sessionId)).toHaveLength(1);
    await a.stop();
    const b = await startDevnet({ http: true, seed: "mem" });
    expect(b.messages(me.sessionId)).toHaveLength(0);
    await b.stop();
  });

  it("stable ports from basePort, and a typed error when a port is taken", async () => {
    // Below the OS's ephemeral range (32768+), so no other test's listener can be there by chance;
    // retried on the rare clash with something else running on the machine.
    let a: Devnet | undefined;
    let base = 0;
    for (let attempt = 0; attempt < 5 && !a; attempt++) {
      base = 23_000 + Math.floor(Math.random() * 8_000);
      try {
        a = await startDevnet({ http: true, snodeCount: 2, swarmCount: 1, basePort: base });
      } catch (err) {
        if (!isDevnetError(err, "DEVNET_PORT_IN_USE")) throw err;
      }
    }
    expect(a).toBeDefined();
    try {
      expect(a!.seedUrls[0]).toBe(`http://127.0.0.1:${base}/json_rpc`);
      expect(a!.fileServerUrl).toBe(`http://127.0.0.1:${base + 1}`);
      expect(a!.snodes.map((s) => s.port)).toEqual([base + 2, base + 3]);
      await expect(startDevnet({ http: true, snodeCount: 2, swarmCount: 1, basePort: base })).rejects.toSatisfy((e) =>
        isDevnetError(e, "DEVNET_PORT_IN_USE"),
      );
    } finally {
      await a!.stop();
    }
  });

  it("refuses bad options with DEVNET_BAD_OPTIONS", async () => {
    for (const o of [{ snodeCount: 0 }, { swarmCount: 4, snodeCount: 3 }, { host: "0.0.0.0" }, { basePort: 65_530 }]) {
      await expect(startDevnet({ http: true, ...o })).rejects.toSatisfy((e) => isDevnetError(e, "DEVNET_BAD_OPTIONS"));
    }
  });
});
