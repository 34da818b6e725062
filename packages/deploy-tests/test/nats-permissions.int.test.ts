// deploy/nats/auth.conf — the file compose mounts and k8s ships — loaded into a real nats-server and
// driven with the nats.js clients the services use. Each "refused" case also checks that nothing
// happened (no message delivered, no value changed), so a permission that is too wide fails here.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Svcm } from "@nats-io/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats, tempFile, type TestNats } from "@session-bot/nats-testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../src/index.js";

const AUTH_CONF = join(repoRoot(), "deploy", "nats", "auth.conf");
const BOT = "bot";
const PASSWORDS = {
  broker: "test-broker-password",
  "plugin-host": "test-plugin-host-password",
  gateway: "test-gateway-password",
} as const;
type User = keyof typeof PASSWORDS;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

let nats: TestNats;
let broker: NatsConnection;
let host: NatsConnection;
let gateway: NatsConnection;
/** Subjects the broker's fake endpoints received, in order. */
const brokerReceived: string[] = [];

async function login(user: User, password: string = PASSWORDS[user]): Promise<NatsConnection> {
  return connect({ servers: nats.url, user, pass: password, name: `test-${user}`, reconnect: false });
}

/** Expects `p` to reject with the server's permission violation. */
async function refused(p: Promise<unknown>): Promise<void> {
  await expect(p).rejects.toThrow(/permission/i);
}

beforeAll(async () => {
  // The server reads the passwords from its environment ($NATS_*_PASSWORD in auth.conf).
  process.env.NATS_BROKER_PASSWORD = PASSWORDS.broker;
  process.env.NATS_PLUGIN_HOST_PASSWORD = PASSWORDS["plugin-host"];
  process.env.NATS_GATEWAY_PASSWORD = PASSWORDS.gateway;
  nats = await startNats({ kind: "binary", extraConfig: readFileSync(AUTH_CONF, "utf8") });
  broker = await login("broker");
  host = await login("plugin-host");
  gateway = await login("gateway");

  // What the broker does at start: streams, shared buckets, its service endpoints.
  const jsm = await jetstreamManager(broker);
  await jsm.streams.add({ name: "SB_INBOUND", subjects: ["sb.in.>"] });
  await jsm.streams.add({ name: "SB_OUTBOUND", subjects: ["sb.out.>"] });
  await jsm.streams.add({ name: "SB_DEAD", subjects: ["sb.dead.>"] });
  const kvm = new Kvm(broker);
  const plugins = await kvm.create("sb_plugins", { history: 5 });
  await plugins.put(`${BOT}.ping`, JSON.stringify({ enabled: true }));
  await kvm.create("sb_plugin_manifests");
  // a state bucket of a plugin this plugin-host does not run
  const other = await kvm.create("sb_state_other");
  await other.put("secret", "classified");
  broker.subscribe(`sb.broker.${BOT}.>`, {
    queue: `sb-broker-${BOT}`,
    callback: (_err, m) => {
      brokerReceived.push(m.subject);
      m.respond(enc(JSON.stringify({ ok: true })));
    },
  });
  await broker.flush();
});

afterAll(async () => {
  await Promise.allSettled([broker?.close(), host?.close(), gateway?.close()]);
  await nats?.stop();
  delete process.env.NATS_BROKER_PASSWORD;
  delete process.env.NATS_PLUGIN_HOST_PASSWORD;
  delete process.env.NATS_GATEWAY_PASSWORD;
});

describe("passwords from the environment", () => {
  // nats-server parses $NATS_*_PASSWORD as a config token: deploy/init-env.sh and docs/deploy.md
  // therefore generate "sb<hex>". This pins the server behaviour the rule exists for.
  const check = (password: string): boolean => {
    const conf = tempFile("nats.conf", "port: -1\n" + readFileSync(AUTH_CONF, "utf8"));
    try {
      execFileSync(process.env.NATS_SERVER_BIN ?? "nats-server", ["-c", conf, "-t"], {
        stdio: "ignore",
        env: { ...process.env, NATS_BROKER_PASSWORD: password },
      });
      return true;
    } catch {
      return false;
    }
  };
  it("a password that reads as a number stops the server; the generated form does not", () => {
    expect(check("4e5a0b")).toBe(false);
    expect(check("4")).toBe(false);
    expect(check("sb4e5a0b" + "0".repeat(58))).toBe(true);
  });
});

describe("authentication", () => {
  it("refuses a client without credentials and a wrong password", async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(/authoriz/i);
    await expect(login("plugin-host", "wrong")).rejects.toThrow(/authoriz/i);
  });
});

