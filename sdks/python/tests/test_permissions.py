"""The worker under the deployment's least-privilege NATS user `plugin-host` (deploy/nats/auth.conf):
it starts, consumes, replies, keeps state and answers $SRV without a permission error."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import nats
import pytest

from session_bot_plugin import Worker, WorkerConfig, protocol

from .bus import ensure_bus, message_event, outbound, publish_event, wait_until
from .conftest import REPO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import echo_plugin  # noqa: E402

AUTH_CONF = REPO / "deploy" / "nats" / "auth.conf"
PASSWORDS = {"NATS_BROKER_PASSWORD": "brokerPw1", "NATS_PLUGIN_HOST_PASSWORD": "hostPw1", "NATS_GATEWAY_PASSWORD": "gatewayPw1"}


@pytest.mark.parametrize("group", [None, "py"])
async def test_worker_runs_with_the_plugin_host_user(group):
    from .natsserver import NatsServer

    if not AUTH_CONF.exists():
        pytest.fail(f"{AUTH_CONF} is missing")
    server = NatsServer(extra_config=AUTH_CONF.read_text(), env=PASSWORDS)
    errors: list[str] = []

    async def on_error(err: Exception) -> None:
        errors.append(str(err))

    try:
        broker = await nats.connect(server.url, user="broker", password=PASSWORDS["NATS_BROKER_PASSWORD"])
        js = broker.jetstream()
        await ensure_bus(js)
        host = await nats.connect(server.url, user="plugin-host", password=PASSWORDS["NATS_PLUGIN_HOST_PASSWORD"],
                                  error_cb=on_error)
        w = Worker([echo_plugin.plugin], WorkerConfig(bot="perm", partitions=2, group=group, instance="least-privilege",
                                                      fetch_timeout_ms=300), nc=host)
        await asyncio.wait_for(w.start(), 20)
        try:
            await publish_event(js, message_event("perm", "/echo allowed"), 2)
            out = await wait_until(lambda: _n(outbound(js, "perm"), 1), timeout=15)
            assert [a["text"] for a in out] == ["allowed"]
            await w._stores["echo"].set("k", 1)
            assert await w._stores["echo"].get("k") == 1
            stats = await broker.request(protocol.plugin_host_subject("perm", "stats"), b'{"v":1}', timeout=3)
            protocol.check("WorkerStats", json.loads(stats.data))
            ping = await broker.request(f"$SRV.PING.{protocol.PLUGIN_HOST_SERVICE}", b"", timeout=3)
            assert json.loads(ping.data)["metadata"]["instance"] == "least-privilege"
            assert not [e for e in errors if "ermission" in e], errors
        finally:
            await w.stop(grace_ms=0)
            await host.drain()
            await broker.drain()
    finally:
        server.stop()


async def _n(coro, n):
    items = await coro
    return items if len(items) >= n else None
