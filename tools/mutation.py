"""`make mutation`: run mutmut on one module or one service and print each module's score.

    python -m tools.mutation [--module lambda_src/nest_skill/temperatures.py] [--service skill|bridge] [--jobs 2]
    python -m tools.mutation show NAME      (any mutmut command: results, show, browse, run)

mutmut (configured in pyproject.toml's [tool.mutmut]) copies the tree into mutants/, generates every
mutant of the chosen modules and runs, per mutant, only the unit tests that reach the mutated function
(integration tests excluded). A module's score is killed / (killed + survived + no tests); timeouts and
the type checker count as killed, as mutmut counts them. Survivors are listed by name: `mutmut show NAME`
prints the diff.

    python -m tools.mutation constants [--module PATH ...] [--service skill|bridge]

mutmut leaves module-level constants alone: `constants` gives each UPPER_CASE one a mutant of its own
(see `mutation`), runs the unit tests that reach a function naming it in a scratch copy of the tree, and
prints, per module, the constants whose change no test notices.

`make mutation` also writes each module's figures to docs/generated/mutation.json and the table the docs
include to docs/generated/mutation.md (`write_table`), keeping the rows of modules not run this time; a run
mutmut does not finish (its clean test run fails, say) leaves both files as they were.
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"skill": ROOT / "lambda_src" / "nest_skill", "bridge": ROOT / "bridge_src" / "oauth_bridge"}
_ASSET_ROOTS = ("lambda_src.", "bridge_src.")
"""lambda_src/ and bridge_src/ are on sys.path (as on Lambda), so their modules import as `nest_skill.x`."""
_KILLED = {1, 3, 36, 37, -24, 24, 152, 255}
_SURVIVED = {0}
_NO_TESTS = {5, 33}
UNIT_TESTS = {"skill": ("tests/skill", "tests/smart_home", "tests/live_state"), "bridge": ("tests/bridge",)}
STATS = ROOT / "mutants" / "mutmut-stats.json"
GENERATED = ROOT / "docs" / "generated"
TABLE_HEADER = (
    "<!-- Written by `make mutation` (tools/mutation.py) from mutation.json beside it. Do not edit: "
    "run `make mutation` again. -->\n"
)
_CONSTANT_NAME = re.compile(r"_?[A-Z][A-Z0-9_]*")


def mutmut(args: list[str]) -> None:
    """mutmut's own CLI, naming mutants as the code is imported: mutmut derives a mutant's name from its file
    path (`lambda_src.nest_skill.x`), while its trampolines record the imported module (`nest_skill.x`)."""
    from mutmut.utils import format_utils

    path_name = format_utils.get_mutant_name

    def imported_name(relative_source_path: Path, mutant_method_name: str) -> str:
        name = path_name(relative_source_path, mutant_method_name)
        return next((name.removeprefix(root) for root in _ASSET_ROOTS if name.startswith(root)), name)

    format_utils.get_mutant_name = imported_name
    from mutmut import __main__ as mutmut_main
    from mutmut.runners import harness

    in_any_order = harness.PytestRunner._pytest_args_regular_run

    def fastest_first(runner: harness.PytestRunner, tests: Iterable[str]) -> list[str]:
        """mutmut passes a mutant's tests as a set (any order) with -x: the fastest first, so a mutant
        that also breaks a quick test is killed before a deadline test waits out its hung server."""
        durations = harness.state().duration_by_test
        return in_any_order(runner, sorted(tests, key=lambda test: (durations.get(test, 0.0), test)))

    # mypy refuses any assignment to a method (method-assign, and assignment for the unbound signature):
    # these two patch mutmut's runner on purpose, as described above.
    harness.PytestRunner._pytest_args_regular_run = fastest_first  # type: ignore[method-assign, assignment]  # patch
    harness.PytestRunner.run_stats = _timing_fixtures_too(  # type: ignore[method-assign]  # patch
        harness.PytestRunner.run_stats, harness.state
    )
    from mutmut.mutation import file_mutation

    mutmut_main.get_mutant_name = file_mutation.get_mutant_name = imported_name
    mutmut_main.cli(args)


class FixtureTime:
    """A pytest plugin adding each test's setup and teardown time to `durations` (nodeid -> seconds).
    mutmut times only the test's call, so a mutant's wall-clock limit (5 x its tests' time + 1 s) would
    leave out fixtures such as the bridge's moto bucket (0.6 s a test here): a mutant that survives 80
    such tests would pass for a timeout, i.e. for killed."""

    def __init__(self, durations: dict[str, float]) -> None:
        self.durations = durations

    def pytest_runtest_makereport(self, item: Any, call: Any) -> None:
        if call.when != "call":
            self.durations[item.nodeid] = self.durations.get(item.nodeid, 0.0) + call.duration


def _timing_fixtures_too(run_stats: Callable[..., int], state: Callable[[], Any]) -> Callable[..., int]:
    def with_fixture_time(runner: Any, *, tests: Any) -> int:
        execute = runner.execute_pytest

        def with_plugin(params: list[str], **kwargs: Any) -> int:
            return execute(
                params, **{**kwargs, "plugins": [*kwargs.get("plugins", []), FixtureTime(state().duration_by_test)]}
            )

        runner.execute_pytest = with_plugin
        try:
            return run_stats(runner, tests=tests)
        finally:
            del runner.execute_pytest

    return with_fixture_time


def modules_of(modules: list[str], service: str | None) -> list[Path]:
    """The source files to mutate, relative to the repository root; SystemExit naming the argument when a
    path is not a mutable module."""
    for module in modules:
        path = Path(module)
        if (
            path.suffix != ".py"
            or not (ROOT / path).is_file()
            or not any((ROOT / path).resolve().is_relative_to(root) for root in SERVICES.values())
        ):
            raise SystemExit(
                f"MODULE={module}: expected a .py file under lambda_src/nest_skill/ or bridge_src/oauth_bridge/"
            )
    if modules:
        return [Path(module) for module in modules]
    roots = [SERVICES[service]] if service else list(SERVICES.values())
    return sorted(p.relative_to(ROOT) for root in roots for p in root.rglob("*.py") if p.name != "__init__.py")


def module_name(path: Path) -> str:
    """The module as imported (and as mutmut names its functions): `nest_skill.smart_home.x`."""
    return ".".join(path.with_suffix("").parts[1:])


def mutant_glob(path: Path) -> str:
    """A mutant is `<module as imported>.x_<function>__mutmut_<n>` (methods: `xǁClassǁ...`); the skill's
    smart_home package imports as `nest_skill.smart_home.x`."""
    return module_name(path) + ".x*"


def score(path: Path) -> tuple[Counter, list[str]]:
    """Counts by outcome and the surviving mutants' names, from mutmut's per-module results file."""
    meta = ROOT / "mutants" / path.parent / (path.name + ".meta")
    exit_codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    counts: Counter = Counter()
    survivors = []
    for name, code in exit_codes.items():
        if code in _KILLED:
            counts["killed"] += 1
        elif code in _SURVIVED:
            counts["survived"] += 1
            survivors.append(name)
        elif code in _NO_TESTS:
            counts["no tests"] += 1
            survivors.append(name)
        elif code is None:
            counts["not run"] += 1
        else:
            counts["other"] += 1
    return counts, sorted(survivors)


def module_figures(path: Path) -> dict[str, Any] | None:
    """One module's row: counts by outcome, the score and the survivors, from mutmut's results; None when
    mutmut holds no results for it."""
    counts, survivors = score(path)
    if not counts:
        return None
    judged = counts["killed"] + counts["survived"] + counts["no tests"]
    return {
        "mutants": sum(counts.values()),
        "killed": counts["killed"],
        "survived": counts["survived"],
        "no_tests": counts["no tests"],
        "not_run": counts["not run"],
        "other": counts["other"],
        "score": round(100 * counts["killed"] / judged, 1) if judged else None,
        "survivors": survivors,
    }


def render_table(data: dict[str, Any]) -> str:
    """The Markdown the docs include, from mutation.json's content."""
    modules = data.get("modules", {})
    if not modules:
        return TABLE_HEADER + "\nNot yet measured by the generator: run `make mutation`.\n"
    lines = [
        "| module | mutants | killed | survived | no tests | not run | score | measured |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(modules):
        row = modules[name]
        scored = f"{row['score']:.1f}%" if row["score"] is not None else "–"
        lines.append(
            f"| `{name}` | {row['mutants']} | {row['killed']} | {row['survived']} | {row['no_tests']} | "
            f"{row['not_run']} | {scored} | {row['measured']['date']} |"
        )
    machines = sorted(
        {
            (row["measured"]["date"], row["measured"]["cores"], row["measured"]["cpu_model"], row["measured"]["python"])
            for row in modules.values()
        }
    )
    runs = "\n".join(f"- {date}: {cores} cores ({cpu}), {python}" for date, cores, cpu, python in machines)
    survivors = "\n".join(
        f"- `{name}`: " + ", ".join(f"`{s}`" for s in modules[name]["survivors"])
        for name in sorted(modules)
        if modules[name]["survivors"]
    )
    return (
        TABLE_HEADER
        + "\n"
        + "\n".join(lines)
        + "\n\nMeasured on:\n\n"
        + runs
        + "\n"
        + ("\nSurvivors, by module:\n\n" + survivors + "\n" if survivors else "")
    )


def write_table(paths: list[Path], directory: Path = GENERATED) -> Path:
    """Stores the figures of each module in `paths` that mutmut holds results for in mutation.json (the
    other modules' rows kept), stamped with the date, the machine and the Python, and renders mutation.md
    from the whole file. Returns the Markdown's path."""
    from bench.report import machine

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "mutation.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"modules": {}}
    measured = machine()
    for module in paths:
        figures = module_figures(module)
        if figures is not None:
            data["modules"][str(module)] = {**figures, "measured": measured}
    data["modules"] = dict(sorted(data["modules"].items()))
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown = directory / "mutation.md"
    markdown.write_text(render_table(data), encoding="utf-8")
    return markdown


def constants(tree: ast.Module) -> list[tuple[str, ast.expr]]:
    """Each top-level assignment to an UPPER_CASE name (a leading `_` allowed), with its value."""
    found: list[tuple[str, ast.expr]] = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [
                (target.id, node.value)
                for target in targets
                if isinstance(target, ast.Name) and _CONSTANT_NAME.fullmatch(target.id)
            ]
    return found


def loosened(pattern: str) -> str:
    """A pattern that lets more through: its first `{a,b}` bound one higher, else without its closing
    `\\Z` or `$`, else with `|X` (an alternative no test input is likely to hold by chance)."""
    bound = re.search(r"(?<!\\)\{(\d*),(\d+)\}", pattern)
    if bound:
        return f"{pattern[: bound.start()]}{{{bound[1]},{int(bound[2]) + 1}}}{pattern[bound.end() :]}"
    for anchor in ("\\Z", "$"):
        if pattern.endswith(anchor) and not pattern.endswith("\\" + anchor):
            return pattern.removesuffix(anchor)
    return pattern + "|X"


def mutation(value: ast.expr) -> tuple[ast.expr, ast.expr] | str:
    """The node to replace and its replacement, or why the constant gets no mutant: a number a step off,
    a string with an X more, a looser `re.compile` pattern, a tuple, list, set, frozenset or dict display
    without its last element. Calls, comprehensions and values derived from other names are not mutated:
    no single change of them says what a test should pin."""
    if (
        isinstance(value, ast.Call)
        and ast.unparse(value.func) == "re.compile"
        and value.args
        and isinstance(value.args[0], ast.Constant)
        and isinstance(value.args[0].value, str)
    ):
        return value.args[0], ast.Constant(loosened(value.args[0].value))
    if isinstance(value, ast.Call) and ast.unparse(value.func) == "frozenset" and len(value.args) == 1:
        value = value.args[0]
    if isinstance(value, ast.Dict) and value.keys:
        shorter_dict = copy.copy(value)
        shorter_dict.keys, shorter_dict.values = value.keys[:-1], value.values[:-1]
        return value, shorter_dict
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)) and value.elts:
        shorter = copy.copy(value)
        shorter.elts = value.elts[:-1]
        return value, shorter
    if isinstance(value, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
        return "an empty display"
    if isinstance(value, ast.Call):
        return f"a call to {ast.unparse(value.func)}"
    if isinstance(value, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        return "a comprehension"
    names = sorted({node.id for node in ast.walk(value) if isinstance(node, ast.Name)})
    if names:
        return f"derived from {', '.join(names)}"
    if not all(
        isinstance(node, (ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)) for node in ast.walk(value)
    ):
        return f"an expression ({type(value).__name__})"
    literal = eval(compile(ast.Expression(value), "<constant>", "eval"), {"__builtins__": {}})  # literals only
    if isinstance(literal, bool):
        return value, ast.Constant(not literal)
    if isinstance(literal, int):
        return value, ast.Constant(literal + 1)
    if isinstance(literal, float):
        return value, ast.Constant(float(f"{literal * 1.1:.6g}") if literal else 1.0)
    if isinstance(literal, str):
        return value, ast.Constant(literal + "X")
    if isinstance(literal, bytes):
        return value, ast.Constant(literal + b"X")
    return f"{literal!r}"


def _mentions(node: ast.AST, name: str) -> int:
    return sum(
        (isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Store))
        or (isinstance(n, ast.Attribute) and n.attr == name)
        for n in ast.walk(node)
    )


def users(tree: ast.Module, module: str, name: str) -> tuple[set[str], bool]:
    """The functions and methods of `tree` that mention `name`, under mutmut's names (`m.x_f`,
    `m.xǁClassǁmethod`), and whether anything else does (another constant, a class body, a nested
    class): such a use takes effect at import, where no traced function sees it."""
    scopes: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scopes[f"{module}.x_{node.name}"] = node
        elif isinstance(node, ast.ClassDef):
            scopes.update(
                {
                    f"{module}.xǁ{node.name}ǁ{method.name}": method
                    for method in node.body
                    if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef))
                }
            )
    counts = {function: _mentions(scope, name) for function, scope in scopes.items()}
    return {function for function, count in counts.items() if count}, _mentions(tree, name) > sum(counts.values())


