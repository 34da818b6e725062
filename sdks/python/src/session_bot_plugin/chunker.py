"""Frames of @session-bot/chunker (frame version 1), byte-compatible with the TypeScript package.

Layout (packages/chunker/README.md), all integers unsigned big-endian:
``version(1) idLen(1) id(L) index(4) count(4) fragmentSize(4) totalBytes(8) sha256(32) body(n) crc32(4)``.

:func:`split` → :func:`encode_fragment` → any transport → :func:`decode_fragment` →
:meth:`Reassembler.push`. Every failure is a :class:`ChunkError` with a ``code`` from
:data:`CHUNK_ERROR_CODES`.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Final

FRAME_VERSION: Final = 1
MAX_ID_BYTES: Final = 64
DIGEST_BYTES: Final = 32
MAX_TOTAL_BYTES: Final = 2**53 - 1
MAX_COUNT: Final = 0xFFFFFFFF
_FIXED: Final = 1 + 1 + 4 + 4 + 4 + 8 + DIGEST_BYTES  # 54
_CRC: Final = 4

CHUNK_ERROR_CODES: Final = (
    "CHUNK_MALFORMED", "CHUNK_BAD_VERSION", "CHUNK_CORRUPT", "CHUNK_HEADER_MISMATCH",
    "CHUNK_DIGEST_MISMATCH", "CHUNK_TOO_LARGE", "CHUNK_TOO_MANY_FRAGMENTS", "CHUNK_TOO_MANY_PENDING",
    "CHUNK_BUFFER_FULL", "CHUNK_EXPIRED", "CHUNK_BAD_JSON", "CHUNK_INVALID_ARGUMENT", "CHUNK_TIMEOUT",
    "CHUNK_FLOW", "CHUNK_NO_RESPONDERS", "CHUNK_REMOTE", "CHUNK_ABORTED",
)  # fmt: skip


class ChunkError(Exception):
    """The one error of the chunker. ``details`` may hold ``id``, ``limit``, ``actual``, ``remote_code``."""

    def __init__(self, code: str, message: str, **details: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def remote_code(self) -> str | None:
        return self.details.get("remote_code")

    def __repr__(self) -> str:
        return f"ChunkError({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class Fragment:
    id: str
    index: int
    count: int
    fragment_size: int
    total_bytes: int
    digest: bytes
    body: bytes | memoryview = field(repr=False)


def frame_overhead(id_bytes: int) -> int:
    return _FIXED + id_bytes + _CRC


def new_message_id() -> str:
    return os.urandom(16).hex()


def sha256(data: bytes | bytearray | memoryview) -> bytes:
    return hashlib.sha256(data).digest()


def _encode_id(id: object) -> bytes:
    if not isinstance(id, str):
        raise ChunkError("CHUNK_INVALID_ARGUMENT", "message id must be a string")
    try:
        raw = id.encode("utf-8")
    except UnicodeEncodeError:
        raise ChunkError("CHUNK_INVALID_ARGUMENT", "message id must be a well-formed string") from None
    if not 1 <= len(raw) <= MAX_ID_BYTES:
        raise ChunkError("CHUNK_INVALID_ARGUMENT", f"message id must be 1..{MAX_ID_BYTES} UTF-8 bytes, got {len(raw)}",
                         limit=MAX_ID_BYTES, actual=len(raw))
    return raw


def fragment_count(total_bytes: int, fragment_size: int) -> int:
    return 1 if total_bytes == 0 else -(-total_bytes // fragment_size)


def expected_body_length(index: int, count: int, fragment_size: int, total_bytes: int) -> int:
    return fragment_size if index < count - 1 else total_bytes - (count - 1) * fragment_size


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def fragment_problem(f: Fragment) -> str | None:
    """Why the fragment's geometry is inconsistent, or None (shared by encode, decode, reassembly)."""
    if not _is_int(f.count) or not 1 <= f.count <= MAX_COUNT:
        return "bad fragment count"
    if not _is_int(f.index) or not 0 <= f.index < f.count:
        return f"index outside 0..{f.count - 1}"
    if not _is_int(f.fragment_size) or not 1 <= f.fragment_size <= MAX_COUNT:
        return "bad fragment size"
    if not _is_int(f.total_bytes) or not 0 <= f.total_bytes <= MAX_TOTAL_BYTES:
        return "bad total length"
    if fragment_count(f.total_bytes, f.fragment_size) != f.count:
        return f"count {f.count} does not match total {f.total_bytes} / fragment size {f.fragment_size}"
    if not isinstance(f.digest, (bytes, bytearray, memoryview)) or len(f.digest) != DIGEST_BYTES:
        return "digest must be 32 bytes"
    if not isinstance(f.body, (bytes, bytearray, memoryview)):
        return "body must be bytes"
    want = expected_body_length(f.index, f.count, f.fragment_size, f.total_bytes)
    if len(f.body) != want:
        return f"fragment {f.index} body is {len(f.body)} bytes, expected {want}"
    return None


