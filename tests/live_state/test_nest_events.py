"""Nest's events applied as SDM documents them and reported as Alexa would show them: partial traits
merged per field by timestamp, duplicates and replays applied once, late events never undoing newer
ones, combined events reported together, only what Alexa shows differently reported (at the device's
display resolution), the known bad OFF update never taken as truth; answers Pub/Sub can act on."""

from __future__ import annotations

import logging
import time

import pytest

from nest_skill.live_state.device_states import EVENT_TTL_S, TTL_ATTRIBUTE
from nest_skill.live_state.nest_events import NestEvents
from nest_skill.sdm_client import Deadline
from sandbox import fake_pubsub
from tests.live_state.events_support import (
    TRAIT,
    linked,
    make_events,
    push,
    thermostat,
    update,
)

LIVING = thermostat("living")  # HEAT at 20 °C (68 °F), room 21.7 °C (71 °F), Fahrenheit
NOW = time.time()


@pytest.fixture
def ann(door, amazon, sdm_api, events):
    return linked(door, amazon, sdm_api, events, LIVING)


def reports(amazon) -> list[dict]:
    return [r.event for r in amazon.gateway.events()]


def change_of(report: dict) -> dict[str, object]:
    return {p["name"]: p["value"] for p in report["event"]["payload"]["change"]["properties"]}


def context_of(report: dict) -> dict[str, object]:
    return {p["name"]: p["value"] for p in report.get("context", {}).get("properties", [])}


def test_a_setpoint_changed_on_the_wall_is_one_change_report_with_cause_app_interaction(events, pubsub, amazon, ann):
    assert push(events, pubsub, update(LIVING, {"ThermostatTemperatureSetpoint": {"heatCelsius": 22.2}}, NOW)) == 204
    [report] = reports(amazon)
    assert report["event"]["header"]["name"] == "ChangeReport"
    assert report["event"]["endpoint"]["endpointId"] == "living"
    assert report["event"]["payload"]["change"]["cause"] == {"type": "APP_INTERACTION"}
    assert change_of(report) == {"targetSetpoint": {"value": 72.0, "scale": "FAHRENHEIT"}}
    assert context_of(report) == {
        "connectivity": {"value": "OK"},
        "thermostatMode": "HEAT",
        "temperature": {"value": 71.0, "scale": "FAHRENHEIT"},
    }


def test_a_room_temperature_reading_is_reported_as_a_poll(events, pubsub, amazon, ann):
    push(events, pubsub, update(LIVING, {"Temperature": {"ambientTemperatureCelsius": 23.0}}, NOW))
    [report] = reports(amazon)
    assert report["event"]["payload"]["change"]["cause"] == {"type": "PERIODIC_POLL"}
    assert change_of(report) == {"temperature": {"value": 73.0, "scale": "FAHRENHEIT"}}


def test_a_change_alexa_would_show_the_same_is_not_reported(events, pubsub, amazon, ann):
    # 21.7 °C and 21.8 °C are both 71 °F on this thermostat; humidity and the fan are not shown by Alexa.
    assert push(events, pubsub, update(LIVING, {"Temperature": {"ambientTemperatureCelsius": 21.8}}, NOW)) == 204
    assert (
        push(
            events,
            pubsub,
            update(LIVING, {"Humidity": {"ambientHumidityPercent": 55}, "Fan": {"timerMode": "ON"}}, NOW + 1),
        )
        == 204
    )
    assert reports(amazon) == []


def test_celsius_thermostats_report_at_half_degrees(door, amazon, sdm_api, events, pubsub):
    office = thermostat("office", room="Office", scale="CELSIUS", ambient_c=21.0)
    linked(door, amazon, sdm_api, events, office)
    push(events, pubsub, update(office, {"Temperature": {"ambientTemperatureCelsius": 21.2}}, NOW))
    assert reports(amazon) == []
    push(events, pubsub, update(office, {"Temperature": {"ambientTemperatureCelsius": 21.3}}, NOW + 1))
    assert [change_of(r) for r in reports(amazon)] == [{"temperature": {"value": 21.5, "scale": "CELSIUS"}}]


def test_a_duplicate_event_under_a_new_message_is_applied_once(events, pubsub, amazon, ann):
    event = update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)
    assert [push(events, pubsub, event) for _ in range(2)] == [204, 204]  # Pub/Sub's messageId differs each time
    assert len(reports(amazon)) == 1


def test_an_applied_event_is_remembered_beyond_pubsubs_retention(events, pubsub, aws, ann):
    event = update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)
    push(events, pubsub, event)
    item = aws["dynamodb"].get_item(
        TableName="NestSkillLiveState", Key={"pk": {"S": f"event#{event['eventId']}"}, "sk": {"S": "applied"}}
    )["Item"]
    assert float(item[TTL_ATTRIBUTE]["N"]) >= time.time() + 7 * 24 * 3600
    assert EVENT_TTL_S > 7 * 24 * 3600
    assert "expires_at" not in item  # the tokens' expiry attribute is never the table's time to live


