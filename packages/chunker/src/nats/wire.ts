import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import { ChunkError, isChunkError } from "../errors.js";
import { decodeFragment, encodeFragment, type Fragment } from "../frame.js";
import { Reassembler } from "../reassembler.js";

/** Version of the NATS wire protocol (the `Chunk-Version` header of an `open`). */
export const WIRE_VERSION = 1;
/** Bytes of `max_payload` kept for NATS headers when the fragment size is derived from it. */
export const HEADER_ROOM = 512;

/** Header names of the wire protocol (exact case). */
export const H = {
  op: "Chunk-Op",
  version: "Chunk-Version",
  window: "Chunk-Window",
  grant: "Chunk-Grant",
  error: "Chunk-Error",
} as const;

/** Values of the `Chunk-Op` header. */
export type Op = "open" | "data" | "credit" | "error" | "abort";

/** Defaults of the binding's options. */
export const DEFAULTS = {
  timeoutMs: 30_000,
  transferTimeoutMs: 600_000,
  windowBytes: 4 * 1024 * 1024,
  maxPayloadBytes: 64 * 1024 * 1024,
  maxFragments: 1 << 20,
  maxPending: 8,
  maxBufferedBytes: 256 * 1024 * 1024,
  inboxPrefix: "_INBOX",
} as const;

const MAX_ERROR_TEXT = 1024;
const te = new TextEncoder();
const td = new TextDecoder();

export function opHeaders(op: Op, extra?: Record<string, string>): MsgHdrs {
  const h = headers();
  h.set(H.op, op);
  if (extra) for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return h;
}

/** The fragment size for `nc`: the caller's choice, else the server's `max_payload` less header room. */
export function frameBytesFor(nc: NatsConnection, explicit: number | undefined): number {
  if (explicit !== undefined) return explicit;
  const max = nc.info?.max_payload;
  if (max === undefined) throw new ChunkError("CHUNK_INVALID_ARGUMENT", "connection has no server info (max_payload); pass maxFragmentBytes");
  return max - HEADER_ROOM;
}

/** Credit window in fragments for a window of `windowBytes` and bodies of `fragmentSize`: max(1, floor(windowBytes / fragmentSize)). */
export function windowFragments(windowBytes: number, fragmentSize: number): number {
  return Math.max(1, Math.floor(windowBytes / fragmentSize));
}

/** Parses a non-negative decimal integer header value, or undefined. */
export function intHeader(h: MsgHdrs | undefined, name: string): number | undefined {
  const v = h?.get(name);
  if (v === undefined || !/^[0-9]{1,15}$/.test(v)) return undefined;
  return Number(v);
}

export function errorText(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.length > MAX_ERROR_TEXT ? m.slice(0, MAX_ERROR_TEXT) : m;
}

/** The code put in a `Chunk-Error` header for `err`: its own `code` when it looks like one, else `HANDLER_ERROR`. */
export function errorCode(err: unknown): string {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(c) ? c : "HANDLER_ERROR";
}

export function publishError(nc: NatsConnection, subject: string, op: "error" | "abort", err: unknown): void {
  try {
    nc.publish(subject, te.encode(errorText(err)), { headers: opHeaders(op, { [H.error]: errorCode(err) }) });
  } catch {
    // The connection is closing: the peer will time out, nothing else to do.
  }
}

/** A `CHUNK_REMOTE` error from an `error`/`abort` message. */
export function remoteError(h: MsgHdrs | undefined, data: Uint8Array): ChunkError {
  const code = h?.get(H.error) || "UNKNOWN";
  const text = td.decode(data.subarray(0, MAX_ERROR_TEXT * 4));
  return new ChunkError("CHUNK_REMOTE", `far side failed: ${code}: ${text}`, { details: { remoteCode: code } });
}

export function asChunkError(err: unknown, code: "CHUNK_ABORTED" | "CHUNK_INVALID_ARGUMENT" = "CHUNK_ABORTED"): ChunkError {
  if (isChunkError(err)) return err;
  return new ChunkError(code, errorText(err), { cause: err });
}

