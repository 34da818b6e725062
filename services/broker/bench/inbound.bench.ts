// How much the broker's per-message bookkeeping costs on the inbound path (map → validate/encode →
// record conversation + message → mark dedup), against a baseline measured in the same run:
// JSON.stringify of the same event and one plain INSERT through better-sqlite3. Prints the ratio.
// Run: pnpm --filter @session-bot/broker bench
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { encodeInboundEvent } from "@session-bot/protocol";
import type { SessionEvent } from "@session-bot/session";
import { openDatabase } from "../src/db/database.js";
import { BrokerStore } from "../src/db/store.js";
import { logText, mapSessionEvent } from "../src/inbound/map-event.js";

const N = Number(process.env.BENCH_N ?? 5000);
const ROUNDS = 5;
const dir = mkdtempSync(join(tmpdir(), "sb-broker-bench-"));

function event(i: number): SessionEvent {
  const hash = Buffer.from(`h${i}`.padEnd(32, "x")).toString("base64").slice(0, 43);
  return { kind: "message", hash, sender: "05" + (i % 50).toString(16).padStart(64, "a"), timestamp: 1_700_000_000_000 + i, expiration: 0, text: `message number ${i}`, attachments: [], expirationMode: "off", expirationTimerSeconds: 0 };
}

function ours(store: BrokerStore, offset: number): number {
  const t0 = performance.now();
  for (let i = offset; i < offset + N; i++) {
    const e = event(i);
    const m = mapSessionEvent("bench", e, Date.now());
    if (m.status !== "events") throw new Error("unexpected");
    const ev = m.events[0]!;
    encodeInboundEvent(ev);
    store.transaction(() => {
      store.touchConversation(e.sender, e.timestamp, "in", { approvedMe: true });
      store.recordMessage({ conversationId: e.sender, direction: "in", ref: ev.id, kind: ev.kind, body: logText(ev), status: "received", sentAt: e.timestamp });
    });
    store.transaction(() => {
      store.setMessageStatus("in", ev.id, "published");
      store.markDedup(e.hash, "published");
    });
  }
  return performance.now() - t0;
}

function baseline(db: Database.Database, offset: number): number {
  const insert = db.prepare("insert into log (id, body) values (?, ?)");
  const t0 = performance.now();
  for (let i = offset; i < offset + N; i++) {
    const e = event(i);
    insert.run(e.hash, JSON.stringify(e));
  }
  return performance.now() - t0;
}

try {
  const open = openDatabase(join(dir, "broker.sqlite"));
  const store = new BrokerStore(open.db);
  const raw = new Database(join(dir, "baseline.sqlite"));
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = NORMAL");
  raw.exec("create table log (id text primary key, body text not null)");
  const best = { ours: Infinity, base: Infinity };
  // Interleaved rounds, best of each, so machine noise hits both sides alike.
  for (let r = 0; r < ROUNDS; r++) {
    best.base = Math.min(best.base, baseline(raw, r * N));
    best.ours = Math.min(best.ours, ours(store, r * N));
  }
  const perMsg = (ms: number) => ((ms / N) * 1000).toFixed(1);
  console.log(`inbound bookkeeping, ${N} messages, best of ${ROUNDS}`);
  console.log(`  baseline (stringify + 1 insert): ${perMsg(best.base)} µs/message`);
  console.log(`  broker (map, validate, 2 transactions): ${perMsg(best.ours)} µs/message`);
  console.log(`  ratio broker/baseline: ${(best.ours / best.base).toFixed(2)}x`);
  open.close();
  raw.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
