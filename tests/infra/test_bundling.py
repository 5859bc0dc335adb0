"""The pip bundler installs exactly the wheels its lock file names, each checked against the lock's hashes,
and ships bytecode only for the Lambda runtime's Python, in a form Lambda loads as is.

Each test bundles a small source tree whose requirements.txt lists nothing, or wheels made here and found
with --no-index, so pip needs no network (the integration test bundles the real sources from the index).
"Runtime versions" here are parameters: this machine's interpreter stands in for Lambda's python3.14
where a test needs the bytecode path.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from stacks import python_lambda
from stacks.python_lambda import BRIDGE_SOURCE, RUNTIME_PYTHON, SKILL_SOURCE, Bytecode, PipBundler, bytecode_for
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
    return subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=asset,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(asset), "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=60,
    ).stdout


def make_wheel(directory: Path, name: str, version: str, requires: tuple[str, ...] = ()) -> tuple[Path, str]:
    """A pure-Python wheel of package `name`, declaring `requires`, and the sha256 a lock would list for it."""
    dist = f"{name}-{version}"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {requirement}\n" for requirement in requires),
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{dist}.dist-info/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{dist}.dist-info/RECORD"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def lock(source: Path, wheels: Path, *lines: str) -> None:
    """The source's requirements.txt: `lines`, served from `wheels` only."""
    (source / "requirements.txt").write_text("\n".join(["--no-index", f"--find-links {wheels}", *lines]) + "\n")


def shipped_distributions(asset: Path) -> list[str]:
    return sorted(
        f"{canonicalize_name(d.name.split('-')[0])}=={d.name.removesuffix('.dist-info').split('-')[1]}"
        for d in asset.glob("*.dist-info")
    )


def test_the_asset_holds_exactly_the_wheels_the_lock_names(source, tmp_path):
    """The lock is the whole resolution: a dependency the wheel declares is not resolved again on the build
    machine (whose Python is not Lambda's), so the asset holds the locked packages and nothing else."""
    wheels = tmp_path / "wheels"
    _, digest = make_wheel(wheels, "locked", "1.0", requires=("unlocked>=2",))
    make_wheel(wheels, "unlocked", "2.0")
    lock(source, wheels, f"locked==1.0 --hash=sha256:{digest}")
    asset = bundle(source, tmp_path / "asset", THIS_PYTHON)
    assert shipped_distributions(asset) == ["locked==1.0"]
    assert run_from(asset, "import locked; print(locked.VERSION)") == "1.0\n"


def test_a_wheel_whose_hash_the_lock_does_not_list_fails_the_bundle(source, tmp_path):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, "locked", "1.0")
    lock(source, wheels, f"locked==1.0 --hash=sha256:{hashlib.sha256(b'another build').hexdigest()}")
    with pytest.raises(RuntimeError, match=r"(?s)pip could not bundle src for Lambda.*DO NOT MATCH THE HASHES"):
        bundle(source, tmp_path / "asset", THIS_PYTHON)
    assert not (tmp_path / "asset" / "locked").exists()


def test_a_requirement_without_a_hash_fails_the_bundle(source, tmp_path):
    wheels = tmp_path / "wheels"
    _, digest = make_wheel(wheels, "locked", "1.0")
    make_wheel(wheels, "unhashed", "1.0")
    lock(source, wheels, f"locked==1.0 --hash=sha256:{digest}", "unhashed==1.0")
    with pytest.raises(RuntimeError, match=r"(?s)pip could not bundle src.*Hashes are required in --require-hashes"):
        bundle(source, tmp_path / "asset", THIS_PYTHON)
    assert not (tmp_path / "asset" / "locked").exists()


def _lock_pins(requirements: Path) -> list[str]:
    return sorted(
        f"{canonicalize_name(name)}=={version}"
        for name, version in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", requirements.read_text(), re.M)
    )


@pytest.mark.integration
@pytest.mark.parametrize("source_dir", [SKILL_SOURCE, BRIDGE_SOURCE], ids=["skill", "bridge"])
def test_the_real_assets_install_their_locks_wheels_for_lambda(source_dir, tmp_path):
    """From the package index, as `cdk synth` bundles: the lock's hashes cover the wheels pip picks for
    Lambda's Python on arm64, and the compiled ones are built for it."""
    asset = bundle(source_dir, tmp_path / "asset", RUNTIME_PYTHON)
    assert shipped_distributions(asset) == _lock_pins(source_dir / "requirements.txt")
    tag = python_lambda._cache_tag(RUNTIME_PYTHON)
    extensions = list(asset.rglob("*.so"))
    assert extensions, "the asset holds no compiled extension: the check below would prove nothing"
    # Each compiled module is an arm64 ELF (e_machine 183, EM_AARCH64), whatever its file name says (an abi3
    # module such as cryptography's _rust.abi3.so names no architecture); a versioned one names Lambda's Python.
    assert {path.name: _elf_machine(path) for path in extensions} == dict.fromkeys(
        (path.name for path in extensions), _EM_AARCH64
    )
    assert all("abi3" in path.name or f"{tag}-aarch64-linux-gnu" in path.name for path in extensions), extensions


_EM_AARCH64 = 183


def _elf_machine(path: Path) -> int:
    """The ELF header's e_machine: the architecture a shared object was built for."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


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
    assert run_from(asset, "import lambda_function; print(lambda_function.lambda_handler({}, None))") == "from source\n"
    assert pycs(asset) == before


def test_tracebacks_name_the_files_where_lambda_unpacks_them(source, tmp_path):
    asset = bundle(source, tmp_path / "asset", THIS_PYTHON)
    code = "import marshal\nwith open(%r, 'rb') as f:\n    print(marshal.loads(f.read()[16:]).co_filename)"
    pyc = next(path for path in pycs(asset) if path.name.startswith("core."))
    assert run_from(asset, code % str(pyc)) == "/var/task/app/core.py\n"


def test_no_interpreter_of_the_runtime_version_ships_no_bytecode_and_says_so_once(
    source, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    first = bundle(source, tmp_path / "skill", ABSENT_PYTHON)
    second = bundle(source, tmp_path / "bridge", ABSENT_PYTHON)
    assert pycs(first) == pycs(second) == []
    assert run_from(first, "import lambda_function; print(lambda_function.lambda_handler({}, None))") == "from source\n"
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
    patterns = [
        os.path.expanduser("~/.pyenv/versions/3.*/bin/python3.*"),
        "/usr/bin/python3.*",
        "/usr/local/bin/python3.*",
    ]
    for path in sorted(p for pattern in patterns for p in glob.glob(pattern)):
        version = Path(path).name.removeprefix("python")
        if (
            version.count(".") == 1
            and version.replace(".", "").isdigit()
            and version != THIS_PYTHON
            and tuple(map(int, version.split("."))) >= (3, 8)
        ):
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
