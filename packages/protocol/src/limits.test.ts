// Limits enforced by the schemas: each bound is accepted at the limit and refused one past it,
// with the JSON pointer of the offending field.
import { describe, expect, it, vi } from "vitest";
import { ajv } from "./validation.js";
import {
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_COMMANDS_PER_PLUGIN,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_EMOJI_LENGTH,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_FILE_NAME_LENGTH,
  MAX_ID_LENGTH,
  MAX_INBOUND_TEXT_LENGTH,
  MAX_PAGE_LIMIT,
  MAX_RECEIPT_TIMESTAMPS,
  MAX_TEXT_LENGTH,
} from "./limits.js";
import { parseInboundEvent } from "./schemas/inbound.js";
import { parseOutboundAction, type SendAction } from "./schemas/outbound.js";
import { parseAttachmentPutRequest } from "./schemas/attachment.js";
import { parseErrorReply } from "./schemas/error-reply.js";
import { assertPluginConfig, parsePluginManifest } from "./schemas/plugin.js";
import { parsePageRequest } from "./schemas/admin.js";
import { sampleInboundEvents, sampleMessages, sampleOutboundActions } from "./samples.js";
import { catchError } from "./test-support.js";

const send = () => sampleOutboundActions()[0] as SendAction;
const message = () => sampleInboundEvents()[0]!;

function expectRejectedAt(fn: () => unknown, pointer: string, keyword?: string): void {
  const err = catchError(fn);
  expect(err.code).toBe("PROTOCOL_INVALID");
  const hit = err.problems.find((p) => p.instancePath === pointer);
  expect(hit, `problems: ${JSON.stringify(err.problems)}`).toBeDefined();
  if (keyword !== undefined) expect(hit?.keyword).toBe(keyword);
}

describe("text", () => {
  it("outbound send text: 2,000 characters accepted, 2,001 refused at /text", () => {
    expect(MAX_TEXT_LENGTH).toBe(2_000);
    expect(parseOutboundAction({ ...send(), text: "x".repeat(2_000) })).toBeTruthy();
    expectRejectedAt(() => parseOutboundAction({ ...send(), text: "x".repeat(2_001) }), "/text", "maxLength");
  });
  it("counts characters as code points (emoji = 1), as JSON Schema does", () => {
    expect(parseOutboundAction({ ...send(), text: "😀".repeat(2_000) })).toBeTruthy();
    expectRejectedAt(() => parseOutboundAction({ ...send(), text: "😀".repeat(2_001) }), "/text");
  });
  it("inbound message text: 10,000 accepted (Session Pro), 10,001 refused at /text", () => {
    expect(parseInboundEvent({ ...message(), text: "x".repeat(MAX_INBOUND_TEXT_LENGTH) })).toBeTruthy();
    expectRejectedAt(() => parseInboundEvent({ ...message(), text: "x".repeat(MAX_INBOUND_TEXT_LENGTH + 1) }), "/text", "maxLength");
  });
  it("a send needs a non-empty text or at least one attachment", () => {
    expect(parseOutboundAction({ ...send(), text: "", attachments: ["a1"] })).toBeTruthy();
    expect(parseOutboundAction({ ...send(), text: "hi", attachments: [] })).toBeTruthy();
    const { attachments: _drop, ...noAttachments } = send();
    expectRejectedAt(() => parseOutboundAction({ ...noAttachments, text: "" }), "/text", "minLength");
    expectRejectedAt(() => parseOutboundAction({ ...send(), text: "", attachments: [] }), "/attachments", "minItems");
  });
});

