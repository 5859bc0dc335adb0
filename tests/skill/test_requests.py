"""Entry point, configuration, account linking and the intents that do not reach Nest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import AskSdkException

from nest_skill.config import ConfigError, SkillConfig
from sandbox import alexa
from sandbox.alexa import card_type, ends_session, reprompt, spoken
from tests.skill.sdm import DEVICES_URL, device_list, thermostat

ROOT = Path(__file__).resolve().parents[2]


def test_config_defaults_to_googles_sdm_endpoint_and_no_skill_id():
    config = SkillConfig.from_mapping({"NEST_PROJECT_ID": "p-1", "SKILL_ID": " "})
    assert config.sdm_api_base_url == "https://smartdevicemanagement.googleapis.com/v1"
    assert config.skill_id is None


def test_config_strips_a_trailing_slash_from_the_base_url():
    config = SkillConfig.from_mapping({"NEST_PROJECT_ID": "p-1", "SDM_API_BASE_URL": "http://127.0.0.1:8080/v1/"})
    assert config.sdm_api_base_url == "http://127.0.0.1:8080/v1"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({}, "NEST_PROJECT_ID"),
        ({"NEST_PROJECT_ID": "a/b"}, "NEST_PROJECT_ID"),
        ({"NEST_PROJECT_ID": "p-1", "SDM_API_BASE_URL": "ftp://example.com"}, "SDM_API_BASE_URL"),
        ({"NEST_PROJECT_ID": "p-1", "SDM_API_BASE_URL": "https://example.com/v1?x=1"}, "SDM_API_BASE_URL"),
    ],
)
def test_config_refuses_unusable_values_naming_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        SkillConfig.from_mapping(env)


def test_a_container_without_a_project_id_fails_at_cold_start(load_skill):
    with pytest.raises(ConfigError, match="NEST_PROJECT_ID"):
        load_skill(nest_project_id=None)


def test_requests_for_another_skill_are_refused(skill):
    with pytest.raises(AskSdkException, match="Skill ID Verification"):
        skill.lambda_handler(alexa.launch(application_id="amzn1.ask.skill.someone-else"), None)


def test_without_skill_id_configured_any_application_is_served(load_skill):
    skill = load_skill(skill_id=None)
    assert skill.skill_builder.skill_id is None
    assert "Welcome" in spoken(skill.lambda_handler(alexa.launch(application_id="amzn1.ask.skill.other"), None))


def test_launch_welcomes_and_keeps_the_session_open_without_calling_nest(skill, sdm_api):
    reply = skill.lambda_handler(alexa.launch(), None)
    published = json.loads((ROOT / "skill_package" / "skill.json").read_text())
    name = published["manifest"]["publishingInformation"]["locales"]["en-US"]["name"]
    assert spoken(reply).startswith(f"Welcome to {name}.")
    assert "status" in reprompt(reply)
    assert not ends_session(reply)
    assert len(sdm_api.calls) == 0


@pytest.mark.parametrize(
    "event",
    [
        alexa.launch(token=None),
        alexa.status(token=None),
        alexa.set_temp("70", "bedroom", token=None),
        alexa.status(token=None, session=False),
        alexa.status(token=""),
    ],
    ids=["launch", "status", "set", "status-without-session", "empty-token"],
)
def test_unlinked_users_get_a_link_account_card_and_the_session_ends(skill, sdm_api, event):
    reply = skill.lambda_handler(event, None)
    assert "link your Nest account in the Alexa app" in spoken(reply)
    assert card_type(reply) == "LinkAccount"
    assert ends_session(reply)
    assert len(sdm_api.calls) == 0


def test_requests_without_a_session_object_are_answered(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    reply = skill.lambda_handler(alexa.status(session=False), None)
    assert "sessionAttributes" not in reply
    assert spoken(reply).startswith("The Living Room is 71 degrees")


def test_help_explains_what_to_say_and_waits(skill):
    reply = skill.lambda_handler(alexa.intent("AMAZON.HelpIntent"), None)
    assert "set the living room to 70" in spoken(reply)
    assert not ends_session(reply)


def test_fallback_says_what_the_skill_can_do_and_waits(skill):
    reply = skill.lambda_handler(alexa.intent("AMAZON.FallbackIntent"), None)
    assert spoken(reply).startswith("Sorry, I can't help with that.")
    assert reprompt(reply)
    assert not ends_session(reply)


@pytest.mark.parametrize("name", ["AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent"])
def test_stop_cancel_and_home_say_goodbye_and_forget_pending_requests(skill, name):
    reply = skill.lambda_handler(alexa.intent(name, attributes={"pending_temperature": 70}), None)
    assert spoken(reply) == "Goodbye."
    assert ends_session(reply)
    assert reply["sessionAttributes"] == {}


def test_session_ended_gets_an_empty_response(skill, caplog):
    caplog.set_level("INFO")
    event = alexa.session_ended("ERROR", {"type": "INVALID_RESPONSE", "message": "detail that is not logged"})
    reply = skill.lambda_handler(event, None)
    assert alexa.valid_response(reply) == {}
    record = next(r for r in caplog.records if r.getMessage() == "session ended")
    assert (record.reason, record.error_type) == ("ERROR", "INVALID_RESPONSE")
    assert "detail that is not logged" not in caplog.text


def test_an_unexpected_request_gets_an_apology_not_a_crash(skill, caplog):
    reply = skill.lambda_handler(alexa.intent("NoSuchIntent"), None)
    assert spoken(reply) == "Sorry, something went wrong. Please try again."
    assert ends_session(reply)
    record = next(r for r in caplog.records if r.getMessage() == "unhandled exception")
    assert record.intent == "NoSuchIntent"
    assert record.error_type == "DispatchException"


WHAT_NEXT = "You can ask for the status, or tell me a temperature to set."


@pytest.mark.parametrize(
    "configured, used",
    [
        ("http://127.0.0.1:8080/v1//", "http://127.0.0.1:8080/v1"),
        (" https://proxy.example/nestX/ ", "https://proxy.example/nestX"),
        ("  ", "https://smartdevicemanagement.googleapis.com/v1"),
    ],
)
def test_the_sdm_base_url_loses_only_its_trailing_slashes(configured, used):
    assert SkillConfig.from_mapping({"NEST_PROJECT_ID": "p-1", "SDM_API_BASE_URL": configured}).sdm_api_base_url == used


@pytest.mark.parametrize(
    "event, said",
    [
        (
            alexa.launch(),
            "Welcome to Home Thermostat. You can ask for the status, or say, set the living room to 70. "
            "What would you like?",
        ),
        (
            alexa.intent("AMAZON.HelpIntent"),
            "I can tell you what your Nest thermostats are doing, or set one, for example: set the living room to 70. "
            "I can also switch a thermostat to heat, cool, heat and cool, eco or off, make it warmer or cooler, "
            "tell you the humidity, and run the fan. What would you like?",
        ),
        (
            alexa.intent("AMAZON.FallbackIntent"),
            "Sorry, I can't help with that. You can ask for the status, or tell me a temperature to set.",
        ),
    ],
    ids=["launch", "help", "fallback"],
)
def test_the_launch_help_and_fallback_answers_word_for_word(skill, sdm_api, event, said):
    reply = skill.lambda_handler(event, None)
    assert (spoken(reply), reprompt(reply), ends_session(reply)) == (said, WHAT_NEXT, False)
    assert len(sdm_api.calls) == 0
