"""Bridge load run: the WSGI app under gunicorn (the Procfile's command), moto for S3/KMS, and the
sandbox's fake Google as the token endpoint, all on 127.0.0.1. Bounded in count and time.

Prints requests/s, p50/p99 latency and errors for /health, /authorize and the full /callback exchange,
and the S3 GetObject calls moto saw while the load ran (the warm path must make none). Then the worst
cases against their budgets: the token exchange against endpoints trickling headers or body (4 s), and
concurrent credential reads while S3 accepts connections but never answers (2 s each).

    .venv/bin/python bench/bridge_bench.py [--requests N] [--threads N] [--time-limit S] [--imports N]
                                           [--output-dir docs/generated]

First, the bridge's cold start as Lambda runs it (bench/cold_start.py) and boto3's share of it. The figures
are also written to the output directory's bench.json and bench.md (bench/report.py).

`local_bridge()` is also what the gunicorn integration test runs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import logging
import os
import re
import secrets
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT), str(ROOT / "bridge_src")):  # run as a script: `sandbox` and `oauth_bridge` importable
    if _path not in sys.path:
        sys.path.insert(0, _path)

import boto3
import requests

from bench import report as bench_report
from bench.cold_start import Probe, lambda_asset, package_bytes, report
from oauth_bridge.app import S3_CONFIG
from oauth_bridge.credentials import WAIT_S, CredentialStore, CredentialsUnavailable
from oauth_bridge.properties import format_properties
from oauth_bridge.token_exchange import BUDGET_S, TokenClient, TokenExchangeError
from sandbox.browser import BrowserSession
from sandbox.fake_google import TRICKLING_MODES, trickling_token_endpoint
from sandbox.processes import LOOPBACK, Service, bridge_procfile_argv, free_port

VENV_BIN = Path(sys.executable).parent
BUCKET = "nest-bridge-secrets-bench"
KEY = "secrets/nest.properties"
PROJECT = "00000000-0000-4000-8000-00000000beef"
CLIENT_ID = "1234567890-bench.apps.googleusercontent.com"
VENDOR = "BENCHVENDOR1"
ALEXA_REDIRECT = f"https://layla.amazon.com/api/skill/link/{VENDOR}"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class LocalBridge:
    base_url: str
    google_url: str
    moto_log: Path
    bridge_log: Path
    workers: int

    def s3_get_object_calls(self) -> int:
        """GetObject requests on the secrets object, from moto's request log."""
        pattern = re.compile(rf'"GET /{re.escape(BUCKET)}/{re.escape(KEY)}(\?\S*)? HTTP/')
        return sum(1 for line in self.moto_log.read_text(errors="replace").splitlines() if pattern.search(line))

    def alexa_authorize_query(self, state: str) -> str:
        return urlencode(
            {
                "client_id": "alexa",
                "response_type": "token",
                "state": state,
                "redirect_uri": ALEXA_REDIRECT,
                "scope": "sdm",
            }
        )


def _seed_secrets(moto_url: str, client_secret: str) -> None:
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    key_id = session.client("kms", endpoint_url=moto_url).create_key()["KeyMetadata"]["KeyId"]
    s3 = session.client("s3", endpoint_url=moto_url)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}]
        },
    )
    body = format_properties(
        {"clientid": CLIENT_ID, "clientsecret": client_secret, "statekey": secrets.token_urlsafe(32)}
    )
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=body.encode(), ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)


# What boto3 brings into the bridge's asset; the Lambda runtime has its own copy of the same packages.
BOTO3_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath")
HEALTH_EVENT = {
    "rawPath": "/health",
    "rawQueryString": "",
    "headers": {},
    "requestContext": {"http": {"method": "GET"}},
}


