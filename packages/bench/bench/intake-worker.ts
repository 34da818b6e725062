// A model of plugin-host's intake, for the scaling diagnostic (bench/intake-model.ts): pulls the given
// partition consumers of stream MODEL_IN the way plugin-host does (consume with max_messages 1, one
// event at a time per partition), burns a fixed amount of CPU synchronously, publishes a reply with
// ack, then ackAck()s. argv: natsUrl, partitions (comma-separated), iters, yield (0|1).
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { burn } from "../plugins-cpu/cpu.mjs";

const [url, parts, iters, yieldFirst] = process.argv.slice(2) as [string, string, string, string];
const nc = await connect({ servers: url });
const js = jetstream(nc);
for (const p of parts.split(",").map(Number)) {
  const messages = await (await js.consumers.get("MODEL_IN", `p${p}`)).consume({ max_messages: 1, expires: 5_000 });
  void (async () => {
    for await (const m of messages) {
      if (yieldFirst === "1") await new Promise((r) => setImmediate(r));
      burn(Number(iters));
      await js.publish(`model.out.${p}`, m.data);
      await m.ackAck();
    }
  })();
}
process.send?.("ready");
