"""The benchmark figures as files: `docs/generated/bench.json` holds every figure `make bench` measured,
`docs/generated/bench.md` the tables the docs include (docs/develop/benchmarks.md). Each script writes
its own section (`skill`, `bridge`) with the date, the machine and the Python it ran on, and keeps the
other script's section; the Markdown is always rendered from the whole JSON, never edited by hand.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "docs" / "generated"
JSON_NAME, MARKDOWN_NAME = "bench.json", "bench.md"
HEADER = (
    "<!-- Written by `make bench` (bench/report.py) from bench.json beside it. Do not edit: run "
    "`make bench` again. -->\n"
)
SECTIONS = ("skill", "bridge", "events")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            kib = int(next(line for line in meminfo if line.startswith("MemTotal:")).split()[1])
        return round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        return None


def machine() -> dict[str, Any]:
    """Where and when the figures were measured: the date (UTC), the CPU model and the cores this
    process may use, the memory, the architecture, the Python, and the load average of the last minute
    (other work on a shared machine moves every wall-clock figure)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "cpu_model": _cpu_model(),
        "cores": cores,
        "memory_gib": _memory_gib(),
        "architecture": platform.machine(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def record(section: str, figures: dict[str, Any], directory: Path = GENERATED) -> Path:
    """Stores `figures` as `section` of bench.json (the other sections kept), stamped with `machine()`,
    and renders bench.md from the whole file. Returns the Markdown's path."""
    if section not in SECTIONS:
        raise ValueError(f"unknown benchmark section {section!r}: expected one of {', '.join(SECTIONS)}")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / JSON_NAME
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data[section] = {"measured": machine(), **figures}
    ordered = {name: data[name] for name in SECTIONS if name in data}
    path.write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown = directory / MARKDOWN_NAME
    markdown.write_text(render(ordered), encoding="utf-8")
    return markdown


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """`--imports` (fresh processes per cold-start figure) and `--output-dir`, as every benchmark takes them."""
    parser.add_argument("--imports", type=int, default=9, help="fresh processes per cold-start figure (default 9)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=GENERATED,
        help="where bench.json and bench.md are written (default docs/generated)",
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _measured(measured: dict[str, Any]) -> str:
    memory = f", {measured['memory_gib']} GiB" if measured.get("memory_gib") else ""
    load = (
        f" Load average over the run's last minute: {measured['load_average']:.1f} on {measured['cores']} cores "
        "(the benchmark itself keeps one or two busy; well above that, other work shared the CPU and the "
        "wall-clock figures are slower than on an idle machine)."
        if measured.get("load_average") is not None
        else ""
    )
    return (
        f"Measured on {measured['date']}: {measured['cores']} cores ({measured['cpu_model']}, "
        f"{measured['architecture']}{memory}), {measured['python']}.{load}"
    )


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _cold_start(cold: dict[str, Any]) -> str:
    """Ratios, then each probe's figures without and with bytecode, then the Lambda memory sizes."""
    target = cold["target"]
    ratios = cold["ratios"]
    goal = f" (target ≤ {cold['target_ratio']:.2f}×)" if cold.get("target_ratio") else ""
    out = [
        f"**{cold['title']}**: median of {cold['runs']} fresh processes per figure, the asset bundled "
        f"for {cold['bundled_for']} in a read-only directory, `PYTHONDONTWRITEBYTECODE=1`. "
        f"Floor: `{cold['floor_import']}`.\n\n"
    ]
    out.append(
        _table(
            ["ratio", "value"],
            [
                [
                    f"`{target}` import / floor import, bytecode shipped",
                    f"**{ratios['target/floor, bytecode']:.2f}×**{goal}",
                ],
                [f"`{target}` import / floor import, no bytecode", f"{ratios['target/floor, no bytecode']:.2f}×"],
                [
                    f"`{target}` import, no bytecode / bytecode shipped",
                    f"**{ratios['no bytecode/bytecode, target']:.2f}×**",
                ],
                ["floor import, no bytecode / bytecode shipped", f"{ratios['no bytecode/bytecode, floor']:.2f}×"],
                *(
                    [f"`{name}` import / floor import, bytecode shipped", f"**{value:.2f}×**{goal}"]
                    for key, value in ratios.items()
                    if key.endswith("/floor, bytecode") and (name := key.removesuffix("/floor, bytecode")) != "target"
                ),
            ],
        )
    )
    labels = [
        ("import, CPU ms", "setup_cpu_ms"),
        ("import, wall ms", "setup_ms"),
        ("first request after it, wall ms", "request_ms"),
        ("whole process, CPU ms", "process_cpu_ms"),
    ]
    rows = []
    figures = cold["figures"]
    for probe in figures["no bytecode"]:
        plain, compiled = figures["no bytecode"][probe], figures["bytecode"][probe]
        for label, key in labels:
            if key in plain and (key != "request_ms" or probe in cold.get("with_request", [])):
                rows.append([f"`{probe}`: {label}", _ms(plain[key]), _ms(compiled[key])])
        rows.append([f"`{probe}`: peak memory, MiB", _ms(plain["peak_kb"] / 1024), _ms(compiled["peak_kb"] / 1024)])
    out.append("\n" + _table(["figure", "no bytecode", "bytecode"], rows))
    sizes = cold["lambda_memory_ms"]
    out.append(
        f"\nThe cold path (`{target}`, whole process CPU) if CPU-bound, at Lambda memory sizes "
        "(1,769 MB = one vCPU):\n\n"
    )
    out.append(
        _table(
            ["memory (vCPU share)", "no bytecode, ms", "bytecode, ms"],
            [
                [f"{row['memory_mb']} MB ({row['vcpu']:.2f})", f"{row['no bytecode']:.0f}", f"{row['bytecode']:.0f}"]
                for row in sizes
            ],
        )
    )
    return "".join(out)


def _latency(title: str, latency: dict[str, Any]) -> str:
    rows = [
        [row["request"], f"{row['p50_ms']:.2f}", f"{row['p99_ms']:.2f}", f"{row['sdm_calls']:.2f}"]
        for row in latency["rows"]
    ]
    return (
        f"**{title}**, {latency['runs']} requests each, against the loopback fake SDM in its own process:\n\n"
        + _table(["request", "p50 ms", "p99 ms", "SDM calls per request"], rows)
    )


def _skill(skill: dict[str, Any]) -> str:
    burst = skill["report_state_burst"]
    return "\n".join(
        [
            "### The skill (`bench/skill_bench.py`)\n",
            _measured(skill["measured"]) + "\n",
            _cold_start(skill["cold_start"]),
            f"A set-temperature in a cold container: **{skill['cold_set_sdm_calls']}** SDM calls "
            "(list + executeCommand).\n",
            _latency("Warm handler latency per intent", skill["warm"]),
            _latency("Smart-home directives, warm", skill["smart_home"]),
            f"The Alexa app's burst: {burst['requests']} ReportStates ({burst['openings']} openings of the app, "
            f"{burst['thermostats']} thermostats) in a fresh container cost **{burst['sdm_calls']}** SDM call(s) "
            "in all.\n",
            *([_live_state(skill["live_state"])] if "live_state" in skill else []),
        ]
    )


def _live_state(live: dict[str, Any]) -> str:
    rows = [
        [
            row["request"],
            f"{row['p50_ms']:.2f}",
            f"{row['p99_ms']:.2f}",
            f"{row['gateway_calls']:.2f}",
            f"{row['lwa_calls']:.2f}",
        ]
        for row in live["rows"]
    ]
    hour = live["hour"]
    return (
        f"**Live state, warm** ({live['runs']} requests each): the Login-with-Amazon, event-gateway and tokeninfo "
        "stand-ins on loopback (sandbox/fake_amazon.py), moto's DynamoDB, KMS and S3 in process, the fake SDM "
        "in its own process. A voice change includes its ChangeReport, sent before the answer returns.\n\n"
        + _table(["request", "p50 ms", "p99 ms", "gateway calls per request", "LWA calls per request"], rows)
        + f"\nAn hour of use ({hour['changes']} voice changes, one every {hour['interval_s']:.0f} s, on a simulated "
        f"clock): **{hour['refreshes']}** LWA refresh(es) for the user (at most 1 per hour), "
        f"**{hour['gateway_calls_per_change']:.2f}** gateway call(s) per change (exactly 1).\n"
    )


def _bridge(bridge: dict[str, Any]) -> str:
    load, reads, asset = bridge["load"], bridge["s3_get_object"], bridge["asset_mib"]
    rows = [
        [
            f"`{row['scenario']}`",
            str(row["requests"]),
            str(row["errors"]),
            f"{row['requests_per_s']:.0f}",
            _ms(row["p50_ms"]),
            _ms(row["p99_ms"]),
        ]
        for row in load["rows"]
    ]
    worst = [
        [
            row["case"],
            f"{row['seconds']:.2f} s",
            f"{row['budget_s']:.1f} s" if row.get("budget_s") is not None else "(failure remembered)",
        ]
        for row in bridge["worst_cases"]
    ]
    verdict = (
        "within every budget"
        if bridge["passed"]
        else "**FAILED**: a request failed, the warm path read S3 or a worst case outlasted its budget"
    )
    return "\n".join(
        [
            "### The bridge (`bench/bridge_bench.py`)\n",
            _measured(bridge["measured"]) + "\n",
            _cold_start(bridge["cold_start"]),
            f"Asset size: {asset['plain']:.1f} MiB ({asset['plain_zipped']:.1f} MiB zipped) without bytecode, "
            f"{asset['bytecode']:.1f} MiB ({asset['bytecode_zipped']:.1f} MiB zipped) with it; "
            f"{', '.join(asset['boto3_packages'])}: {asset['boto3']:.1f} MiB "
            f"({asset['boto3_zipped']:.1f} MiB zipped) of the sources.\n",
            f"**Load**: gunicorn with the Procfile's {load['workers']} workers on 127.0.0.1, moto S3/KMS, "
            f"the fake Google's token endpoint; {load['threads']} client threads, up to {load['requests']} requests or "
            f"{load['time_limit_s']:.0f} s per scenario. `/callback` counts whole linkings (`/authorize` + Google + "
            "`/callback`); its latencies are the `/callback` request alone, token exchange included.\n",
            _table(["scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms"], rows),
            f"S3 `GetObject` on the credentials object: {reads['warming']} while warming {load['workers']} workers, "
            f"**{reads['warm_path']}** on the warm path (must be 0).\n",
            "**Worst cases** (production settings):\n",
            _table(["worst case", "answered after", "budget"], worst),
            f"Result: {verdict}.\n",
        ]
    )


def _events(events: dict[str, Any]) -> str:
    warm = events["warm"]
    verdict = "within" if warm["p99_ms"] < warm["target_p99_ms"] else "**over**"
    return "\n".join(
        [
            "### The events function (`bench/events_bench.py`)\n",
            _measured(events["measured"]) + "\n",
            f"**A Nest event to Alexa, warm** ({warm['runs']} pushes on loopback): from a signed Pub/Sub push "
            "(sandbox/fake_pubsub.py) arriving at the function URL stand-in to its answer, which follows the "
            "ChangeReport's acceptance by the event-gateway stand-in (sandbox/fake_amazon.py); moto's DynamoDB, "
            "KMS and S3 in process.\n",
            _table(
                ["figure", "value"],
                [
                    ["push to ChangeReport accepted, p50 ms", f"{warm['p50_ms']:.2f}"],
                    [
                        "push to ChangeReport accepted, p99 ms",
                        f"**{warm['p99_ms']:.2f}** ({verdict} the target of {warm['target_p99_ms']:.0f} ms)",
                    ],
                    ["token verification (google-auth), p50 ms", f"{warm['verify_p50_ms']:.2f}"],
                    ["token verification's share of the time", f"{warm['verify_share']:.0%}"],
                    ["SDM calls per event", f"**{warm['sdm_calls_per_event']:.2f}**"],
                    ["Google certificate fetches in the run", str(warm["certificate_fetches"])],
                ],
            ),
            _cold_start(events["cold_start"])
            if "cold_start" in events
            else f"**Cold start**: {events.get('cold_start_unavailable', 'not measured')}.\n",
        ]
    )


def render(data: dict[str, Any]) -> str:
    """The Markdown the docs include, from bench.json's content."""
    parts = [HEADER]
    if "skill" in data:
        parts.append(_skill(data["skill"]))
    if "bridge" in data:
        parts.append(_bridge(data["bridge"]))
    if "events" in data:
        parts.append(_events(data["events"]))
    if len(parts) == 1:
        parts.append("Not yet measured by the generator: run `make bench`.\n")
    return "\n".join(parts)


def main() -> None:
    """Renders bench.md again from bench.json (after a change of this renderer)."""
    data = json.loads((GENERATED / JSON_NAME).read_text(encoding="utf-8"))
    (GENERATED / MARKDOWN_NAME).write_text(render(data), encoding="utf-8")


if __name__ == "__main__":
    main()
