"""What plugin authors import: :class:`Plugin` with decorators, the handler contexts, command
parsing, config resolution, and :func:`invoke_plugin` (the runtime shared by the worker and the
test harness, same semantics as @session-bot/plugin-sdk/runtime).
"""
from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Final, Literal, Protocol

import pydantic

from . import models, protocol
from .protocol import ProtocolError

if TYPE_CHECKING:
    from .store import PluginStore

MAX_REPLY_TEXT: Final = protocol.MAX_TEXT_LENGTH
MAX_REPLY_ATTACHMENTS: Final = protocol.MAX_ATTACHMENTS_PER_MESSAGE
DEFAULT_ADMIN_REFUSAL: Final = "Sorry, this command is for admins only."

PluginErrorCode = Literal[
    "PLUGIN_INVALID_DEFINITION", "PLUGIN_INVALID_CONFIG", "PLUGIN_INVALID_KEY", "PLUGIN_INVALID_VALUE",
    "PLUGIN_INVALID_ACTION", "PLUGIN_ATTACHMENT_FAILED", "PLUGIN_TIMEOUT", "PLUGIN_HANDLER_FAILED",
    "PLUGIN_UNSUPPORTED",
]  # fmt: skip


class PluginError(Exception):
    """The SDK's error (same codes as @session-bot/plugin-sdk). Check ``code``."""

    def __init__(self, code: PluginErrorCode, message: str, *, retry: bool = True):
        super().__init__(message)
        self.code: PluginErrorCode = code
        self.message = message
        self.retry = retry

    def __repr__(self) -> str:
        return f"PluginError({self.code!r}, {self.message!r})"


# ---- commands ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedCommand:
    name: str
    """Lower-cased, without the prefix (``"echo"`` for ``/Echo hi``)."""
    arg_text: str
    """Text after the name, trimmed."""
    args: tuple[str, ...]
    """``arg_text`` split on white space; double quotes group words, ``\\"`` escapes a quote."""


_COMMAND_RE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)(?:\s+(.*))?\Z", re.S)
_COMMAND_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}\Z")


def parse_command(text: str | None, prefix: str = "/") -> ParsedCommand | None:
    """``/name args...`` → ParsedCommand; None for ordinary text (same rules as the TypeScript SDK)."""
    if not isinstance(text, str) or not text.startswith(prefix):
        return None
    m = _COMMAND_RE.match(text[len(prefix):])
    if not m:
        return None
    name = m.group(1).lower()
    if not _COMMAND_NAME_RE.match(name):
        return None
    arg_text = (m.group(2) or "").strip()
    return ParsedCommand(name, arg_text, tuple(split_args(arg_text)))


def split_args(arg_text: str) -> list[str]:
    args: list[str] = []
    current, in_quotes, has_token, i = "", False, False, 0
    while i < len(arg_text):
        ch = arg_text[i]
        if ch == "\\" and arg_text[i + 1 : i + 2] == '"':
            current += '"'
            has_token = True
            i += 1
        elif ch == '"':
            in_quotes = not in_quotes
            has_token = True
        elif not in_quotes and ch.isspace():
            if has_token:
                args.append(current)
            current, has_token = "", False
        else:
            current += ch
            has_token = True
        i += 1
    if has_token:
        args.append(current)
    return args


def split_text(text: str, max_len: int = MAX_REPLY_TEXT) -> list[str]:
    """Pieces of at most ``max_len`` characters, cut at a line break, else a space, else hard."""
    if len(text) <= max_len:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > max_len:
        cut = rest.rfind("\n", 0, max_len + 1)
        if cut < max_len / 2:
            cut = rest.rfind(" ", 0, max_len + 1)
        if cut < max_len / 2:
            cut = max_len
        parts.append(rest[:cut])
        rest = rest[cut:]
        if rest[:1] in ("\n", " "):
            rest = rest[1:]
    if rest:
        parts.append(rest)
    return parts


# ---- definition --------------------------------------------------------------------------------
Handler = Callable[[Any], Awaitable[None] | None]


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    handler: Handler
    usage: str | None = None
    admin: bool = False


MIN_TASK_INTERVAL_MS: Final = 250


@dataclass(frozen=True)
class Task:
    name: str
    every_ms: float
    run: Handler


