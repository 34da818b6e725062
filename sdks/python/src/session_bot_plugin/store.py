"""The plugin's own key/value store (KV bucket ``sb_state_<plugin>``), with the same key layout and
limits as @session-bot/plugin-sdk, so a Python and a TypeScript plugin of the same name share state."""
from __future__ import annotations

import base64
import json
import re
from typing import Any, Final, Protocol

from .plugin import PluginError

MAX_STORE_VALUE_BYTES: Final = 64 * 1024
MAX_STORE_KEY_LENGTH: Final = 512
_KEY_RE = re.compile(r"[A-Za-z0-9=/-][-/_=A-Za-z0-9]*(\.[-/_=A-Za-z0-9]+)*\Z")
_SAFE_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,200}\Z")


class StoreBackend(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def put(self, key: str, value: bytes) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def keys(self, prefix: str) -> list[str]: ...


def assert_store_key(key: object) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_STORE_KEY_LENGTH or not _KEY_RE.match(key):
        raise PluginError("PLUGIN_INVALID_KEY", "invalid store key: use letters, digits, '-', '_', '=', '/', and '.' between tokens; no leading '_'")
    return key


def conversation_token(conversation_id: str) -> str:
    if _SAFE_TOKEN_RE.match(conversation_id):
        return conversation_id
    return "b64-" + base64.urlsafe_b64encode(conversation_id.encode("utf-8")).rstrip(b"=").decode("ascii")


class PluginStore:
    """JSON values (≤ 64 KiB) under validated keys; ``conversation(id)`` scopes keys to one conversation."""

    def __init__(self, backend: StoreBackend, prefix: str = ""):
        self._backend = backend
        self._prefix = prefix

    def _full(self, key: str) -> str:
        k = self._prefix + assert_store_key(key)
        if len(k) > MAX_STORE_KEY_LENGTH:
            raise PluginError("PLUGIN_INVALID_KEY", f"store key longer than {MAX_STORE_KEY_LENGTH}")
        return k

    async def get(self, key: str, default: Any = None) -> Any:
        raw = await self._backend.get(self._full(key))
        if raw is None:
            return default
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PluginError("PLUGIN_INVALID_VALUE", f"stored value of {key} is not JSON") from None

    async def set(self, key: str, value: Any) -> None:
        k = self._full(key)
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            raise PluginError("PLUGIN_INVALID_VALUE", f"value for {key} is not serialisable to JSON") from None
        raw = text.encode("utf-8")
        if len(raw) > MAX_STORE_VALUE_BYTES:
            raise PluginError("PLUGIN_INVALID_VALUE", f"value for {key} is {len(raw)} bytes, over {MAX_STORE_VALUE_BYTES}")
        await self._backend.put(k, raw)

    async def delete(self, key: str) -> None:
        await self._backend.delete(self._full(key))

    async def keys(self, prefix: str = "") -> list[str]:
        full = self._prefix + prefix
        found = await self._backend.keys(full)
        return sorted(k[len(self._prefix):] for k in found if k.startswith(full) and not k.startswith("_"))

    def conversation(self, conversation_id: str) -> PluginStore:
        return PluginStore(self._backend, f"{self._prefix}c.{conversation_token(conversation_id)}.")


class MemoryStoreBackend:
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    async def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    async def put(self, key: str, value: bytes) -> None:
        self.data[key] = value

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)

    async def keys(self, prefix: str) -> list[str]:
        return [k for k in self.data if k.startswith(prefix)]


class KvStoreBackend:
    """nats-py KeyValue as a store backend."""

    def __init__(self, kv: Any):
        self.kv = kv

    async def get(self, key: str) -> bytes | None:
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None
        if entry.operation is not None and entry.operation != "PUT" and str(entry.operation) != "PUT":
            return None
        return entry.value

    async def put(self, key: str, value: bytes) -> None:
        await self.kv.put(key, value)

    async def delete(self, key: str) -> None:
        await self.kv.delete(key)

    async def keys(self, prefix: str) -> list[str]:
        from nats.js.errors import NoKeysError

        # nats-py's `filters` are substring matches, not subject filters: list, then filter here.
        try:
            keys = await self.kv.keys()
        except NoKeysError:
            return []
        return [k for k in keys if k.startswith(prefix)]
