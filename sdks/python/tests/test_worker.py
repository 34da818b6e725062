"""The worker runtime against a real nats-server: replies, ordering, retries, dead letters, live
config, $SRV and graceful stop."""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import sys
from pathlib import Path

import nats
import pytest

from session_bot_plugin import CommandContext, Plugin, Worker, WorkerConfig, protocol
from session_bot_plugin.config import consumer_name

from .bus import (consumers_idle, dead_letters, ensure_bus, message_event, outbound, peer, publish_event, publish_raw,
                  stream_messages, wait_until)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import echo_plugin  # noqa: E402

_bots = itertools.count(1)


@pytest.fixture
def bot():
    return f"py{next(_bots)}"


def config(bot: str, **kw) -> WorkerConfig:
    base = dict(bot=bot, partitions=2, handler_timeout_ms=2_000, ack_wait_ms=4_000, max_deliver=3, backoff_ms=[100],
                shutdown_grace_ms=2_000, fetch_timeout_ms=300, instance=f"w-{bot}")
    base.update(kw)
    return WorkerConfig(**base)


def names(bot: str, partitions: int = 2, group: str | None = None) -> list[str]:
    return [consumer_name(bot, p, group) for p in range(partitions)]


async def test_replies_once_per_event_with_protocol_ids_and_headers(js, bot, workers):
    w = await workers([echo_plugin.plugin], config(bot))
    events = [message_event(bot, f"/echo hello {i}", conversation=peer(i)) for i in range(4)]
    for e in events:
        await publish_event(js, e, 2)
    out = await wait_until(lambda: _n(outbound(js, bot), 4))
    assert sorted(a["text"] for a in out) == [f"hello {i}" for i in range(4)]
    by_cause = {a["causationId"]: a for a in out}
    for e in events:
        a = by_cause[e["id"]]
        assert a["id"] == protocol.derive_action_id(e["id"], "echo", 0)
        assert (a["plugin"], a["conversation"], a["bot"], a["action"]) == ("echo", e["conversation"], bot, "send")
    msgs = await stream_messages(js, protocol.OUTBOUND_STREAM, protocol.outbound_filter(bot))
    for m in msgs:
        assert m.headers[protocol.HEADER_MSG_ID] == json.loads(m.data)["id"]
        assert m.headers[protocol.HEADER_PROTOCOL_VERSION] == "1"
        assert m.subject == f"sb.out.{bot}.send"
    await wait_until(lambda: consumers_idle(js, names(bot)))
    # The same event again under another Nats-Msg-Id (a dead-letter retry, `<id>:retry:1`): the
    # worker handles it again, its reply has the same action id, and SB_OUTBOUND drops the repeat.
    handled = w.counters.handled
    e0 = events[0]
    await publish_raw(js, bot, protocol.partition_of(e0["conversation"], 2), "message", json.dumps(e0).encode(),
                      protocol.retry_message_id(e0["id"], 1))
    await wait_until(lambda: _true(w.counters.handled == handled + 1))
    await wait_until(lambda: consumers_idle(js, names(bot)))
    assert len(await outbound(js, bot)) == 4


async def _n(coro, n):
    items = await coro
    return items if len(items) >= n else None


async def test_router_answers_unknown_commands_and_help(js, bot, workers):
    await workers([echo_plugin.plugin], config(bot))
    await publish_event(js, message_event(bot, "/nope", conversation=peer(1)), 2)
    await publish_event(js, message_event(bot, "/help", conversation=peer(2)), 2)
    out = await wait_until(lambda: _n(outbound(js, bot), 2))
    texts = sorted(a["text"] for a in out)
    assert texts[0].startswith("Commands:\n/echo <text> — Repeats your text.")
    assert texts[1] == "Unknown command /nope. Send /help to see what I can do."
    assert all(a["plugin"] == "router" for a in out)


async def test_group_of_its_own_does_not_answer_unknown_commands(js, bot, workers):
    await workers([echo_plugin.plugin], config(bot, group="py"))
    await publish_event(js, message_event(bot, "/nope"), 2)
    await publish_event(js, message_event(bot, "/echo yes"), 2)
    out = await wait_until(lambda: _n(outbound(js, bot), 1))
    await wait_until(lambda: consumers_idle(js, names(bot, group="py")))
    assert [a["text"] for a in await outbound(js, bot)] == ["yes"]
    assert out


