"""Alexa.ThermostatController: the SDM command sent for each directive, in both scales and every
mode, and the Alexa.Response carrying the state it leaves."""

from __future__ import annotations

import pytest

from sandbox import alexa
from tests.skill.sdm import f_to_c, sent_command, thermostat
from tests.smart_home.conftest import setup
from tests.smart_home.test_report_state import AMBIENT, HEALTH, MOMENT, prop

CMD = "sdm.devices.commands."
SETPOINT = CMD + "ThermostatTemperatureSetpoint."


def commands(sdm_api):
    return [sent_command(c) for c in sdm_api.calls if c.request.method == "POST"]


def test_set_the_living_room_to_70(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEAT", heat_c=f_to_c(66)))
    reply = send(alexa.set_target("living", 70))
    assert commands(sdm_api) == [{"command": SETPOINT + "SetHeat", "params": {"heatCelsius": 21.1111}}]
    assert reply["event"]["header"]["name"] == "Response"
    assert alexa.properties(reply)["targetSetpoint"] == alexa.degrees(70)
    assert alexa.properties(reply)["thermostatMode"] == "HEAT"


def test_celsius_asked_of_a_fahrenheit_thermostat_is_converted_and_answered_in_its_scale(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="COOL", cool_c=25.0))
    reply = send(alexa.set_target("living", 22, scale="CELSIUS"))
    assert commands(sdm_api) == [{"command": SETPOINT + "SetCool", "params": {"coolCelsius": 22.2222}}]
    assert alexa.properties(reply)["targetSetpoint"] == alexa.degrees(72)


def test_fahrenheit_asked_of_a_celsius_thermostat_lands_on_a_half_degree(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", scale="CELSIUS", mode="HEAT", heat_c=19.0))
    reply = send(alexa.set_target("living", 70))
    assert commands(sdm_api) == [{"command": SETPOINT + "SetHeat", "params": {"heatCelsius": 21.0}}]
    assert alexa.properties(reply)["targetSetpoint"] == alexa.degrees(21.0, "CELSIUS")


def test_a_target_in_heat_cool_becomes_a_range_around_it(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76)))
    reply = send(alexa.set_target("living", 72))
    assert commands(sdm_api)[0]["command"] == SETPOINT + "SetRange"
    assert (alexa.properties(reply)["lowerSetpoint"], alexa.properties(reply)["upperSetpoint"]) == (
        alexa.degrees(67),
        alexa.degrees(77),
    )


def test_lower_and_upper_set_the_range(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76)))
    reply = send(alexa.set_target("living", lower=68, upper=74))
    assert commands(sdm_api) == [
        {"command": SETPOINT + "SetRange", "params": {"heatCelsius": 20.0, "coolCelsius": 23.3334}}
    ]
    assert alexa.properties(reply)["lowerSetpoint"] == alexa.degrees(68)


def test_one_end_of_the_range_keeps_the_other(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76)))
    reply = send(alexa.set_target("living", upper=80))
    assert (alexa.properties(reply)["lowerSetpoint"], alexa.properties(reply)["upperSetpoint"]) == (
        alexa.degrees(66),
        alexa.degrees(80),
    )


def test_a_target_with_one_end_of_the_range_in_heat_cool_sets_that_end_and_keeps_the_other(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76)))
    reply = send(alexa.set_target("living", 72, lower=64))
    assert (alexa.properties(reply)["lowerSetpoint"], alexa.properties(reply)["upperSetpoint"]) == (
        alexa.degrees(64),
        alexa.degrees(76),
    )


@pytest.mark.parametrize("scale, lower, upper, minimum", [("FAHRENHEIT", 70, 72, 3.0), ("CELSIUS", 21, 22.5, 2.0)])
def test_a_range_narrower_than_sdm_allows_is_too_close(send, sdm_api, scale, lower, upper, minimum):
    setup(sdm_api, thermostat("living", "Living Room", scale=scale, mode="HEATCOOL", heat_c=19.0, cool_c=24.0))
    reply = send(alexa.set_target("living", lower=lower, upper=upper, scale=scale))
    assert reply["event"]["header"]["namespace"] == "Alexa.ThermostatController"
    assert reply["event"]["payload"]["type"] == "REQUESTED_SETPOINTS_TOO_CLOSE"
    assert reply["event"]["payload"]["minimumTemperatureDelta"] == alexa.degrees(minimum, scale)
    assert commands(sdm_api) == []


