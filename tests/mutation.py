"""`make mutation`: run mutmut on one module or one service and print each module's score.

    python -m tests.mutation [--module lambda_src/nest_skill/temperatures.py] [--service skill|bridge] [--jobs 2]
    python -m tests.mutation show NAME      (any mutmut command: results, show, browse, run)

mutmut (configured in pyproject.toml's [tool.mutmut]) copies the tree into mutants/, generates every
mutant of the chosen modules and runs, per mutant, only the unit tests that reach the mutated function
(integration tests excluded). A module's score is killed / (killed + survived + no tests); timeouts and
the type checker count as killed, as mutmut counts them. Survivors are listed by name: `mutmut show NAME`
prints the diff.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"skill": ROOT / "lambda_src" / "nest_skill", "bridge": ROOT / "bridge_src" / "oauth_bridge"}
_ASSET_ROOTS = ("lambda_src.", "bridge_src.")
"""lambda_src/ and bridge_src/ are on sys.path (as on Lambda), so their modules import as `nest_skill.x`."""
_KILLED = {1, 3, 36, 37, -24, 24, 152, 255}
_SURVIVED = {0}
_NO_TESTS = {5, 33}


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

    def fastest_first(runner: harness.PytestRunner, tests: list[str]) -> list[str]:
        """mutmut passes a mutant's tests as a set (any order) with -x: the fastest first, so a mutant
        that also breaks a quick test is killed before a deadline test waits out its hung server."""
        durations = harness.state().duration_by_test
        return in_any_order(runner, sorted(tests, key=lambda test: (durations.get(test, 0.0), test)))

    harness.PytestRunner._pytest_args_regular_run = fastest_first
    from mutmut.mutation import file_mutation

    mutmut_main.get_mutant_name = file_mutation.get_mutant_name = imported_name
    mutmut_main.cli(args)


def modules_of(modules: list[str], service: str | None) -> list[Path]:
    """The source files to mutate, relative to the repository root; SystemExit naming the argument when a
    path is not a mutable module."""
    for module in modules:
        path = Path(module)
        if path.suffix != ".py" or not (ROOT / path).is_file() or not any(
                (ROOT / path).resolve().is_relative_to(root) for root in SERVICES.values()):
            raise SystemExit(f"MODULE={module}: expected a .py file under lambda_src/nest_skill/ or "
                             "bridge_src/oauth_bridge/")
    if modules:
        return [Path(module) for module in modules]
    roots = [SERVICES[service]] if service else list(SERVICES.values())
    return sorted(p.relative_to(ROOT) for root in roots for p in root.rglob("*.py") if p.name != "__init__.py")


def mutant_glob(path: Path) -> str:
    """A mutant is `<module as imported>.x_<function>__mutmut_<n>` (methods: `xǁClassǁ...`); the skill's
    smart_home package imports as `nest_skill.smart_home.x`."""
    return ".".join(path.with_suffix("").parts[1:]) + ".x*"


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", action="append", default=[],
                        help="a source file, e.g. lambda_src/nest_skill/temperatures.py (repeatable)")
    parser.add_argument("--service", choices=sorted(SERVICES))
    parser.add_argument("--jobs", type=int, default=2, help="mutants run in parallel (default 2)")
    argv = sys.argv[1:] if argv is None else argv
    if argv and not argv[0].startswith("-"):
        mutmut(argv)
    args = parser.parse_args(argv)
    paths = modules_of(args.module, args.service)
    run = subprocess.run([sys.executable, "-m", "tests.mutation", "run", "--max-children", str(args.jobs),
                          *map(mutant_glob, paths)], cwd=ROOT)
    print(f"\n{'module':45} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8}  score")
    for path in paths:
        counts, survivors = score(path)
        judged = counts["killed"] + counts["survived"] + counts["no tests"]
        ratio = f"{100 * counts['killed'] / judged:5.1f}%" if judged else "    -"
        print(f"{str(path):45} {sum(counts.values()):7} {counts['killed']:6} {counts['survived']:8} "
              f"{counts['no tests']:8}  {ratio}")
        for name in survivors:
            print(f"    survived: {name}")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
