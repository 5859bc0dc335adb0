"""SdmClient: where the Bearer token goes (never along a redirect), what an answer must look like, the
wall-clock deadline and the time limits handed to requests, the per-user device cache, and the log line
of each operation."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
import requests

from nest_skill.config import SkillConfig
from nest_skill.sdm_client import (
    DEVICE_CACHE_MAX_USERS,
    DEVICE_CACHE_TTL_S,
    Deadline,
    InvalidResponse,
    SdmClient,
    SdmError,
    TimedOut,
    Unavailable,
    _Exchange,
    _Watchdog,
)
from sandbox.serving import running
from tests.clock import Clock
from tests.skill.sdm import DEVICES_URL, PROJECT, STRUCTURES_URL, command_url, device_list, device_url, thermostat


def test_the_device_list_is_cached_for_at_most_a_minute(client, clock, sdm_api):
    assert DEVICE_CACHE_TTL_S <= 60
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    client.list_devices("token-a", Deadline(5))
    clock.advance(DEVICE_CACHE_TTL_S - 1)
    client.list_devices("token-a", Deadline(5))
    assert len(sdm_api.calls) == 1
    clock.advance(1)
    client.list_devices("token-a", Deadline(5))
    assert len(sdm_api.calls) == 2


def test_the_cache_is_bounded_and_keyed_by_a_hash_of_the_token(client, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    for n in range(DEVICE_CACHE_MAX_USERS + 5):
        client.list_devices(f"token-{n}", Deadline(5))
    entries = client._devices._entries
    assert len(entries) == DEVICE_CACHE_MAX_USERS
    assert not any("token-" in key for key in entries)
    client.list_devices(f"token-{DEVICE_CACHE_MAX_USERS + 4}", Deadline(5))
    assert len(sdm_api.calls) == DEVICE_CACHE_MAX_USERS + 5


class Recorded(Exception):
    pass


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Sent(Exception):
    pass


def test_a_redirect_from_sdm_is_not_followed_and_the_token_goes_nowhere_else():
    seen = []

    def sdm(environ, start_response):
        seen.append((environ["PATH_INFO"], environ.get("HTTP_AUTHORIZATION")))
        if environ["PATH_INFO"].endswith("/devices"):
            start_response("302 Found", [("Location", "/elsewhere")])
            return [b""]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(device_list(thermostat())).encode()]

    with running(sdm) as base_url:
        client = SdmClient(SkillConfig(nest_project_id=PROJECT, sdm_api_base_url=base_url))
        with pytest.raises(Unavailable) as error:
            client.list_devices("secret-token", Deadline(3))
    assert error.value.status == 302
    assert seen == [(f"/enterprises/{PROJECT}/devices", "Bearer secret-token")]


@pytest.mark.parametrize("body", [[], {"devices": {}}, {"devices": [1]}, "not json"])
def test_a_200_that_is_no_device_list_is_an_invalid_response(client, sdm_api, body):
    if isinstance(body, str):
        sdm_api.get(DEVICES_URL, body=body)
    else:
        sdm_api.get(DEVICES_URL, json=body)
    with pytest.raises(InvalidResponse) as error:
        client.list_devices("token", Deadline(5))
    assert (str(error.value), error.value.detail, error.value.reason) == (
        "devices.list: InvalidResponse (HTTP 200)",
        "",
        "",
    )


def test_an_empty_account_has_no_devices(client, sdm_api):
    sdm_api.get(DEVICES_URL, json={})
    assert client.list_devices("token", Deadline(5)) == []


def test_a_device_that_is_not_json_is_an_invalid_response(client, sdm_api):
    sdm_api.get(device_url("living"), body="<html>")
    with pytest.raises(InvalidResponse) as error:
        client.get_device("token", f"enterprises/{PROJECT}/devices/living", Deadline(5))
    assert str(error.value) == "devices.get: InvalidResponse (HTTP 200)"


def test_reading_one_device_drops_the_cached_list_and_checks_its_shape(client, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    sdm_api.get(device_url("living"), json=["not", "a", "device"])
    client.list_devices("token", Deadline(5))
    with pytest.raises(InvalidResponse) as error:
        client.get_device("token", f"enterprises/{PROJECT}/devices/living", Deadline(5))
    assert str(error.value) == "devices.get: InvalidResponse (HTTP 200)"
    client.list_devices("token", Deadline(5))
    assert [call.request.url for call in sdm_api.calls] == [DEVICES_URL, device_url("living"), DEVICES_URL]
    assert [r.sdm_operation for r in caplog.records if r.getMessage() == "sdm call"] == [
        "devices.list",
        "devices.get",
        "devices.list",
    ]


def test_the_device_list_is_cached_30_s_for_64_users(client, clock, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    client.list_devices("a", Deadline(5, clock))
    clock.advance(29.9)
    client.list_devices("a", Deadline(5, clock))
    assert len(sdm_api.calls) == 1
    clock.advance(0.1)
    client.list_devices("a", Deadline(5, clock))
    assert len(sdm_api.calls) == 2
    for n in range(64):
        client.list_devices(f"user-{n}", Deadline(5, clock))
    client.list_devices(f"user-{63}", Deadline(5, clock))
    assert len(sdm_api.calls) == 66
    client.list_devices("a", Deadline(5, clock))
    assert len(sdm_api.calls) == 67


def test_a_user_whose_list_expired_and_was_read_again_is_not_the_next_evicted(client, clock, sdm_api):
    """A full cache evicts the oldest list. A list read again after it expired is the newest, so a new
    user must evict an older entry, not it: SDM allows each user only 5 lists a minute."""
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    client.list_devices("old", Deadline(5, clock))
    client.list_devices("returning", Deadline(5, clock))
    for n in range(62):
        client.list_devices(f"user-{n}", Deadline(5, clock))
    clock.advance(31)
    client.list_devices("returning", Deadline(5, clock))
    client.list_devices("newcomer", Deadline(5, clock))
    client.list_devices("another newcomer", Deadline(5, clock))
    calls = len(sdm_api.calls)
    client.list_devices("returning", Deadline(5, clock))
    assert (calls, len(sdm_api.calls)) == (67, 67)


@pytest.mark.parametrize("seconds, timeout", [(5.0, (1.5, 5.0)), (1.0, (1.0, 1.0)), (0.25, (0.25, 0.25))])
def test_the_connect_and_read_timeouts_handed_to_requests(client, clock, monkeypatch, seconds, timeout):
    sent = []

    def request(method, url, **kwargs):
        sent.append((method, url, kwargs["timeout"], kwargs["allow_redirects"], kwargs["headers"]))
        raise Recorded

    monkeypatch.setattr(client._session, "request", request)
    with pytest.raises(Recorded):
        client.list_devices("token", Deadline(seconds, clock))
    assert sent == [("GET", DEVICES_URL, timeout, False, {"Authorization": "Bearer token"})]


@pytest.mark.parametrize(
    "context, budget", [(None, 5.5), (Context(10_000), 5.5), (Context(3_000), 2.5), (Context(400), 0.0)]
)
def test_the_sdm_budget_is_5_5_s_or_lambdas_time_less_half_a_second(context, budget):
    assert Deadline.for_request(context).remaining() == pytest.approx(budget, abs=0.001)


def test_under_a_tenth_of_a_second_left_no_call_is_made(client, clock, sdm_api):
    with pytest.raises(TimedOut):
        client.list_devices("token", Deadline(0.0999, clock))
    with pytest.raises(TimedOut) as command:
        client.execute_command(
            "token",
            "enterprises/p/devices/d",
            "sdm.devices.commands.ThermostatMode.SetMode",
            {"mode": "HEAT"},
            Deadline(0.0999, clock),
        )
    assert len(sdm_api.calls) == 0
    assert (command.value.sent, command.value.command_may_have_run) == (False, False)  # "it wasn't changed"


def test_with_just_over_a_tenth_of_a_second_left_the_call_is_made(client, clock, monkeypatch):
    """The other side of test_under_a_tenth_of_a_second_left_no_call_is_made: 0.105 s is enough to try."""
    sent = []

    def request(method, url, **kwargs):
        sent.append((method, url))
        raise Sent

    monkeypatch.setattr(client._session, "request", request)
    with pytest.raises(Sent):
        client.list_devices("token", Deadline(0.105, clock))
    with pytest.raises(Sent):
        client.execute_command(
            "token",
            f"enterprises/{PROJECT}/devices/d",
            "sdm.devices.commands.ThermostatMode.SetMode",
            {"mode": "HEAT"},
            Deadline(0.105, clock),
        )
    assert sent == [("GET", DEVICES_URL), ("POST", command_url("d"))]


def test_a_socket_connected_after_the_deadline_is_shut_at_once():
    """A connect that completes after the watchdog has expired its exchange (a slow TLS handshake) must
    not then wait out a read: the late socket is shut as it is shown."""
    watchdog = _Watchdog()
    ours, theirs = socket.socketpair()
    with ours, theirs, _Exchange(watchdog, 0.0) as exchange:
        for _ in range(200):
            if exchange.expired:
                break
            time.sleep(0.01)
        exchange.watch(ours)
        ours.settimeout(1.0)
        assert (exchange.expired, ours.recv(1)) == (True, b"")


def test_a_socket_already_closed_when_the_deadline_passes_is_left_alone():
    """The connection pool may have closed a socket the exchange showed the watchdog: shutting it
    fails with EBADF, which must neither reach the request nor stop the watchdog's thread."""
    watchdog = _Watchdog()
    ours, theirs = socket.socketpair()
    ours.close()
    theirs.close()
    with _Exchange(watchdog, 0.0) as exchange:
        for _ in range(200):
            if exchange.expired:
                break
            time.sleep(0.01)
        exchange.watch(ours)
    assert exchange.expired is True


