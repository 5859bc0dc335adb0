"""The benchmark and mutation tables the docs include are generated: `make bench` (bench/report.py) and
`make mutation` (tools/mutation.py) write every figure as JSON and the Markdown table from it, with the
date, the machine and the Python; the committed Markdown is exactly what its JSON renders to."""

import json
from pathlib import Path

import pytest

from bench import report
from tools import mutation

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "docs" / "generated"


def test_the_committed_bench_table_is_what_its_json_renders_to():
    data = json.loads((GENERATED / "bench.json").read_text(encoding="utf-8"))
    assert (GENERATED / "bench.md").read_text(encoding="utf-8") == report.render(data)


def test_the_committed_mutation_table_is_what_its_json_renders_to():
    data = json.loads((GENERATED / "mutation.json").read_text(encoding="utf-8"))
    assert (GENERATED / "mutation.md").read_text(encoding="utf-8") == mutation.render_table(data)


def _cold_start(target_ratio: float) -> dict:
    probe = {"setup_ms": 150.0, "setup_cpu_ms": 140.0, "request_ms": 9.5, "process_cpu_ms": 180.0, "peak_kb": 33_000}
    return {
        "title": "Cold start",
        "runs": 9,
        "bundled_for": "Python 3.11",
        "floor": "floor",
        "target": "lambda_function",
        "floor_import": "import requests",
        "target_ratio": target_ratio,
        "ratios": {
            "target/floor, bytecode": 1.1,
            "target/floor, no bytecode": 1.15,
            "no bytecode/bytecode, target": 2.51,
            "no bytecode/bytecode, floor": 2.4,
        },
        "figures": {
            variant: {"floor": dict(probe), "lambda_function": dict(probe)} for variant in ("no bytecode", "bytecode")
        },
        "with_request": ["lambda_function"],
        "lambda_memory_ms": [{"memory_mb": 1024, "vcpu": 0.58, "no bytecode": 760.0, "bytecode": 310.0}],
    }


SKILL = {
    "cold_start": _cold_start(1.15),
    "cold_set_sdm_calls": 2,
    "warm": {
        "runs": 200,
        "rows": [{"request": "StatusIntent (list cached)", "p50_ms": 0.67, "p99_ms": 1.05, "sdm_calls": 0.0}],
    },
    "smart_home": {
        "runs": 200,
        "rows": [{"request": "ReportState (list cached)", "p50_ms": 0.27, "p99_ms": 0.59, "sdm_calls": 0.0}],
    },
    "report_state_burst": {"requests": 15, "openings": 3, "thermostats": 5, "sdm_calls": 1},
}
BRIDGE = {
    "cold_start": _cold_start(0.0),
    "asset_mib": {
        "plain": 26.5,
        "plain_zipped": 17.8,
        "bytecode": 30.0,
        "bytecode_zipped": 20.4,
        "boto3": 21.8,
        "boto3_zipped": 16.3,
        "boto3_packages": ["boto3", "botocore"],
    },
    "load": {
        "workers": 2,
        "threads": 4,
        "requests": 400,
        "time_limit_s": 20.0,
        "rows": [
            {
                "scenario": "/health",
                "requests": 400,
                "errors": 0,
                "requests_per_s": 1044.0,
                "p50_ms": 3.2,
                "p99_ms": 11.3,
            }
        ],
    },
    "s3_get_object": {"warming": 2, "warm_path": 0},
    "worst_cases": [
        {"case": "token exchange, headers every 0.3 s", "seconds": 4.05, "budget_s": 4.0},
        {"case": "secrets read while S3 hangs: the request after them", "seconds": 0.0, "budget_s": None},
    ],
    "passed": True,
}


