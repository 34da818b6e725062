"""Attachments through the broker's chunked endpoints, against a stand-in built from the TypeScript
packages (chunker streams + protocol envelopes)."""
from __future__ import annotations

import asyncio
import hashlib
import shutil

import nats
import pytest

from session_bot_plugin import CommandContext, Plugin, Reply, Worker, WorkerConfig
from session_bot_plugin.chunker import ChunkError
from session_bot_plugin.worker import BrokerAttachments, make_envelope, split_envelope
from session_bot_plugin.protocol import ProtocolError

from .bus import ensure_bus, message_event, outbound, publish_event, wait_until
from .conftest import REPO

JS = REPO / "sdks" / "python" / "tests" / "js"
BOT = "att"


@pytest.fixture
async def broker(nats_server):
    node = shutil.which("node")
    if node is None or not (REPO / "packages" / "protocol" / "dist" / "index.js").exists():
        pytest.fail("attachment interop tests need node on PATH and packages/protocol + packages/chunker built (pnpm build)")
    proc = await asyncio.create_subprocess_exec(node, str(JS / "attachment_broker.mjs"), str(REPO), nats_server.url, BOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    if line.strip() != b"ready":
        proc.kill()
        pytest.fail(f"attachment broker stand-in did not start: {(await proc.stderr.read()).decode()[-2000:]}")
    yield proc
    proc.terminate()
    await proc.wait()


async def test_get_and_put_through_typescript_envelopes(broker, nc):
    a = BrokerAttachments(nc, BOT, 10_000)
    assert await a.get("seeded") == "seeded file ✓".encode()
    data = bytes(range(256)) * 100
    d = await a.put(data, "application/octet-stream", "blob.bin")
    assert (d.size, d.sha256, d.fileName) == (len(data), hashlib.sha256(data).hexdigest(), "blob.bin")
    assert await a.get(d.id) == data
    with pytest.raises(ChunkError) as info:
        await a.get("missing")
    assert info.value.code == "CHUNK_REMOTE" and info.value.remote_code == "NOT_FOUND"


def test_envelope_bounds():
    header, data = split_envelope(make_envelope(b'{"v":1}', b"xyz"))
    assert header == {"v": 1} and data == b"xyz"
    for bad in (b"", b"\x00\x00", b"\x00\x00\x00\x09{}", b"\x00\x01\x00\x01" + b"{" * 70_000):
        with pytest.raises(ProtocolError):
            split_envelope(bad)


async def test_a_plugin_fetches_and_uploads_in_a_worker(broker, nats_server, nc):
    js = nc.jetstream()
    await ensure_bus(js)
    p = Plugin("mirror", version="1.0.0", description="")

    @p.command("mirror", description="")
    async def mirror(ctx: CommandContext) -> None:
        data = await ctx.attachments.get(ctx.event.attachments[0])
        d = await ctx.attachments.put(data[::-1], content_type="text/plain", file_name="mirror.txt")
        await ctx.reply(Reply(text=hashlib.sha256(data).hexdigest()[:8], attachments=(d,)))

    w = Worker([p], WorkerConfig(bot=BOT, partitions=1, instance="att-1", fetch_timeout_ms=300),
               nc=await nats.connect(nats_server.url))
    await w.start()
    try:
        seeded = {"id": "seeded", "contentType": "text/plain", "size": len("seeded file ✓".encode())}
        await publish_event(js, message_event(BOT, "/mirror", attachments=[seeded]), 1)
        out = await wait_until(lambda: _n(outbound(js, BOT), 1), timeout=15)
        assert out[0]["text"] == hashlib.sha256("seeded file ✓".encode()).hexdigest()[:8]
        uploaded = out[0]["attachments"][0]
        assert await BrokerAttachments(nc, BOT, 10_000).get(uploaded) == "seeded file ✓".encode()[::-1]
    finally:
        await w.stop(grace_ms=0)
        await w.nc.drain()


async def _n(coro, n):
    items = await coro
    return items if len(items) >= n else None
