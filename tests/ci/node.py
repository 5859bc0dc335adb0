"""Runs the project's small Node scripts: with the pinned Node from node_modules (24), else PATH's."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_node_json(script: Path, *args: str, needs: str) -> object:
    """Run `script args...` and parse its stdout as JSON; `needs` is the npm package it imports."""
    if not (ROOT / "node_modules" / needs).is_dir():
        pytest.fail(f"node_modules/{needs} is missing: `make test` installs the Node tools (npm ci)")
    local = ROOT / "node_modules" / ".bin" / "node"
    node = str(local) if local.exists() else shutil.which("node")
    if node is None:
        pytest.fail("no node binary: `make test` installs Node 24 into node_modules")
    result = subprocess.run([node, str(script), *args], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
