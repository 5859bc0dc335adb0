"""tools/mutation.py, behind `make mutation` and `make mutation-constants`: a run mutmut does not finish leaves
the generated table as it was; which module-level constants get which mutant, and which functions' tests are run
for it (the pure parts: running the mutants means running pytest, which is not done here)."""

from __future__ import annotations

import ast
import subprocess
from collections import Counter

import pytest

from tools import mutation as driver
from tools.mutation import constants, loosened, mutation, selected_tests, spliced, users

SOURCE = '''\
"""Docstring naming LIMIT, which is no use of it."""
import re

LIMIT = 600
_RATE: float = 1.5
NONE_YET = 0.0
OFFSET = -2
BODY = 64 * 1024
ON = True
PREFIX = "sealed2~"
SIGN = "°"
HOSTS = ("a.example", "b.example")
GATEWAY = frozenset({502, 503})
PAGES = {"a": 1, "b": 2}
PATTERN = re.compile(r"^[a-z]{1,61}$")
ANCHORED = re.compile(r"^[0-9]+\\Z")
CONTROL = re.compile(r"[\\x00-\\x1f]", re.IGNORECASE)
DERIVED = LIMIT * 2
CALLED = int("3")
BY_KIND = {kind: 1 for kind in "ab"}
EMPTY = ()
lower = 1
if True:
    NESTED = 1
'''


def mutants(source: str) -> dict[str, str]:
    """Each constant's mutated line (its mutant's source, for one-line values), or why it has none."""
    encoded = source.encode()
    result = {}
    for name, value in constants(ast.parse(encoded)):
        change = mutation(value)
        if isinstance(change, str):
            result[name] = change
        else:
            mutated = spliced(encoded, *change).decode()
            compile(mutated, "<mutant>", "exec")
            result[name] = mutated.splitlines()[value.lineno - 1]
    return result


def test_each_kind_of_constant_gets_its_one_mutant_or_a_reason():
    assert mutants(SOURCE) == {
        "LIMIT": "LIMIT = 601",
        "_RATE": "_RATE: float = 1.65",
        "NONE_YET": "NONE_YET = 1.0",
        "OFFSET": "OFFSET = -1",
        "BODY": "BODY = 65537",
        "ON": "ON = False",
        "PREFIX": "PREFIX = 'sealed2~X'",
        "SIGN": "SIGN = '°X'",
        "HOSTS": "HOSTS = ('a.example',)",
        "GATEWAY": "GATEWAY = frozenset({502})",
        "PAGES": "PAGES = {'a': 1}",
        "PATTERN": "PATTERN = re.compile('^[a-z]{1,62}$')",
        "ANCHORED": "ANCHORED = re.compile('^[0-9]+')",
        "CONTROL": "CONTROL = re.compile('[\\\\x00-\\\\x1f]|X', re.IGNORECASE)",
        "DERIVED": "derived from LIMIT",
        "CALLED": "a call to int",
        "BY_KIND": "a comprehension",
        "EMPTY": "an empty display",
    }


def test_a_pattern_is_loosened_at_its_first_bound_else_its_end_anchor_else_by_an_alternative():
    assert loosened(r"^[a-z]{0,9}x{2,3}$") == r"^[a-z]{0,10}x{2,3}$"
    assert loosened(r"^\{1,2\}$") == r"^\{1,2\}"
    assert loosened(r"^a+\$") == r"^a+\$|X"
    assert loosened(r"a+\Z") == r"a+"


SERVICE = (
    ("pkg.sealed_state", ast.parse("LIMIT = 1\ndef f():\n    return LIMIT\ndef g():\n    return 2\n")),
    (
        "pkg.app",
        ast.parse(
            "from pkg import sealed_state\nclass C:\n    def m(self):\n"
            "        return sealed_state.LIMIT\n    def n(self):\n        return 3\n"
        ),
    ),
)
STATS = {
    "tests_by_mangled_function_name": {
        "pkg.sealed_state.x_f": ["t::slow", "t::quick"],
        "pkg.app.xǁCǁm": ["t::quick", "t::new"],
        "pkg.sealed_state.x_g": ["t::g"],
    },
    "duration_by_test": {"t::slow": 2.0, "t::quick": 0.1, "t::g": 0.1},
}


def test_the_tests_run_are_those_of_the_functions_and_methods_using_the_name_fastest_first():
    assert users(SERVICE[1][1], "pkg.app", "LIMIT") == ({"pkg.app.xǁCǁm"}, False)
    assert selected_tests(SERVICE, "LIMIT", STATS) == ["t::new", "t::quick", "t::slow"]


def test_a_use_at_import_or_in_an_untraced_function_asks_for_the_whole_suite():
    assert users(ast.parse("LIMIT = 1\nTWICE = LIMIT * 2\n"), "m", "LIMIT") == (set(), True)
    assert users(ast.parse("LIMIT = 1\nclass C:\n    size = LIMIT\n"), "m", "LIMIT") == (set(), True)
    decorated = ("pkg.x", ast.parse("import functools\n@functools.cache\ndef h():\n    return LIMIT\n"))
    assert selected_tests((*SERVICE, decorated), "LIMIT", STATS) is None
    assert selected_tests(SERVICE, "LIMIT", {}) is None
    assert selected_tests(SERVICE, "UNUSED", STATS) is None


@pytest.mark.parametrize("returncode, written", [(0, True), (1, False)], ids=["finished", "failed"])
def test_the_table_is_written_only_when_mutmut_finishes(monkeypatch, capsys, returncode, written):
    """mutmut exits 1 when its clean run of the tests fails: every mutant is then "not run", and writing that
    would replace the module's last scores."""
    tables = []
    monkeypatch.setattr(driver.subprocess, "run", lambda command, cwd: subprocess.CompletedProcess(command, returncode))
    monkeypatch.setattr(driver, "score", lambda path: (Counter({"not run": 5} if returncode else {"killed": 5}), []))
    monkeypatch.setattr(driver, "write_table", lambda paths: tables.append(paths) or driver.GENERATED / "mutation.md")
    module = "bridge_src/oauth_bridge/alexa_redirects.py"
    assert driver.main(["--module", module]) == returncode
    assert (tables == [[driver.Path(module)]]) is written
    assert ("keep their figures" in capsys.readouterr().out) is not written
