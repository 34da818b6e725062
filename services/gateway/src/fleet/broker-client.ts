/**
 * Requests to the broker's services-API endpoints (`sb.broker.<bot>.<endpoint>`): JSON in,
 * JSON out, checked against the DTO schema. Every failure becomes a `GatewayError` whose code
 * says how the caller recovers (retry later, fix the request, report a bug).
 */
import type { TSchema, Static } from "@sinclair/typebox";
import type { ValidateFunction } from "ajv";
import type { NatsConnection } from "@nats-io/transport-node";
import { GatewayError } from "../errors.js";
import { ajv } from "../validation/ajv.js";
import {
  BlockResult,
  BotInfo,
  ConversationPage,
  DeadLetterPage,
  ErrorReply,
  MessagePage,
  RetryResult,
  SendAccepted,
  type PageQuery,
  type ProfileUpdate,
  type SendText,
} from "../schemas/dto.js";
import { brokerSubject, type BrokerEndpoint } from "./names.js";
import { isNoResponders } from "./services-api.js";

const ERROR_CODE_HEADER = "Nats-Service-Error-Code";
const ERROR_HEADER = "Nats-Service-Error";

const validateErrorReply = ajv.compile<ErrorReply>(ErrorReply);

function compile<S extends TSchema>(schema: S): ValidateFunction<Static<S>> {
  return ajv.compile<Static<S>>(schema);
}

// Compiled once at start.
const validators = {
  info: compile(BotInfo),
  conversations: compile(ConversationPage),
  messages: compile(MessagePage),
  send: compile(SendAccepted),
  block: compile(BlockResult),
  profile: compile(BotInfo),
  deadLetters: compile(DeadLetterPage),
  retry: compile(RetryResult),
};

/** The broker's admin surface, as the routes see it. */
export interface BrokerApi {
  info(): Promise<BotInfo>;
  updateProfile(update: ProfileUpdate): Promise<BotInfo>;
  conversations(page: PageQuery): Promise<ConversationPage>;
  messages(conversationId: string, page: PageQuery): Promise<MessagePage>;
  block(conversationId: string): Promise<BlockResult>;
  unblock(conversationId: string): Promise<BlockResult>;
  send(text: SendText): Promise<SendAccepted>;
  deadLetters(page: PageQuery): Promise<DeadLetterPage>;
  retryDeadLetter(id: string): Promise<RetryResult>;
}

export interface BrokerClientOptions {
  bot: string;
  timeoutMs: number;
}

/** A `BrokerApi` over NATS request/reply. */
export function createBrokerClient(nc: NatsConnection, opts: BrokerClientOptions): BrokerApi {
  async function call<T>(endpoint: BrokerEndpoint, body: unknown, validate: ValidateFunction<T>): Promise<T> {
    const subject = brokerSubject(opts.bot, endpoint);
    if (nc.isClosed() || nc.isDraining()) throw new GatewayError("NATS_UNAVAILABLE", "the NATS connection is closed");
    let reply;
    try {
      reply = await nc.request(subject, JSON.stringify(body), { timeout: opts.timeoutMs });
    } catch (cause) {
      if (isNoResponders(cause)) throw new GatewayError("BROKER_UNAVAILABLE", `no broker answers on ${endpoint}`, { cause });
      if (isTimeout(cause)) throw new GatewayError("BROKER_TIMEOUT", `the broker did not answer ${endpoint} within ${opts.timeoutMs} ms`, { cause });
      throw new GatewayError("NATS_UNAVAILABLE", `request to the broker failed`, { cause });
    }
    const statusHeader = reply.headers?.get(ERROR_CODE_HEADER);
    if (statusHeader) {
      const status = Number(statusHeader);
      const upstream = parse(reply.data);
      const errorReply = validateErrorReply(upstream) ? upstream : undefined;
      const message = errorReply?.message ?? reply.headers?.get(ERROR_HEADER) ?? "the broker refused the request";
      const details = { upstreamStatus: status, ...(errorReply ? { upstreamCode: errorReply.code } : {}) };
      if (Number.isInteger(status) && status >= 400 && status < 500) {
        throw new GatewayError("BROKER_REJECTED", message, { details });
      }
      throw new GatewayError("BROKER_FAILED", message, { details });
    }
    const data = parse(reply.data);
    if (!validate(data)) {
      throw new GatewayError("BROKER_FAILED", `the broker's ${endpoint} reply does not match its schema`);
    }
    return data;
  }

  return {
    info: () => call("info", {}, validators.info),
    updateProfile: (update) => call("profile", update, validators.profile),
    conversations: (page) => call("conversations", page, validators.conversations),
    messages: (conversationId, page) => call("messages", { conversationId, ...page }, validators.messages),
    block: (conversationId) => call("block", { conversationId }, validators.block),
    unblock: (conversationId) => call("unblock", { conversationId }, validators.block),
    send: (text) => call("send", text, validators.send),
    deadLetters: (page) => call("dead-letters.list", page, validators.deadLetters),
    retryDeadLetter: (id) => call("dead-letters.retry", { id }, validators.retry),
  };
}

function parse(data: Uint8Array): unknown {
  if (data.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(data)) as unknown;
  } catch {
    return undefined;
  }
}

function isTimeout(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as { name?: string; cause?: unknown };
  return e.name === "TimeoutError" || (e.cause !== undefined && isTimeout(e.cause));
}
