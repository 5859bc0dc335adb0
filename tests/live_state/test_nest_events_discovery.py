"""Discovery kept current from Nest's relation events: a thermostat removed from a home is
`Alexa.Discovery.DeleteReport` to each user who saw it (and no longer theirs), one added to a home is
`AddOrUpdateReport` to each user who sees that home when its state is known, else Alexa learns it at
the next listing; a change of what discovery declares (a mode no longer available, a new name) is an
AddOrUpdateReport before its ChangeReport."""

from __future__ import annotations

import time

import pytest

from sandbox import fake_pubsub
from tests.live_state.conftest import home
from tests.live_state.events_support import (
    linked,
    listed_long_ago,
    push,
    thermostat,
    update,
)
from tests.live_state.test_accept_grant import link

PROJECT = "project-under-test"
HOME = f"enterprises/{PROJECT}/structures/home"
LIVING = thermostat("living")
BEDROOM = thermostat("bedroom", room="Bedroom")
NOW = time.time()


def relation(kind: str, subject: str, device: dict, at: float = NOW) -> dict:
    return fake_pubsub.sdm_event(relation=(kind, subject, device["name"]), at=at)


def names(amazon) -> list[str]:
    return [r.event["event"]["header"]["name"] for r in amazon.gateway.events()]


@pytest.fixture
def ann(door, amazon, sdm_api, events):
    return linked(door, amazon, sdm_api, events, LIVING, BEDROOM)


def test_a_thermostat_removed_from_the_home_is_a_delete_report_and_no_longer_the_users(events, pubsub, amazon, ann):
    assert push(events, pubsub, relation("DELETED", HOME, BEDROOM)) == 204
    [received] = amazon.gateway.events("NA")
    event = received.event["event"]
    assert (event["header"]["namespace"], event["header"]["name"]) == ("Alexa.Discovery", "DeleteReport")
    assert event["payload"]["endpoints"] == [{"endpointId": "bedroom"}]
    assert event["payload"]["scope"]["type"] == "BearerToken" and received.customer == "ann"
    assert events.tokens.users_for("bedroom") == [] and events.tokens.load(ann).endpoints == ("living",)
    assert events.states.load("bedroom") is None
    # Its later events reach no one; the other thermostat is untouched.
    push(events, pubsub, update(BEDROOM, {"ThermostatMode": {"mode": "COOL"}}, NOW + 1))
    push(events, pubsub, update(LIVING, {"ThermostatMode": {"mode": "COOL"}}, NOW + 1))
    assert names(amazon) == ["DeleteReport", "ChangeReport"]


def test_a_removal_the_gateway_cannot_take_now_is_redelivered_and_completed(events, pubsub, amazon, ann):
    amazon.gateway.behave("NA", "500")
    event = relation("DELETED", HOME, BEDROOM)
    assert push(events, pubsub, event) == 503
    assert events.tokens.users_for("bedroom") == [ann]  # still theirs until Alexa is told
    amazon.gateway.behave("NA", "accept")
    assert push(events, pubsub, event) == 204
    assert events.tokens.users_for("bedroom") == []


def test_leaving_a_room_is_not_leaving_the_home(events, pubsub, amazon, ann):
    assert push(events, pubsub, relation("DELETED", f"{HOME}/rooms/bedroom", BEDROOM)) == 204
    assert amazon.gateway.events() == [] and events.tokens.users_for("bedroom") == [ann]


