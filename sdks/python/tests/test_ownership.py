"""Partition ownership (PROTOCOL.md §6.2.1): owned_partitions with the examples of
packages/protocol/src/presence.test.ts, the presence subject and message, the settings, then
PartitionOwnership and whole Python workers against a real nats-server: the split, a newcomer
answered at once, leaving, expiry, invalid messages, and events answered exactly once, in order,
while workers join and leave."""
from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

import nats
import pytest

from session_bot_plugin import Plugin, Worker, WorkerConfig, protocol
from session_bot_plugin.config import ConfigError, consumer_name
from session_bot_plugin.ownership import PartitionOwnership
from session_bot_plugin.protocol import ProtocolError

from .bus import consumers_idle, message_event, outbound, peer, publish_event, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import echo_plugin  # noqa: E402

_bots = itertools.count(1)


# ---- owned_partitions, subject, message (the same examples as the TypeScript reference) ------------
def test_owned_partitions_round_robin_over_the_sorted_names():
    members = ["w-b", "w-a", "w-c"]
    assert protocol.owned_partitions("w-a", members, 8) == [0, 3, 6]
    assert protocol.owned_partitions("w-b", members, 8) == [1, 4, 7]
    assert protocol.owned_partitions("w-c", members, 8) == [2, 5]


@pytest.mark.parametrize("n", [1, 2, 3, 5, 16, 17])
def test_owned_partitions_cover_every_partition_once_evenly(n):
    members = [f"host-{(i * 7919) % 1000}" for i in range(n)]
    seen: dict[int, str] = {}
    sizes = []
    for m in members:
        owned = protocol.owned_partitions(m, members, 16)
        sizes.append(len(owned))
        for p in owned:
            assert p not in seen
            seen[p] = m
    assert sorted(seen) == list(range(16))
    assert max(sizes) - min(sizes) <= 1


def test_owned_partitions_counts_self_and_ignores_duplicates():
    assert protocol.owned_partitions("solo", [], 4) == [0, 1, 2, 3]
    assert protocol.owned_partitions("b", ["a", "a", "a"], 4) == [1, 3]
    assert protocol.owned_partitions("b", iter(["a", "c"]), 0) == []


def test_owned_partitions_sort_by_code_unit_not_locale():
    # "B" (0x42) sorts before "a" (0x61); a locale-aware sort would put "a" first.
    assert protocol.owned_partitions("B", ["a", "B"], 2) == [0]
    assert protocol.owned_partitions("a", ["a", "B"], 2) == [1]
    # "-" (0x2d) < "." (0x2e) < "0" < "A" < "_" (0x5f) < "a"
    names = ["a", "_", "A", "0", ".", "-"]
    assert [protocol.owned_partitions(m, names, 6)[0] for m in ["-", ".", "0", "A", "_", "a"]] == [0, 1, 2, 3, 4, 5]


def test_owned_partitions_refuses_a_bad_count():
    with pytest.raises(ProtocolError):
        protocol.owned_partitions("a", [], -1)
    with pytest.raises(ProtocolError):
        protocol.owned_partitions("a", [], True)


def test_presence_subject_one_per_bot_and_consumer_set():
    assert protocol.worker_presence_subject("demo", "host") == "sb.plugin-host.demo.presence.host"
    assert protocol.worker_presence_subject("demo", "py") == "sb.plugin-host.demo.presence.py"
    for bad in ("a.b", "", "*", ">", "Host", "-x", "a" * 33, None):
        with pytest.raises(ProtocolError) as info:
            protocol.worker_presence_subject("demo", bad)  # type: ignore[arg-type]
        assert info.value.code == "PROTOCOL_BAD_NAME"
    with pytest.raises(ProtocolError):
        protocol.worker_presence_subject("Bad.Bot", "host")


def test_worker_presence_round_trips_and_refuses_bad_names_and_values():
    msg = {"v": 1, "instance": "host-1.a_b", "set": "host", "state": "up", "intervalMs": 1000, "startedAt": 5}
    assert json.loads(protocol.encode("WorkerPresence", msg)) == msg
    assert protocol.decode("WorkerPresence", protocol.encode("WorkerPresence", msg)).instance == "host-1.a_b"
    for bad in ({**msg, "instance": "a b"}, {**msg, "set": "Host"}, {**msg, "intervalMs": 10}, {**msg, "state": "down"},
                {**msg, "instance": "x" * 129}, {**msg, "v": 2}):
        with pytest.raises(ProtocolError):
            protocol.encode("WorkerPresence", bad)