@functools.cache
def _service_trees(root: Path) -> tuple[tuple[str, ast.Module], ...]:
    return tuple(
        (module_name(path.relative_to(ROOT)), ast.parse(path.read_bytes(), str(path)))
        for path in sorted(root.rglob("*.py"))
    )


def selected_tests(trees: tuple[tuple[str, ast.Module], ...], name: str, stats: dict) -> list[str] | None:
    """The unit tests mutmut's stats saw reach a function of the service (its modules' `trees`) that
    mentions `name` (also as `module.NAME` or imported), fastest first; None (the service's whole unit
    suite) when a use is outside such functions: at import, or in a function no test reached or mutmut
    does not trace (a decorated one)."""
    traced = stats.get("tests_by_mangled_function_name", {})
    functions: set[str] = set()
    for module, tree in trees:
        found, at_import = users(tree, module, name)
        if at_import:
            return None
        functions |= found
    if not functions or not functions <= traced.keys():
        return None
    durations = stats.get("duration_by_test", {})
    tests = {test for function in functions for test in traced[function]}
    return sorted(tests, key=lambda test: (durations.get(test, 0.0), test)) or None


def spliced(source: bytes, old: ast.expr, new: ast.expr) -> bytes:
    """`source` with `new` written where `old` was (ast's columns count UTF-8 bytes), the rest untouched."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    assert old.end_lineno is not None and old.end_col_offset is not None, "a parsed node has its end"
    start, end = starts[old.lineno - 1] + old.col_offset, starts[old.end_lineno - 1] + old.end_col_offset
    return source[:start] + ast.unparse(new).encode() + source[end:]


def scratch_tree(into: Path) -> None:
    """What mutmut copies (pyproject.toml's [tool.mutmut] source_paths and also_copy: the sources and all
    the unit tests import), so a mutant is written to a copy, never to the working tree; pytest there
    imports the copy (rootdir and pythonpath come from the copied pyproject.toml)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    for name in [*config["source_paths"], *config["also_copy"]]:
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, into / name)


