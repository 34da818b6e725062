/**
 * The chaos run: chat identities (in-process `SessionClient`s over the devnet) send `/echo <token>`
 * and `/hash` + a small random file to the bot, with garbage payloads stored on the bot's swarm
 * between them, while a controller SIGKILLs plugin-host workers
 * (and starts them again), restarts the broker once and nats-server once. At the end it waits —
 * bounded — until every expected reply has arrived and the bus is idle, then tallies what each
 * chat client received and what the broker's SQLite database recorded.
 */
import { createHash, randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Identity, MemoryStorage, SessionClient, StorageRpcNetwork } from "@session-bot/session";
import { sleep, until, type Stack } from "./stack.js";

export interface ChaosOptions {
  identities: number;
  /** Messages in total (spread evenly over the identities). */
  messages: number;
  /** Every n-th message of an identity is a `/hash` with a file (default 5). */
  hashEvery?: number;
  /**
   * After every n-th message of an identity, also store garbage (random bytes, not a Session
   * message) on the bot's swarm (default 10; 0 = none): bad input queued among good messages.
   */
  garbageEvery?: number;
  /** Pause between two messages of one identity, ms (so the run spans the faults). */
  paceMs: number;
  /** Worker SIGKILLs spread over the run. */
  workerKills: number;
  /** Signal of the broker restart. */
  brokerSignal: NodeJS.Signals;
  /** Longest wait for the last replies once sending and faults are done. */
  settleMs: number;
  /**
   * Latency of the devnet's file server, ms (default 1,500): keeps every `/hash` in a worker's
   * hands for seconds (the broker downloads the file for it), so worker kills hit events in flight.
   */
  fileServerLatencyMs?: number;
  /** Seed of the random choices (which worker, when). */
  seed: number;
  log: (line: string) => void;
}

/** What one message expects back. */
interface Expected {
  key: string;
  from: string;
  kind: "echo" | "hash";
  /** Storage hash of the message (= the inbound event id = the reply's causation id). */
  hash: string;
}

export interface ChaosResult {
  sent: number;
  /** Garbage payloads stored on the bot's swarm among the messages. */
  garbage: number;
  echo: number;
  hashes: number;
  workerKills: number;
  brokerRestarts: number;
  natsRestarts: number;
  durationMs: number;
  /** Deliveries beyond the first, from JetStream's consumer sequence numbers. */
  redeliveries: { inbound: number; outbound: number };
  actions: string[];
  /** Client side: replies per expected key. */
  missing: string[];
  duplicated: { key: string; count: number }[];
  unexpected: string[];
  /** Database side. */
  db: {
    inboundPublished: number;
    inboundBad: string[];
    outboundSent: number;
    outboundBad: string[];
    outboundKeysNotSent: string[];
    deadLetters: number;
    /** Garbage hashes not recorded as `dropped` in inbound_dedup, or found in the message log. */
    garbageBad: string[];
  };
}