# ---- settings ----------------------------------------------------------------------------------
def test_ownership_settings_defaults_env_and_bounds():
    d = WorkerConfig.from_env({})
    assert (d.partition_ownership, d.presence_interval_ms, d.consumer_set) == (True, 1000, "host")
    assert d.concurrency == d.partitions == 16  # like plugin-host: as many in flight as partitions
    c = WorkerConfig.from_env({"PLUGIN_HOST_PARTITION_OWNERSHIP": "false", "PLUGIN_HOST_PRESENCE_INTERVAL_MS": "250",
                               "SB_WORKER_GROUP": "py", "SB_PARTITIONS": "4"})
    assert (c.partition_ownership, c.presence_interval_ms, c.consumer_set, c.concurrency) == (False, 250, "py", 4)
    assert WorkerConfig(partitions=3).concurrency == 3 and WorkerConfig(partitions=3, concurrency=2).concurrency == 2
    for env in ({"PLUGIN_HOST_PRESENCE_INTERVAL_MS": "99"}, {"PLUGIN_HOST_PRESENCE_INTERVAL_MS": "60001"},
                {"PLUGIN_HOST_PARTITION_OWNERSHIP": "maybe"}, {"SB_WORKER_GROUP": "host"}):
        with pytest.raises(ConfigError) as info:
            WorkerConfig.from_env(env)
        assert info.value.code == "HOST_BAD_CONFIG", env
    with pytest.raises(ConfigError):
        WorkerConfig(partition_ownership="yes")  # type: ignore[arg-type]
    # The default instance name is a valid presence instance.
    assert protocol.is_worker_instance(WorkerConfig().instance)


# ---- PartitionOwnership on a real nats-server --------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def conns(nats_server):
    opened: list = []

    async def connect():
        c = await nats.connect(nats_server.url)
        opened.append(c)
        return c

    yield connect
    for c in opened:
        if not c.is_closed:
            await c.close()


async def member(connect, instance: str, interval_ms: int, set: str, partitions: int = 16, bot: str = "own", **kw):
    nc = await connect()
    changes: list[list[int]] = []
    o = PartitionOwnership(nc, bot=bot, set=set, instance=instance, partitions=partitions, interval_ms=interval_ms,
                           on_change=changes.append, **kw)
    await o.start()
    await nc.flush()  # its subscription is in place before the test publishes from elsewhere
    o.changes = changes  # type: ignore[attr-defined]
    o.conn = nc  # type: ignore[attr-defined]
    return o


def split_exactly(ms, partitions: int = 16) -> bool:
    owned = [p for m in ms for p in m.owned]
    return len(owned) == partitions and set(owned) == set(range(partitions))


async def _true(v):
    return v


def until(pred):
    return lambda: _true(pred())


async def test_a_lone_worker_owns_every_partition(conns):
    a = await member(conns, "solo-a", 100, "solo")
    await asyncio.sleep(0.3)  # a few of its own heartbeats: ignored
    assert a.owned == list(range(16)) and a.members == ["solo-a"] and a.changes == []
    await a.stop()
    await a.stop()  # idempotent


async def test_split_newcomer_answered_at_once_and_leaving_hands_over(conns):
    # A 60 s interval: only the immediate answer to a newcomer can make them meet within the wait.
    ms = [await member(conns, "split-a", 60_000, "split"), await member(conns, "split-b", 60_000, "split")]
    await wait_until(until(lambda: all(len(m.members) == 2 for m in ms) and split_exactly(ms)), timeout=5, interval=0.02)
    ms.append(await member(conns, "split-c", 60_000, "split"))
    await wait_until(until(lambda: all(len(m.members) == 3 for m in ms) and split_exactly(ms)), timeout=5, interval=0.02)
    assert sorted(len(m.owned) for m in ms) == [5, 5, 6]
    assert ms[0].owned == [0, 3, 6, 9, 12, 15] and ms[0].changes[-1] == [0, 3, 6, 9, 12, 15]
    assert ms[2].owned == [2, 5, 8, 11, 14]
    # Leaving: the others take its partitions at once (far sooner than 3 × 60 s).
    await ms[1].stop()
    rest = [ms[0], ms[2]]
    await wait_until(until(lambda: all(m.members == ["split-a", "split-c"] for m in rest) and split_exactly(rest)),
                     timeout=5, interval=0.02)
    for m in rest:
        await m.stop()


