"""Cold starts as Lambda runs them, for the skill and bridge benchmarks.

Lambda unpacks the asset into a read-only /var/task and starts a fresh interpreter: nothing is
compiled ahead unless the asset ships bytecode. So each sample here is a whole fresh process
(`python -S`: the asset and the standard library only, no virtualenv) on a read-only copy of the
asset `PipBundler` builds, with PYTHONDONTWRITEBYTECODE=1. The asset is bundled for this
interpreter's Python so that its bytecode loads here; the same tree without its `__pycache__` is
what ships when the bundling machine has no interpreter of the runtime's version.

Figures: wall and CPU milliseconds (median of N processes, variants interleaved so that each
round sees the same machine load), peak memory, and what a CPU-bound cold path would take at
Lambda memory sizes: at 1,769 MB a function has the equivalent of one vCPU, and CPU scales with
memory (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ONE_VCPU_MB = 1769
MEMORY_SIZES_MB = (128, 256, 512, 1024, ONE_VCPU_MB)

# Runs in the child: times `setup` (the import), then `request` (may be empty), then reports. Peak memory
# is VmHWM (Linux): ru_maxrss would also count the parent's pages, copied before the exec.
_CHILD = """
import json, resource, sys, time
wall, cpu = time.perf_counter(), time.process_time()
{setup}
setup_wall, setup_cpu = time.perf_counter(), time.process_time()
{request}
usage = resource.getrusage(resource.RUSAGE_SELF)
with open("/proc/self/status") as status:
    peak_kb = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
