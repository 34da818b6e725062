/** `OutboundAction`: what plugins (and the gateway) publish to `SB_OUTBOUND` for the broker to carry out. */
import { Type, type Static } from "@sinclair/typebox";
import { MAX_ATTACHMENTS_PER_MESSAGE, MAX_DISPLAY_NAME_LENGTH, MAX_EMOJI_LENGTH, MAX_RECEIPT_TIMESTAMPS, MAX_TEXT_LENGTH } from "../limits.js";
import { defineCodec } from "../validation.js";
import { MessageRefSchema, botName, discriminatedUnion, id, pluginName, sessionId, tagValues, timestampMs, versionField } from "./common.js";

const common = () => ({
  v: versionField(),
  id: id("Idempotency key, also the Nats-Msg-Id. Derive it deterministically (see deriveActionId) so a redelivered event produces the same ids."),
  bot: botName(),
  causationId: Type.Optional(id("Id of the InboundEvent that caused this action, if any.")),
  plugin: Type.Optional(pluginName("Name of the plugin that produced the action (absent for gateway/admin actions).")),
});

const conversation = () => sessionId("Session ID of the recipient (the 1:1 conversation).");

/**
 * Send a visible message: text and/or attachments, optionally quoting a message. At least one of
 * a non-empty `text` or a non-empty `attachments` is required.
 */
export const SendActionSchema = Type.Object(
  {
    ...common(),
    action: Type.Literal("send"),
    conversation: conversation(),
    text: Type.String({ maxLength: MAX_TEXT_LENGTH, description: "Message text (≤ 2,000 characters); may be empty when attachments are given." }),
    attachments: Type.Optional(
      Type.Array(id("An attachment id returned by attachments.put (or of an inbound attachment)."), {
        maxItems: MAX_ATTACHMENTS_PER_MESSAGE,
        description: "Attachment ids to send.",
      }),
    ),
    quote: Type.Optional(MessageRefSchema),
  },
  {
    title: "SendAction",
    anyOf: [
      { properties: { text: { type: "string", minLength: 1 } } },
      { required: ["attachments"], properties: { attachments: { type: "array", minItems: 1 } } },
    ],
  },
);
/** Send text and/or attachments. */
export type SendAction = Static<typeof SendActionSchema>;

/** Add or remove a reaction on a message. */
export const ReactActionSchema = Type.Object(
  {
    ...common(),
    action: Type.Literal("react"),
    conversation: conversation(),
    op: Type.Union([Type.Literal("add"), Type.Literal("remove")], { description: "add or remove the reaction." }),
    emoji: Type.String({ minLength: 1, maxLength: MAX_EMOJI_LENGTH, description: "The emoji." }),
    target: MessageRefSchema,
  },
  { title: "ReactAction" },
);
/** Add or remove a reaction. */
export type ReactAction = Static<typeof ReactActionSchema>;

/** Send a read receipt for some of the peer's messages. */
export const ReadActionSchema = Type.Object(
  {
    ...common(),
    action: Type.Literal("read"),
    conversation: conversation(),
    timestamps: Type.Array(timestampMs("Sent timestamp of a peer message to mark read."), {
      minItems: 1,
      maxItems: MAX_RECEIPT_TIMESTAMPS,
      description: "Sent timestamps (T) of the peer's messages being marked read.",
    }),
  },
  { title: "ReadAction" },
);
/** Mark messages read. */
export type ReadAction = Static<typeof ReadActionSchema>;

/** Show or clear the typing indicator. */
export const TypingActionSchema = Type.Object(
  {
    ...common(),
    action: Type.Literal("typing"),
    conversation: conversation(),
    state: Type.Union([Type.Literal("started"), Type.Literal("stopped")], { description: "Typing started or stopped." }),
  },
  { title: "TypingAction" },
);
/** Typing indicator on/off. */
export type TypingAction = Static<typeof TypingActionSchema>;

/** Accept the conversation (message request) with the peer. */
export const AcceptActionSchema = Type.Object(
  {
    ...common(),
    action: Type.Literal("accept"),
    conversation: conversation(),
  },
  { title: "AcceptAction" },
);
/** Accept a message request. */
export type AcceptAction = Static<typeof AcceptActionSchema>;

/** Change the bot's display name (bot-wide: no conversation). */
export const SetDisplayNameActionSchema = Type.Object(
  {
    ...common(),
    action: Type.Literal("set_display_name"),
    displayName: Type.String({ minLength: 1, maxLength: MAX_DISPLAY_NAME_LENGTH, description: "The new display name." }),
  },
  { title: "SetDisplayNameAction" },
);
/** Change the bot's display name. */
export type SetDisplayNameAction = Static<typeof SetDisplayNameActionSchema>;

const variants = [SendActionSchema, ReactActionSchema, ReadActionSchema, TypingActionSchema, AcceptActionSchema, SetDisplayNameActionSchema];

/** Every `action` of {@link OutboundAction}, in schema order. */
export const OUTBOUND_ACTIONS = ["send", "react", "read", "typing", "accept", "set_display_name"] as const;
/** The `action` of an outbound action (also the last subject token `sb.out.<bot>.<action>`). */
export type OutboundActionName = (typeof OUTBOUND_ACTIONS)[number];

/** The outbound action union, discriminated by `action`. */
export const OutboundActionSchema = discriminatedUnion("action", variants, {
  title: "OutboundAction",
  description: "One thing for the broker to do on Session, published on sb.out.<bot>.<action> (stream SB_OUTBOUND).",
});
/** One thing for the broker to do. Narrow with `action.action`. */
export type OutboundAction = Static<typeof OutboundActionSchema>;

const codec = defineCodec("OutboundAction", OutboundActionSchema, { tag: { property: "action", values: tagValues("action", variants) } });

/** Returns the value typed as {@link OutboundAction} or throws `ProtocolError`. */
export const parseOutboundAction = codec.parse;
/** Type guard for {@link OutboundAction}. */
export const isOutboundAction = codec.is;
/** UTF-8 JSON → {@link OutboundAction}, or throws `ProtocolError`. */
export const decodeOutboundAction = codec.decode;
/** {@link OutboundAction} → UTF-8 JSON (validated first). */
export const encodeOutboundAction = codec.encode;

/** The codec (registry use). */
export const outboundActionCodec = codec;
