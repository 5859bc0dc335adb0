"""Say what really went wrong (the LinkAccount card only when linking again
helps), speak only setpoints a thermostat can use, and act on fresh state after a refusal."""

from __future__ import annotations

import json
import logging

import pytest
import responses

from sandbox import alexa
from sandbox.alexa import card_type, ends_session, spoken
from tests.skill.sdm import (
    COMMAND,
    DEVICES_URL,
    command_url,
    device_list,
    device_url,
    error_body,
    f_to_c,
    sent_command,
    thermostat,
)
from tests.skill.test_sdm_errors import FAILURES, NOT_AVAILABLE, SERVICE_DISABLED_MESSAGE
from tests.skill.test_which_thermostat import HOME, LAKE, answer, setup

MODE_REFUSAL = dict(
    status=400,
    json=error_body(
        400,
        "FAILED_PRECONDITION",
        "sdm.devices.commands.ThermostatTemperatureSetpoint.SetHeat command not allowed in current thermostat mode.",
    ),
)


def not_reporting(device_id: str = "living", room: str = "Living Room") -> dict:
    """A thermostat as SDM lists it while Google drops its traits."""
    device = thermostat(device_id, room=room)
    device["traits"] = {}
    return device


def commands(sdm_api):
    return [sent_command(c) for c in sdm_api.calls if c.request.method == "POST"]


@pytest.mark.parametrize("event", [alexa.status(), alexa.set_temp("70", "living room")], ids=["status", "set"])
def test_service_disabled_is_not_the_users_to_fix_and_the_operator_is_told(skill, sdm_api, caplog, event):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, **FAILURES["403-service-disabled"])
    reply = skill.lambda_handler(event, None)
    assert spoken(reply) == NOT_AVAILABLE
    assert card_type(reply) is None
    [operator] = [r for r in caplog.records if r.getMessage() == "sdm project unavailable"]
    assert operator.levelname == "ERROR"
    assert (operator.sdm_operation, operator.sdm_reason) == ("devices.list", "SERVICE_DISABLED")
    everything = " ".join(json.dumps({"m": r.getMessage(), **vars(r)}, default=str) for r in caplog.records)
    assert alexa.TOKEN not in everything and SERVICE_DISABLED_MESSAGE not in everything


def test_a_thermostat_listed_without_traits_is_named_as_not_reporting(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(not_reporting()))
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply) == "The Living Room isn't reporting to Nest right now."
    assert card_type(reply) == "Simple"


def test_a_silent_thermostat_does_not_hide_the_others(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(not_reporting(), thermostat("bed", room="Bedroom")))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == (
        "The Living Room isn't reporting to Nest right now. The Bedroom is 71 degrees, heating to 68."
    )


def test_a_thermostat_without_traits_is_not_changed_and_no_card_is_sent(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(not_reporting()))
    reply = skill.lambda_handler(alexa.set_temp("70", "living room"), None)
    assert spoken(reply) == (
        "The Living Room isn't reporting to Nest right now, so I couldn't change it. Please try again later."
    )
    assert card_type(reply) is None
    assert commands(sdm_api) == []


def test_an_account_with_only_cameras_still_has_no_thermostats(skill, sdm_api):
    from tests.skill.sdm import camera

    sdm_api.get(DEVICES_URL, json=device_list(camera()))
    assert spoken(skill.lambda_handler(alexa.status(), None)).startswith("I couldn't find any thermostats")


@pytest.mark.parametrize(
    "available, expected",
    [
        (("HEAT", "OFF"), "in eco mode at 15.5"),
        (("COOL", "OFF"), "in eco mode at 29"),
        (("HEAT", "COOL", "HEATCOOL", "OFF"), "in eco mode, between 15.5 and 29"),
        (("HEAT", "COOL", "OFF"), "in eco mode, between 15.5 and 29"),
    ],
    ids=["heat-only", "cool-only", "heat-cool", "heat-and-cool"],
)
def test_eco_speaks_only_the_setpoints_the_thermostat_can_use(skill, sdm_api, available, expected):
    device = thermostat(
        scale="CELSIUS", eco=True, ambient_c=18.0, eco_heat_c=15.5, eco_cool_c=29.0, available_modes=available
    )
    sdm_api.get(DEVICES_URL, json=device_list(device))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == f"The Living Room is 18 degrees, {expected}."


