"""The README's code runs: the plugin of the first block and the harness test of step 3."""
from __future__ import annotations

import re
import sys
import types
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


async def test_readme_plugin_and_harness_example():
    assert len(BLOCKS) >= 2
    greeter = types.ModuleType("greeter")
    exec(compile(BLOCKS[0], "README greeter", "exec"), greeter.__dict__)
    sys.modules["greeter"] = greeter
    try:
        ns: dict = {}
        exec(compile(BLOCKS[1], "README test", "exec"), ns)
        await ns["test_hello"]()
    finally:
        del sys.modules["greeter"]
