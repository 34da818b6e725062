import { isInboundEvent, MAX_INBOUND_TEXT_LENGTH } from "@session-bot/protocol";
import type { SessionEvent } from "@session-bot/session";
import { describe, expect, it } from "vitest";
import { mapSessionEvent } from "./map-event.js";

const PEER = "05" + "c".repeat(64);
const BOTID = "05" + "d".repeat(64);
const base = { hash: "pOPnSfY1xEOfrv2W59h2y219z5Tn3Gv3KGUU4fD5w58", sender: PEER, timestamp: 1_700_000_000_000, expiration: 1_700_001_000_000 };

function events(e: SessionEvent) {
  const m = mapSessionEvent("bot", e, 1_700_000_000_500);
  if (m.status !== "events") throw new Error(`unexpected ${m.status}`);
  for (const ev of m.events) expect(isInboundEvent(ev), JSON.stringify(ev)).toBe(true);
  return m;
}

describe("mapSessionEvent", () => {
  it("maps a message with attachments, quote and profile name", () => {
    const m = events({
      ...base,
      kind: "message",
      text: "hi",
      attachments: [
        { url: "http://f/1", id: "1", contentType: "image/png", size: 10, keyBase64: "k", voiceMessage: false, deterministic: false, fileName: "a.png" },
        { url: "http://f/2", id: "2", size: 20_000_000, keyBase64: "k", voiceMessage: false, deterministic: false },
      ],
      quote: { timestamp: 5, author: BOTID },
      profile: { displayName: "Peer" },
      expirationMode: "off",
      expirationTimerSeconds: 0,
    });
    expect(m.events[0]).toMatchObject({
      v: 1,
      id: base.hash,
      bot: "bot",
      kind: "message",
      conversation: PEER,
      sender: PEER,
      text: "hi",
      receivedAt: 1_700_000_000_500,
      quote: { timestamp: 5, author: BOTID },
      senderName: "Peer",
      attachments: [
        { id: `in:${base.hash}:0`, contentType: "image/png", size: 10, fileName: "a.png" },
        { id: `in:${base.hash}:1`, contentType: "application/octet-stream", size: 10_000_000 },
      ],
    });
    // Keys and URLs stay in the broker.
    expect(JSON.stringify(m.events)).not.toContain("http://f/");
    expect(m.attachments[1]!.info.url).toBe("http://f/2");
  });

  it("truncates over-long text and keeps at most 10 attachments", () => {
    const att = { url: "u", id: "1", size: 1, keyBase64: "k", voiceMessage: false, deterministic: false };
    const m = events({ ...base, kind: "message", text: "x".repeat(MAX_INBOUND_TEXT_LENGTH + 5), attachments: Array.from({ length: 12 }, () => att), expirationMode: "off", expirationTimerSeconds: 0 });
    const e = m.events[0]!;
    expect(e.kind === "message" && e.text.length).toBe(MAX_INBOUND_TEXT_LENGTH);
    expect(m.droppedAttachments).toBe(2);
  });

  it("maps reactions, typing, request responses and unsend", () => {
    expect(events({ ...base, kind: "reaction", target: { timestamp: 1, author: BOTID }, emoji: "👍", action: "remove" }).events[0]).toMatchObject({ kind: "reaction", op: "remove", emoji: "👍" });
    expect(events({ ...base, kind: "typing", typing: true }).events[0]).toMatchObject({ kind: "typing", state: "started" });
    expect(events({ ...base, kind: "typing", typing: false }).events[0]).toMatchObject({ kind: "typing", state: "stopped" });
    expect(events({ ...base, kind: "messageRequestResponse", approved: true }).events[0]).toMatchObject({ kind: "request_response", approved: true });
    expect(events({ ...base, kind: "unsend", target: { timestamp: 9, author: PEER } }).events[0]).toMatchObject({ kind: "unsend", target: { timestamp: 9 } });
  });

  it("splits a long read receipt into events of at most 100 timestamps with distinct ids", () => {
    const m = events({ ...base, kind: "readReceipt", timestamps: Array.from({ length: 250 }, (_, i) => i + 1) });
    expect(m.events.map((e) => e.id)).toEqual([`${base.hash}:0`, `${base.hash}:1`, `${base.hash}:2`]);
    expect(m.events.map((e) => (e.kind === "read" ? e.timestamps.length : 0))).toEqual([100, 100, 50]);
    expect(events({ ...base, kind: "readReceipt", timestamps: [1] }).events[0]!.id).toBe(base.hash);
  });

  it("reports kinds the bus does not carry", () => {
    expect(mapSessionEvent("bot", { ...base, kind: "dataExtraction", type: "screenshot" }, 0)).toEqual({ status: "unsupported", kind: "dataExtraction" });
    expect(mapSessionEvent("bot", { ...base, kind: "expirationTimerUpdate", expirationMode: "off", expirationTimerSeconds: 0 }, 0).status).toBe("unsupported");
  });
});
