import { createHash, type Hash } from "node:crypto";
import { ChunkError, type ChunkErrorCode } from "./errors.js";
import { decodeFragment, expectedBodyLength, fragmentProblem, MAX_ID_BYTES, type Fragment } from "./frame.js";

/** Limits of a {@link Reassembler}. Every one bounds what a peer can make it hold. */
export interface ReassemblerOptions {
  /** Largest payload accepted (bytes); a header claiming more is refused before anything is allocated. */
  maxPayloadBytes: number;
  /** Most fragments one payload may have. */
  maxFragments: number;
  /** Most payloads being reassembled at once (distinct pending ids). */
  maxPending: number;
  /** A payload must complete within this many ms of its first fragment; a completed id is remembered this long. */
  timeoutMs: number;
  /** Most bytes buffered across all pending payloads. Default: `maxPending * maxPayloadBytes`. */
  maxBufferedBytes?: number;
  /** Most completed or failed ids remembered (to ignore late duplicates). Default: `max(1024, 4 * maxPending)`. */
  maxRemembered?: number;
  /** Clock in ms (default `Date.now`); inject one in tests. */
  now?: () => number;
}

/** Progress of one pending payload. */
export interface ReassemblyProgress {
  readonly id: string;
  readonly received: number;
  readonly count: number;
  readonly totalBytes: number;
}

interface Pending {
  readonly id: string;
  readonly count: number;
  readonly fragmentSize: number;
  readonly totalBytes: number;
  readonly digest: Uint8Array;
  readonly deadline: number;
  buf: Uint8Array;
  have: Uint8Array;
  received: number;
  /** Fragments [0, hashed) have been fed to `hash`, in order. */
  hashed: number;
  hash: Hash;
}

interface Remembered {
  readonly until: number;
  /** undefined: completed (duplicates are ignored); else the code it failed with. */
  readonly failed: ChunkErrorCode | undefined;
}

