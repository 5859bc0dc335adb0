"""A thermostat added or replaced after the account was linked: Google shares only the devices ticked on
its Partner Connections page, so SDM does not list the new one. Naming it gets the thermostats the
skill can see, where to share the new one (spoken), and the steps (a card); nothing is changed."""

from __future__ import annotations

import pytest
import responses

from sandbox import alexa
from sandbox.alexa import ends_session, reprompt, spoken, valid_response
from tests.skill.sdm import DEVICES_URL, command_url, device_list, sent_command, thermostat

LIVING = thermostat("living", room="Living Room")
# The Bedroom's thermostat was replaced: the new device has a new ID, and until it is shared SDM
# lists only the Living Room's.
NEW_BEDROOM = thermostat("bedroom-replacement", room="Bedroom", mode="HEAT")
SHARE_STEP = (
    "If it's new or was replaced, it has to be shared with this skill on Google's Partner "
    "Connections page. I've sent the steps to the Alexa app."
)


def shared(sdm_api, *devices) -> None:
    """SDM lists only `devices`: the ones ticked on Google's Partner Connections page."""
    if any(call.method == responses.GET for call in sdm_api.registered()):
        sdm_api.replace(responses.GET, DEVICES_URL, json=device_list(*devices))
    else:
        sdm_api.get(DEVICES_URL, json=device_list(*devices))
    for device in devices:
        sdm_api.post(command_url(device["name"].rsplit("/", 1)[-1]), json={})


def commands(sdm_api):
    return [sent_command(call) for call in sdm_api.calls if call.request.method == "POST"]


def card(reply) -> dict:
    return valid_response(reply)["card"]


def humidity(room: str):
    return alexa.intent("HumidityIntent", {"thermostat": alexa.slot("thermostat", room)})


@pytest.mark.parametrize(
    "request_for", [lambda: alexa.status("bedroom"), lambda: humidity("bedroom")], ids=["status", "humidity"]
)
def test_asking_about_an_unshared_thermostat_says_where_to_share_it(skill, sdm_api, request_for):
    shared(sdm_api, LIVING)

    reply = skill.lambda_handler(request_for(), None)

    assert spoken(reply) == (
        "I couldn't find a thermostat called bedroom. Your thermostats are the Living Room. " + SHARE_STEP
    )
    assert ends_session(reply)
    shown = card(reply)
    assert shown["type"] == "Simple"
    assert shown["content"].startswith('No thermostat called "bedroom" is shared with this skill.')
    for step in (
        "nestservices.google.com/partnerconnections",
        "turn on the thermostat",
        "link your account again",
        "tick the thermostat",
    ):
        assert step in shown["content"]


def test_setting_an_unshared_thermostat_changes_nothing_and_says_where_to_share_it(skill, sdm_api):
    shared(sdm_api, LIVING)

    reply = skill.lambda_handler(alexa.set_temp("70", "bedroom"), None)

    assert spoken(reply) == (
        "I couldn't find a thermostat called bedroom. Your thermostats are the Living Room. "
        f"{SHARE_STEP} Which one should I set: the Living Room?"
    )
    assert reprompt(reply) == "Which one should I set: the Living Room?"
    assert not ends_session(reply)
    assert "nestservices.google.com/partnerconnections" in card(reply)["content"]
    assert commands(sdm_api) == []


def test_once_shared_the_replaced_thermostat_is_found_and_set(skill, load_skill, sdm_api):
    shared(sdm_api, LIVING)
    skill.lambda_handler(alexa.set_temp("70", "bedroom"), None)

    shared(sdm_api, LIVING, NEW_BEDROOM)  # ticked on Google's Partner Connections page
    # A later request, in a container without the first one's device list (kept 30 s per user).
    reply = load_skill().lambda_handler(alexa.set_temp("70", "bedroom"), None)

    assert spoken(reply) == "OK, the Bedroom is heating to 70."
    (sent,) = commands(sdm_api)
    assert sent["command"] == "sdm.devices.commands.ThermostatTemperatureSetpoint.SetHeat"
    assert [call.request.url for call in sdm_api.calls if call.request.method == "POST"] == [
        command_url("bedroom-replacement")
    ]


def test_a_near_miss_is_still_a_question_without_the_sharing_steps(skill, sdm_api):
    """ "Bed room" for the shared Bedroom is the Bedroom, not a missing thermostat."""
    shared(sdm_api, LIVING, NEW_BEDROOM)

    reply = skill.lambda_handler(alexa.status("bed room"), None)

    assert "Partner Connections" not in spoken(reply)
    assert "partnerconnections" not in card(reply)["content"]
