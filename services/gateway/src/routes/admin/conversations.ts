import { Type } from "@sinclair/typebox";
import type { Fleet } from "../../fleet/fleet.js";
import { ref } from "../../schemas/api.js";
import { BlockResult, ConversationPage, Id, MessagePage, PageQuery, SendAccepted, SendText } from "../../schemas/dto.js";
import type { App } from "../shared.js";

const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

/** Conversations, their message logs, blocking, sending a text. */
export function conversationRoutes(app: App, deps: { fleet: Fleet }): void {
  app.get(
    "/conversations",
    {
      schema: {
        tags: ["conversations"],
        summary: "Conversations of the bot, newest first, paged.",
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
        summary: "Message log of one conversation, newest first, paged.",
        params: IdParams,
        querystring: PageQuery,
        response: { 200: ref(MessagePage) },
      },
    },
    (request) => deps.fleet.broker.messages(request.params.id, request.query),
  );

  app.post(
    "/conversations/:id/block",
    {
      schema: {
        tags: ["conversations"],
        summary: "Block a conversation: the bot ignores its messages.",
        params: IdParams,
        response: { 200: ref(BlockResult) },
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
        params: IdParams,
        response: { 200: ref(BlockResult) },
      },
    },
    (request) => deps.fleet.broker.unblock(request.params.id),
  );

  app.post(
    "/messages",
    {
      schema: {
        tags: ["conversations"],
        summary: "Send a text from the bot to a conversation (queued on SB_OUTBOUND by the broker).",
        body: ref(SendText),
        response: { 202: ref(SendAccepted) },
      },
    },
    async (request, reply) => reply.code(202).send(await deps.fleet.broker.send(request.body)),
  );
}
