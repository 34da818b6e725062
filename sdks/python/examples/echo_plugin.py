"""The shipped `echo` plugin (plugins/echo) ported to Python, message for message.

Same name, same config schema, same replies: a Python worker running it can join plugin-host's own
consumers (no SB_WORKER_GROUP) and the fleet answers each /echo exactly once, whichever worker
(TypeScript or Python) takes the event, because both derive the same action ids.
"""
from session_bot_plugin import CommandContext, MessageContext, Plugin

plugin = Plugin(
    "echo",
    version="1.0.0",
    description="Echoes text back.",
    config_schema={
        "type": "object",
        "properties": {
            "echoAll": {"type": "boolean", "default": False, "description": "Also echo every message that is not a command."},
            "prefix": {"type": "string", "default": "", "maxLength": 50, "description": "Put before every echo."},
        },
        # TypeBox's Type.Object lists every property as required; defaults fill them in first.
        "required": ["echoAll", "prefix"],
        "additionalProperties": False,
    },
)


@plugin.command("echo", description="Repeats your text.", usage="<text>")
async def echo(ctx: CommandContext) -> None:
    arg = ctx.command.arg_text
    await ctx.reply("Usage: /echo <text>" if arg == "" else f"{ctx.config['prefix']}{arg}")


@plugin.on_message
async def echo_all(ctx: MessageContext) -> None:
    if ctx.config["echoAll"] and ctx.command is None and ctx.text.strip() != "":
        await ctx.reply(f"{ctx.config['prefix']}{ctx.text}")
