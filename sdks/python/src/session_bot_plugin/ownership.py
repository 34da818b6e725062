"""Partition ownership (PROTOCOL.md §6.2.1), as plugin-host does it.

The workers of one consumer set (``host`` for plugin-host's ``sb_host_<bot>_p<n>`` consumers, or a
worker group's name for its own consumers) announce themselves with ``WorkerPresence`` heartbeats on
``sb.plugin-host.<bot>.presence.<set>`` (core NATS), and each pulls only the partitions
:func:`~session_bot_plugin.protocol.owned_partitions` gives it among the members it heard from
recently. TypeScript plugin-host workers and Python workers of the same set compute the same split.

Ownership never carries the ordering guarantee (each partition consumer keeps ``max_ack_pending: 1``);
it only stops the workers from all waiting on every partition, where the server hands each
partition's next event to whichever pull waited longest and the workers take turns instead of
working side by side.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Callable

from . import protocol
from .protocol import ProtocolError

log = logging.getLogger("session_bot_plugin.ownership")


class PartitionOwnership:
    """The members of a consumer set as one worker sees them, and the partitions that worker owns.

    ``on_change(owned)`` is called (synchronously, on the event loop) with the new partition list
    whenever it changes, never for the initial one (every partition: a worker alone owns them all).
    A worker that cannot publish or hear presence keeps the partitions it computes from the members it
    knows (at least itself).
    """

    def __init__(self, nc: Any, *, bot: str, set: str, instance: str, partitions: int, interval_ms: int,
                 on_change: Callable[[list[int]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.subject = protocol.worker_presence_subject(bot, set)
        if not protocol.is_worker_instance(instance):
            raise ProtocolError("PROTOCOL_BAD_NAME", f"worker instance must match {protocol.WORKER_INSTANCE_PATTERN}")
        protocol.assert_partition_count(partitions)
        if not isinstance(interval_ms, int) or isinstance(interval_ms, bool) or not 100 <= interval_ms <= 60_000:
            raise ProtocolError("PROTOCOL_INVALID", "presence interval must be an integer 100..60000 ms")
        self.nc = nc
        self.set = set
        self.instance = instance
        self.partitions = partitions
        self.interval_ms = interval_ms
        self.on_change = on_change
        self._clock = clock
        self.started_at = int(time.time() * 1000)
        self._members: dict[str, float] = {}
        """Other members → when they expire (clock seconds)."""
        self._owned = protocol.owned_partitions(instance, (), partitions)
        self._sub: Any = None
        self._heartbeat: asyncio.Task | None = None
        self._answer: asyncio.Task | None = None
        self._stopped = False
        self.duplicate_seen = False
        """Another worker announced this worker's instance name (logged once)."""
        self.invalid = 0
        """Presence messages ignored as invalid (counted, logged once)."""

    @property
    def owned(self) -> list[int]:
        """The partitions this worker pulls now, in increasing order."""
        return list(self._owned)

    @property
    def members(self) -> list[str]:
        """The members this worker counts now (itself included), sorted."""
        return sorted({*self._members, self.instance})

    async def start(self) -> None:
        """Subscribes to the set's presence subject and starts announcing this worker."""
        try:
            self._sub = await self.nc.subscribe(self.subject, cb=self._on_msg)
        except Exception as err:  # noqa: BLE001 - the worker keeps pulling what it computes alone
            log.warning("presence subscription failed (%s): this worker pulls every partition it computes alone", err)
        await self._announce("up")
        self._heartbeat = asyncio.create_task(self._beat(), name=f"sb-presence-{self.set}")

    async def stop(self) -> None:
        """Says ``leaving`` (so the others take this worker's partitions at once) and stops."""
        if self._stopped:
            return
        self._stopped = True
        for t in (self._heartbeat, self._answer):
            if t is not None:
                t.cancel()
        await asyncio.gather(*(t for t in (self._heartbeat, self._answer) if t is not None), return_exceptions=True)
        await self._announce("leaving")
        with contextlib.suppress(Exception):
            await self.nc.flush(timeout=2)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _beat(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self.interval_ms / 1000)
            await self._announce("up")
            self._recompute()

    async def _on_msg(self, msg: Any) -> None:
        self.receive(msg.data)

    def receive(self, data: bytes) -> None:
        """Takes one presence message (invalid ones, this worker's own and other sets' are ignored)."""
        try:
            p = protocol.decode("WorkerPresence", data)
        except ProtocolError as err:
            self.invalid += 1
            if self.invalid == 1:
                log.warning("ignored an invalid presence message on %s (%s); further ones are counted only", self.subject, err.code)
            return
        if p.set != self.set:
            return
        if p.instance == self.instance:
            if p.startedAt != self.started_at and not self.duplicate_seen:
                # Both would believe they own the same partitions, and nobody would pull the others.
                self.duplicate_seen = True
                log.warning("another worker announces the instance name %s on %s: instance names must be unique in a "
                            "consumer set (set PLUGIN_HOST_INSTANCE)", self.instance, self.subject)
            return
        if p.state == "leaving":
            self._members.pop(p.instance, None)
        else:
            known = p.instance in self._members
            self._members[p.instance] = self._clock() + p.intervalMs * protocol.PRESENCE_EXPIRY_INTERVALS / 1000
            # A newcomer learns the fleet within one round trip instead of one interval.
            if not known and not self._stopped and self._answer is None:
                self._answer = asyncio.get_running_loop().create_task(self._answer_newcomer())
        self._recompute()

    async def _answer_newcomer(self) -> None:
        try:
            await self._announce("up")
        finally:
            self._answer = None

    def _recompute(self) -> None:
        now = self._clock()
        for m in [m for m, expires in self._members.items() if expires <= now]:
            del self._members[m]
        owned = protocol.owned_partitions(self.instance, self._members, self.partitions)
        if owned == self._owned:
            return
        self._owned = owned
        log.info("partition ownership changed set=%s members=%s owned=%d", self.set, self.members, len(owned))
        if not self._stopped and self.on_change is not None:
            self.on_change(list(owned))

    async def _announce(self, state: str) -> None:
        msg = {"v": 1, "instance": self.instance, "set": self.set, "state": state, "intervalMs": self.interval_ms,
               "startedAt": self.started_at}
        try:
            await self.nc.publish(self.subject, protocol.encode("WorkerPresence", msg))
        except Exception as err:  # noqa: BLE001 - closing or disconnected: the others notice after the expiry
            log.warning("could not announce this worker on %s: %s", self.subject, err)


__all__ = ["PartitionOwnership"]
