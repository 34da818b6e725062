// Binds the AdminApi to the NATS services API: service `sb-broker` (metadata `bot`), endpoints at
// sb.broker.<bot>.<endpoint>, discoverable with $SRV.PING/INFO/STATS. Decoding, encoding and the
// mapping of errors to service error headers live here and nowhere else.
import { Svcm, type Service, type ServiceMsg } from "@nats-io/services";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import {
  BROKER_ENDPOINTS,
  BROKER_SERVICE,
  HEADER_ERROR_CODE,
  REPLY_ERROR_CODES,
  brokerQueueGroup,
  brokerSubject,
  decodeConversationRequest,
  decodeDeadLetterRetryRequest,
  decodeEmptyRequest,
  decodeMessageLogQuery,
  decodeOutboundAction,
  decodePageRequest,
  decodeProfileUpdate,
  encodeErrorReply,
  errorReply,
  errorReplyFromProtocolError,
  isProtocolError,
  type ErrorReply,
} from "@session-bot/protocol";
import type { Logger } from "pino";
import type { BrokerError } from "../errors.js";
import type { AdminApi } from "./api.js";

const encoder = new TextEncoder();

/** ErrorReply and the numeric service error code for any error of a handler. */
export function toErrorReply(err: unknown): { status: number; reply: ErrorReply } {
  if (isProtocolError(err)) return { status: err.code === "PROTOCOL_TOO_LARGE" ? 413 : 400, reply: errorReplyFromProtocolError(err) };
  if (err instanceof RangeError) return { status: 400, reply: errorReply(REPLY_ERROR_CODES.BAD_REQUEST, err.message) };
  const code = (err as Partial<BrokerError>).code;
  const message = err instanceof Error ? err.message : "internal error";
  switch (code) {
    case "BROKER_NOT_FOUND":
      return { status: 404, reply: errorReply(REPLY_ERROR_CODES.NOT_FOUND, message) };
    case "BROKER_REQUEST_INVALID":
    case "BROKER_ACTION_REJECTED":
      return { status: 400, reply: errorReply(REPLY_ERROR_CODES.BAD_REQUEST, message) };
    case "BROKER_NATS_SETUP":
      return { status: 503, reply: errorReply(REPLY_ERROR_CODES.UNAVAILABLE, "NATS is unavailable") };
    default:
      return { status: 500, reply: errorReply(REPLY_ERROR_CODES.INTERNAL, "internal error") };
  }
}

type Handler = (data: Uint8Array) => unknown;

/** Registers the admin endpoints; returns the running service (stop it on shutdown). */
export async function startAdminService(nc: NatsConnection, bot: string, version: string, api: AdminApi, log: Logger): Promise<Service> {
  // @nats-io/services is typed against its own nats-core release; the connection is the same object.
  const svcm = new Svcm(nc as unknown as ConstructorParameters<typeof Svcm>[0]);
  const svc = await svcm.add({
    name: BROKER_SERVICE,
    version,
    description: "session_bot broker: admin endpoints of one bot",
    metadata: { bot },
    queue: brokerQueueGroup(bot),
    // $SRV.STATS endpoint data: the same counters as `info`.
    statsHandler: () => Promise.resolve(api.info().counters),
  });
  const endpoints: [string, Handler][] = [
    [BROKER_ENDPOINTS.info, (b) => (decodeEmptyRequest(b), api.info())],
    [BROKER_ENDPOINTS.conversations, (b) => api.conversations(decodePageRequest(b))],
    [BROKER_ENDPOINTS.messages, (b) => api.messages(decodeMessageLogQuery(b))],
    [BROKER_ENDPOINTS.send, (b) => api.send(decodeOutboundAction(b))],
    [BROKER_ENDPOINTS.block, (b) => api.block(decodeConversationRequest(b).conversation)],
    [BROKER_ENDPOINTS.unblock, (b) => api.unblock(decodeConversationRequest(b).conversation)],
    [BROKER_ENDPOINTS.profile, (b) => api.profile(decodeProfileUpdate(b).displayName)],
    [BROKER_ENDPOINTS.deadLettersList, (b) => api.deadLetters(decodePageRequest(b))],
    [BROKER_ENDPOINTS.deadLettersRetry, (b) => api.retryDeadLetter(decodeDeadLetterRetryRequest(b).id)],
  ];
  for (const [endpoint, handler] of endpoints) {
    svc.addEndpoint(endpoint.replace(/\./g, "-"), {
      subject: brokerSubject(bot, endpoint),
      handler: (err, msg) => {
        if (err) {
          log.error({ err, endpoint }, "admin endpoint stopped");
          return;
        }
        void answer(msg, endpoint, handler, log);
      },
    });
  }
  return svc;
}

async function answer(msg: ServiceMsg, endpoint: string, handler: Handler, log: Logger): Promise<void> {
  try {
    const result = await handler(msg.data);
    msg.respond(encoder.encode(JSON.stringify(result)));
  } catch (err) {
    const { status, reply } = toErrorReply(err);
    if (status >= 500) log.error({ err, endpoint }, "admin request failed");
    else log.info({ endpoint, code: reply.code }, "admin request refused");
    const h = natsHeaders();
    h.set(HEADER_ERROR_CODE, reply.code);
    type RespondOpts = NonNullable<Parameters<ServiceMsg["respondError"]>[3]>;
    msg.respondError(status, reply.message.replace(/[\r\n]+/g, " "), encodeErrorReply(reply), { headers: h as unknown as RespondOpts["headers"] });
  }
}