def test_an_older_event_arriving_late_does_not_undo_a_newer_one(events, pubsub, amazon, ann):
    push(events, pubsub, update(LIVING, {"ThermostatTemperatureSetpoint": {"heatCelsius": 22.2}}, NOW))
    push(events, pubsub, update(LIVING, {"ThermostatTemperatureSetpoint": {"heatCelsius": 21.1}}, NOW - 30))
    assert [change_of(r) for r in reports(amazon)] == [{"targetSetpoint": {"value": 72.0, "scale": "FAHRENHEIT"}}]


def test_a_late_event_still_applies_the_fields_nothing_newer_set(events, pubsub, amazon, ann):
    push(events, pubsub, update(LIVING, {"Temperature": {"ambientTemperatureCelsius": 23.0}}, NOW))
    push(
        events,
        pubsub,
        update(
            LIVING, {"ThermostatMode": {"mode": "COOL"}, "Temperature": {"ambientTemperatureCelsius": 19.0}}, NOW - 30
        ),
    )
    _, second = reports(amazon)
    assert change_of(second) == {"thermostatMode": "COOL"}  # the older room temperature is not reported
    assert context_of(second)["temperature"] == {"value": 73.0, "scale": "FAHRENHEIT"}


def test_a_partial_trait_keeps_the_fields_it_does_not_carry(door, amazon, sdm_api, events, pubsub):
    range_ = thermostat("den", room="Den", mode="HEATCOOL", heat_c=20.0, cool_c=25.0)
    linked(door, amazon, sdm_api, events, range_)
    push(events, pubsub, update(range_, {"ThermostatTemperatureSetpoint": {"coolCelsius": 26.1}}, NOW))
    [report] = reports(amazon)
    assert change_of(report) == {"upperSetpoint": {"value": 79.0, "scale": "FAHRENHEIT"}}
    assert context_of(report)["lowerSetpoint"] == {"value": 68.0, "scale": "FAHRENHEIT"}


def test_a_combined_event_is_one_report_with_every_change(events, pubsub, amazon, ann):
    push(
        events,
        pubsub,
        update(
            LIVING,
            {
                "ThermostatMode": {"mode": "COOL"},
                "ThermostatTemperatureSetpoint": {"coolCelsius": 24.4},
                "Temperature": {"ambientTemperatureCelsius": 23.9},
            },
            NOW,
        ),
    )
    [report] = reports(amazon)
    assert change_of(report) == {
        "thermostatMode": "COOL",
        "targetSetpoint": {"value": 76.0, "scale": "FAHRENHEIT"},
        "temperature": {"value": 75.0, "scale": "FAHRENHEIT"},
    }
    assert report["event"]["payload"]["change"]["cause"] == {"type": "APP_INTERACTION"}


def test_eco_and_connectivity_are_reported(events, pubsub, amazon, ann):
    push(events, pubsub, update(LIVING, {"ThermostatEco": {"mode": "MANUAL_ECO"}}, NOW))
    push(events, pubsub, update(LIVING, {"Connectivity": {"status": "OFFLINE"}}, NOW + 1))
    eco, offline = reports(amazon)
    assert change_of(eco)["thermostatMode"] == "ECO"
    assert change_of(offline) == {"connectivity": {"value": "UNREACHABLE"}}
    assert offline["event"]["payload"]["change"]["cause"] == {"type": "PERIODIC_POLL"}


def test_the_known_bad_off_update_is_never_reported_as_truth(events, pubsub, amazon, ann, caplog):
    bad = {
        "ThermostatMode": {"mode": "OFF", "availableModes": ["OFF"]},
        "ThermostatTemperatureSetpoint": {},
        "ThermostatEco": {"availableModes": ["OFF"], "mode": "OFF"},
    }
    with caplog.at_level(logging.WARNING):
        assert push(events, pubsub, update(LIVING, bad, NOW)) == 204
    assert reports(amazon) == []
    assert [r.getMessage() for r in caplog.records].count(
        "nest event: the known bad ThermostatMode update ignored; state kept until the next listing"
    ) == 1
    # The rest of that event still counts, and the thermostat is still known as heating at 68 °F.
    push(events, pubsub, update(LIVING, {**bad, "Temperature": {"ambientTemperatureCelsius": 23.0}}, NOW + 1))
    [report] = reports(amazon)
    assert change_of(report) == {"temperature": {"value": 73.0, "scale": "FAHRENHEIT"}}
    assert context_of(report)["thermostatMode"] == "HEAT"
    assert context_of(report)["targetSetpoint"] == {"value": 68.0, "scale": "FAHRENHEIT"}
    assert events.states.load("living").suspect


def test_a_real_switch_to_off_is_reported(events, pubsub, amazon, ann):
    push(
        events,
        pubsub,
        update(LIVING, {"ThermostatMode": {"mode": "OFF", "availableModes": ["HEAT", "COOL", "HEATCOOL", "OFF"]}}, NOW),
    )
    assert change_of(reports(amazon)[0])["thermostatMode"] == "OFF"


