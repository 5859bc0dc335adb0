"""The pip bundler ships bytecode only for the Lambda runtime's Python, in a form Lambda loads as is.

Each test bundles a small source tree whose requirements.txt lists nothing, so pip needs no network.
"Runtime versions" here are parameters: this machine's interpreter stands in for Lambda's python3.14
where a test needs the bytecode path.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks import python_lambda
from stacks.python_lambda import RUNTIME_PYTHON, Bytecode, PipBundler, bytecode_for
from tests.infra.conftest import build_app

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# A version no interpreter on the test's PATH has: the runtime's, unless this interpreter is that one.
ABSENT_PYTHON = RUNTIME_PYTHON if RUNTIME_PYTHON != THIS_PYTHON else "3.99"
SOURCES = {
    "requirements.txt": "# nothing to install\n",
    "lambda_function.py": "from app import answer\n\ndef lambda_handler(event, context):\n    return answer()\n",
    "app/__init__.py": "from app.core import answer\n",
    "app/core.py": "def answer():\n    return 'from source'\n",
}
MODULES = [name for name in SOURCES if name.endswith(".py")]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for name, text in SOURCES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture(autouse=True)
def fresh_notice():
    python_lambda._announce_no_bytecode.cache_clear()
    yield
    python_lambda._announce_no_bytecode.cache_clear()


def bundle(source: Path, out: Path, version: str) -> Path:
    assert PipBundler(source, version).try_bundle(str(out), image=None)
    return out


def pycs(tree: Path) -> list[Path]:
    return sorted(tree.rglob("*.pyc"))


def run_from(asset: Path, code: str) -> str:
    """A fresh interpreter on the asset alone that writes no bytecode, as in Lambda's read-only /var/task."""
    return subprocess.run([sys.executable, "-S", "-c", code], cwd=asset, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(asset), "PYTHONDONTWRITEBYTECODE": "1"}, timeout=60).stdout


def test_bytecode_for_this_python_is_compiled_by_this_interpreter():
    assert bytecode_for(THIS_PYTHON) == Bytecode(THIS_PYTHON, sys.executable)
    assert bytecode_for(THIS_PYTHON).cache_tag == sys.implementation.cache_tag


def test_runtime_python_is_the_lambda_runtime_version():
    assert f"python{RUNTIME_PYTHON}" == python_lambda.LAMBDA_RUNTIME.name


