"""ChangeReports for a change the skill made: to every user who sees the endpoint, on their region's
gateway, with their own token; refresh ahead of expiry, refresh and retry once on
INVALID_ACCESS_TOKEN_EXCEPTION, stop and mark re-link needed when the grant is gone, bounded by the
deadline."""

from __future__ import annotations

import logging
import time

import pytest

from nest_skill.controls import SetMode, SetTemperature
from nest_skill.live_state.lwa import REFRESH_AHEAD_S
from nest_skill.live_state.reporter import LiveState, google_key
from nest_skill.sdm_client import Deadline
from nest_skill.smart_home import endpoints
from nest_skill.smart_home.dispatcher import SmartHome
from nest_skill.thermostats import Mode, Thermostat
from sandbox import fake_amazon
from tests.live_state.conftest import home, make_config, thermostat
from tests.live_state.test_accept_grant import link

LIVING = thermostat("living")  # HEAT at 20 °C = 68 °F


def set_to(degrees_f: float):
    return SetTemperature(degrees_f).plan(Thermostat.from_sdm(LIVING))


@pytest.fixture
def ann(door, amazon, sdm_api):
    home(sdm_api, LIVING, thermostat("bedroom", room="Bedroom"))
    return link(door, amazon, "ann", "google-sub-ann", "ya29.ann")


def test_a_voice_change_is_one_change_report_with_the_changed_properties_apart(live, amazon, ann):
    result = live.report_change(set_to(72), Deadline(5))
    assert (result.users, result.accepted, result.gateway_calls, result.refreshes) == (1, 1, 1, 0)
    [received] = amazon.gateway.events("NA")
    assert received.customer == "ann"
    event = received.event["event"]
    assert event["header"]["namespace"] == "Alexa" and event["header"]["name"] == "ChangeReport"
    assert "correlationToken" not in event["header"]
    assert event["endpoint"]["endpointId"] == "living"
    assert event["endpoint"]["scope"]["type"] == "BearerToken"
    change = event["payload"]["change"]
    assert change["cause"] == {"type": "VOICE_INTERACTION"}
    assert [(p["name"], p["value"]) for p in change["properties"]] == [
        ("targetSetpoint", {"value": 72.0, "scale": "FAHRENHEIT"})
    ]
    context = {p["name"]: p["value"] for p in received.event["context"]["properties"]}
    assert context == {
        "connectivity": {"value": "OK"},
        "thermostatMode": "HEAT",
        "temperature": {"value": 71.0, "scale": "FAHRENHEIT"},
    }


def test_reported_properties_are_exactly_those_report_state_reports(live, amazon, ann):
    change = SetMode(Mode.COOL).plan(Thermostat.from_sdm(LIVING))
    live.report_change(change, Deadline(5))
    [received] = amazon.gateway.events()
    sent = received.event["event"]["payload"]["change"]["properties"] + received.event["context"]["properties"]
    expected = endpoints.state(change.thermostat, 0, mode=change.mode, setpoints=change.setpoints)
    assert sorted((p["namespace"], p["name"], str(p["value"])) for p in sent) == sorted(
        (p.namespace, p.name, str(p.value)) for p in expected
    )


def test_no_change_no_report(live, amazon, ann):
    result = live.report_change(set_to(68), Deadline(5))
    assert result.gateway_calls == 0 and amazon.gateway.events() == []


@pytest.mark.parametrize("bobs_google_account", ["google-sub-bob", "google-sub-ann"], ids=["his own", "ann's"])
def test_two_alexa_users_on_one_home_both_get_reports_with_their_own_tokens(
    live, door, amazon, ann, bobs_google_account
):
    bob = link(door, amazon, "bob", bobs_google_account, "ya29.bob")
    assert sorted(live.store.users_for("living")) == sorted([ann, bob])
    result = live.report_change(set_to(70), Deadline(5))
    assert result.accepted == 2 and result.gateway_calls == 2
    assert sorted(r.customer for r in amazon.gateway.events()) == ["ann", "bob"]
    tokens = {r.event["event"]["endpoint"]["scope"]["token"] for r in amazon.gateway.events()}
    assert len(tokens) == 2


def test_an_alexa_account_whose_grant_is_refused_stops_the_other_on_the_same_google_account_does_not(
    live, door, amazon, ann
):
    bob = link(door, amazon, "bob", "google-sub-ann", "google-token-of-bob-on-anns-account")
    amazon.lwa.revoke("bob")  # bob disabled the skill
    amazon.lwa.expire_access("bob")
    result = live.report_change(set_to(70), Deadline(5))
    assert result.accepted == 1 and result.relink_needed == [bob]
    assert live.store.users_for("living") == [ann]
    assert live.store.linked_to(google_key("google-sub-ann")) == [ann]
    live.report_change(set_to(71), Deadline(5))
    assert [r.customer for r in amazon.gateway.events()] == ["ann", None, "ann"]


def test_one_users_entry_never_reaches_another_users_endpoints(live, door, amazon, sdm_api, ann):
    sdm_api.replace("GET", sdm_api.registered()[0].url, json={"devices": [thermostat("office", room="Office")]})
    link(door, amazon, "cy", "google-sub-cy", "ya29.cy")
    live.report_change(set_to(70), Deadline(5))
    assert [r.customer for r in amazon.gateway.events()] == ["ann"]