async def test_per_conversation_order_across_two_workers(js, bot, workers):
    seen: dict[str, list[int]] = {}
    active: dict[str, int] = {}
    overlaps = []
    p = Plugin("order", version="1.0.0", description="")

    @p.on_message
    async def record(ctx) -> None:
        conv = ctx.conversation
        active[conv] = active.get(conv, 0) + 1
        if active[conv] > 1:
            overlaps.append(conv)
        await asyncio.sleep(0.01)
        seen.setdefault(conv, []).append(int(ctx.text))
        active[conv] -= 1

    cfg = config(bot, partitions=4)
    w1 = await workers([p], cfg)
    w2 = await workers([p], config(bot, partitions=4, instance=f"w2-{bot}"))
    convs = [peer(10 + i) for i in range(3)]
    for n in range(8):
        for c in convs:
            await publish_event(js, message_event(bot, str(n), conversation=c), 4)
    await wait_until(lambda: _done(seen, convs, 8), timeout=20)
    assert all(seen[c] == list(range(8)) for c in convs), seen
    assert overlaps == []
    await wait_until(lambda: consumers_idle(js, names(bot, 4)))
    assert w1.counters.handled > 0 and w2.counters.handled > 0  # both workers took part
    assert w1.counters.handled + w2.counters.handled == 24


async def _done(seen, convs, n):
    return all(len(seen.get(c, [])) >= n for c in convs)


async def test_transient_failure_is_retried_and_answered_once(js, bot, workers):
    calls = []
    p = Plugin("flaky", version="1.0.0", description="")

    @p.command("try", description="")
    async def attempt(ctx: CommandContext) -> None:
        calls.append(ctx.event.id)
        await ctx.reply("first half")  # published on every attempt, with the same id
        if len(calls) == 1:
            raise RuntimeError("transient")
        await ctx.reply("second half")

    await workers([p], config(bot))
    await publish_event(js, message_event(bot, "/try"), 2)
    out = await wait_until(lambda: _n(outbound(js, bot), 2))
    await wait_until(lambda: consumers_idle(js, names(bot)))
    assert [a["text"] for a in out] == ["first half", "second half"]
    assert len(calls) == 2


async def test_permanent_failure_is_dead_lettered_after_max_deliver(js, bot, workers):
    p = Plugin("broken", version="1.0.0", description="")

    @p.command("fail", description="")
    async def fail(ctx) -> None:
        raise ValueError("always")

    w = await workers([p], config(bot, max_deliver=2))
    e = message_event(bot, "/fail")
    await publish_event(js, e, 2)
    dls = await wait_until(lambda: _n(dead_letters(js, bot), 1))
    await wait_until(lambda: consumers_idle(js, names(bot)))
    dl = dls[0]
    protocol.check("DeadLetter", dl)
    assert dl["reason"]["code"] == "MAX_DELIVER" and dl["plugin"] == "broken" and dl["deliveries"] == 2
    assert dl["payload"] == {"encoding": "json", "json": e} and dl["source"]["messageId"] == e["id"]
    assert dl["id"] == f"SB_INBOUND:{dl['source']['sequence']}"
    assert w.counters.deliveries.get("dead_letter") == 1 and w.counters.deliveries.get("nak") == 1


async def test_poison_messages_are_dead_lettered_and_unknown_kinds_ignored(js, bot, workers):
    w = await workers([echo_plugin.plugin], config(bot, partitions=1))
    await publish_raw(js, bot, 0, "message", b"\xff not json", "poison-1")
    bad = message_event(bot, "/echo x")
    bad["conversation"] = "not-a-session-id"
    await publish_raw(js, bot, 0, "message", json.dumps(bad).encode(), "poison-2")
    future = dict(message_event(bot, "hi"), kind="call", v=1)
    await publish_raw(js, bot, 0, "message", json.dumps(future).encode(), "future-1")
    await publish_raw(js, bot, 0, "message", json.dumps(dict(message_event(bot, "hi"), v=2)).encode(), "v2-1")
    deep = ("[" * 100 + "]" * 100).encode()  # too deep for the protocol: dead-lettered as base64, not retried
    await publish_raw(js, bot, 0, "message", deep, "deep-1")
    await publish_event(js, message_event(bot, "/echo after"), 1)
    await wait_until(lambda: _n(outbound(js, bot), 1))
    dls = await wait_until(lambda: _n(dead_letters(js, bot), 4))
    assert [d["reason"]["code"] for d in dls] == ["PROTOCOL_BAD_JSON", "PROTOCOL_INVALID", "PROTOCOL_UNSUPPORTED_VERSION", "PROTOCOL_TOO_LARGE"]
    assert dls[0]["payload"]["encoding"] == "base64"
    assert dls[3]["payload"] == {"encoding": "base64", "data": base64.b64encode(deep).decode()}
    assert w.counters.unknown_kinds == 1
    assert [a["text"] for a in await outbound(js, bot)] == ["after"]  # nothing lost behind the poison