def _killed(tree: Path, tests: list[str], timeout: float) -> bool | None:
    """Whether the unit tests fail, or outlast `timeout` (killed, as mutmut counts a timeout); None when
    pytest finds a test id nowhere (renamed since the stats, or parametrized by the constant). No
    bytecode is written: a mutant of the same size written in the same second would load the original's."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not integration", *tests]
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with subprocess.Popen(
        command, cwd=tree, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    ) as pytest:
        try:
            code = pytest.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pytest.pid, signal.SIGKILL)
            return True
    return None if code in (4, 5) else code != 0


def _change(old: str, new: str, width: int = 70) -> str:
    """`old -> new`, long values cut to `width` characters around where they differ."""
    same = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    start = 0 if max(len(old), len(new)) <= width else max(0, same - width // 2)

    def cut(text: str) -> str:
        return ("..." if start else "") + text[start : start + width] + ("..." if len(text) > start + width else "")

    return f"{cut(old)} -> {cut(new)}"


def _verdict(tree: Path, tests: list[str] | None, suite: list[str], durations: dict[str, float]) -> tuple[bool, str]:
    """Killed or not, and by what: `tests`, else their files (a test parametrized by the constant has
    another id under the mutant), else the service's whole `suite`; each run bounded by 5 times its
    tests' recorded time + 30 s."""
    tests = tests or []
    files = list(dict.fromkeys(test.split("::")[0] for test in tests))
    for run, what in ((tests, f"{len(tests)} tests"), (files, f"{len(files)} test files"), (suite, "all unit tests")):
        prefixes = tuple(f"{entry}{separator}" for entry in run for separator in ("::", "/"))
        bound = 5 * sum(seconds for test, seconds in durations.items() if test in run or test.startswith(prefixes))
        verdict = _killed(tree, run, bound + 30) if run else None
        if verdict is not None:
            return verdict, what
    return True, "no unit test could run"


