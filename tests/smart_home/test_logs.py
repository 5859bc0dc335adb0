"""The smart-home door's log lines: one per directive naming it, its outcome and latency; a warning naming
the SDM error when discovery fails; the traceback of anything unexpected, answered as INTERNAL_ERROR."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest

from nest_skill.smart_home import dispatcher
from sandbox import alexa
from tests.skill.sdm import DEVICES_URL, error_body, thermostat
from tests.skill.test_logs import fields
from tests.smart_home.conftest import setup


@pytest.mark.parametrize(
    "directive, logged",
    [
        (
            alexa.report_state("living"),
            {"directive": "Alexa.ReportState", "outcome": "StateReport", "latency_ms": 12.3},
        ),
        (
            alexa.report_state("attic"),
            {"directive": "Alexa.ReportState", "outcome": "NO_SUCH_ENDPOINT", "latency_ms": 12.3},
        ),
        ({"directive": []}, {"directive": "invalid", "outcome": "INVALID_DIRECTIVE", "latency_ms": 12.3}),
    ],
    ids=["answered", "error", "invalid"],
)
def test_each_directive_logs_one_line_with_its_name_outcome_and_latency(
    skill, sdm_api, caplog, monkeypatch, directive, logged
):
    """The directive arrives at 100 s on the monotonic clock and is answered at 100.01234 s."""
    readings = iter([100.0, 100.01234])
    monkeypatch.setattr(dispatcher, "time", SimpleNamespace(monotonic=lambda: next(readings), time=time.time))
    setup(sdm_api, thermostat())
    caplog.set_level(logging.INFO)
    skill.lambda_handler(directive, None)
    [line] = [r for r in caplog.records if r.name == "nest_skill.smart_home.dispatcher"]
    assert (line.levelno, line.getMessage(), fields(line)) == (logging.INFO, "directive handled", logged)


def test_a_failed_discovery_logs_a_warning_naming_the_sdm_error(send, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, status=401, json=error_body(401, "UNAUTHENTICATED", "Request had invalid credentials."))
    send(alexa.discover())
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert (warning.name, warning.getMessage(), fields(warning)) == (
        "nest_skill.smart_home.dispatcher",
        "discovery failed",
        {"sdm_error": "Unauthenticated"},
    )


def test_an_unexpected_failure_is_logged_with_its_traceback_and_answered_as_internal_error(
    skill, sdm_api, caplog, monkeypatch
):
    setup(sdm_api, thermostat())
    monkeypatch.setattr("nest_skill.account.NestAccount.carry_out", lambda *a: {}["bug"])
    reply = skill.lambda_handler(alexa.set_target("living", 70), None)
    assert (reply["event"]["payload"]["type"], reply["event"]["payload"]["message"]) == (
        "INTERNAL_ERROR",
        "unexpected failure",
    )
    [failed] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (failed.name, failed.getMessage(), failed.exc_info[0]) == (
        "nest_skill.smart_home.dispatcher",
        "directive failed",
        KeyError,
    )
