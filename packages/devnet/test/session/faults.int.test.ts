// Fault cases of @session-bot/session against the devnet: 421 swarm moves, 406 clock skew,
// 500 / timeouts / dropped connections from one snode, duplicates, expired messages, garbage.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { SessionClient, type Storage, type StorageRpcNetwork } from "@session-bot/session";
import { startDevnet, type Devnet, type DevnetSnode } from "../../src/index.js";
import { makeClient, pollEvents } from "./helpers.js";

let net: Devnet;
const networks: StorageRpcNetwork[] = [];

beforeAll(async () => {
  net = await startDevnet({ http: true, snodeCount: 9, swarmCount: 3 });
});
afterEach(() => net.faults.clear());
afterAll(async () => {
  for (const n of networks) await n.close();
  await net?.stop();
});

async function client(options: Parameters<typeof makeClient>[1] = {}) {
  const c = await makeClient(net, options);
  networks.push(c.network);
  return c;
}

const asCached = (snodes: readonly DevnetSnode[]) =>
  JSON.stringify({ at: Date.now(), snodes: snodes.map((s) => ({ pubkeyEd25519: s.pubkeyEd25519, pubkeyX25519: s.pubkeyX25519, ip: "127.0.0.1", port: s.port })) });

function otherSwarm(sessionId: string): readonly DevnetSnode[] {
  const own = net.swarmFor(sessionId).swarmId;
  return net.swarms.find((s) => s.swarmId !== own)!.snodes;
}

async function preferSnode(storage: Storage, c: SessionClient, snode: string): Promise<void> {
  await storage.set(`session:${c.sessionId}:poll:0:cursor`, JSON.stringify({ lastHashes: {}, snode }));
}

describe("421: swarm moves", () => {
  it("a stale swarm cache (snodes of another swarm) gets 421 and moves to the right swarm, for store and retrieve", async () => {
    const { client: bob, storage: bobStorage, network: bobNet } = await client();
    const { client: alice, storage: aliceStorage, network: aliceNet } = await client();
    await aliceStorage.set(`network:swarm:${bob.sessionId}`, asCached(otherSwarm(bob.sessionId)));
    await bobStorage.set(`network:swarm:${bob.sessionId}`, asCached(otherSwarm(bob.sessionId)));

    const sent = await alice.sendText(bob.sessionId, "through a moved swarm");
    const right = net.swarmFor(bob.sessionId).snodes.map((s) => s.pubkeyEd25519).sort();
    expect((await aliceNet.getSwarm(bob.sessionId)).map((s) => s.pubkeyEd25519).sort()).toEqual(right);

    const { events } = await pollEvents(bob, 1);
    expect(events[0]).toMatchObject({ kind: "message", text: "through a moved swarm", hash: sent.hash });
    expect((await bobNet.getSwarm(bob.sessionId)).map((s) => s.pubkeyEd25519).sort()).toEqual(right);
  });

  it("an injected 421-once drops the moved snode from the cached swarm", async () => {
    const { client: bob } = await client();
    const { client: alice, storage: aliceStorage, network: aliceNet } = await client();
    const [moved] = net.swarmFor(bob.sessionId).snodes;
    await aliceStorage.set(`network:swarm:${bob.sessionId}`, asCached([moved!]));
    net.faults.inject(moved!.pubkeyEd25519, { kind: "421-once" });
    const sent = await alice.sendText(bob.sessionId, "after 421");
    expect((await pollEvents(bob, 1)).events.map((e) => e.hash)).toEqual([sent.hash]);
    const cached = (await aliceNet.getSwarm(bob.sessionId)).map((s) => s.pubkeyEd25519);
    expect(cached).not.toContain(moved!.pubkeyEd25519);
    expect(cached.length).toBe(2);
  });
});

describe("406: clock skew", () => {
  it("retrieve from snodes whose clock runs 2 minutes ahead: 406, resync, success", async () => {
    const { client: bob, network: bobNet } = await client();
    const { client: alice } = await client();
    await bob.commit(await bob.pollOnce()); // learns its swarm and the network time first
    await alice.sendText(bob.sessionId, "skewed");
    for (const s of net.swarmFor(bob.sessionId).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "clock-offset", ms: 120_000 });
    const { events, batches } = await pollEvents(bob, 1);
    expect(events[0]).toMatchObject({ text: "skewed" });
    // That snode's clock is pinned; the network offset is not dragged by it.
    const snode = batches[0]!.cursor.snode!;
    expect(Math.abs(bobNet.clock.now(snode) - (Date.now() + 120_000))).toBeLessThan(5_000);
    expect(Math.abs(bobNet.clock.offset)).toBeLessThan(5_000);
  });

  it("store to snodes whose clock runs 2 minutes behind: 406, resync, success", async () => {
    const { client: bob } = await client();
    const { client: alice, network: aliceNet } = await client();
    await alice.sendText(bob.sessionId, "warm-up"); // learns the swarm and the network time first
    const swarm = net.swarmFor(bob.sessionId).snodes;
    for (const s of swarm) net.faults.inject(s.pubkeyEd25519, { kind: "clock-offset", ms: -120_000 });
    const sent = await alice.sendText(bob.sessionId, "from the future");
    // the snode that answered 406 got its own clock offset
    const pinned = swarm.filter((s) => Math.abs(aliceNet.clock.now(s.pubkeyEd25519) - (Date.now() - 120_000)) < 5_000);
    expect(pinned.length).toBeGreaterThanOrEqual(1);
    expect(Math.abs(aliceNet.clock.offset)).toBeLessThan(5_000);
    net.faults.clear();
    const { events } = await pollEvents(bob, 2);
    expect(events.map((e) => e.hash)).toContain(sent.hash);
  });
});

