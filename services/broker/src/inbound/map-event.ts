// Turns a classified Session event into the protocol's InboundEvent(s). Pure: plain data in and out.
import {
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_FILE_NAME_LENGTH,
  MAX_INBOUND_TEXT_LENGTH,
  MAX_RECEIPT_TIMESTAMPS,
  PROTOCOL_VERSION,
  type AttachmentDescriptor,
  type InboundEvent,
} from "@session-bot/protocol";
import type { AttachmentInfo, SessionEvent } from "@session-bot/session";

/** An inbound attachment to remember (its pointer stays in the broker). */
export interface InboundAttachment {
  readonly id: string;
  readonly info: AttachmentInfo;
  readonly descriptor: AttachmentDescriptor;
}

/** What one Session event becomes. */
export type Mapped =
  | { readonly status: "events"; readonly events: InboundEvent[]; readonly attachments: InboundAttachment[]; readonly droppedAttachments: number }
  /** A kind the bus does not carry (disappearing-message settings, screenshots). */
  | { readonly status: "unsupported"; readonly kind: string };

function cut(s: string, max: number): string {
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join("");
}

/** Attachment id of the `index`-th attachment of the message `hash` (fits the protocol's id pattern). */
export function inboundAttachmentId(hash: string, index: number): string {
  return `in:${hash}:${index}`;
}

/** Maps `e` (received at `receivedAt`) for bot `bot`. */
export function mapSessionEvent(bot: string, e: SessionEvent, receivedAt: number): Mapped {
  const base = { v: PROTOCOL_VERSION, id: e.hash, bot, conversation: e.sender, sender: e.sender, timestamp: e.timestamp, receivedAt } as const;
  const name = (p: { displayName?: string } | undefined) =>
    p?.displayName !== undefined && p.displayName !== "" ? { senderName: cut(p.displayName, MAX_DISPLAY_NAME_LENGTH) } : {};
  switch (e.kind) {
    case "message": {
      const kept = e.attachments.slice(0, MAX_ATTACHMENTS_PER_MESSAGE);
      const attachments = kept.map((info, i): InboundAttachment => {
        const descriptor: AttachmentDescriptor = {
          id: inboundAttachmentId(e.hash, i),
          contentType: cut(info.contentType !== undefined && info.contentType !== "" ? info.contentType : "application/octet-stream", MAX_CONTENT_TYPE_LENGTH),
          size: Math.min(Math.max(0, Math.trunc(info.size)), MAX_ATTACHMENT_BYTES),
          ...(info.fileName !== undefined && info.fileName !== "" ? { fileName: cut(info.fileName, MAX_FILE_NAME_LENGTH) } : {}),
        };
        return { id: descriptor.id, info, descriptor };
      });
      const event: InboundEvent = {
        ...base,
        kind: "message",
        text: cut(e.text, MAX_INBOUND_TEXT_LENGTH),
        attachments: attachments.map((a) => a.descriptor),
        ...(e.quote ? { quote: { timestamp: e.quote.timestamp, author: e.quote.author } } : {}),
        ...name(e.profile),
      };
      return { status: "events", events: [event], attachments, droppedAttachments: e.attachments.length - kept.length };
    }
    case "reaction":
      return {
        status: "events",
        events: [{ ...base, kind: "reaction", op: e.action, emoji: e.emoji, target: { timestamp: e.target.timestamp, author: e.target.author }, ...name(e.profile) }],
        attachments: [],
        droppedAttachments: 0,
      };
    case "readReceipt": {
      // A long receipt becomes several events `<hash>:<n>`, each within the protocol's limit.
      const chunks: number[][] = [];
      for (let i = 0; i < e.timestamps.length; i += MAX_RECEIPT_TIMESTAMPS) chunks.push(e.timestamps.slice(i, i + MAX_RECEIPT_TIMESTAMPS));
      const events = chunks.map((timestamps, n): InboundEvent => ({ ...base, id: chunks.length === 1 ? e.hash : `${e.hash}:${n}`, kind: "read", timestamps }));
      return { status: "events", events, attachments: [], droppedAttachments: 0 };
    }
    case "typing":
      return { status: "events", events: [{ ...base, kind: "typing", state: e.typing ? "started" : "stopped" }], attachments: [], droppedAttachments: 0 };
    case "messageRequestResponse":
      return { status: "events", events: [{ ...base, kind: "request_response", approved: e.approved, ...name(e.profile) }], attachments: [], droppedAttachments: 0 };
    case "unsend":
      return { status: "events", events: [{ ...base, kind: "unsend", target: { timestamp: e.target.timestamp, author: e.target.author } }], attachments: [], droppedAttachments: 0 };
    default:
      return { status: "unsupported", kind: e.kind };
  }
}

/** Text kept in the message log for an event (message text; nothing for other kinds). */
export function logText(e: InboundEvent): string | null {
  return e.kind === "message" ? e.text : null;
}
