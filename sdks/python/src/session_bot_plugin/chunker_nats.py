"""Chunked request/reply over core NATS (wire version 1 of @session-bot/chunker/nats), for nats-py.

:func:`request_chunked` is the caller (used for the broker's ``attachments.get``/``attachments.put``);
:func:`serve_chunked` the server. Header names, numbers, the window formula and the implicit initial
grants are exactly those of packages/chunker/README.md ("NATS wire protocol").
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Awaitable, Callable, Final

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from .chunker import ChunkError, Fragment, Reassembler, decode_fragment, encode_fragment, split

WIRE_VERSION: Final = 1
HEADER_ROOM: Final = 512
H_OP: Final = "Chunk-Op"
H_VERSION: Final = "Chunk-Version"
H_WINDOW: Final = "Chunk-Window"
H_GRANT: Final = "Chunk-Grant"
H_ERROR: Final = "Chunk-Error"
DEFAULT_TIMEOUT_MS: Final = 30_000
DEFAULT_TRANSFER_TIMEOUT_MS: Final = 600_000
DEFAULT_WINDOW_BYTES: Final = 4 * 1024 * 1024
DEFAULT_MAX_PAYLOAD_BYTES: Final = 64 * 1024 * 1024
DEFAULT_MAX_FRAGMENTS: Final = 1 << 20
MAX_ERROR_TEXT: Final = 1024
_INT_RE = re.compile(r"[0-9]{1,15}\Z")
_CODE_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")


def window_fragments(window_bytes: int, fragment_size: int) -> int:
    return max(1, window_bytes // fragment_size)


def _int_header(msg: Msg, name: str) -> int | None:
    v = (msg.headers or {}).get(name)
    return int(v) if v is not None and _INT_RE.match(v) else None


def _frame_bytes(nc: NATS, explicit: int | None) -> int:
    return explicit if explicit is not None else nc.max_payload - HEADER_ROOM


def _error_code(err: BaseException) -> str:
    c = getattr(err, "code", None)
    return c if isinstance(c, str) and _CODE_RE.match(c) else "HANDLER_ERROR"


def _error_text(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err) or type(err).__name__
    return text[:MAX_ERROR_TEXT]


async def _publish_error(nc: NATS, subject: str, op: str, err: BaseException) -> None:
    try:
        await nc.publish(subject, _error_text(err).encode("utf-8"), headers={H_OP: op, H_ERROR: _error_code(err)})
    except Exception:  # noqa: BLE001 - the connection is closing; the peer will time out
        pass


def _remote_error(msg: Msg) -> ChunkError:
    code = (msg.headers or {}).get(H_ERROR) or "UNKNOWN"
    text = msg.data[: MAX_ERROR_TEXT * 4].decode("utf-8", "replace")
    return ChunkError("CHUNK_REMOTE", f"far side failed: {code}: {text}", remote_code=code)


class _Outgoing:
    def __init__(self, nc: NATS, frags: list[Fragment]):
        self.nc, self.frags, self.count = nc, frags, len(frags)
        self.next = 0
        self.granted = 0

    @property
    def done(self) -> bool:
        return self.next >= self.count

    def sent_first(self) -> None:
        self.next = max(self.next, 1)
        self.granted = max(self.granted, 1)

    def grant(self, up_to: int) -> None:
        if up_to > self.granted:
            self.granted = min(up_to, self.count)

    async def pump(self, subject: str, reply: str | None = None) -> None:
        while self.next < self.granted:
            f = self.frags[self.next]
            self.next += 1
            await self.nc.publish(subject, encode_fragment(f), reply=reply or "", headers={H_OP: "data"})


class _Incoming:
    def __init__(self, *, max_payload_bytes: int, max_fragments: int, transfer_timeout_ms: int, window_bytes: int):
        self.r = Reassembler(max_payload_bytes=max_payload_bytes, max_fragments=max_fragments, max_pending=1,
                             timeout_ms=transfer_timeout_ms, max_remembered=1)
        self.window_bytes = window_bytes
        self.id: str | None = None
        self.granted = 0
        self.window = 1
        self.count = 0
        self.received = 0
        self.seen: set[int] = set()

    def on_frame(self, frame: bytes, implicit: str) -> bytes | None:
        f = decode_fragment(frame)
        if self.id is None:
            self.id, self.count = f.id, f.count
            self.window = window_fragments(self.window_bytes, f.fragment_size)
            self.granted = min(f.count, self.window) if implicit == "window" else 1
        elif f.id != self.id:
            raise ChunkError("CHUNK_HEADER_MISMATCH", f"fragment of message {f.id} in the transfer of {self.id}", id=f.id)
        if f.index >= self.granted:
            raise ChunkError("CHUNK_FLOW", f"fragment {f.index} sent beyond the granted credit {self.granted}", id=f.id)
        payload = self.r.push(f)
        self.seen.add(f.index)
        self.received = f.count if payload is not None else len(self.seen)
        return payload

    def take_grant(self) -> int | None:
        if self.granted >= self.count or self.granted - self.received > self.window // 2:
            return None
        self.granted = min(self.count, self.received + self.window)
        return self.granted


async def request_chunked(
    nc: NATS,
    subject: str,
    payload: bytes,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    window_bytes: int = DEFAULT_WINDOW_BYTES,
    max_fragment_bytes: int | None = None,
    max_response_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    max_fragments: int = DEFAULT_MAX_FRAGMENTS,
    transfer_timeout_ms: int = DEFAULT_TRANSFER_TIMEOUT_MS,
    id: str | None = None,
) -> bytes:
    """Sends a request of any size to a chunked service and returns its reply of any size."""
    if window_bytes < 1 or timeout_ms <= 0:
        raise ChunkError("CHUNK_INVALID_ARGUMENT", "window_bytes and timeout_ms must be positive")
    frags = split(payload, max_fragment_bytes=_frame_bytes(nc, max_fragment_bytes), id=id)
    up = _Outgoing(nc, frags)
    down = _Incoming(max_payload_bytes=max_response_bytes, max_fragments=max_fragments,
                     transfer_timeout_ms=transfer_timeout_ms, window_bytes=window_bytes)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    server: list[str] = []
    queue: asyncio.Queue[Msg] = asyncio.Queue()

    async def on_msg(m: Msg) -> None:
        await queue.put(m)

    def learn(m: Msg) -> str:
        if not m.reply:
            raise ChunkError("CHUNK_FLOW", "far side sent a message without a reply subject")
        if not server:
            server.append(m.reply)
        elif server[0] != m.reply:
            raise ChunkError("CHUNK_FLOW", "far side changed its transfer subject")
        return server[0]

    async def handle(m: Msg) -> bytes | None:
        op = (m.headers or {}).get(H_OP)
        if not op:
            if (m.headers or {}).get("Status") == "503":
                raise _NoAbort(ChunkError("CHUNK_NO_RESPONDERS", f"no responders on {subject}"))
            raise ChunkError("CHUNK_FLOW", "message without a Chunk-Op header")
        if op == "credit":
            to = learn(m)
            grant = _int_header(m, H_GRANT)
            if grant is None:
                raise ChunkError("CHUNK_FLOW", "credit without a valid Chunk-Grant")
            up.grant(grant)
            await up.pump(to)
            return None
        if op == "data":
            to = learn(m)
            if not up.done:
                raise ChunkError("CHUNK_FLOW", "response data before the request was fully sent")
            value = down.on_frame(m.data, "window")
            if value is not None:
                return value
            grant = down.take_grant()
            if grant is not None:
                await nc.publish(to, b"", headers={H_OP: "credit", H_GRANT: str(grant)})
            return None
        if op == "error":
            raise _NoAbort(_remote_error(m))
        raise ChunkError("CHUNK_FLOW", f"unexpected Chunk-Op {op}")

    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox, cb=on_msg)
    try:
        await nc.publish(subject, encode_fragment(frags[0]), reply=inbox,
                         headers={H_OP: "open", H_VERSION: str(WIRE_VERSION), H_WINDOW: str(window_bytes)})
        up.sent_first()
        while not done.done():
            try:
                m = await asyncio.wait_for(queue.get(), timeout_ms / 1000)
            except asyncio.TimeoutError:
                state = "waiting for the response" if up.done else "uploading"
                raise ChunkError("CHUNK_TIMEOUT", f"no message from {subject} for {timeout_ms} ms ({state})") from None
            value = await handle(m)
            if value is not None:
                return value
        return done.result()
    except _NoAbort as wrapped:
        raise wrapped.err from None
    except ChunkError as err:
        if server:
            await _publish_error(nc, server[0], "abort", err)
        raise
    except asyncio.CancelledError:
        if server:
            await _publish_error(nc, server[0], "abort", ChunkError("CHUNK_ABORTED", "caller cancelled"))
        raise
    finally:
        down.r.clear()
        try:
            await sub.unsubscribe()
        except Exception:  # noqa: BLE001 - connection closing
            pass


class _NoAbort(Exception):
    """A failure the far side already knows about (its error, or no responders)."""

    def __init__(self, err: ChunkError):
        super().__init__(err.message)
        self.err = err


Handler = Callable[[bytes, "RequestInfo"], Awaitable[bytes] | bytes]


@dataclass(frozen=True)
class RequestInfo:
    subject: str
    id: str
    headers: dict[str, str]


class ChunkedService:
    """A running :func:`serve_chunked`: ``active`` transfers, ``stop()``."""

    def __init__(self) -> None:
        self.sub = None
        self.tasks: set[asyncio.Task] = set()
        self.claims: dict[asyncio.Task | None, int] = {}
        self.stopped = False

    @property
    def active(self) -> int:
        return len(self.tasks)

    @property
    def buffered_bytes(self) -> int:
        """Request bytes claimed by the transfers in progress (bounded by ``max_buffered_bytes``)."""
        return sum(self.claims.values())

    async def stop(self, *, abort: bool = False) -> None:
        self.stopped = True
        if self.sub is not None:
            try:
                await self.sub.unsubscribe()
            except Exception:  # noqa: BLE001
                pass
        if abort:
            for t in self.tasks:
                t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def serve_chunked(
    nc: NATS,
    subject: str,
    handler: Handler,
    *,
    queue: str = "",
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    window_bytes: int = DEFAULT_WINDOW_BYTES,
    max_fragment_bytes: int | None = None,
    max_request_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    max_fragments: int = DEFAULT_MAX_FRAGMENTS,
    max_pending: int = 32,
    max_buffered_bytes: int = 256 * 1024 * 1024,
    transfer_timeout_ms: int = DEFAULT_TRANSFER_TIMEOUT_MS,
) -> ChunkedService:
    """Answers chunked requests on ``subject``: ``handler(request, info)`` returns the reply bytes;
    what it raises goes back to the caller as CHUNK_REMOTE (code = its ``code`` attribute if any)."""
    svc = ChunkedService()

    async def transfer(open_msg: Msg) -> None:
        caller = open_msg.reply
        inbox = nc.new_inbox()
        q: asyncio.Queue[Msg] = asyncio.Queue()
        sub = None
        try:
            h = open_msg.headers or {}
            if h.get(H_VERSION) != str(WIRE_VERSION):
                raise ChunkError("CHUNK_BAD_VERSION", f"unsupported Chunk-Version, expected {WIRE_VERSION}")
            caller_window = _int_header(open_msg, H_WINDOW)
            if caller_window is None or caller_window < 1:
                raise ChunkError("CHUNK_FLOW", "open without a valid Chunk-Window")
            down = _Incoming(max_payload_bytes=max_request_bytes, max_fragments=max_fragments,
                             transfer_timeout_ms=transfer_timeout_ms, window_bytes=window_bytes)
            first = decode_fragment(open_msg.data)
            if first.total_bytes > max_request_bytes:
                raise ChunkError("CHUNK_TOO_LARGE", f"request of {first.total_bytes} bytes, limit {max_request_bytes}",
                                 limit=max_request_bytes, actual=first.total_bytes)
            if svc.buffered_bytes + first.total_bytes > max_buffered_bytes:
                raise ChunkError("CHUNK_BUFFER_FULL", f"{svc.buffered_bytes} request bytes held, limit {max_buffered_bytes}",
                                 limit=max_buffered_bytes, actual=svc.buffered_bytes + first.total_bytes)
            me = asyncio.current_task()
            svc.claims[me] = first.total_bytes

            async def on_msg(m: Msg) -> None:
                await q.put(m)

            sub = await nc.subscribe(inbox, cb=on_msg)
            request = down.on_frame(open_msg.data, "one")
            if request is None:
                grant = down.take_grant()
                if grant is not None:
                    await nc.publish(caller, b"", reply=inbox, headers={H_OP: "credit", H_GRANT: str(grant)})
            while request is None:
                try:
                    m = await asyncio.wait_for(q.get(), timeout_ms / 1000)
                except asyncio.TimeoutError:
                    raise ChunkError("CHUNK_TIMEOUT", f"no message from the caller for {timeout_ms} ms") from None
                op = (m.headers or {}).get(H_OP)
                if op == "abort":
                    return
                if op != "data":
                    raise ChunkError("CHUNK_FLOW", f"unexpected Chunk-Op {op}")
                request = down.on_frame(m.data, "one")
                if request is None:
                    grant = down.take_grant()
                    if grant is not None:
                        await nc.publish(caller, b"", reply=inbox, headers={H_OP: "credit", H_GRANT: str(grant)})
            try:
                result = handler(request, RequestInfo(subject, first.id, dict(h)))
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    result = await result
                if not isinstance(result, (bytes, bytearray, memoryview)):
                    raise ChunkError("CHUNK_INVALID_ARGUMENT", "handler must return bytes")
            except ChunkError:
                raise
            except Exception as err:  # noqa: BLE001 - goes back to the caller
                await _publish_error(nc, caller, "error", err)
                return
            frags = split(bytes(result), max_fragment_bytes=_frame_bytes(nc, max_fragment_bytes))
            up = _Outgoing(nc, frags)
            up.grant(min(len(frags), window_fragments(caller_window, frags[0].fragment_size)))
            await up.pump(caller, inbox)
            while not up.done:
                try:
                    m = await asyncio.wait_for(q.get(), timeout_ms / 1000)
                except asyncio.TimeoutError:
                    raise ChunkError("CHUNK_TIMEOUT", f"no credit from the caller for {timeout_ms} ms") from None
                op = (m.headers or {}).get(H_OP)
                if op == "abort":
                    return
                if op != "credit":
                    raise ChunkError("CHUNK_FLOW", f"unexpected Chunk-Op {op}")
                grant = _int_header(m, H_GRANT)
                if grant is None:
                    raise ChunkError("CHUNK_FLOW", "credit without a valid Chunk-Grant")
                up.grant(grant)
                await up.pump(caller, inbox)
        except ChunkError as err:
            if caller:
                await _publish_error(nc, caller, "error", err)
        except asyncio.CancelledError:
            if caller:
                await _publish_error(nc, caller, "error", ChunkError("CHUNK_ABORTED", "service stopping"))
        finally:
            svc.claims.pop(asyncio.current_task(), None)
            if sub is not None:
                try:
                    await sub.unsubscribe()
                except Exception:  # noqa: BLE001
                    pass

    async def on_open(m: Msg) -> None:
        if svc.stopped or not m.reply or (m.headers or {}).get(H_OP) != "open":
            return  # garbage on the service subject: nobody to answer
        if len(svc.tasks) >= max_pending:
            await _publish_error(nc, m.reply, "error", ChunkError("CHUNK_TOO_MANY_PENDING", f"{max_pending} transfers in progress"))
            return
        t = asyncio.create_task(transfer(m))
        svc.tasks.add(t)
        t.add_done_callback(svc.tasks.discard)

    svc.sub = await nc.subscribe(subject, queue=queue, cb=on_open)
    return svc


async def publish_chunked(nc: NATS, subject: str, payload: bytes, **options) -> None:  # noqa: ANN003
    """One-way delivery of any size; returns once the receiver's handler has returned
    (``request_chunked`` with an empty reply)."""
    await request_chunked(nc, subject, payload, **options)


async def subscribe_chunked(nc: NATS, subject: str, handler: Callable[[bytes, RequestInfo], Awaitable[None] | None],
                            **options) -> ChunkedService:  # noqa: ANN003
    """Receives :func:`publish_chunked` payloads (``serve_chunked`` with an empty reply)."""

    async def serve(data: bytes, info: RequestInfo) -> bytes:
        result = handler(data, info)
        if asyncio.iscoroutine(result):
            await result
        return b""

    return await serve_chunked(nc, subject, serve, **options)