def test_an_event_for_a_device_no_linked_user_sees_is_dropped_with_one_log_line(events, pubsub, amazon, ann, caplog):
    stranger = thermostat("elsewhere", room="Elsewhere", structure="other-home")
    with caplog.at_level(logging.INFO):
        assert push(events, pubsub, update(stranger, {"ThermostatMode": {"mode": "COOL"}}, NOW)) == 204
    assert reports(amazon) == []
    assert [r.getMessage() for r in caplog.records].count("nest event dropped: no linked user sees the device") == 1
    assert events.states.load("elsewhere") is None  # nothing kept about it


def test_two_alexa_users_on_one_home_each_get_the_report_with_their_own_token(
    door, amazon, sdm_api, events, pubsub, ann
):
    linked(door, amazon, sdm_api, events, LIVING, customer="bob")
    push(events, pubsub, update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW))
    assert sorted(r.customer for r in amazon.gateway.events()) == ["ann", "bob"]


@pytest.mark.parametrize("behaviour", ["500", "429", "never"])
def test_a_gateway_failure_answers_503_and_the_redelivery_reports(events, pubsub, amazon, ann, behaviour):
    amazon.gateway.behave("NA", behaviour)
    event = update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)
    request = fake_pubsub.push_request(pubsub, event)
    started = time.monotonic()
    assert events.handle(request, _Remaining(3.0))["statusCode"] == 503
    assert time.monotonic() - started < 3.0  # within the time Lambda (and Pub/Sub) gives it
    amazon.gateway.behave("NA", "accept")
    assert events.handle(fake_pubsub.push_request(pubsub, event))["statusCode"] == 204
    assert change_of(reports(amazon)[-1]) == {"thermostatMode": "COOL"}


class _Remaining:
    def __init__(self, seconds: float):
        self._end = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - time.monotonic()) * 1000)


def test_lwa_unavailable_answers_503_and_the_redelivery_reports(events, pubsub, amazon, ann):
    amazon.lwa.expire_access("ann")  # the gateway refuses the stored token: a refresh is needed
    amazon.lwa.failing_status = 503
    event = update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)
    assert push(events, pubsub, event) == 503
    amazon.lwa.failing_status = None
    assert push(events, pubsub, event) == 204
    assert [r.customer for r in amazon.gateway.events()][-1] == "ann"


@pytest.mark.parametrize("behaviour", ["403 skill disabled", "404 account not found"])
def test_a_user_whose_grant_is_gone_is_pointless_to_retry(events, pubsub, amazon, ann, behaviour):
    amazon.gateway.behave("NA", behaviour)
    assert push(events, pubsub, update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)) == 204
    assert events.tokens.load(ann).relink_needed


def test_a_revoked_refresh_token_is_pointless_to_retry(events, pubsub, amazon, ann):
    amazon.lwa.revoke("ann")
    assert push(events, pubsub, update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)) == 204
    assert events.tokens.load(ann).relink_needed


class _Throttled:
    """DynamoDB answering ProvisionedThroughputExceededException to every call."""

    def __getattr__(self, name):
        from botocore.exceptions import ClientError

        def call(**_):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, name)

        return call


def test_dynamodb_throttled_answers_503(aws, amazon, pubsub, door, sdm_api):
    linked(door, amazon, sdm_api, make_events(aws, amazon, pubsub), LIVING)
    throttled = NestEvents(make_events(aws, amazon, pubsub)._config, clients=lambda: (_Throttled(), aws["kms"]))
    assert push(throttled, pubsub, update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)) == 503


def test_a_report_already_past_the_deadline_is_not_sent_and_answers_503(events, amazon, ann):
    event = update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)
    assert events.apply(event, Deadline(0)).status == 503
    assert reports(amazon) == []


def test_no_sdm_call_is_made_for_an_event(events, pubsub, amazon, ann, sdm_api):
    calls = len(sdm_api.calls)
    push(events, pubsub, update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW))
    assert len(sdm_api.calls) == calls


def test_events_before_a_full_listing_are_kept_and_reported_after_it(door, amazon, sdm_api, events, pubsub):
    from tests.live_state.conftest import home
    from tests.live_state.events_support import seed
    from tests.live_state.test_accept_grant import link

    home(sdm_api, LIVING)
    user = link(door, amazon, "ann", "google-sub-ann", "ya29.ann")
    events.states.forget_device("living")  # AcceptGrant's listing not stored (its writes ran out of time)
    assert push(events, pubsub, update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW)) == 204
    assert reports(amazon) == []  # what Alexa shows cannot be told from one trait
    seed(events.states, user, LIVING, at=NOW - 60)  # a listing older than the event: the event's mode is kept
    assert events.states.load("living").document["traits"][TRAIT + "ThermostatMode"]["mode"] == "COOL"
    push(events, pubsub, update(LIVING, {"Temperature": {"ambientTemperatureCelsius": 23.0}}, NOW + 1))
    assert context_of(reports(amazon)[0])["thermostatMode"] == "COOL"