def test_an_access_token_near_expiry_is_refreshed_first_and_at_most_once_an_hour(live, amazon, ann):
    stored = live.store.load(ann)
    live.store.refreshed(
        stored,
        type(stored.tokens)(stored.tokens.access_token, stored.tokens.refresh_token, time.time() + REFRESH_AHEAD_S - 1),
    )
    for degrees in (70, 71, 72, 73):
        live.report_change(set_to(degrees), Deadline(5))
    assert amazon.lwa.stats("ann")["refreshes"] == 1
    assert all(r.customer == "ann" for r in amazon.gateway.events()) and len(amazon.gateway.events()) == 4


def test_invalid_access_token_is_refreshed_and_retried_once(live, amazon, ann):
    amazon.lwa.expire_access("ann")  # LWA's view: the stored token no longer works
    result = live.report_change(set_to(70), Deadline(5))
    assert (result.accepted, result.gateway_calls, result.refreshes) == (1, 2, 1)
    assert [r.customer for r in amazon.gateway.events()] == [None, "ann"]


def test_a_second_rejection_is_not_retried_again(live, amazon, ann, monkeypatch):
    monkeypatch.setattr(amazon.lwa, "valid", lambda token: None)  # every token refused
    result = live.report_change(set_to(70), Deadline(5))
    assert (result.accepted, result.gateway_calls, result.refreshes) == (0, 2, 1)
    assert live.store.load(ann).tokens is not None  # a refused token is not a refused grant


@pytest.mark.parametrize("behaviour", ["403 skill disabled", "403 insufficient permission", "404 account not found"])
def test_grant_gone_at_the_gateway_stops_and_marks_relink_needed_once(live, amazon, ann, behaviour, caplog):
    amazon.gateway.behave("NA", behaviour)
    with caplog.at_level(logging.WARNING):
        first = live.report_change(set_to(70), Deadline(5))
        second = live.report_change(set_to(71), Deadline(5))
    assert first.relink_needed == [ann] and second.gateway_calls == 0
    link = live.store.load(ann)
    assert link.relink_needed and link.tokens is None and link.endpoints == ()
    assert live.store.users_for("living") == [] and live.store.users_for("bedroom") == []
    assert sum("re-link needed" in r.message for r in caplog.records) == 1
    assert len(amazon.gateway.events()) == 1


def test_invalid_grant_from_lwa_stops_and_marks_relink_needed(live, amazon, ann, caplog):
    amazon.lwa.revoke("ann")  # the user disabled the skill
    with caplog.at_level(logging.WARNING):
        result = live.report_change(set_to(70), Deadline(5))
        live.report_change(set_to(71), Deadline(5))
    assert result.relink_needed == [ann] and result.refreshes == 1
    assert live.store.load(ann).tokens is None
    assert sum("re-link needed" in r.message for r in caplog.records) == 1
    assert len(amazon.gateway.events()) == 1  # the 401, then no more


@pytest.mark.parametrize("behaviour", ["429", "500"])
def test_throttling_and_server_errors_lose_the_event_not_the_grant(live, amazon, ann, behaviour):
    amazon.gateway.behave("NA", behaviour)
    result = live.report_change(set_to(70), Deadline(5))
    assert (result.accepted, result.gateway_calls) == (0, 1)
    assert live.store.load(ann).tokens is not None and live.store.users_for("living") == [ann]


@pytest.mark.parametrize("behaviour, delay", [("never", 0.0), ("accept", 3.0)])
def test_a_slow_or_silent_gateway_ends_at_the_deadline(live, amazon, ann, behaviour, delay):
    amazon.gateway.behave("NA", behaviour, delay_s=delay)
    started = time.monotonic()
    result = live.report_change(set_to(70), Deadline(0.5))
    assert time.monotonic() - started < 1.5
    assert result.accepted == 0
    assert live.store.load(ann).tokens is not None


def test_each_user_is_reported_on_their_own_regions_gateway(aws, amazon, sdm, door, live, ann):
    eu = LiveState(make_config(aws, amazon, aws_region="eu-west-1"), sdm, tokeninfo_url=amazon.tokeninfo_url)
    link(SmartHome(sdm, eu), amazon, "dee", "google-sub-dee", "ya29.dee")
    live.report_change(set_to(70), Deadline(5))
    assert sorted((r.region, r.customer) for r in amazon.gateway.events()) == [("EU", "dee"), ("NA", "ann")]


def test_concurrent_refreshes_of_one_user_never_lose_a_token(live, amazon, ann):
    """Two containers read the same expiring tokens and both refresh them with LWA (interleaved as
    DynamoDB would order them: the conditional write of the second finds the version moved on)."""
    stale = live.store.load(ann)
    stale = live.store.refreshed(
        stale, type(stale.tokens)(stale.tokens.access_token, stale.tokens.refresh_token, time.time())
    )
    first_tokens = live._lwa.refresh(stale.tokens, Deadline(5))
    second_tokens = live._lwa.refresh(stale.tokens, Deadline(5))
    first = live.store.refreshed(stale, first_tokens)
    second = live.store.refreshed(stale, second_tokens)
    stored = live.store.load(ann)
    assert stored.version == stale.version + 1  # one write won
    assert first.tokens == second.tokens == stored.tokens == first_tokens  # the other read it back
    assert amazon.lwa.valid(stored.tokens.access_token) == "ann"
    assert stored.tokens.refresh_token == stale.tokens.refresh_token  # the refresh token is never dropped
    assert fake_amazon.REGIONS == ("NA", "EU", "FE")
