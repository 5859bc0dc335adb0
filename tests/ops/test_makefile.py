"""The Makefile's set-up rules, dry-run (`make -n`) in a scratch copy with a stand-in .venv: a
`PYTHON=` naming another interpreter recreates the venv; an unusable one is refused in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt", "lambda_src/requirements.txt",
                "bridge_src/requirements.txt", "package.json", "package-lock.json")


def fake_python(path: Path, version: tuple[int, int]) -> Path:
    """An interpreter stand-in that answers the Makefile's version questions as Python `version` would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\ncase \"$*\" in\n  --version) echo 'Python {version[0]}.{version[1]}.0';;\n"
                    f"  *version_info\\ \\<*) exit {int(version < (3, 11))};;\n"
                    f"  *) echo '({version[0]}, {version[1]})';;\nesac\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The Makefile and its inputs, with a set-up already done by Python 3.11."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    earlier = time.time() - 60
    for name in REQUIREMENTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
        os.utime(tmp_path / name, (earlier, earlier))
    fake_python(tmp_path / ".venv" / "bin" / "python", (3, 11))
    for stamp in (tmp_path / ".venv" / ".installed", tmp_path / "node_modules" / ".installed"):
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    return tmp_path


def make(checkout: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *args], cwd=checkout, capture_output=True, text=True, timeout=60)


def test_the_same_python_keeps_the_venv(checkout):
    python = fake_python(checkout / "py" / "python3.11", (3, 11))
    result = make(checkout, "-n", "setup", f"PYTHON={python}")
    assert result.returncode == 0 and "venv" not in result.stdout


def test_another_python_recreates_the_venv(checkout):
    python = fake_python(checkout / "py" / "python3.12", (3, 12))
    result = make(checkout, "-n", "setup", f"PYTHON={python}")
    assert result.returncode == 0, result.stderr
    assert f"{python} -m venv --clear .venv" in result.stdout
    assert "--quiet" not in result.stdout and "--progress-bar on" in result.stdout


def test_without_python_on_the_command_line_the_venv_is_left_alone(checkout):
    assert "venv" not in make(checkout, "-n", "setup").stdout


def test_a_python_too_old_or_missing_is_refused_in_one_line(checkout):
    for python in (fake_python(checkout / "py" / "python3.10", (3, 10)), checkout / "py" / "no-such-python"):
        result = make(checkout, "setup", f"PYTHON={python}")
        assert result.returncode != 0
        assert result.stderr.splitlines()[0] == (
            f"error: PYTHON={python} is not a Python 3.11 or newer on PATH: install one or name it, "
            f"e.g. make test PYTHON=python3.12")
        assert not (checkout / ".venv" / "bin" / "pip").exists()