def sweep(paths: list[Path]) -> None:
    """Each constant's mutant, run against its unit tests in a scratch copy; prints a report per module."""
    try:
        stats = json.loads(STATS.read_text())
    except (OSError, ValueError):
        stats = {}
        print(
            f"no readable {STATS.relative_to(ROOT)} (make mutation writes it): every mutant runs its "
            "service's whole unit suite"
        )
    rows = []
    with tempfile.TemporaryDirectory(prefix="mutation-constants-") as scratch:
        tree = Path(scratch)
        scratch_tree(tree)
        for path in paths:
            service = next(name for name, root in SERVICES.items() if (ROOT / path).resolve().is_relative_to(root))
            source = (ROOT / path).read_bytes()
            counts: Counter = Counter()
            survivors, not_mutated = [], []
            for name, value in constants(ast.parse(source)):
                counts["constants"] += 1
                change = mutation(value)
                if isinstance(change, str):
                    counts["not mutated"] += 1
                    not_mutated.append(f"{name} ({change})")
                    continue
                old, new = change
                (tree / path).write_bytes(spliced(source, old, new))
                tests, began = selected_tests(_service_trees(SERVICES[service]), name, stats), time.monotonic()
                try:
                    killed, by = _verdict(tree, tests, list(UNIT_TESTS[service]), stats.get("duration_by_test", {}))
                finally:
                    (tree / path).write_bytes(source)
                counts["mutated"] += 1
                counts["killed" if killed else "survived"] += 1
                described = f"{module_name(path)}.{name}: {_change(ast.unparse(old), ast.unparse(new))}"
                survivors += [] if killed else [described]
                print(
                    f"  {'killed' if killed else 'SURVIVED'} {described} [{by}, {time.monotonic() - began:.0f} s]",
                    flush=True,
                )
            rows.append((path, counts, survivors, not_mutated))
    print(f"\n{'module':45} {'constants':>9} {'mutated':>7} {'killed':>6} {'survived':>8} {'not mutated':>11}")
    for path, counts, survivors, not_mutated in rows:
        print(
            f"{path!s:45} {counts['constants']:9} {counts['mutated']:7} {counts['killed']:6} "
            f"{counts['survived']:8} {counts['not mutated']:11}"
        )
        for line in [
            *(f"    survived: {text}" for text in survivors),
            *(f"    not mutated: {text}" for text in not_mutated),
        ]:
            print(line)


