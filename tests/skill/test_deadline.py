"""The deadline is a wall clock. A loopback stand-in in front of the fake Google
trickles its headers or body; the user still hears the skill's own "Nest didn't answer in time"
well within Alexa's 8 s, however slowly the bytes come."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from nest_skill.sdm_client import LAMBDA_MARGIN_S, SDM_BUDGET_S
from sandbox import alexa
from sandbox.alexa import spoken
from sandbox.fake_google import FakeGoogle, TricklingFront
from sandbox.serving import in_background, running
from tests.skill.conftest import LambdaContext

PROJECT = "fake-sdm-project"
TIMED_OUT = "Sorry, Nest didn't answer in time. Please try again in a moment."
# Lambda reports 2 s left: SDM gets 1.5 s of it.
REMAINING_MS = 2000
SLACK_S = 0.4


@pytest.fixture
def fake():
    return FakeGoogle(
        PROJECT,
        "skill-test.apps.googleusercontent.com",
        "skill-test-secret",
        ["https://layla.amazon.com/api/skill/link/SKILLTEST"],
    )


@contextlib.contextmanager
def fronted(fake, load_skill, part: str, only: str = "", interval: float = 0.4, tls=None):
    """The skill in a fresh container and the TricklingFront it reaches the fake through (over HTTPS
    with `tls`, trusting only the sandbox's certificate authority). Each trickle ends 3 s after the
    longest budget here, so a skill that ignores its deadline fails in seconds, not minutes."""
    with running(fake) as url:
        front = TricklingFront(
            url,
            part,
            interval=interval,
            only=only,
            max_seconds=SDM_BUDGET_S + 3,
            tls=tls.server_context() if tls else None,
        )
        with in_background(front) as base:
            skill = load_skill(nest_project_id=PROJECT, sdm_api_base_url=f"{base}/v1")
            if tls:
                skill.sdm._session.verify = str(tls.ca_file)  # production trusts certifi's roots: Google's
            yield skill, front


@contextlib.contextmanager
def trickling(fake, load_skill, part: str, only: str = "", interval: float = 0.4, tls=None):
    with fronted(fake, load_skill, part, only, interval, tls) as (skill, _):
        yield skill


def timed(skill, event, remaining_ms=REMAINING_MS):
    started = time.monotonic()
    reply = skill.lambda_handler(event, LambdaContext(remaining_ms) if remaining_ms else None)
    return spoken(reply), time.monotonic() - started


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickled_device_list_ends_at_the_deadline(fake, load_skill, part):
    with trickling(fake, load_skill, part) as skill:
        text, elapsed = timed(skill, alexa.status(token=fake.grant_access_token()))
    assert text == TIMED_OUT
    assert elapsed < REMAINING_MS / 1000 - LAMBDA_MARGIN_S + SLACK_S


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickled_command_ends_at_the_deadline_and_says_so(fake, load_skill, part):
    """SDM's command answer is short ("{}"): a byte a second outlasts a 1 s budget. The command went
    out, so the answer may not claim that nothing changed."""
    with trickling(fake, load_skill, part, only=":executeCommand", interval=1.0) as skill:
        text, elapsed = timed(skill, alexa.set_temp("21", "living room", token=fake.grant_access_token()), 1500)
    assert text == (
        "Nest didn't confirm the change to the Living Room, so it may or may not have been "
        "made. Ask me for the status in a moment."
    )
    assert elapsed < 1.5 - LAMBDA_MARGIN_S + SLACK_S


def test_a_body_at_one_byte_every_0_4_s_is_answered_within_alexas_8_s(fake, load_skill):
    """SDM answers 200 and sends its body one byte every 0.4 s: the skill still answers within Alexa's 8 s
    (without the wall-clock deadline, each byte restarts requests' read timeout and the skill runs 12 s)."""
    with trickling(fake, load_skill, "body") as skill:
        text, elapsed = timed(skill, alexa.status(token=fake.grant_access_token()), remaining_ms=None)
    assert text == TIMED_OUT
    assert elapsed < SDM_BUDGET_S + SLACK_S < 8.0


def test_an_untrickled_exchange_through_the_front_is_unaffected(fake, load_skill):
    with trickling(fake, load_skill, "body", only=":executeCommand") as skill:
        text, _ = timed(skill, alexa.status(token=fake.grant_access_token()))
    assert text.startswith("The Living Room is 19.5 degrees")


@pytest.mark.parametrize("part", ["headers", "body"])
def test_over_https_a_trickled_device_list_ends_at_the_deadline(fake, load_skill, tls, part):
    """Google is reached over TLS, where the socket the watchdog shuts is wrapped after it connects."""
    with trickling(fake, load_skill, part, tls=tls) as skill:
        text, elapsed = timed(skill, alexa.status(token=fake.grant_access_token()))
    assert text == TIMED_OUT
    assert elapsed < REMAINING_MS / 1000 - LAMBDA_MARGIN_S + SLACK_S


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_a_warm_containers_kept_alive_connection_is_cut_at_the_deadline_too(fake, load_skill, tls, https):
    """A warm container sends its next request on the connection its last one left open. Headers
    trickled a line every 0.3 s: no single read waits long, so only the watchdog, shown the reused
    socket when the pool hands it out, ends the command by its 1 s budget."""
    token = fake.grant_access_token()
    with fronted(fake, load_skill, "headers", only=":executeCommand", interval=0.3, tls=tls if https else None) as (
        skill,
        front,
    ):
        status, _ = timed(skill, alexa.status(token=token))
        text, elapsed = timed(skill, alexa.set_temp("21", "living room", token=token), 1500)
    assert status.startswith("The Living Room is 19.5 degrees")
    assert text == (
        "Nest didn't confirm the change to the Living Room, so it may or may not have been "
        "made. Ask me for the status in a moment."
    )
    assert elapsed < 1.5 - LAMBDA_MARGIN_S + SLACK_S
    assert front.connections == 1, "the command was meant to reuse the status call's connection"


def test_a_warm_container_ends_its_second_trickled_request_at_the_deadline_too(fake, load_skill):
    """The watchdog is one thread per container: after ending one exchange it must still watch the next."""
    with trickling(fake, load_skill, "body") as skill:
        token = fake.grant_access_token()
        first, _ = timed(skill, alexa.status(token=token))
        second, elapsed = timed(skill, alexa.status(token=token))
    assert (first, second) == (TIMED_OUT, TIMED_OUT)
    assert elapsed < REMAINING_MS / 1000 - LAMBDA_MARGIN_S + SLACK_S


def test_a_warm_container_reuses_its_connection_after_the_last_requests_deadline(fake, load_skill):
    """An exchange that ended leaves the watchdog's list: its kept-alive socket outlives its deadline, so the
    next request skips a new connection (a TLS handshake to Google in production)."""
    token = fake.grant_access_token()
    with fronted(fake, load_skill, "body", only="/no-request-has-this") as (skill, front):
        status, _ = timed(skill, alexa.status(token=token), 1500)
        time.sleep(1.2)  # past the status call's budget: 1.5 s left, less the 0.5 s margin
        text, _ = timed(skill, alexa.set_temp("21", "living room", token=token), 1500)
    assert status.startswith("The Living Room is 19.5 degrees")
    assert text.startswith("OK")
    assert front.connections == 1


def test_the_watchdog_is_a_daemon_thread_named_sdm_deadline(fake, load_skill):
    """Named for thread dumps; a daemon, so it never holds a process open."""
    with fronted(fake, load_skill, "body", only="/no-request-has-this") as (skill, _):
        timed(skill, alexa.status(token=fake.grant_access_token()))
    watchdogs = [thread for thread in threading.enumerate() if thread.name == "sdm-deadline"]
    assert watchdogs and all(thread.daemon for thread in watchdogs)
