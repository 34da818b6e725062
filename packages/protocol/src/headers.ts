/**
 * NATS header names used on the bus. Header names are case-sensitive in nats.js lookups, so
 * always use these constants.
 */

/** JetStream de-duplication id: the event `id` (Session message hash) or the action `id`. */
export const HEADER_MSG_ID = "Nats-Msg-Id";

/** Set by publishers to make JetStream refuse a publish that would land in another stream. */
export const HEADER_EXPECTED_STREAM = "Nats-Expected-Stream";

/** The major protocol version of the body (`"1"`); lets a receiver refuse early without parsing. */
export const HEADER_PROTOCOL_VERSION = "Sb-Protocol-Version";

/** On a request/reply failure: the `ErrorReply.code` (e.g. `NOT_FOUND`). Absent on success. */
export const HEADER_ERROR_CODE = "Sb-Error-Code";

/** The causing inbound event id, mirrored from `OutboundAction.causationId` (for tracing). */
export const HEADER_CAUSATION_ID = "Sb-Causation-Id";

/** The plugin that produced an outbound action or a dead letter. */
export const HEADER_PLUGIN = "Sb-Plugin";

/** Body content type; always `application/json` for protocol messages. */
export const HEADER_CONTENT_TYPE = "Content-Type";

/** The value of {@link HEADER_CONTENT_TYPE} for every protocol message. */
export const CONTENT_TYPE_JSON = "application/json";

/** NATS services API error header: numeric code (HTTP-like: 400, 404, 500...). Set by the services framework. */
export const HEADER_SERVICE_ERROR_CODE = "Nats-Service-Error-Code";

/** NATS services API error header: the error description. Set by the services framework. */
export const HEADER_SERVICE_ERROR = "Nats-Service-Error";
