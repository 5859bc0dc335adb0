"""The static checks (`make check`): ruff's linter and formatter and mypy, run before any test by `make test`
(so by CI, `.ci/run`), and configured in pyproject.toml with the rules the project holds itself to:
pyupgrade and isort for the minimum Python, `--strict` on the skill's domain modules and the whole bridge,
and a reason beside every exception to them. mypy's and ruff's findings themselves are `make check`'s to
report, not these tests'."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from mypy import config_parser
from mypy.main import define_options
from mypy.options import Options

from tests.make_env import make_env

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Everything `make setup` checks before it counts as done (the venv and node_modules stamps' inputs).
SETUP_INPUTS = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-lambda-tests.txt",
    "lambda_src/requirements.txt",
    "bridge_src/requirements.txt",
    "package.json",
    "package-lock.json",
)
# The directories the checkers skip: installed packages, generated output, mutmut's copies.
NOT_OURS = {".git", ".venv", "node_modules", "cdk.out", "build", "mutants", "__pycache__"}


@pytest.fixture
def checkout(tmp_path) -> Path:
    """The Makefile with a set-up already done, and stand-ins for the venv's python, ruff and mypy that
    record each call in `calls` and fail when named in the FAIL environment variable."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    earlier = time.time() - 60
    for name in SETUP_INPUTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
        os.utime(tmp_path / name, (earlier, earlier))
    for stamp in (tmp_path / ".venv" / ".installed", tmp_path / "node_modules" / ".installed"):
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    for tool in ("python", "ruff", "mypy"):
        script = tmp_path / ".venv" / "bin" / tool
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> calls\ncase " $FAIL " in *" {tool} "*) exit 1;; esac\n')
        script.chmod(0o755)
    return tmp_path


def make(checkout: Path, *args: str, fail: str = "") -> subprocess.CompletedProcess[str]:
    env = make_env(FAIL=fail)
    return subprocess.run(["make", *args], cwd=checkout, env=env, capture_output=True, text=True, timeout=60)


def calls(checkout: Path) -> list[str]:
    log = checkout / "calls"
    return log.read_text().splitlines() if log.exists() else []


def test_make_check_lints_checks_the_format_then_type_checks_both_lambda_roots(checkout):
    result = make(checkout, "check")
    assert result.returncode == 0, result.stderr
    assert calls(checkout) == [
        "ruff check .",
        "ruff format --check .",
        "mypy ",
        "mypy --no-warn-unused-configs bridge_src",
    ]


def test_make_test_runs_the_static_checks_before_any_test(checkout):
    commands = make(checkout, "-n", "test").stdout.splitlines()
    ruff, pytest_ = commands.index(".venv/bin/ruff check ."), commands.index(".venv/bin/python -m pytest ")
    assert ruff < pytest_
    assert commands.index(".venv/bin/mypy --no-warn-unused-configs bridge_src") < pytest_


def test_pre_commit_runs_the_static_checks_of_make_check():
    """Each `make check` command is a local pre-commit hook (ruff given the staged files, mypy its roots)."""
    dry_run = subprocess.run(
        ["make", "-n", "check"], cwd=ROOT, env=make_env(), capture_output=True, text=True, timeout=60
    )
    checks = [line for line in dry_run.stdout.splitlines() if line.startswith((".venv/bin/ruff", ".venv/bin/mypy"))]
    hooks = [
        hook
        for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
        for hook in repo["hooks"]
    ]
    entries = [hook["entry"] for hook in hooks if hook["entry"].startswith((".venv/bin/ruff", ".venv/bin/mypy"))]
    assert len(checks) == 4
    for check in checks:
        assert any(entry.startswith(check.removesuffix(" .")) for entry in entries), check
    assert all(hook.get("pass_filenames") is False for hook in hooks if hook["entry"].startswith(".venv/bin/mypy"))


@pytest.mark.parametrize("failing", ["ruff", "mypy"])
def test_a_static_check_that_fails_fails_make_test_and_no_test_runs(checkout, failing):
    result = make(checkout, "test", fail=failing)
    assert result.returncode != 0
    assert any(call.startswith(failing) for call in calls(checkout))
    assert not any(call.startswith("python -m pytest") for call in calls(checkout))