describe("attachments", () => {
  const descriptor = (i: number) => ({ id: `att-${i}`, contentType: "image/png", size: 1 });
  it(`${MAX_ATTACHMENTS_PER_MESSAGE} per message accepted, one more refused at /attachments`, () => {
    const ten = Array.from({ length: MAX_ATTACHMENTS_PER_MESSAGE }, (_, i) => descriptor(i));
    expect(parseInboundEvent({ ...message(), attachments: ten })).toBeTruthy();
    expectRejectedAt(() => parseInboundEvent({ ...message(), attachments: [...ten, descriptor(10)] }), "/attachments", "maxItems");
    const ids = ten.map((d) => d.id);
    expect(parseOutboundAction({ ...send(), attachments: ids })).toBeTruthy();
    expectRejectedAt(() => parseOutboundAction({ ...send(), attachments: [...ids, "att-10"] }), "/attachments", "maxItems");
  });
  it("size: 10,000,000 bytes accepted, 10,000,001 refused at /attachments/0/size", () => {
    expect(MAX_ATTACHMENT_BYTES).toBe(10_000_000);
    expect(parseInboundEvent({ ...message(), attachments: [{ ...descriptor(0), size: MAX_ATTACHMENT_BYTES }] })).toBeTruthy();
    expectRejectedAt(() => parseInboundEvent({ ...message(), attachments: [{ ...descriptor(0), size: MAX_ATTACHMENT_BYTES + 1 }] }), "/attachments/0/size", "maximum");
    expectRejectedAt(() => parseInboundEvent({ ...message(), attachments: [{ ...descriptor(0), size: -1 }] }), "/attachments/0/size", "minimum");
    expectRejectedAt(() => parseInboundEvent({ ...message(), attachments: [{ ...descriptor(0), size: 1.5 }] }), "/attachments/0/size", "type");
    const put = { v: 1, contentType: "text/plain", size: MAX_ATTACHMENT_BYTES };
    expect(parseAttachmentPutRequest(put)).toBeTruthy();
    expectRejectedAt(() => parseAttachmentPutRequest({ ...put, size: MAX_ATTACHMENT_BYTES + 1 }), "/size", "maximum");
  });
  it("file name and sha256", () => {
    expect(parseAttachmentPutRequest({ v: 1, contentType: "a/b", size: 1, fileName: "f".repeat(MAX_FILE_NAME_LENGTH) })).toBeTruthy();
    expectRejectedAt(() => parseAttachmentPutRequest({ v: 1, contentType: "a/b", size: 1, fileName: "f".repeat(MAX_FILE_NAME_LENGTH + 1) }), "/fileName");
    expectRejectedAt(() => parseAttachmentPutRequest({ v: 1, contentType: "a/b", size: 1, sha256: "AB".repeat(32) }), "/sha256", "pattern");
    expectRejectedAt(() => parseAttachmentPutRequest({ v: 1, contentType: "a/b", size: 1, sha256: "ab".repeat(31) }), "/sha256", "pattern");
    expectRejectedAt(() => parseAttachmentPutRequest({ v: 1, contentType: "", size: 1 }), "/contentType", "minLength");
  });
});