def test_a_known_thermostat_added_to_the_home_is_an_add_or_update_report_to_each_user_of_the_home(
    door, amazon, sdm_api, events, pubsub
):
    ann = linked(door, amazon, sdm_api, events, LIVING)
    office = thermostat("office", room="Office")
    # Another user's listing knows the office thermostat (shared with them first).
    home(sdm_api, LIVING, office)
    bob = link(door, amazon, "bob", "google-sub-bob", "ya29.bob")
    listed_long_ago(events, bob, LIVING, office)
    assert push(events, pubsub, relation("CREATED", HOME, office)) == 204
    [received] = amazon.gateway.events()
    assert received.customer == "ann"  # bob already sees it
    event = received.event["event"]
    assert (event["header"]["namespace"], event["header"]["name"]) == ("Alexa.Discovery", "AddOrUpdateReport")
    [endpoint] = event["payload"]["endpoints"]
    assert endpoint["endpointId"] == "office" and endpoint["friendlyName"] == "Office"
    assert event["payload"]["scope"]["type"] == "BearerToken"
    thermostat_capability = next(c for c in endpoint["capabilities"] if c["interface"] == "Alexa.ThermostatController")
    assert thermostat_capability["properties"]["proactivelyReported"] is True
    assert sorted(events.tokens.users_for("office")) == sorted([ann, bob])
    assert "office" in events.tokens.load(ann).endpoints
    # From now on its changes reach ann too.
    push(events, pubsub, update(office, {"ThermostatMode": {"mode": "COOL"}}, NOW + 1))
    assert sorted(
        r.customer for r in amazon.gateway.events() if r.event["event"]["header"]["name"] == "ChangeReport"
    ) == ["ann", "bob"]


def test_an_unknown_thermostat_added_waits_for_the_next_listing(events, pubsub, amazon, ann):
    newcomer = thermostat("newcomer", room="Hall")
    assert push(events, pubsub, relation("CREATED", HOME, newcomer)) == 204
    assert amazon.gateway.events() == []
    assert events.tokens.users_for("newcomer") == []


def test_a_thermostat_added_to_a_home_no_user_sees_is_dropped(events, pubsub, amazon, ann):
    stranger = thermostat("stranger", structure="other")
    assert push(events, pubsub, relation("CREATED", f"enterprises/{PROJECT}/structures/other", stranger)) == 204
    assert amazon.gateway.events() == []


def test_a_change_of_what_discovery_declares_is_an_add_or_update_report_first(events, pubsub, amazon, ann):
    push(events, pubsub, update(LIVING, {"ThermostatMode": {"mode": "HEAT", "availableModes": ["HEAT", "OFF"]}}, NOW))
    assert names(amazon) == ["AddOrUpdateReport"]  # no property Alexa shows changed, the modes did
    [endpoint] = amazon.gateway.events()[0].event["event"]["payload"]["endpoints"]
    controller = next(c for c in endpoint["capabilities"] if c["interface"] == "Alexa.ThermostatController")
    assert controller["configuration"]["supportedModes"] == ["HEAT", "OFF", "ECO"]
    push(
        events,
        pubsub,
        update(
            LIVING, {"Info": {"customName": "Hallway"}, "ThermostatTemperatureSetpoint": {"heatCelsius": 22.2}}, NOW + 1
        ),
    )
    assert names(amazon) == ["AddOrUpdateReport", "AddOrUpdateReport", "ChangeReport"]
    assert amazon.gateway.events()[1].event["event"]["payload"]["endpoints"][0]["friendlyName"] == "Hallway"


def test_a_relation_event_replayed_is_applied_once(events, pubsub, amazon, ann):
    event = relation("DELETED", HOME, BEDROOM)
    assert [push(events, pubsub, event) for _ in range(2)] == [204, 204]
    assert names(amazon) == ["DeleteReport"]


def test_a_removal_replayed_after_the_thermostat_came_back_does_not_remove_it_again(
    door, amazon, sdm_api, events, pubsub, ann
):
    removal = relation("DELETED", HOME, BEDROOM)
    push(events, pubsub, removal)
    # It is shared again; ann links again and her listing has it.
    linked(door, amazon, sdm_api, events, LIVING, BEDROOM)
    assert events.tokens.users_for("bedroom") == [ann]
    assert push(events, pubsub, removal) == 204  # Pub/Sub may redeliver an old message for days
    assert names(amazon) == ["DeleteReport"] and events.tokens.users_for("bedroom") == [ann]
