import { describe, expect, it } from "vitest";
import {
  BROKER_ENDPOINTS,
  PLUGIN_HOST_ENDPOINTS,
  STREAMS,
  assertBotName,
  assertCommandName,
  assertPluginName,
  assertSubjectToken,
  brokerDeadLetterConsumer,
  brokerFilter,
  brokerOutboundConsumer,
  brokerQueueGroup,
  brokerSubject,
  deadLetterSubject,
  inboundFilter,
  inboundPartitionFilter,
  inboundSubject,
  inboundSubjectOf,
  isBotName,
  isCommandName,
  isPluginName,
  outboundFilter,
  outboundSubject,
  outboundSubjectOf,
  parseInboundSubject,
  parsePluginConfigKey,
  pluginConfigKey,
  pluginConfigKeyFilter,
  pluginHostConsumer,
  pluginHostFilter,
  pluginHostQueueGroup,
  pluginHostSubject,
  pluginManifestKey,
  pluginStateBucket,
} from "./names.js";
import { INBOUND_KINDS } from "./schemas/inbound.js";
import { OUTBOUND_ACTIONS } from "./schemas/outbound.js";
import { partitionOf } from "./partition.js";
import { sampleInboundEvents, sampleOutboundActions } from "./samples.js";
import { catchError } from "./test-support.js";

/** Tokens every builder must refuse, with the reason word expected in the message. */
const FORBIDDEN: [string, string][] = [
  ["", "empty"],
  ["a.b", "'.'"],
  [".", "'.'"],
  ["*", "'*'"],
  ["a*", "'*'"],
  [">", "'>'"],
  ["a>", "'>'"],
  ["a b", "whitespace"],
  [" a", "whitespace"],
  ["a\tb", "whitespace"],
  ["a\nb", "whitespace"],
  ["a\u0000b", "control"],
  ["a\u007fb", "control"],
  ["a\u00a0b", "whitespace"],
];

function expectBadName(fn: () => unknown, reason?: string): void {
  const err = catchError(fn);
  expect(err.code).toBe("PROTOCOL_BAD_NAME");
  expect(err.name).toBe("ProtocolError");
  if (reason !== undefined) expect(err.message).toContain(reason);
}

describe("assertSubjectToken", () => {
  it.each(FORBIDDEN)("refuses %j (%s)", (token, reason) => {
    expectBadName(() => assertSubjectToken(token), reason);
  });
  it("refuses non-strings", () => {
    for (const t of [undefined, null, 1, {}]) expectBadName(() => assertSubjectToken(t));
  });
  it("accepts ordinary tokens", () => {
    for (const t of ["a", "SB_INBOUND", "x-y_z", "0", "ü"]) expect(assertSubjectToken(t)).toBe(t);
  });
});

describe("bot, plugin and command names", () => {
  const cases: [string, (n: unknown) => string, (n: unknown) => boolean][] = [
    ["bot", assertBotName, isBotName],
    ["plugin", assertPluginName, isPluginName],
    ["command", assertCommandName, isCommandName],
  ];
  for (const [what, assert, is] of cases) {
    it.each(FORBIDDEN)(`${what} name refuses %j`, (token, reason) => {
      expectBadName(() => assert(token), reason);
      expect(is(token)).toBe(false);
    });
    it(`${what} name refuses tokens outside its pattern`, () => {
      for (const t of ["Upper", "a".repeat(33), "a/b", "a:b", "é", "-a", "_a", "a$"]) {
        expectBadName(() => assert(t), "must match");
        expect(is(t)).toBe(false);
      }
    });
    it(`${what} name accepts valid names`, () => {
      for (const t of ["echo", "a", "a1", "my-plugin", "my_plugin", "a".repeat(32)]) {
        expect(assert(t)).toBe(t);
        expect(is(t)).toBe(true);
      }
    });
  }
  it("bot names may start with a digit; plugin and command names may not", () => {
    expect(isBotName("1bot")).toBe(true);
    expect(isPluginName("1plugin")).toBe(false);
    expect(isCommandName("1cmd")).toBe(false);
  });
});

describe("inbound subjects", () => {
  it("builds sb.in.<bot>.<partition>.<kind> for every kind", () => {
    for (const kind of INBOUND_KINDS) expect(inboundSubject("demo", 3, kind)).toBe(`sb.in.demo.3.${kind}`);
  });
  it("builds the subject of an event from its conversation's partition", () => {
    for (const event of sampleInboundEvents()) {
      expect(inboundSubjectOf(event, 16)).toBe(`sb.in.demo.${partitionOf(event.conversation, 16)}.${event.kind}`);
    }
  });
  it("builds filters", () => {
    expect(inboundFilter("demo")).toBe("sb.in.demo.>");
    expect(inboundPartitionFilter("demo", 0)).toBe("sb.in.demo.0.>");
    expect(inboundPartitionFilter("demo", 1023)).toBe("sb.in.demo.1023.>");
  });
  it.each(FORBIDDEN)("refuses bot %j", (bot) => {
    expectBadName(() => inboundSubject(bot, 0, "message"));
    expectBadName(() => inboundFilter(bot));
    expectBadName(() => inboundPartitionFilter(bot, 0));
  });
  it("refuses unknown kinds and forbidden kind tokens", () => {
    expectBadName(() => inboundSubject("demo", 0, "other" as never), "must be one of");
    for (const [token] of FORBIDDEN) expectBadName(() => inboundSubject("demo", 0, token as never));
  });
  it("refuses bad partitions", () => {
    for (const p of [-1, 1.5, Number.NaN, 1024, Infinity, "1" as unknown as number]) {
      expectBadName(() => inboundSubject("demo", p, "message"));
      expectBadName(() => inboundPartitionFilter("demo", p));
      expectBadName(() => pluginHostConsumer("demo", p));
    }
  });
  it("parses what it builds and refuses anything else", () => {
    expect(parseInboundSubject("sb.in.demo.7.reaction")).toEqual({ bot: "demo", partition: 7, kind: "reaction" });
    for (const s of ["sb.in.demo.7", "sb.out.demo.7.message", "sb.in.demo.07.message", "sb.in.demo.x.message", "sb.in.Demo.1.message", "sb.in.demo.1.zzz", "sb.in.demo.1.message.x", "sb.in.demo.9999.message"]) {
      expectBadName(() => parseInboundSubject(s));
    }
  });
});

