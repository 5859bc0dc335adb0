"""More behaviour pinned by literal values (issue 16), for survivors `make mutation` found in controls, handlers,
account, config and logs: a heat-cool range kept in a session, a "which one?" asked again when offered
thermostats are gone, a home's name kept across a retry, a session end Alexa sent without a reason, the SDM
base URL as configured, and the request's log line."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
import responses

from nest_skill import controls, logs, speech
from nest_skill.config import SkillConfig
from nest_skill.controls import SetRange
from nest_skill.thermostats import Thermostat
from sandbox import alexa
from sandbox.alexa import ends_session, spoken
from tests.skill.sdm import (DEVICES_URL, command_url, device_list, device_url, f_to_c, sent_command, structure,
                             structure_list, thermostat)
from tests.skill.test_logs import fields
from tests.skill.test_truthful_answers import MODE_REFUSAL
from tests.skill.test_which_thermostat import HOME, HOME_BEDROOM, LAKE, answer, setup

HEATCOOL = Thermostat.from_sdm(thermostat(mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76)))


@pytest.mark.parametrize("action, valid", [
    (SetRange(68, 74), True), (SetRange(68, None), True), (SetRange(None, 74), True), (SetRange(21.5, 23), True),
    (SetRange(), False), (SetRange("sixty", 74), False), (SetRange(68, float("inf")), False),
    (SetRange(True, 74), False),
])
def test_which_remembered_ranges_are_valid(action, valid):
    assert controls.action_from_json(action.to_json()) == (action if valid else None)


def test_a_range_is_confirmed_as_heat_cool_between_its_ends():
    assert speech.changed(SetRange(68, 74).plan(HEATCOOL)) == "OK, the Living Room is set to heat-cool between 68 and 74."


def hallway(device_id):
    return thermostat(device_id, room="Hallway")


@pytest.mark.parametrize("still_listed, asked, choices", [
    ((hallway("hall-2"), hallway("hall-3")), "I found 2 called the Hallway. Which one: the first or the second?",
     ["hall-2", "hall-3"]),
    ((), "I couldn't find any thermostats on your linked Nest account. To share them, link your account again in "
         "the Alexa app.", None),
])
def test_an_offered_thermostat_gone_before_the_answer(load_skill, sdm_api, still_listed, asked, choices):
    """Three Hallways offered, answered in a new container that lists fewer: nothing is sent, and the
    question is asked again about those left (or, none left, the skill says it found none)."""
    setup(sdm_api, hallway("hall-1"), hallway("hall-2"), hallway("hall-3"))
    question = load_skill().lambda_handler(alexa.set_temp("70", "hallway"), None)
    assert spoken(question) == "I found 3 called the Hallway. Which one: the first, the second or the third?"
    sdm_api.replace(responses.GET, DEVICES_URL, json=device_list(*still_listed))
    reply = answer(load_skill(), question, "the first one")
    assert spoken(reply) == asked
    assert [c for c in sdm_api.calls if c.request.method == "POST"] == []
    if choices is None:
        assert ends_session(reply) and reply["sessionAttributes"] == {}
    else:
        assert not ends_session(reply)
        assert reply["sessionAttributes"] == {
            "pending_action": {"kind": "set_temperature", "value": 70.0},
            "pending_choices": [f"enterprises/project-under-test/devices/{d}" for d in choices]}


def test_a_new_temperature_instead_of_an_answer_is_a_new_request(skill, sdm_api):
    """Asked "which one?", the user sets another thermostat to another temperature: that is done, and the
    pending 72 is dropped."""
    setup(sdm_api, LAKE, HOME, HOME_BEDROOM)
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    reply = skill.lambda_handler(alexa.set_temp("68", "bedroom", attributes=question["sessionAttributes"]), None)
    assert spoken(reply) == "OK, the Bedroom at Home is heating to 68."
    assert [(c.request.url, sent_command(c)["params"]) for c in sdm_api.calls if c.request.method == "POST"] == [
        (command_url("home-bed"), {"heatCelsius": 20.0})]


def test_a_retry_on_fresh_state_keeps_the_home_name(skill, sdm_api):
    """The list said heat, the thermostat cools now: SDM refuses, the fresh read (devices.get knows no
    home) gets SetCool, and the confirmation still names the home."""
    setup(sdm_api, LAKE, HOME)
    sdm_api.replace(responses.POST, command_url("lake-living"), **MODE_REFUSAL)
    sdm_api.post(command_url("lake-living"), json={})
    sdm_api.get(device_url("lake-living"), json=thermostat("lake-living", room="Living Room", structure="lake",
                                                             mode="COOL", cool_c=24.0))
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    reply = answer(skill, question, "lake house")
    assert spoken(reply) == "OK, the Living Room at Lake House is cooling to 72."
    assert [sent_command(c)["command"].rsplit(".", 1)[-1] for c in sdm_api.calls if c.request.method == "POST"] == [
        "SetHeat", "SetCool"]


def test_a_thermostat_in_a_home_without_a_name_is_named_without_one(skill, sdm_api):
    setup(sdm_api, LAKE, thermostat("den", room="Den", structure="cabin"),
          structures=structure_list(structure("lake", "Lake House"), structure("cabin", " ")))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == (
        "The Living Room at Lake House is 71 degrees, heating to 66. The Den is 71 degrees, heating to 68.")


def test_a_session_end_without_a_reason_is_logged_as_such(skill, caplog):
    caplog.set_level(logging.INFO)
    event = alexa.session_ended()
    del event["request"]["reason"]
    reply = skill.lambda_handler(event, None)
    assert "outputSpeech" not in reply.get("response", {})
    [ended] = [fields(r) for r in caplog.records if r.getMessage() == "session ended"]
    assert (ended["reason"], ended["error_type"]) == (None, None)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("configured, used", [
    ("http://127.0.0.1:8080/v1//", "http://127.0.0.1:8080/v1"),
    (" https://proxy.example/nestX/ ", "https://proxy.example/nestX"),
    ("  ", "https://smartdevicemanagement.googleapis.com/v1"),
])
def test_the_sdm_base_url_loses_only_its_trailing_slashes(configured, used):
    assert SkillConfig.from_mapping({"NEST_PROJECT_ID": "p-1", "SDM_API_BASE_URL": configured}).sdm_api_base_url == used


@pytest.mark.parametrize("event, ends_session", [(alexa.launch(), False), (alexa.intent("AMAZON.StopIntent"), True)],
                         ids=["launch", "stop"])
def test_the_request_log_line_has_its_latency_in_tenths_of_a_millisecond(skill, caplog, monkeypatch, event,
                                                                         ends_session):
    """The request timer starts at 100 s on the monotonic clock and the line is written at 100.01234 s."""
    readings = iter([100.0, 100.01234])
    monkeypatch.setattr(logs, "time", SimpleNamespace(monotonic=lambda: next(readings)))
    caplog.set_level(logging.INFO)
    skill.lambda_handler(event, None)
    [handled] = [fields(r) for r in caplog.records if r.getMessage() == "handled"]
    assert (handled["latency_ms"], handled["ends_session"]) == (12.3, ends_session)
