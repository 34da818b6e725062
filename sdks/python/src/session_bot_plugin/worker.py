"""The worker runtime: plugin-host's semantics in Python.

- waits (with backoff) for the broker's streams and buckets; never creates or edits streams;
- one durable pull consumer per partition (``max_ack_pending: 1``), pulled one message at a time,
  so one conversation's events are handled in order and never concurrently, fleet-wide;
- partition ownership (PROTOCOL.md §6.2.1): the workers of a consumer set (``host`` in plugin-host's
  fleet, else the group) announce themselves with ``WorkerPresence`` heartbeats and each pulls only
  the partitions it owns, TypeScript and Python workers alike; "leaving" is announced first on stop;
- every enabled plugin runs on each event, side by side; ack when all succeeded, nak with backoff
  when one failed, on the last allowed delivery a DeadLetter then term; an invalid body is
  dead-lettered at once; an event of an unknown (newer) kind is acked and ignored;
- replies carry ``derive_action_id(event.id, plugin, n)`` as Nats-Msg-Id, so a redelivered event
  (on any worker, in any language) yields the same ids and JetStream drops the repeats;
- live config from KV ``sb_plugins`` (key ``<bot>.<plugin>``), manifests to ``sb_plugin_manifests``,
  state in ``sb_state_<plugin>``; ``$SRV`` registration as ``sb-plugin-host``;
- graceful stop: intake stops, in-flight events get ``shutdown_grace_ms``, then their handlers are
  cancelled and their events nak'ed for another worker.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import signal
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js import api as jsapi
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError

from . import __version__, models, protocol
from .chunker_nats import request_chunked
from .config import WorkerConfig, consumer_name
from .ownership import PartitionOwnership
from .plugin import (
    Plugin,
    PluginError,
    PluginSummary,
    RuntimeDeps,
    invoke_plugin,
    parse_command,
    resolve_config,
    run_task,
    summarize,
)
from .protocol import ProtocolError
from .store import KvStoreBackend, PluginStore

log = logging.getLogger("session_bot_plugin")
ROUTER_NAME = "router"
RESERVED_PLUGIN_NAMES = frozenset({"router", "host"})
_SETUP_RETRY_MAX_S = 5.0
# How long a starting worker waits for the members of its consumer set to answer its first presence
# (they answer a newcomer at once), so that it does not pull partitions it is about to hand back.
_PRESENCE_SETTLE_S = 0.1
# How long a pull is kept after its last fetch expired (client side) before it is dropped: the
# server's side of that request ends up to one client-to-server delay later.
_LET_GO_MARGIN_S = 0.25


@dataclass
class PluginState:
    plugin: Plugin
    enabled: bool
    config: dict[str, Any] | None
    refused: str | None = None
    revision: int = 0


class Registry:
    """Enable flags and resolved configs of the loaded plugins (applied from KV, by revision)."""

    def __init__(self, plugins: Iterable[Plugin], enabled_by_default: bool):
        self.enabled_by_default = enabled_by_default
        self.states: dict[str, PluginState] = {}
        problems: list[str] = []
        owners: dict[str, str] = {}
        for p in plugins:
            if p.name in RESERVED_PLUGIN_NAMES:
                problems.append(f"plugin name {p.name} is reserved for the host")
            if p.name in self.states:
                problems.append(f"two plugins are named {p.name}")
            for c in p.commands:
                if c in owners:
                    problems.append(f"command /{c} is defined by {owners[c]} and {p.name}")
                owners.setdefault(c, p.name)
            self.states[p.name] = self._defaults(p)
        if problems:
            raise PluginError("PLUGIN_INVALID_DEFINITION", "; ".join(problems))

    def _defaults(self, p: Plugin, revision: int = 0) -> PluginState:
        try:
            return PluginState(p, self.enabled_by_default, resolve_config(p, {}), None, revision)
        except PluginError as err:
            return PluginState(p, self.enabled_by_default, None, err.message, revision)

    def apply(self, name: str, record: dict[str, Any] | None, revision: int) -> str:
        cur = self.states.get(name)
        if cur is None:
            return "ignored"
        if revision != 0 and revision <= cur.revision:
            return "ignored"
        if record is None:
            self.states[name] = self._defaults(cur.plugin, revision)
            return "applied"
        try:
            config = resolve_config(cur.plugin, record.get("config"))
        except PluginError as err:
            # Refused: the previous state is kept, except that a disable is honoured (the operator wants it off).
            cur.refused, cur.revision = err.message, revision
            if not record.get("enabled", True):
                cur.enabled = False
            return "refused"
        self.states[name] = PluginState(cur.plugin, bool(record["enabled"]), config, None, revision)
        return "applied"

    def refuse(self, name: str, reason: str, revision: int) -> None:
        cur = self.states.get(name)
        if cur is not None and revision > cur.revision:
            cur.refused, cur.revision = reason, revision

    def runnable(self) -> list[PluginState]:
        return [s for s in self.states.values() if s.enabled and s.config is not None]

    def summaries(self) -> list[PluginSummary]:
        return [summarize(s.plugin) for s in self.runnable()]


@dataclass
class Failure:
    plugin: str
    code: str
    message: str


@dataclass
class Outcome:
    failures: list[Failure] = field(default_factory=list)
    handled_by: list[str] = field(default_factory=list)
    succeeded: list[str] = field(default_factory=list)
    """Plugins (and ``router``) that ran without failing this time (skipped ones excluded)."""


def done_key(event_id: str) -> str:
    """plugin-host's progress marker key: ``_done.<first 32 hex of sha256(event id)>``."""
    return "_done." + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:32]


