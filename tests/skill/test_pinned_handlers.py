"""Conversations pinned by literal values (issue 16): after an out-of-range number the skill still knows
which thermostat it asked about, and sends the next number to that one only."""

from __future__ import annotations

from sandbox import alexa
from sandbox.alexa import ends_session, reprompt, spoken
from tests.skill.sdm import COMMAND, DEVICES_URL, command_url, device_list, sent_command, thermostat

LIVING = thermostat("living", room="Living Room")
BEDROOM = thermostat("bed", room="Bedroom", heat_c=18.0)


def test_after_an_out_of_range_number_the_next_one_sets_the_same_thermostat(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(LIVING, BEDROOM))
    sdm_api.post(command_url("bed"), json={})
    first = skill.lambda_handler(alexa.set_temp("95", "bedroom"), None)
    assert spoken(first) == "The Bedroom can be set between 50 and 90 degrees. What temperature would you like?"
    assert reprompt(first) == "What temperature?"
    assert not ends_session(first)
    second = skill.lambda_handler(alexa.set_temp("70", attributes=first["sessionAttributes"]), None)
    assert [(call.request.url, sent_command(call)) for call in sdm_api.calls if call.request.method == "POST"] == [
        (command_url("bed"), {"command": COMMAND + "SetHeat", "params": {"heatCelsius": 21.1111}})]
    assert spoken(second) == "OK, the Bedroom is heating to 70."
    assert ends_session(second)
