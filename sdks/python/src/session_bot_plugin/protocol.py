"""The session_bot bus protocol (v1) in Python: names, headers, limits, partitions, action ids and
validating decode/encode of every message. Mirrors @session-bot/protocol; packages/protocol/PROTOCOL.md
is the specification.

Every function here raises only :class:`ProtocolError` for bad input (check ``err.code``).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final, Iterable, Literal, TypeVar

import jsonschema
import pydantic
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError as SchemaError

from . import models

PROTOCOL_VERSION: Final = 1

# ---- limits (PROTOCOL.md §9) -------------------------------------------------------------------
MAX_TEXT_LENGTH: Final = 2_000
MAX_INBOUND_TEXT_LENGTH: Final = 10_000
MAX_ATTACHMENT_BYTES: Final = 10_000_000
MAX_ATTACHMENTS_PER_MESSAGE: Final = 10
MAX_DISPLAY_NAME_LENGTH: Final = 100
MAX_EMOJI_LENGTH: Final = 32
MAX_RECEIPT_TIMESTAMPS: Final = 100
MAX_ID_LENGTH: Final = 128
MAX_COMMANDS_PER_PLUGIN: Final = 64
MAX_DESCRIPTION_LENGTH: Final = 500
MAX_USAGE_LENGTH: Final = 200
MAX_ERROR_MESSAGE_LENGTH: Final = 1_000
MAX_BUS_MESSAGE_BYTES: Final = 1_048_576
# Objects/arrays nested in one message (the message itself is level 1); deeper is PROTOCOL_TOO_LARGE
# on decode and on encode, so whatever decodes encodes again (PROTOCOL.md §1).
MAX_JSON_DEPTH: Final = 64
# A dead letter keeps a body as JSON only up to this depth (else base64): it sits 2 levels down in a
# DeadLetter and 4 in a DeadLetterPage, which must stay within MAX_JSON_DEPTH.
MAX_DEAD_LETTER_JSON_DEPTH: Final = MAX_JSON_DEPTH - 4
MAX_DEAD_LETTER_PAYLOAD_LENGTH: Final = 524_288
DEFAULT_PARTITIONS: Final = 16
MAX_PARTITIONS: Final = 1_024
MAX_SAFE_INTEGER: Final = 2**53 - 1
MAX_REPORTED_PROBLEMS: Final = 50

SESSION_ID_PATTERN: Final = r"^05[0-9a-f]{64}$"
ID_PATTERN: Final = r"^[A-Za-z0-9+/=:._-]{1,128}$"
BOT_NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,31}$"
PLUGIN_NAME_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,31}$"
COMMAND_NAME_PATTERN: Final = r"^[a-z][a-z0-9_-]{0,31}$"
ERROR_CODE_PATTERN: Final = r"^[A-Z][A-Z0-9_]{0,63}$"
WORKER_INSTANCE_PATTERN: Final = r"^[A-Za-z0-9_.-]{1,128}$"
CONSUMER_SET_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,31}$"
SEMVER_PATTERN: Final = r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"

# ---- worker presence (PROTOCOL.md §6.2.1) ------------------------------------------------------
HOST_CONSUMER_SET: Final = "host"
"""The consumer set of plugin-host's own partition consumers (``sb_host_<bot>_p<n>``)."""
DEFAULT_PRESENCE_INTERVAL_MS: Final = 1_000
PRESENCE_EXPIRY_INTERVALS: Final = 3
"""A member that has not announced itself for this many of its intervals is gone."""

INBOUND_KINDS: Final = ("message", "reaction", "read", "typing", "request_response", "unsend")
OUTBOUND_ACTIONS: Final = ("send", "react", "read", "typing", "accept", "set_display_name")