def test_a_mode_changed_in_the_nest_app_since_the_list_was_cached_gets_the_right_command(skill, sdm_api):
    """Status (heating), then cool chosen in the Nest app, then "set the living room to 72"."""
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", mode="HEAT")))
    skill.lambda_handler(alexa.status(), None)
    sdm_api.post(command_url("living"), **MODE_REFUSAL)
    sdm_api.post(command_url("living"), json={})
    sdm_api.get(device_url("living"), json=thermostat("living", mode="COOL", cool_c=24.0))
    reply = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(reply) == "OK, the Living Room is cooling to 72."
    assert commands(sdm_api) == [
        {"command": COMMAND + "SetHeat", "params": {"heatCelsius": 22.2222}},
        {"command": COMMAND + "SetCool", "params": {"coolCelsius": 22.2222}},
    ]
    assert [c.request.method for c in sdm_api.calls] == ["GET", "POST", "GET", "POST"]


def test_a_switch_to_heat_cool_gets_a_range(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", mode="HEAT")))
    sdm_api.post(command_url("living"), **MODE_REFUSAL)
    sdm_api.post(command_url("living"), json={})
    sdm_api.get(device_url("living"), json=thermostat("living", mode="HEATCOOL", heat_c=f_to_c(68), cool_c=f_to_c(74)))
    reply = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(reply) == "OK, the Living Room is set to heat-cool between 69 and 75."
    assert [c["command"] for c in commands(sdm_api)] == [COMMAND + "SetHeat", COMMAND + "SetRange"]


@pytest.mark.parametrize(
    "fresh, expected",
    [
        (
            thermostat("living", eco=True),
            "The Living Room is in eco mode, so I didn't change it. Say, turn off eco, first.",
        ),
        (
            thermostat("living", mode="OFF"),
            "The Living Room is turned off, so I didn't change it. Switch it to heat or cool first.",
        ),
        (thermostat("living", online=False), "The Living Room is offline, so I couldn't change it."),
        (
            not_reporting(),
            "The Living Room isn't reporting to Nest right now, so I couldn't change it. Please try again later.",
        ),
    ],
    ids=["now-eco", "now-off", "now-offline", "now-silent"],
)
def test_when_the_fresh_state_forbids_the_change_its_true_reason_is_said_and_nothing_resent(
    skill, sdm_api, fresh, expected
):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", mode="HEAT")))
    sdm_api.post(command_url("living"), **MODE_REFUSAL)
    sdm_api.get(device_url("living"), json=fresh)
    reply = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(reply) == expected
    assert len(commands(sdm_api)) == 1


def test_at_most_one_retry(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", mode="HEAT")))
    sdm_api.post(command_url("living"), **MODE_REFUSAL)
    sdm_api.get(device_url("living"), json=thermostat("living", mode="COOL", cool_c=24.0))
    reply = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(reply).startswith("The Living Room isn't in a mode that allows that right now")
    assert len(commands(sdm_api)) == 2
    assert ends_session(reply)


def test_a_device_removed_since_the_list_was_cached_is_reported_gone(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living")))
    sdm_api.post(command_url("living"), **FAILURES["404"])
    sdm_api.get(device_url("living"), **FAILURES["404"])
    reply = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(reply).startswith("I couldn't find the Living Room on your Nest account any more.")
    assert len(commands(sdm_api)) == 1


def test_the_fresh_read_is_not_a_refusal_that_needs_linking(skill, sdm_api):
    """A refusal whose fresh read fails says why the read failed: here, Nest's rate limit."""
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living")))
    sdm_api.post(command_url("living"), **MODE_REFUSAL)
    sdm_api.get(device_url("living"), **FAILURES["429"])
    reply = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(reply) == "Nest is limiting requests right now. Please try again in a minute."
    assert card_type(reply) is None


def test_a_retry_on_fresh_state_keeps_the_home_name(skill, sdm_api):
    """The list said heat, the thermostat cools now: SDM refuses, the fresh read (devices.get knows no
    home) gets SetCool, and the confirmation still names the home."""
    setup(sdm_api, LAKE, HOME)
    sdm_api.replace(responses.POST, command_url("lake-living"), **MODE_REFUSAL)
    sdm_api.post(command_url("lake-living"), json={})
    sdm_api.get(
        device_url("lake-living"),
        json=thermostat("lake-living", room="Living Room", structure="lake", mode="COOL", cool_c=24.0),
    )
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    reply = answer(skill, question, "lake house")
    assert spoken(reply) == "OK, the Living Room at Lake House is cooling to 72."
    assert [sent_command(c)["command"].rsplit(".", 1)[-1] for c in sdm_api.calls if c.request.method == "POST"] == [
        "SetHeat",
        "SetCool",
    ]
