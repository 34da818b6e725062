"""A new plugin written in Python: per-conversation notes.

    /note <text>     saves a note          /notes        lists your notes
    /forget <n>      deletes note n        /notes-stats  (admins) how many notes this bot keeps
    reacting with ❌ to one of your messages deletes your last note.

Shows commands (with usage and an admin-only one), live config (`maxNotes`), the plugin's own KV
store (scoped per conversation), a reaction handler and the logger.
"""
from session_bot_plugin import CommandContext, EventContext, Plugin

plugin = Plugin(
    "notes",
    version="0.1.0",
    description="Keeps short notes for you.",
    config_schema={
        "type": "object",
        "properties": {
            "maxNotes": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            "maxLength": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200},
        },
        "additionalProperties": False,
    },
)


@plugin.command("note", description="Saves a note.", usage="<text>")
async def note(ctx: CommandContext) -> None:
    text = ctx.command.arg_text
    if not text:
        await ctx.reply("Usage: /note <text>")
        return
    if len(text) > ctx.config["maxLength"]:
        await ctx.reply(f"Notes are at most {ctx.config['maxLength']} characters.")
        return
    store = ctx.store.conversation(ctx.conversation)
    notes = await store.get("notes", [])
    # Idempotent on redelivery: the event id is remembered with the note.
    if any(n["event"] == ctx.event.id for n in notes):
        return
    if len(notes) >= ctx.config["maxNotes"]:
        await ctx.reply(f"You already have {len(notes)} notes; /forget one first.")
        return
    notes.append({"event": ctx.event.id, "text": text})
    await store.set("notes", notes)
    ctx.log.info("note saved", extra={"count": len(notes)})
    await ctx.reply(f"Saved note {len(notes)}.")


@plugin.command("notes", description="Lists your notes.")
async def list_notes(ctx: CommandContext) -> None:
    notes = await ctx.store.conversation(ctx.conversation).get("notes", [])
    await ctx.reply("\n".join(f"{i}. {n['text']}" for i, n in enumerate(notes, 1)) if notes else "No notes yet.")


@plugin.command("forget", description="Deletes a note.", usage="<n>")
async def forget(ctx: CommandContext) -> None:
    store = ctx.store.conversation(ctx.conversation)
    notes = await store.get("notes", [])
    if len(ctx.args) != 1 or not ctx.args[0].isdigit() or not 1 <= int(ctx.args[0]) <= len(notes):
        await ctx.reply(f"Usage: /forget <n> with n from 1 to {len(notes)}" if notes else "No notes yet.")
        return
    removed = notes.pop(int(ctx.args[0]) - 1)
    await store.set("notes", notes)
    await ctx.reply(f"Forgot: {removed['text']}")


@plugin.command("notes-stats", description="How many conversations keep notes.", admin=True)
async def stats(ctx: CommandContext) -> None:
    keys = await ctx.store.keys("c.")
    await ctx.reply(f"{len(keys)} conversation(s) keep notes.")


@plugin.on_reaction
async def undo(ctx: EventContext) -> None:
    if ctx.event.emoji != "❌" or ctx.event.op != "add":
        return
    store = ctx.store.conversation(ctx.conversation)
    notes = await store.get("notes", [])
    if notes:
        notes.pop()
        await store.set("notes", notes)
        await ctx.reply("Removed your last note.")
