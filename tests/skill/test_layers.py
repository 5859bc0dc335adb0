"""The skill's layers. Read from each module's import statements (ast, nothing executed): the domain
modules at nest_skill/ (thermostats, temperatures, controls, sdm_errors, sdm_client, account, config)
import neither front door, and neither door imports the other; data flows one way, doors use the
domain, never the reverse. Loaded in a fresh interpreter: the domain's rules load neither HTTP nor the
Alexa SDK, and the entry point loads no boto3."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
PACKAGE = LAMBDA_SRC / "nest_skill"
DOORS = ("nest_skill.custom_skill", "nest_skill.smart_home")
DOMAIN = sorted(path for path in PACKAGE.glob("*.py") if path.name != "__init__.py")


def imported(path: Path, root: Path = LAMBDA_SRC) -> set[str]:
    """Every module `path` imports, anywhere in it (functions included), relative imports resolved
    against its place under `root`; for `from package import name`, both the package and
    `package.name` (the name may be a module)."""
    parts = path.relative_to(root).with_suffix("").parts
    package = list(parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            anchor = package[:len(package) - node.level + 1] if node.level else []
            base = ".".join([*anchor, node.module] if node.module else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_relative_and_late_imports_are_seen(tmp_path):
    module = tmp_path / "nest_skill" / "thermostats.py"
    module.parent.mkdir()
    module.write_text("from .custom_skill import speech\nfrom . import smart_home\n\n"
                      "def late():\n    import nest_skill.smart_home.errors\n")
    assert {"nest_skill.custom_skill.speech", "nest_skill.smart_home",
            "nest_skill.smart_home.errors"} <= imported(module, tmp_path)


def test_the_shared_domain_sits_beside_both_doors():
    assert {"thermostats", "temperatures", "controls", "sdm_errors", "sdm_client", "account",
            "config"} <= {path.stem for path in DOMAIN}
    for door in DOORS:
        assert (LAMBDA_SRC / door.replace(".", "/") / "__init__.py").is_file()


@pytest.mark.parametrize("path", DOMAIN, ids=lambda path: path.stem)
def test_a_domain_module_imports_neither_door(path):
    assert sorted(name for name in imported(path) if any(inside(name, door) for door in DOORS)) == []


@pytest.mark.parametrize("door", DOORS)
def test_a_door_imports_the_domain_but_never_the_other_door(door):
    [other] = [d for d in DOORS if d != door]
    modules = sorted((LAMBDA_SRC / door.replace(".", "/")).glob("*.py"))
    assert {path.name: sorted(name for name in imported(path) if inside(name, other)) for path in modules} == {
        path.name: [] for path in modules}
    domain = [f"nest_skill.{path.stem}" for path in DOMAIN]
    assert any(inside(name, module) for path in modules for name in imported(path) for module in domain)


def test_the_domain_layer_imports_neither_http_nor_the_alexa_sdk():
    code = ("import sys; import nest_skill.thermostats, nest_skill.temperatures, nest_skill.controls; "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('requests', 'urllib3', 'ask_sdk_core', 'ask_sdk_model')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "lambda_src", capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_the_entry_point_loads_no_boto3():
    code = "import sys, lambda_function; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "lambda_src", capture_output=True, text=True,
                            check=True, timeout=60, env={"NEST_PROJECT_ID": "p", "PATH": ""})
    assert result.stdout.strip() == "False False"
