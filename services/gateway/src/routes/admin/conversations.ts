import type { Fleet } from "../../fleet/fleet.js";
import { ref } from "../../schemas/api.js";
import { Ack, ConversationPage, ConversationParams, MessageLogPage, MessageQuery, PageQuery, SendText } from "../../schemas/dto.js";
import type { App } from "../shared.js";

/** Conversations, their message logs, blocking, sending a text. */
export function conversationRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/conversations",
    {
      schema: {
        tags: ["conversations"],
        summary: "Conversations of the bot, most recent first, paged (`nextCursor` → `cursor`).",
        querystring: PageQuery,
        response: { 200: ref(ConversationPage) },
      },
    },
    (request) => deps.fleet.broker.conversations(request.query),
  );

  app.get(
    "/conversations/:id/messages",
    {
      schema: {
        tags: ["conversations"],
        summary: "Message log of one conversation (id = the peer's Session ID), newest first, paged.",
        params: ConversationParams,
        querystring: MessageQuery,
        response: { 200: ref(MessageLogPage) },
      },
    },
    (request) => deps.fleet.broker.messages(request.params.id, request.query),
  );

  app.post(
    "/conversations/:id/block",
    {
      schema: {
        tags: ["conversations"],
        summary: "Block a conversation: the broker drops its messages.",
        params: ConversationParams,
        response: { 200: ref(Ack) },
      },
    },
    (request) => deps.fleet.broker.block(request.params.id),
  );

  app.post(
    "/conversations/:id/unblock",
    {
      schema: {
        tags: ["conversations"],
        summary: "Unblock a conversation.",
        params: ConversationParams,
        response: { 200: ref(Ack) },
      },
    },
    (request) => deps.fleet.broker.unblock(request.params.id),
  );

  app.post(
    "/messages",
    {
      schema: {
        tags: ["conversations"],
        summary: "Send a text from the bot to a conversation (the broker queues it on SB_OUTBOUND).",
        description: "Give an `id` to make retries of the same POST idempotent; without one the gateway makes a fresh id.",
        body: ref(SendText),
        response: { 202: ref(Ack) },
      },
    },
    async (request, reply) => reply.code(202).send(await deps.fleet.broker.send(request.body)),
  );
}
