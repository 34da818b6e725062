"""The plugin API and runtime, in process (the same runtime the worker uses)."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from session_bot_plugin import CommandContext, Plugin, PluginError, Reply, parse_command, protocol, split_args, split_text
from session_bot_plugin.config import ConfigError, WorkerConfig, consumer_name
from session_bot_plugin.store import MemoryStoreBackend, PluginStore, conversation_token
from session_bot_plugin.testing import TEST_ADMIN, TEST_USER, Harness

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import echo_plugin  # noqa: E402
import notes_plugin  # noqa: E402


@pytest.mark.parametrize(
    "text,expected",
    [
        ("/echo hi there", ("echo", "hi there", ("hi", "there"))),
        ("/Echo  a \"b c\" d\\\"e", ("echo", 'a "b c" d\\"e', ("a", "b c", 'd"e'))),
        ("/x", ("x", "", ())),
        ("hello", None),
        ("/", None),
        ("/ 1", None),
        ("//comment", None),
        ("/1abc", None),
        ("/" + "a" * 33, None),
    ],
)
def test_parse_command_matches_the_typescript_rules(text, expected):
    c = parse_command(text)
    assert (None if c is None else (c.name, c.arg_text, c.args)) == expected


def test_split_args_and_text():
    assert split_args('a  "" b') == ["a", "", "b"]
    parts = split_text(("word " * 1000).strip())
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts) == ("word " * 1000).strip()
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(name="Bad", version="1.0.0", description=""),
        dict(name="ok", version="1.0", description=""),
        dict(name="ok", version="1.0.0", description="x" * 501),
        dict(name="ok", version="1.0.0", description="", config_schema={"type": "array"}),
        dict(name="ok", version="1.0.0", description="", config_schema={"type": "object", "properties": {"a": {"type": 5}}}),
        dict(name="ok", version="1.0.0", description="", config_schema={"type": "object", "required": ["a"]}),
    ],
)
def test_bad_definitions_are_refused(kwargs):
    with pytest.raises(PluginError) as info:
        Plugin(**kwargs)
    assert info.value.code == "PLUGIN_INVALID_DEFINITION" or info.value.code == "PLUGIN_INVALID_CONFIG"


def test_bad_commands_are_refused():
    p = Plugin("p", version="1.0.0", description="")
    p.command("a", description="")(lambda ctx: None)
    for name in ("a", "A", "with space", ""):
        with pytest.raises(PluginError) as info:
            p.command(name, description="")
        assert info.value.code == "PLUGIN_INVALID_DEFINITION"


def test_manifest_is_a_valid_protocol_document():
    m = notes_plugin.plugin.manifest()
    protocol.check("PluginManifest", m)
    assert {c["name"] for c in m["commands"]} == {"note", "notes", "forget", "notes-stats"}
    assert [c for c in m["commands"] if c.get("adminOnly")] == [
        {"name": "notes-stats", "description": "How many conversations keep notes.", "adminOnly": True}]


async def test_echo_port_behaves_like_the_typescript_plugin():
    h = Harness(echo_plugin.plugin)
    assert (await h.message("/echo hello")).texts == ["hello"]
    assert (await h.message("/echo")).texts == ["Usage: /echo <text>"]
    assert (await h.message("plain")).texts == []
    h.set_config({"echoAll": True, "prefix": "> "})
    assert (await h.message("plain")).texts == ["> plain"]
    with pytest.raises(PluginError) as info:
        h.set_config({"prefix": 5})
    assert info.value.code == "PLUGIN_INVALID_CONFIG"


async def test_action_ids_are_protocol_derived_and_deduplicated():
    h = Harness(echo_plugin.plugin)
    r = await h.message("/echo hi", id="evt-fixed")
    assert r.actions[0]["id"] == protocol.derive_action_id("evt-fixed", "echo", 0)
    assert r.actions[0]["causationId"] == "evt-fixed" and r.actions[0]["plugin"] == "echo"
    again = await h.message("/echo hi", id="evt-fixed")
    assert again.actions == []  # same id: dropped like JetStream's duplicate window


async def test_notes_example():
    h = Harness(notes_plugin.plugin, config={"maxNotes": 2})
    assert (await h.message("/note buy milk", id="e1")).texts == ["Saved note 1."]
    assert (await h.message("/note buy milk", id="e1")).texts == []  # redelivery: nothing new
    assert (await h.message("/note call Ann")).texts == ["Saved note 2."]
    assert (await h.message("/note third")).texts == ["You already have 2 notes; /forget one first."]
    assert (await h.message("/notes")).texts == ["1. buy milk\n2. call Ann"]
    assert (await h.message("/forget 9")).texts == ["Usage: /forget <n> with n from 1 to 2"]
    assert (await h.message("/forget 1")).texts == ["Forgot: buy milk"]
    assert (await h.reaction("❌")).texts == ["Removed your last note."]
    assert (await h.message("/notes")).texts == ["No notes yet."]
    assert (await h.message("/notes-stats")).texts == ["Sorry, this command is for admins only."]
    assert (await h.message("/notes-stats", sender=TEST_ADMIN)).texts == ["1 conversation(s) keep notes."]
    # the TypeScript SDK's key layout: c.<conversation>.<key>
    assert list(h.store_backend.data) == [f"c.{TEST_USER}.notes"]


async def test_long_replies_are_split_and_quotes_and_attachments():
    p = Plugin("longer", version="1.0.0", description="")

    @p.command("long", description="")
    async def long(ctx: CommandContext) -> None:
        d = await ctx.attachments.put(b"file-bytes", content_type="text/plain", file_name="a.txt")
        await ctx.reply(Reply(text="y" * 2500, attachments=(d,), quote=True))
        assert await ctx.attachments.get(d) == b"file-bytes"

    r = await Harness(p).message("/long")
    assert [len(a["text"]) for a in r.actions] == [2000, 500]
    assert "quote" in r.actions[0] and "quote" not in r.actions[1]
    assert "attachments" in r.actions[1] and "attachments" not in r.actions[0]


async def test_handler_failures_are_typed():
    p = Plugin("bad", version="1.0.0", description="")

    @p.command("boom", description="")
    async def boom(ctx):
        raise ValueError("kaput")

    @p.command("slow", description="")
    async def slow(ctx):
        await asyncio.sleep(5)

    @p.command("invalid", description="")
    async def invalid(ctx):
        await ctx.react("x" * 40)

    @p.command("empty", description="")
    async def empty(ctx):
        await ctx.reply("")

    h = Harness(p, timeout_ms=200)
    for text, code in (("/boom", "PLUGIN_HANDLER_FAILED"), ("/slow", "PLUGIN_TIMEOUT"),
                       ("/invalid", "PLUGIN_INVALID_ACTION"), ("/empty", "PLUGIN_INVALID_ACTION")):
        with pytest.raises(PluginError) as info:
            await h.message(text)
        assert info.value.code == code, text
    with pytest.raises(PluginError) as info:
        await h.message("/boom")
    assert isinstance(info.value.__cause__, ValueError)


async def test_store_keys_and_limits():
    s = PluginStore(MemoryStoreBackend())
    for key in ("", "_lease", "a..b", "a b", "x" * 513, "a.*"):
        with pytest.raises(PluginError) as info:
            await s.set(key, 1)
        assert info.value.code == "PLUGIN_INVALID_KEY"
    with pytest.raises(PluginError) as info:
        await s.set("big", "x" * 70_000)
    assert info.value.code == "PLUGIN_INVALID_VALUE"
    with pytest.raises(PluginError):
        await s.set("nan", float("nan"))
    await s.conversation("05" + "c" * 64).set("k", {"a": [1]})
    assert await s.conversation("05" + "c" * 64).get("k") == {"a": [1]}
    assert await s.keys() == [f"c.05{'c' * 64}.k"]
    assert conversation_token("a.b") == "b64-YS5i"


def test_worker_config_from_env():
    c = WorkerConfig.from_env({"SB_BOT": "mybot", "SB_PARTITIONS": "4", "PLUGIN_HOST_BACKOFF_MS": "10,20", "SB_WORKER_GROUP": "py"})
    assert (c.bot, c.partitions, c.backoff_ms, c.group, c.router_reply) == ("mybot", 4, [10, 20], "py", "")
    assert WorkerConfig.from_env({}).router_reply.startswith("Unknown command")
    assert consumer_name("mybot", 3, None) == "sb_host_mybot_p3"
    assert consumer_name("mybot", 3, "py") == "sb_group_py_mybot_p3"
    with pytest.raises(ConfigError) as info:
        WorkerConfig.from_env({"SB_BOT": "Bad.Bot", "SB_PARTITIONS": "x", "PLUGIN_HOST_ADMINS": "nope",
                               "PLUGIN_HOST_HANDLER_TIMEOUT_MS": "50000", "SB_WORKER_GROUP": "a_b"})
    assert len(info.value.problems) >= 2
    with pytest.raises(ConfigError) as info:
        WorkerConfig.from_env({"PLUGIN_HOST_HANDLER_TIMEOUT_MS": "30000"})
    assert "below" in str(info.value)


def test_manifest_relaxes_required_properties_with_defaults_like_the_typescript_sdk():
    from session_bot_plugin.plugin import manifest_config_schema

    schema = {"type": "object", "required": ["a", "b"], "properties": {
        "a": {"type": "string", "default": "x"}, "b": {"type": "object", "required": ["c"],
                                                      "properties": {"c": {"type": "integer", "default": 1}}}}}
    assert manifest_config_schema(schema) == {"type": "object", "required": ["b"], "properties": {
        "a": {"type": "string", "default": "x"}, "b": {"type": "object", "properties": {"c": {"type": "integer", "default": 1}}}}}
    assert "required" not in echo_plugin.plugin.manifest()["configSchema"]
    assert echo_plugin.plugin.config_schema["required"] == ["echoAll", "prefix"]  # the definition is untouched


def test_worker_refuses_reserved_names_and_command_conflicts():
    from session_bot_plugin import Worker

    a = Plugin("router", version="1.0.0", description="")
    b = Plugin("one", version="1.0.0", description="")
    c = Plugin("two", version="1.0.0", description="")
    b.command("go", description="")(lambda ctx: None)
    c.command("go", description="")(lambda ctx: None)
    with pytest.raises(PluginError) as info:
        Worker([a, b, c], WorkerConfig())
    assert info.value.code == "PLUGIN_INVALID_DEFINITION"
    assert "reserved" in info.value.message and "/go is defined by one and two" in info.value.message
    with pytest.raises(PluginError):
        Worker([], WorkerConfig())


async def test_tasks_in_the_harness_send_idempotently_by_key():
    p = Plugin("daily", version="1.0.0", description="")

    @p.task("digest", every_ms=60_000)
    async def digest(ctx) -> None:
        await ctx.send(TEST_USER, f"digest {ctx.tick}", key=f"digest-{ctx.tick}")

    with pytest.raises(PluginError):
        p.task("fast", every_ms=100)
    h = Harness(p)
    r = await h.tick("digest", "day1")
    assert r.texts == ["digest day1"] and r.actions[0]["id"] == protocol.derive_action_id("key:digest-day1", "daily", 0)
    assert (await h.tick("digest", "day1")).texts == []  # the same tick again: same ids, dropped
    with pytest.raises(PluginError) as info:
        await h.tick("nope")
    assert info.value.code == "PLUGIN_UNSUPPORTED"


@pytest.mark.parametrize(
    "kwargs",
    [dict(bot=None), dict(admins=None), dict(admins=["x"]), dict(servers="nats://x"), dict(backoff_ms=None),
     dict(backoff_ms=[True]), dict(partitions="4"), dict(group=5), dict(unknown_command_reply=5), dict(http_port=70000),
     dict(command_prefix="a b"), dict(instance="a.b")],
)
def test_worker_config_refuses_bad_values_with_a_typed_error(kwargs):
    with pytest.raises(ConfigError) as info:
        WorkerConfig(**kwargs)
    assert info.value.code == "HOST_BAD_CONFIG" and info.value.problems


def test_env_example_is_a_valid_configuration():
    env = {}
    for line in (Path(__file__).resolve().parents[1] / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            env[k] = v
    c = WorkerConfig.from_env(env)
    d = WorkerConfig.from_env({})
    assert c.group == "py" and c.http_port == d.http_port == 9102
    for field in ("bot", "servers", "partitions", "concurrency", "handler_timeout_ms", "ack_wait_ms", "max_deliver",
                  "backoff_ms", "shutdown_grace_ms", "command_prefix", "plugins_enabled_by_default", "fetch_timeout_ms"):
        assert getattr(c, field) == getattr(d, field), field


async def test_react_mark_read_typing_and_targets():
    p = Plugin("acts", version="1.0.0", description="")

    @p.on_reaction
    async def on_reaction(ctx) -> None:
        await ctx.react("👍", target=ctx.event.target)
        await ctx.react("👍", remove=True)
        await ctx.mark_read()
        await ctx.typing("stopped")

    r = await Harness(p).reaction("❤️")
    assert [(a["action"], a.get("op"), a.get("state")) for a in r.actions] == [
        ("react", "add", None), ("react", "remove", None), ("read", None, None), ("typing", None, "stopped")]
    assert r.actions[0]["target"] == {"timestamp": 1, "author": "05" + "b" * 64}
    assert r.actions[1]["target"]["author"] == TEST_USER
    assert [a["id"] for a in r.actions] == [protocol.derive_action_id(r.actions[0]["causationId"], "acts", i) for i in range(4)]