describe("outbound, dead-letter and broker subjects", () => {
  it("builds sb.out.<bot>.<action> for every action", () => {
    for (const action of OUTBOUND_ACTIONS) expect(outboundSubject("demo", action)).toBe(`sb.out.demo.${action}`);
    for (const a of sampleOutboundActions()) expect(outboundSubjectOf(a)).toBe(`sb.out.demo.${a.action}`);
    expect(outboundFilter("demo")).toBe("sb.out.demo.>");
  });
  it("refuses unknown actions and forbidden tokens", () => {
    expectBadName(() => outboundSubject("demo", "explode" as never), "must be one of");
    for (const [token] of FORBIDDEN) {
      expectBadName(() => outboundSubject("demo", token as never));
      expectBadName(() => outboundSubject(token, "send"));
      expectBadName(() => outboundFilter(token));
      expectBadName(() => deadLetterSubject(token));
    }
  });
  it("builds dead-letter subjects", () => {
    expect(deadLetterSubject("demo")).toBe("sb.dead.demo");
  });
  it("builds broker subjects for every endpoint", () => {
    for (const endpoint of Object.values(BROKER_ENDPOINTS)) expect(brokerSubject("demo", endpoint)).toBe(`sb.broker.demo.${endpoint}`);
    expect(brokerSubject("demo", "attachments.get")).toBe("sb.broker.demo.attachments.get");
    expect(brokerFilter("demo")).toBe("sb.broker.demo.>");
  });
  it("refuses bad endpoints", () => {
    for (const e of ["", ".", "a.", ".a", "a..b", "a.*", "a.>", "a b", "A", "a.B"]) {
      expectBadName(() => brokerSubject("demo", e));
      expectBadName(() => pluginHostSubject("demo", e));
    }
    for (const [token] of FORBIDDEN) {
      expectBadName(() => brokerSubject(token, "info"));
      expectBadName(() => pluginHostSubject(token, "stats"));
      expectBadName(() => pluginHostFilter(token));
      expectBadName(() => brokerFilter(token));
    }
  });
  it("builds plugin-host endpoint subjects", () => {
    expect(pluginHostSubject("demo", PLUGIN_HOST_ENDPOINTS.stats)).toBe("sb.plugin-host.demo.stats");
    expect(pluginHostFilter("demo")).toBe("sb.plugin-host.demo.>");
  });
});

describe("streams, consumers, queue groups and KV", () => {
  it("names the streams and their subjects", () => {
    expect(STREAMS.inbound).toMatchObject({ name: "SB_INBOUND", subjects: ["sb.in.>"] });
    expect(STREAMS.outbound).toMatchObject({ name: "SB_OUTBOUND", subjects: ["sb.out.>"] });
    expect(STREAMS.deadLetter).toMatchObject({ name: "SB_DEAD", subjects: ["sb.dead.>"] });
    expect(Object.isFrozen(STREAMS.inbound.subjects)).toBe(true);
  });
  it("names consumers and queue groups", () => {
    expect(pluginHostConsumer("demo", 5)).toBe("sb_host_demo_p5");
    expect(brokerOutboundConsumer("demo")).toBe("sb_broker_out_demo");
    expect(brokerDeadLetterConsumer("demo")).toBe("sb_broker_dead_demo");
    expect(brokerQueueGroup("demo")).toBe("sb-broker-demo");
    expect(pluginHostQueueGroup("demo")).toBe("sb-plugin-host-demo");
  });
  it("names KV buckets and keys", () => {
    expect(pluginStateBucket("echo")).toBe("sb_state_echo");
    expect(pluginConfigKey("demo", "echo")).toBe("demo.echo");
    expect(pluginConfigKeyFilter("demo")).toBe("demo.>");
    expect(parsePluginConfigKey("demo.echo")).toEqual({ bot: "demo", plugin: "echo" });
    expect(pluginManifestKey("echo")).toBe("echo");
  });
  it.each(FORBIDDEN)("refuses %j in every consumer, queue group, bucket and key", (token) => {
    expectBadName(() => pluginHostConsumer(token, 0));
    expectBadName(() => brokerOutboundConsumer(token));
    expectBadName(() => brokerDeadLetterConsumer(token));
    expectBadName(() => brokerQueueGroup(token));
    expectBadName(() => pluginHostQueueGroup(token));
    expectBadName(() => pluginStateBucket(token));
    expectBadName(() => pluginConfigKey(token, "echo"));
    expectBadName(() => pluginConfigKey("demo", token));
    expectBadName(() => pluginConfigKeyFilter(token));
    expectBadName(() => pluginManifestKey(token));
  });
  it("refuses malformed config keys", () => {
    for (const k of ["demo", "demo.echo.x", "Demo.echo", "demo.1echo", ""]) expectBadName(() => parsePluginConfigKey(k));
  });
});
