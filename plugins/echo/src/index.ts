/** `/echo <text>` answers with the text; optionally (config `echoAll`) echoes every plain message. */
import { definePlugin, Type } from "@session-bot/plugin-sdk";

export default definePlugin({
  name: "echo",
  version: "1.0.0",
  description: "Echoes text back.",
  configSchema: Type.Object(
    {
      echoAll: Type.Boolean({ default: false, description: "Also echo every message that is not a command." }),
      prefix: Type.String({ default: "", maxLength: 50, description: "Put before every echo." }),
    },
    { additionalProperties: false },
  ),
  commands: {
    echo: {
      description: "Repeats your text.",
      usage: "<text>",
      handler: (ctx) => ctx.reply(ctx.command.argText === "" ? "Usage: /echo <text>" : `${ctx.config.prefix}${ctx.command.argText}`),
    },
  },
  onMessage: async (ctx) => {
    if (ctx.config.echoAll && ctx.command === undefined && ctx.text.trim() !== "") await ctx.reply(`${ctx.config.prefix}${ctx.text}`);
  },
});
