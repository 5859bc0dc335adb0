"""The first event source: a change made through the custom skill sends a ChangeReport (cause
VOICE_INTERACTION) once its answer is decided, through the real lambda_handler with live state
configured from the environment; a slow gateway never delays the answer past the report budget."""

from __future__ import annotations

import time

import pytest

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