@dataclass
class _Counters:
    handled: int = 0
    errors: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    unknown_kinds: int = 0
    plugins: dict[str, dict[str, float]] = field(default_factory=dict)

    def plugin(self, name: str, ok: bool, ms: float) -> None:
        c = self.plugins.setdefault(name, {"handled": 0, "errors": 0, "totalMs": 0.0})
        c["handled" if ok else "errors"] += 1
        c["totalMs"] += ms


def backoff_for(backoff_ms: list[int], deliveries: int) -> int:
    if not backoff_ms:
        return 0
    return backoff_ms[min(max(deliveries, 1), len(backoff_ms)) - 1]


def dead_letter_payload(data: bytes) -> dict[str, Any]:
    """The body of a dead letter: protocol's rule (JSON up to 60 levels, else base64), so every dead
    letter encodes under MAX_JSON_DEPTH."""
    return protocol.dead_letter_payload(data)


async def acquire_lease(kv: Any, key: str, owner: str, ttl_ms: float, now_ms: float | None = None) -> bool:
    """Takes or renews the lease ``key`` (JSON ``{"owner", "until"}``, the format of plugin-host's
    scheduler) by compare-and-set on the KV revision. False when another owner holds it, or on a lost race."""
    now = time.time() * 1000 if now_ms is None else now_ms
    value = json.dumps({"owner": owner, "until": int(now + ttl_ms)}).encode()
    try:
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            entry = None
        if entry is None or entry.value is None:
            await kv.create(key, value)
            return True
        try:
            lease = json.loads(entry.value)
        except ValueError:
            lease = None
        if isinstance(lease, dict) and lease.get("owner") != owner and isinstance(lease.get("until"), (int, float)) and lease["until"] > now:
            return False
        await kv.update(key, value, last=entry.revision)
        return True
    except Exception:  # noqa: BLE001 - lost a compare-and-set race, or KV unavailable: not the holder this tick
        return False


async def release_lease(kv: Any, key: str, owner: str) -> None:
    try:
        entry = await kv.get(key)
        if entry.value and json.loads(entry.value).get("owner") == owner:
            await kv.delete(key, last=entry.revision)
    except Exception:  # noqa: BLE001 - best effort
        pass


