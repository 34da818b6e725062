"""The generation script: a schema change is detected by --check, and regeneration fixes it."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SDK = Path(__file__).resolve().parents[1]
SCRIPT = SDK / "scripts" / "generate_models.py"
SOURCE = SDK.parents[1] / "packages" / "protocol" / "schemas"
PKG = SDK / "src" / "session_bot_plugin"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


def test_a_schema_change_makes_the_check_fail_and_regeneration_fixes_it(tmp_path):
    source = tmp_path / "schemas"
    shutil.copytree(SOURCE, source)
    pkg = tmp_path / "pkg"
    shutil.copytree(PKG / "schemas", pkg / "schemas")
    shutil.copy(PKG / "models.py", pkg / "models.py")
    # (run-tests.sh checks the committed files themselves before pytest)
    doc = json.loads((source / "ack.schema.json").read_text())
    doc["properties"]["note"] = {"type": "string", "maxLength": 10}
    (source / "ack.schema.json").write_text(json.dumps(doc, indent=2))
    r = run("--check", "--source", str(source), "--package", str(pkg))
    assert r.returncode == 1
    assert "ack.schema.json" in r.stderr and "models.py" in r.stderr
    assert run("--source", str(source), "--package", str(pkg)).returncode == 0
    assert run("--check", "--source", str(source), "--package", str(pkg)).returncode == 0
    assert "note: Annotated[" in (pkg / "models.py").read_text()


def test_no_schemas_is_an_error(tmp_path):
    r = run("--check", "--source", str(tmp_path), "--package", str(tmp_path / "pkg"))
    assert r.returncode == 2 and "no schema files" in r.stderr
