/**
 * plugin-host against a real nats-server, several in-process workers sharing the partition
 * consumers. The test plays the broker (streams, buckets, InboundEvents in, actions out).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { Svcm } from "@nats-io/services";
import { PLUGIN_HOST_SERVICE, PLUGIN_MANIFESTS_BUCKET, decodePluginManifest, deriveActionId, parseWorkerStats, partitionOf } from "@session-bot/protocol";
import { BOT, deadLetters, message, peer, publishEvent, putPluginConfig, sends, startBus, startWorker, waitFor, type Bus, type Worker } from "./helpers.js";

let bus: Bus;
const workers: Worker[] = [];
const PARTITIONS = 8;

beforeAll(async () => {
  bus = await startBus();
  for (const name of ["w1", "w2", "w3"]) workers.push(await startWorker(bus, name));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await bus?.close();
});

const repliesTo = async (conversation: string) => (await sends(bus)).filter((s) => s.conversation === conversation);

describe("plugin-host workers", () => {
  it("publishes every loaded plugin's manifest", async () => {
    const kv = await new Kvm(bus.nc).open(PLUGIN_MANIFESTS_BUCKET);
    const probe = decodePluginManifest((await kv.get("probe"))!.value);
    expect(probe.commands.map((c) => c.name)).toEqual(["slow", "seq", "fail", "hangonce"]);
    expect((await kv.get("echo"))?.operation).toBe("PUT");
  });

  it("answers a command once, with an idempotency key derived from the event", async () => {
    const ev = message(peer(1), "/echo hello bus");
    await publishEvent(bus, ev, PARTITIONS);
    const [reply] = await waitFor(async () => ((await repliesTo(peer(1))).length > 0 ? repliesTo(peer(1)) : undefined));
    expect(reply).toMatchObject({ text: "hello bus", plugin: "echo", causationId: ev.id, id: deriveActionId(ev.id, "echo", 0) });
  });

  it("shares the load: every event answered exactly once, by more than one worker", async () => {
    const before = workers.map((w) => w.app.stats().handled);
    const convs = Array.from({ length: 40 }, (_, i) => peer(100 + i));
    await Promise.all(convs.map((c, i) => publishEvent(bus, message(c, `/echo load ${i}`), PARTITIONS)));
    await waitFor(async () => (await sends(bus)).filter((s) => s.text.startsWith("load ")).length >= 40, 30_000, "40 replies");
    const texts = (await sends(bus)).filter((s) => s.text.startsWith("load ")).map((s) => s.text);
    expect(new Set(texts).size).toBe(40);
    expect(texts).toHaveLength(40);
    const gained = workers.map((w, i) => w.app.stats().handled - before[i]!);
    expect(gained.reduce((a, b) => a + b, 0)).toBe(40);
    expect(gained.filter((g) => g > 0).length).toBeGreaterThan(1);
  });

  it("keeps per-conversation order with 3 workers and random handler delays", async () => {
    const convs = [peer(200), peer(201), peer(202), peer(203), peer(204)];
    const N = 12;
    for (let n = 0; n < N; n++) for (const c of convs) await publishEvent(bus, message(c, `/seq ${n}`), PARTITIONS);
    await waitFor(async () => (await sends(bus)).filter((s) => convs.includes(s.conversation)).length >= N * convs.length, 60_000, "ordered replies");
    const all = (await sends(bus)).filter((s) => convs.includes(s.conversation));
    for (const c of convs) {
      expect(all.filter((s) => s.conversation === c).map((s) => s.text)).toEqual(Array.from({ length: N }, (_, n) => `seq ${n}`));
    }
    // The conversations span several partitions, so they really ran in parallel lanes.
    expect(new Set(convs.map((c) => partitionOf(c, PARTITIONS))).size).toBeGreaterThan(1);
  });

  it("dead-letters a poison event after max_deliver, with the reason and the plugin", async () => {
    const ev = message(peer(300), "/fail");
    await publishEvent(bus, ev, PARTITIONS);
    const dl = await waitFor(async () => (await deadLetters(bus)).find((d) => d.source.messageId === ev.id), 20_000, "dead letter");
    expect(dl).toMatchObject({ bot: BOT, plugin: "probe", deliveries: 3, reason: { code: "MAX_DELIVER" }, source: { stream: "SB_INBOUND" }, payload: { encoding: "json" } });
    expect(dl.reason.message).toContain("this event is poison");
    // The partition moves on: the next event of the same conversation is answered.
    await publishEvent(bus, message(peer(300), "/echo after poison"), PARTITIONS);
    await waitFor(async () => (await repliesTo(peer(300))).some((s) => s.text === "after poison"), 20_000, "reply after poison");
  });

  it("acks and ignores an event of an unknown kind (from a newer broker) and moves on", async () => {
    const ev = { ...message(peer(310), "from the future"), kind: "hologram" };
    const p = partitionOf(ev.conversation, PARTITIONS);
    await bus.js.publish(`sb.in.${BOT}.${p}.hologram`, new TextEncoder().encode(JSON.stringify(ev)), { msgID: ev.id });
    await publishEvent(bus, message(peer(310), "/echo after the unknown kind"), PARTITIONS);
    await waitFor(async () => (await repliesTo(peer(310))).some((s) => s.text === "after the unknown kind"), 20_000, "reply after unknown kind");
    expect((await deadLetters(bus)).find((d) => d.source.messageId === ev.id)).toBeUndefined();
    expect((await repliesTo(peer(310))).map((s) => s.text)).toEqual(["after the unknown kind"]);
  });

  it("dead-letters a body that is not an InboundEvent at once", async () => {
    await bus.js.publish(`sb.in.${BOT}.3.message`, new TextEncoder().encode('{"kind":"message"}'), { msgID: "garbage-1" });
    const dl = await waitFor(async () => (await deadLetters(bus)).find((d) => d.source.subject === `sb.in.${BOT}.3.message`), 10_000, "poison dl");
    expect(dl.deliveries).toBe(1);
    expect(dl.reason.code).toMatch(/^PROTOCOL_/);
  });

  it("dead-letters a body nested too deep for the protocol, keeping it as base64", async () => {
    const deep = `${"[".repeat(100)}${"]".repeat(100)}`;
    await bus.js.publish(`sb.in.${BOT}.5.message`, new TextEncoder().encode(deep), { msgID: "garbage-deep" });
    const dl = await waitFor(async () => (await deadLetters(bus)).find((d) => d.source.subject === `sb.in.${BOT}.5.message`), 10_000, "deep dl");
    expect(dl.reason.code).toBe("PROTOCOL_TOO_LARGE");
    expect(dl.payload).toMatchObject({ encoding: "base64" });
    expect(Buffer.from((dl.payload as { data: string }).data, "base64").toString()).toBe(deep);
  });

  it("a throwing plugin leaves the others working: retries re-run only the failing plugin", async () => {
    const ev = message(peer(400), "hello boom");
    await publishEvent(bus, ev, PARTITIONS);
    const dl = await waitFor(async () => (await deadLetters(bus)).find((d) => d.source.messageId === ev.id), 20_000, "bomb dl");
    expect(dl).toMatchObject({ plugin: "bomb", deliveries: 3 });
    const replies = await repliesTo(peer(400));
    expect(replies.map((r) => r.text)).toEqual([`hi ${ev.id}`]);
    const greeterKv = await new Kvm(bus.nc).open("sb_state_greeter");
    expect((await greeterKv.get(`runs.${ev.id.replace(/[^A-Za-z0-9_-]/g, "_")}`))?.json()).toBe(1);
    // The progress markers of a finished event are removed.
    const leftovers: string[] = [];
    for await (const k of await greeterKv.keys("_done.>")) leftovers.push(k);
    expect(leftovers).toEqual([]);
    await publishEvent(bus, message(peer(401), "/echo still fine"), PARTITIONS);
    await waitFor(async () => (await repliesTo(peer(401))).some((r) => r.text === "still fine"), 10_000, "echo after bomb");
  });

  it("aborts a handler past its timeout and retries the event", async () => {
    const ev = message(peer(500), "/hangonce");
    await publishEvent(bus, ev, PARTITIONS);
    const replies = await waitFor(async () => ((await repliesTo(peer(500))).length > 0 ? repliesTo(peer(500)) : undefined), 20_000, "recovered reply");
    expect(replies.map((r) => r.text)).toEqual(["recovered on attempt 2"]);
    const kv = await new Kvm(bus.nc).open("sb_state_probe");
    const key = `attempts.${ev.id.replace(/[^A-Za-z0-9_-]/g, "_")}.aborted`;
    expect((await kv.get(key))?.json()).toBe(true);
  });

  it("answers an unknown command helpfully and /help lists the enabled plugins", async () => {
    await publishEvent(bus, message(peer(600), "/frobnicate"), PARTITIONS);
    await publishEvent(bus, message(peer(600), "/help"), PARTITIONS);
    const replies = await waitFor(async () => ((await repliesTo(peer(600))).length >= 2 ? repliesTo(peer(600)) : undefined), 10_000, "router replies");
    expect(replies[0]).toMatchObject({ plugin: "router", text: "Unknown command /frobnicate. Send /help to see what I can do." });
    expect(replies[1]!.plugin).toBe("help");
    for (const cmd of ["/echo", "/help", "/slow", "/seq"]) expect(replies[1]!.text).toContain(cmd);
  });

  it("/help also lists the commands of plugins that run in other workers (their manifests in KV)", async () => {
    const kv = await new Kvm(bus.nc).open(PLUGIN_MANIFESTS_BUCKET);
    const manifest = { v: 1, name: "pynotes", version: "1.0.0", description: "Notes, from a Python worker.", commands: [{ name: "note", description: "Keeps a note.", usage: "<text>" }] };
    await kv.put("pynotes", new TextEncoder().encode(JSON.stringify(manifest)));
    // The manifest watches pick it up at once; give them a moment (the router then stays silent on /note).
    let probe = 0;
    await waitFor(async () => {
      const who = peer(6_500 + probe++);
      await publishEvent(bus, message(who, "/note probe"), PARTITIONS);
      await new Promise((r) => setTimeout(r, 300));
      return (await repliesTo(who)).length === 0 ? true : undefined;
    }, 10_000, "external command known");
    await publishEvent(bus, message(peer(651), "/help"), PARTITIONS);
    const [reply] = await waitFor(async () => ((await repliesTo(peer(651))).length > 0 ? repliesTo(peer(651)) : undefined), 10_000, "help reply");
    expect(reply!.plugin).toBe("help");
    expect(reply!.text).toContain("/note <text>");
    expect(reply!.text).toContain("pynotes");
    await kv.delete("pynotes");
  });

  it("applies a KV config change live on every worker and refuses an invalid one", async () => {
    await putPluginConfig(bus, "echo", true, { prefix: "» " });
    await waitFor(() => workers.every((w) => w.app.registry.get("echo")?.config?.prefix === "» "), 10_000, "config on all workers");
    const convs = Array.from({ length: 12 }, (_, i) => peer(700 + i));
    await Promise.all(convs.map((c) => publishEvent(bus, message(c, "/echo cfg"), PARTITIONS)));
    await waitFor(async () => (await sends(bus)).filter((s) => convs.includes(s.conversation)).length >= 12, 20_000, "configured replies");
    expect(new Set((await sends(bus)).filter((s) => convs.includes(s.conversation)).map((s) => s.text))).toEqual(new Set(["» cfg"]));

    await putPluginConfig(bus, "echo", true, { prefix: 42 });
    await waitFor(() => workers.every((w) => w.app.registry.get("echo")?.refused !== undefined), 10_000, "refusal on all workers");
    expect(workers.every((w) => w.app.registry.get("echo")?.config?.prefix === "» ")).toBe(true);

    await putPluginConfig(bus, "echo", false, {});
    await waitFor(() => workers.every((w) => w.app.registry.get("echo")?.enabled === false), 10_000, "disabled on all workers");
    await publishEvent(bus, message(peer(720), "/echo gone"), PARTITIONS);
    const [r] = await waitFor(async () => ((await repliesTo(peer(720))).length > 0 ? repliesTo(peer(720)) : undefined), 10_000, "reply when disabled");
    expect(r).toMatchObject({ plugin: "router", text: "Unknown command /echo. Send /help to see what I can do." });
    await putPluginConfig(bus, "echo", true, {});
    await waitFor(() => workers.every((w) => w.app.registry.get("echo")?.enabled === true), 10_000, "re-enabled");
  });

  it("registers with the NATS services API with per-plugin stats", async () => {
    const client = new Svcm(bus.nc as never).client();
    const found: Array<{ metadata: Record<string, string>; endpoints: Array<{ data?: unknown }> }> = [];
    for await (const s of await client.stats(PLUGIN_HOST_SERVICE)) found.push(s as never);
    expect(found.map((s) => s.metadata.instance).sort()).toEqual(["w1", "w2", "w3"]);
    for (const s of found) {
      expect(s.metadata.bot).toBe(BOT);
      const data = parseWorkerStats(s.endpoints[0]!.data);
      expect(data.handled).toBeGreaterThan(0);
    }
    const merged = found.map((s) => parseWorkerStats(s.endpoints[0]!.data));
    for (const d of merged) expect(Object.keys(d.plugins).sort()).toEqual(["bomb", "echo", "greeter", "help", "probe"]);
    expect(merged.some((d) => (d.plugins.probe?.errors ?? 0) > 0)).toBe(true);
    expect(merged.some((d) => (d.plugins.echo?.handled ?? 0) > 0)).toBe(true);
  });

  it("serves /healthz, /readyz and /metrics", async () => {
    const http = workers[0]!.app.http;
    expect((await http.inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await http.inject({ url: "/readyz" })).statusCode).toBe(200);
    const metrics = (await http.inject({ url: "/metrics" })).body;
    expect(metrics).toContain("sb_plugin_host_deliveries_total");
    expect(metrics).toMatch(/sb_plugin_host_plugin_events_total\{plugin="echo",outcome="ok"\} \d+/);
  });

  it("is not ready while NATS is down, and resumes work when it is back", async () => {
    const seen = new Set<string>();
    const poll = setInterval(() => workers[0]!.app.readiness().forEach((r) => seen.add(r)), 10);
    await bus.nats.restart();
    // The restart is abrupt: the workers see a disconnect, then reconnect on their own.
    await waitFor(() => workers.every((w) => w.app.readiness().length === 0), 30_000, "ready again");
    clearInterval(poll);
    expect([...seen]).toContain("nats disconnected");
    await publishEvent(bus, message(peer(900), "/echo back"), PARTITIONS).catch(async () => {
      await new Promise((r) => setTimeout(r, 500));
      await publishEvent(bus, message(peer(900), "/echo back"), PARTITIONS);
    });
    await waitFor(async () => (await repliesTo(peer(900))).some((r) => r.text === "back"), 30_000, "reply after restart");
  });
});
