/**
 * The plugins that ship, run by plugin-host against a real nats-server. Attachments go through a
 * small in-test responder that plays the broker's `attachments.get|put` endpoints with the real
 * transport (chunker request/reply streams + protocol's envelopes); the broker's own
 * implementation is covered by its tests.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveChunked, type ChunkedService } from "@session-bot/chunker/nats";
import {
  BROKER_ENDPOINTS,
  brokerSubject,
  decodeAttachmentGetRequest,
  decodeAttachmentPutPayload,
  encodeAttachmentGetPayload,
  encodeAttachmentReply,
  type AttachmentDescriptor,
} from "@session-bot/protocol";
import { DEFAULT_PLUGINS } from "../src/config.js";
import { BOT, message, peer, publishEvent, sends, startBus, startWorker, waitFor, type Bus, type Worker } from "./helpers.js";

const PARTITIONS = 8;
const ADMIN = peer(0xad);
const SHIPPED = { PLUGIN_HOST_PLUGINS: DEFAULT_PLUGINS.join(","), PLUGIN_HOST_PLUGIN_DIR: "", PLUGIN_HOST_ADMINS: ADMIN };
let bus: Bus;
let broker: ChunkedService[] = [];
const store = new Map<string, { descriptor: AttachmentDescriptor; bytes: Uint8Array }>();
const workers: Worker[] = [];

beforeAll(async () => {
  bus = await startBus();
  let n = 0;
  broker = [
    serveChunked(bus.nc, brokerSubject(BOT, BROKER_ENDPOINTS.attachmentsGet), (req) => {
      const { attachmentId } = decodeAttachmentGetRequest(req);
      const a = store.get(attachmentId);
      if (!a) throw Object.assign(new Error(`no attachment ${attachmentId}`), { code: "NOT_FOUND" });
      return encodeAttachmentGetPayload({ v: 1, attachment: a.descriptor }, a.bytes);
    }),
    serveChunked(bus.nc, brokerSubject(BOT, BROKER_ENDPOINTS.attachmentsPut), (payload) => {
      const { header, bytes } = decodeAttachmentPutPayload(payload);
      const descriptor: AttachmentDescriptor = {
        id: `up-${++n}`,
        contentType: header.contentType,
        size: header.size,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        ...(header.fileName !== undefined ? { fileName: header.fileName } : {}),
      };
      store.set(descriptor.id, { descriptor, bytes });
      return encodeAttachmentReply({ v: 1, attachment: descriptor });
    }),
  ];
  for (const name of ["s1", "s2"]) workers.push(await startWorker(bus, name, SHIPPED));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all(broker.map((b) => b.stop({ abort: true })));
  await bus?.close();
});

const repliesTo = async (conversation: string) => (await sends(bus)).filter((s) => s.conversation === conversation);
const firstReplies = (conversation: string, n = 1) =>
  waitFor(async () => ((await repliesTo(conversation)).length >= n ? repliesTo(conversation) : undefined), 20_000, `replies to ${conversation.slice(-4)}`);

describe("shipped plugins in plugin-host", () => {
  it("/hash streams a file larger than one NATS message from the broker and answers its SHA-256", async () => {
    const bytes = randomBytes(1_500_000);
    const descriptor: AttachmentDescriptor = { id: "in-1", contentType: "application/octet-stream", size: bytes.byteLength, fileName: "big.bin" };
    store.set("in-1", { descriptor, bytes });
    await publishEvent(bus, { ...message(peer(1), "/hash"), attachments: [descriptor] }, PARTITIONS);
    const [reply] = await firstReplies(peer(1));
    expect(reply!.text).toBe(`${createHash("sha256").update(bytes).digest("hex")}  big.bin (1500000 bytes)`);
  });

  it("/qr uploads a PNG to the broker and sends it as an attachment", async () => {
    await publishEvent(bus, message(peer(2), "/qr https://getsession.org"), PARTITIONS);
    const [reply] = await firstReplies(peer(2));
    const id = reply!.attachments![0]!;
    const uploaded = store.get(id)!;
    expect(uploaded.descriptor).toMatchObject({ contentType: "image/png", fileName: "qr.png" });
    expect([...uploaded.bytes.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it("/ping answers with the bus round trip", async () => {
    await publishEvent(bus, message(peer(3), "/ping"), PARTITIONS);
    const [reply] = await firstReplies(peer(3));
    expect(reply!.text).toMatch(/^pong — bus round trip \d+(\.\d)? ms, event waited \d+(\.\d)? ms on the bus \(worker s[12]\)$/);
  });

  it("/status is for admins only", async () => {
    await publishEvent(bus, message(peer(4), "/status"), PARTITIONS);
    await publishEvent(bus, message(ADMIN, "/status"), PARTITIONS);
    expect((await firstReplies(peer(4)))[0]!.text).toBe("Sorry, this command is for admins only.");
    expect((await firstReplies(ADMIN))[0]!.text).toMatch(/^bot itest, worker s[12], bus round trip .* ms\n6 plugins enabled:/);
  });

  it("a reminder fires once at its time although two workers run the task", async () => {
    await publishEvent(bus, message(peer(5), "/remind in 2s stretch"), PARTITIONS);
    expect((await firstReplies(peer(5)))[0]!.text).toMatch(/^OK, I will remind you at/);
    const replies = await firstReplies(peer(5), 2);
    expect(replies[1]!.text).toBe("⏰ Reminder: stretch");
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await repliesTo(peer(5))).map((r) => r.text).filter((t) => t.startsWith("⏰"))).toHaveLength(1);
  });

  it("a reminder survives the restart of every worker", async () => {
    await publishEvent(bus, message(peer(6), "/remind in 4s survive"), PARTITIONS);
    await firstReplies(peer(6));
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await new Promise((r) => setTimeout(r, 4_500)); // due while no worker runs
    workers.push(await startWorker(bus, "s3", SHIPPED));
    const replies = await firstReplies(peer(6), 2);
    expect(replies.map((r) => r.text)).toEqual([expect.stringMatching(/^OK/), "⏰ Reminder: survive"]);
  });
});