def test_each_bench_script_writes_its_section_and_keeps_the_others(tmp_path):
    report.record("skill", SKILL, tmp_path)
    report.record("bridge", BRIDGE, tmp_path)
    data = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert list(data) == ["skill", "bridge"]
    assert data["skill"]["cold_start"]["ratios"]["target/floor, bytecode"] == 1.1
    measured = data["bridge"]["measured"]
    assert measured["cores"] >= 1 and measured["python"].split()[-1].count(".") == 2 and measured["cpu_model"]
    markdown = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert markdown == report.render(data)
    assert f"Measured on {measured['date']}: {measured['cores']} cores ({measured['cpu_model']}" in markdown
    assert "| `lambda_function` import / floor import, bytecode shipped | **1.10×** (target ≤ 1.15×) |" in markdown
    assert "| StatusIntent (list cached) | 0.67 | 1.05 | 0.00 |" in markdown
    assert "15 ReportStates (3 openings of the app, 5 thermostats) in a fresh container cost **1**" in markdown
    assert "| `/health` | 400 | 0 | 1044 | 3.2 | 11.3 |" in markdown
    assert "| token exchange, headers every 0.3 s | 4.05 s | 4.0 s |" in markdown
    assert "**0** on the warm path" in markdown and "Result: within every budget." in markdown

    report.record("skill", {**SKILL, "cold_set_sdm_calls": 3}, tmp_path)
    again = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))
    assert again["skill"]["cold_set_sdm_calls"] == 3 and again["bridge"] == data["bridge"]


def test_a_failed_bridge_run_says_so_in_the_table(tmp_path):
    report.record("bridge", {**BRIDGE, "passed": False}, tmp_path)
    assert "Result: **FAILED**" in (tmp_path / "bench.md").read_text(encoding="utf-8")


def test_an_unknown_section_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown benchmark section 'demo'"):
        report.record("demo", {}, tmp_path)
    assert not (tmp_path / "bench.json").exists()


def test_nothing_measured_says_so():
    assert "Not yet measured by the generator" in report.render({})
    assert "Not yet measured by the generator" in mutation.render_table({"modules": {}})


def _meta(root: Path, module: str, codes: dict) -> None:
    meta = root / "mutants" / (module + ".meta")
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))


def test_the_mutation_table_holds_each_module_run_and_keeps_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    out = tmp_path / "generated"
    temperatures, query = "lambda_src/nest_skill/temperatures.py", "bridge_src/oauth_bridge/query.py"
    _meta(
        tmp_path,
        temperatures,
        {
            "nest_skill.temperatures.x_a__mutmut_1": 1,
            "nest_skill.temperatures.x_a__mutmut_2": 0,
            "nest_skill.temperatures.x_a__mutmut_3": 1,
            "nest_skill.temperatures.x_a__mutmut_4": None,
        },
    )
    mutation.write_table([Path(temperatures), Path("lambda_src/nest_skill/never_run.py")], out)
    _meta(tmp_path, query, {"oauth_bridge.query.x_q__mutmut_1": 1, "oauth_bridge.query.x_q__mutmut_2": 33})
    mutation.write_table([Path(query)], out)

    data = json.loads((out / "mutation.json").read_text(encoding="utf-8"))
    assert list(data["modules"]) == [query, temperatures]
    row = data["modules"][temperatures]
    assert (row["mutants"], row["killed"], row["survived"], row["no_tests"], row["not_run"], row["score"]) == (
        4,
        2,
        1,
        0,
        1,
        66.7,
    )
    assert row["survivors"] == ["nest_skill.temperatures.x_a__mutmut_2"]
    assert data["modules"][query]["score"] == 50.0
    markdown = (out / "mutation.md").read_text(encoding="utf-8")
    assert markdown == mutation.render_table(data)
    assert f"| `{temperatures}` | 4 | 2 | 1 | 0 | 1 | 66.7% | {row['measured']['date']} |" in markdown
    assert "- `bridge_src/oauth_bridge/query.py`: `oauth_bridge.query.x_q__mutmut_2`" in markdown
    assert f"{row['measured']['cores']} cores ({row['measured']['cpu_model']})" in markdown
