/**
 * The HTTP edge of errors: every failure leaves as `application/problem+json` (RFC 9457) with
 * a stable `code`. This is the only place a `GatewayErrorCode` becomes an HTTP status.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatewayError, isGatewayError, type GatewayErrorCode } from "../errors.js";
import type { Problem } from "../schemas/api.js";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

const STATUS: Record<GatewayErrorCode, number> = {
  CONFIG_INVALID: 500,
  AUTH_MISSING: 401,
  AUTH_INVALID: 401,
  RATE_LIMITED: 429,
  VALIDATION_FAILED: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_FOUND: 404,
  PLUGIN_NOT_FOUND: 404,
  PLUGIN_CONFIG_INVALID: 422,
  PLUGIN_MANIFEST_INVALID: 502,
  PLUGIN_CONFLICT: 409,
  NATS_UNAVAILABLE: 503,
  BROKER_UNAVAILABLE: 503,
  BROKER_TIMEOUT: 504,
  BROKER_REJECTED: 400,
  BROKER_FAILED: 502,
  JETSTREAM_FAILED: 503,
  INTERNAL: 500,
};

const TITLE: Record<GatewayErrorCode, string> = {
  CONFIG_INVALID: "Invalid configuration",
  AUTH_MISSING: "Authentication required",
  AUTH_INVALID: "Invalid credentials",
  RATE_LIMITED: "Too many requests",
  VALIDATION_FAILED: "Invalid request",
  BODY_TOO_LARGE: "Request body too large",
  UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
  NOT_FOUND: "Not found",
  PLUGIN_NOT_FOUND: "Plugin not found",
  PLUGIN_CONFIG_INVALID: "Invalid plugin configuration",
  PLUGIN_MANIFEST_INVALID: "Unusable plugin manifest",
  PLUGIN_CONFLICT: "Concurrent plugin update",
  NATS_UNAVAILABLE: "Message bus unavailable",
  BROKER_UNAVAILABLE: "Broker unavailable",
  BROKER_TIMEOUT: "Broker timeout",
  BROKER_REJECTED: "Refused by the broker",
  BROKER_FAILED: "Broker failure",
  JETSTREAM_FAILED: "JetStream unavailable",
  INTERNAL: "Internal error",
};

/** protocol's REPLY_ERROR_CODES, when the broker sent no `Nats-Service-Error-Code`. */
const UPSTREAM_CODE_STATUS: Record<string, number> = { NOT_FOUND: 404, FORBIDDEN: 403, TOO_LARGE: 413 };

/** The status a gateway error is answered with. */
export function statusOf(err: GatewayError): number {
  if (err.code === "BROKER_REJECTED") {
    const s = err.details.upstreamStatus;
    // Only statuses a client can act on pass through; anything else is a plain 400.
    if (s !== undefined && [400, 403, 404, 409, 410, 413, 422, 429].includes(s)) return s;
    return UPSTREAM_CODE_STATUS[err.details.upstreamCode ?? ""] ?? 400;
  }
  return STATUS[err.code];
}

/** The problem document of a gateway error. */
export function toProblem(err: GatewayError, instance?: string): Problem {
  return {
    type: `urn:session-bot:gateway:problem:${err.code.toLowerCase().replaceAll("_", "-")}`,
    title: TITLE[err.code],
    status: statusOf(err),
    detail: err.message,
    code: err.code,
    ...(instance === undefined ? {} : { instance }),
    ...(err.details.upstreamCode === undefined ? {} : { upstreamCode: err.details.upstreamCode }),
    ...(err.details.errors === undefined ? {} : { errors: err.details.errors }),
  };
}

/** Turns whatever reached Fastify's error handler into a `GatewayError`. */
export function normalize(err: FastifyError | Error): GatewayError {
  if (isGatewayError(err)) return err;
  const fe = err as FastifyError;
  if (fe.validation) {
    return new GatewayError("VALIDATION_FAILED", `${fe.validationContext ?? "request"} does not match the schema`, {
      cause: err,
      details: {
        errors: fe.validation.map((v) => ({
          path: `${fe.validationContext ?? ""}${v.instancePath || ""}` || "/",
          message: v.message ?? v.keyword,
        })),
      },
    });
  }
  const status = fe.statusCode ?? 500;
  if (status === 413) return new GatewayError("BODY_TOO_LARGE", "the request body is larger than allowed", { cause: err });
  if (status === 415) return new GatewayError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json", { cause: err });
  if (status === 404) return new GatewayError("NOT_FOUND", "no such resource", { cause: err });
  if (status === 429) return new GatewayError("RATE_LIMITED", "too many requests; slow down", { cause: err });
  if (status >= 400 && status < 500) {
    // Malformed JSON, bad content-length, empty body...: Fastify's messages say what, not secrets.
    return new GatewayError("VALIDATION_FAILED", fe.message, { cause: err });
  }
  return new GatewayError("INTERNAL", "an unexpected error occurred", { cause: err });
}

/** Sends `err` as a problem document. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: GatewayError): FastifyReply {
  const problem = toProblem(err, request.url.split("?")[0]);
  if (err.code === "AUTH_MISSING" || err.code === "AUTH_INVALID") {
    void reply.header("www-authenticate", 'Bearer realm="session-bot-admin"');
  }
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Installs the error and not-found handlers on `app`. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const err = normalize(error);
    const status = statusOf(err);
    if (status >= 500) request.log.error({ err: error, code: err.code }, "request failed");
    else request.log.info({ code: err.code, status }, "request refused");
    return sendProblem(request, reply, err);
  });
  app.setNotFoundHandler((request, reply) => {
    return sendProblem(request, reply, new GatewayError("NOT_FOUND", `no route for ${request.method} ${request.url.split("?")[0]}`));
  });
}
