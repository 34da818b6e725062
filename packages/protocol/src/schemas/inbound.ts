/** `InboundEvent`: what the broker publishes to `SB_INBOUND` for each classified Session message. */
import { Type, type Static } from "@sinclair/typebox";
import {
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_EMOJI_LENGTH,
  MAX_INBOUND_TEXT_LENGTH,
  MAX_RECEIPT_TIMESTAMPS,
} from "../limits.js";
import { defineCodec } from "../validation.js";
import { AttachmentDescriptorSchema } from "./attachment.js";
import { MessageRefSchema, botName, discriminatedUnion, id, sessionId, tagValues, timestampMs, versionField } from "./common.js";

const common = () => ({
  v: versionField(),
  id: id(
    "Event id = the Session message hash (43 base64 chars), also the Nats-Msg-Id; `<hash>:<n>` when one Session message yields several events.",
  ),
  bot: botName(),
  conversation: sessionId("The peer's Session ID: the 1:1 conversation this event belongs to (and the partition key)."),
  sender: sessionId("Session ID of the sender (equals conversation for 1:1 messages from the peer)."),
  timestamp: timestampMs("Sent timestamp T (Envelope.timestamp, ms): the message's identity for quotes, reactions and receipts."),
  receivedAt: timestampMs("When the broker received and decrypted the message (ms)."),
});

const senderName = () =>
  Type.Optional(
    Type.String({ maxLength: MAX_DISPLAY_NAME_LENGTH, description: "Sender's self-chosen display name from its profile (untrusted text)." }),
  );

/** A visible message: text, attachments, optional quote. */
export const MessageEventSchema = Type.Object(
  {
    ...common(),
    kind: Type.Literal("message"),
    text: Type.String({ maxLength: MAX_INBOUND_TEXT_LENGTH, description: "Message body; may be empty when the message only carries attachments." }),
    attachments: Type.Array(AttachmentDescriptorSchema, {
      maxItems: MAX_ATTACHMENTS_PER_MESSAGE,
      description: "Attachments (metadata only; fetch bytes with attachments.get). Empty when none.",
    }),
    quote: Type.Optional(
      Type.Object(
        {
          timestamp: timestampMs("Sent timestamp of the quoted message."),
          author: sessionId("Author of the quoted message."),
          text: Type.Optional(Type.String({ maxLength: MAX_INBOUND_TEXT_LENGTH, description: "Quoted text when the sender included it (legacy clients) or the broker knows it." })),
        },
        { description: "The message this one replies to." },
      ),
    ),
    senderName: senderName(),
  },
  { title: "MessageEvent" },
);
/** A visible message. */
export type MessageEvent = Static<typeof MessageEventSchema>;

/** A reaction added to or removed from a message. */
export const ReactionEventSchema = Type.Object(
  {
    ...common(),
    kind: Type.Literal("reaction"),
    op: Type.Union([Type.Literal("add"), Type.Literal("remove")], { description: "add = REACT, remove = REMOVE." }),
    emoji: Type.String({ minLength: 1, maxLength: MAX_EMOJI_LENGTH, description: "The emoji." }),
    target: MessageRefSchema,
    senderName: senderName(),
  },
  { title: "ReactionEvent" },
);
/** A reaction added or removed. */
export type ReactionEvent = Static<typeof ReactionEventSchema>;

/** A read receipt: the peer read some of the bot's messages. */
export const ReadEventSchema = Type.Object(
  {
    ...common(),
    kind: Type.Literal("read"),
    timestamps: Type.Array(timestampMs("Sent timestamp of a bot message that was read."), {
      minItems: 1,
      maxItems: MAX_RECEIPT_TIMESTAMPS,
      description: "Sent timestamps (T) of the bot's messages the peer read.",
    }),
  },
  { title: "ReadEvent" },
);
/** A read receipt. */
export type ReadEvent = Static<typeof ReadEventSchema>;

/** A typing indicator. */
export const TypingEventSchema = Type.Object(
  {
    ...common(),
    kind: Type.Literal("typing"),
    state: Type.Union([Type.Literal("started"), Type.Literal("stopped")], { description: "Typing started or stopped." }),
  },
  { title: "TypingEvent" },
);
/** A typing indicator. */
export type TypingEvent = Static<typeof TypingEventSchema>;

/** A message-request response: the peer accepted a conversation (the bot wrote first). */
export const RequestResponseEventSchema = Type.Object(
  {
    ...common(),
    kind: Type.Literal("request_response"),
    approved: Type.Boolean({ description: "Always true in practice (clients ignore false)." }),
    senderName: senderName(),
  },
  { title: "RequestResponseEvent" },
);
/** A message-request response. */
export type RequestResponseEvent = Static<typeof RequestResponseEventSchema>;

/** An unsend (delete for everyone) request for one message. */
export const UnsendEventSchema = Type.Object(
  {
    ...common(),
    kind: Type.Literal("unsend"),
    target: MessageRefSchema,
  },
  { title: "UnsendEvent" },
);
/** An unsend request. */
export type UnsendEvent = Static<typeof UnsendEventSchema>;

const variants = [MessageEventSchema, ReactionEventSchema, ReadEventSchema, TypingEventSchema, RequestResponseEventSchema, UnsendEventSchema];

/** Every `kind` of {@link InboundEvent}, in schema order. */
export const INBOUND_KINDS = ["message", "reaction", "read", "typing", "request_response", "unsend"] as const;
/** The `kind` of an inbound event (also the last subject token `sb.in.<bot>.<partition>.<kind>`). */
export type InboundKind = (typeof INBOUND_KINDS)[number];

/** The inbound event union, discriminated by `kind`. */
export const InboundEventSchema = discriminatedUnion("kind", variants, {
  title: "InboundEvent",
  description: "One classified Session message, published by the broker on sb.in.<bot>.<partition>.<kind> (stream SB_INBOUND).",
});
/** One classified Session message, published by the broker. Narrow with `event.kind`. */
export type InboundEvent = Static<typeof InboundEventSchema>;

const codec = defineCodec("InboundEvent", InboundEventSchema, { tag: { property: "kind", values: tagValues("kind", variants) } });

/** Returns the value typed as {@link InboundEvent} or throws `ProtocolError`. */
export const parseInboundEvent = codec.parse;
/** Type guard for {@link InboundEvent}. */
export const isInboundEvent = codec.is;
/** UTF-8 JSON → {@link InboundEvent}, or throws `ProtocolError`. */
export const decodeInboundEvent = codec.decode;
/** {@link InboundEvent} → UTF-8 JSON (validated first). */
export const encodeInboundEvent = codec.encode;

/** The codec (registry use). */
export const inboundEventCodec = codec;