# ---- headers (PROTOCOL.md §4) ------------------------------------------------------------------
HEADER_MSG_ID: Final = "Nats-Msg-Id"
HEADER_EXPECTED_STREAM: Final = "Nats-Expected-Stream"
HEADER_PROTOCOL_VERSION: Final = "Sb-Protocol-Version"
HEADER_ERROR_CODE: Final = "Sb-Error-Code"
HEADER_CAUSATION_ID: Final = "Sb-Causation-Id"
HEADER_PLUGIN: Final = "Sb-Plugin"
HEADER_CONTENT_TYPE: Final = "Content-Type"
CONTENT_TYPE_JSON: Final = "application/json"
HEADER_SERVICE_ERROR_CODE: Final = "Nats-Service-Error-Code"
HEADER_SERVICE_ERROR: Final = "Nats-Service-Error"

DEAD_LETTER_REASONS: Final = {
    "INVALID": "PROTOCOL_INVALID",
    "BAD_JSON": "PROTOCOL_BAD_JSON",
    "UNSUPPORTED_VERSION": "PROTOCOL_UNSUPPORTED_VERSION",
    "MAX_DELIVER": "MAX_DELIVER",
    "PLUGIN_FAILED": "PLUGIN_FAILED",
    "SEND_FAILED": "SEND_FAILED",
}

ProtocolErrorCode = Literal[
    "PROTOCOL_INVALID",
    "PROTOCOL_BAD_JSON",
    "PROTOCOL_TOO_LARGE",
    "PROTOCOL_UNSUPPORTED_VERSION",
    "PROTOCOL_UNKNOWN_KIND",
    "PROTOCOL_BAD_NAME",
]
PROTOCOL_ERROR_CODES: Final = (
    "PROTOCOL_INVALID",
    "PROTOCOL_BAD_JSON",
    "PROTOCOL_TOO_LARGE",
    "PROTOCOL_UNSUPPORTED_VERSION",
    "PROTOCOL_UNKNOWN_KIND",
    "PROTOCOL_BAD_NAME",
)


@dataclass(frozen=True)
class ProtocolProblem:
    """One schema violation: ``instance_path`` is a JSON Pointer (``/attachments/0/size``)."""

    instance_path: str
    message: str
    keyword: str | None = None


class ProtocolError(Exception):
    """The one error of this module. Messages never contain the offending values."""

    def __init__(self, code: ProtocolErrorCode, message: str, problems: list[ProtocolProblem] | None = None):
        super().__init__(message)
        self.code: ProtocolErrorCode = code
        self.message = message
        self.problems: list[ProtocolProblem] = list(problems or [])[:MAX_REPORTED_PROBLEMS]

    def __repr__(self) -> str:
        return f"ProtocolError({self.code!r}, {self.message!r})"


# ---- names (PROTOCOL.md §3) --------------------------------------------------------------------
INBOUND_STREAM: Final = "SB_INBOUND"
OUTBOUND_STREAM: Final = "SB_OUTBOUND"
DEAD_LETTER_STREAM: Final = "SB_DEAD"
PLUGINS_BUCKET: Final = "sb_plugins"
PLUGIN_MANIFESTS_BUCKET: Final = "sb_plugin_manifests"
BROKER_SERVICE: Final = "sb-broker"
PLUGIN_HOST_SERVICE: Final = "sb-plugin-host"

_BAD_TOKEN = re.compile(r"[.*>\s\x00-\x1f\x7f]")
_BOT_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}\Z")
_PLUGIN_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}\Z")
_ENDPOINT_TOKEN_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}\Z")
_CONSUMER_SET_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}\Z")
_WORKER_INSTANCE_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}\Z")


def assert_subject_token(token: object, what: str = "subject token") -> str:
    if not isinstance(token, str) or token == "" or _BAD_TOKEN.search(token):
        raise ProtocolError("PROTOCOL_BAD_NAME", f"{what} must be a non-empty NATS subject token without . * > or white space")
    return token


def is_bot_name(name: object) -> bool:
    return isinstance(name, str) and _BOT_RE.match(name) is not None


def is_plugin_name(name: object) -> bool:
    return isinstance(name, str) and _PLUGIN_RE.match(name) is not None


is_command_name = is_plugin_name


def assert_bot_name(name: object) -> str:
    if not is_bot_name(name):
        raise ProtocolError("PROTOCOL_BAD_NAME", f"bot name must match {BOT_NAME_PATTERN}")
    return name  # type: ignore[return-value]


