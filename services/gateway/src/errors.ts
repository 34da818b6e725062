/**
 * Every way the gateway fails, as a closed set of stable codes. Routes and the fleet layer throw
 * `GatewayError`; only the HTTP edge (`src/http/problem.ts`) maps a code to a status and an
 * `application/problem+json` body.
 */
export const GATEWAY_ERROR_CODES = [
  /** The environment does not describe a valid configuration. */
  "CONFIG_INVALID",
  /** The request has no bearer token. */
  "AUTH_MISSING",
  /** The bearer token is not one of the configured admin tokens. */
  "AUTH_INVALID",
  /** Too many requests from this client in the current window. */
  "RATE_LIMITED",
  /** The request does not match the route's schema (body, query, params or headers). */
  "VALIDATION_FAILED",
  /** The request body is larger than the configured limit. */
  "BODY_TOO_LARGE",
  /** The request body has a media type the route does not accept. */
  "UNSUPPORTED_MEDIA_TYPE",
  /** No route answers this method and path. */
  "NOT_FOUND",
  /** No plugin with that name has published a manifest. */
  "PLUGIN_NOT_FOUND",
  /** The plugin configuration does not satisfy the plugin's config schema. */
  "PLUGIN_CONFIG_INVALID",
  /** The plugin's manifest (written by plugin-host) cannot be used, e.g. its config schema does not compile. */
  "PLUGIN_MANIFEST_INVALID",
  /** The plugin record changed under us too many times in a row. */
  "PLUGIN_CONFLICT",
  /** The NATS connection is closed or reconnecting. */
  "NATS_UNAVAILABLE",
  /** No broker answers on its services-API subject. */
  "BROKER_UNAVAILABLE",
  /** The broker did not answer in time. */
  "BROKER_TIMEOUT",
  /** The broker refused the request (its `ErrorReply` code is passed along as `upstreamCode`). */
  "BROKER_REJECTED",
  /** The broker failed, or answered with something that is not the documented reply. */
  "BROKER_FAILED",
  /** JetStream (stream/consumer info, KV) failed. */
  "JETSTREAM_FAILED",
  /** A bug: anything not foreseen above. */
  "INTERNAL",
] as const;

export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

/** Extra, safe-to-show facts attached to an error (never tokens, never payloads). */
export interface GatewayErrorDetails {
  /** For `BROKER_REJECTED`: the HTTP-like status the broker put in `Nats-Service-Error-Code`. */
  upstreamStatus?: number;
  /** For `BROKER_REJECTED`/`BROKER_FAILED`: the broker's own stable `ErrorReply.code`. */
  upstreamCode?: string;
  /** For validation failures: where each problem is. */
  errors?: { path: string; message: string }[];
  /** For readiness and JetStream failures: which part failed. */
  component?: string;
}

/** The one error class of the gateway. Check `code`, not `instanceof`. */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly code: GatewayErrorCode;
  readonly details: GatewayErrorDetails;

  constructor(code: GatewayErrorCode, message: string, options: { cause?: unknown; details?: GatewayErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `err` carries one of the gateway's codes (works across module copies, unlike `instanceof`). */
export function isGatewayError(err: unknown): err is GatewayError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "GatewayError" &&
    GATEWAY_ERROR_CODES.includes((err as { code?: GatewayErrorCode }).code as GatewayErrorCode)
  );
}