async def test_live_config_from_kv_and_manifest(js, bot, workers):
    kv = await js.key_value(protocol.PLUGINS_BUCKET)
    w = await workers([echo_plugin.plugin], config(bot, partitions=1))
    manifests = await js.key_value(protocol.PLUGIN_MANIFESTS_BUCKET)
    manifest = json.loads((await manifests.get("echo")).value)
    assert manifest == echo_plugin.plugin.manifest()

    def record(enabled: bool, cfg: dict) -> bytes:
        return json.dumps({"v": 1, "enabled": enabled, "config": cfg, "updatedAt": 1, "updatedBy": "test"}).encode()

    key = protocol.plugin_config_key(bot, "echo")
    await kv.put(key, record(True, {"prefix": "» "}))
    await wait_until(lambda: _true(w.registry.states["echo"].config.get("prefix") == "» "))
    await publish_event(js, message_event(bot, "/echo one"), 1)
    await wait_until(lambda: _n(outbound(js, bot), 1))
    await kv.put(key, record(True, {"prefix": 7}))  # invalid: refused, previous config kept
    await wait_until(lambda: _true(w.registry.states["echo"].refused is not None))
    await publish_event(js, message_event(bot, "/echo two"), 1)
    await wait_until(lambda: _n(outbound(js, bot), 2))
    await kv.put(key, record(False, {}))
    await wait_until(lambda: _true(not w.registry.states["echo"].enabled))
    await publish_event(js, message_event(bot, "/echo three"), 1)
    await wait_until(lambda: consumers_idle(js, names(bot, 1)))
    texts = [a["text"] for a in await outbound(js, bot)]
    # disabled: its command is unknown now, and the router says so
    assert texts == ["» one", "» two", "Unknown command /echo. Send /help to see what I can do."]
    await kv.delete(key)  # deleted record: back to defaults (enabled by default)
    await wait_until(lambda: _true(w.registry.states["echo"].enabled))


async def _true(v):
    return v


async def test_services_api_ping_stats_and_stats_endpoint(nc, js, bot, workers):
    w = await workers([echo_plugin.plugin], config(bot, partitions=1))
    await publish_event(js, message_event(bot, "/echo s"), 1)
    await wait_until(lambda: _n(outbound(js, bot), 1))
    await wait_until(lambda: consumers_idle(js, names(bot, 1)))
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    await nc.publish(f"$SRV.PING.{protocol.PLUGIN_HOST_SERVICE}", b"", reply=inbox)
    pings = []
    try:
        while True:
            pings.append(json.loads((await sub.next_msg(timeout=0.5)).data))
    except asyncio.TimeoutError:
        pass
    mine = [p for p in pings if p["metadata"].get("instance") == w.config.instance]
    assert len(mine) == 1 and mine[0]["metadata"]["bot"] == bot and mine[0]["metadata"]["runtime"] == "python"
    stats = json.loads((await nc.request(f"$SRV.STATS.{protocol.PLUGIN_HOST_SERVICE}.{mine[0]['id']}", b"", timeout=2)).data)
    data = stats["endpoints"][0]["data"]
    protocol.check("WorkerStats", data)
    assert data["handled"] == 1 and data["plugins"]["echo"]["handled"] == 1
    reply = await nc.request(protocol.plugin_host_subject(bot, "stats"), b'{"v":1}', timeout=2)
    protocol.check("WorkerStats", json.loads(reply.data))


async def test_graceful_stop_finishes_or_hands_over(js, bot, workers):
    p = Plugin("slow", version="1.0.0", description="")

    @p.command("slow", description="")
    async def slow(ctx) -> None:
        await asyncio.sleep(0.8)
        await ctx.reply("done")

    w1 = await workers([p], config(bot, partitions=1))
    await publish_event(js, message_event(bot, "/slow"), 1)
    await wait_until(lambda: _true(len(w1._inflight) == 1))
    await w1.stop(grace_ms=5_000)  # waits for the handler
    assert [a["text"] for a in await outbound(js, bot)] == ["done"]
    assert await consumers_idle(js, names(bot, 1))
    # A stop with no grace cancels the handler; the event is nak'ed and another worker answers.
    # ack_wait far beyond the wait below: only the nak can bring the event back that fast.
    w2 = await workers([p], config(bot, partitions=1, instance=f"w2-{bot}", ack_wait_ms=60_000))
    assert (await js.consumer_info(protocol.INBOUND_STREAM, names(bot, 1)[0])).config.ack_wait == 60
    await publish_event(js, message_event(bot, "/slow"), 1)
    await wait_until(lambda: _true(len(w2._inflight) == 1))
    await w2.stop(grace_ms=0)
    assert w2.counters.deliveries.get("shutdown") == 1
    await workers([p], config(bot, partitions=1, instance=f"w3-{bot}", ack_wait_ms=60_000))
    out = await wait_until(lambda: _n(outbound(js, bot), 2), timeout=5)  # well before ack_wait would expire
    assert [a["text"] for a in out] == ["done", "done"]


