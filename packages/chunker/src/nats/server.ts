import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { ChunkError } from "../errors.js";
import { decodeFragment, type Fragment } from "../frame.js";
import { split } from "../split.js";
import {
  asChunkError,
  DEFAULTS,
  frameBytesFor,
  H,
  IdleTimer,
  Incoming,
  intHeader,
  opHeaders,
  Outgoing,
  publishError,
  windowFragments,
  WIRE_VERSION,
  type FragmentProgress,
} from "./wire.js";

/** What a handler of {@link serveChunked} is told besides the request payload. */
export interface ChunkedRequestInfo {
  /** Subject the request was sent to. */
  readonly subject: string;
  /** Message id of the request payload. */
  readonly id: string;
  /** Headers of the `open` message. */
  readonly headers: MsgHdrs | undefined;
}

/** Answers one request: its reply payload (any size). A thrown error goes back to the caller as `CHUNK_REMOTE`. */
export type ChunkedHandler = (request: Uint8Array, info: ChunkedRequestInfo) => Uint8Array | Promise<Uint8Array>;

/** Options of {@link serveChunked} and {@link subscribeChunked}. */
export interface ServeChunkedOptions {
  /** Queue group, so several instances share the subject (each transfer stays with the instance that took its `open`). */
  queue?: string;
  /** Longest wait for the next message of a caller, in ms (default 30 000). */
  timeoutMs?: number;
  /** Longest run of the handler, in ms (default: `timeoutMs`); then the caller gets `CHUNK_TIMEOUT` and the slot is freed. */
  handlerTimeoutMs?: number;
  /** Bytes of request fragments we let a caller send ahead of our credit (default 4 MiB). */
  windowBytes?: number;
  /** Largest frame we send. Default: the server's `max_payload` less 512 bytes of header room. */
  maxFragmentBytes?: number;
  /** Largest request accepted (default 64 MiB): a bigger claim is refused before anything is allocated. */
  maxRequestBytes?: number;
  /** Most fragments a request may have (default 2^20). */
  maxFragments?: number;
  /** Most transfers in progress at once (default 8); more are refused with `CHUNK_TOO_MANY_PENDING`. Keep `maxPending × windowBytes` well below the server's `max_pending` (64 MiB by default). */
  maxPending?: number;
  /** Most request bytes buffered across transfers (default 256 MiB); more are refused with `CHUNK_BUFFER_FULL`. */
  maxBufferedBytes?: number;
  /** A request must complete within this many ms of its first fragment (default 10 min). */
  transferTimeoutMs?: number;
  /** Prefix of our per-transfer inboxes (default `_INBOX`). */
  inboxPrefix?: string;
  /** Called as each request fragment is accepted; credit is granted after it returns. */
  onFragment?: (p: FragmentProgress) => void;
  /** Told about every failed transfer (for logs and metrics); the caller has been sent the error already. */
  onError?: (err: ChunkError, info: { subject: string; id?: string }) => void;
}

/** A running {@link serveChunked}. */
export interface ChunkedService {
  /** Transfers in progress. */
  readonly active: number;
  /** Request bytes buffered now (claimed totals of uploads in progress). */
  readonly bufferedBytes: number;
  /**
   * Stops taking new requests. By default waits for the transfers in progress to end (each is
   * bounded by its timeouts, the handler's included); with `abort: true` ends them at once with `CHUNK_ABORTED`.
   */
  stop(opts?: { abort?: boolean }): Promise<void>;
}

/**
 * Serves chunked requests on `subject`: each request (any size) is reassembled, given to
 * `handler`, and its reply (any size) is sent back, both directions flow-controlled. Errors
 * (limits, bad frames, a throwing handler) go back to the caller as an `error` message.
 */