def cold_start(runs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bridge's cold import (which builds its S3 client) and first /health beside its floor, and
    boto3's own share, as Lambda runs them (see bench/cold_start.py); then boto3's share of the asset.
    Returns the cold-start figures and the asset's sizes in MiB."""
    env = {
        **AWS_ENV,
        "SECRETS_BUCKET": BUCKET,
        "SECRETS_KEY": KEY,
        "ALEXA_VENDOR_ID": VENDOR,
        "OAUTH_AUTHORIZATION_URL": f"https://nestservices.google.com/partnerconnections/{PROJECT}/auth",
    }
    probes = {
        "floor": Probe("import boto3, requests, itsdangerous, werkzeug"),
        "lambda_function": Probe(
            "import lambda_function",
            env=env,
            stdin=json.dumps(HEALTH_EVENT),
            request="reply = lambda_function.lambda_handler(json.loads(sys.stdin.read()), None)\n"
            "assert reply['statusCode'] == 200, reply",
        ),
        "boto3 + S3 client": Probe("import boto3\nboto3.client('s3')", env=AWS_ENV),
    }
    with lambda_asset(ROOT / "bridge_src") as asset:
        figures = report("Bridge cold start as Lambda runs it (import, then a first /health)", asset, probes, runs)
        whole, whole_zip = package_bytes(asset.compiled)
        plain, plain_zip = package_bytes(asset.plain)
        boto, boto_zip = package_bytes(
            asset.plain, [path.name for path in asset.plain.iterdir() if path.name.split("-")[0] in BOTO3_PACKAGES]
        )
    mb = 1024 * 1024
    print(
        f"  asset size: {plain / mb:.1f} MiB ({plain_zip / mb:.1f} MiB zipped) without bytecode, "
        f"{whole / mb:.1f} MiB ({whole_zip / mb:.1f} MiB zipped) with it; "
        f"{', '.join(BOTO3_PACKAGES)}: {boto / mb:.1f} MiB ({boto_zip / mb:.1f} MiB zipped) of the sources"
    )
    return figures, {
        "plain": plain / mb,
        "plain_zipped": plain_zip / mb,
        "bytecode": whole / mb,
        "bytecode_zipped": whole_zip / mb,
        "boto3": boto / mb,
        "boto3_zipped": boto_zip / mb,
        "boto3_packages": list(BOTO3_PACKAGES),
    }


@contextlib.contextmanager
def local_bridge(workdir: Path) -> Iterator[LocalBridge]:
    """moto, fake Google and the bridge under gunicorn, each its own process on 127.0.0.1, stopped on exit."""
    moto_port, google_port, bridge_port = free_port(), free_port(), free_port()
    moto_url, google_url = f"http://{LOOPBACK}:{moto_port}", f"http://{LOOPBACK}:{google_port}"
    bridge_url = f"http://{LOOPBACK}:{bridge_port}"
    client_secret = "bench-secret-" + secrets.token_urlsafe(16)
    base_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HOME": str(workdir)}
    moto = Service(
        "moto",
        [str(VENV_BIN / "moto_server"), "-H", LOOPBACK, "-p", str(moto_port)],
        moto_port,
        env={**base_env, **AWS_ENV},
        log_path=workdir / "moto.log",
    )
    google = Service(
        "fake-google",
        [
            sys.executable,
            "-m",
            "sandbox.fake_google",
            "--port",
            str(google_port),
            "--project-id",
            PROJECT,
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            f"{bridge_url}/callback",
        ],
        google_port,
        env={**base_env, "FAKE_GOOGLE_CLIENT_SECRET": client_secret},
        log_path=workdir / "fake_google.log",
    )
    bridge_env = {
        **base_env,
        **AWS_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        "SECRETS_BUCKET": BUCKET,
        "SECRETS_KEY": KEY,
        "ALEXA_VENDOR_ID": VENDOR,
        "PUBLIC_BASE_URL": bridge_url,
        "OAUTH_AUTHORIZATION_URL": f"{google_url}/partnerconnections/{PROJECT}/auth",
        "OAUTH_TOKEN_URL": f"{google_url}/oauth2/v4/token",
    }
    argv = bridge_procfile_argv(f"{LOOPBACK}:{bridge_port}")
    bridge = Service("bridge", argv, bridge_port, env=bridge_env, log_path=workdir / "bridge.log")
    with moto:
        _seed_secrets(moto_url, client_secret)
        with google, bridge:
            yield LocalBridge(
                bridge_url,
                google_url,
                workdir / "moto.log",
                workdir / "bridge.log",
                workers=int(argv[argv.index("--workers") + 1]),
            )


@dataclass(frozen=True)
class Linking:
    """One account linking as the browser saw it."""

    callback_url: str
    """Where Google sent the browser: the bridge's /callback with `code` and the sealed `state`."""
    callback_latency: float
    fragment: dict[str, str]
    """What Alexa received in its redirect's fragment."""


def link_once(session: requests.Session, stack: LocalBridge, state: str) -> Linking:
    """Alexa -> /authorize -> Google approves -> /callback -> Alexa, in a `BrowserSession` (the flow cookie)."""
    to_google = session.get(
        f"{stack.base_url}/authorize?{stack.alexa_authorize_query(state)}", allow_redirects=False, timeout=10
    )
    to_google.raise_for_status()
    approved = session.get(to_google.headers["Location"], allow_redirects=False, timeout=10)
    callback_url = approved.headers["Location"]
    started = time.perf_counter()
    to_alexa = session.get(callback_url, allow_redirects=False, timeout=10)
    latency = time.perf_counter() - started
    location = to_alexa.headers.get("Location", "")
    if to_alexa.status_code != 302 or not location.startswith(ALEXA_REDIRECT + "#") or "access_token=" not in location:
        raise RuntimeError(f"/callback answered {to_alexa.status_code} {location.split('#')[-1].split('&')[0]}")
    return Linking(callback_url, latency, dict(parse_qsl(urlsplit(location).fragment)))


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def figures(self) -> dict[str, Any]:
        done = len(self.latencies)
        p50: float | None
        p99: float | None
        if done >= 2:
            cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
            p50, p99 = statistics.median(self.latencies) * 1000, cuts[98] * 1000
        else:
            p50 = p99 = None
        return {
            "scenario": self.name,
            "requests": done,
            "errors": self.errors,
            "requests_per_s": done / self.elapsed if self.elapsed else 0.0,
            "p50_ms": p50,
            "p99_ms": p99,
        }

    def line(self) -> str:
        row = self.figures()
        p50, p99 = (f"{row[key]:>10.1f}" if row[key] is not None else f"{'-':>10}" for key in ("p50_ms", "p99_ms"))
        return f"{self.name:<22}{row['requests']:>9}{self.errors:>8}{row['requests_per_s']:>10.1f}{p50}{p99}"


def load(
    name: str, one: Callable[[requests.Session, int], float], count: int, threads: int, time_limit_s: float
) -> Result:
    """`count` calls of `one` over `threads` threads, stopping early at `time_limit_s`."""
    result = Result(name)
    lock = threading.Lock()
    issued = iter(range(count))
    deadline = time.monotonic() + time_limit_s

    def worker() -> None:
        with BrowserSession() as session:
            while time.monotonic() < deadline:
                with lock:
                    number = next(issued, None)
                if number is None:
                    return
                try:
                    latency = one(session, number)
                except (requests.RequestException, RuntimeError, KeyError):
                    with lock:
                        result.errors += 1
                    continue
                with lock:
                    result.latencies.append(latency)

    started = time.monotonic()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=time_limit_s + 30)
    result.elapsed = time.monotonic() - started
    return result


