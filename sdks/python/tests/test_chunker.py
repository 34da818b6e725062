from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_bot_plugin import chunker
from session_bot_plugin.chunker import ChunkError, Fragment, Reassembler

from .conftest import CHUNKER_VECTORS, load_json

VECTORS = load_json(CHUNKER_VECTORS)


def reassembler(**kw) -> Reassembler:
    opts = dict(max_payload_bytes=1 << 20, max_fragments=1 << 12, max_pending=4, timeout_ms=60_000)
    opts.update(kw)
    return Reassembler(**opts)


def test_vector_file_is_version_1_and_not_empty():
    assert VECTORS["frame_version"] == chunker.FRAME_VERSION
    assert len(VECTORS["valid"]) >= 6 and len(VECTORS["invalid"]) >= 16


@pytest.mark.parametrize("v", VECTORS["valid"], ids=[v["name"] for v in VECTORS["valid"]])
def test_valid_vectors_split_exactly(v):
    payload = bytes.fromhex(v["payload_hex"])
    frags = chunker.split(payload, max_fragment_bytes=v["max_fragment_bytes"], id=v["id"])
    assert [chunker.encode_fragment(f).hex() for f in frags] == v["frames_hex"]
    assert all(f.fragment_size == v["fragment_size"] for f in frags)
    assert chunker.sha256(payload).hex() == v["sha256_hex"]


@pytest.mark.parametrize("v", VECTORS["valid"], ids=[v["name"] for v in VECTORS["valid"]])
def test_valid_vectors_reassemble_in_any_order(v):
    frames = [bytes.fromhex(h) for h in v["frames_hex"]]
    for seed in range(3):
        order = frames + frames[:1]  # one duplicate
        random.Random(seed).shuffle(order)
        r = reassembler()
        out = [r.push_frame(f) for f in order]
        done = [o for o in out if o is not None]
        assert done == [bytes.fromhex(v["payload_hex"])]
        assert r.pending == 0 and r.buffered_bytes == 0


@pytest.mark.parametrize("v", VECTORS["invalid"], ids=[v["name"] for v in VECTORS["invalid"]])
def test_invalid_vectors_give_their_error(v):
    with pytest.raises(ChunkError) as info:
        chunker.decode_fragment(bytes.fromhex(v["frame_hex"]))
    assert info.value.code == v["error"]


def test_every_single_byte_change_is_detected():
    frame = chunker.encode_fragment(chunker.split(b"hello frames", max_fragment_bytes=200, id="x")[0])
    for pos in range(len(frame)):
        for delta in (1, 0x80, 0xFF):
            broken = bytearray(frame)
            broken[pos] = (broken[pos] + delta) % 256
            with pytest.raises(ChunkError) as info:
                chunker.decode_fragment(bytes(broken))
            assert info.value.code in ("CHUNK_CORRUPT", "CHUNK_BAD_VERSION", "CHUNK_MALFORMED")


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=5000), max_frame=st.integers(min_value=91, max_value=700), seed=st.integers(0, 1000))
def test_roundtrip_property(payload, max_frame, seed):
    frames = [chunker.encode_fragment(f) for f in chunker.split(payload, max_fragment_bytes=max_frame)]
    assert all(len(fr) <= max_frame for fr in frames)
    order = frames + random.Random(seed).sample(frames, k=min(2, len(frames)))
    random.Random(seed).shuffle(order)
    r = reassembler(max_payload_bytes=5000, max_fragments=5000)
    got = [x for x in (r.push_frame(fr) for fr in order) if x is not None]
    assert got == [payload]


def frag(**kw) -> Fragment:
    base = chunker.split(b"abcdefgh", max_fragment_bytes=chunker.frame_overhead(1) + 4, id="a")[0]
    return Fragment(**{**base.__dict__, **kw})


@pytest.mark.parametrize(
    "kw,code",
    [
        (dict(max_payload_bytes=7), "CHUNK_TOO_LARGE"),
        (dict(max_fragments=1), "CHUNK_TOO_MANY_FRAGMENTS"),
    ],
)
def test_limits_refuse_before_allocating(kw, code):
    r = reassembler(**kw)
    with pytest.raises(ChunkError) as info:
        r.push(frag())
    assert info.value.code == code and r.buffered_bytes == 0


def test_huge_claims_are_refused_without_allocation():
    digest = bytes(32)
    r = reassembler()
    with pytest.raises(ChunkError) as info:
        r.push(Fragment("big", 0, 2**31, 5, 5 * 2**31, digest, b"12345"))
    assert info.value.code == "CHUNK_TOO_MANY_FRAGMENTS"
    with pytest.raises(ChunkError) as info:
        r.push(Fragment("big2", 0, 1, 10_000_000_000, 10_000_000_000, digest, b""))
    assert info.value.code in ("CHUNK_MALFORMED", "CHUNK_TOO_LARGE")
    assert r.buffered_bytes == 0


def test_pending_and_buffer_limits_and_expiry():
    clock = [0.0]
    r = reassembler(max_pending=2, max_buffered_bytes=16, timeout_ms=1000, now=lambda: clock[0])
    r.push(frag(id="p1"))
    r.push(frag(id="p2"))
    with pytest.raises(ChunkError) as info:
        r.push(frag(id="p3"))
    assert info.value.code == "CHUNK_TOO_MANY_PENDING"
    clock[0] = 1000
    expired = r.sweep()
    assert [e.code for e in expired] == ["CHUNK_EXPIRED", "CHUNK_EXPIRED"] and r.pending == 0
    with pytest.raises(ChunkError) as info:  # a failed id stays failed while remembered
        r.push(frag(id="p1", index=1, body=b"efgh"))
    assert info.value.code == "CHUNK_EXPIRED"
    r2 = reassembler(max_buffered_bytes=10)
    r2.push(frag(id="q1"))
    with pytest.raises(ChunkError) as info:
        r2.push(frag(id="q2"))
    assert info.value.code == "CHUNK_BUFFER_FULL"


def test_header_mismatch_and_digest_mismatch():
    r = reassembler()
    r.push(frag(id="h"))
    with pytest.raises(ChunkError) as info:
        r.push(frag(id="h", index=1, body=b"efgh", digest=bytes(32)))
    assert info.value.code == "CHUNK_HEADER_MISMATCH"
    r.push(frag(id="d", digest=bytes(32)))
    with pytest.raises(ChunkError) as info:
        r.push(frag(id="d", index=1, body=b"efgh", digest=bytes(32)))
    assert info.value.code == "CHUNK_DIGEST_MISMATCH"
    assert r.pending == 0


def test_duplicate_after_completion_is_ignored():
    frags = chunker.split(b"xyz", max_fragment_bytes=200, id="once")
    r = reassembler()
    assert r.push(frags[0]) == b"xyz"
    assert r.push(frags[0]) is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: chunker.split(b"x", max_fragment_bytes=59, id="ab"),
        lambda: chunker.split(b"x", max_fragment_bytes=100, id=""),
        lambda: chunker.split(b"x", max_fragment_bytes=200, id="é" * 33),
        lambda: chunker.split("text", max_fragment_bytes=200),
        lambda: chunker.encode_fragment(frag(body=b"abc")),
        lambda: Reassembler(max_payload_bytes=-1, max_fragments=1, max_pending=1, timeout_ms=1),
    ],
)
def test_caller_mistakes_are_invalid_argument(call):
    with pytest.raises(ChunkError) as info:
        call()
    assert info.value.code == "CHUNK_INVALID_ARGUMENT"
