"""Skill Lambda benchmark: cold start as Lambda runs it (import and first request, without and with
shipped bytecode, beside its floor; peak memory), warm handler latency per intent and per smart-home
directive against a loopback fake SDM (a separate process), SDM calls per request, the SDM
calls of the Alexa app's burst of ReportStates, and live state: AcceptGrant and a voice change
with its ChangeReport (the LWA, event-gateway and tokeninfo stand-ins on loopback, moto in process),
the LWA refreshes of an hour of use and the gateway calls per change, and the cold import with
live state on beside the same floor.

Run: .venv/bin/python bench/skill_bench.py [--runs 200] [--imports 9] [--output-dir docs/generated]
A benchmark prints figures; it asserts nothing. Absolute times depend on the machine: compare ratios.
The figures are also written to the output directory's bench.json and bench.md (bench/report.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = ROOT / "lambda_src"
sys.path[:0] = [str(ROOT), str(LAMBDA_SRC)]

from bench import report as bench_report
from bench.cold_start import Probe, lambda_asset, report
from sandbox import alexa, fake_amazon
from sandbox.entry_points import load_module
from sandbox.processes import Service, free_port

PROJECT = "bench-project"
FLOOR_IMPORT = "import ask_sdk_core.skill_builder, requests"
SKILL_IMPORT = "import lambda_function"
# The fake's default devices include a Fahrenheit heat-cool Kitchen and several other rooms.
SET_KITCHEN = {"temperature": "72", "thermostat": "kitchen"}
# Live state as the stacks configure it (moto's account and region in process).
LIVE_REGION = "us-east-1"
LIVE_STATE_ENV = {
    "LIVE_STATE_TABLE": "NestSkillSecrets-LiveStateTokens",
    "LIVE_STATE_KEY": f"arn:aws:kms:{LIVE_REGION}:123456789012:alias/NestSkill-live-state",
    "LIVE_STATE_REGION": LIVE_REGION,
    "MESSAGING_CREDENTIALS_BUCKET": "nestskillsecrets-credentials-123456789012-us-east-1",
    "MESSAGING_CREDENTIALS_OBJECT": "alexa-messaging-credentials.json",
    "AWS_REGION": LIVE_REGION,
}
MESSAGING_CLIENT = ("amzn1.application-oa2-client.bench", "bench-messaging-secret")


def _child_env(base_url: str = "http://127.0.0.1:9/v1") -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(LAMBDA_SRC), str(ROOT)]),
        "NEST_PROJECT_ID": PROJECT,
        "SDM_API_BASE_URL": base_url,
    }


def _run_child(code: str, env: dict[str, str], stdin: str = "") -> str:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=LAMBDA_SRC,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def cold_start(base_url: str, token: str, runs: int) -> dict[str, Any]:
    """The skill's cold import beside its floor, then the first StatusIntent, as Lambda runs them
    (see bench/cold_start.py), without and with shipped bytecode."""
    probes = {
        "floor": Probe(FLOOR_IMPORT),
        "lambda_function": Probe(
            SKILL_IMPORT,
            request="reply = lambda_function.lambda_handler(json.loads(sys.stdin.read()), None)\n"
            "assert reply['response']['outputSpeech']['ssml'], reply",
            env={"NEST_PROJECT_ID": PROJECT, "SDM_API_BASE_URL": base_url},
            stdin=json.dumps(alexa.status(token=token)),
        ),
        # Live state on: the import reads its settings; its parts load at the first AcceptGrant, Discover or
        # change to report (the live-state figures below), boto3 when AWS is first needed.
        "lambda_function, live state on": Probe(
            SKILL_IMPORT, env={"NEST_PROJECT_ID": PROJECT, "SDM_API_BASE_URL": base_url, **LIVE_STATE_ENV}
        ),
    }
    with lambda_asset(LAMBDA_SRC) as asset:
        return report(
            "Cold start as Lambda runs it (import, then the first StatusIntent against the loopback fake)",
            asset,
            probes,
            runs,
            target_ratio=1.15,
        )


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def sdm_calls(fake_url: str) -> int:
    """SDM requests the fake has served so far (its own counter, read outside any timing)."""
    import requests

    counts = requests.get(f"{fake_url}/__fake/stats", timeout=5).json()["counts"]
    return sum(n for route, n in counts.items() if route.startswith("devices."))


def warm_latency(base_url: str, fake_url: str, token: str, runs: int) -> dict[str, Any]:
    os.environ.update({"NEST_PROJECT_ID": PROJECT, "SDM_API_BASE_URL": base_url})
    os.environ.pop("SKILL_ID", None)
    import lambda_function

    # One iteration in this order: the set (heat-cool range on the Kitchen) finds the list cached by the
    # previous iteration and then drops it, so the first status lists afresh and the second is cached.
    def control(intent: str, room: str, **slots: dict) -> dict:
        return alexa.intent(intent, {"thermostat": alexa.slot("thermostat", room), **slots}, token=token)

    def mode(heard: str, mode_id: str) -> dict:
        return control("SetModeIntent", "kitchen", mode=alexa.resolved_slot("mode", heard, "THERMOSTAT_MODE", mode_id))

    def fan(state: str, duration: str | None = None) -> dict:
        return control(
            "FanIntent",
            "living room",
            duration=alexa.slot("duration", duration),
            fan_state=alexa.resolved_slot("fan_state", state.lower(), "ON_OFF", state),
        )

    # One iteration in this order: each command drops the user's cached list, so a command right after
    # another lists afresh (list fetched: 2 SDM calls); the humidity read near the end caches the list
    # for the next iteration's set.
    cases: dict[str, Callable[[], dict]] = {
        "SetTempIntent (list cached)": lambda: alexa.set_temp(token=token, **SET_KITCHEN),
        "StatusIntent (list fetched)": lambda: alexa.status(token=token),
        "StatusIntent (list cached)": lambda: alexa.status(token=token),
        "SetTempIntent, which thermostat?": lambda: alexa.set_temp("70", token=token),
        "SetTempIntent, did you mean?": lambda: alexa.set_temp("70", "kitchn", token=token),
        "SetModeIntent cool (list cached)": lambda: mode("cool", "COOL"),
        "SetModeIntent auto (list fetched)": lambda: mode("auto", "HEATCOOL"),
        "AdjustTempIntent warmer (fetched)": lambda: control(
            "AdjustTempIntent",
            "kitchen",
            direction=alexa.resolved_slot("direction", "warmer", "DIRECTION", "UP"),
            amount=alexa.slot("amount"),
        ),
        "SetModeIntent eco (list fetched)": lambda: mode("eco", "ECO"),
        "EcoOffIntent (list fetched)": lambda: control("EcoOffIntent", "kitchen"),
        "FanIntent on, 1 h (list fetched)": lambda: fan("ON", "PT1H"),
        "FanIntent off (list fetched)": lambda: fan("OFF"),
        "HumidityIntent (list fetched)": lambda: control("HumidityIntent", "kitchen"),
        "LaunchRequest": lambda: alexa.launch(token=token),
        "AMAZON.HelpIntent": lambda: alexa.intent("AMAZON.HelpIntent", token=token),
    }
    events = {name: build() for name, build in cases.items()}
    answers = {}
    for name, event in events.items():  # warm-up: connections, caches; shows which path is timed
        answers[name] = lambda_function.lambda_handler(event, None)["response"]["outputSpeech"]["ssml"]
    timed = _timed(lambda_function.lambda_handler, events, fake_url, runs, "Warm handler latency per intent")
    print("  answers timed:")
    for name, ssml in answers.items():
        print(f"    {name}: {ssml[len('<speak>') : -len('</speak>')][:90]}")
    return timed


def _timed(
    handler: Callable[[dict, object], dict], events: dict[str, dict], fake_url: str, runs: int, title: str
) -> dict[str, Any]:
    """Each event `runs` times in order: p50, p99 and SDM calls per request (printed and returned)."""
    samples: dict[str, list[float]] = {name: [] for name in events}
    calls: dict[str, int] = {name: 0 for name in events}
    for _ in range(runs):
        for name, event in events.items():
            before = sdm_calls(fake_url)
            started = time.perf_counter()
            handler(event, None)
            samples[name].append((time.perf_counter() - started) * 1000)
            calls[name] += sdm_calls(fake_url) - before
    print(f"\n{title}, {runs} requests each, loopback fake SDM in its own process")
    print(f"  {'request':40} {'p50 ms':>8} {'p99 ms':>8} {'SDM calls/request':>18}")
    rows = [
        {
            "request": name,
            "p50_ms": _percentile(values, 0.5),
            "p99_ms": _percentile(values, 0.99),
            "sdm_calls": calls[name] / runs,
        }
        for name, values in samples.items()
    ]
    for row in rows:
        print(f"  {row['request']:40} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['sdm_calls']:18.2f}")
    return {"runs": runs, "rows": rows}


def smart_home_latency(fake_url: str, token: str, runs: int) -> dict[str, Any]:
    """Smart-home directives through lambda_handler (warm, environment as set by warm_latency). In
    this order each command drops the user's cached list, so the one after it lists afresh, and the
    Discover after the last command caches the list for the ReportState and the set."""
    import lambda_function

    endpoints = lambda_function.lambda_handler(alexa.discover(token=token), None)["event"]["payload"]["endpoints"]
    kitchen = next(e["endpointId"] for e in endpoints if e["friendlyName"] == "Kitchen")
    events = {
        "Discover (list fetched)": alexa.discover(token=token),
        "ReportState (list cached)": alexa.report_state(kitchen, token=token),
        "SetTargetTemperature 72 °F (cached)": alexa.set_target(kitchen, 72, token=token),
        "AdjustTargetTemperature +2 °F (fetched)": alexa.adjust(kitchen, 2, token=token),
        "AdjustTargetTemperature -2 °F (fetched)": alexa.adjust(kitchen, -2, token=token),
        "SetThermostatMode COOL (fetched)": alexa.set_mode(kitchen, "COOL", token=token),
        "SetThermostatMode AUTO (fetched)": alexa.set_mode(kitchen, "AUTO", token=token),
    }
    for name, event in events.items():  # warm-up; every directive must succeed for its timing to mean anything
        reply = lambda_function.lambda_handler(event, None)
        alexa.valid_smart_home(reply, event)
        assert reply["event"]["header"]["name"] != "ErrorResponse", (name, reply["event"]["payload"])
    return _timed(lambda_function.lambda_handler, events, fake_url, runs, "Smart-home directives (warm)")


def report_state_burst(base_url: str, fake_url: str, token: str, rounds: int = 3) -> dict[str, int]:
    """The Alexa app opening: a ReportState for every device at once, `rounds` times within the
    cache's 30 s, in a fresh container (nothing cached). SDM allows 5 device lists a minute per user."""
    import lambda_function
    from nest_skill.config import SkillConfig
    from nest_skill.sdm_client import SdmClient
    from nest_skill.smart_home.dispatcher import SmartHome

    endpoints = [
        e["endpointId"]
        for e in lambda_function.lambda_handler(alexa.discover(token=token), None)["event"]["payload"]["endpoints"]
    ]
    fresh = SmartHome(SdmClient(SkillConfig(nest_project_id=PROJECT, sdm_api_base_url=base_url)))
    before = sdm_calls(fake_url)
    for _ in range(rounds):
        for endpoint in endpoints:
            assert fresh.handle(alexa.report_state(endpoint, token=token))["event"]["header"]["name"] == "StateReport"
    burst = {
        "requests": rounds * len(endpoints),
        "openings": rounds,
        "thermostats": len(endpoints),
        "sdm_calls": sdm_calls(fake_url) - before,
    }
    print(
        f"\n{burst['requests']} ReportStates ({rounds} openings of the Alexa app, {len(endpoints)} "
        f"thermostats) in a fresh container: {burst['sdm_calls']} SDM call(s) in all"
    )
    return burst