def test_structures_and_failures_are_logged_by_operation(client, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(STRUCTURES_URL, body="not json")
    with pytest.raises(InvalidResponse) as error:
        client.list_structures("token", Deadline(5))
    assert str(error.value) == "structures.list: InvalidResponse (HTTP 200)"
    assert [r.sdm_operation for r in caplog.records if r.getMessage() == "sdm call"] == ["structures.list"]
    with pytest.raises(TimedOut) as timed_out:
        client.list_devices("token", Deadline(0.0, Clock()))
    assert str(timed_out.value) == "devices.list: TimedOut"


def test_a_failed_call_logs_its_latency(client, sdm_api, caplog):
    sdm_api.get(DEVICES_URL, body=requests.ConnectionError("refused"))
    with pytest.raises(SdmError):
        client.list_devices("token", Deadline(5))
    [failed] = [r for r in caplog.records if r.getMessage() == "sdm call failed"]
    assert (failed.sdm_operation, failed.sdm_error, failed.latency_ms) == ("devices.list", "Unreachable", 0.0)


def test_latency_is_logged_in_milliseconds_to_a_tenth(client, clock, sdm_api, caplog):
    caplog.set_level(logging.INFO)

    def slow(request):
        clock.advance(0.24681)
        return 200, {}, json.dumps(device_list(thermostat()))

    sdm_api.add_callback("GET", DEVICES_URL, callback=slow)
    client.list_devices("token", Deadline(5, clock))
    [call] = [r for r in caplog.records if r.getMessage() == "sdm call"]
    assert (call.sdm_status, call.latency_ms) == (200, 246.8)


def test_a_cache_hit_is_logged_by_operation(client, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    client.list_devices("token", Deadline(5))
    client.list_devices("token", Deadline(5))
    assert [(r.getMessage(), r.sdm_operation) for r in caplog.records] == [
        ("sdm call", "devices.list"),
        ("sdm cache hit", "devices.list"),
    ]