def test_a_range_while_heating_is_dual_setpoints_unsupported(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEAT"))
    assert alexa.error_type(send(alexa.set_target("living", lower=66, upper=74))) == "DUAL_SETPOINTS_UNSUPPORTED"
    assert commands(sdm_api) == []


@pytest.mark.parametrize("scale, value, limits", [("FAHRENHEIT", 95, (50.0, 90.0)), ("CELSIUS", 8, (10.0, 32.0))])
def test_outside_the_nest_limits_is_out_of_range_with_the_valid_range(send, sdm_api, scale, value, limits):
    setup(sdm_api, thermostat("living", "Living Room", scale=scale))
    reply = send(alexa.set_target("living", value, scale=scale))
    assert reply["event"]["payload"] == {
        "type": "TEMPERATURE_VALUE_OUT_OF_RANGE",
        "message": "outside the Nest setpoint limits",
        "validRange": {
            "minimumValue": alexa.degrees(limits[0], scale),
            "maximumValue": alexa.degrees(limits[1], scale),
        },
    }
    assert commands(sdm_api) == []


def test_a_thermostat_that_is_off_is_thermostat_is_off(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="OFF"))
    for directive in (alexa.set_target("living", 70), alexa.adjust("living", 2)):
        reply = send(directive)
        assert reply["event"]["header"]["namespace"] == "Alexa.ThermostatController"
        assert alexa.error_type(reply) == "THERMOSTAT_IS_OFF"
    assert commands(sdm_api) == []


def test_eco_is_not_supported_in_the_current_mode(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", eco=True))
    for directive in (alexa.set_target("living", 70), alexa.adjust("living", -2)):
        reply = send(directive)
        assert alexa.error_type(reply) == "NOT_SUPPORTED_IN_CURRENT_MODE"
        assert reply["event"]["payload"]["currentDeviceMode"] == "OTHER"
    assert commands(sdm_api) == []


@pytest.mark.parametrize(
    "thermostat_scale, delta, delta_scale, heat_c, expected",
    [
        ("FAHRENHEIT", 2, "FAHRENHEIT", f_to_c(68), alexa.degrees(70)),
        ("FAHRENHEIT", 1, "CELSIUS", f_to_c(68), alexa.degrees(70)),  # 1 °C is 1.8 °F: two whole degrees
        ("CELSIUS", 2, "FAHRENHEIT", 20.0, alexa.degrees(21.0, "CELSIUS")),  # 2 °F is 1.1 °C, not -16.7 °C
        ("CELSIUS", -1, "CELSIUS", 20.0, alexa.degrees(19.0, "CELSIUS")),
        ("CELSIUS", 1.5, "KELVIN", 20.0, alexa.degrees(21.5, "CELSIUS")),
    ],
)
def test_a_delta_is_converted_as_a_temperature_difference(
    send, sdm_api, thermostat_scale, delta, delta_scale, heat_c, expected
):
    setup(sdm_api, thermostat("living", "Living Room", scale=thermostat_scale, mode="HEAT", heat_c=heat_c))
    reply = send(alexa.adjust("living", delta, delta_scale))
    assert alexa.properties(reply)["targetSetpoint"] == expected


def test_make_it_warmer_in_heat_cool_moves_both_ends(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76)))
    reply = send(alexa.adjust("living", 2))
    assert (alexa.properties(reply)["lowerSetpoint"], alexa.properties(reply)["upperSetpoint"]) == (
        alexa.degrees(68),
        alexa.degrees(78),
    )