def assert_plugin_name(name: object) -> str:
    if not is_plugin_name(name):
        raise ProtocolError("PROTOCOL_BAD_NAME", f"plugin name must match {PLUGIN_NAME_PATTERN}")
    return name  # type: ignore[return-value]


def assert_command_name(name: object) -> str:
    if not is_command_name(name):
        raise ProtocolError("PROTOCOL_BAD_NAME", f"command name must match {COMMAND_NAME_PATTERN}")
    return name  # type: ignore[return-value]


def assert_partition_count(n: object) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_PARTITIONS:
        raise ProtocolError("PROTOCOL_BAD_NAME", f"partition count must be an integer 1..{MAX_PARTITIONS}")
    return n


def _partition(p: object, partitions: int | None = None) -> int:
    if not isinstance(p, int) or isinstance(p, bool) or p < 0 or p >= (partitions or MAX_PARTITIONS):
        raise ProtocolError("PROTOCOL_BAD_NAME", "partition must be an integer 0..partitions-1")
    return p


def _kind(kind: object) -> str:
    if kind not in INBOUND_KINDS:
        raise ProtocolError("PROTOCOL_BAD_NAME", f"kind must be one of {', '.join(INBOUND_KINDS)}")
    return kind  # type: ignore[return-value]


def _action(action: object) -> str:
    if action not in OUTBOUND_ACTIONS:
        raise ProtocolError("PROTOCOL_BAD_NAME", f"action must be one of {', '.join(OUTBOUND_ACTIONS)}")
    return action  # type: ignore[return-value]


def _endpoint(endpoint: object) -> str:
    if not isinstance(endpoint, str) or not all(_ENDPOINT_TOKEN_RE.match(t) for t in endpoint.split(".")):
        raise ProtocolError("PROTOCOL_BAD_NAME", "endpoint must be .-separated tokens [a-z0-9][a-z0-9_-]{0,31}")
    return endpoint


def inbound_subject(bot: str, partition: int, kind: str) -> str:
    return f"sb.in.{assert_bot_name(bot)}.{_partition(partition)}.{_kind(kind)}"


def inbound_subject_of(event: dict[str, Any] | models.InboundEvent, partitions: int) -> str:
    e = _as_dict(event)
    return inbound_subject(e["bot"], partition_of(e["conversation"], partitions), e["kind"])


def inbound_filter(bot: str) -> str:
    return f"sb.in.{assert_bot_name(bot)}.>"


def inbound_partition_filter(bot: str, partition: int) -> str:
    return f"sb.in.{assert_bot_name(bot)}.{_partition(partition)}.>"


@dataclass(frozen=True)
class InboundSubjectParts:
    bot: str
    partition: int
    kind: str


def parse_inbound_subject(subject: str) -> InboundSubjectParts:
    parts = subject.split(".") if isinstance(subject, str) else []
    if len(parts) != 5 or parts[0] != "sb" or parts[1] != "in" or not re.fullmatch(r"0|[1-9][0-9]{0,3}", parts[3]):
        raise ProtocolError("PROTOCOL_BAD_NAME", "not an inbound subject sb.in.<bot>.<partition>.<kind>")
    return InboundSubjectParts(assert_bot_name(parts[2]), _partition(int(parts[3])), _kind(parts[4]))


def outbound_subject(bot: str, action: str) -> str:
    return f"sb.out.{assert_bot_name(bot)}.{_action(action)}"


def outbound_subject_of(action: dict[str, Any] | models.OutboundAction) -> str:
    a = _as_dict(action)
    return outbound_subject(a["bot"], a["action"])


def outbound_filter(bot: str) -> str:
    return f"sb.out.{assert_bot_name(bot)}.>"


def dead_letter_subject(bot: str) -> str:
    return f"sb.dead.{assert_bot_name(bot)}"


def broker_subject(bot: str, endpoint: str) -> str:
    return f"sb.broker.{assert_bot_name(bot)}.{_endpoint(endpoint)}"


