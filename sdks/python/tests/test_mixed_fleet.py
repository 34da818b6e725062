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


async def start_plugin_host(nats_server, bot: str = BOT, **env_extra: str) -> asyncio.subprocess.Process:
    node = shutil.which("node")
    if node is None or not PLUGIN_HOST_MAIN.exists():
        pytest.fail("the mixed-fleet test needs node on PATH and services/plugin-host built (pnpm build)")
    env = {**os.environ, "SB_BOT": bot, "NATS_URL": nats_server.url, "PLUGIN_HOST_PLUGINS": "@session-bot/plugin-echo",
           "PLUGIN_HOST_HTTP_PORT": "0", "SB_PARTITIONS": str(PARTITIONS), "PLUGIN_HOST_INSTANCE": "ts-1",
           "LOG_LEVEL": "warn", "PLUGIN_HOST_BACKOFF_MS": "200", "PLUGIN_HOST_SHUTDOWN_GRACE_MS": "2000", **env_extra}
    return await asyncio.create_subprocess_exec(node, str(PLUGIN_HOST_MAIN), env=env, cwd=str(PLUGIN_HOST_MAIN.parent.parent),
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.fixture
async def plugin_host(nats_server):
    proc = await start_plugin_host(nats_server)
    yield proc
    await stop_process(proc)


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


async def test_a_python_worker_killed_mid_event_is_taken_over_by_plugin_host_without_a_second_reply(nats_server, nc):
    """The Python worker answers, then dies before acking; after ack_wait plugin-host gets the event,
    answers it again with the same action id, and the stream keeps one reply."""
    bot = "mixedkill"
    js = nc.jetstream()
    await ensure_bus(js)
    env = {**os.environ, "SB_BOT": bot, "NATS_URL": nats_server.url, "SB_PARTITIONS": "1", "PLUGIN_HOST_HTTP_PORT": "0",
           "PLUGIN_HOST_ACK_WAIT_MS": "2000", "PLUGIN_HOST_HANDLER_TIMEOUT_MS": "1000", "PLUGIN_HOST_INSTANCE": "py-kill",
           "PYTHONPATH": f"{Path(__file__).resolve().parents[1] / 'examples'}{os.pathsep}{Path(__file__).resolve().parent}"}
    py = await asyncio.create_subprocess_exec(sys.executable, "-m", "session_bot_plugin", "fixtures_hang_echo", env=env,
                                              stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    ts = None
    try:
        e = message_event(bot, "/echo please hang", conversation=peer(3))
        await publish_event(js, e, 1)
        while b"HANGING" not in await asyncio.wait_for(py.stdout.readline(), 20):
            pass
        out = await outbound(js, bot)
        assert [a["text"] for a in out] == ["please hang"]
        py.kill()  # SIGKILL: no nak, no ack
        await py.wait()
        ts = await start_plugin_host(nats_server, bot, SB_PARTITIONS="1", PLUGIN_HOST_ACK_WAIT_MS="2000",
                                     PLUGIN_HOST_HANDLER_TIMEOUT_MS="1000", PLUGIN_HOST_INSTANCE="ts-kill")
        await wait_until(lambda: consumers_idle(js, [consumer_name(bot, 0, None)]), timeout=30, interval=0.3)
        stats = None
        for _ in range(20):
            stats = await _instance_stats(nc, "ts-kill")
            if stats and stats["handled"] >= 1:
                break
            await asyncio.sleep(0.3)
        assert stats is not None and stats["handled"] == 1, "plugin-host did not take the event over"
        assert stats["plugins"]["echo"]["handled"] == 1  # it ran echo again: its reply was the duplicate
        out = await outbound(js, bot)
        assert [a["text"] for a in out] == ["please hang"]
        assert out[0]["id"] == protocol.derive_action_id(e["id"], "echo", 0)
    finally:
        if py.returncode is None:
            py.kill()
            await py.wait()
        if ts is not None:
            await stop_process(ts)


async def _instance_stats(nc, instance: str) -> dict | None:
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    await nc.publish(f"$SRV.STATS.{protocol.PLUGIN_HOST_SERVICE}", b"", reply=inbox)
    try:
        while True:
            m = await sub.next_msg(timeout=1)
            if m.data:
                s = json.loads(m.data)
                if s["metadata"].get("instance") == instance:
                    return s["endpoints"][0]["data"]
    except asyncio.TimeoutError:
        return None
    finally:
        await sub.unsubscribe()


async def test_a_python_worker_group_beside_plugin_host_answers_its_own_commands(nats_server, nc):
    """The recommended deployment of a new Python plugin: its own worker group sees every event
    next to plugin-host (whose unknown-command reply is turned off); each command gets one answer,
    from the fleet that owns it."""
    bot = "sidebyside"
    js = nc.jetstream()
    await ensure_bus(js)
    ts = await start_plugin_host(nats_server, bot, PLUGIN_HOST_UNKNOWN_COMMAND_REPLY="", PLUGIN_HOST_INSTANCE="ts-side")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import notes_plugin

    py = Worker([notes_plugin.plugin], WorkerConfig(bot=bot, partitions=PARTITIONS, group="py", instance="py-side",
                                                     fetch_timeout_ms=300), nc=await nats.connect(nats_server.url))
    try:
        await wait_until(lambda: _instance_stats(nc, "ts-side"), timeout=30, interval=0.3)
        await py.start()
        events = [message_event(bot, "/echo from ts", conversation=peer(41)),
                  message_event(bot, "/note from py", conversation=peer(42)),
                  message_event(bot, "/echo again", conversation=peer(42))]
        for e in events:
            await publish_event(js, e, PARTITIONS)
        await wait_until(lambda: _count(outbound(js, bot), 3), timeout=30)
        await wait_until(lambda: consumers_idle(js, [consumer_name(bot, p, g) for p in range(PARTITIONS) for g in (None, "py")]),
                         timeout=20)
        out = await outbound(js, bot)
        assert sorted((a["causationId"], a["plugin"], a["text"]) for a in out) == sorted([
            (events[0]["id"], "echo", "from ts"), (events[1]["id"], "notes", "Saved note 1."), (events[2]["id"], "echo", "again")])
        assert py.counters.handled == 3  # the group saw every event, and answered only its own command
    finally:
        await py.stop(grace_ms=500)
        await py.nc.drain()
        await stop_process(ts)


async def _http_metrics(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return data.decode()


async def test_python_and_typescript_workers_split_the_host_partitions(nats_server, nc):
    """Partition ownership across languages (PROTOCOL.md §6.2.1): a fleet-mode Python worker and
    plugin-host announce themselves on the same presence set `host`, compute the same split, and
    each pulls only its own partitions; every event is answered once, in order per conversation;
    when plugin-host leaves, the Python worker takes its partitions at once."""
    from .natsserver import free_port

    bot, parts = "mixsplit", 8
    js = nc.jetstream()
    await ensure_bus(js)
    ts_port = free_port()
    ts = await start_plugin_host(nats_server, bot, SB_PARTITIONS=str(parts), PLUGIN_HOST_INSTANCE="ts-split",
                                 PLUGIN_HOST_PRESENCE_INTERVAL_MS="1000", PLUGIN_HOST_HTTP_PORT=str(ts_port))
    py = Worker([echo_plugin.plugin], WorkerConfig(bot=bot, partitions=parts, instance="py-split", fetch_timeout_ms=300,
                                                    presence_interval_ms=1_000, backoff_ms=[200]),
                nc=await nats.connect(nats_server.url))
    try:
        await wait_until(lambda: _instance_stats(nc, "ts-split"), timeout=30, interval=0.3)
        await py.start()
        mine = protocol.owned_partitions("py-split", ["ts-split"], parts)
        assert mine == [0, 2, 4, 6]  # "py-split" sorts before "ts-split"

        async def split() -> bool:
            ts_owned = "sb_plugin_host_owned_partitions 4" in await _http_metrics(ts_port)
            return ts_owned and py.ownership.members == ["py-split", "ts-split"] and py.partitions == mine

        await wait_until(split, timeout=10, interval=0.1)
        await asyncio.sleep(1)  # pulls let go on either side have ended
        convs = [peer(600 + i) for i in range(8)]
        assert {protocol.partition_of(c, parts) for c in convs} & set(mine)
        assert {protocol.partition_of(c, parts) for c in convs} - set(mine)
        rounds = 6
        events = [message_event(bot, f"/echo {c[-2:]} n{n}", conversation=c) for n in range(rounds) for c in convs]
        for e in events:
            await publish_event(js, e, parts)
        await wait_until(lambda: _count(outbound(js, bot), len(events)), timeout=30)
        await wait_until(lambda: consumers_idle(js, [consumer_name(bot, p, None) for p in range(parts)]), timeout=20)
        # Each worker took exactly the events of its own partitions.
        on_mine = sum(1 for e in events if protocol.partition_of(e["conversation"], parts) in mine)
        assert py.counters.handled == on_mine
        stats = await _instance_stats(nc, "ts-split")
        assert stats is not None and stats["handled"] == len(events) - on_mine

        # plugin-host leaves ("leaving" on SIGTERM): the Python worker takes every partition at once.
        await stop_process(ts)
        await wait_until(lambda: _true(py.partitions == list(range(parts))), timeout=5, interval=0.05)
        more = [message_event(bot, f"/echo {c[-2:]} n{n}", conversation=c) for n in range(rounds, 2 * rounds) for c in convs]
        for e in more:
            await publish_event(js, e, parts)
        await wait_until(lambda: _count(outbound(js, bot), len(events) + len(more)), timeout=30)
        await wait_until(lambda: consumers_idle(js, [consumer_name(bot, p, None) for p in range(parts)]), timeout=20)
        assert py.counters.handled == on_mine + len(more)
        await asyncio.sleep(0.3)  # late duplicates would show here
        out = await outbound(js, bot)
        assert Counter(a["causationId"] for a in out) == Counter(e["id"] for e in events + more)
        for c in convs:  # stream order of the replies = the order they were handled in
            assert [a["text"] for a in out if a["conversation"] == c] == [f"{c[-2:]} n{n}" for n in range(2 * rounds)]
    finally:
        await py.stop(grace_ms=500)
        await py.nc.drain()
        await stop_process(ts)


async def _true(v):
    return v
