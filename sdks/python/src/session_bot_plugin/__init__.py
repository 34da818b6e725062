"""session_bot plugin workers in Python, on the same NATS JetStream protocol as plugin-host.

    from session_bot_plugin import Plugin, CommandContext, run

    plugin = Plugin("greeter", version="1.0.0", description="Greets people.")

    @plugin.command("hello", description="Says hello.", usage="[name]")
    async def hello(ctx: CommandContext) -> None:
        await ctx.reply(f"Hello, {ctx.args[0] if ctx.args else 'you'}!")

Run it with ``python -m session_bot_plugin my_module:plugin`` (configuration from the environment,
the same variables as plugin-host).
"""
__version__ = "0.1.0"

from .config import ConfigError, WorkerConfig  # noqa: E402
from .plugin import (  # noqa: E402
    BaseContext,
    CommandContext,
    EventContext,
    InvokeResult,
    MessageContext,
    ParsedCommand,
    Plugin,
    PluginError,
    Reply,
    TaskContext,
    invoke_plugin,
    parse_command,
    resolve_config,
    split_args,
    split_text,
)
from .protocol import ProtocolError  # noqa: E402
from .store import MemoryStoreBackend, PluginStore  # noqa: E402
from .worker import Worker, run  # noqa: E402

__all__ = [
    "BaseContext", "CommandContext", "ConfigError", "EventContext", "InvokeResult", "MemoryStoreBackend",
    "MessageContext", "ParsedCommand", "Plugin", "PluginError", "PluginStore", "ProtocolError", "Reply",
    "TaskContext", "Worker", "WorkerConfig", "__version__", "invoke_plugin", "parse_command", "resolve_config", "run",
    "split_args", "split_text",
]  # fmt: skip