def test_ruff_lints_and_upgrades_for_the_minimum_python():
    ruff = PYPROJECT["tool"]["ruff"]
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert minimum, PYPROJECT["project"]["requires-python"]
    assert ruff["target-version"] == f"py{minimum[1]}{minimum[2]}"
    assert PYPROJECT["tool"]["mypy"]["python_version"] == f"{minimum[1]}.{minimum[2]}"
    # pycodestyle, Pyflakes, isort (import sorting), pyupgrade, bugbear, simplify, Ruff's own rules.
    assert {"E", "W", "F", "I", "UP", "B", "SIM", "RUF"} <= set(ruff["lint"]["select"])
    assert not ruff["lint"].get("ignore"), "a rule switched off for every file needs its reason beside it"
    # The Lambda roots' packages are first-party to isort, as they import on Lambda.
    assert {"lambda_src", "bridge_src"} <= set(ruff["src"])


def mypy_options() -> Options:
    """pyproject.toml read by mypy's own parser, as `mypy` from the repository root reads it."""
    options, stderr = Options(), io.StringIO()
    config_parser.parse_config_file(options, lambda: None, str(ROOT / "pyproject.toml"), io.StringIO(), stderr)
    assert not stderr.getvalue(), stderr.getvalue()
    return options


def module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


DOMAIN = [
    module_name(path, ROOT / "lambda_src")
    for path in sorted((ROOT / "lambda_src" / "nest_skill").glob("*.py"))
    if path.name != "__init__.py"
]
BRIDGE = [
    module_name(path, ROOT / "bridge_src") for path in sorted((ROOT / "bridge_src" / "oauth_bridge").rglob("*.py"))
]


@pytest.mark.parametrize("module", DOMAIN + BRIDGE)
def test_the_skills_domain_modules_and_the_bridge_are_held_to_every_strict_flag(module):
    """Every flag mypy's --strict sets (mypy's own list, so a flag a later mypy adds is asked for too)."""
    options = mypy_options()
    _, _, strict_assignments = define_options()
    checked = options.clone_for_module(module)
    assert {flag: getattr(checked, flag) for flag, _ in strict_assignments} == dict(strict_assignments)


def test_the_domain_modules_are_the_ones_the_layering_names():
    assert {name.removeprefix("nest_skill.") for name in DOMAIN} >= {
        "thermostats",
        "temperatures",
        "controls",
        "sdm_errors",
        "sdm_client",
        "account",
        "config",
    }


def test_every_root_is_type_checked_and_the_untyped_libraries_are_named():
    options = mypy_options()
    assert {"lambda_src", "ops", "stacks", "sandbox"} <= set(options.files or [])
    assert "bridge_src" not in (options.files or []), "the bridge's root is `make check`'s second mypy run"
    assert options.explicit_package_bases
    assert {Path(path).name for path in options.mypy_path} == {"lambda_src", "bridge_src"}
    # An import mypy cannot follow is an error, except for the libraries named in pyproject.toml.
    assert not options.ignore_missing_imports
    assert "ignore-without-code" in options.enable_error_code


def python_files() -> list[Path]:
    return [path for path in ROOT.rglob("*.py") if not NOT_OURS & set(path.relative_to(ROOT).parts)]


# A type-ignore comment with its error codes, or a noqa comment with its rule codes; then the rest of
# the line: the reason.
SILENCED = re.compile(r"#\s*(?:type:\s*ignore\[[\w\-, ]+\]|noqa:\s*[A-Z]+\d+(?:\s*,\s*[A-Z]+\d+)*)(?P<reason>.*)$")


def test_every_silenced_finding_says_why_on_its_line():
    unexplained = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in python_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if (found := SILENCED.search(line)) and not re.search(r"\w", found["reason"])
    ]
    assert unexplained == []


def test_every_per_file_exception_in_the_configuration_says_why():
    """Each entry of ruff's per-file-ignores and each mypy override has a comment just above it."""
    lines = (ROOT / "pyproject.toml").read_text().splitlines()
    unexplained = []
    in_ignores = False
    for number, line in enumerate(lines):
        if line.startswith("["):
            in_ignores = line.strip() == "[tool.ruff.lint.per-file-ignores]"
            if line.strip() == "[[tool.mypy.overrides]]" and not lines[number - 1].startswith("#"):
                unexplained.append(line)
        elif in_ignores and re.match(r'\s*"[^"]+"\s*=', line) and not lines[number - 1].lstrip().startswith("#"):
            unexplained.append(line)
    assert unexplained == []