/** Mulberry32: small, seeded, good enough to pick workers. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Chatter {
  client: SessionClient;
  network: StorageRpcNetwork;
  label: string;
}

export async function runChaos(stack: Stack, o: ChaosOptions): Promise<ChaosResult> {
  const t0 = Date.now();
  const random = rng(o.seed);
  const actions: string[] = [];
  const act = (line: string) => {
    const l = `[chaos +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`;
    actions.push(l);
    o.log(l);
  };
  act(`seed ${o.seed}: ${o.identities} identities, ${o.messages} messages, ${o.workerKills} worker kills, broker restart (${o.brokerSignal}), nats-server restart`);

  const latency = o.fileServerLatencyMs ?? 1_500;
  if (latency > 0) {
    await stack.devnetFault("file-server", { kind: "latency", ms: latency });
    act(`devnet file server answers after ${latency} ms (every /hash stays in flight that long)`);
  }

  // The bot's Session ID, through the admin API with the real token.
  const bot = await stack.adminJson<{ sessionId: string }>("/admin/bot");
  const botId = bot.sessionId;

  // Replies per key, as the chat clients see them.
  const received = new Map<string, number>();
  const unexpected: string[] = [];
  const expectedKeys = new Set<string>();
  const onReply = (text: string) => {
    const key = /^[0-9a-f]{64} {2}/.test(text) ? text.slice(0, 64) : text;
    if (expectedKeys.has(key)) received.set(key, (received.get(key) ?? 0) + 1);
    else unexpected.push(text);
  };

  const chatters: Chatter[] = [];
  for (let i = 0; i < o.identities; i++) {
    const storage = new MemoryStorage();
    const network = new StorageRpcNetwork({
      seedUrls: stack.devnetInfo.seedUrls,
      snodeScheme: stack.devnetInfo.scheme === "https" ? "https" : "http",
      fileServerUrl: stack.devnetInfo.fileServerUrl,
      storage,
    });
    const client = await SessionClient.create({ identity: await Identity.generate(), network, storage, pollIntervalMs: 1_000 });
    client.on("message", (m) => {
      if (m.sender === botId) onReply(m.text);
    });
    client.startPolling();
    chatters.push({ client, network, label: `id${i + 1}` });
  }

  const expected: Expected[] = [];
  const perIdentity = Math.ceil(o.messages / o.identities);
  const hashEvery = o.hashEvery ?? 5;
  const garbageEvery = o.garbageEvery ?? 10;
  const garbage: string[] = [];
  let sentCount = 0;
  const sendErrors: string[] = [];

  const sender = async (c: Chatter, count: number) => {
    // Start the identities out of step.
    await sleep(Math.floor(random() * o.paceMs));
    for (let n = 0; n < count; n++) {
      const token = `${c.label}-${n}-${randomBytes(6).toString("hex")}`;
      try {
        if (n % hashEvery === hashEvery - 1) {
          const bytes = randomBytes(512 + Math.floor(random() * 4096));
          const key = createHash("sha256").update(bytes).digest("hex");
          expectedKeys.add(key);
          const info = await c.client.uploadAttachment(bytes, { contentType: "application/octet-stream", fileName: `${token}.bin` });
          const r = await c.client.sendMessage(botId, { text: "/hash", attachments: [info] });
          expected.push({ key, from: c.label, kind: "hash", hash: r.hash });
        } else {
          expectedKeys.add(token);
          const r = await c.client.sendText(botId, `/echo ${token}`);
          expected.push({ key: token, from: c.label, kind: "echo", hash: r.hash });
        }
        sentCount++;
        if (garbageEvery > 0 && n % garbageEvery === garbageEvery - 1) {
          const data = randomBytes(1 + Math.floor(random() * 2048));
          const r = await c.network.store({ pubkey: botId, namespace: 0, data, ttlMs: 3_600_000 });
          garbage.push(r.hash);
        }
      } catch (err) {
        sendErrors.push(`${token}: ${String(err)}`);
      }
      await sleep(o.paceMs);
    }
  };

  // The traffic.
  let remaining = o.messages;
  const senders = chatters.map((c) => {
    const count = Math.min(perIdentity, remaining);
    remaining -= count;
    return sender(c, count);
  });
  const sending = Promise.all(senders);

  // The faults, at points of the traffic (by messages sent, not by time: the machine's speed does not move them).
  type Step = { at: number; name: string; run: () => Promise<void> };
  const steps: Step[] = [];
  const killStep = (at: number): Step => ({
    at,
    name: "worker kill",
    run: async () => {
      // Prefer a worker that is handling an event right now (a random one of those, watched for a few
      // seconds through GET /admin/workers); else a random one.
      let busy: { i: number; inFlight: number } | undefined;
      for (let tries = 0; tries < 8 && busy === undefined; tries++) {
        const list = await stack.adminJson<{ items: { instance?: string; stats?: { inFlight: number } }[] }>("/admin/workers").catch(() => ({ items: [] }));
        const hits = list.items.filter((w) => (w.stats?.inFlight ?? 0) > 0 && w.instance?.startsWith("worker-"));
        const hit = hits[Math.floor(random() * hits.length)];
        if (hit) busy = { i: Number(hit.instance!.slice("worker-".length)) - 1, inFlight: hit.stats!.inFlight };
      }
      const alive = stack.workers.map((w, i) => (w.running ? i : -1)).filter((i) => i >= 0);
      const i = busy !== undefined && stack.workers[busy.i]?.running ? busy.i : alive[Math.floor(random() * alive.length)]!;
      const pid = stack.workers[i]!.pid;
      await stack.killWorker(i);
      act(`SIGKILL plugin-host-${i + 1} (pid ${pid}; ${busy?.i === i ? `${busy.inFlight} event(s) in flight` : "picked at random"}) after ${sentCount} messages sent`);
      await sleep(500 + Math.floor(random() * 1500));
      await stack.restartWorker(i);
      act(`plugin-host-${i + 1} started again (pid ${stack.workers[i]!.pid}), listed by GET /admin/workers`);
    },
  });
  for (let k = 0; k < o.workerKills; k++) steps.push(killStep(Math.floor(((k + 0.5) / o.workerKills) * o.messages * 0.9)));
  steps.push({
    at: Math.floor(o.messages * 0.3),
    name: "broker restart",
    run: async () => {
      const pid = stack.broker.pid;
      await stack.restartBroker(o.brokerSignal);
      act(`broker restarted with ${o.brokerSignal} (old pid ${pid}, new pid ${stack.broker.pid}) on the same data dir after ${sentCount} messages sent`);
    },
  });
  steps.push({
    at: Math.floor(o.messages * 0.6),
    name: "nats restart",
    run: async () => {
      const pid = stack.nats.pid;
      await stack.restartNats();
      act(`nats-server SIGKILLed (pid ${pid}) and started again (pid ${stack.nats.pid}) on the same port and store after ${sentCount} messages sent`);
    },
  });
  steps.sort((a, b) => a.at - b.at);

  const controller = (async () => {
    for (const step of steps) {
      while (sentCount < step.at && sentCount + sendErrors.length < o.messages) await sleep(100);
      await step.run();
    }
  })();

  try {
    await Promise.all([sending, controller]);
    act(`sending done: ${sentCount} sent (${sendErrors.length} send errors); waiting up to ${o.settleMs} ms for the replies`);
    if (sendErrors.length > 0) throw new Error(`sending failed:\n${sendErrors.slice(0, 10).join("\n")}`);

    // Settle: every reply arrived, or the deadline passed (then the tallies say what is missing).
    await stack.waitReady(60_000);
    const deadline = Date.now() + o.settleMs;
    while (Date.now() < deadline && expected.some((e) => !received.has(e.key))) await sleep(500);
    // And the bus is idle (nothing pending or unacked anywhere), so a late duplicate would have shown up by now.
    await until(
      "idle consumers",
      async () => {
        const streams = await stack.adminJson<{ items: { consumers: { pending: number; ackPending: number }[] }[] }>("/admin/streams");
        return streams.items.every((s) => s.consumers.every((c) => c.pending === 0 && c.ackPending === 0)) ? true : undefined;
      },
      Math.max(10_000, deadline - Date.now()),
      1_000,
    ).catch((err: unknown) => act(`bus not idle: ${String(err)}`));
    // One more poll round of every client after the bus went idle.
    for (const c of chatters) await c.client.stopPolling();
    for (const c of chatters) await c.client.pollAndDispatch();
  } finally {
    for (const c of chatters) {
      await c.client.close();
      await c.network.close();
    }
  }

  const redeliveries = await countRedeliveries(stack.natsUrl);
  const missing = expected.filter((e) => !received.has(e.key)).map((e) => `${e.from} ${e.kind} ${e.key}`);
  const duplicated = [...received].filter(([, n]) => n > 1).map(([key, count]) => ({ key, count }));
  const db = checkDatabase(stack.brokerDbFile, expected, garbage);
  const result: ChaosResult = {
    sent: sentCount,
    garbage: garbage.length,
    echo: expected.filter((e) => e.kind === "echo").length,
    hashes: expected.filter((e) => e.kind === "hash").length,
    workerKills: stack.workers.reduce((n, w) => n + w.kills, 0),
    brokerRestarts: stack.broker.starts - 1,
    natsRestarts: stack.nats.starts - 1,
    durationMs: Date.now() - t0,
    redeliveries,
    actions,
    missing,
    duplicated,
    unexpected,
    db,
  };
  act(
    `tallies: sent ${result.sent} (${result.echo} /echo, ${result.hashes} /hash) and ${garbage.length} garbage payloads; replies received ${received.size}, missing ${missing.length}, ` +
      `answered twice ${duplicated.length}, unexpected ${unexpected.length}; database: inbound published ${db.inboundPublished}, outbound sent ${db.outboundSent}, ` +
      `bad inbound ${db.inboundBad.length}, bad outbound ${db.outboundBad.length}, garbage not dropped ${db.garbageBad.length}, dead letters ${db.deadLetters}; ` +
      `redeliveries: ${redeliveries.inbound} inbound (plugin-hosts), ${redeliveries.outbound} outbound (broker); ` +
      `${result.workerKills} worker kills, ${result.brokerRestarts} broker restart(s), ${result.natsRestarts} nats-server restart(s), ${(result.durationMs / 1000).toFixed(0)} s`,
  );
  return result;
}

/** The broker's own record of every message, read-only. */
function checkDatabase(file: string, expected: Expected[], garbage: string[]): ChaosResult["db"] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const inRows = db.prepare<[string], { status: string }>("SELECT status FROM messages WHERE direction = 'in' AND ref = ?");
    const dedup = db.prepare<[string], { outcome: string }>("SELECT outcome FROM inbound_dedup WHERE hash = ?");
    const outRows = db.prepare<[string], { ref: string; status: string; kind: string }>("SELECT ref, status, kind FROM messages WHERE direction = 'out' AND causation_id = ?");
    const key = db.prepare<[string], { status: string }>("SELECT status FROM outbound_keys WHERE action_id = ?");
    const inboundBad: string[] = [];
    const outboundBad: string[] = [];
    const outboundKeysNotSent: string[] = [];
    let inboundPublished = 0;
    let outboundSent = 0;
    for (const e of expected) {
      const ins = inRows.all(e.hash);
      const d = dedup.get(e.hash);
      if (ins.length === 1 && ins[0]!.status === "published" && d?.outcome === "published") inboundPublished++;
      else inboundBad.push(`${e.hash}: in rows ${JSON.stringify(ins)}, dedup ${JSON.stringify(d)}`);
      const outs = outRows.all(e.hash);
      if (outs.length === 1 && outs[0]!.status === "sent" && outs[0]!.kind === "send") outboundSent++;
      else outboundBad.push(`${e.hash}: out rows ${JSON.stringify(outs)}`);
      for (const o of outs) if (key.get(o.ref)?.status !== "sent") outboundKeysNotSent.push(o.ref);
    }
    const deadLetters = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM dead_letters").get()!.n;
    const garbageBad: string[] = [];
    for (const h of garbage) {
      const d = dedup.get(h);
      const ins = inRows.all(h);
      if (d?.outcome !== "dropped" || ins.some((r) => r.status !== "dropped")) garbageBad.push(`${h}: dedup ${JSON.stringify(d)}, in rows ${JSON.stringify(ins)}`);
    }
    return { inboundPublished, inboundBad, outboundSent, outboundBad, outboundKeysNotSent, deadLetters, garbageBad };
  } finally {
    db.close();
  }
}

/**
 * Deliveries beyond the first on each stream's consumers: every delivery, redeliveries included,
 * takes the next consumer sequence, so the sum of `delivered.consumer_seq` over the consumers that
 * split a stream, minus the stream's messages, is the number of redeliveries (after a kill, a nak or
 * a lost ack).
 */
async function countRedeliveries(natsUrl: string): Promise<{ inbound: number; outbound: number }> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const count = async (stream: string) => {
      let deliveries = 0;
      for await (const c of jsm.consumers.list(stream)) deliveries += c.delivered.consumer_seq;
      const info = await jsm.streams.info(stream);
      return Math.max(0, deliveries - info.state.messages);
    };
    return { inbound: await count("SB_INBOUND"), outbound: await count("SB_OUTBOUND") };
  } finally {
    await nc.close();
  }
}