print(json.dumps({{"setup_ms": (setup_wall - wall) * 1000, "setup_cpu_ms": (setup_cpu - cpu) * 1000,
                  "request_ms": (time.perf_counter() - setup_wall) * 1000,
                  "process_cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000, "peak_kb": peak_kb}}))
"""


@dataclass(frozen=True)
class Asset:
    """One Lambda asset, read-only, bundled for this interpreter: `compiled` ships bytecode, `plain` none."""

    name: str
    compiled: Path
    plain: Path

    def variants(self) -> dict[str, Path]:
        return {"no bytecode": self.plain, "bytecode": self.compiled}


def _set_writable(tree: Path, writable: bool) -> None:
    write = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    for path in [tree, *tree.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode | stat.S_IWUSR if writable else mode & ~write)


@contextlib.contextmanager
def lambda_asset(source_dir: Path) -> Iterator[Asset]:
    """Bundles `source_dir` as the CDK app does (pip for arm64, then the sources), for this Python."""
    # Imported here: the CDK loads only when a benchmark bundles, not for tests that import the benches.
    from stacks.python_lambda import PipBundler

    with tempfile.TemporaryDirectory(prefix=f"{source_dir.name}-asset-") as tmp:
        compiled, plain = Path(tmp) / "bytecode", Path(tmp) / "plain"
        PipBundler(source_dir, THIS_PYTHON).try_bundle(str(compiled), image=None)
        shutil.copytree(compiled, plain, ignore=shutil.ignore_patterns("__pycache__"))
        for tree in (compiled, plain):
            _set_writable(tree, False)
        try:
            yield Asset(source_dir.name, compiled, plain)
        finally:
            for tree in (compiled, plain):
                _set_writable(tree, True)


def package_bytes(root: Path, top_level: Sequence[str] = ()) -> tuple[int, int]:
    """(unzipped, zipped) bytes of the files under `root`, or only under the given top-level entries
    of it: the zipped figure is what Lambda downloads (deflate, as the CDK zips assets)."""
    roots = [root / name for name in top_level] if top_level else [root]
    files = [
        path for base in roots for path in ([base] if base.is_file() else sorted(base.rglob("*"))) if path.is_file()
    ]
    with tempfile.TemporaryFile() as scratch:
        with zipfile.ZipFile(scratch, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(root))
        return sum(path.stat().st_size for path in files), scratch.tell()


@dataclass(frozen=True)
class Probe:
    """Python run in a fresh process: `setup` is timed as the cold import, `request` after it."""

    setup: str
    request: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    stdin: str = ""


def run_probe(asset_dir: Path, probe: Probe) -> dict[str, float]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(asset_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        **dict(probe.env),
    }
    code = _CHILD.format(setup=probe.setup, request=probe.request)
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=asset_dir,
        env=env,
        input=probe.stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe failed in {asset_dir}:\n{done.stderr.strip()}")
    return json.loads(done.stdout)


Medians = dict[str, dict[str, dict[str, float]]]  # {variant: {probe: {figure: median}}}


def measure(asset: Asset, probes: Mapping[str, Probe], runs: int) -> tuple[Medians, dict[str, float]]:
    """Medians of each figure, and import-time ratios taken within each round, then their median
    (robust to load shifting between rounds). The first probe is the floor, the second the target."""
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        variant: {name: [] for name in probes} for variant in asset.variants()
    }
    for _ in range(runs):
        for variant, tree in asset.variants().items():
            for name, probe in probes.items():
                samples[variant][name].append(run_probe(tree, probe))
    if any(path.name == "__pycache__" for path in asset.plain.rglob("*")):
        raise RuntimeError("a probe wrote bytecode: the measurement did not run as Lambda does")
    medians = {
        variant: {
            name: {figure: statistics.median(sample[figure] for sample in runs_) for figure in runs_[0]}
            for name, runs_ in by_probe.items()
        }
        for variant, by_probe in samples.items()
    }
    floor, target = list(probes)[:2]
    plain, compiled = samples["no bytecode"], samples["bytecode"]

    def ratio(over: list[dict[str, float]], under: list[dict[str, float]]) -> float:
        return statistics.median(o["setup_ms"] / u["setup_ms"] for o, u in zip(over, under, strict=True))

    return medians, {
        # Every probe after the floor, bytecode shipped (the target's is also the first figure below).
        **{f"{name}/floor, bytecode": ratio(compiled[name], compiled[floor]) for name in list(probes)[2:]},
        "target/floor, bytecode": ratio(compiled[target], compiled[floor]),
        "target/floor, no bytecode": ratio(plain[target], plain[floor]),
        "no bytecode/bytecode, target": ratio(plain[target], compiled[target]),
        "no bytecode/bytecode, floor": ratio(plain[floor], compiled[floor]),
    }


def report(
    title: str, asset: Asset, probes: Mapping[str, Probe], runs: int, target_ratio: float = 0.0
) -> dict[str, Any]:
    """Prints ratios first, then absolute figures, then the cold path at Lambda memory sizes, and returns
    the same figures for bench/report.py.

    The first probe is the floor, the second the function's cold import (with its first request, if any)."""
    figures, ratios = measure(asset, probes, runs)
    floor, target = list(probes)[:2]
    print(
        f"\n{title}: {asset.name} asset bundled for Python {THIS_PYTHON}, read-only copy, "
        f"PYTHONDONTWRITEBYTECODE=1, median of {runs} fresh processes per figure"
    )
    print(f"  floor: {probes[floor].setup}")
    print(
        f"  {target} / floor, bytecode shipped: {ratios['target/floor, bytecode']:.2f}x"
        + (f" (target <= {target_ratio:.2f}x)" if target_ratio else "")
    )
    print(f"  {target} / floor, no bytecode:             {ratios['target/floor, no bytecode']:.2f}x")
    for name in list(probes)[2:]:
        print(
            f"  {name} / floor, bytecode shipped: {ratios[name + '/floor, bytecode']:.2f}x"
            + (f" (target <= {target_ratio:.2f}x)" if target_ratio else "")
        )
    print(
        f"  no bytecode / bytecode shipped: {target} {ratios['no bytecode/bytecode, target']:.2f}x, "
        f"floor {ratios['no bytecode/bytecode, floor']:.2f}x"
    )
    print(f"  {'':44} {'no bytecode':>14} {'bytecode':>14}")
    rows = [
        ("import, wall ms", "setup_ms"),
        ("import, CPU ms", "setup_cpu_ms"),
        ("first request after it, wall ms", "request_ms"),
        ("whole process CPU ms", "process_cpu_ms"),
    ]
    for name in probes:
        for label, key in rows:
            if key == "request_ms" and not probes[name].request:
                continue
            print(f"  {name + ': ' + label:44} " + " ".join(f"{figures[v][name][key]:14.1f}" for v in asset.variants()))
        print(
            f"  {name + ': peak memory MiB':44} "
            + " ".join(f"{figures[v][name]['peak_kb'] / 1024:14.1f}" for v in asset.variants())
        )
    print(f"  cold path ({target}, whole process CPU) if CPU-bound, at Lambda memory sizes (1,769 MB = 1 vCPU):")
    sizes = []
    for memory in MEMORY_SIZES_MB:
        share = memory / ONE_VCPU_MB
        sizes.append(
            {
                "memory_mb": memory,
                "vcpu": share,
                **{v: figures[v][target]["process_cpu_ms"] / share for v in asset.variants()},
            }
        )
        print(
            f"    {memory:5d} MB ({share:4.2f} vCPU): "
            + ", ".join(f"{v} {figures[v][target]['process_cpu_ms'] / share:6.0f} ms" for v in asset.variants())
        )
    return {
        "title": title,
        "runs": runs,
        "bundled_for": f"Python {THIS_PYTHON}",
        "floor": floor,
        "target": target,
        "floor_import": probes[floor].setup,
        "target_ratio": target_ratio,
        "ratios": ratios,
        "figures": figures,
        "with_request": [name for name in probes if probes[name].request],
        "lambda_memory_ms": sizes,
    }
