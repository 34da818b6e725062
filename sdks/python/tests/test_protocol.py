from __future__ import annotations

import base64
import json

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_bot_plugin import protocol
from session_bot_plugin.protocol import ProtocolError

from .conftest import PROTOCOL_VECTORS, load_json

VALID = load_json(PROTOCOL_VECTORS / "valid.json")
INVALID = load_json(PROTOCOL_VECTORS / "invalid.json")
PARTITION = load_json(PROTOCOL_VECTORS / "partition.json")
ACTION_IDS = load_json(PROTOCOL_VECTORS / "action-id.json")


def test_vectors_cover_every_message():
    assert set(VALID) == set(protocol.MESSAGE_NAMES)
    assert len(INVALID) >= 20


@pytest.mark.parametrize("name,value", [(n, v) for n, vs in VALID.items() for v in vs])
def test_valid_samples_parse(name, value):
    parsed = protocol.parse(name, value)
    assert isinstance(parsed, pydantic.BaseModel)
    # round trip: encode keeps every field (unknown ones too) and decodes to the same JSON
    raw = protocol.encode(name, value)
    assert json.loads(raw) == value
    assert protocol.encode(name, parsed) == raw


@pytest.mark.parametrize("vector", INVALID, ids=[v["description"] for v in INVALID])
def test_invalid_vectors_give_code_and_pointer(vector):
    with pytest.raises(ProtocolError) as info:
        protocol.parse(vector["message"], vector["value"])
    assert info.value.code == vector["code"]
    pointers = [p.instance_path for p in info.value.problems]
    assert vector["pointer"] in pointers, pointers


@pytest.mark.parametrize("vector", PARTITION, ids=[repr(v["input"]) for v in PARTITION])
def test_partition_vectors(vector):
    assert protocol.fnv1a32(vector["input"]) == vector["fnv1a32"]
    for n, p in vector.get("partitions", {}).items():
        assert protocol.partition_of(vector["input"], int(n)) == p


def test_protocol_md_examples():
    assert protocol.fnv1a32("") == 0x811C9DC5
    assert protocol.partition_of("05" + "a" * 64, 1024) == 814
    assert protocol.derive_action_id("q3ZJb4Ew2mZ0l1yP9mA4fJ8vD7dK0nQ6s2T5uW1xY3z", "echo", 0) == "gMeFCseJCxeGv047t6Yr1RWW7bM15ZCPJTTKA9GZt38"


@pytest.mark.parametrize("vector", ACTION_IDS, ids=[str(i) for i in range(len(ACTION_IDS))])
def test_action_id_vectors(vector):
    assert protocol.derive_action_id(vector["causationId"], vector["plugin"], vector["index"]) == vector["id"]


def test_unknown_kind_is_distinct_from_invalid():
    event = dict(VALID["InboundEvent"][0], kind="call")
    with pytest.raises(ProtocolError) as info:
        protocol.decode_inbound_event(json.dumps(event).encode())
    assert info.value.code == "PROTOCOL_UNKNOWN_KIND"


def test_unknown_fields_are_kept():
    event = dict(VALID["InboundEvent"][0], futureField={"x": 1})
    parsed = protocol.decode_inbound_event(json.dumps(event))
    assert parsed.model_extra["futureField"] == {"x": 1}
    assert json.loads(protocol.encode_inbound_event(parsed))["futureField"] == {"x": 1}


def test_pattern_dollar_does_not_match_before_newline():
    # ECMAScript semantics: "bot\n" is not a bot name (Python's re `$` would accept it).
    event = dict(VALID["InboundEvent"][0], bot="bot\n")
    with pytest.raises(ProtocolError) as info:
        protocol.parse("InboundEvent", event)
    assert "/bot" in [p.instance_path for p in info.value.problems]


@pytest.mark.parametrize(
    "raw,code",
    [
        (b"", "PROTOCOL_BAD_JSON"),
        (b"\xff\xfe", "PROTOCOL_BAD_JSON"),
        (b"{", "PROTOCOL_BAD_JSON"),
        (b'{"v": NaN}', "PROTOCOL_BAD_JSON"),
        (b"\xef\xbb\xbf{}", "PROTOCOL_BAD_JSON"),
        (b"[" * 10, "PROTOCOL_BAD_JSON"),
        (b"[" * 100_000, "PROTOCOL_TOO_LARGE"),  # deeper than MAX_JSON_DEPTH: refused before parsing
        (b" " * (protocol.MAX_BUS_MESSAGE_BYTES + 1), "PROTOCOL_TOO_LARGE"),
        (b"[]", "PROTOCOL_INVALID"),
        (b'{"v":2,"kind":"message"}', "PROTOCOL_UNSUPPORTED_VERSION"),
    ],
)
def test_decode_errors(raw, code):
    with pytest.raises(ProtocolError) as info:
        protocol.decode_inbound_event(raw)
    assert info.value.code == code


