"""`python -m session_bot_plugin module:plugin` as a process: answers, and stops cleanly on SIGTERM."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from .bus import ensure_bus, message_event, outbound, publish_event, wait_until

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


async def spawn(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "session_bot_plugin", *args, cwd=str(EXAMPLES),
                                                env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)


async def test_runs_a_plugin_module_and_stops_on_sigterm(nats_server, nc):
    js = nc.jetstream()
    await ensure_bus(js)
    proc = await spawn("echo_plugin:plugin", "notes_plugin", env={
        "SB_BOT": "cli", "NATS_URL": nats_server.url, "SB_PARTITIONS": "1", "PLUGIN_HOST_HTTP_PORT": "0",
        "PLUGIN_HOST_INSTANCE": "cli-1", "LOG_LEVEL": "info"})
    try:
        await publish_event(js, message_event("cli", "/echo from a process"), 1)
        await publish_event(js, message_event("cli", "/note remember"), 1)
        out = await wait_until(lambda: _n(outbound(js, "cli"), 2), timeout=20)
        assert [a["text"] for a in out] == ["from a process", "Saved note 1."]
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    lines = stdout.decode().splitlines()
    assert any('"msg": "worker running' in line for line in lines), lines[:5]


async def _n(coro, n):
    items = await coro
    return items if len(items) >= n else None


@pytest.mark.parametrize(
    "args,env,needle",
    [
        (["no_such_module:plugin"], {}, "cannot import no_such_module"),
        (["echo_plugin:nothing"], {}, "is not a session_bot_plugin.Plugin"),
        (["echo_plugin"], {"SB_BOT": "Bad Bot", "SB_PARTITIONS": "0"}, "SB_BOT must match"),
    ],
)
async def test_bad_start_exits_2_with_a_clear_message(args, env, needle):
    proc = await spawn(*args, env=env)
    _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2 and needle in stderr.decode()


async def test_sigterm_while_waiting_for_the_broker_exits_0():
    from .natsserver import NatsServer

    server = NatsServer()  # no streams: the worker waits for them
    try:
        proc = await spawn("echo_plugin", env={"SB_BOT": "cli", "NATS_URL": server.url, "PLUGIN_HOST_HTTP_PORT": "0"})
        seen = []
        while not any("waiting for stream SB_INBOUND" in line for line in seen):  # handlers are installed by then
            line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
            assert line, "the worker exited before waiting for the streams"
            seen.append(line)
        assert proc.returncode is None
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0, stderr.decode()[-2000:]
    finally:
        server.stop()
