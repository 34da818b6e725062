/**
 * `@session-bot/chunker`: frames payloads larger than one NATS message, and puts them back
 * together with hard limits. Transport-agnostic; the NATS binding is at `@session-bot/chunker/nats`.
 */
export { CHUNK_ERROR_CODES, ChunkError, isChunkError } from "./errors.js";
export type { ChunkErrorCode, ChunkErrorDetails } from "./errors.js";
export {
  DIGEST_BYTES,
  FRAME_VERSION,
  MAX_ID_BYTES,
  MAX_TOTAL_BYTES,
  decodeFragment,
  encodeFragment,
  frameOverhead,
} from "./frame.js";
export type { Fragment } from "./frame.js";
export { newMessageId, sha256, split, splitJson } from "./split.js";
export type { SplitOptions } from "./split.js";
export { JsonReassembler, Reassembler } from "./reassembler.js";
export type { ReassemblerOptions, ReassemblyProgress } from "./reassembler.js";
