"""controls: each Action plans one SDM command for one thermostat, or raises a typed reason why nothing is
sent, with no speech or Alexa in it; an Action kept in a session is read back only when valid."""

from __future__ import annotations

import pytest

from nest_skill import controls
from nest_skill.controls import (
    Adjust,
    BeyondLimit,
    EcoWhileOff,
    Fan,
    ModeUnavailable,
    SetMode,
    SetRange,
    SetTemperature,
    action_from_json,
)
from nest_skill.custom_skill.speech import Speech
from nest_skill.thermostats import Mode, Thermostat
from tests.skill.sdm import f_to_c, thermostat

speech = Speech.for_locale("en-US")
"""What an English request hears."""


def t(**kwargs) -> Thermostat:
    return Thermostat.from_sdm(thermostat(**kwargs))


HEATCOOL = Thermostat.from_sdm(thermostat(mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76)))


def test_controls_plan_typed_changes_and_reasons_without_speech():
    heat_only = Thermostat.from_sdm(thermostat(mode="OFF", available_modes=("HEAT", "OFF")))
    with pytest.raises(ModeUnavailable) as unavailable:
        SetMode("COOL").plan(heat_only)
    assert unavailable.value.mode is Mode.COOL
    with pytest.raises(EcoWhileOff):
        SetMode("MANUAL_ECO").plan(heat_only)
    change = SetMode("HEAT").plan(heat_only)
    assert (change.command, dict(change.params), change.mode) == (
        "sdm.devices.commands.ThermostatMode.SetMode",
        {"mode": "HEAT"},
        Mode.HEAT,
    )
    with pytest.raises(BeyondLimit) as beyond:
        Adjust(up=True, amount=5).plan(Thermostat.from_sdm(thermostat(heat_c=f_to_c(88))))
    assert (beyond.value.limit, beyond.value.setpoints) == (90.0, (88.0,))
    capped = Fan(on=True, seconds=86400).plan(Thermostat.from_sdm(thermostat()))
    assert (dict(capped.params), capped.fan_seconds, capped.capped) == (
        {"timerMode": "ON", "duration": "43200s"},
        43200,
        True,
    )
    for action in (SetMode("COOL"), Adjust(up=False, amount=2.0), Fan(on=True, seconds=60)):
        assert action_from_json(action.to_json()) == action
    for forged in (
        {"kind": "set_mode", "mode": "TURBO"},
        {"kind": "fan", "on": "yes"},
        {"kind": "adjust", "up": True, "amount": -3},
        {"kind": "fan", "on": True, "seconds": True},
        {"kind": "nope"},
        {"kind": "set_temperature", "value": 70, "extra": 1},
        "set_mode",
    ):
        assert action_from_json(forged) is None, forged


def test_heat_cool_reporting_only_its_heat_setpoint_gets_one_exact_range():
    device = thermostat(mode="HEATCOOL", heat_c=20.0, cool_c=None)
    change = SetTemperature(70).plan(Thermostat.from_sdm(device))
    assert (change.command, change.params, change.setpoints) == (
        "sdm.devices.commands.ThermostatTemperatureSetpoint.SetRange",
        {"heatCelsius": 20.5555, "coolCelsius": 22.2223},
        (69.0, 72.0),
    )
    assert speech.changed(change) == "OK, the Living Room is set to heat-cool between 69 and 72."


def test_a_mode_sdm_adds_later_is_not_a_mode_to_set_a_temperature_in():
    future = t(mode="SOME_FUTURE_MODE")
    with pytest.raises(controls.NoSetpoint) as reason:
        SetTemperature(70).plan(future)
    assert speech.cannot_change(reason.value) == ("The Living Room isn't in a mode I can set, so I didn't change it.")


def test_warmer_in_a_mode_sdm_adds_later_says_there_is_no_setpoint_to_move():
    with pytest.raises(controls.NoSetpoint) as reason:
        Adjust(True, None).plan(t(mode="SOME_FUTURE_MODE"))
    assert speech.cannot_change(reason.value) == "The Living Room isn't in a mode I can set, so I didn't change it."


def test_fan_limits():
    assert (controls.FAN_MAX_S, controls.FAN_DEFAULT_S, controls.ADJUST_STEP) == (43200, 3600, 1.0)
    change = Fan(True, 50000).plan(t())
    assert (change.params, change.capped) == ({"timerMode": "ON", "duration": "43200s"}, True)
    assert Fan(True, 43200).plan(t()).capped is False
    assert Fan(True, None).plan(t()).params == {"timerMode": "ON", "duration": "3600s"}


def test_warmer_by_default_is_one_degree():
    change = Adjust(1, None).plan(t(mode="HEAT", heat_c=20.0))
    assert change.params == {"heatCelsius": 20.5556}


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


@pytest.mark.parametrize(
    "action, valid",
    [
        (Adjust(True, 0), False),
        (Adjust(True, 1), True),
        (Adjust(True, 0.5), True),
        (Adjust(True, None), True),
        (Fan(True, 0), False),
        (Fan(True, 1), True),
        (controls.EcoOff(), True),
    ],
)
def test_which_remembered_actions_are_valid(action, valid):
    assert controls.action_from_json(action.to_json()) == (action if valid else None)


@pytest.mark.parametrize(
    "action, valid",
    [
        (SetRange(68, 74), True),
        (SetRange(68, None), True),
        (SetRange(None, 74), True),
        (SetRange(21.5, 23), True),
        (SetRange(), False),
        (SetRange("sixty", 74), False),
        (SetRange(68, float("inf")), False),
        (SetRange(True, 74), False),
    ],
)
def test_which_remembered_ranges_are_valid(action, valid):
    assert controls.action_from_json(action.to_json()) == (action if valid else None)


def test_a_range_is_confirmed_as_heat_cool_between_its_ends():
    assert (
        speech.changed(SetRange(68, 74).plan(HEATCOOL)) == "OK, the Living Room is set to heat-cool between 68 and 74."
    )
