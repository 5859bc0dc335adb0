"""The WSGI app as Elastic Beanstalk runs it: the Procfile's gunicorn command, configured from the
environment, against moto server (S3/KMS via AWS_ENDPOINT_URL) and the fake Google, all on 127.0.0.1."""

from __future__ import annotations

import concurrent.futures
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from bench.bridge_bench import PROJECT, link_once, local_bridge
from sandbox.browser import BrowserSession

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with local_bridge(tmp_path_factory.mktemp("bridge-gunicorn")) as running:
        yield running


def test_the_procfile_command_serves_the_whole_flow(stack):
    with BrowserSession() as session:
        fragment = link_once(session, stack, "alexa-state-gunicorn").fragment
        assert fragment["state"] == "alexa-state-gunicorn" and fragment["token_type"] == "Bearer"
        devices = session.get(
            f"{stack.google_url}/v1/enterprises/{PROJECT}/devices",
            timeout=5,
            headers={"Authorization": f"Bearer {fragment['access_token']}"},
        )
        assert devices.status_code == 200


def test_refusals_are_pages_and_health_answers(stack):
    health = requests.get(f"{stack.base_url}/health", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    off_list = requests.get(
        f"{stack.base_url}/authorize",
        allow_redirects=False,
        timeout=5,
        params={"response_type": "token", "state": "s", "redirect_uri": "https://evil.example/"},
    )
    assert off_list.status_code == 400 and "Location" not in off_list.headers
    assert off_list.headers["Content-Type"] == "text/html; charset=utf-8"


def test_each_worker_reads_the_secrets_object_at_most_once(stack):
    with BrowserSession() as session:
        for number in range(20):
            response = session.get(
                f"{stack.base_url}/authorize?{stack.alexa_authorize_query(f's{number}')}",
                allow_redirects=False,
                timeout=5,
            )
            assert response.status_code == 302
    assert 1 <= stack.s3_get_object_calls() <= stack.workers


def test_logs_are_json_lines_without_codes_tokens_or_states(stack):
    with BrowserSession() as session:
        linking = link_once(session, stack, "alexa-state-for-log-check")
    callback = dict(parse_qsl(urlsplit(linking.callback_url).query))
    text = stack.bridge_log.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    linked = [record for record in records if record.get("outcome") == "linked"]
    assert linked and {"timestamp", "level", "event", "route", "status", "duration_ms"} <= set(linked[0])
    for secret in (callback["code"], callback["state"], linking.fragment["access_token"], "alexa-state-for-log-check"):
        assert secret not in text


def test_concurrent_linkings_far_above_the_thread_count_neither_mix_nor_fail(stack):
    """40 browsers at once against 2 workers x 4 threads: each gets its own state back with its own token."""

    def one(number: int) -> tuple[str, str]:
        with BrowserSession() as session:
            fragment = link_once(session, stack, f"concurrent-{number}").fragment
        return fragment["state"], fragment["access_token"]

    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        results = list(pool.map(one, range(40)))
    assert [state for state, _ in results] == [f"concurrent-{number}" for number in range(40)]
    assert len({token for _, token in results}) == 40


def test_a_callback_from_another_browser_gets_no_token(stack):
    with BrowserSession() as starter, BrowserSession() as other:
        to_google = starter.get(
            f"{stack.base_url}/authorize?{stack.alexa_authorize_query('s-foreign')}", allow_redirects=False, timeout=5
        )
        callback_url = starter.get(to_google.headers["Location"], allow_redirects=False, timeout=5).headers["Location"]
        to_alexa = other.get(callback_url, allow_redirects=False, timeout=5)
    assert to_alexa.status_code == 302
    assert to_alexa.headers["Location"].endswith("#error=access_denied&state=s-foreign")