async def test_a_silent_member_expires_after_three_of_its_intervals(conns):
    clock = Clock()
    a = await member(conns, "exp-a", 60_000, "expiry", clock=clock)
    b = await member(conns, "exp-b", 100, "expiry")
    await wait_until(until(lambda: a.members == ["exp-a", "exp-b"]), timeout=5, interval=0.02)
    assert a.owned == list(range(0, 16, 2))
    await b.conn.close()  # killed: no "leaving"
    clock.t += 0.299  # b's heartbeats stopped; 3 × 100 ms not yet over
    a._recompute()
    assert a.members == ["exp-a", "exp-b"]
    clock.t += 0.002
    a._recompute()
    assert a.members == ["exp-a"] and a.owned == list(range(16)) and a.changes[-1] == list(range(16))
    await a.stop()


async def test_a_killed_member_is_dropped_by_the_heartbeat(conns):
    a = await member(conns, "kill-a", 100, "kill")
    b = await member(conns, "kill-b", 100, "kill")
    await wait_until(until(lambda: len(a.members) == 2 and len(b.members) == 2), timeout=5, interval=0.02)
    await b.conn.close()
    await wait_until(until(lambda: a.members == ["kill-a"] and len(a.owned) == 16), timeout=5, interval=0.05)
    await a.stop()


async def publish_until(nc, subject: str, batch: list[bytes], done, timeout: float = 5.0) -> None:
    """Publishes ``batch`` until ``done()`` holds (each round ends with a flush). Core NATS is
    at-most-once: under heavy load a message sent right after a subscription appears was seen to be
    missed now and then, so the test repeats the batch rather than count on one send."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for raw in batch:
            await nc.publish(subject, raw)
        await nc.flush()
        for _ in range(10):
            if done():
                return
            await asyncio.sleep(0.03)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the presence messages were not taken in time")


async def test_invalid_messages_own_name_and_other_sets_are_ignored(conns, nc):
    a = await member(conns, "inv-a", 100, "inv")
    subject = protocol.worker_presence_subject("own", "inv")
    base = {"v": 1, "instance": "x", "set": "inv", "state": "up", "intervalMs": 100, "startedAt": 0}
    batch = [b"{not json", b"[]", json.dumps({**base, "instance": "bad name!"}).encode(),
             json.dumps({**base, "instance": "other", "set": "elsewhere"}).encode(),
             json.dumps({**base, "intervalMs": 5}).encode(), json.dumps({**base, "v": 2}).encode(),
             json.dumps({**base, "instance": "inv-a", "state": "leaving"}).encode(),  # its own name
             # A valid member last (same connection, so in order): once it counts, the others were read.
             json.dumps({**base, "instance": "inv-marker", "intervalMs": 60_000}).encode()]
    await publish_until(nc, subject, batch, lambda: "inv-marker" in a.members)
    assert a.members == ["inv-a", "inv-marker"] and a.invalid >= 5
    b = await member(conns, "inv-b", 100, "inv")
    await wait_until(until(lambda: len(a.members) == 3), timeout=5, interval=0.02)
    assert a.members == ["inv-a", "inv-b", "inv-marker"]
    await a.stop()
    await b.stop()


async def test_a_second_worker_with_the_same_name_is_reported_once(conns, nc, caplog):
    a = await member(conns, "dup-a", 100, "dup")
    subject = protocol.worker_presence_subject("own", "dup")
    twin = {"v": 1, "instance": "dup-a", "set": "dup", "state": "up", "intervalMs": 100, "startedAt": a.started_at - 5}
    with caplog.at_level("WARNING", logger="session_bot_plugin.ownership"):
        await publish_until(nc, subject, [json.dumps(twin).encode()] * 3, lambda: a.duplicate_seen)
        for _ in range(3):
            await nc.publish(subject, json.dumps(twin).encode())
        await nc.flush()
        await asyncio.sleep(0.2)
    assert a.members == ["dup-a"] and a.owned == list(range(16))
    assert sum("instance name dup-a" in r.getMessage() for r in caplog.records) == 1  # logged once
    await a.stop()


async def test_sets_and_bots_do_not_mix(conns):
    a = await member(conns, "mix-a", 100, "host", bot="mixa")
    b = await member(conns, "mix-b", 100, "py", bot="mixa")
    c = await member(conns, "mix-c", 100, "host", bot="mixb")
    d = await member(conns, "mix-d", 100, "host", bot="mixa")
    await wait_until(until(lambda: a.members == ["mix-a", "mix-d"]), timeout=5, interval=0.02)
    await asyncio.sleep(0.3)
    assert b.members == ["mix-b"] and c.members == ["mix-c"] and d.members == ["mix-a", "mix-d"]
    for m in (a, b, c, d):
        await m.stop()


async def test_presence_refuses_bad_names(nc):
    with pytest.raises(ProtocolError):
        PartitionOwnership(nc, bot="b", set="Host", instance="a", partitions=4, interval_ms=1000)
    with pytest.raises(ProtocolError):
        PartitionOwnership(nc, bot="b", set="host", instance="a b", partitions=4, interval_ms=1000)
    with pytest.raises(ProtocolError):
        PartitionOwnership(nc, bot="b", set="host", instance="a", partitions=4, interval_ms=99)


async def test_announcements_on_the_wire(conns, nc):
    sub = await nc.subscribe(protocol.worker_presence_subject("wire", "host"))
    await nc.flush()
    a = await member(conns, "wire-a", 100, "host", bot="wire")
    await asyncio.sleep(0.25)
    await a.stop()
    seen = []
    with pytest.raises(asyncio.TimeoutError):
        while True:
            seen.append(json.loads((await sub.next_msg(timeout=0.3)).data))
    await sub.unsubscribe()
    assert len(seen) >= 3 and all(protocol.is_valid("WorkerPresence", s) for s in seen)
    assert {(s["instance"], s["set"], s["intervalMs"], s["startedAt"]) for s in seen} == {("wire-a", "host", 100, a.started_at)}
    assert [s["state"] for s in seen] == ["up"] * (len(seen) - 1) + ["leaving"]


# ---- whole workers -----------------------------------------------------------------------------
def config(bot: str, instance: str, **kw) -> WorkerConfig:
    base = dict(bot=bot, instance=instance, partitions=8, handler_timeout_ms=2_000, ack_wait_ms=4_000, max_deliver=3,
                backoff_ms=[100], shutdown_grace_ms=2_000, fetch_timeout_ms=300, presence_interval_ms=1_000)
    base.update(kw)
    return WorkerConfig(**base)


def seq_plugin(seen: dict[str, list[int]], overlaps: list[str], by: dict[str, Counter]) -> Plugin:
    """Records each conversation's numbers, which worker handled them, and any overlap."""
    p = Plugin("seq", version="1.0.0", description="")
    active: dict[str, int] = {}

    @p.command("seq", description="")
    async def seq(ctx) -> None:
        conv = ctx.conversation
        active[conv] = active.get(conv, 0) + 1
        if active[conv] > 1:
            overlaps.append(conv)
        await asyncio.sleep(0.005)
        n = int(ctx.args[0])
        seen.setdefault(conv, []).append(n)
        by.setdefault(ctx.host.instance, Counter())[conv] += 1
        active[conv] -= 1
        await ctx.reply(f"seq {n}")

    return p