def _deep_text(levels: int) -> str:
    """A valid InboundEvent with an extra field of ``levels`` nested objects (the message has levels + 1)."""
    base = json.dumps(dict(VALID["InboundEvent"][0], zz=0), separators=(",", ":"))
    return base.replace('"zz":0', '"zz":' + '{"a":' * (levels - 1) + "{}" + "}" * (levels - 1))


def _deep_value(levels: int) -> dict:
    v: dict = {}
    for _ in range(levels - 1):
        v = {"a": v}
    return v


def _depth(value) -> int:  # noqa: ANN001
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_decode_refuses_json_deeper_than_max_json_depth():
    # Mirrors packages/protocol (fuzz finding protocol-decode-accepts-what-encode-cannot-write).
    assert protocol.MAX_JSON_DEPTH == 64
    at_limit = _deep_text(protocol.MAX_JSON_DEPTH - 1)
    assert _depth(json.loads(at_limit)) == protocol.MAX_JSON_DEPTH
    for raw in (at_limit, at_limit.encode()):
        assert protocol.decode_inbound_event(raw).model_extra["zz"] == json.loads(at_limit)["zz"]
    for raw in (_deep_text(protocol.MAX_JSON_DEPTH), _deep_text(protocol.MAX_JSON_DEPTH).encode(), _deep_text(50_000)):
        with pytest.raises(ProtocolError) as info:
            protocol.decode_inbound_event(raw)
        assert info.value.code == "PROTOCOL_TOO_LARGE"
        assert [(p.instance_path, p.keyword) for p in info.value.problems] == [("", "maxDepth")]
    with pytest.raises(ProtocolError) as info:
        protocol.decode_json("[" * 65 + "]" * 65)
    assert info.value.code == "PROTOCOL_TOO_LARGE"
    assert protocol.decode_json("[" * 64 + "]" * 64) == json.loads("[" * 64 + "]" * 64)
    assert len(protocol.decode_json("[" + "[]," * 10_000 + "{}]")) == 10_001  # wide is not deep


def test_brackets_in_strings_do_not_count_towards_depth():
    event = dict(VALID["InboundEvent"][0], text="[{" * 2_000 + '"\\"\\[')
    assert protocol.decode_inbound_event(json.dumps(event)).text == event["text"]
    assert protocol.decode_json(json.dumps({"k": "\\", "[" * 100: [[1]]})) == {"k": "\\", "[" * 100: [[1]]}


def test_encode_refuses_values_deeper_than_max_json_depth():
    ok = dict(VALID["InboundEvent"][0], zz=_deep_value(protocol.MAX_JSON_DEPTH - 1))
    assert json.loads(protocol.encode("InboundEvent", ok)) == ok
    for levels in (protocol.MAX_JSON_DEPTH, 50_000):
        with pytest.raises(ProtocolError) as info:
            protocol.encode("InboundEvent", dict(VALID["InboundEvent"][0], zz=_deep_value(levels)))
        assert info.value.code == "PROTOCOL_TOO_LARGE"