def test_every_module_ships_an_unchecked_hash_pyc_for_the_runtime(source, tmp_path):
    asset = bundle(source, tmp_path / "asset", THIS_PYTHON)
    tag = sys.implementation.cache_tag
    expected = sorted(asset / Path(name).parent / "__pycache__" / f"{Path(name).stem}.{tag}.pyc" for name in MODULES)
    assert pycs(asset) == expected
    for pyc in expected:
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{pyc.name}: PEP 552 flags {flags:#04b}, expected hash-based and unchecked"


def test_lambda_loads_the_shipped_bytecode_without_compiling(source, tmp_path):
    """The pyc is what runs: a source edited after bundling is not even looked at (unchecked hash), so
    nothing is compiled at a cold start; and nothing is written next to it."""
    asset = bundle(source, tmp_path / "asset", THIS_PYTHON)
    (asset / "app" / "core.py").write_text("def answer():\n    return 'recompiled'\n")
    before = pycs(asset)
    assert run_from(asset, "import lambda_function; print(lambda_function.lambda_handler({}, None))") == \
        "from source\n"
    assert pycs(asset) == before


def test_tracebacks_name_the_files_where_lambda_unpacks_them(source, tmp_path):
    asset = bundle(source, tmp_path / "asset", THIS_PYTHON)
    code = "import marshal\nwith open(%r, 'rb') as f:\n    print(marshal.loads(f.read()[16:]).co_filename)"
    pyc = next(path for path in pycs(asset) if path.name.startswith("core."))
    assert run_from(asset, code % str(pyc)) == "/var/task/app/core.py\n"


def test_no_interpreter_of_the_runtime_version_ships_no_bytecode_and_says_so_once(source, tmp_path, monkeypatch,
                                                                                capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    first = bundle(source, tmp_path / "skill", ABSENT_PYTHON)
    second = bundle(source, tmp_path / "bridge", ABSENT_PYTHON)
    assert pycs(first) == pycs(second) == []
    assert run_from(first, "import lambda_function; print(lambda_function.lambda_handler({}, None))") == \
        "from source\n"
    notices = capsys.readouterr().err.splitlines()
    assert notices == [Bytecode(ABSENT_PYTHON, None).notice]
    assert f"no python{ABSENT_PYTHON} found" in notices[0] and f"Put python{ABSENT_PYTHON} on PATH" in notices[0]


def test_a_python_of_another_version_under_the_runtime_name_is_not_used(source, tmp_path, monkeypatch, capsys):
    """Stale bytecode is worse than none: `python3.x` on PATH must really be CPython 3.x."""
    impostor = tmp_path / "bin" / f"python{ABSENT_PYTHON}"
    impostor.parent.mkdir()
    impostor.symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(impostor.parent))
    assert bytecode_for(ABSENT_PYTHON).interpreter is None
    assert pycs(bundle(source, tmp_path / "asset", ABSENT_PYTHON)) == []
    assert capsys.readouterr().err.count("no python") == 1


def _other_interpreters() -> list[str]:
    """Real CPython interpreters of other versions on this machine (pyenv, the system's), one per version."""
    found: dict[str, str] = {}
    patterns = [os.path.expanduser("~/.pyenv/versions/3.*/bin/python3.*"), "/usr/bin/python3.*",
                "/usr/local/bin/python3.*"]
    for path in sorted(p for pattern in patterns for p in glob.glob(pattern)):
        version = Path(path).name.removeprefix("python")
        if version.count(".") == 1 and version.replace(".", "").isdigit() and version != THIS_PYTHON \
                and tuple(map(int, version.split("."))) >= (3, 8):
            found.setdefault(version, path)
    return sorted(found.values())


@pytest.mark.skipif(not _other_interpreters(), reason="no CPython of another version on this machine")
def test_the_runtime_version_on_path_compiles_when_this_interpreter_is_another(source, tmp_path, monkeypatch):
    """The CI deploy job's case: the CDK runs on the tooling's Python, python3.14 is on PATH beside it."""
    other = _other_interpreters()[-1]
    version = Path(other).name.removeprefix("python")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / f"python{version}").symlink_to(other)
    monkeypatch.setenv("PATH", str(bin_dir))
    asset = bundle(source, tmp_path / "asset", version)
    tag = "cpython-" + version.replace(".", "")
    assert sorted(pyc.name for pyc in pycs(asset)) == sorted(f"{Path(name).stem}.{tag}.pyc" for name in MODULES)


def _function_code_keys(tmp_path: Path, name: str) -> dict[str, str]:
    app, stacks = build_app({}, tmp_path / name)
    assembly = app.synth()
    keys = {}
    for stack in (stacks.skill, stacks.bridge):
        template = assembly.get_stack_by_name(stack.stack_name).template
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::Lambda::Function" and "S3Key" in resource["Properties"]["Code"]:
                keys[f"{stack.stack_name}/{logical_id}"] = resource["Properties"]["Code"]["S3Key"]
    return keys


def test_shipping_bytecode_or_not_makes_a_different_asset(tmp_path, monkeypatch):
    """Otherwise a deploy with bytecode after one without would find the asset already uploaded, and
    Lambda would keep compiling at every cold start until the sources change."""
    monkeypatch.setattr(python_lambda, "bytecode_for", lambda version: Bytecode(version, None))
    without = _function_code_keys(tmp_path, "without")
    monkeypatch.setattr(python_lambda, "bytecode_for", lambda version: Bytecode(version, "/usr/bin/python3.14"))
    with_bytecode = _function_code_keys(tmp_path, "with")
    assert without.keys() == with_bytecode.keys() and len(without) == 2
    assert all(without[key] != with_bytecode[key] for key in without)
