"""SetTempIntent: the spoken number in the thermostat's own scale, the right SDM command for its
mode, and a conversation when the thermostat or the number is missing."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import alexa
from sandbox.alexa import ends_session, reprompt, spoken, valid_response
from tests.skill.sdm import (
    COMMAND,
    DEVICES_URL,
    PROJECT,
    command_url,
    device_list,
    f_to_c,
    sent_command,
    serve_devices,
    thermostat,
)
from tests.skill.test_change_intents import set_mode

LIVING = thermostat("living", room="Living Room")
BEDROOM = thermostat("bed", room="Bedroom", ambient_c=19.0, heat_c=18.0)


def setup(sdm_api, *devices: dict[str, Any]) -> None:
    sdm_api.get(DEVICES_URL, json=device_list(*devices))
    for device in devices:
        sdm_api.post(command_url(device["name"].rsplit("/", 1)[-1]), json={})


def set_to(skill, sdm_api, device: dict[str, Any], temperature: str, thermostat_name: str | None = None):
    setup(sdm_api, device)
    return skill.lambda_handler(alexa.set_temp(temperature, thermostat_name), None)


def commands(sdm_api):
    return [sent_command(call) for call in sdm_api.calls if call.request.method == "POST"]


@pytest.mark.parametrize(
    "device, said, command, params, heard",
    [
        (thermostat(mode="HEAT"), "70", "SetHeat", {"heatCelsius": 21.1111}, "heating to 70"),
        (thermostat(mode="HEAT"), "70.4", "SetHeat", {"heatCelsius": 21.1111}, "heating to 70"),
        (thermostat(mode="HEAT"), "69.5", "SetHeat", {"heatCelsius": 21.1111}, "heating to 70"),
        (thermostat(mode="HEAT", scale="CELSIUS"), "21", "SetHeat", {"heatCelsius": 21.0}, "heating to 21"),
        (thermostat(mode="HEAT", scale="CELSIUS"), "21.3", "SetHeat", {"heatCelsius": 21.5}, "heating to 21.5"),
        (thermostat(mode="HEAT", scale="CELSIUS"), "21.2", "SetHeat", {"heatCelsius": 21.0}, "heating to 21"),
        (thermostat(mode="COOL", cool_c=24.0), "75", "SetCool", {"coolCelsius": 23.8889}, "cooling to 75"),
        (
            thermostat(mode="COOL", scale="CELSIUS", cool_c=24.0),
            "23.5",
            "SetCool",
            {"coolCelsius": 23.5},
            "cooling to 23.5",
        ),
        (thermostat(mode="HEAT"), "90", "SetHeat", {"heatCelsius": 32.2222}, "heating to 90"),
        (thermostat(mode="HEAT"), "50", "SetHeat", {"heatCelsius": 10.0}, "heating to 50"),
        (thermostat(mode="COOL", scale="CELSIUS"), "32", "SetCool", {"coolCelsius": 32.0}, "cooling to 32"),
        (thermostat(mode="HEAT", scale="CELSIUS"), "10", "SetHeat", {"heatCelsius": 10.0}, "heating to 10"),
    ],
    ids=[
        "heat-F",
        "F-rounds-down",
        "F-half-rounds-up",
        "heat-C",
        "C-to-half-up",
        "C-to-whole",
        "cool-F",
        "cool-C",
        "F-top",
        "F-bottom",
        "C-top",
        "C-bottom",
    ],
)
def test_heat_and_cool_send_one_celsius_setpoint(skill, sdm_api, device, said, command, params, heard):
    reply = set_to(skill, sdm_api, device, said, "living room")
    assert commands(sdm_api) == [{"command": COMMAND + command, "params": params}]
    assert spoken(reply) == f"OK, the Living Room is {heard}."
    assert ends_session(reply)


@pytest.mark.parametrize(
    "scale, current, said, sent_range, heard",
    [
        ("FAHRENHEIT", (68, 74), "70", (67, 73), "67 and 73"),
        ("FAHRENHEIT", (68, 71), "75", (74, 77), "74 and 77"),
        ("FAHRENHEIT", (68, 69), "72", (71, 74), "71 and 74"),
        ("FAHRENHEIT", (68, 74), "89", (84, 90), "84 and 90"),
        ("FAHRENHEIT", (68, 74), "51", (50, 56), "50 and 56"),
        ("CELSIUS", (20, 23), "25", (23.5, 26.5), "23.5 and 26.5"),
        ("CELSIUS", (20, 21), "22", (21, 23), "21 and 23"),
        ("CELSIUS", (20, 23), "31.5", (29, 32), "29 and 32"),
        ("CELSIUS", (20, 23), "10.5", (10, 13), "10 and 13"),
    ],
    ids=[
        "keeps-span",
        "3F-span",
        "widens-to-3F",
        "shifts-down-at-90F",
        "shifts-up-at-50F",
        "keeps-span-C",
        "widens-to-2C",
        "shifts-down-at-32C",
        "shifts-up-at-10C",
    ],
)
def test_heat_cool_keeps_the_span_centred_and_clear_of_the_minimum_gap(
    skill, sdm_api, scale, current, said, sent_range, heard
):
    to_c = f_to_c if scale == "FAHRENHEIT" else float
    device = thermostat(mode="HEATCOOL", scale=scale, heat_c=to_c(current[0]), cool_c=to_c(current[1]))
    reply = set_to(skill, sdm_api, device, said, "living room")
    [sent] = commands(sdm_api)
    assert sent["command"] == COMMAND + "SetRange"
    heat, cool = sent["params"]["heatCelsius"], sent["params"]["coolCelsius"]
    assert cool - heat >= 1.6667  # SDM: "Temperature setpoint range is smaller than minimum 1.666700"
    assert heat >= 10.0 and cool <= 32.2223  # SDM's setpoint limits
    assert (heat, cool) == pytest.approx((to_c(sent_range[0]), to_c(sent_range[1])), abs=2e-4)
    assert spoken(reply) == f"OK, the Living Room is set to heat-cool between {heard}."


@pytest.mark.parametrize(
    "device, expected",
    [
        (
            thermostat(mode="OFF"),
            "The Living Room is turned off, so I didn't change it. Switch it to heat or cool first.",
        ),
        (thermostat(eco=True), "The Living Room is in eco mode, so I didn't change it. Say, turn off eco, first."),
        (thermostat(online=False), "The Living Room is offline, so I couldn't change it."),
    ],
    ids=["off", "eco", "offline"],
)
def test_off_eco_and_offline_thermostats_are_left_alone(skill, sdm_api, device, expected):
    reply = set_to(skill, sdm_api, device, "70")
    assert spoken(reply) == expected
    assert ends_session(reply)
    assert commands(sdm_api) == []


@pytest.mark.parametrize(
    "scale, said, allowed",
    [
        ("FAHRENHEIT", "95", "50 and 90"),
        ("FAHRENHEIT", "21", "50 and 90"),
        ("FAHRENHEIT", "-5", "50 and 90"),
        ("CELSIUS", "70", "10 and 32"),
        ("CELSIUS", "9.5", "10 and 32"),
    ],
)
def test_out_of_range_says_the_allowed_range_and_asks_again(skill, sdm_api, scale, said, allowed):
    setup(sdm_api, thermostat(scale=scale))
    reply = skill.lambda_handler(alexa.set_temp(said, "living room"), None)
    assert spoken(reply) == f"The Living Room can be set between {allowed} degrees. What temperature would you like?"
    assert not ends_session(reply)
    assert commands(sdm_api) == []
    answer = skill.lambda_handler(
        alexa.set_temp("20" if scale == "CELSIUS" else "68", attributes=reply["sessionAttributes"]), None
    )
    assert spoken(answer).startswith("OK, the Living Room is heating to")
    assert len(commands(sdm_api)) == 1


def test_a_thermostat_without_room_or_name_is_found_again_on_the_next_turn(skill, sdm_api):
    setup(sdm_api, thermostat(room="", custom_name=""))
    reply = skill.lambda_handler(alexa.set_temp("95"), None)
    assert spoken(reply) == "Thermostat can be set between 50 and 90 degrees. What temperature would you like?"
    answer = skill.lambda_handler(alexa.set_temp("68", attributes=reply["sessionAttributes"]), None)
    assert spoken(answer) == "OK, thermostat is heating to 68."
    assert len(commands(sdm_api)) == 1


@pytest.mark.parametrize(
    "temperature, room",
    [(None, "bedroom"), ("?", "bedroom"), ("?", "the bedroom")],
    ids=["missing", "unrecognized", "room-with-article"],
)
def test_a_missing_number_is_asked_for_without_calling_nest(skill, sdm_api, temperature, room):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp(temperature, room), None)
    assert spoken(reply) == "What temperature should I set the bedroom to?"
    assert reprompt(reply) == "What temperature?"
    assert not ends_session(reply)
    assert len(sdm_api.calls) == 0

    answer = skill.lambda_handler(alexa.set_temp("66", attributes=reply["sessionAttributes"]), None)
    assert spoken(answer) == "OK, the Bedroom is heating to 66."
    assert sdm_api.calls[-1].request.url == command_url("bed")


def test_a_missing_number_and_thermostat_asks_for_the_number(skill, sdm_api):
    reply = skill.lambda_handler(alexa.set_temp(), None)
    assert spoken(reply) == "What temperature would you like?"
    assert not ends_session(reply)


def test_unusable_session_attributes_are_ignored(skill, sdm_api):
    reply = skill.lambda_handler(
        alexa.set_temp(attributes={"pending_temperature": "hot", "pending_thermostat": 7}), None
    )
    assert spoken(reply) == "What temperature would you like?"


def test_with_one_thermostat_the_name_may_be_left_out(skill, sdm_api):
    reply = set_to(skill, sdm_api, thermostat(), "72")
    assert spoken(reply) == "OK, the Living Room is heating to 72."


def test_with_several_thermostats_and_none_named_it_asks_which_then_completes(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    question = skill.lambda_handler(alexa.set_temp("70"), None)
    assert spoken(question) == "Which thermostat should I set to 70: the Living Room or the Bedroom?"
    assert reprompt(question) == "Which one: the Living Room or the Bedroom?"
    assert not ends_session(question)
    assert commands(sdm_api) == []

    # "The bedroom": the model routes a bare room name to SetTempIntent with only that slot filled.
    answer = skill.lambda_handler(alexa.set_temp(None, "the bedroom", attributes=question["sessionAttributes"]), None)
    assert spoken(answer) == "OK, the Bedroom is heating to 70."
    assert commands(sdm_api) == [{"command": COMMAND + "SetHeat", "params": {"heatCelsius": 21.1111}}]
    assert answer["sessionAttributes"] == {}
    assert [c.request.method for c in sdm_api.calls] == ["GET", "POST"]


def test_without_a_session_it_still_asks_which_thermostat(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", session=False), None)
    assert spoken(reply).startswith("Which thermostat should I set to 70")
    assert "sessionAttributes" not in reply


@pytest.mark.parametrize("said", ["LIVING ROOM", "the living room thermostat", "Living Room's", "livingroom"])
def test_thermostat_names_match_exactly_despite_case_articles_and_word_breaks(skill, sdm_api, said):
    setup(sdm_api, BEDROOM, LIVING)
    reply = skill.lambda_handler(alexa.set_temp("70", said), None)
    assert spoken(reply) == "OK, the Living Room is heating to 70."
    assert sdm_api.calls[-1].request.url == command_url("living")


@pytest.mark.parametrize("said", ["living rom", "leaving room", "living"])
def test_a_near_miss_is_asked_about_and_changed_only_on_yes(skill, sdm_api, said):
    setup(sdm_api, BEDROOM, LIVING)
    question = skill.lambda_handler(alexa.set_temp("70", said), None)
    assert spoken(question) == "Did you mean the Living Room?"
    assert reprompt(question) == "Did you mean the Living Room? Please say yes or no."
    assert not ends_session(question)
    assert commands(sdm_api) == []
    answer = skill.lambda_handler(alexa.intent("AMAZON.YesIntent", attributes=question["sessionAttributes"]), None)
    assert spoken(answer) == "OK, the Living Room is heating to 70."
    assert sdm_api.calls[-1].request.url == command_url("living")
    assert answer["sessionAttributes"] == {}


def test_custom_names_and_rooms_both_match(skill, sdm_api):
    office = thermostat("office", room="Study", custom_name="Dad's Office")
    setup(sdm_api, LIVING, office)
    by_custom_name = skill.lambda_handler(alexa.set_temp("70", "dads office"), None)
    by_room = skill.lambda_handler(alexa.set_temp("71", "study"), None)
    assert spoken(by_custom_name) == "OK, Dad's Office is heating to 70."
    assert spoken(by_room) == "OK, Dad's Office is heating to 71."


def test_a_room_found_only_through_a_synonym_is_asked_about_before_anything_is_sent(skill, sdm_api):
    """The slot type's synonym may not be what this home calls the room: "master bedroom" resolves
    to "bedroom", but here the Bedroom is a child's room and the parents' is the Primary Suite."""
    primary = thermostat("primary", room="Primary Suite")
    setup(sdm_api, BEDROOM, primary)
    reply = skill.lambda_handler(alexa.set_temp("70", "master bedroom", resolved="bedroom"), None)
    assert spoken(reply) == "Did you mean the Bedroom?"
    assert not ends_session(reply)
    assert not [call for call in sdm_api.calls if call.request.method == "POST"]


def test_entity_resolution_finds_a_room_said_as_a_synonym_once_confirmed(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    asked = skill.lambda_handler(alexa.set_temp("70", "front room", resolved="living room"), None)
    assert spoken(asked) == "Did you mean the Living Room?"
    reply = skill.lambda_handler(alexa.intent("AMAZON.YesIntent", attributes=asked["sessionAttributes"]), None)
    assert spoken(reply) == "OK, the Living Room is heating to 70."
    assert sdm_api.calls[-1].request.url == command_url("living")


def test_a_room_really_named_like_a_synonym_beats_its_resolution(skill, sdm_api):
    family = thermostat("family", room="Family Room")
    setup(sdm_api, LIVING, family)
    reply = skill.lambda_handler(alexa.set_temp("70", "family room", resolved="living room"), None)
    assert spoken(reply) == "OK, the Family Room is heating to 70."
    assert sdm_api.calls[-1].request.url == command_url("family")


def test_without_an_entity_match_the_heard_words_are_used(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", "bedroom", er_status="ER_SUCCESS_NO_MATCH"), None)
    assert spoken(reply) == "OK, the Bedroom is heating to 70."


def test_an_unknown_name_lists_the_thermostats_and_keeps_the_number(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", "kitchen"), None)
    assert spoken(reply).startswith(
        "I couldn't find a thermostat called kitchen. Your thermostats are the Living Room and the Bedroom. If it's new"
    )
    assert spoken(reply).endswith("Which one should I set: the Living Room or the Bedroom?")
    assert not ends_session(reply)
    assert commands(sdm_api) == []
    answer = skill.lambda_handler(alexa.set_temp(None, "living room", attributes=reply["sessionAttributes"]), None)
    assert spoken(answer) == "OK, the Living Room is heating to 70."


def test_a_heard_name_is_escaped_in_speech(skill, sdm_api):
    setup(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", "R&D <lab>"), None)
    assert "called R&amp;D &lt;lab&gt;." in valid_response(reply)["outputSpeech"]["ssml"]


def test_an_account_without_thermostats_says_so(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json={"devices": []})
    reply = skill.lambda_handler(alexa.set_temp("70"), None)
    assert spoken(reply).startswith("I couldn't find any thermostats")
    assert ends_session(reply)


def test_the_command_goes_to_the_device_with_the_users_token(skill, sdm_api):
    set_to(skill, sdm_api, thermostat("abc-123"), "70")
    [_, command] = sdm_api.calls
    assert command.request.method == "POST"
    assert command.request.url == command_url("abc-123")
    assert command.request.headers["Authorization"] == f"Bearer {alexa.TOKEN}"
    assert command.request.headers["Content-Type"] == "application/json"


def test_status_then_set_costs_one_list_call_and_set_refreshes_the_next_status(skill, sdm_api):
    setup(sdm_api, LIVING)
    skill.lambda_handler(alexa.status(), None)
    skill.lambda_handler(alexa.set_temp("70"), None)
    assert [c.request.method for c in sdm_api.calls] == ["GET", "POST"]
    skill.lambda_handler(alexa.status(), None)
    assert [c.request.method for c in sdm_api.calls] == ["GET", "POST", "GET"]


def test_users_do_not_share_cached_device_lists(skill, sdm_api):
    setup(sdm_api, LIVING)
    skill.lambda_handler(alexa.status(), None)
    skill.lambda_handler(alexa.status(token=alexa.OTHER_TOKEN), None)
    assert [c.request.headers["Authorization"] for c in sdm_api.calls] == [
        f"Bearer {alexa.TOKEN}",
        f"Bearer {alexa.OTHER_TOKEN}",
    ]


def posts(sdm_api):
    return [(call.request.url, sent_command(call)) for call in sdm_api.calls if call.request.method == "POST"]


GONE = f"enterprises/{PROJECT}/devices/gone"


def test_after_an_out_of_range_number_the_next_one_sets_the_same_thermostat(skill, sdm_api):
    serve_devices(sdm_api, LIVING, BEDROOM)
    first = skill.lambda_handler(alexa.set_temp("95", "bedroom"), None)
    assert spoken(first) == "The Bedroom can be set between 50 and 90 degrees. What temperature would you like?"
    assert reprompt(first) == "What temperature?"
    assert not ends_session(first)
    second = skill.lambda_handler(alexa.set_temp("70", attributes=first["sessionAttributes"]), None)
    assert posts(sdm_api) == [
        (command_url("bed"), {"command": COMMAND + "SetHeat", "params": {"heatCelsius": 21.1111}})
    ]
    assert spoken(second) == "OK, the Bedroom is heating to 70."
    assert ends_session(second)


def test_a_remembered_thermostat_that_is_gone_means_asking_again(skill, sdm_api):
    serve_devices(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", attributes={"pending_device": GONE}), None)
    assert spoken(reply) == "Which thermostat should I set to 70: the Living Room or the Bedroom?"
    assert posts(sdm_api) == []


def test_asking_for_a_number_remembers_only_a_thermostat_that_was_named(skill, sdm_api):
    serve_devices(sdm_api, LIVING, BEDROOM)
    assert skill.lambda_handler(alexa.set_temp(), None).get("sessionAttributes", {}) == {}
    assert skill.lambda_handler(set_mode(None, None), None).get("sessionAttributes", {}) == {}
    named = skill.lambda_handler(set_mode(None, None, room="bedroom"), None)
    assert named["sessionAttributes"] == {"pending_thermostat": "bedroom"}


def test_a_room_alexa_could_not_resolve_is_taken_as_heard(skill, sdm_api):
    serve_devices(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(
        alexa.set_temp("70", "bedroom", resolved="living room", er_status="ER_SUCCESS_NO_MATCH"), None
    )
    assert posts(sdm_api)[0][0] == command_url("bed")
    assert spoken(reply) == "OK, the Bedroom is heating to 70."