describe("one failing snode", () => {
  it("500s: the snode is set aside and the other members serve store and retrieve", async () => {
    const { client: bob, storage, network: bobNet } = await client({ network: { unhealthyAfterFailures: 1 } });
    const { client: alice } = await client();
    const bad = net.swarmFor(bob.sessionId).snodes[1]!;
    net.faults.inject(bad.pubkeyEd25519, { kind: "500" });
    for (let i = 0; i < 4; i++) await alice.sendText(bob.sessionId, `m${i}`);
    await preferSnode(storage, bob, bad.pubkeyEd25519);
    const { events } = await pollEvents(bob, 4);
    expect(events.map((e) => (e.kind === "message" ? e.text : e.kind))).toEqual(["m0", "m1", "m2", "m3"]);
    expect(bobNet.unhealthySnodes()).toContain(bad.pubkeyEd25519);
  });

  it("timeouts (latency beyond the request timeout) and dropped connections move on to another member", async () => {
    const { client: bob, storage, network: bobNet } = await client({ network: { requestTimeoutMs: 300, unhealthyAfterFailures: 1 } });
    const { client: alice } = await client({ network: { requestTimeoutMs: 300 } });
    const [slow, dropper] = net.swarmFor(bob.sessionId).snodes;
    net.faults.inject(slow!.pubkeyEd25519, { kind: "latency", ms: 2_000 });
    net.faults.inject(dropper!.pubkeyEd25519, { kind: "drop" });
    await alice.sendText(bob.sessionId, "despite faults");
    await preferSnode(storage, bob, slow!.pubkeyEd25519);
    const started = Date.now();
    const { events } = await pollEvents(bob, 1);
    expect(events[0]).toMatchObject({ text: "despite faults" });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(bobNet.unhealthySnodes()).toContain(slow!.pubkeyEd25519);
  });

  it("gives a typed error when every member fails", async () => {
    const { client: alice } = await client({ network: { retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } } });
    const target = (await client()).client.sessionId;
    for (const s of net.swarmFor(target).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "500" });
    await expect(alice.sendText(target, "nobody home")).rejects.toMatchObject({ code: "SESSION_NETWORK", details: { status: 500 } });
  });
});

describe("duplicates, expiry and garbage", () => {
  it("a message stored twice is delivered once; a lost cursor redelivers nothing", async () => {
    const { client: bob, storage, network: bobNet } = await client();
    const { client: alice, network: aliceNet } = await client();
    const sent = await alice.sendText(bob.sessionId, "only once");
    const raw = await bobNet.retrieve({ pubkey: bob.sessionId, namespace: 0, signer: bob.identity, lastHashes: {} });
    const stored = raw.messages.find((m) => m.hash === sent.hash)!;
    const again = await aliceNet.store({ pubkey: bob.sessionId, namespace: 0, data: stored.data!, ttlMs: 60_000 });
    expect(again.hash).toBe(sent.hash);
    const { events } = await pollEvents(bob, 1);
    expect(events.map((e) => e.hash)).toEqual([sent.hash]);

    // A restart with the cursor lost (e.g. it pointed at a snode that left): the whole inbox comes back.
    await storage.set(`session:${bob.sessionId}:poll:0:cursor`, JSON.stringify({ lastHashes: {} }));
    const { client: restarted } = await client({ identity: bob.identity, storage });
    const replay = await restarted.pollOnce();
    expect(replay.items).toHaveLength(0);
    expect(replay.duplicates).toBe(1);
  });

  it("an expired message is not delivered", async () => {
    const { client: bob } = await client();
    const { client: alice } = await client();
    const shortLived = await SessionClient.create({ identity: alice.identity, network: (await client()).network, messageTtlMs: 10_000 });
    await shortLived.sendText(bob.sessionId, "short-lived");
    const kept = await alice.sendText(bob.sessionId, "kept");
    // The swarm's clocks jump 11 s ahead: the 10 s message has expired there.
    for (const s of net.swarmFor(bob.sessionId).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "clock-offset", ms: 11_000 });
    const { events } = await pollEvents(bob, 1);
    expect(events.map((e) => (e.kind === "message" ? e.text : e.kind))).toEqual(["kept"]);
    expect(events[0]!.hash).toBe(kept.hash);
    expect((await bob.pollOnce()).items).toHaveLength(0);
  });

  it("garbage in the inbox is reported as a typed error and does not stop later messages", async () => {
    const { client: bob } = await client();
    const { client: alice, network: aliceNet } = await client();
    await aliceNet.store({ pubkey: bob.sessionId, namespace: 0, data: new Uint8Array(randomBytes(200)), ttlMs: 60_000 });
    await alice.sendText(bob.sessionId, "after garbage");
    const errors: string[] = [];
    const texts: string[] = [];
    bob.on("error", (e) => void errors.push(e.error.code));
    bob.on("message", (m) => void texts.push(m.text));
    for (let i = 0; i < 20 && texts.length === 0; i++) await bob.pollAndDispatch();
    expect(errors).toEqual(["SESSION_MALFORMED"]);
    expect(texts).toEqual(["after garbage"]);
    expect(bob.stats.errors).toBe(1);
  });
});
