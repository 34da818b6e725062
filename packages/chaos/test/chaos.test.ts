/**
 * Proof under load and faults, over the whole stack as processes on loopback (nats-server, the
 * devnet CLI, the broker, 3 plugin-hosts, the gateway), plus the security checks that only a
 * real run can make: the admin API over the running gateway, and the captured logs of every
 * process after the chaos run.
 *
 * Short form (the package's `test`): 5 identities, 100 messages, 3 worker kills.
 * Long form: `SB_CHAOS=long` (20 identities, 2,000 messages, 12 worker kills, broker SIGKILL).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Identity } from "@session-bot/session";
import { Stack } from "../src/stack.js";
import { runChaos, type ChaosOptions, type ChaosResult } from "../src/chaos.js";
import { findSecrets } from "../src/secrets.js";

const LONG = process.env.SB_CHAOS === "long";
const seed = process.env.SB_CHAOS_SEED ? Number(process.env.SB_CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
const profile: Omit<ChaosOptions, "log" | "seed"> = LONG
  ? { identities: 20, messages: 2_000, paceMs: 1_500, workerKills: 12, brokerSignal: "SIGKILL", settleMs: 300_000 }
  : { identities: 5, messages: 100, paceMs: 1_000, workerKills: 3, brokerSignal: "SIGTERM", settleMs: 180_000 };
const RUN_TIMEOUT = LONG ? 1_800_000 : 600_000;

let stack: Stack;
let result: ChaosResult | undefined;

beforeAll(async () => {
  stack = await Stack.start({ workers: 3 });
  console.log(`[chaos] stack up in ${stack.runDir} (gateway ${stack.gatewayUrl}, nats ${stack.natsUrl})`);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 120_000);

describe("admin API of the running gateway", () => {
  interface Operation {
    method: string;
    path: string;
    url: string;
    secured: boolean;
  }

  it("refuses every route of /openapi.json that needs a token, without one and with a wrong one", async () => {
    const doc = (await (await fetch(`${stack.gatewayUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>;
    };
    const sample: Record<string, string> = { id: "05" + "ab".repeat(32), name: "echo" };
    const ops: Operation[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        url: path.replace(/\{(\w+)\}/g, (_, p: string) => sample[p] ?? "x"),
        secured: (op.security ?? []).length > 0,
      })),
    );
    const admin = ops.filter((o) => o.path.startsWith("/admin"));
    expect(admin.length).toBeGreaterThanOrEqual(14);
    // Every admin route declares a token; the checks below then hit every one of them.
    for (const o of admin) expect(o.secured, `${o.method} ${o.path} declares no security`).toBe(true);

    const wrong = stack.adminToken.slice(0, -4) + (stack.adminToken.endsWith("AAAA") ? "BBBB" : "AAAA");
    for (const o of ops.filter((x) => x.secured)) {
      const body = ["POST", "PUT", "PATCH"].includes(o.method) ? {} : undefined;
      for (const [token, code] of [
        [null, "AUTH_MISSING"],
        [wrong, "AUTH_INVALID"],
        ["not-a-token-at-all-but-long-enough", "AUTH_INVALID"],
      ] as const) {
        const r = await stack.admin(o.url, { method: o.method, token, body });
        const text = await r.text();
        expect(r.status, `${o.method} ${o.url} with ${token === null ? "no token" : "a wrong token"}: ${text}`).toBe(401);
        expect(JSON.parse(text)).toMatchObject({ code });
        // The refusal does not echo what was sent, nor the real token.
        if (token !== null) expect(text).not.toContain(token);
        expect(text).not.toContain(stack.adminToken);
      }
    }
    // The real token opens the door (so the refusals above are about the token, not the route).
    const ok = await stack.admin("/admin/bot");
    expect(ok.status).toBe(200);
    // ... and the broker runs on the mnemonic of SESSION_MNEMONIC_FILE, the secret the log check looks for.
    expect(await ok.json()).toMatchObject({ bot: stack.bot, sessionId: (await Identity.fromMnemonic(stack.mnemonic)).sessionId });
  });
});

describe("chaos", () => {
  it(
    `every message gets exactly one answer while workers, the broker and nats-server are killed (${profile.identities} identities, ${profile.messages} messages)`,
    async () => {
      result = await runChaos(stack, { ...profile, seed, log: (l) => console.log(l) });
      const r = result;
      const tail = () => stack.tail(1_500);
      // The faults really happened.
      expect(r.workerKills).toBe(profile.workerKills);
      expect(r.brokerRestarts).toBe(1);
      expect(r.natsRestarts).toBe(1);
      expect(r.hashes).toBeGreaterThan(0);
      // Chat side: nothing lost, nothing twice, nothing else.
      expect(r.sent).toBe(profile.messages);
      expect(r.missing, `missing replies\n${tail()}`).toEqual([]);
      expect(r.duplicated, "answered twice").toEqual([]);
      expect(r.unexpected, "replies that match no message").toEqual([]);
      // Broker side: each message recorded once and published, each answered by exactly one sent action.
      expect(r.db.inboundBad).toEqual([]);
      expect(r.db.inboundPublished).toBe(profile.messages);
      expect(r.db.outboundBad).toEqual([]);
      expect(r.db.outboundSent).toBe(profile.messages);
      expect(r.db.outboundKeysNotSent).toEqual([]);
      expect(r.db.deadLetters).toBe(0);
      // Bad input among them: each garbage payload dropped (recorded as such), none answered, no crash.
      expect(r.garbage).toBeGreaterThan(0);
      expect(r.db.garbageBad).toEqual([]);
      expect(stack.broker.running && stack.broker.starts, "the broker ran throughout, started twice (the planned restart)").toBe(2);
      for (const w of stack.workers) expect(w.running, `${w.name} is running`).toBe(true);
    },
    RUN_TIMEOUT,
  );
});

describe("secrets in the logs of the chaos run", () => {
  it("no process ever logged the broker's mnemonic or the gateway's admin token, though both were used", () => {
    expect(result, "the chaos run must have happened first").toBeDefined();
    const logs = stack.logs();
    expect([...logs.keys()].sort()).toEqual(["broker", "devnet", "gateway", "nats", "plugin-host-1", "plugin-host-2", "plugin-host-3"]);
    for (const [name, text] of logs) expect(text.length, `${name} logged nothing`).toBeGreaterThan(200);
    // The secrets were in use: the broker ran on the mnemonic (its Session ID answered), and the
    // gateway logged the admin calls made with the token.
    expect(logs.get("gateway")).toContain("/admin/workers");
    expect(logs.get("gateway")).toContain("/admin/bot");
    expect(logs.get("broker")!.split("=== [chaos] start").length - 1).toBe(2);
    expect(stack.mnemonic.split(" ").length).toBe(13);
    expect(findSecrets(logs, { mnemonic: stack.mnemonic, "admin token": stack.adminToken })).toEqual([]);
  });
});
