"""The echo port, but a message containing "hang" is answered and then the handler hangs: the test
kills the process with the event still unacknowledged."""
import asyncio

from echo_plugin import plugin

_echo = plugin.commands["echo"].handler


async def echo_then_hang(ctx):
    await _echo(ctx)
    if "hang" in ctx.text:
        print("HANGING", flush=True)
        await asyncio.sleep(3600)


plugin.commands["echo"] = plugin.commands["echo"].__class__(**{**plugin.commands["echo"].__dict__, "handler": echo_then_hang})