describe("plugin-host may do what it needs", () => {
  it("binds its durable consumer on SB_INBOUND, pulls an event and acks it", async () => {
    const jsm = await jetstreamManager(host);
    expect((await jsm.streams.info("SB_INBOUND")).config.name).toBe("SB_INBOUND");
    await jsm.consumers.add("SB_INBOUND", {
      durable_name: `sb_host_${BOT}_p0`,
      filter_subject: `sb.in.${BOT}.0.>`,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 1,
    });
    // an update of the same consumer (plugin-host brings limits up to date at start)
    await jsm.consumers.update("SB_INBOUND", `sb_host_${BOT}_p0`, { max_deliver: 5 });
    await jetstream(broker).publish(`sb.in.${BOT}.0.message`, enc("hello"), { msgID: "h1" });
    const consumer = await jetstream(host).consumers.get("SB_INBOUND", `sb_host_${BOT}_p0`);
    const m = await consumer.next({ expires: 5000 });
    expect(m && dec(m.data)).toBe("hello");
    expect(await m!.ackAck()).toBe(true);
    expect((await jsm.consumers.info("SB_INBOUND", `sb_host_${BOT}_p0`)).num_ack_pending).toBe(0);
  });

  it("publishes outbound actions and dead letters to JetStream", async () => {
    const js = jetstream(host);
    expect((await js.publish(`sb.out.${BOT}.send`, enc("{}"), { msgID: "o1" })).stream).toBe("SB_OUTBOUND");
    expect((await js.publish(`sb.dead.${BOT}`, enc("{}"))).stream).toBe("SB_DEAD");
  });

  it("requests the broker's attachment endpoints", async () => {
    for (const ep of ["attachments.get", "attachments.put"]) {
      const r = await host.request(`sb.broker.${BOT}.${ep}`, enc("{}"), { timeout: 3000 });
      expect(JSON.parse(dec(r.data))).toEqual({ ok: true });
    }
    expect(brokerReceived).toEqual(expect.arrayContaining([`sb.broker.${BOT}.attachments.get`, `sb.broker.${BOT}.attachments.put`]));
  });

  it("reads and watches sb_plugins", async () => {
    const plugins = await new Kvm(host).open("sb_plugins");
    expect((await plugins.get(`${BOT}.ping`))?.json()).toEqual({ enabled: true });
    const watch = await plugins.watch({ key: `${BOT}.>` });
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of watch) {
        seen.push(e.string());
        if (seen.length === 2) break;
      }
    })();
    // the gateway changes a plugin's config at run time: the worker sees it
    await (await new Kvm(gateway).open("sb_plugins")).put(`${BOT}.ping`, JSON.stringify({ enabled: false }));
    await done;
    expect(seen.map((s) => JSON.parse(s) as unknown)).toEqual([{ enabled: true }, { enabled: false }]);
  });

  it("writes sb_plugin_manifests", async () => {
    const manifests = await new Kvm(host).open("sb_plugin_manifests");
    await manifests.put("ping", JSON.stringify({ name: "ping" }));
    expect((await manifests.get("ping"))?.json()).toEqual({ name: "ping" });
  });

  it("creates and uses the state bucket of a plugin it runs", async () => {
    const state = await new Kvm(host).create("sb_state_ping", { history: 1 });
    await state.put("user.05ab", "3");
    expect((await state.get("user.05ab"))?.string()).toBe("3");
    const keys: string[] = [];
    for await (const k of await state.keys()) keys.push(k);
    expect(keys).toEqual(["user.05ab"]);
  });

  it("answers the services API as sb-plugin-host, with its own endpoint sb.plugin-host.<bot>.stats", async () => {
    const svc = await new Svcm(host as never).add({ name: "sb-plugin-host", version: "0.1.0", metadata: { bot: BOT, instance: "w1" } });
    svc.addEndpoint("stats", {
      subject: `sb.plugin-host.${BOT}.stats`,
      queue: `sb-plugin-host-${BOT}`,
      handler: (_err, m) => {
        m.respond(enc(JSON.stringify({ inFlight: 0 })));
      },
    });
    await host.flush(); // the server has its subscriptions before the gateway asks
    try {
      const own = await gateway.request(`sb.plugin-host.${BOT}.stats`, undefined, { timeout: 3000 });
      expect(JSON.parse(dec(own.data))).toEqual({ inFlight: 0 });
      const r = await gateway.request("$SRV.PING.sb-plugin-host", undefined, { timeout: 3000 });
      expect((JSON.parse(dec(r.data)) as { name: string }).name).toBe("sb-plugin-host");
      const stats = await gateway.request(`$SRV.STATS.sb-plugin-host.${svc.info().id}`, undefined, { timeout: 3000 });
      expect((JSON.parse(dec(stats.data)) as { type: string }).type).toMatch(/stats_response/);
    } finally {
      await svc.stop();
    }
  });
});

