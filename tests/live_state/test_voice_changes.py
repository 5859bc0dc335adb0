"""The first event source: a change made through the custom skill sends a ChangeReport (cause
VOICE_INTERACTION) once its answer is decided, through the real lambda_handler with live state
configured from the environment; a slow gateway never delays the answer past the report budget."""

from __future__ import annotations

import json
import logging
import time
from types import SimpleNamespace

import pytest
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from nest_skill.custom_skill import interceptors
from nest_skill.sdm_client import LAMBDA_MARGIN_S, SDM_BUDGET_S
from sandbox import alexa
from sandbox.entry_points import load_module
from tests.live_state.conftest import REGION, TABLE, home, thermostat
from tests.live_state.test_accept_grant import accept_grant
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import PROJECT

_loaded = iter(range(10_000))


@pytest.fixture
def container(aws, amazon, monkeypatch):
    """A cold-started skill container with live state on, against the stand-ins and moto."""
    env = {
        "NEST_PROJECT_ID": PROJECT,
        "SKILL_ID": alexa.SKILL_ID,
        "LIVE_STATE_TABLE": TABLE,
        "LIVE_STATE_KEY": aws["key_id"],
        "LIVE_STATE_REGION": REGION,
        "MESSAGING_CREDENTIALS_BUCKET": "secrets",
        "MESSAGING_CREDENTIALS_OBJECT": "messaging.json",
        "AWS_REGION": REGION,
        "LWA_TOKEN_URL": amazon.lwa_url,
        "GOOGLE_TOKENINFO_URL": amazon.tokeninfo_url,
        **{f"EVENT_GATEWAY_URL_{r}": url for r, url in amazon.gateway_urls.items()},
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_module("lambda_src/lambda_function.py", f"live_state_container_{next(_loaded)}")


@pytest.fixture
def linked(container, amazon, sdm_api):
    home(sdm_api, thermostat("living"))
    amazon.tokeninfo.register(alexa.TOKEN, "google-sub-ann")
    reply = container.lambda_handler(accept_grant(amazon.lwa.issue_code("ann"), alexa.TOKEN), LambdaContext(7000))
    assert reply["event"]["header"]["name"] == "AcceptGrant.Response"
    return container


def test_a_voice_set_temperature_sends_one_change_report(linked, amazon):
    reply = linked.lambda_handler(alexa.set_temp("72", "living room"), LambdaContext(7000))
    assert "72" in alexa.spoken(reply)
    [received] = amazon.gateway.events("NA")
    event = received.event["event"]
    assert (event["header"]["name"], event["endpoint"]["endpointId"]) == ("ChangeReport", "living")
    assert event["payload"]["change"]["cause"]["type"] == "VOICE_INTERACTION"
    assert received.customer == "ann"


def test_a_read_sends_nothing(linked, amazon):
    linked.lambda_handler(alexa.status("living room"), LambdaContext(7000))
    assert amazon.gateway.events() == []


def test_a_silent_gateway_delays_the_answer_by_at_most_the_report_budget(linked, amazon):
    from nest_skill.live_state.reporter import REPORT_BUDGET_S

    amazon.gateway.behave("NA", "never")
    started = time.monotonic()
    reply = linked.lambda_handler(alexa.set_temp("72", "living room"), LambdaContext(7000))
    assert time.monotonic() - started < REPORT_BUDGET_S + 1.0
    assert "72" in alexa.spoken(reply)


def test_with_too_little_time_left_for_the_token_store_the_answer_stands_and_nothing_is_asked_of_it(
    linked, amazon, caplog
):
    """Lambda gives the request 2.6 s: its deadline (2.1 s) leaves no AWS call the 2.5 s one can take,
    so the change is reported to nobody rather than the answer risking Lambda's timeout."""
    with caplog.at_level(logging.WARNING):
        reply = linked.lambda_handler(alexa.set_temp("72", "living room"), LambdaContext(2600))
    assert "72" in alexa.spoken(reply) and amazon.gateway.events() == []
    assert [r.reason for r in caplog.records if r.message == "change report skipped"] == ["Query: OutOfTime"]


def test_a_failing_token_store_never_changes_the_answer(linked, amazon, aws):
    aws["dynamodb"].delete_table(TableName=TABLE)
    reply = linked.lambda_handler(alexa.set_temp("72", "living room"), LambdaContext(7000))
    assert "72" in alexa.spoken(reply) and amazon.gateway.events() == []


def test_live_state_is_built_at_the_first_change_not_at_import_or_a_read(container, sdm_api, amazon):
    """Its parts (reporter, LWA, token store, gateway) load with the first change to report; the
    fresh-interpreter checks in tests/skill/test_layers.py see what the import alone loads."""
    home(sdm_api, thermostat("living"))
    assert container.live_state.loaded is False
    container.lambda_handler(alexa.status("living room"), LambdaContext(7000))
    assert container.live_state.loaded is False
    reply = container.lambda_handler(alexa.set_temp("72", "living room"), LambdaContext(7000))
    assert "72" in alexa.spoken(reply) and container.live_state.loaded is True
    assert amazon.gateway.events() == []  # no user has granted Alexa events yet


def test_an_accept_grant_builds_the_live_state(linked):
    assert linked.live_state.loaded is True


def test_a_discover_builds_the_live_state(container, sdm_api):
    home(sdm_api, thermostat("living"))
    reply = container.lambda_handler(alexa.discover(), LambdaContext(7000))
    assert reply["event"]["header"]["name"] == "Discover.Response" and container.live_state.loaded is True


# --- the reporter's deadline and its failure log, at the response interceptor --------------------


class _LiveState:
    """Records the deadline each report is given; raises `error` when set."""

    def __init__(self, error: Exception | None = None):
        self.error = error
        self.deadlines: list = []

    def report_change(self, change, deadline) -> None:
        self.deadlines.append(deadline)
        if self.error is not None:
            raise self.error


def _answer_a_change(monkeypatch, live_state, context, seconds_since_start: float) -> None:
    """A SetTempIntent that made a change, timed by RequestTimer at t=100 and answered
    `seconds_since_start` later (the interceptors' clock), through ChangeReporter (budget SDM_BUDGET_S)."""
    envelope = DefaultSerializer().deserialize(json.dumps(alexa.set_temp("72", "living room")), RequestEnvelope)
    handler_input = HandlerInput(envelope, AttributesManager(envelope), context)
    now = [100.0]
    monkeypatch.setattr(interceptors, "time", SimpleNamespace(monotonic=lambda: now[0]))
    interceptors.RequestTimer().process(handler_input)
    handler_input.attributes_manager.request_attributes[interceptors.CHANGE] = "a change"
    now[0] += seconds_since_start
    interceptors.ChangeReporter(live_state, SDM_BUDGET_S).process(handler_input, None)


def test_the_change_report_gets_the_request_budget_less_the_time_already_spent(monkeypatch):
    live_state = _LiveState()
    _answer_a_change(monkeypatch, live_state, LambdaContext(60_000), seconds_since_start=2.0)
    [deadline] = live_state.deadlines
    assert SDM_BUDGET_S - 2.0 - 0.1 < deadline.remaining() <= SDM_BUDGET_S - 2.0


def test_the_change_report_ends_before_the_lambda_function_runs_out_of_time(monkeypatch):
    live_state = _LiveState()
    _answer_a_change(monkeypatch, live_state, LambdaContext(2_000), seconds_since_start=0.5)
    [deadline] = live_state.deadlines
    assert 2.0 - LAMBDA_MARGIN_S - 0.1 < deadline.remaining() <= 2.0 - LAMBDA_MARGIN_S


def test_a_failed_change_report_is_logged_with_the_request_and_its_traceback(monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    _answer_a_change(monkeypatch, _LiveState(RuntimeError("gateway down")), LambdaContext(60_000), 1.0)
    [failed] = [r for r in caplog.records if r.name == interceptors.__name__]
    assert (failed.getMessage(), failed.levelname) == ("change report failed", "ERROR")
    assert failed.exc_info[1].args == ("gateway down",)
    assert (failed.alexa_request_id, failed.intent, failed.latency_ms) == (
        "amzn1.echo-api.request.TESTREQUEST",
        "SetTempIntent",
        1000.0,
    )