def settled(ws: list[Worker], partitions: int) -> bool:
    names = sorted(w.config.instance for w in ws)
    return all(w.ownership is not None and w.ownership.members == names
               and w.partitions == protocol.owned_partitions(w.config.instance, names, partitions) for w in ws)


async def test_three_python_workers_split_the_partitions_and_answer_each_event_once(js, workers):
    bot = f"own{next(_bots)}"
    ws = [await workers([echo_plugin.plugin], config(bot, f"w-{i}")) for i in range(3)]
    await wait_until(until(lambda: settled(ws, 8)), timeout=10, interval=0.05)
    assert [w.partitions for w in ws] == [[0, 3, 6], [1, 4, 7], [2, 5]]
    # Released pulls end within one fetch timeout; then each worker takes only its own partitions.
    await asyncio.sleep(0.6)
    convs = [peer(200 + i) for i in range(24)]
    events = [message_event(bot, f"/echo {i}", conversation=c) for i, c in enumerate(convs)]
    for e in events:
        await publish_event(js, e, 8)
    out = await wait_until(lambda: _n(outbound(js, bot), len(events)), timeout=20)
    await wait_until(lambda: consumers_idle(js, [consumer_name(bot, p, None) for p in range(8)]))
    assert Counter(a["causationId"] for a in out) == Counter(e["id"] for e in events)
    for w in ws:
        mine = [c for c in convs if protocol.partition_of(c, 8) in w.partitions]
        assert w.counters.handled == len(mine), (w.config.instance, w.partitions)
    assert sum(w.counters.handled for w in ws) == len(events)