def plugin_host_subject(bot: str, endpoint: str) -> str:
    return f"sb.plugin-host.{assert_bot_name(bot)}.{_endpoint(endpoint)}"


def plugin_host_queue_group(bot: str) -> str:
    return f"sb-plugin-host-{assert_bot_name(bot)}"


def plugin_host_consumer(bot: str, partition: int) -> str:
    return f"sb_host_{assert_bot_name(bot)}_p{_partition(partition)}"


def is_consumer_set(name: object) -> bool:
    """True for a consumer set name: ``host`` or a worker group (``^[a-z0-9][a-z0-9_-]{0,31}$``)."""
    return isinstance(name, str) and _CONSUMER_SET_RE.match(name) is not None


def is_worker_instance(name: object) -> bool:
    """True for a worker instance name usable in presence (``^[A-Za-z0-9_.-]{1,128}$``)."""
    return isinstance(name, str) and _WORKER_INSTANCE_RE.match(name) is not None


def worker_presence_subject(bot: str, set: str) -> str:
    """``sb.plugin-host.<bot>.presence.<set>``: the core NATS subject of a consumer set's
    ``WorkerPresence`` heartbeats (PROTOCOL.md §6.2.1)."""
    if not is_consumer_set(set):
        raise ProtocolError("PROTOCOL_BAD_NAME", f"consumer set must match {CONSUMER_SET_PATTERN}")
    return f"sb.plugin-host.{assert_bot_name(bot)}.presence.{set}"


def plugin_config_key(bot: str, plugin: str) -> str:
    return f"{assert_bot_name(bot)}.{assert_plugin_name(plugin)}"


def plugin_config_key_filter(bot: str) -> str:
    return f"{assert_bot_name(bot)}.>"


def parse_plugin_config_key(key: str) -> tuple[str, str]:
    parts = key.split(".") if isinstance(key, str) else []
    if len(parts) != 2:
        raise ProtocolError("PROTOCOL_BAD_NAME", "plugin config key must be <bot>.<plugin>")
    return assert_bot_name(parts[0]), assert_plugin_name(parts[1])


def plugin_manifest_key(plugin: str) -> str:
    return assert_plugin_name(plugin)


def plugin_state_bucket(plugin: str) -> str:
    return f"sb_state_{assert_plugin_name(plugin)}"


# ---- partitions and ids (PROTOCOL.md §6.2, §6.4) -----------------------------------------------
def fnv1a32(text: str) -> int:
    """FNV-1a 32 over the UTF-8 bytes of ``text``, unsigned."""
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def partition_of(conversation: str, partitions: int) -> int:
    if not isinstance(conversation, str) or conversation == "":
        raise ProtocolError("PROTOCOL_BAD_NAME", "conversation must be a non-empty string")
    return fnv1a32(conversation) % assert_partition_count(partitions)


def owned_partitions(self: str, members: Iterable[str], partitions: int) -> list[int]:
    """The partitions ``self`` owns among ``members`` (PROTOCOL.md §6.2.1): the unique member names
    (``self`` added when missing) sorted by code unit — byte order, as the names are ASCII — and
    partition ``p`` goes to the member at index ``p mod n``. Returns them in increasing order; every
    member computes the same split from the same list, sizes differing by at most one.

    The same results as ``ownedPartitions`` of @session-bot/protocol (the Python sort of ``str`` is by
    code point, equal to JavaScript's code-unit order for these ASCII names)."""
    if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 0:
        raise ProtocolError("PROTOCOL_BAD_NAME", "partition count must be a non-negative integer")
    names = sorted({*members, self})
    return list(range(names.index(self), partitions, len(names)))


_ID_RE = re.compile(r"[A-Za-z0-9+/=:._-]{1,128}\Z")


def is_id(value: object) -> bool:
    return isinstance(value, str) and _ID_RE.match(value) is not None