class Plugin:
    """A plugin: identity, optional config schema (JSON Schema draft-07 object), and handlers
    registered with decorators::

        plugin = Plugin("greeter", version="1.0.0", description="Greets people.",
                        config_schema={"type": "object", "properties": {"greeting": {"type": "string", "default": "Hello"}}})

        @plugin.command("hello", description="Says hello.", usage="[name]")
        async def hello(ctx: CommandContext) -> None:
            await ctx.reply(f"{ctx.config['greeting']}, {ctx.args[0] if ctx.args else 'you'}")
    """

    def __init__(self, name: str, *, version: str, description: str, config_schema: dict[str, Any] | None = None):
        problems = []
        if not protocol.is_plugin_name(name):
            problems.append(f"name must match {protocol.PLUGIN_NAME_PATTERN}")
        if not isinstance(version, str) or not re.match(protocol.SEMVER_PATTERN, version) or "\n" in version:
            problems.append("version must be semver (1.2.3)")
        if not isinstance(description, str) or len(description) > protocol.MAX_DESCRIPTION_LENGTH:
            problems.append(f"description must be a string of at most {protocol.MAX_DESCRIPTION_LENGTH} characters")
        if config_schema is not None:
            if not isinstance(config_schema, dict) or config_schema.get("type") != "object":
                problems.append('config_schema must be a JSON Schema object with "type": "object"')
            else:
                try:
                    protocol._Validator.check_schema(config_schema)
                except Exception as err:  # noqa: BLE001 - jsonschema.SchemaError
                    problems.append(f"config_schema is not a valid draft-07 schema: {getattr(err, 'message', err)}")
        if problems:
            raise PluginError("PLUGIN_INVALID_DEFINITION", f"plugin {name!r}: " + "; ".join(problems))
        self.name = name
        self.version = version
        self.description = description
        self.config_schema = config_schema
        self.commands: dict[str, Command] = {}
        self.message_handler: Handler | None = None
        self.reaction_handler: Handler | None = None
        self.event_handler: Handler | None = None
        self.tasks: dict[str, Task] = {}
        self._validator = protocol._Validator(config_schema) if config_schema is not None else None
        resolve_config(self, {})  # defaults must satisfy the schema, or the plugin could never run

    def command(self, name: str, *, description: str, usage: str | None = None, admin: bool = False) -> Callable[[Handler], Handler]:
        """Registers ``/name``; ``admin=True`` answers non-admins with a refusal instead."""
        problems = []
        if not protocol.is_command_name(name):
            problems.append(f"command name must match {protocol.COMMAND_NAME_PATTERN}")
        elif name in self.commands:
            problems.append(f"command {name} is defined twice")
        if len(self.commands) >= protocol.MAX_COMMANDS_PER_PLUGIN:
            problems.append(f"at most {protocol.MAX_COMMANDS_PER_PLUGIN} commands")
        if not isinstance(description, str) or len(description) > protocol.MAX_DESCRIPTION_LENGTH:
            problems.append("command description must be a string of at most 500 characters")
        if usage is not None and (not isinstance(usage, str) or len(usage) > protocol.MAX_USAGE_LENGTH):
            problems.append("usage must be a string of at most 200 characters")
        if problems:
            raise PluginError("PLUGIN_INVALID_DEFINITION", f"plugin {self.name}, command {name!r}: " + "; ".join(problems))

        def register(fn: Handler) -> Handler:
            _check_handler(self, fn)
            self.commands[name] = Command(name, description, fn, usage, admin)
            return fn

        return register

    def task(self, name: str, *, every_ms: int) -> Callable[[Handler], Handler]:
        """A periodic job (``TaskContext``) run by exactly one worker of the fleet at a time (a KV
        lease ``_lease.<name>`` in the plugin's bucket elects it, the same lease as plugin-host's)."""
        problems = []
        if not isinstance(name, str) or not _COMMAND_NAME_RE.match(name):
            problems.append("task name must match [a-z][a-z0-9_-]{0,31}")
        elif name in self.tasks:
            problems.append(f"task {name} is defined twice")
        if not isinstance(every_ms, (int, float)) or isinstance(every_ms, bool) or every_ms < MIN_TASK_INTERVAL_MS:
            problems.append(f"every_ms must be a number >= {MIN_TASK_INTERVAL_MS}")
        if problems:
            raise PluginError("PLUGIN_INVALID_DEFINITION", f"plugin {self.name}, task {name!r}: " + "; ".join(problems))

        def register(fn: Handler) -> Handler:
            _check_handler(self, fn)
            self.tasks[name] = Task(name, every_ms, fn)
            return fn

        return register

    def on_message(self, fn: Handler) -> Handler:
        """Every visible message (commands included: ``ctx.command``)."""
        _check_handler(self, fn)
        self.message_handler = fn
        return fn

    def on_reaction(self, fn: Handler) -> Handler:
        _check_handler(self, fn)
        self.reaction_handler = fn
        return fn

    def on_event(self, fn: Handler) -> Handler:
        """Every other event kind (read, typing, request_response, unsend, and kinds newer than this SDK)."""
        _check_handler(self, fn)
        self.event_handler = fn
        return fn

    def manifest(self) -> dict[str, Any]:
        """The protocol's PluginManifest of this plugin (validated)."""
        m: dict[str, Any] = {
            "v": 1,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "commands": [
                {"name": c.name, "description": c.description, **({"usage": c.usage} if c.usage else {}),
                 **({"adminOnly": True} if c.admin else {})}
                for c in self.commands.values()
            ],
        }
        if self.config_schema is not None:
            m["configSchema"] = manifest_config_schema(self.config_schema)
        protocol.check("PluginManifest", m)
        return m

    def __repr__(self) -> str:
        return f"Plugin({self.name!r}, {self.version!r}, commands={list(self.commands)})"


