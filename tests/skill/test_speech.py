"""What the custom skill says (custom_skill.speech), word for word: status lines in every mode, questions
naming thermostats and homes, fan durations, and SDM's refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nest_skill import sdm_client
from nest_skill.controls import BeyondLimit, Fan, RangeTooNarrow
from nest_skill.custom_skill.speech import Speech
from nest_skill.sdm_errors import classify
from nest_skill.thermostats import Thermostat
from tests.skill.sdm import thermostat

speech = Speech.for_locale("en-US")
"""What an English request hears."""


def t(**kwargs) -> Thermostat:
    return Thermostat.from_sdm(thermostat(**kwargs))


DEN = t(device_id="den", room="Den")
HALL = t(device_id="hall", room="Hall")
OFFICE = t(device_id="office", room="Office")


@pytest.mark.parametrize(
    "kwargs, heard",
    [
        (dict(eco=True, eco_heat_c=None, eco_cool_c=None, ambient_c=None), "The Living Room is in eco mode."),
        (dict(eco=True, eco_heat_c=15.5556, eco_cool_c=None, ambient_c=None), "The Living Room is in eco mode at 60."),
        (dict(mode="HEATCOOL", heat_c=None, cool_c=None, ambient_c=None), "The Living Room is set to heat-cool."),
        (dict(mode="HEAT", heat_c=None, ambient_c=None), "The Living Room is set to heat."),
        (dict(mode="COOL", cool_c=None, ambient_c=None), "The Living Room is set to cool."),
        (dict(mode="OFF", ambient_c=None, hvac="HEATING"), "The Living Room is turned off."),
        (dict(mode="HEAT", hvac="OFF"), "The Living Room is 71 degrees, heating to 68, not running right now."),
        (
            dict(mode="COOL", cool_c=24.0, hvac="COOLING"),
            "The Living Room is 71 degrees, cooling to 75, and cooling right now.",
        ),
        (dict(mode="SOME_FUTURE_MODE", ambient_c=None), "The Living Room is online."),
    ],
)
def test_status_wordings(kwargs, heard):
    assert speech.status([t(**kwargs)]) == heard


def test_one_thermostat_in_an_unknown_mode_leaves_the_others_status_intact():
    heard = speech.status([t(mode="SOME_FUTURE_MODE", ambient_c=21.1111), t(device_id="den", room="Den")])
    assert heard == "The Living Room is 70 degrees. The Den is 71 degrees, heating to 68."


def test_a_heat_cool_range_reported_with_one_end_is_read_as_set_to_heat_cool():
    assert speech.status([t(mode="HEATCOOL", heat_c=20.0, cool_c=None)]) == (
        "The Living Room is 71 degrees, set to heat-cool."
    )


def test_a_heat_cool_only_thermostat_in_eco_uses_both_eco_setpoints():
    eco = t(eco=True, eco_heat_c=16.6667, eco_cool_c=26.6667, available_modes=("HEATCOOL", "OFF"), ambient_c=None)
    assert speech.status([eco]) == "The Living Room is in eco mode, between 62 and 80."


def test_three_names_are_listed_with_commas_and_or():
    assert speech.ask_which([DEN, HALL, OFFICE]) == (
        "Which thermostat: the Den, the Hall or the Office?",
        "Which one: the Den, the Hall or the Office?",
    )
    assert speech.not_found("kitchen", [DEN, HALL, OFFICE]) == (
        "I couldn't find a thermostat called kitchen. Your thermostats are the Den, the Hall and the Office. "
        "If it's new or was replaced, it has to be shared with this skill on Google's Partner Connections page. "
        "I've sent the steps to the Alexa app."
    )


@pytest.mark.parametrize(
    "items, heard", [([], ""), (["the Den"], "the Den"), (["the Den", "the Hall"], "the Den and the Hall")]
)
def test_short_lists_are_said_whole(items, heard):
    assert Speech.for_locale("en-US").listed(items, "and") == heard


def test_same_names_are_asked_by_order():
    twins = [t(device_id="a", room="Den"), t(device_id="b", room="Den"), t(device_id="c", room="Den")]
    assert speech.ask_which_of(twins) == (
        "I found 3 called the Den. Which one: the first, the second or the third?",
        "Which one: the first, the second or the third?",
    )


def test_near_misses_are_asked_and_reprompted_by_name():
    assert speech.ask_which_of([HALL, DEN]) == ("Did you mean the Hall or the Den?", "Which one: the Hall or the Den?")


def test_homes_and_names_in_questions():
    at = [replace(t(device_id=d, room="Den"), home=h) for d, h in (("a", "Home"), ("b", "Lake House"), ("c", "Cabin"))]
    assert speech.ask_which_of(at)[0] == "Which one: the Den at Home, or at Lake House or at Cabin?"
    mixed = [replace(HALL, home="Home"), at[1]]
    assert speech.ask_which_of(mixed)[0] == "Did you mean the Hall at Home or the Den at Lake House?"
    assert speech.ask_which_of([HALL, DEN, DEN])[0] == (
        "I found 3 that could be it: the Hall, the Den or the Den. Which one: the first, the second or the third?"
    )
    assert speech.ask_temperature("The Bedroom") == (
        "What temperature should I set the Bedroom to?",
        "What temperature?",
    )
    assert speech.ask_which([DEN]) == ("Which thermostat: the Den?", "Which one: the Den?")


@pytest.mark.parametrize(
    "seconds, heard",
    [
        (5430, "1 hour, 30 minutes and 30 seconds"),
        (5400, "1 hour and 30 minutes"),
        (3630, "1 hour and 30 seconds"),
        (90, "1 minute and 30 seconds"),
        (7200, "2 hours"),
        (60, "1 minute"),
        (1, "1 second"),
    ],
)
def test_fan_durations_as_heard(seconds, heard):
    assert speech.changed(Fan(True, seconds).plan(t())) == f"OK, the fan of the Living Room will run for {heard}."


@pytest.mark.parametrize(
    "scale, heard", [("FAHRENHEIT", "It's set to 51 and 61."), ("CELSIUS", "It's set to 10.5 and 16.")]
)
def test_two_setpoints_beyond_a_limit_are_read_as_a_pair(scale, heard):
    living = t(mode="HEATCOOL", scale=scale, heat_c=10.5, cool_c=16.0)
    setpoints = (living.shown(living.heat_c), living.shown(living.cool_c))
    assert speech.cannot_change(BeyondLimit(living, living.shown(10.0), setpoints)).endswith(heard)


def test_a_change_nest_did_not_confirm_may_or_may_not_have_been_made():
    """The same words whether the answer never came or SDM failed (500, 504) while carrying it out."""
    assert speech.unconfirmed(t()) == (
        "Nest didn't confirm the change to the Living Room, so it may or may not "
        "have been made. Ask me for the status in a moment."
    )


def test_a_fan_command_refused_in_the_current_mode_is_a_mode_refusal_not_a_missing_fan():
    """SDM's message names the command ("...Fan.SetTimer command not allowed in current thermostat
    mode.", home-assistant/core#57584): the cause is the mode, the word "Fan" is the command's."""
    refusal = sdm_client.FailedPrecondition(
        "devices.executeCommand",
        400,
        "sdm.devices.commands.Fan.SetTimer command not allowed in current thermostat mode.",
    )
    assert speech.failure(classify(refusal), OFFICE) == (
        "The Office isn't in a mode that allows that right now, so nothing changed. Check its mode in the Nest app."
    )


@pytest.mark.parametrize("scale, gap", [("FAHRENHEIT", "3 degrees"), ("CELSIUS", "2 degrees")])
def test_a_range_too_narrow_is_said_with_nests_minimum_gap_in_the_thermostats_scale(scale, gap):
    living = Thermostat.from_sdm(thermostat(scale=scale, mode="HEATCOOL", heat_c=20.0, cool_c=21.0))
    assert Speech.for_locale("en-US").cannot_change(RangeTooNarrow(living)) == (
        f"Nest needs the heat and cool setpoints of the Living Room at least {gap} apart, so nothing changed."
    )
