"""What the domain layer decides, pinned by literal values (issue 16): which thermostat a name means, the
exact Celsius values sent, and what the user hears. Each test fails when one constant or one comparison
in thermostats, temperatures, controls or speech changes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nest_skill import controls, sdm_client, speech, temperatures
from nest_skill.controls import Adjust, Fan, SetMode, SetTemperature
from nest_skill.sdm_errors import classify
from nest_skill.temperatures import Scale
from nest_skill.thermostats import (Closeness, Mode, Thermostat, choose, closeness, match, structure_names,
                                   thermostats_in)
from tests.skill.sdm import PROJECT, TRAIT, thermostat


def t(**kwargs) -> Thermostat:
    return Thermostat.from_sdm(thermostat(**kwargs))


OFFICE = t(device_id="office", room="Office")
DEN = t(device_id="den", room="Den")
HALL = t(device_id="hall", room="Hall")
UPSTAIRS = t(device_id="up", room="Upstairs-Hallway")


# -- which thermostat --------------------------------------------------------------------------------------------


def test_kitchen_thermostat_finds_nothing_when_there_is_only_an_office():
    found = match([OFFICE], "kitchen thermostat")
    assert (found.exact, found.near) == ((), ())


@pytest.mark.parametrize("said, exact, near", [
    ("the den", ("Den",), ()),
    ("den thermostat", ("Den",), ()),
    ("the den thermostats", ("Den",), ()),
    ("upstairs", (), ("Upstairs-Hallway",)),
    ("upstairs hallway", ("Upstairs-Hallway",), ()),
    ("the hal", (), ("Hall",)),
    ("thermostat den", (), ()),
    ("hall den", (), ()),
])
def test_names_as_spoken(said, exact, near):
    found = match([OFFICE, DEN, HALL, UPSTAIRS], said)
    assert (tuple(x.name for x in found.exact), tuple(x.name for x in found.near)) == (exact, near)


def test_the_thermostat_names_the_only_one_and_none_of_two():
    assert match([OFFICE], "the thermostat").exact == (OFFICE,)
    assert match([OFFICE], "").exact == (OFFICE,)
    assert (match([OFFICE, DEN], "the thermostat").exact, match([OFFICE, DEN], "the thermostat").near) == ((), ())


@pytest.mark.parametrize("spoken, name, expected", [
    ("Dad's Offices", "dads office", Closeness.EXACT),
    ("bed room", "Bedroom", Closeness.EXACT),
    ("the class", "Class", Closeness.EXACT),
    ("office", "Offices", Closeness.EXACT),
    ("bus", "Bu", Closeness.NEAR),
    ("bu", "Bus", Closeness.NEAR),
    ("living rom", "Living Room", Closeness.NEAR),
    ("leaving room", "Living Room", Closeness.NEAR),
    ("dining room", "Living Room", Closeness.NONE),
    ("guest bathroom", "Guest Bedroom", Closeness.NONE),
    ("living room", "living", Closeness.NONE),
    ("the", "Den", Closeness.NONE),
])
def test_closeness(spoken, name, expected):
    assert closeness(spoken, name) is expected


def test_only_what_was_heard_matches_exactly_and_a_resolution_is_near():
    family = t(device_id="family", room="Family Room")
    living = t(device_id="living", room="Living Room")
    assert match([family, living], "family room", "living room").exact == (family,)
    misheard = match([family, living], "famly room", "living room")
    assert misheard.exact == () and misheard.near == (family, living)


@pytest.mark.parametrize("answer, chosen", [("the first one", "Den"), ("second", "Hall"), ("3rd", "Office"),
                                            ("the last one", "Office"), ("fourth", None), ("hall", "Hall"),
                                            ("the one", "Den"), ("first hall", None)])
def test_choosing_among_three(answer, chosen):
    picked = choose([DEN, HALL, OFFICE], answer)
    assert (picked.name if picked else None) == chosen


def test_a_device_with_only_the_setpoint_trait_is_a_thermostat():
    device = {"name": f"enterprises/{PROJECT}/devices/x", "type": "sdm.devices.types.SOMETHING_NEW",
              "traits": {TRAIT + "ThermostatTemperatureSetpoint": {"heatCelsius": 20.0}}}
    [found] = thermostats_in([device])
    assert (found.name, found.heat_c, found.mode, found.reporting) == ("thermostat", 20.0, Mode.UNKNOWN, True)


def test_a_thermostat_type_without_traits_is_listed_as_not_reporting():
    [found] = thermostats_in([{"name": "d", "type": "sdm.devices.types.THERMOSTAT", "traits": {}}])
    assert (found.reporting, found.scale, found.online) == (False, Scale.CELSIUS, True)


# -- temperatures ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("low, high, scale, sent", [
    (51, 55, Scale.FAHRENHEIT, (10.5555, 12.7778)),
    (69, 72, Scale.FAHRENHEIT, (20.5555, 22.2223)),
    (50, 53, Scale.FAHRENHEIT, (10.0, 11.6668)),
    (20, 22, Scale.CELSIUS, (20.0, 22.0)),
    (10, 11.5, Scale.CELSIUS, (10.0, 11.6668)),
    (20, 21.5, Scale.CELSIUS, (19.8332, 21.5)),
])
def test_setrange_values_are_exact(low, high, scale, sent):
    assert temperatures.range_celsius(low, high, scale) == sent


@pytest.mark.parametrize("value, scale, shown", [(70.5, Scale.FAHRENHEIT, 71.0), (69.49, Scale.FAHRENHEIT, 69.0),
                                                 (21.25, Scale.CELSIUS, 21.5), (21.24, Scale.CELSIUS, 21.0)])
def test_nest_rounding(value, scale, shown):
    assert temperatures.nest_round(value, scale) == shown


def test_limits_and_conversions():
    assert temperatures.LIMITS == {Scale.FAHRENHEIT: (50.0, 90.0), Scale.CELSIUS: (10.0, 32.0)}
    assert temperatures.MIN_RANGE_GAP_C == 1.6667
    assert temperatures.setpoint_celsius(70, Scale.FAHRENHEIT) == 21.1111
    assert temperatures.displayed(21.1111, Scale.FAHRENHEIT) == 70.0
    assert temperatures.displayed(None, Scale.FAHRENHEIT) is None
    assert temperatures.to_celsius(21.3, Scale.CELSIUS) == 21.3


@pytest.mark.parametrize("value", [True, "20", float("nan"), float("inf"), 10 ** 400, None])
def test_what_is_no_temperature(value):
    assert temperatures.finite(value) is None


@pytest.mark.parametrize("target, current, scale, expected", [
    (70, None, Scale.FAHRENHEIT, (69.0, 72.0)),
    (70, (60.0, 80.0), Scale.FAHRENHEIT, (60.0, 80.0)),
    (70, (50.0, 90.0), Scale.FAHRENHEIT, (50.0, 90.0)),
    (22, None, Scale.CELSIUS, (21.0, 23.0)),
    (22, (20.0, 23.5), Scale.CELSIUS, (20.5, 24.0)),
])
def test_centred_ranges(target, current, scale, expected):
    assert temperatures.centred_range(target, current, scale) == expected


# -- controls ----------------------------------------------------------------------------------------------------


def test_heat_cool_reporting_only_its_heat_setpoint_gets_one_exact_range():
    device = thermostat(mode="HEATCOOL", heat_c=20.0, cool_c=None)
    change = SetTemperature(70).plan(Thermostat.from_sdm(device))
    assert (change.command, change.params, change.setpoints) == (
        "sdm.devices.commands.ThermostatTemperatureSetpoint.SetRange",
        {"heatCelsius": 20.5555, "coolCelsius": 22.2223}, (69.0, 72.0))
    assert speech.changed(change) == "OK, the Living Room is set to heat-cool between 69 and 72."


def test_a_mode_sdm_adds_later_is_not_a_mode_to_set_a_temperature_in():
    future = t(mode="SOME_FUTURE_MODE")
    with pytest.raises(controls.NoSetpoint) as reason:
        SetTemperature(70).plan(future)
    assert speech.cannot_change(reason.value) == (
        "The Living Room isn't in a mode I can set, so I didn't change it.")


def test_fan_limits():
    assert (controls.FAN_MAX_S, controls.FAN_DEFAULT_S, controls.ADJUST_STEP) == (43200, 3600, 1.0)
    change = Fan(True, 50000).plan(t())
    assert (change.params, change.capped) == ({"timerMode": "ON", "duration": "43200s"}, True)
    assert Fan(True, 43200).plan(t()).capped is False
    assert Fan(True, None).plan(t()).params == {"timerMode": "ON", "duration": "3600s"}


def test_warmer_by_default_is_one_degree():
    change = Adjust(1, None).plan(t(mode="HEAT", heat_c=20.0))
    assert change.params == {"heatCelsius": 20.5556}


# -- what is heard -----------------------------------------------------------------------------------------------


def test_one_thermostat_in_an_unknown_mode_leaves_the_others_status_intact():
    heard = speech.status([t(mode="SOME_FUTURE_MODE", ambient_c=21.1111), t(device_id="den", room="Den")])
    assert heard == "The Living Room is 70 degrees. The Den is 71 degrees, heating to 68."


@pytest.mark.parametrize("kwargs, heard", [
    (dict(eco=True, eco_heat_c=None, eco_cool_c=None, ambient_c=None), "The Living Room is in eco mode."),
    (dict(eco=True, eco_heat_c=15.5556, eco_cool_c=None, ambient_c=None), "The Living Room is in eco mode at 60."),
    (dict(mode="HEATCOOL", heat_c=None, cool_c=None, ambient_c=None), "The Living Room is set to heat-cool."),
    (dict(mode="HEAT", heat_c=None, ambient_c=None), "The Living Room is set to heat."),
    (dict(mode="COOL", cool_c=None, ambient_c=None), "The Living Room is set to cool."),
    (dict(mode="OFF", ambient_c=None, hvac="HEATING"), "The Living Room is turned off."),
    (dict(mode="HEAT", hvac="OFF"), "The Living Room is 71 degrees, heating to 68, not running right now."),
    (dict(mode="COOL", cool_c=24.0, hvac="COOLING"), "The Living Room is 71 degrees, cooling to 75, and cooling right now."),
    (dict(mode="SOME_FUTURE_MODE", ambient_c=None), "The Living Room is online."),
])
def test_status_wordings(kwargs, heard):
    assert speech.status([t(**kwargs)]) == heard


def test_three_names_are_listed_with_commas_and_or():
    assert speech.ask_which([DEN, HALL, OFFICE]) == (
        "Which thermostat: the Den, the Hall or the Office?", "Which one: the Den, the Hall or the Office?")
    assert speech.not_found("kitchen", [DEN, HALL, OFFICE]) == (
        "I couldn't find a thermostat called kitchen. Your thermostats are the Den, the Hall and the Office.")


def test_same_names_are_asked_by_order():
    twins = [t(device_id="a", room="Den"), t(device_id="b", room="Den"), t(device_id="c", room="Den")]
    assert speech.ask_which_of(twins) == ("I found 3 called the Den. Which one: the first, the second or the third?",
                                          "Which one: the first, the second or the third?")


def test_fan_durations_as_heard():
    assert speech.changed(Fan(True, 5430).plan(t())) == \
        "OK, the fan of the Living Room will run for 1 hour, 30 minutes and 30 seconds."


# -- survivors of `make mutation` ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spoken, name, expected", [
    ("Dad\u2019s Office", "Dads Office", Closeness.EXACT),
    ("dens", "Den", Closeness.EXACT),
    ("class", "Clas", Closeness.NEAR),
    ("boss", "Bos", Closeness.NEAR),
    ("room living", "Living Room", Closeness.NONE),
    ("halt", "Hall", Closeness.NEAR),
])
def test_closeness_at_each_rule_edge(spoken, name, expected):
    assert closeness(spoken, name) is expected


def test_a_near_answer_chooses_the_one_it_fits():
    assert choose([DEN, HALL], "hal") is HALL


def test_what_the_sdm_json_leaves_out():
    device = thermostat(mode="SOME_FUTURE_MODE")
    device["parentRelations"] = [{"parent": "rooms/no-structure"}]
    del device["name"]
    found = Thermostat.from_sdm(device)
    assert (found.device_name, found.structure, found.name, found.aliases) == ("", "", "thermostat", ())
    assert (found.mode, found.base_mode) == (Mode.UNKNOWN, Mode.UNKNOWN)


def test_a_home_without_a_name_is_not_named():
    assert structure_names([{"name": "enterprises/p/structures/a", "traits": {}},
                            {"name": "enterprises/p/structures/b",
                             "traits": {"sdm.structures.traits.Info": {}}},
                            {"name": "enterprises/p/structures/c",
                             "traits": {"sdm.structures.traits.Info": {"customName": " Lake House "}}}]) == {
        "enterprises/p/structures/c": "Lake House"}


def test_a_heat_cool_only_thermostat_in_eco_uses_both_eco_setpoints():
    eco = t(eco=True, eco_heat_c=16.6667, eco_cool_c=26.6667, available_modes=("HEATCOOL", "OFF"), ambient_c=None)
    assert speech.status([eco]) == "The Living Room is in eco mode, between 62 and 80."


@pytest.mark.parametrize("action, valid", [(Adjust(True, 0), False), (Adjust(True, 1), True), (Adjust(True, 0.5), True),
                                           (Adjust(True, None), True), (Fan(True, 0), False), (Fan(True, 1), True),
                                           (controls.EcoOff(), True)])
def test_which_remembered_actions_are_valid(action, valid):
    assert controls.action_from_json(action.to_json()) == (action if valid else None)


def test_warmer_without_a_setpoint_says_so():
    with pytest.raises(controls.NoSetpoint) as reason:
        Adjust(True, None).plan(t(mode="HEATCOOL", heat_c=20.0, cool_c=None))
    assert speech.cannot_change(reason.value) == "The Living Room isn't in a mode I can set, so I didn't change it."


def test_the_fan_leaves_the_mode_as_it_is():
    assert Fan(True, None).plan(t(mode="COOL", cool_c=24.0)).mode is Mode.COOL
    assert Fan(False, None).plan(t(mode="HEAT", fan="ON")).mode is Mode.HEAT


def test_eco_off_to_an_unknown_mode():
    eco = t(eco=True, mode="SOME_FUTURE_MODE")
    assert speech.changed(controls.EcoOff().plan(eco)) == "OK, eco is off for the Living Room."


def test_a_fan_command_refused_in_the_current_mode_is_a_mode_refusal_not_a_missing_fan():
    """SDM's message names the command ("...Fan.SetTimer command not allowed in current thermostat
    mode.", home-assistant/core#57584): the cause is the mode, the word "Fan" is the command's."""
    refusal = sdm_client.FailedPrecondition(
        "devices.executeCommand", 400, "sdm.devices.commands.Fan.SetTimer command not allowed in current thermostat mode.")
    assert speech.failure(classify(refusal), OFFICE) == (
        "The Office isn't in a mode that allows that right now, so nothing changed. Check its mode in the Nest app.")


def test_homes_and_names_in_questions():
    at = [replace(t(device_id=d, room="Den"), home=h) for d, h in (("a", "Home"), ("b", "Lake House"), ("c", "Cabin"))]
    assert speech.ask_which_of(at)[0] == "Which one: the Den at Home, or at Lake House or at Cabin?"
    mixed = [replace(HALL, home="Home"), at[1]]
    assert speech.ask_which_of(mixed)[0] == "Did you mean the Hall at Home or the Den at Lake House?"
    assert speech.ask_which_of([HALL, DEN, DEN])[0] == (
        "I found 3 that could be it: the Hall, the Den or the Den. Which one: the first, the second or the third?")
    assert speech.ask_temperature("The Bedroom") == ("What temperature should I set the Bedroom to?", "What temperature?")
    assert speech.ask_which([DEN]) == ("Which thermostat: the Den?", "Which one: the Den?")
