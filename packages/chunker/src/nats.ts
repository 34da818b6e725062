/**
 * `@session-bot/chunker/nats`: payloads of any size over core NATS, framed by the chunker and
 * flow-controlled by credit, as request/reply streams. Wire protocol in the README.
 */
export { publishChunked, requestChunked } from "./nats/client.js";
export type { RequestChunkedOptions } from "./nats/client.js";
export { serveChunked, subscribeChunked } from "./nats/server.js";
export type { ChunkedHandler, ChunkedRequestInfo, ChunkedService, ServeChunkedOptions } from "./nats/server.js";
export { DEFAULTS, H as HEADERS, HEADER_ROOM, WIRE_VERSION, windowFragments } from "./nats/wire.js";
export type { FragmentProgress, Op } from "./nats/wire.js";
