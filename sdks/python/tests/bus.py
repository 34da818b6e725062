"""What the broker does on the bus, for the worker tests: streams, buckets, inbound events, and
reading what the workers published."""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from nats.js import api

from session_bot_plugin import protocol

_ids = itertools.count(1)


async def ensure_bus(js) -> None:
    for name, subjects in ((protocol.INBOUND_STREAM, ["sb.in.>"]), (protocol.OUTBOUND_STREAM, ["sb.out.>"]),
                           (protocol.DEAD_LETTER_STREAM, ["sb.dead.>"])):
        await js.add_stream(api.StreamConfig(name=name, subjects=subjects, duplicate_window=120, storage=api.StorageType.FILE))
    for bucket in (protocol.PLUGINS_BUCKET, protocol.PLUGIN_MANIFESTS_BUCKET):
        await js.create_key_value(api.KeyValueConfig(bucket=bucket, history=5))


def peer(n: int) -> str:
    return "05" + f"{n:064x}"


def message_event(bot: str, text: str, *, conversation: str | None = None, id: str | None = None, **extra: Any) -> dict[str, Any]:
    conv = conversation or peer(1)
    now = int(time.time() * 1000)
    return {"v": 1, "id": id or f"evt{next(_ids)}-{now}", "bot": bot, "kind": "message", "conversation": conv, "sender": conv,
            "timestamp": now, "receivedAt": now, "text": text, "attachments": [], **extra}


async def publish_event(js, event: dict[str, Any], partitions: int) -> None:
    subject = protocol.inbound_subject(event["bot"], protocol.partition_of(event["conversation"], partitions), event["kind"])
    await js.publish(subject, json.dumps(event).encode(), headers={protocol.HEADER_MSG_ID: event["id"]})


async def publish_raw(js, bot: str, partition: int, kind: str, data: bytes, msg_id: str) -> None:
    await js.publish(protocol.inbound_subject(bot, partition, kind), data, headers={protocol.HEADER_MSG_ID: msg_id})


async def stream_messages(js, stream: str, subject: str) -> list[Any]:
    """Every message stored in ``stream`` on ``subject`` (reads with an ephemeral consumer)."""
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    sub = await js.pull_subscribe(subject, stream=stream, config=api.ConsumerConfig(deliver_policy=api.DeliverPolicy.ALL,
                                                                                     ack_policy=api.AckPolicy.NONE,
                                                                                     inactive_threshold=5))
    out = []
    last = info.state.last_seq  # a snapshot: messages published while reading are not waited for
    try:
        while not out or out[-1].metadata.sequence.stream < last:
            try:
                batch = await sub.fetch(100, timeout=0.3)
            except asyncio.TimeoutError:
                break
            out.extend(batch)
        out = [m for m in out if m.metadata.sequence.stream <= last]
    finally:
        await sub.unsubscribe()
    return out


async def outbound(js, bot: str) -> list[dict[str, Any]]:
    return [json.loads(m.data) for m in await stream_messages(js, protocol.OUTBOUND_STREAM, protocol.outbound_filter(bot))]


async def dead_letters(js, bot: str) -> list[dict[str, Any]]:
    return [json.loads(m.data) for m in await stream_messages(js, protocol.DEAD_LETTER_STREAM, protocol.dead_letter_subject(bot))]


async def wait_until(predicate, timeout: float = 10.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        await asyncio.sleep(interval)


async def consumers_idle(js, names: list[str]) -> bool:
    for name in names:
        info = await js.consumer_info(protocol.INBOUND_STREAM, name)
        if info.num_pending or info.num_ack_pending:
            return False
    return True