describe("plugin-host presence", () => {
  it("publishes and hears worker presence heartbeats (partition ownership)", async () => {
    const other = await login("plugin-host");
    try {
      const sub = host.subscribe(`sb.plugin-host.${BOT}.presence.host`, { max: 1 });
      await host.flush();
      other.publish(`sb.plugin-host.${BOT}.presence.host`, enc('{"v":1}'));
      for await (const m of sub) expect(dec(m.data)).toBe('{"v":1}');
    } finally {
      await other.close();
    }
  });
});

describe("plugin-host is refused", () => {
  it.each(["send", "block", "unblock", "profile", "messages", "conversations", "dead-letters.retry"])(
    "the broker admin endpoint sb.broker.<bot>.%s",
    async (endpoint) => {
      const before = brokerReceived.length;
      await refused(host.request(`sb.broker.${BOT}.${endpoint}`, enc("{}"), { timeout: 3000 }));
      await broker.flush();
      expect(brokerReceived.slice(before)).toEqual([]);
    },
  );

  it("another plugin's state bucket: read, list, direct get, write, create", async () => {
    // open() itself asks the server nothing; every use of the bucket must be refused
    const other = await new Kvm(host).open("sb_state_other");
    await refused(other.get("secret"));
    await refused(other.status());
    await refused(other.put("secret", "overwritten"));
    await refused(host.request("$JS.API.DIRECT.GET.KV_sb_state_other.$KV.sb_state_other.secret", undefined, { timeout: 3000 }));
    await refused(host.request("$JS.API.STREAM.MSG.GET.KV_sb_state_other", enc(JSON.stringify({ last_by_subj: "$KV.sb_state_other.secret" })), { timeout: 3000 }));
    await refused(jetstream(host).publish("$KV.sb_state_other.secret", enc("overwritten")));
    await refused(new Kvm(host).create("sb_state_notmine"));
    expect((await (await new Kvm(broker).open("sb_state_other")).get("secret"))?.string()).toBe("classified");
  });

  it("writing plugin configuration (the gateway's job)", async () => {
    const plugins = await new Kvm(host).open("sb_plugins");
    await refused(plugins.put(`${BOT}.ping`, JSON.stringify({ enabled: true, hijacked: true })));
    expect((await plugins.get(`${BOT}.ping`))?.json()).not.toHaveProperty("hijacked");
  });

  it("forging inbound events", async () => {
    const before = (await (await jetstreamManager(broker)).streams.info("SB_INBOUND")).state.messages;
    await refused(jetstream(host).publish(`sb.in.${BOT}.0.message`, enc("forged")));
    expect((await (await jetstreamManager(broker)).streams.info("SB_INBOUND")).state.messages).toBe(before);
  });

  it("managing streams and other consumers", async () => {
    const jsm = await jetstreamManager(host);
    await refused(jsm.streams.delete("SB_INBOUND"));
    await refused(jsm.streams.purge("SB_INBOUND"));
    await refused(jsm.streams.add({ name: "EVIL", subjects: ["sb.broker.>"] }));
    await refused(jsm.consumers.add("SB_OUTBOUND", { durable_name: "snoop", ack_policy: AckPolicy.None }));
    await refused(jsm.consumers.delete("SB_INBOUND", `sb_host_${BOT}_p0`));
    expect((await (await jetstreamManager(broker)).streams.info("SB_INBOUND")).config.name).toBe("SB_INBOUND");
  });

  it.each([`sb.out.>`, `sb.broker.${BOT}.send`, `sb.in.>`, ">"])("subscribing to %s", async (subject) => {
    const sub = host.subscribe(subject);
    const closed = await sub.closed;
    expect(String(closed)).toMatch(/permission/i);
  });
});

describe("gateway", () => {
  it("calls the broker's admin endpoints and reads stream state", async () => {
    const r = await gateway.request(`sb.broker.${BOT}.send`, enc("{}"), { timeout: 3000 });
    expect(JSON.parse(dec(r.data))).toEqual({ ok: true });
    const jsm = await jetstreamManager(gateway);
    expect((await jsm.streams.info("SB_OUTBOUND")).config.name).toBe("SB_OUTBOUND");
    const names: string[] = [];
    for await (const c of jsm.consumers.list("SB_INBOUND")) names.push(c.name);
    expect(names).toContain(`sb_host_${BOT}_p0`);
    expect((await (await new Kvm(gateway).open("sb_plugin_manifests")).get("ping"))?.json()).toEqual({ name: "ping" });
  });

  it("cannot publish events or actions itself, nor touch plugin state", async () => {
    await refused(jetstream(gateway).publish(`sb.in.${BOT}.0.message`, enc("x")));
    await refused(jetstream(gateway).publish(`sb.out.${BOT}.send`, enc("x")));
    await refused((await new Kvm(gateway).open("sb_state_ping")).get("user.05ab"));
    await refused((await jetstreamManager(gateway)).streams.delete("SB_DEAD"));
  });
});