export function serveChunked(nc: NatsConnection, subject: string, handler: ChunkedHandler, opts: ServeChunkedOptions = {}): ChunkedService {
  const cfg = {
    timeoutMs: opts.timeoutMs ?? DEFAULTS.timeoutMs,
    handlerTimeoutMs: opts.handlerTimeoutMs ?? opts.timeoutMs ?? DEFAULTS.timeoutMs,
    windowBytes: opts.windowBytes ?? DEFAULTS.windowBytes,
    maxRequestBytes: opts.maxRequestBytes ?? DEFAULTS.maxPayloadBytes,
    maxFragments: opts.maxFragments ?? DEFAULTS.maxFragments,
    maxPending: opts.maxPending ?? DEFAULTS.maxPending,
    maxBufferedBytes: opts.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
    transferTimeoutMs: opts.transferTimeoutMs ?? DEFAULTS.transferTimeoutMs,
    inboxPrefix: opts.inboxPrefix ?? DEFAULTS.inboxPrefix,
  };
  const transfers = new Set<Transfer>();
  let buffered = 0;
  let stopping = false;
  let idle: (() => void) | undefined;

  const report = (err: ChunkError, id?: string): void => {
    try {
      opts.onError?.(err, id === undefined ? { subject } : { subject, id });
    } catch {
      // A throwing observer must not break the service.
    }
  };

  class Transfer {
    readonly #caller: string;
    readonly #inbox = createInbox(cfg.inboxPrefix);
    readonly #in: Incoming;
    readonly #timer: IdleTimer;
    readonly #claimed: number;
    readonly #clientWindowBytes: number;
    readonly #open: Msg;
    #sub: Subscription | undefined;
    #out: Outgoing | undefined;
    #phase: "upload" | "handler" | "download" | "done" = "upload";
    #id: string;
    #released = false;

    constructor(open: Msg, caller: string, first: Fragment, clientWindowBytes: number) {
      this.#caller = caller;
      this.#open = open;
      this.#id = first.id;
      this.#claimed = first.totalBytes;
      this.#clientWindowBytes = clientWindowBytes;
      this.#in = new Incoming({
        maxPayloadBytes: cfg.maxRequestBytes,
        maxFragments: cfg.maxFragments,
        transferTimeoutMs: cfg.transferTimeoutMs,
        windowBytes: cfg.windowBytes,
        onFragment: opts.onFragment,
      });
      this.#timer = new IdleTimer(cfg.timeoutMs, () =>
        this.fail(new ChunkError("CHUNK_TIMEOUT", `no message from the caller for ${cfg.timeoutMs} ms (${this.#phase})`, { details: { id: this.#id } })),
      );
      transfers.add(this);
      buffered += this.#claimed;
    }

    start(): void {
      this.#sub = nc.subscribe(this.#inbox, {
        callback: (err, m) => {
          if (err) return this.fail(asChunkError(err));
          try {
            this.#onMsg(m);
          } catch (e) {
            this.fail(asChunkError(e));
          }
        },
      });
      try {
        this.#onData(this.#open.data, "one");
      } catch (e) {
        this.fail(asChunkError(e));
      }
    }

    #onMsg(m: Msg): void {
      if (this.#phase === "done") return;
      const op = m.headers?.get(H.op);
      if (op === "abort") {
        this.#end();
        return;
      }
      // The idle timer runs only while we wait for the caller (the handler has its own).
      if (this.#phase !== "handler") this.#timer.touch();
      if (op === "data" && this.#phase === "upload") return this.#onData(m.data);
      if (op === "credit" && this.#phase !== "upload") {
        const grant = intHeader(m.headers, H.grant);
        if (grant === undefined) throw new ChunkError("CHUNK_FLOW", "credit without a valid Chunk-Grant");
        if (this.#out !== undefined) this.#pump(grant);
        return;
      }
      if (op === "credit" || op === "data") return; // late or early but harmless: a credit before our reply exists, data after completion
      throw new ChunkError("CHUNK_FLOW", `unexpected Chunk-Op ${op ?? "(none)"}`);
    }

    #onData(frame: Uint8Array, implicit?: "one"): void {
      const request = this.#in.onFrame(frame, implicit);
      if (request === undefined) {
        const grant = this.#in.takeGrant();
        if (grant !== undefined) nc.publish(this.#caller, undefined, { reply: this.#inbox, headers: opHeaders("credit", { [H.grant]: String(grant) }) });
        this.#timer.touch();
        return;
      }
      this.#in.clear();
      this.#release();
      this.#phase = "handler";
      this.#timer.stop();
      void this.#answer(request);
    }

    async #answer(request: Uint8Array): Promise<void> {
      let reply: Uint8Array;
      const overdue = setTimeout(() => {
        this.fail(new ChunkError("CHUNK_TIMEOUT", `handler did not answer within ${cfg.handlerTimeoutMs} ms`, { details: { id: this.#id } }));
      }, cfg.handlerTimeoutMs);
      try {
        reply = await handler(request, { subject, id: this.#id, headers: this.#open.headers });
        if (!(reply instanceof Uint8Array)) throw new ChunkError("CHUNK_INVALID_ARGUMENT", "handler must return a Uint8Array");
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)), true);
        return;
      } finally {
        clearTimeout(overdue);
      }
      if (this.#phase !== "handler") return; // aborted meanwhile
      try {
        const frags = split(reply, { maxFragmentBytes: frameBytesFor(nc, opts.maxFragmentBytes) });
        this.#phase = "download";
        this.#out = new Outgoing(nc, frags);
        this.#pump(Math.min(frags.length, windowFragments(this.#clientWindowBytes, frags[0]!.fragmentSize)));
      } catch (e) {
        this.fail(asChunkError(e));
      }
    }

    #pump(grant: number): void {
      const out = this.#out!;
      out.grant(grant);
      out.pump(this.#caller, this.#inbox);
      if (out.done) this.#end();
      else this.#timer.touch();
    }

    /** Ends the transfer with an error sent to the caller. `fromHandler`: the handler's own error (not a ChunkError of ours). */
    fail(err: Error, fromHandler = false): void {
      if (this.#phase === "done") return;
      publishError(nc, this.#caller, "error", err);
      report(fromHandler ? new ChunkError("CHUNK_REMOTE", `handler failed: ${err.message}`, { cause: err }) : asChunkError(err), this.#id);
      this.#end();
    }

    #release(): void {
      if (this.#released) return;
      this.#released = true;
      buffered -= this.#claimed;
    }

    #end(): void {
      if (this.#phase === "done") return;
      this.#release();
      this.#phase = "done";
      this.#timer.stop();
      this.#sub?.unsubscribe();
      this.#in.clear();
      this.#out = undefined;
      transfers.delete(this);
      if (transfers.size === 0) idle?.();
    }

    abort(): void {
      this.fail(new ChunkError("CHUNK_ABORTED", "service stopping", { details: { id: this.#id } }));
    }
  }

  const onOpen = (m: Msg): void => {
    if (!m.reply) {
      report(new ChunkError("CHUNK_FLOW", `message on ${subject} without a reply subject`));
      return;
    }
    try {
      if (stopping) throw new ChunkError("CHUNK_ABORTED", "service stopping");
      const op = m.headers?.get(H.op);
      if (op !== "open") throw new ChunkError("CHUNK_FLOW", `expected Chunk-Op open, got ${op ?? "(none)"}`);
      const version = intHeader(m.headers, H.version);
      if (version !== WIRE_VERSION) throw new ChunkError("CHUNK_BAD_VERSION", `wire version ${m.headers?.get(H.version)} not supported`);
      const window = intHeader(m.headers, H.window);
      if (window === undefined || window < 1) throw new ChunkError("CHUNK_FLOW", "open without a valid Chunk-Window");
      const first = decodeFragment(m.data);
      if (first.index !== 0) throw new ChunkError("CHUNK_FLOW", `open must carry fragment 0, got ${first.index}`, { details: { id: first.id } });
      if (first.totalBytes > cfg.maxRequestBytes) {
        throw new ChunkError("CHUNK_TOO_LARGE", `request of ${first.totalBytes} bytes, limit ${cfg.maxRequestBytes}`, {
          details: { id: first.id, limit: cfg.maxRequestBytes, actual: first.totalBytes },
        });
      }
      if (transfers.size >= cfg.maxPending) {
        throw new ChunkError("CHUNK_TOO_MANY_PENDING", `${transfers.size} transfers in progress, limit ${cfg.maxPending}`, {
          details: { id: first.id, limit: cfg.maxPending },
        });
      }
      if (buffered + first.totalBytes > cfg.maxBufferedBytes) {
        throw new ChunkError("CHUNK_BUFFER_FULL", `request of ${first.totalBytes} bytes would exceed the ${cfg.maxBufferedBytes}-byte buffer`, {
          details: { id: first.id, limit: cfg.maxBufferedBytes, actual: buffered + first.totalBytes },
        });
      }
      new Transfer(m, m.reply, first, window).start();
    } catch (e) {
      const err = asChunkError(e);
      publishError(nc, m.reply, "error", err);
      report(err, err.details.id);
    }
  };

  const sub = nc.subscribe(subject, {
    ...(opts.queue === undefined ? {} : { queue: opts.queue }),
    callback: (err, m) => {
      if (err) {
        report(asChunkError(err));
        return;
      }
      onOpen(m);
    },
  });

  return {
    get active() {
      return transfers.size;
    },
    get bufferedBytes() {
      return buffered;
    },
    async stop(stopOpts = {}) {
      stopping = true;
      sub.unsubscribe();
      if (stopOpts.abort) for (const t of [...transfers]) t.abort();
      if (transfers.size === 0) return;
      await new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
  };
}

const EMPTY = new Uint8Array(0);

/**
 * Receives payloads (any size) published with {@link publishChunked} on `subject`. The sender's
 * promise resolves after `handler` returns; a throwing handler fails it with `CHUNK_REMOTE`.
 */
export function subscribeChunked(
  nc: NatsConnection,
  subject: string,
  handler: (payload: Uint8Array, info: ChunkedRequestInfo) => void | Promise<void>,
  opts: ServeChunkedOptions = {},
): ChunkedService {
  return serveChunked(
    nc,
    subject,
    async (payload, info) => {
      await handler(payload, info);
      return EMPTY;
    },
    opts,
  );
}