def encode_fragment(f: Fragment) -> bytes:
    id_bytes = _encode_id(f.id)
    problem = fragment_problem(f)
    if problem is not None:
        raise ChunkError("CHUNK_INVALID_ARGUMENT", f"cannot encode fragment: {problem}", id=f.id)
    head = struct.pack(">BB", FRAME_VERSION, len(id_bytes)) + id_bytes + struct.pack(
        ">IIIQ", f.index, f.count, f.fragment_size, f.total_bytes
    )
    frame = b"".join((head, bytes(f.digest), bytes(f.body)))
    return frame + struct.pack(">I", zlib.crc32(frame))


def decode_fragment(data: bytes | bytearray | memoryview) -> Fragment:
    """Checks and decodes one frame (CHUNK_MALFORMED, CHUNK_BAD_VERSION, CHUNK_CORRUPT; in that order of checks)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ChunkError("CHUNK_MALFORMED", "frame must be bytes")
    b = bytes(data)
    if len(b) < 1:
        raise ChunkError("CHUNK_MALFORMED", "empty frame")
    if b[0] != FRAME_VERSION:
        raise ChunkError("CHUNK_BAD_VERSION", f"unsupported frame version {b[0]}, expected {FRAME_VERSION}")
    if len(b) < frame_overhead(1):
        raise ChunkError("CHUNK_MALFORMED", f"frame of {len(b)} bytes is too short")
    crc_at = len(b) - _CRC
    if zlib.crc32(b[:crc_at]) != struct.unpack_from(">I", b, crc_at)[0]:
        raise ChunkError("CHUNK_CORRUPT", "frame checksum mismatch")
    L = b[1]
    if not 1 <= L <= MAX_ID_BYTES:
        raise ChunkError("CHUNK_MALFORMED", f"id length {L} outside 1..{MAX_ID_BYTES}")
    body_at = _FIXED + L
    if len(b) < body_at + _CRC:
        raise ChunkError("CHUNK_MALFORMED", f"frame of {len(b)} bytes is too short")
    try:
        id = b[2 : 2 + L].decode("utf-8")  # strict: no BOM stripping, no replacement
    except UnicodeDecodeError:
        raise ChunkError("CHUNK_MALFORMED", "message id is not valid UTF-8") from None
    index, count, fragment_size, total = struct.unpack_from(">IIIQ", b, 2 + L)
    if total > MAX_TOTAL_BYTES:
        raise ChunkError("CHUNK_MALFORMED", "total length exceeds 2^53-1", id=id)
    f = Fragment(id, index, count, fragment_size, total, b[22 + L : body_at], memoryview(b)[body_at:crc_at])
    problem = fragment_problem(f)
    if problem is not None:
        raise ChunkError("CHUNK_MALFORMED", problem, id=id)
    return f


def split(payload: bytes | bytearray | memoryview, *, max_fragment_bytes: int, id: str | None = None) -> list[Fragment]:
    """Cuts ``payload`` into fragments whose frames are at most ``max_fragment_bytes`` long."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise ChunkError("CHUNK_INVALID_ARGUMENT", "payload must be bytes")
    mid = new_message_id() if id is None else id
    id_bytes = _encode_id(mid)
    if not _is_int(max_fragment_bytes):
        raise ChunkError("CHUNK_INVALID_ARGUMENT", "max_fragment_bytes must be an integer")
    fragment_size = min(max_fragment_bytes - frame_overhead(len(id_bytes)), MAX_COUNT)
    if fragment_size < 1:
        raise ChunkError("CHUNK_INVALID_ARGUMENT",
                         f"max_fragment_bytes {max_fragment_bytes} leaves no room for a body (overhead {frame_overhead(len(id_bytes))})",
                         limit=frame_overhead(len(id_bytes)) + 1, actual=max_fragment_bytes)
    view = memoryview(bytes(payload))
    total = len(view)
    count = fragment_count(total, fragment_size)
    if count > MAX_COUNT:
        raise ChunkError("CHUNK_TOO_MANY_FRAGMENTS", f"payload needs {count} fragments", id=mid, limit=MAX_COUNT, actual=count)
    digest = sha256(view)
    return [
        Fragment(mid, i, count, fragment_size, total, digest, view[i * fragment_size : min((i + 1) * fragment_size, total)])
        for i in range(count)
    ]


