"""Conversations pinned by literal values (issue 16): what is heard, what is remembered between turns, what
is sent and what is logged, for the survivors `make mutation` found in the handlers."""

from __future__ import annotations

import logging

from sandbox import alexa
from sandbox.alexa import ends_session, reprompt, spoken
from tests.skill.sdm import COMMAND, PROJECT, command_url, sent_command, thermostat
from tests.skill.sdm import serve_devices as setup
from tests.skill.test_controls import fan, humidity, set_mode
from tests.skill.test_logs import fields

LIVING = thermostat("living", room="Living Room")
BEDROOM = thermostat("bed", room="Bedroom", heat_c=18.0)
GONE = f"enterprises/{PROJECT}/devices/gone"


def posts(sdm_api):
    return [(call.request.url, sent_command(call)) for call in sdm_api.calls if call.request.method == "POST"]


def test_after_an_out_of_range_number_the_next_one_sets_the_same_thermostat(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    first = skill.lambda_handler(alexa.set_temp("95", "bedroom"), None)
    assert spoken(first) == "The Bedroom can be set between 50 and 90 degrees. What temperature would you like?"
    assert reprompt(first) == "What temperature?"
    assert not ends_session(first)
    second = skill.lambda_handler(alexa.set_temp("70", attributes=first["sessionAttributes"]), None)
    assert posts(sdm_api) == [(command_url("bed"), {"command": COMMAND + "SetHeat", "params": {"heatCelsius": 21.1111}})]
    assert spoken(second) == "OK, the Bedroom is heating to 70."
    assert ends_session(second)


def test_a_remembered_thermostat_that_is_gone_means_asking_again(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", attributes={"pending_device": GONE}), None)
    assert spoken(reply) == "Which thermostat should I set to 70: the Living Room or the Bedroom?"
    assert posts(sdm_api) == []


def test_yes_to_a_thermostat_that_is_gone(skill, sdm_api):
    setup(sdm_api, LIVING)
    reply = skill.lambda_handler(alexa.intent("AMAZON.YesIntent", attributes={
        "pending_device": GONE, "pending_action": {"kind": "set_temperature", "value": 70}}), None)
    assert spoken(reply).startswith("I couldn't find any thermostats on your linked Nest account.")
    assert ends_session(reply)
    assert posts(sdm_api) == []


def test_asking_for_a_number_remembers_only_a_thermostat_that_was_named(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    assert skill.lambda_handler(alexa.set_temp(), None).get("sessionAttributes", {}) == {}
    assert skill.lambda_handler(set_mode(None, None), None).get("sessionAttributes", {}) == {}
    named = skill.lambda_handler(set_mode(None, None, room="bedroom"), None)
    assert named["sessionAttributes"] == {"pending_thermostat": "bedroom"}


def test_humidity_of_a_thermostat_not_there(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(humidity("kitchen"), None)
    assert spoken(reply) == ("I couldn't find a thermostat called kitchen. "
                             "Your thermostats are the Living Room and the Bedroom.")
    assert ends_session(reply)


def test_humidity_comes_with_a_card(skill, sdm_api):
    setup(sdm_api, LIVING)
    card = skill.lambda_handler(humidity(), None)["response"]["card"]
    assert card == {"type": "Simple", "title": "Nest thermostats", "content": "The humidity at the Living Room is 41 percent."}


def test_heat_mode_by_its_slot_id(skill, sdm_api):
    setup(sdm_api, thermostat("living", room="Living Room", mode="COOL", cool_c=24.0))
    reply = skill.lambda_handler(set_mode("heat", "HEAT"), None)
    assert posts(sdm_api) == [(command_url("living"), {"command": "sdm.devices.commands.ThermostatMode.SetMode",
                                                       "params": {"mode": "HEAT"}})]
    assert spoken(reply) == "OK, the Living Room is set to heat."


def test_fan_off_after_confirming_a_near_name(skill, sdm_api):
    setup(sdm_api, thermostat("living", room="Living Room", fan="ON"))
    question = skill.lambda_handler(fan("off", "OFF", room="living rom"), None)
    assert spoken(question) == "Did you mean the Living Room?"
    reply = skill.lambda_handler(alexa.intent("AMAZON.YesIntent", attributes=question["sessionAttributes"]), None)
    assert posts(sdm_api) == [(command_url("living"), {"command": "sdm.devices.commands.Fan.SetTimer",
                                                       "params": {"timerMode": "OFF"}})]
    assert spoken(reply) == "OK, the fan of the Living Room is off."


def test_a_fan_duration_in_minutes_and_seconds(skill, sdm_api):
    setup(sdm_api, LIVING)
    skill.lambda_handler(fan(None, None, duration="PT1M30S"), None)
    assert posts(sdm_api)[0][1]["params"] == {"timerMode": "ON", "duration": "90s"}


def test_a_room_alexa_could_not_resolve_is_taken_as_heard(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", "bedroom", resolved="living room",
                                                er_status="ER_SUCCESS_NO_MATCH"), None)
    assert posts(sdm_api)[0][0] == command_url("bed")
    assert spoken(reply) == "OK, the Bedroom is heating to 70."


def test_the_session_end_is_logged_with_its_reason_and_error_type(skill, caplog):
    caplog.set_level(logging.INFO)
    skill.lambda_handler(alexa.session_ended("ERROR", {"type": "INVALID_RESPONSE", "message": "m"}), None)
    skill.lambda_handler(alexa.session_ended("USER_INITIATED"), None)
    ended = [fields(r) for r in caplog.records if "reason" in fields(r)]
    assert [(f["reason"], f["error_type"]) for f in ended] == [("ERROR", "INVALID_RESPONSE"), ("USER_INITIATED", None)]


def test_an_unexpected_error_logs_where_it_happened(skill, sdm_api, caplog, monkeypatch):
    from nest_skill import handlers
    setup(sdm_api, LIVING)
    monkeypatch.setattr(handlers.StatusIntentHandler, "report", staticmethod(lambda thermostats: 1 / 0))
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply) == "Sorry, something went wrong. Please try again."
    [logged] = [fields(r) for r in caplog.records if fields(r).get("error_type") == "ZeroDivisionError"]
    assert logged["where"] == "test_pinned_handlers.py:" + str(test_an_unexpected_error_logs_where_it_happened
                                                                .__code__.co_firstlineno + 3)


def test_a_value_entity_resolution_did_not_match_is_never_acted_on(skill, sdm_api):
    """Alexa's ER_SUCCESS_NO_MATCH may still list values: a room or a mode it names was not what was said."""
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", "kitchen", resolved="living room",
                                                er_status="ER_SUCCESS_NO_MATCH"), None)
    assert spoken(reply).startswith("I couldn't find a thermostat called kitchen.")
    mode = alexa.resolved_slot("mode", "hot", "THERMOSTAT_MODE", None)
    mode["resolutions"]["resolutionsPerAuthority"][0]["values"] = [{"value": {"name": "heat", "id": "HEAT"}}]
    asked = skill.lambda_handler(alexa.intent("SetModeIntent", {"thermostat": alexa.slot("thermostat", "bedroom"),
                                                                "mode": mode}), None)
    assert spoken(asked) == "Which mode: heat, cool, heat and cool, eco, or off?"
    assert posts(sdm_api) == []