describe("names, ids and Session IDs inside messages", () => {
  it("display name: 100 accepted, 101 refused", () => {
    const setName = sampleOutboundActions()[5]!;
    expect(parseOutboundAction({ ...setName, displayName: "n".repeat(MAX_DISPLAY_NAME_LENGTH) })).toBeTruthy();
    expectRejectedAt(() => parseOutboundAction({ ...setName, displayName: "n".repeat(MAX_DISPLAY_NAME_LENGTH + 1) }), "/displayName", "maxLength");
    expectRejectedAt(() => parseOutboundAction({ ...setName, displayName: "" }), "/displayName", "minLength");
    expectRejectedAt(() => parseInboundEvent({ ...message(), senderName: "n".repeat(MAX_DISPLAY_NAME_LENGTH + 1) }), "/senderName", "maxLength");
  });
  it("conversation must be 05 + 64 lowercase hex", () => {
    for (const bad of ["03" + "a".repeat(64), "05" + "a".repeat(63), "05" + "a".repeat(65), "05" + "A".repeat(64), "05" + "g".repeat(64), ""]) {
      expectRejectedAt(() => parseInboundEvent({ ...message(), conversation: bad }), "/conversation");
      expectRejectedAt(() => parseOutboundAction({ ...send(), conversation: bad }), "/conversation");
    }
  });
  it("ids: 128 characters accepted, 129 refused; no spaces or slashes-only restrictions beyond the pattern", () => {
    expect(parseOutboundAction({ ...send(), id: "a".repeat(MAX_ID_LENGTH) })).toBeTruthy();
    expectRejectedAt(() => parseOutboundAction({ ...send(), id: "a".repeat(MAX_ID_LENGTH + 1) }), "/id");
    expectRejectedAt(() => parseOutboundAction({ ...send(), id: "" }), "/id");
    expectRejectedAt(() => parseOutboundAction({ ...send(), id: "a b" }), "/id", "pattern");
    expectRejectedAt(() => parseOutboundAction({ ...send(), causationId: "a\nb" }), "/causationId", "pattern");
  });
  it("bot and plugin names follow their patterns", () => {
    expectRejectedAt(() => parseInboundEvent({ ...message(), bot: "Demo" }), "/bot", "pattern");
    expectRejectedAt(() => parseInboundEvent({ ...message(), bot: "a.b" }), "/bot", "pattern");
    expectRejectedAt(() => parseOutboundAction({ ...send(), plugin: "Echo" }), "/plugin", "pattern");
  });
  it("timestamps are non-negative safe integers", () => {
    expectRejectedAt(() => parseInboundEvent({ ...message(), timestamp: -1 }), "/timestamp", "minimum");
    expectRejectedAt(() => parseInboundEvent({ ...message(), timestamp: 1.5 }), "/timestamp", "type");
    expectRejectedAt(() => parseInboundEvent({ ...message(), receivedAt: 2 ** 53 }), "/receivedAt", "maximum");
    expectRejectedAt(() => parseInboundEvent({ ...message(), timestamp: "1" }), "/timestamp", "type");
  });
});

describe("other bounds", () => {
  it(`emoji: ${MAX_EMOJI_LENGTH} code points accepted, one more refused`, () => {
    const react = sampleOutboundActions()[1]!;
    expect(parseOutboundAction({ ...react, emoji: "🙂".repeat(MAX_EMOJI_LENGTH) })).toBeTruthy();
    expectRejectedAt(() => parseOutboundAction({ ...react, emoji: "🙂".repeat(MAX_EMOJI_LENGTH + 1) }), "/emoji", "maxLength");
    expectRejectedAt(() => parseOutboundAction({ ...react, emoji: "" }), "/emoji", "minLength");
  });
  it(`receipts: 1..${MAX_RECEIPT_TIMESTAMPS} timestamps`, () => {
    const read = sampleInboundEvents()[2]!;
    const many = Array.from({ length: MAX_RECEIPT_TIMESTAMPS }, (_, i) => i);
    expect(parseInboundEvent({ ...read, timestamps: many })).toBeTruthy();
    expectRejectedAt(() => parseInboundEvent({ ...read, timestamps: [...many, 1] }), "/timestamps", "maxItems");
    expectRejectedAt(() => parseInboundEvent({ ...read, timestamps: [] }), "/timestamps", "minItems");
    expectRejectedAt(() => parseInboundEvent({ ...read, timestamps: [1, -1] }), "/timestamps/1", "minimum");
  });
  it("error messages and codes", () => {
    expect(parseErrorReply({ v: 1, code: "X", message: "m".repeat(MAX_ERROR_MESSAGE_LENGTH) })).toBeTruthy();
    expectRejectedAt(() => parseErrorReply({ v: 1, code: "X", message: "m".repeat(MAX_ERROR_MESSAGE_LENGTH + 1) }), "/message", "maxLength");
    for (const code of ["", "lower", "1ABC", "A-B", "A".repeat(65)]) expectRejectedAt(() => parseErrorReply({ v: 1, code, message: "" }), "/code");
  });
  it("plugin manifests: command count, command names, version, config schema", () => {
    const manifest = sampleMessages()["PluginManifest"]![0] as Record<string, unknown>;
    const cmd = { name: "c", description: "" };
    expect(parsePluginManifest({ ...manifest, commands: Array.from({ length: MAX_COMMANDS_PER_PLUGIN }, () => cmd) })).toBeTruthy();
    expectRejectedAt(() => parsePluginManifest({ ...manifest, commands: Array.from({ length: MAX_COMMANDS_PER_PLUGIN + 1 }, () => cmd) }), "/commands", "maxItems");
    expectRejectedAt(() => parsePluginManifest({ ...manifest, commands: [{ name: "/help", description: "" }] }), "/commands/0/name", "pattern");
    expectRejectedAt(() => parsePluginManifest({ ...manifest, commands: [{ name: "help" }] }), "/commands/0/description", "required");
    for (const version of ["1", "1.2", "v1.2.3", "01.2.3", "1.2.3-", ""]) expectRejectedAt(() => parsePluginManifest({ ...manifest, version }), "/version", "pattern");
    expectRejectedAt(() => parsePluginManifest({ ...manifest, configSchema: { type: 5 } }), "/configSchema/type");
    expectRejectedAt(() => parsePluginManifest({ ...manifest, configSchema: true }), "/configSchema", "type");
  });
  it(`page limit: 1..${MAX_PAGE_LIMIT}`, () => {
    expect(parsePageRequest({ v: 1, limit: MAX_PAGE_LIMIT })).toBeTruthy();
    expectRejectedAt(() => parsePageRequest({ v: 1, limit: MAX_PAGE_LIMIT + 1 }), "/limit", "maximum");
    expectRejectedAt(() => parsePageRequest({ v: 1, limit: 0 }), "/limit", "minimum");
  });
});

