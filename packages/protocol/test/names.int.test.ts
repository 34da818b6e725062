// The names of the protocol against a real nats-server: streams, consumers, KV buckets and keys
// are accepted, filters select exactly what the builders produce, and $SRV-style service names work.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import {
  PLUGIN_MANIFESTS_BUCKET,
  PLUGINS_BUCKET,
  STREAMS,
  brokerDeadLetterConsumer,
  brokerOutboundConsumer,
  brokerSubject,
  deadLetterSubject,
  decodePluginConfigRecord,
  encodeOutboundAction,
  encodePluginConfigRecord,
  encodePluginManifest,
  outboundFilter,
  outboundSubjectOf,
  parsePluginConfigKey,
  pluginConfigKey,
  pluginConfigKeyFilter,
  pluginManifestKey,
  pluginStateBucket,
} from "../src/index.js";
import { sampleMessages, sampleOutboundActions } from "../src/samples.js";

describe("protocol names on a real nats-server", () => {
  let nats: TestNats;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.drain();
    await nats?.stop();
  });

  it("creates the three streams and the broker's consumers; filters select one bot", async () => {
    const jsm = await jetstreamManager(nc);
    for (const s of [STREAMS.inbound, STREAMS.outbound, STREAMS.deadLetter]) {
      await jsm.streams.add({ name: s.name, subjects: [...s.subjects], description: s.description });
    }
    await jsm.consumers.add(STREAMS.outbound.name, { durable_name: brokerOutboundConsumer("demo"), filter_subject: outboundFilter("demo"), ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add(STREAMS.deadLetter.name, { durable_name: brokerDeadLetterConsumer("demo"), filter_subject: deadLetterSubject("demo"), ack_policy: AckPolicy.Explicit });

    const js = jetstream(nc);
    for (const action of sampleOutboundActions()) {
      await js.publish(outboundSubjectOf(action), encodeOutboundAction(action), { msgID: `${action.id}-${action.action}` });
      await js.publish(outboundSubjectOf({ ...action, bot: "other" }), encodeOutboundAction({ ...action, bot: "other" }), { msgID: `o-${action.id}-${action.action}` });
    }
    const info = await jsm.consumers.info(STREAMS.outbound.name, brokerOutboundConsumer("demo"));
    expect(info.num_pending).toBe(sampleOutboundActions().length);
    expect((await jsm.streams.info(STREAMS.outbound.name)).state.messages).toBe(2 * sampleOutboundActions().length);
  });

  it("stores config records under <bot>.<plugin> and watches one bot's keys", async () => {
    const kvm = new Kvm(nc);
    const plugins = await kvm.create(PLUGINS_BUCKET);
    const record = sampleMessages()["PluginConfigRecord"]![0] as Parameters<typeof encodePluginConfigRecord>[0];
    await plugins.put(pluginConfigKey("demo", "echo"), encodePluginConfigRecord(record));
    await plugins.put(pluginConfigKey("demo", "help"), encodePluginConfigRecord({ ...record, enabled: false }));
    await plugins.put(pluginConfigKey("other", "echo"), encodePluginConfigRecord(record));

    const keys: string[] = [];
    for await (const k of await plugins.keys(pluginConfigKeyFilter("demo"))) keys.push(k);
    expect(keys.sort()).toEqual(["demo.echo", "demo.help"]);
    expect(keys.map(parsePluginConfigKey)).toContainEqual({ bot: "demo", plugin: "help" });
    const entry = await plugins.get(pluginConfigKey("demo", "help"));
    expect(decodePluginConfigRecord(entry!.value).enabled).toBe(false);

    const manifests = await kvm.create(PLUGIN_MANIFESTS_BUCKET);
    const manifest = sampleMessages()["PluginManifest"]![0] as Parameters<typeof encodePluginManifest>[0];
    await manifests.put(pluginManifestKey("echo"), encodePluginManifest(manifest));
    const state = await kvm.create(pluginStateBucket("my-plugin_2"));
    await state.put("demo.x", new Uint8Array([1]));
    expect(Array.from((await state.get("demo.x"))?.value ?? [])).toEqual([1]);
  });

  it("routes broker endpoint subjects with several tokens", async () => {
    const sub = nc.subscribe(brokerSubject("demo", "dead-letters.list"), { max: 1, callback: (_err, msg) => {
        msg.respond(new TextEncoder().encode("ok"));
      },
    });
    const reply = await nc.request(brokerSubject("demo", "dead-letters.list"), new Uint8Array(), { timeout: 2_000 });
    expect(new TextDecoder().decode(reply.data)).toBe("ok");
    await sub.closed;
  });
});
