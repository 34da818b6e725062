"""Chunked request/reply over a real nats-server: Python↔Python and Python↔TypeScript."""
from __future__ import annotations

import asyncio
import shutil

import pytest

from session_bot_plugin.chunker import ChunkError
from session_bot_plugin.chunker_nats import request_chunked, serve_chunked

from .conftest import REPO

NODE = shutil.which("node")
TS_CHUNKER = REPO / "packages" / "chunker" / "dist" / "nats.js"
JS = REPO / "sdks" / "python" / "tests" / "js"


def payload(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


async def test_python_roundtrip_many_fragments_with_flow_control(nc):
    seen = []

    async def handler(req, info):
        seen.append(info.id)
        return req[::-1] * 3

    svc = await serve_chunked(nc, "t.py.echo", handler, max_fragment_bytes=600, window_bytes=2000)
    await nc.flush()
    data = payload(50_000)
    got = await request_chunked(nc, "t.py.echo", data, max_fragment_bytes=500, window_bytes=3000, timeout_ms=5000)
    assert got == data[::-1] * 3
    assert len(seen) == 1
    await svc.stop()


async def test_handler_error_reaches_the_caller_with_its_code(nc):
    class NotFound(Exception):
        code = "NOT_FOUND"

    def handler(req, info):
        raise NotFound("nothing here")

    svc = await serve_chunked(nc, "t.py.fail", handler)
    await nc.flush()
    with pytest.raises(ChunkError) as info:
        await request_chunked(nc, "t.py.fail", b"x", timeout_ms=5000)
    assert info.value.code == "CHUNK_REMOTE" and info.value.remote_code == "NOT_FOUND"
    await svc.stop()


async def test_request_limit_is_refused_by_the_server(nc):
    svc = await serve_chunked(nc, "t.py.small", lambda req, info: b"ok", max_request_bytes=1000)
    await nc.flush()
    with pytest.raises(ChunkError) as info:
        await request_chunked(nc, "t.py.small", payload(5000), max_fragment_bytes=400, timeout_ms=5000)
    assert info.value.code == "CHUNK_REMOTE" and info.value.remote_code == "CHUNK_TOO_LARGE"
    await svc.stop()


async def test_response_limit_is_enforced_by_the_caller(nc):
    svc = await serve_chunked(nc, "t.py.big", lambda req, info: payload(20_000), max_fragment_bytes=1000)
    await nc.flush()
    with pytest.raises(ChunkError) as info:
        await request_chunked(nc, "t.py.big", b"x", max_response_bytes=10_000, timeout_ms=5000)
    assert info.value.code == "CHUNK_TOO_LARGE"
    await svc.stop()


async def test_no_responders_and_timeout(nc):
    with pytest.raises(ChunkError) as info:
        await request_chunked(nc, "t.py.nobody", b"x", timeout_ms=2000)
    assert info.value.code == "CHUNK_NO_RESPONDERS"

    async def slow(req, info):
        await asyncio.sleep(5)
        return b""

    svc = await serve_chunked(nc, "t.py.slow", slow)
    await nc.flush()
    with pytest.raises(ChunkError) as info:
        await request_chunked(nc, "t.py.slow", b"x", timeout_ms=300)
    assert info.value.code == "CHUNK_TIMEOUT"
    await svc.stop(abort=True)


@pytest.fixture
def node():
    if NODE is None or not TS_CHUNKER.exists():
        pytest.fail("interop tests need node on PATH and packages/chunker built (run `. /root/sbenv.sh && pnpm --filter @session-bot/chunker build`)")
    return NODE


async def test_python_caller_typescript_server(node, nats_server, nc):
    proc = await asyncio.create_subprocess_exec(
        node, str(JS / "chunk_server.mjs"), str(REPO), nats_server.url, "t.ts.serve",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line.strip() == b"ready", (line, await proc.stderr.read())
        data = payload(30_000)
        got = await request_chunked(nc, "t.ts.serve", data, max_fragment_bytes=900, window_bytes=4000, timeout_ms=10_000)
        assert got == data[::-1]
        with pytest.raises(ChunkError) as info:
            await request_chunked(nc, "t.ts.serve", b"fail please", timeout_ms=10_000)
        assert info.value.code == "CHUNK_REMOTE" and info.value.remote_code == "NOT_FOUND"
    finally:
        proc.terminate()
        await proc.wait()


async def test_typescript_caller_python_server(node, nats_server, nc):
    svc = await serve_chunked(nc, "t.py.for-ts", lambda req, info: req[::-1], max_fragment_bytes=800, window_bytes=3000)
    await nc.flush()
    try:
        proc = await asyncio.create_subprocess_exec(
            node, str(JS / "chunk_request.mjs"), str(REPO), nats_server.url, "t.py.for-ts", "25000",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, err
        assert bytes.fromhex(out.decode().strip()) == payload(25_000)[::-1]
    finally:
        await svc.stop()


async def test_publish_and_subscribe_chunked(nc):
    from session_bot_plugin.chunker_nats import publish_chunked, subscribe_chunked

    got = []

    async def handler(data, info):
        got.append(data)

    svc = await subscribe_chunked(nc, "t.py.oneway", handler, max_fragment_bytes=300)
    await nc.flush()
    await publish_chunked(nc, "t.py.oneway", payload(2000), max_fragment_bytes=300, timeout_ms=5000)
    assert got == [payload(2000)]  # the handler has run when publish returns
    await svc.stop()


async def test_server_bounds_the_bytes_held_across_transfers(nc):
    gate = asyncio.Event()

    async def slow(req, info):
        await gate.wait()
        return b"ok"

    svc = await serve_chunked(nc, "t.py.buffer", slow, max_buffered_bytes=3000)
    await nc.flush()
    first = asyncio.create_task(request_chunked(nc, "t.py.buffer", payload(2000), timeout_ms=5000))
    await asyncio.sleep(0.3)
    assert svc.active == 1 and svc.buffered_bytes == 2000
    with pytest.raises(ChunkError) as info:
        await request_chunked(nc, "t.py.buffer", payload(2000), timeout_ms=5000)
    assert info.value.code == "CHUNK_REMOTE" and info.value.remote_code == "CHUNK_BUFFER_FULL"
    gate.set()
    assert await first == b"ok"
    await svc.stop()
    assert svc.buffered_bytes == 0