async def test_waits_for_the_broker_streams(bot):
    from .natsserver import NatsServer

    server = NatsServer()
    try:
        nc = await nats.connect(server.url)
        w = Worker([echo_plugin.plugin], config(bot, partitions=1, http_port=0), nc=nc)
        task = asyncio.create_task(w.start())
        await asyncio.sleep(0.6)
        assert not task.done() and any(r.startswith("stream SB_INBOUND") for r in w.readiness())
        status, body = await http_get(w, "/readyz")
        assert status == 503 and "stream SB_INBOUND" in json.loads(body)["reasons"]
        assert (await http_get(w, "/healthz"))[0] == 200
        js = nc.jetstream()
        await ensure_bus(js)
        await asyncio.wait_for(task, 10)
        assert w.readiness() == []
        assert (await http_get(w, "/readyz")) == (200, '{"status": "ready"}')
        await publish_event(js, message_event(bot, "/echo late"), 1)
        out = await wait_until(lambda: _n(outbound(js, bot), 1))
        assert out[0]["text"] == "late"
        await wait_until(lambda: consumers_idle(js, names(bot, 1)))
        status, metrics = await http_get(w, "/metrics")
        assert status == 200 and 'sb_plugin_host_deliveries_total{outcome="ack"} 1' in metrics
        assert 'sb_plugin_host_plugin_events_total{plugin="echo",outcome="ok"} 1' in metrics
        assert (await http_get(w, "/nope"))[0] == 404
        await w.stop(grace_ms=0)
        await nc.drain()
    finally:
        server.stop()


def test_done_marker_key_matches_plugin_host():
    from session_bot_plugin.worker import done_key

    # doneKey() of services/plugin-host/src/processing/progress.ts for the same id
    assert done_key("q3ZJb4Ew2mZ0l1yP9mA4fJ8vD7dK0nQ6s2T5uW1xY3z") == "_done.04613498ae600fda1628253c3958a412"


async def test_retry_reruns_only_the_plugins_that_failed(js, bot, workers):
    calls = {"steady": 0, "flaky": 0}
    steady = Plugin("steady", version="1.0.0", description="")
    flaky = Plugin("flaky", version="1.0.0", description="")

    @steady.on_message
    async def s(ctx) -> None:
        calls["steady"] += 1
        await ctx.store.set("count", calls["steady"])  # not idempotent on purpose

    @flaky.on_message
    async def f(ctx) -> None:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise RuntimeError("once")

    w = await workers([steady, flaky], config(bot, partitions=1))
    e = message_event(bot, "hello")
    await publish_event(js, e, 1)
    await wait_until(lambda: _true(calls["flaky"] == 2))
    await wait_until(lambda: consumers_idle(js, names(bot, 1)))
    assert calls == {"steady": 1, "flaky": 2}
    from session_bot_plugin.worker import done_key

    kv = await js.key_value(protocol.plugin_state_bucket("steady"))
    with pytest.raises(nats.js.errors.KeyNotFoundError):
        await kv.get(done_key(e["id"]))  # cleared once the event succeeded
    assert await w._stores["steady"].keys() == ["count"]  # markers are hidden from the plugin


async def http_get(w: Worker, path: str) -> tuple[int, str]:
    host, port = w.http_address
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


async def test_tasks_run_on_one_worker_at_a_time_and_move_on_stop(js, bot, workers):
    runs: list[tuple[str, str]] = []
    p = Plugin("ticker", version="1.0.0", description="")

    @p.task("beat", every_ms=250)
    async def beat(ctx) -> None:
        runs.append((ctx.host.instance, ctx.tick))
        await ctx.send(peer(7), f"beat {ctx.tick}", key=f"beat-{ctx.tick}")

    w1 = await workers([p], config(bot, partitions=1, instance=f"a-{bot}"))
    w2 = await workers([p], config(bot, partitions=1, instance=f"b-{bot}"))
    await wait_until(lambda: _true(len(runs) >= 4), timeout=10)
    holder = runs[0][0]
    assert {r[0] for r in runs} == {holder}, runs  # one worker holds the lease
    ticks = [r[1] for r in runs]
    assert len(set(ticks)) == len(ticks)
    kv = await js.key_value(protocol.plugin_state_bucket("ticker"))
    lease = json.loads((await kv.get("_lease.beat")).value)
    assert lease["owner"] == holder and set(lease) == {"owner", "until"}
    first, other = (w1, w2) if holder == w1.config.instance else (w2, w1)
    await first.stop(grace_ms=1000)  # releases the lease: the other worker takes over at its next tick
    n = len(runs)
    await wait_until(lambda: _true(any(r[0] == other.config.instance for r in runs[n:])), timeout=5)
    out = await outbound(js, bot)
    sent = [a for a in out if a["action"] == "send"]
    assert sent and all(a["id"] == protocol.derive_action_id(f"key:beat-{a['text'].split()[1]}", "ticker", 0) for a in sent)
    assert all("causationId" not in a for a in sent)


