"""An in-process harness to test a plugin without NATS, through the same runtime as the worker::

    h = Harness(plugin, config={"greeting": "Hi"})
    r = await h.message("/hello Ann")
    assert r.texts == ["Hi, Ann"]
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from . import models, protocol
from .plugin import Plugin, RuntimeDeps, invoke_plugin, resolve_config, run_task, summarize
from .store import MemoryStoreBackend, PluginStore

TEST_BOT = "testbot"
TEST_USER = "05" + "1" * 64
TEST_ADMIN = "05" + "a" * 64


@dataclass
class FeedResult:
    actions: list[dict[str, Any]]
    handled: bool

    @property
    def texts(self) -> list[str]:
        return [a["text"] for a in self.actions if a["action"] == "send"]


class MemoryAttachments:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def add(self, data: bytes, content_type: str = "application/octet-stream", file_name: str | None = None) -> models.AttachmentDescriptor:
        aid = hashlib.sha256(data).hexdigest()[:32]
        self.files[aid] = data
        d = {"id": aid, "contentType": content_type, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        if file_name:
            d["fileName"] = file_name
        return protocol.parse("AttachmentDescriptor", d)

    async def get(self, attachment_id: str) -> bytes:
        if attachment_id not in self.files:
            raise KeyError("no such attachment")
        return self.files[attachment_id]

    async def put(self, data: bytes, content_type: str, file_name: str | None) -> models.AttachmentDescriptor:
        return self.add(data, content_type, file_name)


@dataclass
class Harness:
    plugin: Plugin
    config: dict[str, Any] | None = None
    admins: list[str] = field(default_factory=lambda: [TEST_ADMIN])
    timeout_ms: float = 2_000
    command_prefix: str = "/"
    store_backend: MemoryStoreBackend = field(default_factory=MemoryStoreBackend)
    attachments: MemoryAttachments = field(default_factory=MemoryAttachments)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.resolved = resolve_config(self.plugin, self.config or {})
        self.store = PluginStore(self.store_backend)
        self._seen_ids: set[str] = set()
        self._n = itertools.count(1)

    def set_config(self, config: dict[str, Any]) -> None:
        self.resolved = resolve_config(self.plugin, config)

    async def tick(self, task: str, tick: str | None = None) -> FeedResult:
        """Runs one tick of a scheduled task (``tick`` defaults to a fresh one)."""
        emitted: list[dict[str, Any]] = []
        n = await run_task(self.plugin, task, tick or f"t{next(self._n)}", self._deps(emitted),
                           config=self.resolved, timeout_ms=self.timeout_ms)
        return FeedResult(emitted, n > 0)

    def _deps(self, emitted: list[dict[str, Any]]) -> RuntimeDeps:
        async def emit(action: dict[str, Any]) -> None:
            # Deduplicated by id, as JetStream's duplicate window would.
            if action["id"] in self._seen_ids:
                return
            self._seen_ids.add(action["id"])
            emitted.append(action)
            self.outbox.append(action)

        return RuntimeDeps(bot=TEST_BOT, instance="harness", emit=emit, store=self.store,
                           log=logging.getLogger(f"harness.{self.plugin.name}"), attachments=self.attachments,
                           is_admin=lambda sid: sid in self.admins, plugins=lambda: [summarize(self.plugin)])

    async def event(self, event: dict[str, Any] | Any) -> FeedResult:
        ev = event if not isinstance(event, dict) else protocol.parse("InboundEvent", event)
        emitted: list[dict[str, Any]] = []

        r = await invoke_plugin(self.plugin, ev, self._deps(emitted), config=self.resolved, timeout_ms=self.timeout_ms,
                                command_prefix=self.command_prefix)
        return FeedResult(emitted, r.handled)

    def _base(self, kind: str, sender: str, id: str | None) -> dict[str, Any]:
        now = int(time.time() * 1000)
        return {"v": 1, "id": id or f"evt-{next(self._n)}", "bot": TEST_BOT, "kind": kind, "conversation": sender,
                "sender": sender, "timestamp": now, "receivedAt": now}

    async def message(self, text: str, *, sender: str = TEST_USER, id: str | None = None,
                      attachments: list[models.AttachmentDescriptor] | None = None) -> FeedResult:
        e = self._base("message", sender, id)
        e.update(text=text, attachments=[a.model_dump(mode="json", exclude_unset=True) for a in attachments or []])
        return await self.event(e)

    async def reaction(self, emoji: str, *, sender: str = TEST_USER, remove: bool = False, id: str | None = None) -> FeedResult:
        e = self._base("reaction", sender, id)
        e.update(op="remove" if remove else "add", emoji=emoji, target={"timestamp": 1, "author": "05" + "b" * 64})
        return await self.event(e)
