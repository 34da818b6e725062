/**
 * Attachment tools: `/hash` answers with the SHA-256 of every file sent with the command (as its
 * caption); `/qr <text>` answers with a PNG QR code of the text. Bytes travel through the broker
 * (`ctx.attachments.get/put`), never inside a bus message.
 */
import { createHash } from "node:crypto";
import { definePlugin, Type } from "@session-bot/plugin-sdk";
import QRCode from "qrcode";

/** A PNG QR code of `text`. */
export async function qrPng(text: string, width: number): Promise<Uint8Array> {
  return new Uint8Array(await QRCode.toBuffer(text, { type: "png", errorCorrectionLevel: "M", margin: 2, width }));
}

export default definePlugin({
  name: "files",
  version: "1.0.0",
  description: "Hashes files you send and makes QR codes.",
  configSchema: Type.Object(
    {
      qrWidth: Type.Integer({ minimum: 64, maximum: 2_048, default: 512, description: "QR image width in pixels." }),
      maxQrText: Type.Integer({ minimum: 1, maximum: 1_000, default: 500, description: "Longest text encoded in a QR code." }),
    },
    { additionalProperties: false },
  ),
  commands: {
    hash: {
      description: "SHA-256 of the files sent with this command (send a file with /hash as its caption).",
      handler: async (ctx) => {
        const files = ctx.event.attachments;
        if (files.length === 0) return ctx.reply("Send a file with /hash as its caption and I will answer with its SHA-256.");
        const lines: string[] = [];
        for (const a of files) {
          const bytes = await ctx.attachments.get(a);
          lines.push(`${createHash("sha256").update(bytes).digest("hex")}  ${a.fileName ?? a.id} (${bytes.byteLength} bytes)`);
        }
        await ctx.reply({ text: lines.join("\n"), quote: true });
      },
    },
    qr: {
      description: "A QR code of your text, as a PNG.",
      usage: "<text>",
      handler: async (ctx) => {
        const text = ctx.command.argText;
        if (text === "") return ctx.reply("Usage: /qr <text>");
        if (text.length > ctx.config.maxQrText) return ctx.reply(`That is too long for a QR code here (at most ${ctx.config.maxQrText} characters).`);
        const png = await qrPng(text, ctx.config.qrWidth);
        const attachment = await ctx.attachments.put(png, { contentType: "image/png", fileName: "qr.png" });
        await ctx.reply({ text: "", attachments: [attachment] });
      },
    },
  },
});
