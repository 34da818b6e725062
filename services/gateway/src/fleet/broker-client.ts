/**
 * Requests to the broker's services-API endpoints (`sb.broker.<bot>.<endpoint>`): protocol
 * documents in, protocol documents out, each reply checked by protocol's codec. Every failure
 * becomes a `GatewayError` whose code says how the caller recovers (retry later, fix the
 * request, report a bug).
 */
import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  BROKER_ENDPOINTS,
  HEADER_ERROR_CODE,
  HEADER_SERVICE_ERROR,
  HEADER_SERVICE_ERROR_CODE,
  PROTOCOL_VERSION,
  brokerSubject,
  isAck,
  isBotInfo,
  isConversationPage,
  isDeadLetterPage,
  isErrorReply,
  isMessageLogPage,
  type Ack,
  type BotInfo,
  type BrokerEndpoint,
  type ConversationPage,
  type DeadLetterPage,
  type MessageLogPage,
  type SendAction,
} from "@session-bot/protocol";
import { GatewayError } from "../errors.js";
import type { MessageQuery, PageQuery, ProfileUpdate, SendText } from "../schemas/dto.js";
import { isNoResponders } from "./services-api.js";

/** The broker's admin surface, as the routes see it. */
export interface BrokerApi {
  info(): Promise<BotInfo>;
  updateProfile(update: ProfileUpdate): Promise<BotInfo>;
  conversations(page: PageQuery): Promise<ConversationPage>;
  messages(conversation: string, query: MessageQuery): Promise<MessageLogPage>;
  block(conversation: string): Promise<Ack>;
  unblock(conversation: string): Promise<Ack>;
  send(text: SendText): Promise<Ack>;
  deadLetters(page: PageQuery): Promise<DeadLetterPage>;
  retryDeadLetter(id: string): Promise<Ack>;
}

export interface BrokerClientOptions {
  bot: string;
  timeoutMs: number;
}

/** A `BrokerApi` over NATS request/reply. */
export function createBrokerClient(nc: NatsConnection, opts: BrokerClientOptions): BrokerApi {
  async function call<T>(endpoint: BrokerEndpoint, body: object, valid: (v: unknown) => v is T): Promise<T> {
    const subject = brokerSubject(opts.bot, endpoint);
    if (nc.isClosed() || nc.isDraining()) throw new GatewayError("NATS_UNAVAILABLE", "the NATS connection is closed");
    let reply;
    try {
      reply = await nc.request(subject, JSON.stringify({ v: PROTOCOL_VERSION, ...body }), { timeout: opts.timeoutMs });
    } catch (cause) {
      if (isNoResponders(cause)) throw new GatewayError("BROKER_UNAVAILABLE", `no broker answers on ${endpoint}`, { cause });
      if (isTimeout(cause)) throw new GatewayError("BROKER_TIMEOUT", `the broker did not answer ${endpoint} within ${opts.timeoutMs} ms`, { cause });
      throw new GatewayError("NATS_UNAVAILABLE", "request to the broker failed", { cause });
    }
    const statusHeader = reply.headers?.get(HEADER_SERVICE_ERROR_CODE);
    const codeHeader = reply.headers?.get(HEADER_ERROR_CODE);
    if (statusHeader || codeHeader) {
      const status = Number(statusHeader);
      const upstream = parse(reply.data);
      const errorReply = isErrorReply(upstream) ? upstream : undefined;
      const message = errorReply?.message || reply.headers?.get(HEADER_SERVICE_ERROR) || "the broker refused the request";
      const upstreamCode = errorReply?.code ?? (codeHeader || undefined);
      const details = { ...(Number.isInteger(status) ? { upstreamStatus: status } : {}), ...(upstreamCode ? { upstreamCode } : {}) };
      if (Number.isInteger(status) && status >= 400 && status < 500) throw new GatewayError("BROKER_REJECTED", message, { details });
      if (!statusHeader && upstreamCode && CLIENT_FAULT_CODES.has(upstreamCode)) throw new GatewayError("BROKER_REJECTED", message, { details });
      throw new GatewayError("BROKER_FAILED", message, { details });
    }
    const data = parse(reply.data);
    if (!valid(data)) throw new GatewayError("BROKER_FAILED", `the broker's ${endpoint} reply does not match its schema`);
    return data;
  }

  return {
    info: () => call(BROKER_ENDPOINTS.info, {}, isBotInfo),
    updateProfile: (update) => call(BROKER_ENDPOINTS.profile, update, isBotInfo),
    conversations: (page) => call(BROKER_ENDPOINTS.conversations, page, isConversationPage),
    messages: (conversation, query) => call(BROKER_ENDPOINTS.messages, { ...query, conversation }, isMessageLogPage),
    block: (conversation) => call(BROKER_ENDPOINTS.block, { conversation }, isAck),
    unblock: (conversation) => call(BROKER_ENDPOINTS.unblock, { conversation }, isAck),
    send: (text) => {
      const action: Omit<SendAction, "v"> = {
        // A client that retries with the same id gets the same action (JetStream dedup at the broker).
        id: text.id ?? `gw-${randomUUID()}`,
        bot: opts.bot,
        action: "send",
        conversation: text.conversation,
        text: text.text,
      };
      return call(BROKER_ENDPOINTS.send, action, isAck);
    },
    deadLetters: (page) => call(BROKER_ENDPOINTS.deadLettersList, page, isDeadLetterPage),
    retryDeadLetter: (id) => call(BROKER_ENDPOINTS.deadLettersRetry, { id }, isAck),
  };
}

/** Reply codes (protocol's REPLY_ERROR_CODES and ProtocolError codes) that mean "fix the request". */
const CLIENT_FAULT_CODES = new Set(["BAD_REQUEST", "NOT_FOUND", "TOO_LARGE", "FORBIDDEN", "PROTOCOL_INVALID", "PROTOCOL_BAD_JSON", "PROTOCOL_TOO_LARGE"]);

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
