"""TypeScript plugin-host and a Python worker share one set of consumers: every event gets exactly
one answer, with the same action ids whichever worker took it."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import nats
import pytest

from session_bot_plugin import Worker, WorkerConfig, protocol
from session_bot_plugin.config import consumer_name

from .bus import consumers_idle, ensure_bus, message_event, outbound, peer, publish_event, wait_until
from .conftest import REPO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import echo_plugin  # noqa: E402

PLUGIN_HOST_MAIN = REPO / "services" / "plugin-host" / "dist" / "main.js"
BOT = "mixed"
PARTITIONS = 4


@pytest.fixture
async def plugin_host(nats_server):
    node = shutil.which("node")
    if node is None or not PLUGIN_HOST_MAIN.exists():
        pytest.fail("the mixed-fleet test needs node on PATH and services/plugin-host built (pnpm build)")
    env = {**os.environ, "SB_BOT": BOT, "NATS_URL": nats_server.url, "PLUGIN_HOST_PLUGINS": "@session-bot/plugin-echo",
           "PLUGIN_HOST_HTTP_PORT": "0", "SB_PARTITIONS": str(PARTITIONS), "PLUGIN_HOST_INSTANCE": "ts-1",
           "LOG_LEVEL": "warn", "PLUGIN_HOST_BACKOFF_MS": "200", "PLUGIN_HOST_SHUTDOWN_GRACE_MS": "2000"}
    proc = await asyncio.create_subprocess_exec(node, str(PLUGIN_HOST_MAIN), env=env, cwd=str(PLUGIN_HOST_MAIN.parent.parent),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    yield proc
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


async def ts_worker_stats(nc) -> dict | None:
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    await nc.publish(f"$SRV.STATS.{protocol.PLUGIN_HOST_SERVICE}", b"", reply=inbox)
    try:
        while True:
            m = await sub.next_msg(timeout=1)
            if not m.data:  # a no-responders status: nobody registered yet
                return None
            s = json.loads(m.data)
            if s["metadata"].get("instance") == "ts-1":
                return s["endpoints"][0]["data"]
    except asyncio.TimeoutError:
        return None
    finally:
        await sub.unsubscribe()


async def test_typescript_and_python_workers_share_the_consumers(nats_server, nc, plugin_host):
    js = nc.jetstream()
    await ensure_bus(js)
    # plugin-host is up once it answers $SRV (it waited for the streams, made the consumers).
    await wait_until(lambda: ts_worker_stats(nc), timeout=30, interval=0.3)
    manifests = await js.key_value(protocol.PLUGIN_MANIFESTS_BUCKET)
    ts_manifest = json.loads((await manifests.get("echo")).value)
    assert ts_manifest == echo_plugin.plugin.manifest(), "the Python port must declare what plugins/echo declares"

    py = Worker([echo_plugin.plugin], WorkerConfig(bot=BOT, partitions=PARTITIONS, instance="py-1", fetch_timeout_ms=500,
                                                    backoff_ms=[200]), nc=await nats.connect(nats_server.url))
    await py.start()
    try:
        events = []
        for i in range(40):
            text = f"/echo n{i}" if i % 10 else f"/nope{i}"
            events.append(message_event(BOT, text, conversation=peer(100 + i % 8)))
        for e in events:
            await publish_event(js, e, PARTITIONS)
        await wait_until(lambda: _count(outbound(js, BOT), 40), timeout=30)
        await wait_until(lambda: consumers_idle(js, [consumer_name(BOT, p, None) for p in range(PARTITIONS)]), timeout=20)
        out = await outbound(js, BOT)
        per_event = Counter(a["causationId"] for a in out)
        assert len(out) == 40 and set(per_event) == {e["id"] for e in events} and set(per_event.values()) == {1}
        by_cause = {a["causationId"]: a for a in out}
        for i, e in enumerate(events):
            a = by_cause[e["id"]]
            if i % 10:
                assert a["text"] == f"n{i}" and a["id"] == protocol.derive_action_id(e["id"], "echo", 0)
            else:
                assert a["text"] == f"Unknown command /nope{i}. Send /help to see what I can do."
                assert a["id"] == protocol.derive_action_id(e["id"], "router", 0)
        ts = await ts_worker_stats(nc)
        assert ts is not None and ts["handled"] >= 1, "the TypeScript worker took no event"
        assert py.counters.handled >= 1, "the Python worker took no event"
        assert ts["handled"] + py.counters.handled == 40
    finally:
        await py.stop(grace_ms=1000)
        await py.nc.drain()


async def _count(coro, n):
    items = await coro
    return items if len(items) >= n else None