/** Sends the fragments of one payload as credit allows. */
export class Outgoing {
  readonly count: number;
  #next = 0;
  #grant = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly frags: Fragment[],
  ) {
    this.count = frags.length;
  }

  get done(): boolean {
    return this.#next >= this.count;
  }

  /** Marks fragment 0 as sent (it rode in the `open`). */
  sentFirst(): void {
    this.#next = Math.max(this.#next, 1);
    this.#grant = Math.max(this.#grant, 1);
  }

  /** Raises the grant (never lowers it) to `upTo` (exclusive index). */
  grant(upTo: number): void {
    if (upTo > this.#grant) this.#grant = Math.min(upTo, this.count);
  }

  /** Publishes every granted, unsent fragment to `subject`. */
  pump(subject: string, reply?: string): void {
    const h = opHeaders("data");
    while (this.#next < this.#grant) {
      const f = this.frags[this.#next]!;
      this.nc.publish(subject, encodeFragment(f), reply === undefined ? { headers: h } : { headers: h, reply });
      this.#next++;
    }
  }
}

/** Options of an {@link Incoming} stream. */
export interface IncomingOptions {
  maxPayloadBytes: number;
  maxFragments: number;
  transferTimeoutMs: number;
  windowBytes: number;
  onFragment?: ((p: FragmentProgress) => void) | undefined;
}

/** What a progress callback is told about each accepted fragment. */
export interface FragmentProgress {
  /** Message id of the payload. */
  readonly id: string;
  /** Index of the fragment just accepted. */
  readonly index: number;
  /** Distinct fragments received so far. */
  readonly received: number;
  /** Fragments of the payload. */
  readonly count: number;
  /** Size of the whole payload. */
  readonly totalBytes: number;
}

/** Receives the fragments of one payload, checking the credit it granted. */
export class Incoming {
  readonly #r: Reassembler;
  #id: string | undefined;
  #granted = 0;
  #window = 1;
  #count = 0;
  #received = 0;

  constructor(private readonly opts: IncomingOptions) {
    this.#r = new Reassembler({
      maxPayloadBytes: opts.maxPayloadBytes,
      maxFragments: opts.maxFragments,
      maxPending: 1,
      timeoutMs: opts.transferTimeoutMs,
      maxRemembered: 1,
    });
  }

  get bufferedBytes(): number {
    return this.#r.bufferedBytes;
  }

  /** The id of the payload (after the first fragment). */
  get id(): string | undefined {
    return this.#id;
  }

  /**
   * Accepts one frame. `implicitGrant`: the credit the sender assumed before hearing from us
   * (the initial window for a response; 1 for an `open`). Returns the payload when complete.
   */
  onFrame(frame: Uint8Array, implicitGrant?: "window" | "one"): Uint8Array | undefined {
    const f = decodeFragment(frame);
    if (this.#id === undefined) {
      this.#id = f.id;
      this.#count = f.count;
      this.#window = windowFragments(this.opts.windowBytes, f.fragmentSize);
      this.#granted = implicitGrant === "window" ? Math.min(f.count, this.#window) : 1;
    } else if (f.id !== this.#id) {
      throw new ChunkError("CHUNK_HEADER_MISMATCH", `fragment of message ${f.id} in the transfer of ${this.#id}`, { details: { id: f.id } });
    }
    if (f.index >= this.#granted) {
      throw new ChunkError("CHUNK_FLOW", `fragment ${f.index} sent beyond the granted credit ${this.#granted}`, { details: { id: f.id } });
    }
    const before = this.#r.progress(f.id)?.received ?? 0;
    const payload = this.#r.push(f);
    this.#received = payload === undefined ? (this.#r.progress(f.id)?.received ?? before) : f.count;
    if (this.#received !== before) {
      this.opts.onFragment?.({ id: f.id, index: f.index, received: this.#received, count: f.count, totalBytes: f.totalBytes });
    }
    return payload;
  }

  /** A new grant to send, when the outstanding credit has fallen to half a window or less. */
  takeGrant(): number | undefined {
    if (this.#granted >= this.#count) return undefined;
    if (this.#granted - this.#received > Math.floor(this.#window / 2)) return undefined;
    this.#granted = Math.min(this.#count, this.#received + this.#window);
    return this.#granted;
  }

  /** Frees the buffer. */
  clear(): void {
    this.#r.clear();
  }
}

/** A one-shot idle timer: `touch()` restarts it. */
export class IdleTimer {
  #t: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {}

  touch(): void {
    if (this.#t === undefined) this.#t = setTimeout(this.onIdle, this.ms);
    else this.#t.refresh();
  }

  stop(): void {
    if (this.#t !== undefined) clearTimeout(this.#t);
    this.#t = undefined;
  }
}