def _selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--module",
        action="append",
        default=[],
        help="a source file, e.g. lambda_src/nest_skill/temperatures.py (repeatable)",
    )
    parser.add_argument("--service", choices=sorted(SERVICES))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["constants"]:
        parser = argparse.ArgumentParser(
            prog="python -m tools.mutation constants",
            description=(
                "Mutate each module-level constant in turn (mutmut leaves them alone) and run the unit tests that "
                "reach it; prints the survivors. A report: it exits 0."
            ),
        )
        _selection(parser)
        args = parser.parse_args(argv[1:])
        sweep(modules_of(args.module, args.service))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _selection(parser)
    parser.add_argument("--jobs", type=int, default=2, help="mutants run in parallel (default 2)")
    parser.add_argument(
        "--recheck",
        action="store_true",
        help="then run the survivors again: mutmut keeps a verdict until the function changes, "
        "so only this shows which survivors tests written since now kill",
    )
    if argv and not argv[0].startswith("-"):
        mutmut(argv)
    args = parser.parse_args(argv)
    paths = modules_of(args.module, args.service)
    command = [sys.executable, "-m", "tools.mutation", "run", "--max-children", str(args.jobs)]
    run = subprocess.run([*command, *map(mutant_glob, paths)], cwd=ROOT)
    survivors = [name for path in paths for name in score(path)[1]]
    if args.recheck and survivors and run.returncode == 0:
        run = subprocess.run([*command, *survivors], cwd=ROOT)
    print(f"\n{'module':45} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8}  score")
    for path in paths:
        counts, survivors = score(path)
        judged = counts["killed"] + counts["survived"] + counts["no tests"]
        ratio = f"{100 * counts['killed'] / judged:5.1f}%" if judged else "    -"
        print(
            f"{path!s:45} {sum(counts.values()):7} {counts['killed']:6} {counts['survived']:8} "
            f"{counts['no tests']:8}  {ratio}"
        )
        for name in survivors:
            print(f"    survived: {name}")
    if run.returncode != 0:
        print(
            f"\nmutmut exited with {run.returncode}: {GENERATED.relative_to(ROOT)}/mutation.json and mutation.md "
            "keep their figures (a failed run would replace a module's scores with mutants not run)"
        )
        return run.returncode
    print(f"\ntable written to {write_table(paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