async def test_lease_compare_and_set(js, bot):
    from session_bot_plugin.worker import acquire_lease, release_lease

    kv = await js.create_key_value(bucket=f"sb_state_lease{bot}", history=1)
    assert await acquire_lease(kv, "_lease.t", "a", 5_000, now_ms=1_000)
    assert not await acquire_lease(kv, "_lease.t", "b", 5_000, now_ms=2_000)  # held by a
    assert await acquire_lease(kv, "_lease.t", "a", 5_000, now_ms=2_000)  # renewed
    assert await acquire_lease(kv, "_lease.t", "b", 5_000, now_ms=8_000)  # expired: taken over
    await release_lease(kv, "_lease.t", "a")  # not a's any more: kept
    assert json.loads((await kv.get("_lease.t")).value)["owner"] == "b"
    await release_lease(kv, "_lease.t", "b")
    assert await acquire_lease(kv, "_lease.t", "c", 5_000, now_ms=8_001)


async def test_a_deleted_partition_consumer_is_created_again(js, bot, workers):
    await workers([echo_plugin.plugin], config(bot, partitions=1))
    await publish_event(js, message_event(bot, "/echo before"), 1)
    await wait_until(lambda: _n(outbound(js, bot), 1))
    await wait_until(lambda: consumers_idle(js, names(bot, 1)))
    await js.delete_consumer(protocol.INBOUND_STREAM, names(bot, 1)[0])
    await publish_event(js, message_event(bot, "/echo after"), 1)
    out = await wait_until(lambda: _n(outbound(js, bot), 2), timeout=15)
    assert [a["text"] for a in out] == ["before", "after"]


async def test_a_disable_is_honoured_even_with_an_invalid_config(js, bot, workers):
    w = await workers([echo_plugin.plugin], config(bot, partitions=1))
    kv = await js.key_value(protocol.PLUGINS_BUCKET)
    await kv.put(protocol.plugin_config_key(bot, "echo"),
                 json.dumps({"v": 1, "enabled": False, "config": {"prefix": 7}, "updatedAt": 1, "updatedBy": "t"}).encode())
    await wait_until(lambda: _true(w.registry.states["echo"].refused is not None))
    assert w.registry.states["echo"].enabled is False


async def test_an_unexpected_delivery_failure_does_not_end_the_partition_loop(js, bot, workers, monkeypatch):
    w = await workers([echo_plugin.plugin], config(bot, partitions=1, ack_wait_ms=1_500, handler_timeout_ms=1_000))
    real = w._deliver
    calls = []

    async def flaky(m):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom outside the plugins")
        await real(m)

    monkeypatch.setattr(w, "_deliver", flaky)
    await publish_event(js, message_event(bot, "/echo survived"), 1)
    out = await wait_until(lambda: _n(outbound(js, bot), 1), timeout=15)  # redelivered after ack_wait
    assert [a["text"] for a in out] == ["survived"] and len(calls) == 2


async def test_a_dead_letter_that_cannot_be_published_keeps_the_event(js, bot, workers):
    w = await workers([echo_plugin.plugin], config(bot, partitions=1))
    await js.delete_stream(protocol.DEAD_LETTER_STREAM)
    try:
        await publish_raw(js, bot, 0, "message", b"not json", f"poison-{bot}")
        await wait_until(lambda: _true(w.counters.deliveries.get("nak", 0) >= 1))  # kept, not terminated
        assert w.counters.deliveries.get("poison") is None
    finally:
        await ensure_bus(js)
    dls = await wait_until(lambda: _n(dead_letters(js, bot), 1), timeout=15)  # a retry records it once SB_DEAD is back
    assert dls[0]["reason"]["code"] == "PROTOCOL_BAD_JSON" and dls[0]["deliveries"] >= 2
    await wait_until(lambda: consumers_idle(js, names(bot, 1)))
