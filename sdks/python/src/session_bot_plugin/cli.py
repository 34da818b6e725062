"""``python -m session_bot_plugin module:attr [module:attr ...]``: runs a worker with those plugins,
configured from the environment (plugin-host's variables; see the README)."""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import sys
import time

from .config import ConfigError, WorkerConfig
from .plugin import Plugin, PluginError
from .worker import Worker


class JsonFormatter(logging.Formatter):
    """One JSON object per line (pino-like: level, time, msg)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"level": record.levelname.lower(), "time": int(record.created * 1000), "name": record.name, "msg": record.getMessage()}
        if record.exc_info:
            out["err"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def load_plugin(spec: str) -> Plugin:
    """``package.module:attribute`` (attribute defaults to ``plugin``)."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise PluginError("PLUGIN_INVALID_DEFINITION", f"cannot import {module_name}: {err}") from err
    obj = getattr(module, attr or "plugin", None)
    if not isinstance(obj, Plugin):
        raise PluginError("PLUGIN_INVALID_DEFINITION", f"{spec} is not a session_bot_plugin.Plugin")
    return obj


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="session-bot-plugin", description=__doc__)
    ap.add_argument("plugins", nargs="+", help="module:attribute of each Plugin (attribute defaults to 'plugin')")
    args = ap.parse_args(argv)
    level = os.environ.get("LOG_LEVEL", "info").upper()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level={"TRACE": "DEBUG", "FATAL": "CRITICAL", "SILENT": "CRITICAL"}.get(level, level), handlers=[handler])
    logging.Formatter.converter = time.gmtime
    sys.path.insert(0, os.getcwd())
    try:
        plugins = [load_plugin(s) for s in args.plugins]
        config = WorkerConfig.from_env()
    except (PluginError, ConfigError) as err:
        print(f"session-bot-plugin: {err}", file=sys.stderr)
        return 2
    asyncio.run(Worker(plugins, config).run_until_signal())
    return 0


if __name__ == "__main__":
    sys.exit(main())
