"""Structured log lines: request id, intent, SDM status and latency as fields; never a token, an
envelope or what the user said."""

from __future__ import annotations

import json
import logging

import requests

from sandbox import alexa
from tests.skill.sdm import DEVICES_URL, command_url, device_list, error_body, thermostat

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
    assert [(c["sdm_operation"], c["sdm_status"]) for c in calls] == [("devices.list", 200),
                                                                     ("devices.executeCommand", 429)]
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
        alexa.launch(), alexa.status(), alexa.set_temp("70", "secret cellar"),
        alexa.set_temp("70", "living room"), alexa.set_temp("?", "hidden attic"),
        alexa.intent("NoSuchIntent"), alexa.session_ended("ERROR", {"type": "INTERNAL_SERVICE_ERROR",
                                                                    "message": "secret cellar"}),
    ]
    for event in events:
        skill.lambda_handler(event, None)
    assert caplog.records
    for record in caplog.records:
        line = json.dumps({"message": record.getMessage(), **fields(record)})  # what Lambda would print
        for secret in (alexa.TOKEN, "secret cellar", "hidden attic", "amzn1.ask.account"):
            assert secret not in line, f"{secret!r} logged in {line}"
