"""StatusIntent: every thermostat's name, room temperature, setpoints and mode, in its own scale."""

from __future__ import annotations

import json

import pytest

from sandbox import alexa
from sandbox.alexa import TOKEN, card_type, ends_session, spoken, valid_response
from tests.skill.sdm import DEVICES_URL, TRAIT, camera, device_list, f_to_c, thermostat


def status_of(skill, sdm_api, *devices) -> str:
    sdm_api.get(DEVICES_URL, json=device_list(*devices))
    return spoken(skill.lambda_handler(alexa.status(), None))


@pytest.mark.parametrize(
    "device, expected",
    [
        (thermostat(mode="HEAT", ambient_c=21.7, heat_c=20.0), "The Living Room is 71 degrees, heating to 68."),
        (
            thermostat(mode="COOL", scale="CELSIUS", ambient_c=23.2, cool_c=24.0),
            "The Living Room is 23 degrees, cooling to 24.",
        ),
        (
            thermostat(mode="HEATCOOL", ambient_c=f_to_c(70), heat_c=f_to_c(68), cool_c=f_to_c(74)),
            "The Living Room is 70 degrees, set to heat-cool between 68 and 74.",
        ),
        (
            thermostat(mode="HEATCOOL", scale="CELSIUS", ambient_c=21.0, heat_c=19.5, cool_c=23.0),
            "The Living Room is 21 degrees, set to heat-cool between 19.5 and 23.",
        ),
        (thermostat(mode="OFF", scale="CELSIUS", ambient_c=20.4), "The Living Room is 20.5 degrees, turned off."),
        (
            thermostat(mode="HEAT", eco=True, ambient_c=f_to_c(65), eco_heat_c=f_to_c(62), eco_cool_c=f_to_c(80)),
            "The Living Room is 65 degrees, in eco mode, between 62 and 80.",
        ),
        (thermostat(online=False), "The Living Room is offline."),
        (thermostat(ambient_c=None, heat_c=f_to_c(68)), "The Living Room is heating to 68."),
    ],
    ids=["heat-F", "cool-C", "heatcool-F", "heatcool-C", "off-C", "eco-F", "offline", "no-ambient-reading"],
)
def test_each_mode_is_described_in_the_thermostats_own_scale(skill, sdm_api, device, expected):
    assert status_of(skill, sdm_api, device) == expected


@pytest.mark.parametrize(
    "scale, ambient_c, heard",
    [
        ("FAHRENHEIT", f_to_c(71.49), "71"),
        ("FAHRENHEIT", f_to_c(71.51), "72"),
        ("FAHRENHEIT", f_to_c(70.5), "71"),
        ("CELSIUS", 21.24, "21"),
        ("CELSIUS", 21.26, "21.5"),
        ("CELSIUS", 21.75, "22"),
    ],
)
def test_readings_are_rounded_as_the_nest_app_shows_them(skill, sdm_api, scale, ambient_c, heard):
    assert status_of(skill, sdm_api, thermostat(scale=scale, ambient_c=ambient_c)).startswith(
        f"The Living Room is {heard} degrees,"
    )


def test_every_thermostat_is_reported_and_other_devices_are_ignored(skill, sdm_api):
    text = status_of(
        skill,
        sdm_api,
        thermostat("living", room="Living Room", ambient_c=21.7, heat_c=20.0),
        camera(),
        thermostat(
            "office",
            room="Office",
            custom_name="Dad's Office",
            scale="CELSIUS",
            mode="COOL",
            ambient_c=24.0,
            cool_c=23.0,
        ),
        thermostat("bed", room="Bedroom", online=False),
    )
    assert text == (
        "The Living Room is 71 degrees, heating to 68. Dad's Office is 24 degrees, cooling to 23. "
        "The Bedroom is offline."
    )