describe("assertPluginConfig", () => {
  const manifest = () => parsePluginManifest(sampleMessages()["PluginManifest"]![0]);
  it("accepts a config valid against the manifest's configSchema", () => {
    expect(assertPluginConfig(manifest(), { prefix: "> " })).toEqual({ prefix: "> " });
  });
  it("refuses an invalid config with pointers under /config", () => {
    expectRejectedAt(() => assertPluginConfig(manifest(), { prefix: 5 }), "/config/prefix", "type");
    expectRejectedAt(() => assertPluginConfig(manifest(), { other: 1 }), "/config/other", "additionalProperties");
    expectRejectedAt(() => assertPluginConfig(manifest(), []), "/config", "type");
    expectRejectedAt(() => assertPluginConfig(manifest(), null), "/config", "type");
  });
  it("accepts any object when the manifest has no configSchema", () => {
    const { configSchema: _drop, ...rest } = manifest();
    expect(assertPluginConfig(rest, { anything: [1] })).toEqual({ anything: [1] });
  });
  it("refuses a configSchema that does not compile, at /configSchema", () => {
    const bad = { ...manifest(), configSchema: { type: "object", properties: { a: { type: "string", pattern: "(" } } } };
    expect(parsePluginManifest(bad)).toBe(bad);
    expectRejectedAt(() => assertPluginConfig(bad, {}), "/configSchema");
  });
  it("reloaded manifests (new objects, same schema with an $id) reuse one compiled validator", () => {
    const withId = () => ({ ...manifest(), configSchema: { $id: "urn:test:echo-config", type: "object", properties: { n: { type: "integer" } } } });
    const spy = vi.spyOn(ajv, "compile");
    try {
      expect(assertPluginConfig(withId(), { n: 1 })).toBeTruthy();
      expect(assertPluginConfig(withId(), { n: 2 })).toBeTruthy();
      expectRejectedAt(() => assertPluginConfig(withId(), { n: "x" }), "/config/n", "type");
      expect(spy).toHaveBeenCalledTimes(1);
      const other = { ...manifest(), configSchema: { $id: "urn:test:echo-config", type: "object", required: ["m"], properties: { m: { type: "string" } } } };
      expectRejectedAt(() => assertPluginConfig(other, {}), "/config/m", "required");
    } finally {
      spy.mockRestore();
    }
  });

  it("compiles each manifest's schema once", () => {
    const m = { ...manifest(), configSchema: { type: "object", description: "unique to this test", properties: { prefix: { type: "string" } } } };
    const spy = vi.spyOn(ajv, "compile");
    try {
      for (let i = 0; i < 3; i++) expect(assertPluginConfig(m, { prefix: String(i) })).toBeTruthy();
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});
