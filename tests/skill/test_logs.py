"""Structured log lines: request id, intent, SDM status and latency as fields; never a token, an
envelope or what the user said."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
import requests

from nest_skill.custom_skill import interceptors
from sandbox import alexa
from sandbox.alexa import spoken
from tests.skill.sdm import DEVICES_URL, command_url, device_list, error_body, serve_devices, thermostat

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def fields(record: logging.LogRecord) -> dict:
    """The `extra=` fields Lambda's JSON log format adds to a line."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


def test_each_request_logs_one_line_with_its_id_intent_and_latency(skill, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    skill.lambda_handler(alexa.status(), None)
    [handled] = [r for r in caplog.records if r.getMessage() == "handled"]
    assert fields(handled).keys() == {"alexa_request_id", "request_type", "intent", "latency_ms", "ends_session"}
    assert fields(handled)["alexa_request_id"] == "amzn1.echo-api.request.TESTREQUEST"
    assert (handled.request_type, handled.intent, handled.ends_session) == ("IntentRequest", "StatusIntent", True)
    assert handled.latency_ms >= 0


def test_sdm_calls_log_operation_status_and_latency(skill, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living")))
    sdm_api.post(command_url("living"), status=429, json=error_body(429, "RESOURCE_EXHAUSTED", "Rate limited"))
    skill.lambda_handler(alexa.set_temp("70"), None)
    calls = [fields(r) for r in caplog.records if r.getMessage() == "sdm call"]
    assert [(c["sdm_operation"], c["sdm_status"]) for c in calls] == [
        ("devices.list", 200),
        ("devices.executeCommand", 429),
    ]
    assert all(c["latency_ms"] >= 0 for c in calls)


def test_unanswered_sdm_calls_log_the_error_kind(skill, sdm_api, caplog):
    sdm_api.get(DEVICES_URL, body=requests.ConnectTimeout("connect timed out"))
    skill.lambda_handler(alexa.status(), None)
    [failed] = [fields(r) for r in caplog.records if r.getMessage() == "sdm call failed"]
    assert (failed["sdm_operation"], failed["sdm_error"]) == ("devices.list", "TimedOut")


def test_logs_never_hold_the_token_or_what_the_user_said(skill, sdm_api, caplog):
    caplog.set_level(logging.DEBUG)
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living"), thermostat("bed", room="Bedroom")))
    sdm_api.post(command_url("living"), status=401, json=error_body(401, "UNAUTHENTICATED", "invalid"))
    events = [
        alexa.launch(),
        alexa.status(),
        alexa.set_temp("70", "secret cellar"),
        alexa.set_temp("70", "living room"),
        alexa.set_temp("?", "hidden attic"),
        alexa.intent("NoSuchIntent"),
        alexa.session_ended("ERROR", {"type": "INTERNAL_SERVICE_ERROR", "message": "secret cellar"}),
    ]
    for event in events:
        skill.lambda_handler(event, None)
    assert caplog.records
    for record in caplog.records:
        line = json.dumps({"message": record.getMessage(), **fields(record)})  # what Lambda would print
        for secret in (alexa.TOKEN, "secret cellar", "hidden attic", "amzn1.ask.account"):
            assert secret not in line, f"{secret!r} logged in {line}"


LIVING = thermostat("living", room="Living Room")


@pytest.mark.parametrize(
    "event, ends_session", [(alexa.launch(), False), (alexa.intent("AMAZON.StopIntent"), True)], ids=["launch", "stop"]
)
def test_the_request_log_line_has_its_latency_in_tenths_of_a_millisecond(
    skill, caplog, monkeypatch, event, ends_session
):
    """The request timer starts at 100 s on the monotonic clock and the line is written at 100.01234 s."""
    readings = iter([100.0, 100.01234])
    monkeypatch.setattr(interceptors, "time", SimpleNamespace(monotonic=lambda: next(readings)))
    caplog.set_level(logging.INFO)
    skill.lambda_handler(event, None)
    [handled] = [fields(r) for r in caplog.records if r.getMessage() == "handled"]
    assert (handled["latency_ms"], handled["ends_session"]) == (12.3, ends_session)


def test_the_session_end_is_logged_with_its_reason_and_error_type(skill, caplog):
    caplog.set_level(logging.INFO)
    skill.lambda_handler(alexa.session_ended("ERROR", {"type": "INVALID_RESPONSE", "message": "m"}), None)
    skill.lambda_handler(alexa.session_ended("USER_INITIATED"), None)
    ended = [fields(r) for r in caplog.records if "reason" in fields(r)]
    assert [(f["reason"], f["error_type"]) for f in ended] == [("ERROR", "INVALID_RESPONSE"), ("USER_INITIATED", None)]


def test_a_session_end_without_a_reason_is_logged_as_such(skill, caplog):
    caplog.set_level(logging.INFO)
    event = alexa.session_ended()
    del event["request"]["reason"]
    reply = skill.lambda_handler(event, None)
    assert "outputSpeech" not in reply.get("response", {})
    [ended] = [fields(r) for r in caplog.records if r.getMessage() == "session ended"]
    assert (ended["reason"], ended["error_type"]) == (None, None)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_unexpected_error_logs_where_it_happened(skill, sdm_api, caplog, monkeypatch):
    from nest_skill.custom_skill import handlers

    def report(words, thermostats):
        return 1 / 0

    serve_devices(sdm_api, LIVING)
    monkeypatch.setattr(handlers.StatusIntentHandler, "report", staticmethod(report))
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply) == "Sorry, something went wrong. Please try again."
    [logged] = [fields(r) for r in caplog.records if fields(r).get("error_type") == "ZeroDivisionError"]
    assert logged["where"] == f"test_logs.py:{report.__code__.co_firstlineno + 1}"