def timed_get(url: str, expected_status: int) -> Callable[[requests.Session, int], float]:
    def one(session: requests.Session, _: int) -> float:
        started = time.perf_counter()
        response = session.get(url, allow_redirects=False, timeout=10)
        latency = time.perf_counter() - started
        if response.status_code != expected_status:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return latency

    return one


def warm_up(stack: LocalBridge, threads: int) -> int:
    """Until every worker has read the secrets object once (bounded); returns the reads seen."""
    url = f"{stack.base_url}/authorize?{stack.alexa_authorize_query('warm-up')}"
    for _ in range(20):
        load("warm-up", timed_get(url, 302), count=threads * 10, threads=threads, time_limit_s=10)
        if stack.s3_get_object_calls() >= stack.workers:
            break
    return stack.s3_get_object_calls()


def exchange_against(mode: str) -> float:
    """Seconds until a production TokenClient gives up on a token endpoint trickling per `mode` every 0.3 s."""
    with trickling_token_endpoint(mode, interval_s=0.3, steps=60) as token_url:
        started = time.monotonic()
        with contextlib.suppress(TokenExchangeError):
            TokenClient(token_url).exchange(code="c", client_id="i", client_secret="s", redirect_uri="https://b/cb")
        return time.monotonic() - started


def credentials_while_s3_hangs(concurrent_requests: int = 4) -> tuple[float, float]:
    """Slowest of `concurrent_requests` reads, then one more, while S3 accepts and never answers (seconds)."""
    with socket.create_server((LOOPBACK, 0), backlog=64) as listener:
        s3 = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            endpoint_url=f"http://{LOOPBACK}:{listener.getsockname()[1]}",
            config=S3_CONFIG,
        )
        store = CredentialStore(s3, BUCKET, KEY)

        def one(_: int) -> float:
            started = time.monotonic()
            with contextlib.suppress(CredentialsUnavailable):
                store.get()
            return time.monotonic() - started

        with concurrent.futures.ThreadPoolExecutor(concurrent_requests) as pool:
            slowest = max(pool.map(one, range(concurrent_requests)))
        return slowest, one(0)