def split_json(value: Any, *, max_fragment_bytes: int, id: str | None = None) -> list[Fragment]:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise ChunkError("CHUNK_BAD_JSON", "value cannot be serialised as JSON") from None
    return split(text.encode("utf-8"), max_fragment_bytes=max_fragment_bytes, id=id)


@dataclass
class _Pending:
    id: str
    count: int
    fragment_size: int
    total_bytes: int
    digest: bytes
    deadline: float
    buf: bytearray
    have: bytearray
    received: int = 0
    hashed: int = 0
    hash: Any = field(default_factory=hashlib.sha256)


def _now_ms() -> float:
    return time.monotonic() * 1000


class Reassembler:
    """Puts fragments back together under hard limits (same semantics as the TypeScript class)."""

    def __init__(self, *, max_payload_bytes: int, max_fragments: int, max_pending: int, timeout_ms: float,
                 max_buffered_bytes: int | None = None, max_remembered: int | None = None,
                 now: Callable[[], float] = _now_ms):
        for name, v, lo in (("max_payload_bytes", max_payload_bytes, 0), ("max_fragments", max_fragments, 1),
                            ("max_pending", max_pending, 1), ("timeout_ms", timeout_ms, 0),
                            ("max_buffered_bytes", max_buffered_bytes, 0), ("max_remembered", max_remembered, 0)):
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or v < lo):
                raise ChunkError("CHUNK_INVALID_ARGUMENT", f"{name} must be a number >= {lo}")
        self.max_payload_bytes = max_payload_bytes
        self.max_fragments = max_fragments
        self.max_pending = max_pending
        self.timeout_ms = timeout_ms
        self.max_buffered_bytes = max_pending * max_payload_bytes if max_buffered_bytes is None else max_buffered_bytes
        self.max_remembered = max(1024, 4 * max_pending) if max_remembered is None else max_remembered
        self._now = now
        self._pending: dict[str, _Pending] = {}
        self._remembered: dict[str, tuple[float, str | None]] = {}
        self._buffered = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def buffered_bytes(self) -> int:
        return self._buffered

    @property
    def remembered(self) -> int:
        return len(self._remembered)

    def push_frame(self, frame: bytes | bytearray | memoryview) -> bytes | None:
        return self.push(decode_fragment(frame))

    def push(self, f: Fragment) -> bytes | None:
        """Returns the payload when ``f`` completes it, else None. Duplicates are ignored."""
        now = self._now()
        self.sweep(now)
        problem = fragment_problem(f)
        if problem is not None or not isinstance(f.id, str) or not 1 <= len(f.id) <= MAX_ID_BYTES:
            raise ChunkError("CHUNK_MALFORMED", problem or "fragment id must be 1..64 UTF-8 bytes")
        old = self._remembered.get(f.id)
        if old is not None:
            if old[1] is None:
                return None
            raise ChunkError(old[1], f"message {f.id} already failed ({old[1]})", id=f.id)
        p = self._pending.get(f.id)
        if p is None:
            p = self._admit(f, now)
        elif (p.count, p.fragment_size, p.total_bytes, p.digest) != (f.count, f.fragment_size, f.total_bytes, bytes(f.digest)):
            self._fail(p, now, "CHUNK_HEADER_MISMATCH")
            raise ChunkError("CHUNK_HEADER_MISMATCH", f"fragment {f.index} of message {f.id} disagrees with earlier fragments", id=f.id)
        if p.have[f.index]:
            return None
        start = f.index * p.fragment_size
        p.buf[start : start + len(f.body)] = f.body
        p.have[f.index] = 1
        p.received += 1
        while p.hashed < p.count and p.have[p.hashed]:
            s = p.hashed * p.fragment_size
            p.hash.update(memoryview(p.buf)[s : s + expected_body_length(p.hashed, p.count, p.fragment_size, p.total_bytes)])
            p.hashed += 1
        if p.received < p.count:
            return None
        if p.hash.digest() != p.digest:
            self._fail(p, now, "CHUNK_DIGEST_MISMATCH")
            raise ChunkError("CHUNK_DIGEST_MISMATCH", f"message {f.id}: SHA-256 of the reassembled payload does not match", id=f.id)
        payload = bytes(p.buf)
        self._release(p)
        self._remember(f.id, now, None)
        return payload

    def sweep(self, now: float | None = None) -> list[ChunkError]:
        now = self._now() if now is None else now
        expired: list[ChunkError] = []
        for p in list(self._pending.values()):
            if p.deadline > now:
                break
            self._fail(p, now, "CHUNK_EXPIRED")
            expired.append(ChunkError("CHUNK_EXPIRED", f"message {p.id} did not complete within {self.timeout_ms} ms",
                                      id=p.id, limit=self.timeout_ms))
        for id, (until, _) in list(self._remembered.items()):
            if until > now:
                break
            del self._remembered[id]
        return expired

    def discard(self, id: str, code: str = "CHUNK_ABORTED") -> bool:
        p = self._pending.get(id)
        if p is None:
            return False
        self._fail(p, self._now(), code)
        return True

    def clear(self) -> None:
        for p in list(self._pending.values()):
            self._release(p)
        self._remembered.clear()

    def _admit(self, f: Fragment, now: float) -> _Pending:
        if f.count > self.max_fragments:
            raise ChunkError("CHUNK_TOO_MANY_FRAGMENTS", f"message {f.id} claims {f.count} fragments, limit {self.max_fragments}",
                             id=f.id, limit=self.max_fragments, actual=f.count)
        if f.total_bytes > self.max_payload_bytes:
            raise ChunkError("CHUNK_TOO_LARGE", f"message {f.id} claims {f.total_bytes} bytes, limit {self.max_payload_bytes}",
                             id=f.id, limit=self.max_payload_bytes, actual=f.total_bytes)
        if len(self._pending) >= self.max_pending:
            raise ChunkError("CHUNK_TOO_MANY_PENDING", f"{len(self._pending)} messages pending, limit {self.max_pending}",
                             id=f.id, limit=self.max_pending, actual=len(self._pending) + 1)
        if self._buffered + f.total_bytes > self.max_buffered_bytes:
            raise ChunkError("CHUNK_BUFFER_FULL", f"message {f.id} would exceed the {self.max_buffered_bytes}-byte buffer",
                             id=f.id, limit=self.max_buffered_bytes, actual=self._buffered + f.total_bytes)
        p = _Pending(f.id, f.count, f.fragment_size, f.total_bytes, bytes(f.digest), now + self.timeout_ms,
                     bytearray(f.total_bytes), bytearray(f.count))
        self._pending[f.id] = p
        self._buffered += f.total_bytes
        return p

    def _release(self, p: _Pending) -> None:
        if self._pending.pop(p.id, None) is not None:
            self._buffered -= p.total_bytes
        p.buf = bytearray()
        p.have = bytearray()

    def _fail(self, p: _Pending, now: float, code: str) -> None:
        self._release(p)
        self._remember(p.id, now, code)

    def _remember(self, id: str, now: float, failed: str | None) -> None:
        self._remembered.pop(id, None)
        if self.max_remembered == 0:
            return
        while len(self._remembered) >= self.max_remembered:
            del self._remembered[next(iter(self._remembered))]
        self._remembered[id] = (now + self.timeout_ms, failed)