def test_the_card_repeats_the_speech(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    reply = skill.lambda_handler(alexa.status(), None)
    card = valid_response(reply)["card"]
    assert card == {"type": "Simple", "title": "Nest thermostats", "content": spoken(reply)}
    assert ends_session(reply)


def test_names_are_escaped_for_ssml_but_not_on_the_card(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat(room="Kids & <Guests>")))
    reply = skill.lambda_handler(alexa.status(), None)
    assert "Kids &amp; &lt;Guests&gt;" in valid_response(reply)["outputSpeech"]["ssml"]
    assert spoken(reply).startswith("The Kids & <Guests> is")
    assert valid_response(reply)["card"]["content"].startswith("The Kids & <Guests> is")


@pytest.mark.parametrize("name", ["Den\x0bUp", "Den\x00Up", "Den\x1fUp", "Den\ufffeUp", "Den\ud800Up"])
def test_a_name_with_a_character_xml_forbids_still_gives_speech_alexa_accepts(skill, sdm_api, name):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat(room=name)))
    reply = skill.lambda_handler(alexa.status(), None)
    assert valid_response(reply)["outputSpeech"]["ssml"].startswith("<speak>The Den Up is")


def test_an_account_without_thermostats_is_told_how_to_share_them(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json={})
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply).startswith("I couldn't find any thermostats on your linked Nest account.")
    assert card_type(reply) == "Simple"


def test_status_is_one_authorized_list_call(skill, sdm_api):
    status_of(skill, sdm_api, thermostat())
    assert len(sdm_api.calls) == 1
    request = sdm_api.calls[0].request
    assert (request.method, request.url) == ("GET", DEVICES_URL)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_a_named_thermostat_is_reported_alone(skill, sdm_api):
    sdm_api.get(
        DEVICES_URL,
        json=device_list(
            thermostat("living", room="Living Room"), thermostat("bed", room="Bedroom", mode="COOL", cool_c=f_to_c(74))
        ),
    )
    reply = skill.lambda_handler(alexa.status("bed room"), None)
    assert spoken(reply) == "The Bedroom is 71 degrees, cooling to 74."
    assert valid_response(reply)["card"]["content"] == spoken(reply)


def test_an_unknown_named_thermostat_lists_the_real_ones(skill, sdm_api):
    sdm_api.get(
        DEVICES_URL, json=device_list(thermostat("living", room="Living Room"), thermostat("bed", room="Bedroom"))
    )
    reply = skill.lambda_handler(alexa.status("garage"), None)
    assert spoken(reply).startswith(
        "I couldn't find a thermostat called garage. Your thermostats are the Living Room and the Bedroom. If it's new"
    )
    assert ends_session(reply)


@pytest.mark.parametrize(
    "reading",
    ["NaN", "Infinity", "-Infinity", "1e999", "1" + "0" * 400],
    ids=["nan", "inf", "-inf", "overflowing-float", "overflowing-int"],
)
def test_a_non_finite_reading_is_left_out_rather_than_crashing(skill, sdm_api, reading):
    """Python's JSON parser accepts NaN and Infinity, which no temperature can be spoken as."""
    body = json.dumps(device_list(thermostat(ambient_c=12345.0, heat_c=f_to_c(68))))
    sdm_api.get(DEVICES_URL, body=body.replace("12345.0", reading))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == "The Living Room is heating to 68."


def test_a_name_with_an_x_is_spoken_as_it_is(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat(room="Xavier's Room")))
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply) == "The Xavier's Room is 71 degrees, heating to 68."


def test_a_thermostat_reporting_only_whether_it_runs_is_reporting(skill, sdm_api):
    """Of the thermostat traits SDM lists only ThermostatHvac: the thermostat reports, so its room
    temperature is read, not "isn't reporting"."""
    device = thermostat(hvac="HEATING")
    for name in ("ThermostatMode", "ThermostatEco", "ThermostatTemperatureSetpoint"):
        device["traits"].pop(TRAIT + name, None)
    sdm_api.get(DEVICES_URL, json=device_list(device))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == "The Living Room is 71 degrees."
