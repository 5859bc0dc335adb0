"""The Makefile's set-up rules, dry-run (`make -n`) in a scratch copy with a stand-in .venv: a
`PYTHON=` naming another interpreter recreates the venv; an unusable one is refused in one line; pip
installs in hash-checking mode. And `make lock`, run for real there with the venv's uv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.make_env import make_env

ROOT = Path(__file__).resolve().parents[2]
LOCKS = (
    "requirements-dev.txt",
    "requirements.txt",
    "requirements-lambda-tests.txt",
    "lambda_src/requirements.txt",
    "bridge_src/requirements.txt",
)
REQUIREMENTS = (*LOCKS, *(lock.removesuffix(".txt") + ".in" for lock in LOCKS), "package.json", "package-lock.json")


def fake_python(path: Path, version: tuple[int, int]) -> Path:
    """An interpreter stand-in that answers the Makefile's version questions as Python `version` would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!/bin/sh\ncase \"$*\" in\n  --version) echo 'Python {version[0]}.{version[1]}.0';;\n"
        f"  *version_info\\ \\<*) exit {int(version < (3, 11))};;\n"
        f"  *) echo '({version[0]}, {version[1]})';;\nesac\n"
    )
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
    return subprocess.run(["make", *args], cwd=checkout, env=make_env(), capture_output=True, text=True, timeout=60)


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
            f"e.g. make test PYTHON=python3.12"
        )
        assert not (checkout / ".venv" / "bin" / "pip").exists()


def test_setup_installs_every_package_with_hash_checking(checkout):
    """The only install is the dev lock's, each file checked against its hash: no bare `pip install --upgrade`."""
    python = fake_python(checkout / "py" / "python3.12", (3, 12))
    installs = [
        line for line in make(checkout, "-n", "setup", f"PYTHON={python}").stdout.splitlines() if "pip install" in line
    ]
    assert installs == [
        ".venv/bin/pip install --disable-pip-version-check --progress-bar on --require-hashes -r requirements-dev.txt"
    ]


def _with_uv(checkout: Path) -> Path:
    uv = ROOT / ".venv" / "bin" / "uv"
    if not uv.exists():
        pytest.fail("the venv has no uv: `make setup` installs it from requirements-dev.txt")
    (checkout / ".venv" / "bin" / "uv").symlink_to(uv)
    return checkout


def make_lock(checkout: Path) -> subprocess.CompletedProcess:
    """`make lock` with the real venv's uv and Python (the scratch venv's python is a stand-in)."""
    return make(_with_uv(checkout), "lock", f"PY={ROOT / '.venv' / 'bin' / 'python'}")


def _locks(root: Path) -> dict[str, str]:
    return {name: (root / name).read_text(encoding="utf-8") for name in LOCKS}


@pytest.mark.integration
def test_make_lock_on_the_committed_files_changes_nothing(checkout):
    """The locks are what `make lock` makes of the .in files (resolved again from the package index)."""
    result = make_lock(checkout)
    assert result.returncode == 0, result.stderr
    assert _locks(checkout) == _locks(ROOT)


@pytest.mark.integration
def test_a_pin_added_to_an_in_file_reaches_every_lock_that_includes_it(checkout):
    """Adding a top-level dependency is an edit of one .in file and `make lock`: the skill's lock, the Lambda
    tests' and the dev lock (which include it by -r) gain it with the same hashes; the CDK's does not."""
    with (checkout / "lambda_src" / "requirements.in").open("a") as source:
        source.write("python-json-logger==4.2.0\n")
    result = make_lock(checkout)
    assert result.returncode == 0, result.stderr
    entries = {
        name: re.search(r"^python-json-logger==4\.2\.0 \\\n((?:    --hash=sha256:\w+.*\n)+)", text, re.M)
        for name, text in _locks(checkout).items()
    }
    assert entries["requirements.txt"] is None
    hashes = {name: entry.group(1) for name, entry in entries.items() if entry}
    assert sorted(hashes) == [
        "bridge_src/requirements.txt",
        "lambda_src/requirements.txt",
        "requirements-dev.txt",
        "requirements-lambda-tests.txt",
    ]
    assert len(set(hashes.values())) == 1


def test_the_locks_are_resolved_from_the_projects_oldest_python():
    """`make lock` resolves for every Python from LOCK_PYTHON on: the oldest the project supports (pyproject)."""
    lock_python = re.search(r"^LOCK_PYTHON := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    floor = re.search(r'^requires-python = ">=(\S+)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert lock_python.split(".")[:2] == floor.split(".")[:2]


def test_make_ask_runs_the_pinned_ask_cli_with_its_arguments(checkout):
    """Run as ask-cli's own `ask configure` would be; `npx ask` before set-up fetches npm's unrelated `ask`."""
    result = make(checkout, "ask", "ARGS=configure --no-browser")
    assert result.returncode != 0  # the scratch copy has no node_modules/.bin/ask: make ran exactly that path
    assert f"{checkout}/node_modules/.bin/ask configure --no-browser" in result.stdout
    (checkout / "node_modules" / ".installed").unlink()
    assert make(checkout, "-n", "ask").stdout.splitlines()[-2:] == [
        "touch node_modules/.installed",
        f"{checkout}/node_modules/.bin/ask ",
    ]


def test_make_clean_keeps_the_owners_settings_and_removes_the_build(checkout):
    (checkout / "build" / "ask-project" / ".ask").mkdir(parents=True)
    (checkout / "build" / "ask-project" / ".ask" / "ask-states.json").write_text("{}")
    settings = checkout / "nest-skill.json"
    settings.write_text('{"skill_id": "amzn1.ask.skill.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}')

    assert make(checkout, "clean").returncode == 0

    assert not (checkout / "build").exists()
    assert settings.read_text() == '{"skill_id": "amzn1.ask.skill.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}'