def test_a_delta_past_the_limit_is_out_of_range(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEAT", heat_c=f_to_c(89)))
    assert alexa.error_type(send(alexa.adjust("living", 3))) == "TEMPERATURE_VALUE_OUT_OF_RANGE"
    assert commands(sdm_api) == []


@pytest.mark.parametrize(
    "alexa_mode, command",
    [
        ("HEAT", {"command": CMD + "ThermostatMode.SetMode", "params": {"mode": "HEAT"}}),
        ("COOL", {"command": CMD + "ThermostatMode.SetMode", "params": {"mode": "COOL"}}),
        ("AUTO", {"command": CMD + "ThermostatMode.SetMode", "params": {"mode": "HEATCOOL"}}),
        ("OFF", {"command": CMD + "ThermostatMode.SetMode", "params": {"mode": "OFF"}}),
        ("ECO", {"command": CMD + "ThermostatEco.SetMode", "params": {"mode": "MANUAL_ECO"}}),
    ],
)
def test_every_mode_is_its_sdm_command(send, sdm_api, alexa_mode, command):
    start = "COOL" if alexa_mode == "HEAT" else "HEAT"
    setup(sdm_api, thermostat("living", "Living Room", mode=start, cool_c=25.0))
    reply = send(alexa.set_mode("living", alexa_mode))
    assert commands(sdm_api) == [command]
    assert alexa.properties(reply)["thermostatMode"] == alexa_mode


def test_a_mode_just_switched_to_reports_no_stale_setpoint(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEAT", heat_c=f_to_c(68)))
    assert "targetSetpoint" not in alexa.properties(send(alexa.set_mode("living", "COOL")))


def test_set_the_bedroom_to_eco_reports_the_eco_setpoints(send, sdm_api):
    setup(
        sdm_api,
        thermostat(
            "bed", "Bedroom", mode="HEATCOOL", heat_c=20.0, cool_c=24.0, eco_heat_c=f_to_c(62), eco_cool_c=f_to_c(80)
        ),
    )
    state = alexa.properties(send(alexa.set_mode("bed", "ECO")))
    assert (state["thermostatMode"], state["lowerSetpoint"], state["upperSetpoint"]) == (
        "ECO",
        alexa.degrees(62),
        alexa.degrees(80),
    )


def test_the_mode_it_is_already_in_sends_nothing_and_succeeds(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="HEAT"))
    reply = send(alexa.set_mode("living", "HEAT"))
    assert reply["event"]["header"]["name"] == "Response" and commands(sdm_api) == []


@pytest.mark.parametrize(
    "mode, available",
    [("COOL", ("HEAT", "OFF")), ("AUTO", ("HEAT", "COOL", "OFF")), ("CUSTOM", ("HEAT", "OFF")), ("ECO", None)],
)
def test_a_mode_the_thermostat_lacks_is_unsupported(send, sdm_api, mode, available):
    device = thermostat("living", "Living Room", mode="HEAT", available_modes=available or ("HEAT", "OFF"))
    if available is None:
        del device["traits"]["sdm.devices.traits.ThermostatEco"]
    setup(sdm_api, device)
    reply = send(alexa.set_mode("living", mode))
    assert (reply["event"]["header"]["namespace"], alexa.error_type(reply)) == (
        "Alexa.ThermostatController",
        "UNSUPPORTED_THERMOSTAT_MODE",
    )
    assert commands(sdm_api) == []


def test_eco_while_off_is_thermostat_is_off(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", mode="OFF"))
    assert alexa.error_type(send(alexa.set_mode("living", "ECO"))) == "THERMOSTAT_IS_OFF"


def heatcool(**kwargs):
    return thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76), **kwargs)


def sent_commands(sdm_api):
    return [sent_command(c) for c in sdm_api.calls if c.request.method == "POST"]


THERMOSTAT = "Alexa.ThermostatController"