async def test_a_group_splits_its_own_consumers_beside_a_fleet_mode_worker(js, workers):
    bot = f"own{next(_bots)}"
    g = [await workers([echo_plugin.plugin], config(bot, f"g-{i}", group="py")) for i in range(2)]
    fleet = await workers([echo_plugin.plugin], config(bot, "f-0"))
    await wait_until(until(lambda: settled(g, 8) and settled([fleet], 8)), timeout=10, interval=0.05)
    assert fleet.partitions == list(range(8)) and fleet.ownership.set == "host"
    assert g[0].ownership.set == "py" and sorted(g[0].partitions + g[1].partitions) == list(range(8))
    await asyncio.sleep(0.6)
    events = [message_event(bot, f"/echo {i}", conversation=peer(300 + i)) for i in range(16)]
    for e in events:
        await publish_event(js, e, 8)
    await wait_until(lambda: consumers_idle(js, [consumer_name(bot, p, grp) for p in range(8) for grp in (None, "py")]),
                     timeout=20)
    # Both fleets ran echo on every event; the same action ids, so SB_OUTBOUND keeps one reply each.
    out = await wait_until(lambda: _n(outbound(js, bot), 16), timeout=20)
    assert Counter(a["causationId"] for a in out) == Counter(e["id"] for e in events)
    assert fleet.counters.handled == 16  # the fleet-mode worker alone owns the host set
    assert g[0].counters.handled + g[1].counters.handled == 16 and g[0].counters.handled > 0 and g[1].counters.handled > 0


async def test_workers_joining_and_leaving_while_events_flow_keep_order_and_answer_once(js, workers):
    bot = f"own{next(_bots)}"
    seen: dict[str, list[int]] = {}
    overlaps: list[str] = []
    by: dict[str, Counter] = {}
    plugin = seq_plugin(seen, overlaps, by)
    ws = [await workers([plugin], config(bot, "flow-1"))]
    convs = [peer(400 + i) for i in range(8)]
    n_rounds = 15
    for n in range(n_rounds):
        for c in convs:
            await publish_event(js, message_event(bot, f"/seq {n}", conversation=c), 8)
        if n == 3:
            ws.append(await workers([plugin], config(bot, "flow-2")))
        if n == 6:
            ws.append(await workers([plugin], config(bot, "flow-3")))
        if n == 9:
            await ws[0].stop(grace_ms=2_000)  # leaves with events in hand
        await asyncio.sleep(0.02)
    await wait_until(lambda: _true(all(len(seen.get(c, [])) >= n_rounds for c in convs)), timeout=60)
    await wait_until(lambda: consumers_idle(js, [consumer_name(bot, p, None) for p in range(8)]), timeout=20)
    await asyncio.sleep(0.3)  # late duplicates would show here
    assert all(seen[c] == list(range(n_rounds)) for c in convs), seen
    assert overlaps == []
    out = await outbound(js, bot)
    assert len(out) == n_rounds * len(convs) and len({a["causationId"] for a in out}) == len(out)
    live = ws[1:]
    await wait_until(until(lambda: settled(live, 8)), timeout=10, interval=0.05)
    assert sorted(p for w in live for p in w.partitions) == list(range(8)) and all(len(w.partitions) == 4 for w in live)
    assert all(sum(by.get(w.config.instance, Counter()).values()) > 0 for w in ws), by


async def test_without_ownership_a_worker_pulls_every_partition_and_stays_silent(js, workers, nc):
    bot = f"own{next(_bots)}"
    sub = await nc.subscribe(protocol.worker_presence_subject(bot, "host"))
    await nc.flush()
    a = await workers([echo_plugin.plugin], config(bot, "off-a", partition_ownership=False))
    b = await workers([echo_plugin.plugin], config(bot, "off-b", partition_ownership=False))
    assert a.ownership is None and a.partitions == b.partitions == list(range(8))
    await publish_event(js, message_event(bot, "/echo hi"), 8)
    await wait_until(lambda: _n(outbound(js, bot), 1))
    with pytest.raises(asyncio.TimeoutError):
        await sub.next_msg(timeout=0.3)
    await sub.unsubscribe()


async def test_the_owned_partitions_gauge(js, workers):
    from session_bot_plugin.http import metrics_text

    bot = f"own{next(_bots)}"
    a = await workers([echo_plugin.plugin], config(bot, "m-a"))
    assert "sb_plugin_host_owned_partitions 8" in metrics_text(a)
    b = await workers([echo_plugin.plugin], config(bot, "m-b"))
    await wait_until(until(lambda: settled([a, b], 8)), timeout=10, interval=0.05)
    assert "sb_plugin_host_owned_partitions 4" in metrics_text(a)
    await b.stop(grace_ms=0)
    await wait_until(until(lambda: a.partitions == list(range(8))), timeout=5, interval=0.05)


async def _n(coro, n):
    items = await coro
    return items if len(items) >= n else None