class TaskScheduler:
    """Runs the plugins' periodic tasks: each tick, the worker that holds the task's lease runs it."""

    def __init__(self, worker: Worker):
        self.w = worker
        self.loops: list[asyncio.Task] = []
        self.running: set[asyncio.Task] = set()
        self.held: set[tuple[str, str]] = set()
        self.stopped = False
        self.runs: dict[str, int] = {}

    def start(self) -> None:
        for p in self.w.plugins:
            for t in p.tasks.values():
                self.loops.append(asyncio.create_task(self._loop(p, t.name, t.every_ms), name=f"sb-task-{p.name}-{t.name}"))

    async def _loop(self, plugin: Plugin, task: str, every_ms: float) -> None:
        while not self.stopped:
            await asyncio.sleep(every_ms / 1000)
            if self.stopped:
                break
            tick = asyncio.create_task(self._tick(plugin, task, every_ms))
            self.running.add(tick)
            try:
                await asyncio.shield(tick)
            except asyncio.CancelledError:
                if not tick.done():
                    raise
            finally:
                self.running.discard(tick)

    async def _tick(self, plugin: Plugin, task: str, every_ms: float) -> None:
        state = next((s for s in self.w.registry.runnable() if s.plugin.name == plugin.name), None)
        kv = self.w._kv.get(plugin.name)
        if state is None or kv is None:
            return
        ttl = max(3 * every_ms, 5_000)
        if not await acquire_lease(kv, f"_lease.{task}", self.w.config.instance, ttl):
            self.held.discard((plugin.name, task))
            return
        self.held.add((plugin.name, task))
        started = time.perf_counter()
        try:
            await run_task(plugin, task, str(int(time.time() * 1000 // every_ms)), self.w._deps(plugin),
                           config=state.config or {}, timeout_ms=min(self.w.config.handler_timeout_ms, ttl))
            self.runs[f"{plugin.name}/{task}/ok"] = self.runs.get(f"{plugin.name}/{task}/ok", 0) + 1
        except PluginError as err:
            self.runs[f"{plugin.name}/{task}/error"] = self.runs.get(f"{plugin.name}/{task}/error", 0) + 1
            log.warning("plugin task failed plugin=%s task=%s code=%s: %s", plugin.name, task, err.code, err.message)
        log.debug("task %s/%s took %.1f ms", plugin.name, task, (time.perf_counter() - started) * 1000)

    async def stop(self, grace_ms: float) -> None:
        self.stopped = True
        if self.running:
            _, pending = await asyncio.wait(set(self.running), timeout=grace_ms / 1000)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for loop in self.loops:
            loop.cancel()
        await asyncio.gather(*self.loops, return_exceptions=True)
        for plugin, task in list(self.held):
            kv = self.w._kv.get(plugin)
            if kv is not None:
                await release_lease(kv, f"_lease.{task}", self.w.config.instance)
        self.held.clear()


@dataclass
class _Pull:
    """One partition this worker pulls."""

    task: asyncio.Task = field(init=False)
    released: bool = False
    """Ownership moved: stop asking for more; finish what is in hand."""
    requests_end: float = 0.0
    """When the last fetch's pull request expires (monotonic seconds, client side)."""


@dataclass
class _KvEntry:
    key: str
    value: bytes
    operation: str
    revision: int


def nuid() -> str:
    import secrets

    return secrets.token_hex(8)


class BrokerAttachments:
    """``attachments.get``/``attachments.put`` of the broker over chunked request/reply (PROTOCOL.md §8)."""

    def __init__(self, nc: NATS, bot: str, timeout_ms: int):
        self.nc, self.bot, self.timeout_ms = nc, bot, timeout_ms

    async def get(self, attachment_id: str) -> bytes:
        req = protocol.encode("AttachmentGetRequest", {"v": 1, "attachmentId": attachment_id})
        reply = await request_chunked(self.nc, protocol.broker_subject(self.bot, "attachments.get"), req,
                                      timeout_ms=self.timeout_ms, max_response_bytes=protocol.MAX_ATTACHMENT_BYTES + 70_000)
        header, data = split_envelope(reply)
        meta = protocol.parse("AttachmentReply", header).attachment
        check_bytes(data, meta.size, meta.sha256)
        return data

    async def put(self, data: bytes, content_type: str, file_name: str | None) -> models.AttachmentDescriptor:
        req: dict[str, Any] = {"v": 1, "contentType": content_type, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if file_name is not None:
            req["fileName"] = file_name
        reply = await request_chunked(self.nc, protocol.broker_subject(self.bot, "attachments.put"),
                                      make_envelope(protocol.encode("AttachmentPutRequest", req), data),
                                      timeout_ms=self.timeout_ms)
        return protocol.decode("AttachmentReply", reply).attachment


MAX_ATTACHMENT_HEADER_BYTES = 65_536


def make_envelope(header_json: bytes, data: bytes) -> bytes:
    if len(header_json) > MAX_ATTACHMENT_HEADER_BYTES:
        raise ProtocolError("PROTOCOL_TOO_LARGE", "attachment envelope header over 64 KiB")
    return struct.pack(">I", len(header_json)) + header_json + data


def split_envelope(payload: bytes) -> tuple[Any, bytes]:
    if len(payload) < 4:
        raise ProtocolError("PROTOCOL_BAD_JSON", "attachment envelope shorter than its length prefix")
    (n,) = struct.unpack_from(">I", payload)
    if n > MAX_ATTACHMENT_HEADER_BYTES or 4 + n > len(payload):
        raise ProtocolError("PROTOCOL_TOO_LARGE" if n > MAX_ATTACHMENT_HEADER_BYTES else "PROTOCOL_BAD_JSON", "bad attachment envelope header length")
    return protocol.decode_json(payload[4 : 4 + n], "attachment envelope"), payload[4 + n :]


def check_bytes(data: bytes, size: int, sha256_hex: str | None) -> None:
    if len(data) != size:
        raise ProtocolError("PROTOCOL_INVALID", "attachment bytes do not match the announced size")
    if sha256_hex is not None and hashlib.sha256(data).hexdigest() != sha256_hex:
        raise ProtocolError("PROTOCOL_INVALID", "attachment bytes do not match the announced sha256")


class Worker:
    """Runs plugins on the session_bot bus. ``await worker.start()``, ``await worker.stop()``;
    or ``await worker.run_until_signal()`` (SIGTERM/SIGINT → graceful stop)."""

    def __init__(self, plugins: Iterable[Plugin], config: WorkerConfig | None = None, *, nc: NATS | None = None,
                 version: str = __version__):
        self.plugins = list(plugins)
        if not self.plugins:
            raise PluginError("PLUGIN_INVALID_DEFINITION", "a worker needs at least one plugin")
        self.config = config or WorkerConfig.from_env()
        self.registry = Registry(self.plugins, self.config.plugins_enabled_by_default)
        self.version = version
        self.nc = nc
        self._own_nc = nc is None
        self.js: JetStreamContext | None = None
        self.counters = _Counters()
        self.waiting: list[str] = ["starting"]
        self._stopping = False
        self._pulls: dict[int, _Pull] = {}
        """The partitions this worker pulls now (all, or those it owns) → their pull loops."""
        self._releasing: set[asyncio.Task] = set()
        """Pull loops being let go (ownership moved): they finish what they already hold."""
        self._wanted: set[int] = set()
        self._reconciler: asyncio.Task | None = None
        self.ownership: PartitionOwnership | None = None
        self._inflight: set[asyncio.Task] = set()
        self._sem = asyncio.Semaphore(self.config.concurrency)
        self._stores: dict[str, PluginStore] = {}
        self._kv: dict[str, Any] = {}
        self._watch_task: asyncio.Task | None = None
        self._watcher: Any = None
        self._service: Any = None
        self._admins = set(self.config.admins)
        self._unknown_kinds_logged: set[str] = set()
        self.attachments: BrokerAttachments | None = None
        self.started = asyncio.Event()
        self.http: asyncio.AbstractServer | None = None
        self.scheduler = TaskScheduler(self)

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.config
        if cfg.http_port is not None and self.http is None:
            from .http import serve_http

            # Up before NATS, so /readyz can say what the worker waits for.
            self.http = await serve_http(self, cfg.http_host, cfg.http_port)
            log.info("http listening on %s", self.http_address)
        if self.nc is None:
            opts: dict[str, Any] = {"servers": cfg.servers, "name": f"sb-plugin-py-{cfg.instance}", "max_reconnect_attempts": -1}
            if cfg.creds_file:
                opts["user_credentials"] = cfg.creds_file
            if cfg.user:
                opts["user"], opts["password"] = cfg.user, cfg.password or ""
            if cfg.token:
                opts["token"] = cfg.token
            self.nc = await nats.connect(**opts)
        nc = self.nc
        self.js = nc.jetstream()
        js = self.js
        self.attachments = BrokerAttachments(nc, cfg.bot, cfg.handler_timeout_ms)
        for stream in (protocol.INBOUND_STREAM, protocol.OUTBOUND_STREAM, protocol.DEAD_LETTER_STREAM):
            await self._wait_for(f"stream {stream}", lambda s=stream: js.stream_info(s))
        plugins_kv = await self._wait_for(f"bucket {protocol.PLUGINS_BUCKET}", lambda: js.key_value(protocol.PLUGINS_BUCKET))
        manifests_kv = await self._wait_for(f"bucket {protocol.PLUGIN_MANIFESTS_BUCKET}",
                                            lambda: js.key_value(protocol.PLUGIN_MANIFESTS_BUCKET))
        for p in self.plugins:
            kv = await self._state_bucket(p.name)
            self._kv[p.name] = kv
            self._stores[p.name] = PluginStore(KvStoreBackend(kv))
            await manifests_kv.put(protocol.plugin_manifest_key(p.name), protocol.encode("PluginManifest", p.manifest()))
        await self._watch_config(plugins_kv)
        await self._ensure_consumers()
        if cfg.partition_ownership:
            # Split the partitions with the other workers of the set (PROTOCOL.md §6.2.1): announce
            # this worker, give the others a moment to answer, then pull what it owns; narrow or widen
            # as members come and go.
            self.ownership = PartitionOwnership(nc, bot=cfg.bot, set=cfg.consumer_set, instance=cfg.instance,
                                                partitions=cfg.partitions, interval_ms=cfg.presence_interval_ms,
                                                on_change=self._set_partitions)
            await self.ownership.start()
            with contextlib.suppress(Exception):
                await nc.flush(timeout=2)
            await asyncio.sleep(_PRESENCE_SETTLE_S)
            self._set_partitions(self.ownership.owned)
        else:
            self._set_partitions(list(range(cfg.partitions)))
        assert self._reconciler is not None
        await asyncio.shield(self._reconciler)
        self.scheduler.start()
        await self._register_service()
        self.waiting.remove("starting")
        self.started.set()
        log.info("worker running bot=%s instance=%s group=%s plugins=%s partitions=%d pulling=%d", cfg.bot, cfg.instance,
                 cfg.group or "(plugin-host)", [p.name for p in self.plugins], cfg.partitions, len(self._pulls))

    async def stop(self, grace_ms: int | None = None) -> None:
        """Stops intake, lets in-flight events finish for ``grace_ms``, then cancels them (nak'ed)."""
        grace = self.config.shutdown_grace_ms if grace_ms is None else grace_ms
        stop_started = time.monotonic()
        # Leave first: the others take this worker's partitions while it finishes what it holds.
        if self.ownership is not None:
            await self.ownership.stop()
        self._stopping = True
        if "stopping" not in self.waiting:
            self.waiting.append("stopping")
        if self._reconciler is not None and not self._reconciler.done():
            self._reconciler.cancel()
            await asyncio.gather(self._reconciler, return_exceptions=True)
        if self._service is not None:
            with contextlib.suppress(Exception):
                await self._service.stop()
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=grace / 1000)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # The pull loops end on their own within one fetch timeout (a message they get meanwhile is nak'ed).
        await asyncio.gather(*(p.task for p in self._pulls.values()), *self._releasing, return_exceptions=True)
        await self.scheduler.stop(max(0.0, grace - (time.monotonic() - stop_started) * 1000))
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                await self._watcher.unsubscribe()
        if self.http is not None:
            self.http.close()
            with contextlib.suppress(Exception):
                await self.http.wait_closed()
        if self._own_nc and self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.drain()

    async def run_until_signal(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        starting = asyncio.create_task(self.start())
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done and starting.exception() is not None:
            stopping.cancel()
            await self.stop(grace_ms=0)
            raise starting.exception()  # type: ignore[misc]
        if starting not in done:
            # A signal while waiting for the broker's streams: give up starting.
            self._stopping = True
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        await stopping
        log.info("signal received: stopping")
        await self.stop()

    @property
    def http_address(self) -> tuple[str, int] | None:
        if self.http is None or not self.http.sockets:
            return None
        host, port = self.http.sockets[0].getsockname()[:2]
        return host, port

    def readiness(self) -> list[str]:
        reasons = list(self.waiting)
        if self.nc is None or not self.nc.is_connected:
            reasons.append("nats not connected")
        return reasons

    def stats(self) -> dict[str, Any]:
        """protocol's WorkerStats of this worker."""
        # Every loaded plugin is listed (the gateway reads a worker's plugins from these keys).
        plugins = {}
        for p in self.plugins:
            c = self.counters.plugins.get(p.name, {"handled": 0, "errors": 0, "totalMs": 0.0})
            plugins[p.name] = {"handled": int(c["handled"]), "errors": int(c["errors"]),
                               "averageLatencyMs": round(c["totalMs"] / max(1, c["handled"] + c["errors"]), 3)}
        doc = {"v": 1, "inFlight": len(self._inflight), "handled": self.counters.handled, "errors": self.counters.errors, "plugins": plugins}
        protocol.check("WorkerStats", doc)
        return doc

    # ---- setup ---------------------------------------------------------------------------------
    async def _wait_for(self, what: str, fn: Any) -> Any:
        delay = 0.2
        while True:
            if self._stopping:
                raise RuntimeError("stopped while waiting for NATS resources")
            try:
                result = await fn()
                if what in self.waiting:
                    self.waiting.remove(what)
                return result
            except (NotFoundError, BucketNotFoundError, asyncio.TimeoutError) as err:
                if what not in self.waiting:
                    self.waiting.append(what)
                log.warning("waiting for %s (created by the broker): %s; retry in %.1fs", what, type(err).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _SETUP_RETRY_MAX_S)

    async def _state_bucket(self, plugin: str) -> Any:
        """Opens ``sb_state_<plugin>``, creating it when missing. A bucket made by another worker (in
        any language, with its client's stream defaults) is used as it is, never re-created."""
        js = self.js
        assert js is not None
        bucket = protocol.plugin_state_bucket(plugin)
        try:
            return await js.key_value(bucket)
        except BucketNotFoundError:
            pass
        try:
            return await js.create_key_value(jsapi.KeyValueConfig(bucket=bucket, history=1,
                                                                  description=f"session_bot state of plugin {plugin}"))
        except nats.js.errors.BadRequestError:
            return await js.key_value(bucket)  # created meanwhile by another worker

    async def _ensure_consumers(self) -> None:
        for part in range(self.config.partitions):
            await self._ensure_consumer(part)

    async def _ensure_consumer(self, part: int) -> None:
        cfg, js = self.config, self.js
        assert js is not None
        name = consumer_name(cfg.bot, part, cfg.group)
        desc = (f"session_bot plugin-host, bot {cfg.bot}, partition {part}" if cfg.group is None
                else f"session_bot worker group {cfg.group}, bot {cfg.bot}, partition {part}")
        cc = jsapi.ConsumerConfig(
            durable_name=name, filter_subject=protocol.inbound_partition_filter(cfg.bot, part),
            ack_policy=jsapi.AckPolicy.EXPLICIT, deliver_policy=jsapi.DeliverPolicy.ALL, max_ack_pending=1,
            max_deliver=cfg.max_deliver, ack_wait=cfg.ack_wait_ms / 1000, description=desc)
        try:
            await js.add_consumer(protocol.INBOUND_STREAM, cc)
        except nats.js.errors.BadRequestError:
            # Exists with settings that cannot be updated in place: keep it (another fleet member owns them).
            await js.consumer_info(protocol.INBOUND_STREAM, name)

    async def _watch_config(self, kv: Any) -> None:
        bot = self.config.bot

        def apply(entry: Any) -> None:
            try:
                ebot, plugin = protocol.parse_plugin_config_key(entry.key)
            except ProtocolError:
                return
            if ebot != bot or plugin not in self.registry.states:
                return
            op = getattr(entry, "operation", None)
            if op in ("DEL", "PURGE"):
                result = self.registry.apply(plugin, None, entry.revision)
            else:
                try:
                    record = protocol.decode("PluginConfigRecord", entry.value)
                    result = self.registry.apply(plugin, record.model_dump(mode="json", by_alias=True), entry.revision)
                except ProtocolError as err:
                    self.registry.refuse(plugin, f"invalid config record: {err.message}", entry.revision)
                    result = "refused"
            state = self.registry.states[plugin]
            if result == "refused":
                log.warning("plugin config refused; previous config kept plugin=%s revision=%s reason=%s", plugin, entry.revision, state.refused)
            elif result == "applied":
                log.info("plugin config applied plugin=%s revision=%s enabled=%s", plugin, entry.revision, state.enabled)

        # Current records first (direct gets), so the first event sees them; then a watch, whose
        # first deliveries repeat them harmlessly (records at or below an applied revision are skipped).
        for p in self.plugins:
            try:
                apply(await kv.get(protocol.plugin_config_key(bot, p.name)))
            except KeyNotFoundError:
                pass
        updates: asyncio.Queue[Any] = asyncio.Queue()
        # An ordered push consumer with a name: the deployment's NATS permissions allow creating
        # consumers on KV_sb_plugins only as $JS.API.CONSUMER.CREATE.KV_sb_plugins.<name>.<...>,
        # which nats-py's KeyValue.watch (an unnamed consumer) does not use.
        self._watcher = await self.js.subscribe(  # type: ignore[union-attr]
            f"$KV.{protocol.PLUGINS_BUCKET}.{protocol.plugin_config_key_filter(bot)}",
            stream=f"KV_{protocol.PLUGINS_BUCKET}",
            cb=updates.put,
            ordered_consumer=True,
            deliver_policy=jsapi.DeliverPolicy.LAST_PER_SUBJECT,
            config=jsapi.ConsumerConfig(name=f"sbpy_cfg_{nuid()}", inactive_threshold=300),
        )

        async def follow() -> None:
            prefix = f"$KV.{protocol.PLUGINS_BUCKET}."
            while True:
                m = await updates.get()
                op = (m.headers or {}).get("KV-Operation", "PUT")
                apply(_KvEntry(m.subject[len(prefix):], m.data, op, m.metadata.sequence.stream))

        self._watch_task = asyncio.create_task(follow(), name="sb-config-watch")

    async def _register_service(self) -> None:
        from nats.micro import add_service
        from nats.micro.service import ServiceConfig

        cfg = self.config
        assert self.nc is not None
        metadata = {"bot": cfg.bot, "instance": cfg.instance, "plugins": ",".join(p.name for p in self.plugins),
                    "runtime": "python", **({"group": cfg.group} if cfg.group else {})}
        svc = await add_service(self.nc, ServiceConfig(
            name=protocol.PLUGIN_HOST_SERVICE, version=self.version, description="session_bot plugin worker (Python)",
            metadata=metadata, queue_group=protocol.plugin_host_queue_group(cfg.bot),
            stats_handler=lambda _endpoint: self.stats()))

        async def stats_endpoint(req: Any) -> None:
            await req.respond(json.dumps(self.stats()).encode())

        await svc.add_endpoint(name="stats", subject=protocol.plugin_host_subject(cfg.bot, "stats"), handler=stats_endpoint)
        self._service = svc

    # ---- consuming -----------------------------------------------------------------------------
    @property
    def partitions(self) -> list[int]:
        """The inbound partitions this worker pulls now (all, or those it owns; PROTOCOL.md §6.2.1)."""
        return sorted(self._pulls)

    def _set_partitions(self, partitions: Iterable[int]) -> None:
        """Pulls exactly ``partitions`` from now on: starts the new ones and lets go of the others (their
        loops stop asking for more and finish an event already in hand)."""
        self._wanted = set(partitions)
        if self._reconciler is None or self._reconciler.done():
            self._reconciler = asyncio.get_running_loop().create_task(self._reconcile(), name="sb-partitions")
        # else: the running reconcile goes round again until it matches the latest wish

    async def _reconcile(self) -> None:
        js = self.js
        assert js is not None
        cfg = self.config
        while not self._stopping:
            wanted = set(self._wanted)
            for part in [p for p in self._pulls if p not in wanted]:
                pull = self._pulls.pop(part)
                pull.released = True
                self._releasing.add(pull.task)
                pull.task.add_done_callback(self._releasing.discard)
            failed: Exception | None = None
            for part in sorted(wanted):
                if part in self._pulls or self._stopping:
                    continue
                try:
                    psub = await js.pull_subscribe_bind(durable=consumer_name(cfg.bot, part, cfg.group), stream=protocol.INBOUND_STREAM)
                except Exception as err:  # noqa: BLE001 - e.g. reconnecting: try again shortly
                    failed = failed or err
                    continue
                pull = _Pull()
                pull.task = asyncio.create_task(self._loop(part, psub, pull), name=f"sb-partition-{part}")
                self._pulls[part] = pull
            if failed is not None:
                log.warning("could not start pulling some partitions (%s); retrying in 1 s", failed)
                await asyncio.sleep(1)
                continue
            if self._wanted == wanted:
                log.debug("pulling partitions %s", self.partitions)
                return

    async def _loop(self, partition: int, psub: Any, pull: _Pull) -> None:
        timeout = self.config.fetch_timeout_ms / 1000
        while not self._stopping and not pull.released:
            pull.requests_end = time.monotonic() + timeout
            try:
                msgs = await psub.fetch(1, timeout=timeout)
            except asyncio.TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - connection trouble: keep trying
                if self._stopping or pull.released:
                    break
                log.warning("fetch failed on partition %d: %s", partition, err)
                await asyncio.sleep(1)
                psub = await self._rebind_if_gone(partition, psub)
                continue
            for m in msgs:
                await self._take(partition, m)
        await self._let_go(partition, psub, pull.requests_end)

    async def _let_go(self, partition: int, psub: Any, requests_end: float) -> None:
        """Ends a pull without dropping an event on the floor. The server's side of the last fetch
        outlives the client's wait by the time the request took to reach it, and a message it hands out
        meanwhile would be lost with the subscription (holding the partition until ack_wait); so the
        subscription stays until that request has surely ended, and whatever reaches it is taken (or
        nak'ed when stopping)."""
        sub = getattr(psub, "_sub", None)
        queue = getattr(sub, "_pending_queue", None)

        async def take_buffered() -> None:
            while queue is not None and not queue.empty():
                m = queue.get_nowait()
                if JetStreamContext.is_status_msg(m):
                    continue  # the end of a request (408), or a heartbeat
                await self._take(partition, m)

        with contextlib.suppress(Exception):
            deadline = requests_end + _LET_GO_MARGIN_S
            while True:
                await take_buffered()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(remaining, 0.05))
            assert self.nc is not None
            await self.nc.flush(timeout=2)
            await take_buffered()
        with contextlib.suppress(Exception):
            await psub.unsubscribe()

    async def _take(self, partition: int, m: Any) -> None:
        """Handles one pulled message (one at a time per partition), or nak's it when stopping."""
        if self._stopping:
            await self._safe(m.nak())
            self._count("shutdown")
            return
        async with self._sem:
            task = asyncio.create_task(self._deliver(m))
            self._inflight.add(task)
            try:
                # One at a time per partition: the consumer allows a single unacked message anyway.
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled() or self._stopping:
                    pass
                else:
                    raise
            except Exception:  # noqa: BLE001 - never end the partition's loop; the event comes back after ack_wait
                log.exception("unexpected failure delivering on partition %d", partition)
                self._count("error")
            finally:
                self._inflight.discard(task)

    async def _rebind_if_gone(self, partition: int, psub: Any) -> Any:
        """A partition consumer that disappeared (deleted by hand, lost) is created again."""
        assert self.js is not None
        name = consumer_name(self.config.bot, partition, self.config.group)
        try:
            await self.js.consumer_info(protocol.INBOUND_STREAM, name)
            return psub
        except NotFoundError:
            pass
        except Exception:  # noqa: BLE001 - NATS unavailable: try again on the next failure
            return psub
        try:
            await self._ensure_consumer(partition)
            with contextlib.suppress(Exception):
                await psub.unsubscribe()
            log.warning("partition consumer %s was gone: created again", name)
            return await self.js.pull_subscribe_bind(durable=name, stream=protocol.INBOUND_STREAM)
        except Exception as err:  # noqa: BLE001
            log.warning("could not create partition consumer %s again: %s", name, err)
            return psub

    def _count(self, outcome: str) -> None:
        self.counters.deliveries[outcome] = self.counters.deliveries.get(outcome, 0) + 1
        if outcome == "ack":
            self.counters.handled += 1
        elif outcome != "ignored":
            self.counters.errors += 1

    @staticmethod
    async def _safe(coro: Any) -> None:
        try:
            await coro
        except Exception as err:  # noqa: BLE001
            log.warning("ack/nak failed (the event will be redelivered): %s", err)

    async def _deliver(self, m: Any) -> None:
        md = m.metadata
        deliveries = md.num_delivered
        try:
            event = protocol.decode_inbound_event(m.data)
        except ProtocolError as err:
            if err.code == "PROTOCOL_UNKNOWN_KIND":
                # Well-formed for a newer reader (PROTOCOL.md §2.5): ack and ignore, log once per kind.
                kind = str(protocol.decode_json(m.data).get("kind"))[:32]
                if kind not in self._unknown_kinds_logged:
                    self._unknown_kinds_logged.add(kind)
                    log.info("ignoring inbound events of unknown kind %r (newer protocol)", kind)
                self.counters.unknown_kinds += 1
                await self._safe(m.ack())
                self._count("ignored")
                return
            log.warning("invalid inbound event dead-lettered subject=%s seq=%s code=%s", m.subject, md.sequence.stream, err.code)
            await self._dead_letter(m, err.code, err.message, None, "poison")
            return
        try:
            outcome = await self._handle(event, deliveries)
        except asyncio.CancelledError:
            # Stopping: hand the event to another worker right away.
            await self._safe(m.nak())
            self._count("shutdown")
            raise
        except Exception as err:  # noqa: BLE001
            outcome = Outcome([Failure("host", "UNKNOWN", str(err))])
            log.exception("event processing failed id=%s", event.id)
        if not outcome.failures:
            # A plain ack, as plugin-host's: the server hands the partition's next event out as soon
            # as it reads it, with no confirmation to wait for. An ack lost on the way brings the event
            # back after ack_wait; its replies carry the same action ids and are dropped as duplicates.
            await self._safe(m.ack())
            self._count("ack")
            return
        if deliveries >= self.config.max_deliver:
            first = outcome.failures[0]
            text = " | ".join(f"{f.plugin}: {f.code}: {f.message}" for f in outcome.failures)
            await self._dead_letter(m, "MAX_DELIVER", f"failed {deliveries} deliveries; last: {text}"[:1000],
                                    None if first.plugin in ("host", ROUTER_NAME) else first.plugin, "dead_letter", event.id)
            return
        delay = backoff_for(self.config.backoff_ms, deliveries)
        await self._safe(m.nak(delay=delay / 1000))
        log.info("event failed, retry later id=%s deliveries=%d delay_ms=%d failed=%s", event.id, deliveries, delay,
                 [f.plugin for f in outcome.failures])
        self._count("nak")

    async def _dead_letter(self, m: Any, code: str, message: str, plugin: str | None, outcome: str,
                           message_id: str | None = None) -> None:
        md = m.metadata
        cfg = self.config
        source: dict[str, Any] = {"stream": protocol.INBOUND_STREAM, "subject": m.subject, "sequence": md.sequence.stream,
                                  "consumer": md.consumer}
        if message_id is not None:
            source["messageId"] = message_id
        first_seen = int(md.timestamp.timestamp() * 1000) if md.timestamp else int(time.time() * 1000)
        dl: dict[str, Any] = {
            "v": 1, "id": f"{protocol.INBOUND_STREAM}:{md.sequence.stream}", "bot": cfg.bot, "source": source,
            "payload": dead_letter_payload(m.data),
            "reason": {"code": code if _is_code(code) else "PLUGIN_FAILED", "message": message[:1000]},
            "deliveries": md.num_delivered, "firstSeen": first_seen, "failedAt": int(time.time() * 1000),
        }
        if plugin is not None:
            dl["plugin"] = plugin
        try:
            assert self.js is not None
            headers = {protocol.HEADER_CONTENT_TYPE: protocol.CONTENT_TYPE_JSON, protocol.HEADER_MSG_ID: dl["id"],
                       protocol.HEADER_PROTOCOL_VERSION: "1", **({protocol.HEADER_PLUGIN: plugin} if plugin else {})}
            await self.js.publish(protocol.dead_letter_subject(cfg.bot), protocol.encode("DeadLetter", dl),
                                  stream=protocol.DEAD_LETTER_STREAM, headers=headers)
        except Exception as err:  # noqa: BLE001 - keep the event rather than lose it
            log.error("dead letter publish failed; event kept seq=%s: %s", md.sequence.stream, err)
            await self._safe(m.nak(delay=backoff_for(cfg.backoff_ms, md.num_delivered) / 1000))
            self._count("nak")
            return
        # Term with a reason, as plugin-host does (`+TERM <reason>`).
        await self._safe(self.nc.publish(m.reply, b"+TERM " + code.encode()))  # type: ignore[union-attr]
        self._count(outcome)

    # ---- processing ----------------------------------------------------------------------------
    async def _handle(self, event: Any, deliveries: int) -> Outcome:
        """A retry re-runs only the plugins that have not succeeded on an earlier delivery (markers in
        each plugin's state bucket, the same keys as plugin-host, so the fleets agree across languages)."""
        names = [s.plugin.name for s in self.registry.runnable()]
        final = deliveries >= self.config.max_deliver
        skip = await self._markers("read", event.id, names) if deliveries > 1 else set()
        outcome = await self.process(event, skip)
        if not outcome.failures or final:
            if deliveries > 1:
                await self._markers("clear", event.id, names)
        else:
            await self._markers("mark", event.id, [p for p in outcome.succeeded if p != ROUTER_NAME])
        return outcome

    async def _markers(self, op: str, event_id: str, plugins: list[str]) -> set[str]:
        key = done_key(event_id)
        found: set[str] = set()

        async def one(plugin: str) -> None:
            kv = self._kv.get(plugin)
            if kv is None:
                return
            try:
                if op == "read":
                    entry = await kv.get(key)
                    if entry.operation is None or str(entry.operation) == "PUT":
                        found.add(plugin)
                elif op == "mark":
                    await kv.put(key, str(int(time.time() * 1000)).encode())
                else:
                    await kv.purge(key)
            except KeyNotFoundError:
                pass
            except Exception as err:  # noqa: BLE001 - markers are an optimisation; never fail the event on them
                log.warning("progress marker %s failed plugin=%s: %s", op, plugin, err)

        await asyncio.gather(*(one(p) for p in plugins))
        return found

    async def emit(self, action: dict[str, Any]) -> None:
        """Publishes a validated OutboundAction with its id as Nats-Msg-Id (waits for the stream's ack)."""
        assert self.js is not None
        headers = {protocol.HEADER_CONTENT_TYPE: protocol.CONTENT_TYPE_JSON, protocol.HEADER_MSG_ID: action["id"],
                   protocol.HEADER_PROTOCOL_VERSION: "1"}
        if "causationId" in action:
            headers[protocol.HEADER_CAUSATION_ID] = action["causationId"]
        if "plugin" in action:
            headers[protocol.HEADER_PLUGIN] = action["plugin"]
        await self.js.publish(protocol.outbound_subject_of(action), protocol.encode("OutboundAction", action),
                              stream=protocol.OUTBOUND_STREAM, headers=headers)

    def _deps(self, plugin: Plugin) -> RuntimeDeps:
        cfg = self.config
        return RuntimeDeps(bot=cfg.bot, instance=cfg.instance, emit=self.emit, store=self._stores[plugin.name],
                           log=logging.getLogger(f"session_bot_plugin.{plugin.name}"), attachments=self.attachments,
                           is_admin=lambda sid: sid in self._admins, plugins=self.registry.summaries)

    async def process(self, event: Any, skip: set[str] | frozenset[str] = frozenset()) -> Outcome:
        """Runs the enabled plugins (but those in ``skip``) on one event; a plugin's failure is
        reported, never raised."""
        out = Outcome()
        cfg = self.config

        async def one(state: PluginState) -> None:
            started = time.perf_counter()
            try:
                result = await invoke_plugin(state.plugin, event, self._deps(state.plugin), config=state.config or {},
                                             timeout_ms=cfg.handler_timeout_ms, command_prefix=cfg.command_prefix)
                out.succeeded.append(state.plugin.name)
                if result.handled:
                    out.handled_by.append(state.plugin.name)
                    self.counters.plugin(state.plugin.name, True, (time.perf_counter() - started) * 1000)
            except PluginError as err:
                self.counters.plugin(state.plugin.name, False, (time.perf_counter() - started) * 1000)
                out.failures.append(Failure(state.plugin.name, err.code, err.message))
                log.warning("plugin failed on event plugin=%s id=%s code=%s: %s", state.plugin.name, event.id, err.code,
                            err.message, exc_info=err.__cause__ is not None)

        await asyncio.gather(*(one(s) for s in self.registry.runnable() if s.plugin.name not in skip))
        command = parse_command(event.text, cfg.command_prefix) if event.kind == "message" else None
        if (command is not None and ROUTER_NAME not in skip
                and not any(command.name in s.plugin.commands for s in self.registry.runnable())):
            text: str | None = None
            if command.name == "help" and cfg.router_reply != "":
                text = format_help(self.registry.summaries(), cfg.command_prefix, event.sender in self._admins)
            elif cfg.router_reply.strip() != "":
                text = cfg.router_reply.replace("{prefix}", cfg.command_prefix).replace("{command}", command.name)
            if text is not None:
                try:
                    await self.emit({"v": 1, "id": protocol.derive_action_id(event.id, ROUTER_NAME, 0), "bot": event.bot,
                                     "causationId": event.id, "plugin": ROUTER_NAME, "action": "send",
                                     "conversation": event.conversation, "text": text[:2000]})
                    out.succeeded.append(ROUTER_NAME)
                except Exception as err:  # noqa: BLE001 - transient: the event is retried
                    out.failures.append(Failure(ROUTER_NAME, "UNKNOWN", str(err)))
        return out


def format_help(plugins: list[PluginSummary], prefix: str, is_admin: bool) -> str:
    lines = ["Commands:"]
    for p in plugins:
        for c in p.commands:
            if c.get("adminOnly") and not is_admin:
                continue
            usage = f" {c['usage']}" if c.get("usage") else ""
            lines.append(f"{prefix}{c['name']}{usage} — {c['description']}{' (admin)' if c.get('adminOnly') else ''}")
    return "No commands are available right now." if len(lines) == 1 else "\n".join(lines)


def _is_code(code: str) -> bool:
    import re

    return re.match(r"[A-Z][A-Z0-9_]{0,63}\Z", code) is not None


async def run(*plugins: Plugin, config: WorkerConfig | None = None) -> None:
    """Runs a worker until SIGTERM/SIGINT (what ``python -m session_bot_plugin`` does)."""
    await Worker(plugins, config).run_until_signal()


__all__ = ["Worker", "Registry", "run", "format_help", "backoff_for", "dead_letter_payload", "done_key"]