@pytest.mark.parametrize(
    "device, directive, sent, reported",
    [
        # 295.15 K is 22 °C, 71.6 °F: the thermostat shows 72.
        (
            thermostat(heat_c=f_to_c(66)),
            alexa.set_target("living", 295.15, scale="KELVIN"),
            (SETPOINT + "SetHeat", {"heatCelsius": 22.2222}),
            {"targetSetpoint": alexa.degrees(72)},
        ),
        # A difference, not a reading: 4 °C warmer is 7.2 °F, 7 whole degrees; 5 °F is 2.78 °C, 3 half degrees.
        (
            thermostat(heat_c=f_to_c(68)),
            alexa.adjust("living", 4, scale="CELSIUS"),
            (SETPOINT + "SetHeat", {"heatCelsius": 23.8889}),
            {"targetSetpoint": alexa.degrees(75)},
        ),
        (
            thermostat(scale="CELSIUS", heat_c=19.0),
            alexa.adjust("living", 5),
            (SETPOINT + "SetHeat", {"heatCelsius": 22.0}),
            {"targetSetpoint": alexa.degrees(22.0, "CELSIUS")},
        ),
        # A target beside a range: heat takes the target, heat-cool the range.
        (
            thermostat(heat_c=f_to_c(66)),
            alexa.set_target("living", 70, lower=60, upper=80),
            (SETPOINT + "SetHeat", {"heatCelsius": 21.1111}),
            {"targetSetpoint": alexa.degrees(70)},
        ),
        (
            heatcool(),
            alexa.set_target("living", 70, lower=60, upper=80),
            (SETPOINT + "SetRange", {"heatCelsius": 15.5555, "coolCelsius": 26.6667}),
            {"lowerSetpoint": alexa.degrees(60), "upperSetpoint": alexa.degrees(80)},
        ),
        # One end alone keeps the other; exactly the narrowest range SDM takes is sent.
        (
            heatcool(),
            alexa.set_target("living", lower=68),
            (SETPOINT + "SetRange", {"heatCelsius": 20.0, "coolCelsius": 24.4445}),
            {"lowerSetpoint": alexa.degrees(68), "upperSetpoint": alexa.degrees(76)},
        ),
        (
            heatcool(),
            alexa.set_target("living", lower=70, upper=73),
            (SETPOINT + "SetRange", {"heatCelsius": 21.111, "coolCelsius": 22.7778}),
            {"lowerSetpoint": alexa.degrees(70), "upperSetpoint": alexa.degrees(73)},
        ),
        (
            thermostat(scale="CELSIUS", mode="HEATCOOL", heat_c=19.0, cool_c=24.0),
            alexa.set_target("living", lower=21, upper=23, scale="CELSIUS"),
            (SETPOINT + "SetRange", {"heatCelsius": 21.0, "coolCelsius": 23.0}),
            {"lowerSetpoint": alexa.degrees(21.0, "CELSIUS"), "upperSetpoint": alexa.degrees(23.0, "CELSIUS")},
        ),
        # A mode just switched to reports no setpoint: heat's own setpoint is not heat-cool's lower end.
        (
            heatcool(),
            alexa.set_mode("living", "HEAT"),
            ("sdm.devices.commands.ThermostatMode.SetMode", {"mode": "HEAT"}),
            {},
        ),
    ],
    ids=[
        "kelvin",
        "celsius-delta",
        "fahrenheit-delta",
        "target-in-heat",
        "range-in-heatcool",
        "lower-only",
        "three-fahrenheit",
        "two-celsius",
        "switched-mode",
    ],
)
def test_the_command_sent_and_the_state_answered(send, sdm_api, device, directive, sent, reported):
    setup(sdm_api, device)
    reply = send(directive)
    assert sent_commands(sdm_api) == [{"command": sent[0], "params": sent[1]}]
    mode = alexa.properties(reply)["thermostatMode"]
    scale = device["traits"]["sdm.devices.traits.Settings"]["temperatureScale"]
    assert alexa.properties(reply) == {
        "connectivity": {"value": "OK"},
        "thermostatMode": mode,
        "temperature": alexa.degrees(71 if scale == "FAHRENHEIT" else 21.5, scale),
        **reported,
    }


def test_a_range_set_is_answered_with_each_property(send, sdm_api, monkeypatch):
    monkeypatch.setattr("nest_skill.smart_home.dispatcher._now", lambda: MOMENT)
    setup(sdm_api, heatcool())
    assert send(alexa.set_target("living", lower=64, upper=78))["context"]["properties"] == [
        HEALTH,
        prop(THERMOSTAT, "thermostatMode", "AUTO"),
        prop(THERMOSTAT, "lowerSetpoint", alexa.degrees(64)),
        prop(THERMOSTAT, "upperSetpoint", alexa.degrees(78)),
        AMBIENT,
    ]