def manifest_config_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The config schema as the manifest publishes it (same rule as the TypeScript SDK): a property
    with a ``default`` is not ``required``, since the host fills defaults before validating, and a
    validator working from the manifest alone (the gateway) must accept the same records."""

    def relax(node: Any) -> Any:
        if isinstance(node, list):
            return [relax(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: relax(v) for k, v in node.items()}
        props = out.get("properties")
        if isinstance(out.get("required"), list) and isinstance(props, dict):
            required = [n for n in out["required"] if not (isinstance(props.get(n), dict) and "default" in props[n])]
            if required:
                out["required"] = required
            else:
                del out["required"]
        return out

    return relax(copy.deepcopy(schema))


def _check_handler(plugin: Plugin, fn: object) -> None:
    if not callable(fn):
        raise PluginError("PLUGIN_INVALID_DEFINITION", f"plugin {plugin.name}: a handler must be callable")


def _fill_defaults(schema: dict[str, Any], value: Any) -> Any:
    if not isinstance(schema, dict) or not isinstance(value, dict):
        return value
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            value[key] = _fill_defaults(sub, value[key])
    return value


def resolve_config(plugin: Plugin, raw: Any = None) -> dict[str, Any]:
    """Defaults filled in, then validated against the plugin's config schema (PLUGIN_INVALID_CONFIG).
    Without a schema the config must be an empty object, as in the TypeScript SDK."""
    value = copy.deepcopy({} if raw is None else raw)
    if plugin.config_schema is None:
        if value != {}:
            raise PluginError("PLUGIN_INVALID_CONFIG", f"plugin {plugin.name} takes no configuration")
        return {}
    value = _fill_defaults(plugin.config_schema, value)
    errors = sorted(plugin._validator.iter_errors(value), key=lambda e: list(e.absolute_path))  # type: ignore[union-attr]
    if errors:
        problems = [f"{protocol._pointer(e.absolute_path) or '(root)'} fails {e.validator}" for e in errors[:5]]
        raise PluginError("PLUGIN_INVALID_CONFIG", f"invalid config for plugin {plugin.name}: {'; '.join(problems)}")
    return value


# ---- runtime -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    """Rich reply content: text and/or attachments (ids or descriptors), optional quote."""

    text: str = ""
    attachments: tuple[str | models.AttachmentDescriptor | dict[str, Any], ...] = ()
    quote: bool | dict[str, Any] | models.MessageRef = False


class AttachmentTransport(Protocol):
    async def get(self, attachment_id: str) -> bytes: ...
    async def put(self, data: bytes, content_type: str, file_name: str | None) -> models.AttachmentDescriptor: ...


@dataclass(frozen=True)
class PluginSummary:
    name: str
    version: str
    description: str
    commands: tuple[dict[str, Any], ...]


@dataclass
class RuntimeDeps:
    """What an invocation needs from its host, for one plugin."""

    bot: str
    instance: str
    emit: Callable[[dict[str, Any]], Awaitable[None]]
    """Publishes a validated OutboundAction (its ``id`` is the Nats-Msg-Id)."""
    store: PluginStore
    log: logging.Logger
    attachments: AttachmentTransport | None = None
    is_admin: Callable[[str], bool] = lambda _id: False
    plugins: Callable[[], list[PluginSummary]] = lambda: []
    now: Callable[[], float] = lambda: __import__("time").time() * 1000


_KEY_RE = re.compile(r"[A-Za-z0-9+/=._-]{1,64}\Z")


class Attachments:
    def __init__(self, inv: _Invocation):
        self._inv = inv

    async def get(self, attachment: str | models.AttachmentDescriptor) -> bytes:
        """The bytes of an attachment (streamed from the broker's ``attachments.get``)."""
        aid = attachment if isinstance(attachment, str) else attachment.id
        t = self._inv.deps.attachments
        if t is None:
            raise PluginError("PLUGIN_UNSUPPORTED", "no attachment transport here")
        try:
            return await t.get(aid)
        except PluginError:
            raise
        except Exception as err:  # noqa: BLE001
            raise PluginError("PLUGIN_ATTACHMENT_FAILED", f"attachment {aid}: {err}") from err

    async def put(self, data: bytes, *, content_type: str, file_name: str | None = None) -> models.AttachmentDescriptor:
        """Uploads through the broker; pass the descriptor to ``reply(Reply(attachments=(d,)))``."""
        t = self._inv.deps.attachments
        if t is None:
            raise PluginError("PLUGIN_UNSUPPORTED", "no attachment transport here")
        try:
            return await t.put(bytes(data), content_type, file_name)
        except PluginError:
            raise
        except Exception as err:  # noqa: BLE001
            raise PluginError("PLUGIN_ATTACHMENT_FAILED", f"attachment upload: {err}") from err


@dataclass
class HostInfo:
    bot: str
    instance: str
    plugins: Callable[[], list[PluginSummary]]


class _Invocation:
    def __init__(self, plugin: Plugin, deps: RuntimeDeps, config: dict[str, Any], id_base: str, causation_id: str | None):
        self.plugin, self.deps, self.config = plugin, deps, config
        self.id_base, self.causation_id = id_base, causation_id
        self.n = 0
        self.actions = 0
        self.closed = False

    async def emit(self, draft: dict[str, Any], id: str | None = None) -> None:
        if self.closed:
            raise PluginError("PLUGIN_TIMEOUT", f"plugin {self.plugin.name}: action after the handler finished or was aborted")
        if id is None:
            id = protocol.derive_action_id(self.id_base, self.plugin.name, self.n)
            self.n += 1
        action = {"v": 1, "id": id, "bot": self.deps.bot,
                  **({"causationId": self.causation_id} if self.causation_id is not None else {}),
                  "plugin": self.plugin.name, **draft}
        try:
            protocol.check("OutboundAction", action)
        except ProtocolError as err:
            raise PluginError("PLUGIN_INVALID_ACTION", f"plugin {self.plugin.name}: {err.message}") from None
        await self.deps.emit(action)
        self.actions += 1

    async def send_content(self, conversation: str, content: str | Reply, quote_of: dict[str, Any] | None, key: str | None = None) -> None:
        c = Reply(text=content) if isinstance(content, str) else content
        if not isinstance(c, Reply):
            raise PluginError("PLUGIN_INVALID_ACTION", f"plugin {self.plugin.name}: reply takes a str or a Reply")
        text = c.text or ""
        attachments = [a if isinstance(a, str) else (a["id"] if isinstance(a, dict) else a.id) for a in c.attachments]
        if len(attachments) > MAX_REPLY_ATTACHMENTS:
            raise PluginError("PLUGIN_INVALID_ACTION", f"plugin {self.plugin.name}: at most {MAX_REPLY_ATTACHMENTS} attachments per message")
        if not text and not attachments:
            raise PluginError("PLUGIN_INVALID_ACTION", f"plugin {self.plugin.name}: a reply needs text or attachments")
        quote: dict[str, Any] | None = None
        if c.quote is True:
            if quote_of is None:
                raise PluginError("PLUGIN_UNSUPPORTED", f"plugin {self.plugin.name}: nothing to quote here")
            quote = quote_of
        elif isinstance(c.quote, models.MessageRef):
            quote = c.quote.model_dump(mode="json", exclude_unset=True)
        elif isinstance(c.quote, dict):
            quote = c.quote
        if key is not None and not (isinstance(key, str) and _KEY_RE.match(key)):
            raise PluginError("PLUGIN_INVALID_ACTION", f"plugin {self.plugin.name}: send key must match [A-Za-z0-9+/=._-]{{1,64}}")
        pieces = [""] if not text else split_text(text)
        for i, piece in enumerate(pieces):
            draft: dict[str, Any] = {"action": "send", "conversation": conversation, "text": piece}
            if i == len(pieces) - 1 and attachments:
                draft["attachments"] = attachments
            if i == 0 and quote is not None:
                draft["quote"] = quote
            await self.emit(draft, protocol.derive_action_id(f"key:{key}", self.plugin.name, i) if key is not None else None)


class BaseContext:
    """Members every handler gets."""

    def __init__(self, inv: _Invocation, log: logging.Logger | logging.LoggerAdapter):
        self._inv = inv
        self.config: dict[str, Any] = inv.config
        self.store: PluginStore = inv.deps.store
        self.log = log
        self.attachments = Attachments(inv)
        self.host = HostInfo(inv.deps.bot, inv.deps.instance, inv.deps.plugins)

    def now(self) -> float:
        return self._inv.deps.now()

    async def send(self, conversation: str, content: str | Reply, key: str) -> None:
        """A message to any conversation; ``key`` makes it idempotent (same key → same action ids)."""
        await self._inv.send_content(conversation, content, None, key)


class TaskContext(BaseContext):
    """Context of a scheduled task: ``send(conversation, content, key)`` (the key makes it idempotent),
    ``store``, ``config``, ``log``, ``now()``; ``task`` and ``tick`` name this run."""

    def __init__(self, inv: _Invocation, log: Any, task: str, tick: str):
        super().__init__(inv, log)
        self.task = task
        self.tick = tick


class EventContext(BaseContext):
    """Context of an event handler (``on_reaction``, ``on_event``)."""

    def __init__(self, inv: _Invocation, log: Any, event: Any):
        super().__init__(inv, log)
        self.event = event
        self.conversation: str = event.conversation
        self.sender: str = event.sender
        self.is_admin: bool = inv.deps.is_admin(event.sender)
        self._self_ref = {"timestamp": event.timestamp, "author": event.sender}

    async def reply(self, content: str | Reply) -> None:
        """Answers in the conversation; text over 2,000 characters is split; ``Reply(quote=True)`` quotes the message."""
        await self._inv.send_content(self.conversation, content, self._self_ref)

    async def react(self, emoji: str, *, remove: bool = False, target: dict[str, Any] | models.MessageRef | None = None) -> None:
        """Reacts to the event's message, or to ``target`` ({timestamp, author})."""
        if isinstance(target, pydantic.BaseModel):
            target = target.model_dump(mode="json", exclude_unset=True)
        await self._inv.emit({"action": "react", "conversation": self.conversation, "op": "remove" if remove else "add",
                              "emoji": emoji, "target": target or self._self_ref})

    async def mark_read(self) -> None:
        await self._inv.emit({"action": "read", "conversation": self.conversation, "timestamps": [self.event.timestamp]})

    async def typing(self, state: Literal["started", "stopped"] = "started") -> None:
        await self._inv.emit({"action": "typing", "conversation": self.conversation, "state": state})


class MessageContext(EventContext):
    """Context of ``on_message``: ``text`` and the parsed ``command`` (or None)."""

    def __init__(self, inv: _Invocation, log: Any, event: models.MessageEvent, command: ParsedCommand | None):
        super().__init__(inv, log, event)
        self.text: str = event.text
        self.command = command


class CommandContext(MessageContext):
    """Context of a command handler: ``args`` and ``command.arg_text``."""

    command: ParsedCommand

    def __init__(self, inv: _Invocation, log: Any, event: models.MessageEvent, command: ParsedCommand):
        super().__init__(inv, log, event, command)
        self.args: tuple[str, ...] = command.args


@dataclass(frozen=True)
class InvokeResult:
    handled: bool
    owns_command: bool
    actions: int


async def _call(fn: Handler, ctx: Any) -> None:
    result = fn(ctx)
    if inspect.isawaitable(result):
        await result


class _Adapter(logging.LoggerAdapter):
    def process(self, msg: Any, kwargs: Any) -> Any:
        extra = {**(self.extra or {}), **(kwargs.pop("extra", None) or {})}
        kwargs["extra"] = extra
        return f"{msg} {json.dumps(extra, default=str)}", kwargs


async def invoke_plugin(
    plugin: Plugin,
    event: Any,
    deps: RuntimeDeps,
    *,
    config: dict[str, Any],
    timeout_ms: float,
    command_prefix: str = "/",
    admin_refusal: str = DEFAULT_ADMIN_REFUSAL,
) -> InvokeResult:
    """Runs ``plugin`` on one (validated) event: its command handler (admin commands refuse non-admins),
    then on_message / on_reaction / on_event. Action ids are derive_action_id(event.id, plugin, n).

    Raises PluginError: PLUGIN_TIMEOUT (past ``timeout_ms``), PLUGIN_HANDLER_FAILED (the handler raised;
    ``__cause__`` is what it raised), or the PluginError the handler raised.
    """
    inv = _Invocation(plugin, deps, config, event.id, event.id)
    log = _Adapter(deps.log, {"plugin": plugin.name, "eventId": event.id, "kind": event.kind})
    state = {"handled": False, "owns": False}

    async def run() -> None:
        if isinstance(event, models.MessageEvent):
            command = parse_command(event.text, command_prefix)
            if command is not None and command.name in plugin.commands:
                state["owns"] = state["handled"] = True
                cmd = plugin.commands[command.name]
                cctx = CommandContext(inv, log, event, command)
                if cmd.admin and not cctx.is_admin:
                    await cctx.reply(admin_refusal)
                else:
                    await _call(cmd.handler, cctx)
            if plugin.message_handler is not None:
                state["handled"] = True
                await _call(plugin.message_handler, MessageContext(inv, log, event, command))
        elif isinstance(event, models.ReactionEvent):
            if plugin.reaction_handler is not None:
                state["handled"] = True
                await _call(plugin.reaction_handler, EventContext(inv, log, event))
        elif plugin.event_handler is not None:
            state["handled"] = True
            await _call(plugin.event_handler, EventContext(inv, log, event))

    what = f"handler for {event.kind} {event.id}"
    try:
        await asyncio.wait_for(run(), timeout_ms / 1000)
    except asyncio.TimeoutError:
        raise PluginError("PLUGIN_TIMEOUT", f"plugin {plugin.name}: {what} ran past {timeout_ms:g} ms") from None
    except PluginError:
        raise
    except asyncio.CancelledError:
        raise
    except Exception as err:  # noqa: BLE001
        raise PluginError("PLUGIN_HANDLER_FAILED", f"plugin {plugin.name}: {what} raised {type(err).__name__}: {err}") from err
    finally:
        inv.closed = True
    return InvokeResult(state["handled"], state["owns"], inv.actions)


def summarize(plugin: Plugin) -> PluginSummary:
    m = plugin.manifest()
    return PluginSummary(plugin.name, plugin.version, plugin.description, tuple(m["commands"]))


def event_from(value: Any) -> Any:
    """A validated event model from a dict/JSON value (``protocol.parse('InboundEvent', ...)``)."""
    if isinstance(value, pydantic.BaseModel):
        return value
    return protocol.parse("InboundEvent", value)



async def run_task(plugin: Plugin, task_name: str, tick: str, deps: RuntimeDeps, *, config: dict[str, Any],
                   timeout_ms: float) -> int:
    """Runs one tick of a task (same errors as :func:`invoke_plugin`); returns the actions emitted.
    ``ctx.send`` ids are ``derive_action_id("key:<key>", plugin, n)``, as in the TypeScript SDK."""
    task = plugin.tasks.get(task_name)
    if task is None:
        raise PluginError("PLUGIN_UNSUPPORTED", f"plugin {plugin.name} has no task {task_name}")
    inv = _Invocation(plugin, deps, config, f"task:{task_name}:{tick}", None)
    log = _Adapter(deps.log, {"plugin": plugin.name, "task": task_name})
    try:
        await asyncio.wait_for(_call(task.run, TaskContext(inv, log, task_name, tick)), timeout_ms / 1000)
    except asyncio.TimeoutError:
        raise PluginError("PLUGIN_TIMEOUT", f"plugin {plugin.name}: task {task_name} ran past {timeout_ms:g} ms") from None
    except PluginError:
        raise
    except asyncio.CancelledError:
        raise
    except Exception as err:  # noqa: BLE001
        raise PluginError("PLUGIN_HANDLER_FAILED", f"plugin {plugin.name}: task {task_name} raised {type(err).__name__}: {err}") from err
    finally:
        inv.closed = True
    return inv.actions
