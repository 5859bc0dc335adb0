"""The skill's module-level constants pinned by literal values (issue 16), for the survivors of
`python -m tests.mutation constants --service skill`: the launch, help and fallback answers, a name with
an "X" in it, a fan duration with trailing garbage, five thermostats of one name, a home named in an
answer, a thermostat reporting only whether it runs, SDM's lowest setpoint, and the shortest SDM call."""

from __future__ import annotations

import pytest

from nest_skill import temperatures
from nest_skill.sdm_client import Deadline
from nest_skill.temperatures import Scale
from sandbox import alexa
from sandbox.alexa import ends_session, reprompt, spoken
from tests.skill.sdm import (DEVICES_URL, PROJECT, TRAIT, command_url, device_list, serve_devices, structure,
                             structure_list, thermostat)
from tests.skill.test_controls import fan
from tests.skill.test_which_thermostat import answer, commands, setup

WHAT_NEXT = "You can ask for the status, or tell me a temperature to set."


@pytest.mark.parametrize("event, said", [
    (alexa.launch(), "Welcome to Home Thermostat. You can ask for the status, or say, set the living room to 70. "
                     "What would you like?"),
    (alexa.intent("AMAZON.HelpIntent"),
     "I can tell you what your Nest thermostats are doing, or set one, for example: set the living room to 70. "
     "I can also switch a thermostat to heat, cool, heat and cool, eco or off, make it warmer or cooler, "
     "tell you the humidity, and run the fan. What would you like?"),
    (alexa.intent("AMAZON.FallbackIntent"),
     "Sorry, I can't help with that. You can ask for the status, or tell me a temperature to set."),
], ids=["launch", "help", "fallback"])
def test_the_launch_help_and_fallback_answers_word_for_word(skill, sdm_api, event, said):
    reply = skill.lambda_handler(event, None)
    assert (spoken(reply), reprompt(reply), ends_session(reply)) == (said, WHAT_NEXT, False)
    assert len(sdm_api.calls) == 0


def test_a_name_with_an_x_is_spoken_as_it_is(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat(room="Xavier's Room")))
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply) == "The Xavier's Room is 71 degrees, heating to 68."


def test_a_fan_duration_with_trailing_garbage_is_no_duration(skill, sdm_api):
    """"PT1HX" is not ISO 8601: the skill asks rather than run the fan for the hour it begins with."""
    serve_devices(sdm_api, thermostat())
    reply = skill.lambda_handler(fan(None, None, duration="PT1HX"), None)
    assert (spoken(reply), ends_session(reply)) == ("Should I turn the fan on or off?", False)
    assert [c for c in sdm_api.calls if c.request.method == "POST"] == []


def test_the_fifth_of_five_thermostats_of_one_name(skill, sdm_api):
    """Asked which of five Hallways, the question names the fifth, and "five" picks it."""
    setup(sdm_api, *(thermostat(f"hall-{n}", room="Hallway") for n in range(1, 6)))
    question = skill.lambda_handler(alexa.set_temp("70", "hallway"), None)
    assert spoken(question) == ("I found 5 called the Hallway. "
                                "Which one: the first, the second, the third, the fourth or the fifth?")
    assert reprompt(question) == "Which one: the first, the second, the third, the fourth or the fifth?"
    reply = answer(skill, question, "five")
    assert spoken(reply) == "OK, the Hallway is heating to 70."
    assert commands(sdm_api) == [(command_url("hall-5"), {
        "command": "sdm.devices.commands.ThermostatTemperatureSetpoint.SetHeat", "params": {"heatCelsius": 21.1111}})]


def test_a_home_named_with_an_x_is_picked_by_its_name(skill, sdm_api):
    setup(sdm_api, thermostat("lake-living", room="Living Room", structure="lake"),
          thermostat("cabin-living", room="Living Room", structure="cabin"),
          structures=structure_list(structure("lake", "Lake House"), structure("cabin", "Max's Cabin")))
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(question) == "Which one: the Living Room at Lake House, or at Max's Cabin?"
    reply = answer(skill, question, "max's cabin")
    assert spoken(reply) == "OK, the Living Room at Max's Cabin is heating to 72."
    assert [url for url, _ in commands(sdm_api)] == [command_url("cabin-living")]


def test_a_thermostat_reporting_only_whether_it_runs_is_reporting(skill, sdm_api):
    """Of the thermostat traits SDM lists only ThermostatHvac: the thermostat reports, so its room
    temperature is read, not "isn't reporting"."""
    device = thermostat(hvac="HEATING")
    for name in ("ThermostatMode", "ThermostatEco", "ThermostatTemperatureSetpoint"):
        device["traits"].pop(TRAIT + name, None)
    sdm_api.get(DEVICES_URL, json=device_list(device))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == "The Living Room is 71 degrees."


def test_a_narrow_range_is_widened_downwards_while_the_heat_end_stays_at_10_c_or_above():
    """10.5 to 12 °C is 0.1668 short of SDM's minimum gap: 10.3332 °C is still above SDM's lowest
    setpoint (10 °C), so the heat end moves down rather than the cool end up."""
    assert temperatures.range_celsius(10.5, 12.0, Scale.CELSIUS) == (10.3332, 12.0)


class Sent(Exception):
    pass


def test_with_just_over_a_tenth_of_a_second_left_the_call_is_made(client, clock, monkeypatch):
    """The other side of test_under_a_tenth_of_a_second_left_no_call_is_made: 0.105 s is enough to try."""
    sent = []

    def request(method, url, **kwargs):
        sent.append((method, url))
        raise Sent

    monkeypatch.setattr(client._session, "request", request)
    with pytest.raises(Sent):
        client.list_devices("token", Deadline(0.105, clock))
    with pytest.raises(Sent):
        client.execute_command("token", f"enterprises/{PROJECT}/devices/d",
                               "sdm.devices.commands.ThermostatMode.SetMode", {"mode": "HEAT"}, Deadline(0.105, clock))
    assert sent == [("GET", DEVICES_URL), ("POST", command_url("d"))]