def worst_cases() -> tuple[bool, list[dict[str, Any]]]:
    """Prints each worst case beside its budget; True when all ended within it (0.5 s of slack), and the
    cases as figures."""
    within = True
    cases: list[dict[str, Any]] = []
    print("worst cases (production settings)              seconds    budget")
    for mode in TRICKLING_MODES:
        elapsed = exchange_against(mode)
        within &= elapsed <= BUDGET_S + 0.5
        case = f"token exchange, {mode.replace('_', ' ')} every 0.3 s"
        cases.append({"case": case, "seconds": elapsed, "budget_s": BUDGET_S})
        print(f"{case:<46}{elapsed:>9.2f}{BUDGET_S:>10.1f}")
    logging.disable(logging.ERROR)  # the store's operator line ("… Timeout") is the expected outcome here
    try:
        slowest, next_one = credentials_while_s3_hangs()
    finally:
        logging.disable(logging.NOTSET)
    within &= slowest <= WAIT_S + 0.5 and next_one <= 0.5
    print(f"{'secrets read, S3 hanging: slowest of 4 at once':<46}{slowest:>9.2f}{WAIT_S:>10.1f}")
    print(f"{'secrets read, S3 hanging: the next request':<46}{next_one:>9.2f}{'(cached)':>10}")
    cases += [
        {
            "case": "secrets read while S3 hangs: the slowest of 4 concurrent requests",
            "seconds": slowest,
            "budget_s": WAIT_S,
        },
        {"case": "secrets read while S3 hangs: the request after them", "seconds": next_one, "budget_s": None},
    ]
    return within, cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="per scenario (default 400)")
    parser.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per scenario (default 20)")
    parser.add_argument("--imports", type=int, default=9, help="fresh processes per cold-start figure (default 9)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=bench_report.GENERATED,
        help="where bench.json and bench.md are written (default docs/generated)",
    )
    args = parser.parse_args()

    cold, asset = cold_start(args.imports)

    workdir = ROOT / "build" / "bench-bridge"
    workdir.mkdir(parents=True, exist_ok=True)
    with local_bridge(workdir) as stack:
        reads_at_warm_up = warm_up(stack, args.threads)
        authorize_url = f"{stack.base_url}/authorize?{stack.alexa_authorize_query('bench-state')}"
        results = [
            load("/health", timed_get(f"{stack.base_url}/health", 200), args.requests, args.threads, args.time_limit),
            load("/authorize", timed_get(authorize_url, 302), args.requests, args.threads, args.time_limit),
            load(
                "/callback (exchange)",
                lambda session, n: link_once(session, stack, f"bench-{n}").callback_latency,
                args.requests,
                args.threads,
                args.time_limit,
            ),
        ]
        reads_during_load = stack.s3_get_object_calls() - reads_at_warm_up

    workers = stack.workers
    print(
        f"bridge bench: gunicorn (Procfile: {workers} workers) on 127.0.0.1, moto S3/KMS, fake Google token "
        f"endpoint; {args.threads} client threads, up to {args.requests} requests or {args.time_limit:.0f} s each"
    )
    print(f"{'scenario':<22}{'requests':>9}{'errors':>8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for result in results:
        print(result.line())
    print(
        "(/callback: req/s counts whole linkings, /authorize + Google + /callback; the latencies are the "
        "/callback request alone, token exchange included)"
    )
    print(
        f"S3 GetObject on the secrets object: {reads_at_warm_up} while warming {workers} workers, "
        f"{reads_during_load} during the load run (warm path; must be 0)"
    )
    within_budgets, cases = worst_cases()
    failed = reads_during_load != 0 or any(result.errors for result in results) or not within_budgets
    written = bench_report.record(
        "bridge",
        {
            "cold_start": cold,
            "asset_mib": asset,
            "load": {
                "workers": workers,
                "threads": args.threads,
                "requests": args.requests,
                "time_limit_s": args.time_limit,
                "rows": [result.figures() for result in results],
            },
            "s3_get_object": {"warming": reads_at_warm_up, "warm_path": reads_during_load},
            "worst_cases": cases,
            "passed": not failed,
        },
        args.output_dir,
    )
    print(f"figures written to {written.with_name(bench_report.JSON_NAME)} and {written}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
