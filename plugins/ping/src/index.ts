/** `/ping` answers with the bus round-trip time (one NATS round trip from the worker) and the event's age. */
import { definePlugin } from "@session-bot/plugin-sdk";

/** Formats milliseconds with one decimal below 10 ms. */
export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export default definePlugin({
  name: "ping",
  version: "1.0.0",
  description: "Answers /ping with the bus round-trip time.",
  commands: {
    ping: {
      description: "Measures the bus round trip.",
      handler: async (ctx) => {
        const rtt = await ctx.host.rtt();
        const age = Math.max(0, ctx.now() - ctx.event.receivedAt);
        await ctx.reply(`pong — bus round trip ${formatMs(rtt)}, event waited ${formatMs(age)} on the bus (worker ${ctx.host.instance})`);
      },
    },
  },
});
