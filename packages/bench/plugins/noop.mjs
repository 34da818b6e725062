// Bench plugin (plain ESM, loaded by plugin-host from PLUGIN_HOST_PLUGIN_DIR): does no work and
// answers every message with one short text, so each inbound event makes exactly one OutboundAction.
export default {
  name: "benchnoop",
  version: "1.0.0",
  description: "Bench: one reply per message, no work.",
  async onMessage(ctx) {
    await ctx.reply("ok");
  },
};