def derive_action_id(causation_id: str, plugin: str, index: int) -> str:
    """base64url (no padding) of SHA-256(causation_id + "\\n" + plugin + "\\n" + str(index))."""
    if not isinstance(causation_id, str) or causation_id == "" or not isinstance(plugin, str) or plugin == "":
        raise ProtocolError("PROTOCOL_INVALID", "deriveActionId needs a non-empty causation id and plugin name")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= MAX_SAFE_INTEGER:
        raise ProtocolError("PROTOCOL_INVALID", "deriveActionId index must be an integer >= 0")
    digest = hashlib.sha256(f"{causation_id}\n{plugin}\n{index}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def retry_message_id(id: str, attempt: int) -> str:
    out = f"{id}:retry:{attempt}"
    if not is_id(out) or not isinstance(attempt, int) or attempt < 1:
        raise ProtocolError("PROTOCOL_INVALID", "retry message id must be a valid id (<= 128 chars)")
    return out


# ---- validation --------------------------------------------------------------------------------
MESSAGE_NAMES: Final = (
    "Ack", "AttachmentDescriptor", "AttachmentGetRequest", "AttachmentPutRequest", "AttachmentReply",
    "BotInfo", "ConversationPage", "ConversationRequest", "DeadLetter", "DeadLetterPage",
    "DeadLetterRetryRequest", "EmptyRequest", "ErrorReply", "InboundEvent", "MessageLogPage",
    "MessageLogQuery", "OutboundAction", "PageRequest", "PluginConfigRecord", "PluginManifest",
    "PluginStatusList", "ProfileUpdate", "StreamStatusList", "WorkerList", "WorkerPresence", "WorkerStats",
)  # fmt: skip


def schema_file_name(name: str) -> str:
    """``InboundEvent`` → ``inbound-event.schema.json``."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower() + ".schema.json"


def _pattern(validator, pattern, instance, schema):  # noqa: ANN001
    # ECMAScript `$` (no m flag) matches only at the very end; Python's also before a final "\n".
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield SchemaError(f"does not match pattern {pattern}")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))


def _pattern_properties(validator, pattern_properties, instance, schema):  # noqa: ANN001
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for k, v in instance.items():
            if _compiled(pattern).search(k):
                yield from validator.descend(v, subschema, path=k, schema_path=pattern)


_Validator = jsonschema.validators.extend(Draft7Validator, {"pattern": _pattern, "patternProperties": _pattern_properties})


@cache
def schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema document (draft-07) of a top-level message."""
    if name not in MESSAGE_NAMES:
        raise ProtocolError("PROTOCOL_INVALID", f"unknown message {name}")
    text = resources.files(__package__).joinpath("schemas", schema_file_name(name)).read_text("utf-8")
    return json.loads(text)


@cache
def _validator(name: str) -> Any:
    return _Validator(schema_of(name))


@cache
def _member_validators(name: str, tag: str) -> dict[str, Any]:
    out = {}
    for member in schema_of(name)["oneOf"]:
        const = member["properties"][tag]["const"]
        out[const] = _Validator({**member, "$schema": schema_of(name)["$schema"]})
    return out


_TAGS: Final = {"InboundEvent": "kind", "OutboundAction": "action"}


def _pointer(path) -> str:  # noqa: ANN001
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _problems(errors) -> list[ProtocolProblem]:  # noqa: ANN001
    out: list[ProtocolProblem] = []

    def add(err: SchemaError) -> None:
        if err.context:
            for sub in err.context:
                add(sub)
            return
        path = list(err.absolute_path)
        message = err.message
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [p for p in err.validator_value if p not in err.instance]
            for p in missing:
                out.append(ProtocolProblem(_pointer([*path, p]), "is required", "required"))
            return
        # Do not echo values: keep jsonschema's message only for value-free keywords.
        if err.validator in ("type", "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
                             "minItems", "maxItems", "format", "additionalProperties", "multipleOf", "not"):
            message = f"fails {err.validator} {json.dumps(err.validator_value)[:80]}"
        out.append(ProtocolProblem(_pointer(path), message, str(err.validator)))

    for e in errors:
        add(e)
    return out[:MAX_REPORTED_PROBLEMS]


def _check_version(value: Any) -> None:
    if isinstance(value, dict) and "v" in value:
        v = value["v"]
        if isinstance(v, int) and not isinstance(v, bool) and v != PROTOCOL_VERSION:
            raise ProtocolError(
                "PROTOCOL_UNSUPPORTED_VERSION",
                f"unsupported protocol version (this side speaks v{PROTOCOL_VERSION})",
                [ProtocolProblem("/v", f"must be {PROTOCOL_VERSION}", "const")],
            )


def check(name: str, value: Any) -> None:
    """Validates a JSON value (as from json.loads) against the message's schema; raises ProtocolError."""
    if name != "AttachmentDescriptor":
        _check_version(value)
    tag = _TAGS.get(name)
    if tag is not None and isinstance(value, dict) and isinstance(value.get(tag), str):
        members = _member_validators(name, tag)
        validator = members.get(value[tag])
        if validator is None:
            raise ProtocolError(
                "PROTOCOL_UNKNOWN_KIND",
                f"unknown {name} {tag} (newer protocol?)",
                [ProtocolProblem(f"/{tag}", f"must be one of {', '.join(members)}", "enum")],
            )
        errors = list(validator.iter_errors(value))
    else:
        errors = list(_validator(name).iter_errors(value))
    if errors:
        problems = _problems(errors)
        first = problems[0] if problems else ProtocolProblem("", "is invalid")
        raise ProtocolError("PROTOCOL_INVALID", f"invalid {name}: {first.instance_path or '(root)'} {first.message}", problems)


def _as_dict(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return value


M = TypeVar("M", bound=pydantic.BaseModel)


def _model(name: str) -> type[pydantic.BaseModel]:
    return getattr(models, name)


def parse(name: str, value: Any) -> Any:
    """Validates ``value`` (dict or model) and returns the typed model (a union's member for
    InboundEvent/OutboundAction: ``MessageEvent``, ``SendAction``...)."""
    data = _as_dict(value)
    check(name, data)
    try:
        model = _model(name).model_validate(data)
    except pydantic.ValidationError as err:
        problems = [ProtocolProblem(_pointer(e["loc"]), e["type"]) for e in err.errors(include_input=False)]
        raise ProtocolError("PROTOCOL_INVALID", f"invalid {name}", problems) from None
    return model.root if isinstance(model, pydantic.RootModel) else model


def is_valid(name: str, value: Any) -> bool:
    try:
        check(name, _as_dict(value))
        return True
    except ProtocolError:
        return False


def _js_number(text: str) -> int | float:
    """JSON numbers as JavaScript sees them: ``1.0`` is the integer 1 (AJV's ``const: 1`` and
    ``type: integer`` accept it, so must we)."""
    f = float(text)
    return int(f) if f.is_integer() and abs(f) <= MAX_SAFE_INTEGER else f


def _reject_constant(c: str) -> Any:
    raise ValueError("non-JSON number")


# A JSON string (escapes included) or one bracket: strings are skipped whole, so brackets in them do not count.
_JSON_STRING_OR_BRACKET: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


def nests_deeper_than(text: str, limit: int) -> bool:
    """True when the JSON ``text`` nests objects and arrays more than ``limit`` levels deep (brackets
    inside strings do not count). Only meaningful for valid JSON; json.loads reports malformed text."""
    if text.count("{") + text.count("[") <= limit:  # the common case, at C speed
        return False
    depth = 0
    for m in _JSON_STRING_OR_BRACKET.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _too_deep(what: str) -> ProtocolError:
    return ProtocolError("PROTOCOL_TOO_LARGE", f"{what}: nested deeper than {MAX_JSON_DEPTH} levels",
                         [ProtocolProblem("", f"nests deeper than {MAX_JSON_DEPTH} levels", "maxDepth")])


def decode_json(data: bytes | bytearray | memoryview | str, what: str = "message") -> Any:
    """UTF-8 JSON → value, at most MAX_BUS_MESSAGE_BYTES and MAX_JSON_DEPTH levels; ProtocolError
    (BAD_JSON/TOO_LARGE) otherwise."""
    if isinstance(data, str):
        raw = data.encode("utf-8")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise ProtocolError("PROTOCOL_BAD_JSON", f"{what}: expected bytes or str")
    if len(raw) > MAX_BUS_MESSAGE_BYTES:
        raise ProtocolError("PROTOCOL_TOO_LARGE", f"{what}: {len(raw)} bytes, over {MAX_BUS_MESSAGE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("PROTOCOL_BAD_JSON", f"{what}: not UTF-8 JSON") from None
    if nests_deeper_than(text, MAX_JSON_DEPTH):
        raise _too_deep(what)
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_js_number)
    except (ValueError, RecursionError):
        raise ProtocolError("PROTOCOL_BAD_JSON", f"{what}: not UTF-8 JSON") from None


def dead_letter_payload(data: bytes | bytearray | memoryview) -> dict[str, Any]:
    """The ``payload`` of a DeadLetter for the original body bytes (PROTOCOL.md §6.5), as
    @session-bot/protocol's ``deadLetterPayload``: ``{"encoding": "json", "json"}`` for UTF-8 JSON of
    at most 393,216 bytes nesting at most MAX_DEAD_LETTER_JSON_DEPTH levels, else base64 of the first
    393,216 bytes (``truncated`` when cut). The dead letter then always encodes. Never raises."""
    raw = bytes(data)
    max_bytes = MAX_DEAD_LETTER_PAYLOAD_LENGTH // 4 * 3
    if len(raw) <= max_bytes:
        try:
            text = raw.decode("utf-8")
            if not nests_deeper_than(text, MAX_DEAD_LETTER_JSON_DEPTH):
                return {"encoding": "json", "json": json.loads(text, parse_constant=_reject_constant, parse_float=_js_number)}
        except (UnicodeDecodeError, ValueError, RecursionError):
            pass
    out: dict[str, Any] = {"encoding": "base64", "data": base64.b64encode(raw[:max_bytes]).decode("ascii")}
    if len(raw) > max_bytes:
        out["truncated"] = True
    return out


def decode(name: str, data: bytes | bytearray | memoryview | str) -> Any:
    return parse(name, decode_json(data, name))


def encode(name: str, value: Any) -> bytes:
    """Validates, then serialises as compact UTF-8 JSON (unknown fields kept)."""
    data = _as_dict(value)
    check(name, data)
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except RecursionError:
        raise _too_deep(name) from None
    except (TypeError, ValueError):
        raise ProtocolError("PROTOCOL_INVALID", f"{name}: value has no JSON form") from None
    if nests_deeper_than(text, MAX_JSON_DEPTH):
        raise _too_deep(name)
    raw = text.encode("utf-8")
    if len(raw) > MAX_BUS_MESSAGE_BYTES:
        raise ProtocolError("PROTOCOL_TOO_LARGE", f"{name}: {len(raw)} bytes, over {MAX_BUS_MESSAGE_BYTES}")
    return raw


# Convenience wrappers for the messages a worker handles.
InboundEventModel = (
    models.MessageEvent | models.ReactionEvent | models.ReadEvent | models.TypingEvent
    | models.RequestResponseEvent | models.UnsendEvent
)  # fmt: skip
OutboundActionModel = (
    models.SendAction | models.ReactAction | models.ReadAction | models.TypingAction
    | models.AcceptAction | models.SetDisplayNameAction
)  # fmt: skip


def decode_inbound_event(data: bytes | str) -> InboundEventModel:
    return decode("InboundEvent", data)


def encode_inbound_event(value: Any) -> bytes:
    return encode("InboundEvent", value)


def parse_outbound_action(value: Any) -> OutboundActionModel:
    return parse("OutboundAction", value)


def decode_outbound_action(data: bytes | str) -> OutboundActionModel:
    return decode("OutboundAction", data)


def encode_outbound_action(value: Any) -> bytes:
    return encode("OutboundAction", value)


def error_reply(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"v": 1, "code": code, "message": message[:MAX_ERROR_MESSAGE_LENGTH]}
    if details is not None:
        out["details"] = details
    return out
