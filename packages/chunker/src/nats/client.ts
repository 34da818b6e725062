import { createInbox, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { ChunkError } from "../errors.js";
import { encodeFragment } from "../frame.js";
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
  remoteError,
  WIRE_VERSION,
  type FragmentProgress,
} from "./wire.js";

/** Options of {@link requestChunked} and {@link publishChunked}. */
export interface RequestChunkedOptions {
  /** Longest wait for any message from the far side, in ms, including the time its handler runs (default 30 000). */
  timeoutMs?: number;
  /** Bytes of response fragments we let the far side send ahead of our credit (default 4 MiB). */
  windowBytes?: number;
  /** Largest frame we send. Default: the server's `max_payload` less 512 bytes of header room. */
  maxFragmentBytes?: number;
  /** Largest response accepted (default 64 MiB); a bigger one fails with `CHUNK_TOO_LARGE`. */
  maxResponseBytes?: number;
  /** Most fragments a response may have (default 2^20). */
  maxFragments?: number;
  /** The response must complete within this many ms of its first fragment (default 10 min). */
  transferTimeoutMs?: number;
  /** Prefix of our reply inbox (default `_INBOX`); set it when permissions restrict inboxes. */
  inboxPrefix?: string;
  /** Message id of the request payload (default: random). */
  id?: string;
  /** Called as each response fragment is accepted; credit is granted after it returns. */
  onFragment?: (p: FragmentProgress) => void;
}

/**
 * Sends `payload` (any size) as a request to `subject` and resolves with the far side's reply
 * (any size), both framed and flow-controlled. The far side is a {@link serveChunked}. Fails with
 * `ChunkError`: `CHUNK_REMOTE` (the far side reported an error; `remoteCode` says which),
 * `CHUNK_NO_RESPONDERS`, `CHUNK_TIMEOUT`, `CHUNK_FLOW`, and any reassembly code for the response.
 */
export function requestChunked(nc: NatsConnection, subject: string, payload: Uint8Array, opts: RequestChunkedOptions = {}): Promise<Uint8Array> {
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const windowBytes = opts.windowBytes ?? DEFAULTS.windowBytes;
  return new Promise<Uint8Array>((resolve, reject) => {
    let settled = false;
    let server: string | undefined; // the far side's transfer inbox, learnt from its first message
    const inbox = createInbox(opts.inboxPrefix ?? DEFAULTS.inboxPrefix);
    const frags = split(payload, opts.id === undefined ? { maxFragmentBytes: frameBytesFor(nc, opts.maxFragmentBytes) } : { maxFragmentBytes: frameBytesFor(nc, opts.maxFragmentBytes), id: opts.id });
    const up = new Outgoing(nc, frags);
    const down = new Incoming({
      maxPayloadBytes: opts.maxResponseBytes ?? DEFAULTS.maxPayloadBytes,
      maxFragments: opts.maxFragments ?? DEFAULTS.maxFragments,
      transferTimeoutMs: opts.transferTimeoutMs ?? DEFAULTS.transferTimeoutMs,
      windowBytes,
      onFragment: opts.onFragment,
    });
    const timer = new IdleTimer(timeoutMs, () =>
      finish(new ChunkError("CHUNK_TIMEOUT", `no message from ${subject} for ${timeoutMs} ms (${up.done ? "waiting for the response" : "uploading"})`)),
    );

    const finish = (err: ChunkError | undefined, value?: Uint8Array, tellPeer = true): void => {
      if (settled) return;
      settled = true;
      timer.stop();
      sub.unsubscribe();
      down.clear();
      if (err !== undefined) {
        if (tellPeer && server !== undefined) publishError(nc, server, "abort", err);
        reject(err);
      } else resolve(value!);
    };

    const learnServer = (m: Msg): string => {
      if (!m.reply) throw new ChunkError("CHUNK_FLOW", "far side sent a message without a reply subject");
      if (server === undefined) server = m.reply;
      else if (server !== m.reply) throw new ChunkError("CHUNK_FLOW", "far side changed its transfer subject");
      return server;
    };

    const onMsg = (m: Msg): void => {
      if (settled) return;
      timer.touch();
      const op = m.headers?.get(H.op);
      if (op === undefined || op === "") {
        if (m.headers?.code === 503) return finish(new ChunkError("CHUNK_NO_RESPONDERS", `no responders on ${subject}`), undefined, false);
        throw new ChunkError("CHUNK_FLOW", "message without a Chunk-Op header");
      }
      switch (op) {
        case "credit": {
          const to = learnServer(m);
          const grant = intHeader(m.headers, H.grant);
          if (grant === undefined) throw new ChunkError("CHUNK_FLOW", "credit without a valid Chunk-Grant");
          up.grant(grant);
          up.pump(to);
          return;
        }
        case "data": {
          const to = learnServer(m);
          if (!up.done) throw new ChunkError("CHUNK_FLOW", "response data before the request was fully sent");
          const value = down.onFrame(m.data, "window");
          if (value !== undefined) return finish(undefined, value);
          const grant = down.takeGrant();
          if (grant !== undefined) nc.publish(to, undefined, { headers: opHeaders("credit", { [H.grant]: String(grant) }) });
          return;
        }
        case "error":
          return finish(remoteError(m.headers, m.data), undefined, false);
        default:
          throw new ChunkError("CHUNK_FLOW", `unexpected Chunk-Op ${op}`);
      }
    };

    const sub = nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err) return finish(asChunkError(err), undefined, true);
        try {
          onMsg(m);
        } catch (e) {
          finish(asChunkError(e, "CHUNK_ABORTED"));
        }
      },
    });
    try {
      nc.publish(subject, encodeFragment(frags[0]!), {
        reply: inbox,
        headers: opHeaders("open", { [H.version]: String(WIRE_VERSION), [H.window]: String(windowBytes) }),
      });
      up.sentFirst();
      timer.touch();
    } catch (e) {
      finish(asChunkError(e, "CHUNK_INVALID_ARGUMENT"), undefined, false);
    }
  });
}

/**
 * Delivers `payload` (any size) to the {@link subscribeChunked} (or {@link serveChunked}) on
 * `subject`, flow-controlled; resolves once the far side's handler has taken it. Errors as
 * {@link requestChunked}.
 */
export async function publishChunked(nc: NatsConnection, subject: string, payload: Uint8Array, opts: RequestChunkedOptions = {}): Promise<void> {
  await requestChunked(nc, subject, payload, opts);
}