def test_dead_letter_payload_keeps_json_up_to_60_levels_then_base64():
    assert protocol.MAX_DEAD_LETTER_JSON_DEPTH == protocol.MAX_JSON_DEPTH - 4
    assert protocol.dead_letter_payload(b'{"v":1}') == {"encoding": "json", "json": {"v": 1}}
    assert protocol.dead_letter_payload(("[" * 60 + "]" * 60).encode())["encoding"] == "json"
    deep = ("[" * 61 + "]" * 61).encode()
    assert protocol.dead_letter_payload(deep) == {"encoding": "base64", "data": base64.b64encode(deep).decode()}
    assert protocol.dead_letter_payload(b"\xff") == {"encoding": "base64", "data": "/w=="}
    assert protocol.dead_letter_payload(b"{nope")["encoding"] == "base64"
    big = protocol.dead_letter_payload(b'"' + b"x" * (protocol.MAX_DEAD_LETTER_PAYLOAD_LENGTH // 4 * 3) + b'"')
    assert big["truncated"] is True and len(big["data"]) == protocol.MAX_DEAD_LETTER_PAYLOAD_LENGTH
    # Whatever the body, the dead letter encodes (and fits in a page).
    dl = VALID["DeadLetter"][0]
    for levels in (1, 59, 60, 61, 62, 63, 64, 65, 100, 50_000):
        body = ("[" * levels + "]" * levels).encode()
        letter = dict(dl, payload=protocol.dead_letter_payload(body))
        raw = protocol.encode("DeadLetter", letter)
        assert protocol.decode_json(raw) == letter
        protocol.encode("DeadLetterPage", {"v": 1, "items": [letter], "nextCursor": None})


_tricky = st.text(alphabet='[]{}"\\a,:', max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | _tricky,
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(_tricky, c, max_size=3), max_leaves=20),
       st.integers(min_value=0, max_value=8))
def test_nests_deeper_than_matches_the_value_depth(value, limit):
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False, separators=(",", ":"))):
        assert protocol.nests_deeper_than(text, limit) == (_depth(value) > limit)


def test_error_messages_do_not_echo_values():
    secret = "s3cr3t-" + "x" * 10_001
    event = dict(VALID["InboundEvent"][0], text=secret)
    with pytest.raises(ProtocolError) as info:
        protocol.parse("InboundEvent", event)
    assert "s3cr3t" not in str(info.value)
    assert all("s3cr3t" not in p.message for p in info.value.problems)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                               lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                                               max_leaves=12).map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bytes_only_raise_protocol_error(raw):
    for name in ("InboundEvent", "OutboundAction", "PluginConfigRecord"):
        try:
            protocol.decode(name, raw)
        except ProtocolError as err:
            assert err.code in protocol.PROTOCOL_ERROR_CODES


@pytest.mark.parametrize(
    "fn,args",
    [
        (protocol.inbound_subject, ("Bot", 0, "message")),
        (protocol.inbound_subject, ("bot", -1, "message")),
        (protocol.inbound_subject, ("bot", 0, "call")),
        (protocol.outbound_subject, ("a.b", "send")),
        (protocol.plugin_host_consumer, ("bot", 1024)),
        (protocol.plugin_state_bucket, ("9lives",)),
        (protocol.plugin_config_key, ("bot", "a>b")),
        (protocol.broker_subject, ("bot", "attachments..get")),
        (protocol.partition_of, ("05ab", 0)),
        (protocol.partition_of, ("", 16)),
        (protocol.parse_inbound_subject, ("sb.in.bot.01.message",)),
        (protocol.assert_subject_token, ("a b",)),
    ],
)
def test_bad_names(fn, args):
    with pytest.raises(ProtocolError) as info:
        fn(*args)
    assert info.value.code == "PROTOCOL_BAD_NAME"


def test_names():
    assert protocol.inbound_subject("bot", 3, "message") == "sb.in.bot.3.message"
    assert protocol.plugin_host_consumer("bot", 3) == "sb_host_bot_p3"
    assert protocol.outbound_subject("my-bot", "set_display_name") == "sb.out.my-bot.set_display_name"
    assert protocol.plugin_config_key("bot", "echo") == "bot.echo"
    assert protocol.parse_plugin_config_key("bot.echo") == ("bot", "echo")
    assert protocol.parse_inbound_subject("sb.in.bot.12.reaction") == protocol.InboundSubjectParts("bot", 12, "reaction")
    assert protocol.plugin_state_bucket("echo") == "sb_state_echo"
    assert protocol.retry_message_id("abc", 2) == "abc:retry:2"


def test_numbers_follow_javascript():
    event = dict(VALID["InboundEvent"][0])
    raw = json.dumps(event).replace('"v": 1', '"v": 1.0').replace('"v":1', '"v":1.0')
    assert '"v": 1.0' in raw or '"v":1.0' in raw
    assert protocol.decode_inbound_event(raw).v == 1
    with pytest.raises(ProtocolError) as info:
        protocol.decode_inbound_event(raw.replace('"v": 1.0', '"v": 1.5'))
    assert info.value.code == "PROTOCOL_INVALID"


def test_pattern_properties_use_ecmascript_dollar():
    stats = {"v": 1, "inFlight": 0, "handled": 0, "errors": 0, "plugins": {"echo\n": {"handled": -1, "errors": 0, "averageLatencyMs": 0}}}
    protocol.check("WorkerStats", stats)  # the key does not match the pattern, so its value is not checked (as in AJV)