def cold_set_calls(base_url: str, fake_url: str, token: str) -> int:
    """SDM calls of a set-temperature in a fresh container (nothing cached)."""
    code = "import json, sys, lambda_function\nlambda_function.lambda_handler(json.loads(sys.stdin.read()), None)"
    before = sdm_calls(fake_url)
    _run_child(code, _child_env(base_url), stdin=json.dumps(alexa.set_temp(token=token, **SET_KITCHEN)))
    calls = sdm_calls(fake_url) - before
    print(f"\nSetTempIntent in a cold container: {calls} SDM calls (list + executeCommand)")
    return calls


@contextlib.contextmanager
def live_aws() -> Iterator[None]:
    """moto in this process with what the secrets stack creates for live state: the token table, its
    key by its alias, and the messaging credentials object."""
    import boto3
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "bench")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=LIVE_REGION)
        dynamodb.create_table(
            TableName=LIVE_STATE_ENV["LIVE_STATE_TABLE"],
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("pk", "sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        kms = boto3.client("kms", region_name=LIVE_REGION)
        kms.create_alias(AliasName="alias/NestSkill-live-state", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        s3 = boto3.client("s3", region_name=LIVE_REGION)
        s3.create_bucket(Bucket=LIVE_STATE_ENV["MESSAGING_CREDENTIALS_BUCKET"])
        s3.put_object(
            Bucket=LIVE_STATE_ENV["MESSAGING_CREDENTIALS_BUCKET"],
            Key=LIVE_STATE_ENV["MESSAGING_CREDENTIALS_OBJECT"],
            Body=json.dumps({"clientId": MESSAGING_CLIENT[0], "clientSecret": MESSAGING_CLIENT[1]}).encode(),
        )
        yield


def _accept_grant(code: str, token: str) -> dict:
    return alexa.directive(
        "Alexa.Authorization",
        "AcceptGrant",
        {
            "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
            "grantee": {"type": "BearerToken", "token": token},
        },
        token=None,
        correlation_token=None,
    )


def live_state(base_url: str, fake_url: str, token: str, runs: int) -> dict[str, Any]:
    """AcceptGrant and a voice change with its ChangeReport through lambda_handler in a container with
    live state on (warm), then an hour of changes on a simulated clock for the LWA refreshes."""
    with live_aws(), fake_amazon.serving(*MESSAGING_CLIENT) as amazon:
        os.environ.update(
            {"NEST_PROJECT_ID": PROJECT, "SDM_API_BASE_URL": base_url, **LIVE_STATE_ENV},
            LWA_TOKEN_URL=amazon.lwa_url,
            GOOGLE_TOKENINFO_URL=amazon.tokeninfo_url,
            **{f"EVENT_GATEWAY_URL_{region}": url for region, url in amazon.gateway_urls.items()},
        )
        try:
            handler = load_module("lambda_src/lambda_function.py", "bench_live_state_container").lambda_handler
        finally:
            for name in (
                *LIVE_STATE_ENV,
                "LWA_TOKEN_URL",
                "GOOGLE_TOKENINFO_URL",
                "EVENT_GATEWAY_URL_NA",
                "EVENT_GATEWAY_URL_EU",
                "EVENT_GATEWAY_URL_FE",
            ):
                os.environ.pop(name, None)
        amazon.tokeninfo.register(token, "bench-google-account")
        # The Kitchen (heat-cool) set to 71 and 73 in turn: each change moves its range, so each is reported.
        changes = [alexa.set_temp("71", "kitchen", token=token), alexa.set_temp("73", "kitchen", token=token)]
        rows: dict[str, dict[str, list[float]]] = {}

        def timed(name: str, event: dict) -> dict:
            lwa = sum(amazon.lwa.stats("bench-user").values())
            gateway, sdm = len(amazon.gateway.events()), sdm_calls(fake_url)
            started = time.perf_counter()
            reply = handler(event, None)
            row = rows.setdefault(name, {"ms": [], "gateway": [], "lwa": [], "sdm": []})
            row["ms"].append((time.perf_counter() - started) * 1000)
            row["gateway"].append(len(amazon.gateway.events()) - gateway)
            row["lwa"].append(sum(amazon.lwa.stats("bench-user").values()) - lwa)
            row["sdm"].append(sdm_calls(fake_url) - sdm)
            return reply

        def accept() -> dict:
            return _accept_grant(amazon.lwa.issue_code("bench-user"), token)

        for _ in range(2):  # warm-up, checked: every AcceptGrant stored, every change reported once
            assert handler(accept(), None)["event"]["header"]["name"] == "AcceptGrant.Response"
            for event in changes:
                before = len(amazon.gateway.events())
                assert "72" not in handler(event, None)["response"]["outputSpeech"]["ssml"]
                assert len(amazon.gateway.events()) == before + 1, "a voice change was not reported"
        rows.clear()
        for _ in range(runs):
            reply = timed(
                "AcceptGrant (SDM listing, LWA exchange and tokeninfo, Google tokeninfo, sealed, stored)", accept()
            )
            assert reply["event"]["header"]["name"] == "AcceptGrant.Response", reply
            for event in changes:
                timed("SetTempIntent + its ChangeReport", event)
        table = [
            {
                "request": name,
                "p50_ms": _percentile(row["ms"], 0.5),
                "p99_ms": _percentile(row["ms"], 0.99),
                "gateway_calls": sum(row["gateway"]) / len(row["ms"]),
                "lwa_calls": sum(row["lwa"]) / len(row["ms"]),
                "sdm_calls": sum(row["sdm"]) / len(row["ms"]),
            }
            for name, row in rows.items()
        ]
        print(f"\nLive state, warm, {runs} requests each (stand-ins on loopback, moto in process)")
        print(f"  {'request':56} {'p50 ms':>8} {'p99 ms':>8} {'gateway':>8} {'LWA':>6} {'SDM':>6}")
        for row in table:
            print(
                f"  {row['request']:56} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['gateway_calls']:8.2f} "
                f"{row['lwa_calls']:6.2f} {row['sdm_calls']:6.2f}"
            )
    with live_aws():  # a table of its own: only the hour's user sees the Kitchen
        hour = an_hour_of_changes(base_url, token)
    return {"runs": runs, "rows": table, "hour": hour}


def an_hour_of_changes(base_url: str, token: str, interval_s: float = 60.0) -> dict[str, Any]:
    """One user, a voice change every `interval_s` for an hour on a simulated clock (LWA's stand-in and
    the skill share it): LWA refreshes and gateway calls. Needs live_aws() active."""
    from nest_skill.config import SkillConfig
    from nest_skill.controls import SetTemperature
    from nest_skill.live_state.config import LiveStateConfig
    from nest_skill.live_state.reporter import LiveState, changed_properties
    from nest_skill.sdm_client import Deadline, SdmClient
    from nest_skill.thermostats import thermostats_in

    now = [time.time()]

    def clock() -> float:
        return now[0]

    with fake_amazon.serving(*MESSAGING_CLIENT, clock=clock) as amazon:
        config = LiveStateConfig.from_mapping(
            {
                **LIVE_STATE_ENV,
                "LWA_TOKEN_URL": amazon.lwa_url,
                **{f"EVENT_GATEWAY_URL_{region}": url for region, url in amazon.gateway_urls.items()},
            }
        )
        assert config is not None, "LIVE_STATE_ENV turns live state on"
        sdm = SdmClient(SkillConfig(nest_project_id=PROJECT, sdm_api_base_url=base_url))
        live = LiveState(config, sdm, tokeninfo_url=amazon.tokeninfo_url, clock=clock)
        amazon.tokeninfo.register(token, "bench-hour-account")
        live.accept_grant(amazon.lwa.issue_code("hour-user"), token, Deadline(5.0))
        kitchen = next(t for t in thermostats_in(sdm.list_devices(token, Deadline(5.0))) if t.name == "Kitchen")
        # Two setpoints that each differ from the Kitchen's present range, so that every change is reported.
        plans = [
            plan
            for plan in (SetTemperature(t).plan(kitchen) for t in (68, 70, 74, 76))
            if changed_properties(plan, clock())[0]
        ][:2]
        changes = int(3600 / interval_s)
        gateway_calls = accepted = 0
        for step in range(changes):
            now[0] += interval_s
            result = live.report_change(plans[step % 2], Deadline(5.0))
            gateway_calls += result.gateway_calls
            accepted += result.accepted
        hour = {
            "changes": changes,
            "interval_s": interval_s,
            "refreshes": amazon.lwa.stats("hour-user")["refreshes"],
            "gateway_calls_per_change": gateway_calls / changes,
            "accepted": accepted,
        }
    print(
        f"\nAn hour of use, one voice change every {interval_s:.0f} s (simulated clock): "
        f"{hour['refreshes']} LWA refresh(es), {hour['gateway_calls_per_change']:.2f} gateway call(s) per change, "
        f"{accepted} of {changes} reports accepted"
    )
    return hour


def serve_fake(port: int, token_path: str) -> None:
    """Child mode: the fake Google without its sandbox rate limits (a benchmark sends hundreds of
    commands), with one linked user's access token handed to the parent through a private file."""
    from sandbox.fake_google import FakeGoogle
    from sandbox.serving import serve

    app = FakeGoogle(
        PROJECT,
        "bench-client.apps.googleusercontent.com",
        "bench-client-secret",
        ["https://layla.amazon.com/api/skill/link/BENCH"],
        command_limits=(),
    )
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(app.grant_access_token())
    serve(app, port, "fake google")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="warm requests per intent (default 200)")
    parser.add_argument("--imports", type=int, default=9, help="fresh processes per cold-start figure (default 9)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=bench_report.GENERATED,
        help="where bench.json and bench.md are written (default docs/generated)",
    )
    parser.add_argument("--serve-fake", nargs=2, metavar=("PORT", "TOKEN_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(int(args.serve_fake[0]), args.serve_fake[1])
        return

    with tempfile.TemporaryDirectory(prefix="skill-bench-") as tmp:
        port = free_port()
        token_path = Path(tmp) / "token"
        fake = Service(
            "fake-google",
            [sys.executable, str(Path(__file__).resolve()), "--serve-fake", str(port), str(token_path)],
            port,
            log_path=Path(tmp) / "fake-google.log",
        )
        with fake:
            token = token_path.read_text()
            base_url = f"{fake.base_url}/v1"
            figures = {
                "cold_start": cold_start(base_url, token, args.imports),
                "cold_set_sdm_calls": cold_set_calls(base_url, fake.base_url, token),
                "warm": warm_latency(base_url, fake.base_url, token, args.runs),
                "smart_home": smart_home_latency(fake.base_url, token, args.runs),
                "report_state_burst": report_state_burst(base_url, fake.base_url, token),
                "live_state": live_state(base_url, fake.base_url, token, args.runs),
            }
    written = bench_report.record("skill", figures, args.output_dir)
    print(f"\nfigures written to {written.with_name(bench_report.JSON_NAME)} and {written}")


if __name__ == "__main__":
    main()
