"""Events function benchmark: Nest's events through Pub/Sub push to Alexa ChangeReports.

Warm, on loopback: the time from a signed push arriving at the function URL stand-in to its answer,
which comes after the ChangeReport was accepted by the event-gateway stand-in (p50/p99; target p99
under 50 ms), the token verification's share of it (google-auth against the Pub/Sub stand-in's
certificates, cached after the first push), and the SDM calls per event (0: the state comes from the
stored listing). Then the events function's cold start as Lambda runs it (bench/cold_start.py): its
import beside the libraries it needs, and a first (refused) push.

Stand-ins: sandbox/fake_pubsub.py (RS256 tokens, Google-shaped certificates), sandbox/fake_amazon.py
(LWA, the event gateways), moto's DynamoDB, KMS and S3 in process.

Run: .venv/bin/python bench/events_bench.py [--runs 300] [--imports 9] [--output-dir docs/generated]
A benchmark prints figures; it asserts nothing but that each push was reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SRC = ROOT / "lambda_src"
sys.path[:0] = [str(ROOT), str(LAMBDA_SRC)]

import requests

from bench import report as bench_report
from bench.cold_start import Probe, lambda_asset, report
from bench.skill_bench import LIVE_STATE_ENV, MESSAGING_CLIENT, _percentile, live_aws
from sandbox import fake_amazon, fake_pubsub
from sandbox.entry_points import load_module
from sandbox.fake_devices import default_devices
from sandbox.serving import running

PROJECT = "bench-project"
FLOOR_IMPORT = "import google.oauth2.id_token, google.auth.transport.requests, requests"
EVENTS_IMPORT = "import events_function"
TARGET_P99_MS = 50.0
TRAIT = "sdm.devices.traits."
# What the stacks give the events function besides live state's table, key and messaging object.
PUSH_ENV = {
    "PUSH_AUDIENCE": fake_pubsub.AUDIENCE,
    "PUSH_SERVICE_ACCOUNT": fake_pubsub.SERVICE_ACCOUNT,
    "ACK_DEADLINE_S": "10",
}


def _sdm_requests() -> list[str]:
    """Counts every HTTP request this process makes to an SDM path (the events function makes none)."""
    seen: list[str] = []
    original = requests.Session.request

    def counting(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if "/enterprises/" in str(url) or "smartdevicemanagement" in str(url):
            seen.append(str(url))
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = counting  # type: ignore[method-assign,assignment]  # counts, then calls requests'
    return seen


def warm(runs: int) -> dict[str, Any]:
    """`runs` pushes, each a new room temperature of the linked user's thermostat, through a warm
    container behind the function URL stand-in; each answered once its ChangeReport was accepted."""
    sdm_seen = _sdm_requests()
    with live_aws(), fake_amazon.serving(*MESSAGING_CLIENT) as amazon, fake_pubsub.serving() as (pubsub, certs):
        env = {
            **LIVE_STATE_ENV,
            **PUSH_ENV,
            "GOOGLE_CERTS_URL": certs,
            "LWA_TOKEN_URL": amazon.lwa_url,
            **{f"EVENT_GATEWAY_URL_{region}": url for region, url in amazon.gateway_urls.items()},
        }
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            entry = load_module("lambda_src/events_function.py", "bench_events_function")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        events = entry.events
        device = default_devices()[0].to_sdm(PROJECT)
        endpoint_id = _link(events, amazon, device)

        verify_ms: list[float] = []
        verify = events.verifier.verify

        def timed_verify(authorization: str | None) -> Any:
            started = time.perf_counter()
            try:
                return verify(authorization)
            finally:
                verify_ms.append((time.perf_counter() - started) * 1000.0)

        events.verifier.verify = timed_verify
        session = requests.Session()
        samples: list[float] = []
        with running(fake_pubsub.function_url_app(entry.lambda_handler)) as url:
            for index in range(runs + 20):  # the first 20 warm the container (certificates, LWA, clients)
                reading = 18.0 + (index % 2)  # a whole degree each time: a change Alexa shows
                event = fake_pubsub.sdm_event(
                    resource=device["name"],
                    traits={TRAIT + "Temperature": {"ambientTemperatureCelsius": reading}},
                    at=time.time(),
                )
                body = json.dumps(fake_pubsub.envelope(event))
                headers = {"Authorization": pubsub.authorization(), "Content-Type": "application/json"}
                before = len(amazon.gateway.events())
                started = time.perf_counter()
                answer = session.post(url, data=body, headers=headers, timeout=15)
                elapsed = (time.perf_counter() - started) * 1000.0
                if answer.status_code != 204 or len(amazon.gateway.events()) != before + 1:
                    raise SystemExit(f"push {index}: HTTP {answer.status_code}, no ChangeReport accepted")
                if index >= 20:
                    samples.append(elapsed)
        verification = verify_ms[20:]
        reports = [r for r in amazon.gateway.events() if r.event["event"]["header"]["name"] == "ChangeReport"]
    figures = {
        "runs": runs,
        "p50_ms": _percentile(samples, 0.5),
        "p99_ms": _percentile(samples, 0.99),
        "target_p99_ms": TARGET_P99_MS,
        "verify_p50_ms": _percentile(verification, 0.5),
        "verify_share": sum(verification) / sum(samples),
        "sdm_calls_per_event": len(sdm_seen) / (runs + 20),
        "change_reports": len(reports),
        "certificate_fetches": pubsub.cert_fetches,
        "endpoint": endpoint_id,
    }
    print(
        f"\nNest event push -> ChangeReport accepted, warm, {runs} pushes on loopback: "
        f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms (target < {TARGET_P99_MS:.0f} ms); "
        f"token verification p50 {figures['verify_p50_ms']:.2f} ms, {figures['verify_share']:.0%} of the time; "
        f"SDM calls per event {figures['sdm_calls_per_event']:.2f}; certificates fetched {pubsub.cert_fetches}x"
    )
    return figures


def _link(events: Any, amazon: Any, device: dict) -> str:
    """A linked user who sees `device`, its full state stored as a listing left it ten minutes ago."""
    from nest_skill.live_state.http import BoundedHttp
    from nest_skill.live_state.lwa import Credentials, Lwa
    from nest_skill.live_state.nest_events import endpoint_id_of
    from nest_skill.sdm_client import Deadline
    from nest_skill.thermostats import Thermostat

    lwa = Lwa(BoundedHttp(), amazon.lwa_url, lambda: Credentials(*MESSAGING_CLIENT), time.time)
    tokens = lwa.exchange(amazon.lwa.issue_code("bench-user"), Deadline(5))
    endpoint_id = endpoint_id_of(device["name"])
    events.tokens.link("bench-user", "NA", [endpoint_id], tokens)
    events.states.seed("bench-user", [(endpoint_id, device, Thermostat.from_sdm(device).structure)], time.time() - 600)
    return endpoint_id


def cold_start(runs: int) -> dict[str, Any]:
    """The events function's import beside the libraries it needs, and a first push (without a token:
    refused before anything else is read), as Lambda runs them."""
    env = {**LIVE_STATE_ENV, **PUSH_ENV}
    request = fake_pubsub.function_url_request(json.dumps(fake_pubsub.envelope({"eventId": "x"})), None)
    probes = {
        "floor": Probe(FLOOR_IMPORT),
        "events_function": Probe(
            EVENTS_IMPORT,
            request="reply = events_function.lambda_handler(json.loads(sys.stdin.read()), None)\n"
            "assert reply['statusCode'] == 401, reply",
            env=env,
            stdin=json.dumps(request),
        ),
    }
    with lambda_asset(LAMBDA_SRC) as asset:
        return report(
            "Events function cold start as Lambda runs it (import, then a first push refused for want of a token)",
            asset,
            probes,
            runs,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="warm pushes (default 300)")
    bench_report.add_common_arguments(parser)
    args = parser.parse_args()
    figures: dict[str, Any] = {"warm": warm(args.runs)}
    try:
        figures["cold_start"] = cold_start(args.imports)
    except RuntimeError as error:
        # The asset holds Lambda's arm64 wheels; cryptography (google-auth's RS256) has no pure-Python
        # fallback, so its import needs an arm64 machine of the runtime's Python.
        reason = str(error).strip().splitlines()[-1]
        figures["cold_start_unavailable"] = f"not measurable on this {platform.machine()} machine: {reason}"
        print(f"\nEvents function cold start: {figures['cold_start_unavailable']}")
    written = bench_report.record("events", figures, args.output_dir)
    print(f"\nfigures written to {written.with_name(bench_report.JSON_NAME)} and {written}")


if __name__ == "__main__":
    main()