function checkLimit(name: string, v: number | undefined, min: number): void {
  if (v === undefined) return;
  if (!Number.isSafeInteger(v) || v < min) throw new ChunkError("CHUNK_INVALID_ARGUMENT", `${name} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * Puts fragments back together, in any order, with hard limits on what a peer can make it hold.
 * Each payload is returned once; duplicates (also those arriving after completion, within
 * `timeoutMs`) are ignored. Every failure throws a {@link ChunkError} and frees that payload at once.
 * No timers: expiry happens lazily on `push` and on `sweep()`.
 */
export class Reassembler {
  readonly #opts: Required<Omit<ReassemblerOptions, "now">>;
  readonly #now: () => number;
  // Insertion order = order of first fragment = deadline order (one fixed timeout), so expiry scans from the front.
  readonly #pending = new Map<string, Pending>();
  readonly #remembered = new Map<string, Remembered>();
  #buffered = 0;

  constructor(opts: ReassemblerOptions) {
    checkLimit("maxPayloadBytes", opts.maxPayloadBytes, 0);
    checkLimit("maxFragments", opts.maxFragments, 1);
    checkLimit("maxPending", opts.maxPending, 1);
    checkLimit("timeoutMs", opts.timeoutMs, 0);
    checkLimit("maxBufferedBytes", opts.maxBufferedBytes, 0);
    checkLimit("maxRemembered", opts.maxRemembered, 0);
    this.#opts = {
      maxPayloadBytes: opts.maxPayloadBytes,
      maxFragments: opts.maxFragments,
      maxPending: opts.maxPending,
      timeoutMs: opts.timeoutMs,
      maxBufferedBytes: opts.maxBufferedBytes ?? opts.maxPending * opts.maxPayloadBytes,
      maxRemembered: opts.maxRemembered ?? Math.max(1024, 4 * opts.maxPending),
    };
    this.#now = opts.now ?? Date.now;
  }

  /** Payloads being reassembled now. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Bytes held for pending payloads (their output buffers, allocated when their first fragment is accepted). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Completed or failed ids remembered to recognise late fragments. */
  get remembered(): number {
    return this.#remembered.size;
  }

  /** Progress of a pending payload, or undefined. */
  progress(id: string): ReassemblyProgress | undefined {
    const p = this.#pending.get(id);
    return p && { id, received: p.received, count: p.count, totalBytes: p.totalBytes };
  }

  /** `push(decodeFragment(frame))`. */
  pushFrame(frame: Uint8Array): Uint8Array | undefined {
    return this.push(decodeFragment(frame));
  }

  /**
   * Adds one fragment. Returns the payload when this fragment completes it, else undefined
   * (also for a duplicate). Throws `ChunkError` (and frees that payload) on a malformed fragment,
   * a header that disagrees with the first one, a limit exceeded, an expired payload or a digest mismatch.
   */
  push(f: Fragment): Uint8Array | undefined {
    const now = this.#now();
    this.sweep(now);
    const problem = fragmentProblem(f);
    // A string of 1..64 UTF-8 bytes has 1..64 UTF-16 units: a cheap bound on what ids may cost us.
    if (problem !== undefined || typeof f.id !== "string" || f.id.length < 1 || f.id.length > MAX_ID_BYTES) {
      throw new ChunkError("CHUNK_MALFORMED", problem ?? "fragment id must be a string of 1..64 UTF-8 bytes");
    }
    const id = f.id;
    const old = this.#remembered.get(id);
    if (old !== undefined) {
      if (old.failed === undefined) return undefined;
      throw new ChunkError(old.failed, `message ${id} already failed (${old.failed})`, { details: { id } });
    }
    let p = this.#pending.get(id);
    if (p === undefined) {
      p = this.#admit(f, now);
    } else if (p.count !== f.count || p.fragmentSize !== f.fragmentSize || p.totalBytes !== f.totalBytes || !equalBytes(p.digest, f.digest)) {
      this.#fail(p, now, "CHUNK_HEADER_MISMATCH");
      throw new ChunkError("CHUNK_HEADER_MISMATCH", `fragment ${f.index} of message ${id} disagrees with earlier fragments`, { details: { id } });
    }
    if (p.have[f.index] === 1) return undefined;
    p.buf.set(f.body, f.index * p.fragmentSize);
    p.have[f.index] = 1;
    p.received++;
    while (p.hashed < p.count && p.have[p.hashed] === 1) {
      const start = p.hashed * p.fragmentSize;
      p.hash.update(p.buf.subarray(start, start + expectedBodyLength(p.hashed, p.count, p.fragmentSize, p.totalBytes)));
      p.hashed++;
    }
    if (p.received < p.count) return undefined;
    const digest = p.hash.digest();
    const payload = p.buf;
    if (!equalBytes(digest, p.digest)) {
      this.#fail(p, now, "CHUNK_DIGEST_MISMATCH");
      throw new ChunkError("CHUNK_DIGEST_MISMATCH", `message ${id}: SHA-256 of the reassembled payload does not match`, { details: { id } });
    }
    this.#release(p);
    this.#remember(id, now, undefined);
    return payload;
  }

  /**
   * Drops every pending payload whose time is up (and forgets old completed ids).
   * Returns one `CHUNK_EXPIRED` error per payload dropped. Called by `push` too.
   */
  sweep(now: number = this.#now()): ChunkError[] {
    const expired: ChunkError[] = [];
    for (const p of this.#pending.values()) {
      if (p.deadline > now) break;
      this.#fail(p, now, "CHUNK_EXPIRED");
      expired.push(
        new ChunkError("CHUNK_EXPIRED", `message ${p.id} did not complete within ${this.#opts.timeoutMs} ms (${p.received}/${p.count} fragments)`, {
          details: { id: p.id, limit: this.#opts.timeoutMs },
        }),
      );
    }
    for (const [id, r] of this.#remembered) {
      if (r.until > now) break;
      this.#remembered.delete(id);
    }
    return expired;
  }

  /** Drops a pending payload (for instance when its transfer was aborted). Later fragments of it throw `code`. */
  discard(id: string, code: ChunkErrorCode = "CHUNK_ABORTED"): boolean {
    const p = this.#pending.get(id);
    if (p === undefined) return false;
    this.#fail(p, this.#now(), code);
    return true;
  }

  /** Drops everything (pending payloads and remembered ids). */
  clear(): void {
    for (const p of [...this.#pending.values()]) this.#release(p);
    this.#remembered.clear();
  }

  #admit(f: Fragment, now: number): Pending {
    const o = this.#opts;
    const details = { id: f.id };
    if (f.count > o.maxFragments) {
      throw new ChunkError("CHUNK_TOO_MANY_FRAGMENTS", `message ${f.id} claims ${f.count} fragments, limit ${o.maxFragments}`, {
        details: { ...details, limit: o.maxFragments, actual: f.count },
      });
    }
    if (f.totalBytes > o.maxPayloadBytes) {
      throw new ChunkError("CHUNK_TOO_LARGE", `message ${f.id} claims ${f.totalBytes} bytes, limit ${o.maxPayloadBytes}`, {
        details: { ...details, limit: o.maxPayloadBytes, actual: f.totalBytes },
      });
    }
    if (this.#pending.size >= o.maxPending) {
      throw new ChunkError("CHUNK_TOO_MANY_PENDING", `${this.#pending.size} messages pending, limit ${o.maxPending}`, {
        details: { ...details, limit: o.maxPending, actual: this.#pending.size + 1 },
      });
    }
    if (this.#buffered + f.totalBytes > o.maxBufferedBytes) {
      throw new ChunkError("CHUNK_BUFFER_FULL", `message ${f.id} (${f.totalBytes} bytes) would exceed the ${o.maxBufferedBytes}-byte buffer`, {
        details: { ...details, limit: o.maxBufferedBytes, actual: this.#buffered + f.totalBytes },
      });
    }
    // allocUnsafeSlow: one unpooled, unzeroed buffer; every byte is written before it is returned.
    const b = Buffer.allocUnsafeSlow(f.totalBytes);
    const p: Pending = {
      id: f.id,
      count: f.count,
      fragmentSize: f.fragmentSize,
      totalBytes: f.totalBytes,
      digest: Uint8Array.from(f.digest),
      deadline: now + o.timeoutMs,
      buf: new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
      have: new Uint8Array(f.count),
      received: 0,
      hashed: 0,
      hash: createHash("sha256"),
    };
    this.#pending.set(f.id, p);
    this.#buffered += f.totalBytes;
    return p;
  }

  #release(p: Pending): void {
    if (this.#pending.delete(p.id)) this.#buffered -= p.totalBytes;
    p.buf = EMPTY;
    p.have = EMPTY;
  }

  #fail(p: Pending, now: number, code: ChunkErrorCode): void {
    this.#release(p);
    this.#remember(p.id, now, code);
  }

  #remember(id: string, now: number, failed: ChunkErrorCode | undefined): void {
    this.#remembered.delete(id);
    if (this.#opts.maxRemembered === 0) return;
    while (this.#remembered.size >= this.#opts.maxRemembered) {
      const oldest = this.#remembered.keys().next();
      if (oldest.done) break;
      this.#remembered.delete(oldest.value);
    }
    this.#remembered.set(id, { until: now + this.#opts.timeoutMs, failed });
  }
}

const EMPTY = new Uint8Array(0);

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A {@link Reassembler} whose payloads are UTF-8 JSON texts (as made by `splitJson`). */
export class JsonReassembler<T = unknown> {
  /** The byte-level reassembler (for `pending`, `bufferedBytes`, `sweep`). */
  readonly inner: Reassembler;
  readonly #decoder = new TextDecoder("utf-8", { fatal: true });

  constructor(opts: ReassemblerOptions) {
    this.inner = new Reassembler(opts);
  }

  get pending(): number {
    return this.inner.pending;
  }

  get bufferedBytes(): number {
    return this.inner.bufferedBytes;
  }

  /** Like `Reassembler.push`, returning the parsed value. Throws `CHUNK_BAD_JSON` if the payload is not UTF-8 JSON. */
  push(f: Fragment): T | undefined {
    const bytes = this.inner.push(f);
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(this.#decoder.decode(bytes)) as T;
    } catch (cause) {
      throw new ChunkError("CHUNK_BAD_JSON", `message ${f.id} is not UTF-8 JSON`, { cause, details: { id: f.id } });
    }
  }

  /** `push(decodeFragment(frame))`. */
  pushFrame(frame: Uint8Array): T | undefined {
    return this.push(decodeFragment(frame));
  }

  sweep(now?: number): ChunkError[] {
    return this.inner.sweep(now);
  }
}
