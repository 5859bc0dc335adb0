"""SetModeIntent, EcoOffIntent, AdjustTempIntent, HumidityIntent and FanIntent: the SDM command each sends,
what is asked when a slot is missing, and the same guarantees as setting a temperature (exact or confirmed
names, true failures, one fresh retry, the wall-clock deadline)."""

from __future__ import annotations

import socket
import time

import pytest

from sandbox import alexa
from sandbox.alexa import card_type, ends_session, reprompt, spoken
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import (
    COMMAND,
    DEVICES_URL,
    command_url,
    device_list,
    device_url,
    error_body,
    f_to_c,
    sent_command,
    serve_devices,
    thermostat,
)
from tests.skill.sdm import serve_devices as setup

CMD = "sdm.devices.commands."


def set_mode(heard: str | None, mode_id: str | None, room: str | None = None, **kwargs):
    mode = alexa.resolved_slot("mode", heard, "THERMOSTAT_MODE", mode_id) if heard else alexa.slot("mode")
    return alexa.intent("SetModeIntent", {"thermostat": alexa.slot("thermostat", room), "mode": mode}, **kwargs)


def eco_off(room: str | None = None, **kwargs):
    return alexa.intent("EcoOffIntent", {"thermostat": alexa.slot("thermostat", room)}, **kwargs)


def adjust(heard: str | None, direction: str | None, amount: str | None = None, room: str | None = None, **kwargs):
    slot = alexa.resolved_slot("direction", heard, "DIRECTION", direction) if heard else alexa.slot("direction")
    return alexa.intent(
        "AdjustTempIntent",
        {"thermostat": alexa.slot("thermostat", room), "direction": slot, "amount": alexa.slot("amount", amount)},
        **kwargs,
    )


def humidity(room: str | None = None, **kwargs):
    return alexa.intent("HumidityIntent", {"thermostat": alexa.slot("thermostat", room)}, **kwargs)


def fan(state_heard: str | None, state: str | None, duration: str | None = None, room: str | None = None, **kwargs):
    slot = alexa.resolved_slot("fan_state", state_heard, "ON_OFF", state) if state_heard else alexa.slot("fan_state")
    return alexa.intent(
        "FanIntent",
        {"thermostat": alexa.slot("thermostat", room), "fan_state": slot, "duration": alexa.slot("duration", duration)},
        **kwargs,
    )


def commands(sdm_api):
    return [sent_command(c) for c in sdm_api.calls if c.request.method == "POST"]


def ask(skill, sdm_api, event, *devices):
    setup(sdm_api, *devices)
    return skill.lambda_handler(event, None)


BEDROOM = thermostat("bed", room="Bedroom", mode="HEAT")
HEAT_ONLY = thermostat("hall", room="Hallway", mode="HEAT", available_modes=("HEAT", "OFF"))


@pytest.mark.parametrize(
    "heard, mode_id, sent, said",
    [
        ("cool", "COOL", "COOL", "set to cool"),
        ("auto", "HEATCOOL", "HEATCOOL", "set to heat-cool"),
        ("heat and cool", "HEATCOOL", "HEATCOOL", "set to heat-cool"),
        ("off", "OFF", "OFF", "turned off"),
    ],
)
def test_a_mode_is_set_with_thermostat_mode_set_mode_from_the_resolved_id(skill, sdm_api, heard, mode_id, sent, said):
    reply = ask(skill, sdm_api, set_mode(heard, mode_id, "bedroom"), BEDROOM)
    assert commands(sdm_api) == [{"command": CMD + "ThermostatMode.SetMode", "params": {"mode": sent}}]
    assert spoken(reply) == f"OK, the Bedroom is {said}."


def test_eco_is_turned_on_with_thermostat_eco_and_confirms_the_usable_eco_setpoints(skill, sdm_api):
    device = thermostat(
        "bed",
        room="Bedroom",
        mode="HEAT",
        available_modes=("HEAT", "OFF"),
        eco_heat_c=f_to_c(60),
        eco_cool_c=f_to_c(84),
    )
    reply = ask(skill, sdm_api, set_mode("energy saving", "ECO", "bedroom"), device)
    assert commands(sdm_api) == [{"command": CMD + "ThermostatEco.SetMode", "params": {"mode": "MANUAL_ECO"}}]
    assert spoken(reply) == "OK, the Bedroom is in eco mode at 60."


def test_eco_on_a_thermostat_without_the_eco_trait_is_refused_and_nothing_is_sent(skill, sdm_api):
    """A rule the smart-home front door needed (no ECO in its supportedModes), shared by both."""
    device = thermostat("bed", room="Bedroom", mode="HEAT")
    del device["traits"]["sdm.devices.traits.ThermostatEco"]
    reply = ask(skill, sdm_api, set_mode("eco", "ECO", "bedroom"), device)
    assert commands(sdm_api) == []
    assert spoken(reply) == "The Bedroom can't be set to eco, so I didn't change it."


@pytest.mark.parametrize(
    "device, event, expected",
    [
        (HEAT_ONLY, set_mode("cool", "COOL", "hallway"), "The Hallway can't be set to cool, so I didn't change it."),
        (
            HEAT_ONLY,
            set_mode("auto", "HEATCOOL", "hallway"),
            "The Hallway can't be set to heat and cool, so I didn't change it.",
        ),
        (
            thermostat("bed", room="Bedroom", mode="OFF"),
            set_mode("eco", "ECO", "bedroom"),
            "The Bedroom is turned off, and Nest can't turn on eco while it's off. Switch it to heat or cool first.",
        ),
        (
            thermostat("bed", room="Bedroom", mode="COOL"),
            set_mode("cool", "COOL", "bedroom"),
            "The Bedroom is already set to cool.",
        ),
        (
            thermostat("bed", room="Bedroom", eco=True),
            set_mode("eco", "ECO", "bedroom"),
            "The Bedroom is already in eco mode.",
        ),
        (
            thermostat("bed", room="Bedroom", eco=True),
            set_mode("cool", "COOL", "bedroom"),
            "The Bedroom is in eco mode, so I didn't change it. Say, turn off eco, first.",
        ),
        (
            thermostat("bed", room="Bedroom", online=False),
            set_mode("cool", "COOL", "bedroom"),
            "The Bedroom is offline, so I couldn't change it.",
        ),
    ],
    ids=["not-available", "heat-cool-not-available", "eco-while-off", "already", "already-eco", "eco-on", "offline"],
)
def test_mode_changes_the_thermostat_cannot_take_send_nothing_and_say_why(skill, sdm_api, device, event, expected):
    reply = ask(skill, sdm_api, event, device)
    assert spoken(reply) == expected
    assert commands(sdm_api) == []
    assert card_type(reply) is None


def test_eco_refused_because_the_thermostat_was_turned_off_since_the_list_was_read(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(BEDROOM))
    sdm_api.post(
        command_url("bed"),
        status=400,
        json=error_body(
            400,
            "FAILED_PRECONDITION",
            "sdm.devices.commands.ThermostatEco.SetMode command not allowed in current thermostat mode.",
        ),
    )
    sdm_api.get(device_url("bed"), json=thermostat("bed", room="Bedroom", mode="OFF"))
    reply = skill.lambda_handler(set_mode("eco", "ECO", "bedroom"), None)
    assert spoken(reply).startswith("The Bedroom is turned off, and Nest can't turn on eco while it's off.")
    assert len(commands(sdm_api)) == 1


@pytest.mark.parametrize(
    "event", [set_mode(None, None, "bedroom"), set_mode("sideways", None, "bedroom")], ids=["missing", "unresolved"]
)
def test_a_missing_or_unknown_mode_is_asked_for_and_then_set(skill, sdm_api, event):
    setup(sdm_api, BEDROOM, thermostat("kitchen", room="Kitchen"))
    question = skill.lambda_handler(event, None)
    assert spoken(question) == "Which mode: heat, cool, heat and cool, eco, or off?"
    assert not ends_session(question)
    assert commands(sdm_api) == []
    answer = skill.lambda_handler(set_mode("cool", "COOL", attributes=question["sessionAttributes"]), None)
    assert spoken(answer) == "OK, the Bedroom is set to cool."


def test_a_mode_change_on_a_near_miss_waits_for_yes(skill, sdm_api):
    setup(sdm_api, BEDROOM, thermostat("kitchen", room="Kitchen"))
    question = skill.lambda_handler(set_mode("cool", "COOL", "bedrom"), None)
    assert spoken(question) == "Did you mean the Bedroom?"
    assert commands(sdm_api) == []
    answer = skill.lambda_handler(alexa.intent("AMAZON.YesIntent", attributes=question["sessionAttributes"]), None)
    assert spoken(answer) == "OK, the Bedroom is set to cool."
    assert commands(sdm_api) == [{"command": CMD + "ThermostatMode.SetMode", "params": {"mode": "COOL"}}]


def test_a_mode_change_without_a_name_asks_which_thermostat(skill, sdm_api):
    setup(sdm_api, BEDROOM, thermostat("kitchen", room="Kitchen"))
    question = skill.lambda_handler(set_mode("heat and cool", "HEATCOOL"), None)
    assert spoken(question) == "Which thermostat: the Bedroom or the Kitchen?"
    answer = skill.lambda_handler(alexa.set_temp(None, "kitchen", attributes=question["sessionAttributes"]), None)
    assert spoken(answer) == "OK, the Kitchen is set to heat-cool."
    assert sdm_api.calls[-1].request.url == command_url("kitchen")


def test_eco_off_sends_thermostat_eco_off_and_names_the_mode_it_returns_to(skill, sdm_api):
    reply = ask(skill, sdm_api, eco_off("bedroom"), thermostat("bed", room="Bedroom", mode="COOL", eco=True))
    assert commands(sdm_api) == [{"command": CMD + "ThermostatEco.SetMode", "params": {"mode": "OFF"}}]
    assert spoken(reply) == "OK, eco is off. The Bedroom is set to cool."


def test_eco_off_when_eco_is_not_on_sends_nothing(skill, sdm_api):
    reply = ask(skill, sdm_api, eco_off(), BEDROOM)
    assert spoken(reply) == "The Bedroom isn't in eco mode."
    assert commands(sdm_api) == []


@pytest.mark.parametrize(
    "device, heard, direction, amount, sent, said",
    [
        (
            thermostat(mode="HEAT", heat_c=f_to_c(68)),
            "warmer",
            "UP",
            None,
            ("SetHeat", {"heatCelsius": 20.5556}),
            "heating to 69",
        ),
        (
            thermostat(mode="HEAT", heat_c=f_to_c(68)),
            "down",
            "DOWN",
            "2",
            ("SetHeat", {"heatCelsius": 18.8889}),
            "heating to 66",
        ),
        (
            thermostat(mode="COOL", cool_c=f_to_c(74)),
            "cooler",
            "DOWN",
            None,
            ("SetCool", {"coolCelsius": 22.7778}),
            "cooling to 73",
        ),
        (
            thermostat(mode="HEAT", scale="CELSIUS", heat_c=20.0),
            "up",
            "UP",
            "1.3",
            ("SetHeat", {"heatCelsius": 21.5}),
            "heating to 21.5",
        ),
        (
            thermostat(mode="HEATCOOL", heat_c=f_to_c(68), cool_c=f_to_c(74)),
            "warmer",
            "UP",
            "3",
            ("SetRange", {"heatCelsius": 21.6666, "coolCelsius": 25.0}),
            "set to heat-cool between 71 and 77",
        ),
        (
            thermostat(mode="HEAT", scale="CELSIUS", heat_c=20.0),
            "up",
            "UP",
            "0.2",
            ("SetHeat", {"heatCelsius": 20.5}),
            "heating to 20.5",
        ),
        (
            thermostat(mode="COOL", cool_c=f_to_c(74)),
            "down",
            "DOWN",
            "0.4",
            ("SetCool", {"coolCelsius": 22.7778}),
            "cooling to 73",
        ),
    ],
    ids=[
        "default-step-F",
        "down-by-2",
        "cooler-in-cool",
        "celsius-half-steps",
        "heat-cool-moves-both",
        "a-little-is-one-half-degree",
        "a-little-is-one-degree-F",
    ],
)
def test_warmer_and_cooler_move_the_setpoints_in_the_thermostats_scale(
    skill, sdm_api, device, heard, direction, amount, sent, said
):
    reply = ask(skill, sdm_api, adjust(heard, direction, amount, "living room"), device)
    assert commands(sdm_api) == [{"command": COMMAND + sent[0], "params": sent[1]}]
    assert spoken(reply) == f"OK, the Living Room is {said}."


@pytest.mark.parametrize(
    "device, direction, amount, expected",
    [
        (
            thermostat(mode="HEAT", heat_c=f_to_c(89)),
            "UP",
            "2",
            "The Living Room can't go above 90 degrees, so I didn't change it. It's set to 89.",
        ),
        (
            thermostat(mode="HEATCOOL", heat_c=f_to_c(51), cool_c=f_to_c(60)),
            "DOWN",
            "2",
            "The Living Room can't go below 50 degrees, so I didn't change it. It's set to 51 and 60.",
        ),
        (
            thermostat(mode="OFF"),
            "UP",
            None,
            "The Living Room is turned off, so I didn't change it. Switch it to heat or cool first.",
        ),
        (
            thermostat(eco=True),
            "UP",
            None,
            "The Living Room is in eco mode, so I didn't change it. Say, turn off eco, first.",
        ),
    ],
    ids=["above-90F", "below-50F-heat-cool", "off", "eco"],
)
def test_warmer_or_cooler_never_leaves_the_limits_nor_touches_off_or_eco(
    skill, sdm_api, device, direction, amount, expected
):
    reply = ask(skill, sdm_api, adjust("x", direction, amount, "living room"), device)
    assert spoken(reply) == expected
    assert commands(sdm_api) == []


def test_a_missing_direction_is_asked_for(skill, sdm_api):
    reply = ask(skill, sdm_api, adjust(None, None, room="living room"), thermostat())
    assert spoken(reply) == "Warmer or cooler?"
    assert not ends_session(reply)


def test_humidity_of_the_named_thermostat_in_whole_percent(skill, sdm_api):
    device = thermostat("bed", room="Bedroom")
    device["traits"]["sdm.devices.traits.Humidity"]["ambientHumidityPercent"] = 44.6
    reply = ask(skill, sdm_api, humidity("bedroom"), thermostat(), device)
    assert spoken(reply) == "The humidity at the Bedroom is 45 percent."
    assert commands(sdm_api) == []


def test_humidity_of_every_thermostat_when_none_is_named_and_missing_ones_said(skill, sdm_api):
    quiet = thermostat("bed", room="Bedroom")
    del quiet["traits"]["sdm.devices.traits.Humidity"]
    reply = ask(skill, sdm_api, humidity(), thermostat(), quiet)
    assert spoken(reply) == (
        "The humidity at the Living Room is 41 percent. The Bedroom isn't reporting humidity right now."
    )


@pytest.mark.parametrize(
    "state, duration, params, said",
    [
        (("on", "ON"), None, {"timerMode": "ON", "duration": "3600s"}, "will run for 1 hour"),
        ((None, None), "PT30M", {"timerMode": "ON", "duration": "1800s"}, "will run for 30 minutes"),
        (("run", "ON"), "PT1H30M", {"timerMode": "ON", "duration": "5400s"}, "will run for 1 hour and 30 minutes"),
        (
            ("on", "ON"),
            "P1D",
            {"timerMode": "ON", "duration": "43200s"},
            "will run for 12 hours, the longest Nest allows",
        ),
    ],
    ids=["default-hour", "duration-alone", "hour-and-a-half", "capped-at-12h"],
)
def test_the_fan_runs_with_fan_set_timer_for_a_duration_in_seconds(skill, sdm_api, state, duration, params, said):
    reply = ask(skill, sdm_api, fan(*state, duration, "living room"), thermostat())
    assert commands(sdm_api) == [{"command": CMD + "Fan.SetTimer", "params": params}]
    assert spoken(reply) == f"OK, the fan of the Living Room {said}."


def test_the_fan_is_turned_off(skill, sdm_api):
    reply = ask(skill, sdm_api, fan("off", "OFF"), thermostat(fan="ON"))
    assert commands(sdm_api) == [{"command": CMD + "Fan.SetTimer", "params": {"timerMode": "OFF"}}]
    assert spoken(reply) == "OK, the fan of the Living Room is off."


@pytest.mark.parametrize(
    "device, state, expected",
    [
        (thermostat(fan=None), ("on", "ON"), "The Living Room has no fan that Nest can control."),
        (thermostat(fan="OFF"), ("off", "OFF"), "The fan of the Living Room is already off."),
    ],
    ids=["no-fan-trait", "already-off"],
)
def test_fan_requests_that_cannot_apply_send_nothing(skill, sdm_api, device, state, expected):
    reply = ask(skill, sdm_api, fan(*state), device)
    assert spoken(reply) == expected
    assert commands(sdm_api) == []


def test_a_fan_without_on_or_off_is_asked_about(skill, sdm_api):
    reply = ask(skill, sdm_api, fan(None, None), thermostat())
    assert spoken(reply) == "Should I turn the fan on or off?"
    assert reprompt(reply) == spoken(reply)


@pytest.mark.parametrize(
    "device, expected",
    [
        (thermostat(mode="HEAT", hvac="HEATING"), "heating to 68, and heating right now"),
        (thermostat(mode="HEAT", hvac="OFF"), "heating to 68, not running right now"),
        (thermostat(mode="COOL", cool_c=f_to_c(74), hvac="COOLING"), "cooling to 74, and cooling right now"),
        (thermostat(mode="OFF", hvac="OFF"), "turned off"),
    ],
    ids=["heating", "heat-mode-idle", "cooling", "off"],
)
def test_status_says_whether_the_system_runs_now(skill, sdm_api, device, expected):
    sdm_api.get(DEVICES_URL, json=device_list(device))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == f"The Living Room is 71 degrees, {expected}."


@pytest.fixture
def hung_sdm():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


@pytest.mark.parametrize(
    "event",
    [
        set_mode("cool", "COOL", "bedroom"),
        eco_off("bedroom"),
        adjust("warmer", "UP", None, "bedroom"),
        humidity("bedroom"),
        fan("on", "ON", None, "bedroom"),
    ],
    ids=["mode", "eco-off", "adjust", "humidity", "fan"],
)
def test_every_change_intent_answers_in_time_when_nest_hangs(load_skill, hung_sdm, event):
    skill = load_skill(sdm_api_base_url=hung_sdm)
    started = time.monotonic()
    reply = skill.lambda_handler(event, LambdaContext(remaining_ms=1000))
    assert time.monotonic() - started < 1.0
    assert spoken(reply) == "Sorry, Nest didn't answer in time. Please try again in a moment."


def posts(sdm_api):
    return [(call.request.url, sent_command(call)) for call in sdm_api.calls if call.request.method == "POST"]


LIVING = thermostat("living", room="Living Room")


def test_heat_mode_by_its_slot_id(skill, sdm_api):
    serve_devices(sdm_api, thermostat("living", room="Living Room", mode="COOL", cool_c=24.0))
    reply = skill.lambda_handler(set_mode("heat", "HEAT"), None)
    assert posts(sdm_api) == [
        (command_url("living"), {"command": "sdm.devices.commands.ThermostatMode.SetMode", "params": {"mode": "HEAT"}})
    ]
    assert spoken(reply) == "OK, the Living Room is set to heat."


def test_humidity_of_a_thermostat_not_there(skill, sdm_api):
    serve_devices(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(humidity("kitchen"), None)
    assert spoken(reply).startswith(
        "I couldn't find a thermostat called kitchen. Your thermostats are the Living Room and the Bedroom. If it's new"
    )
    assert ends_session(reply)


def test_humidity_comes_with_a_card(skill, sdm_api):
    serve_devices(sdm_api, LIVING)
    card = skill.lambda_handler(humidity(), None)["response"]["card"]
    assert card == {
        "type": "Simple",
        "title": "Nest thermostats",
        "content": "The humidity at the Living Room is 41 percent.",
    }


def test_fan_off_after_confirming_a_near_name(skill, sdm_api):
    serve_devices(sdm_api, thermostat("living", room="Living Room", fan="ON"))
    question = skill.lambda_handler(fan("off", "OFF", room="living rom"), None)
    assert spoken(question) == "Did you mean the Living Room?"
    reply = skill.lambda_handler(alexa.intent("AMAZON.YesIntent", attributes=question["sessionAttributes"]), None)
    assert posts(sdm_api) == [
        (command_url("living"), {"command": "sdm.devices.commands.Fan.SetTimer", "params": {"timerMode": "OFF"}})
    ]
    assert spoken(reply) == "OK, the fan of the Living Room is off."


def test_a_fan_duration_in_minutes_and_seconds(skill, sdm_api):
    serve_devices(sdm_api, LIVING)
    skill.lambda_handler(fan(None, None, duration="PT1M30S"), None)
    assert posts(sdm_api)[0][1]["params"] == {"timerMode": "ON", "duration": "90s"}


def test_a_fan_duration_with_trailing_garbage_is_no_duration(skill, sdm_api):
    """ "PT1HX" is not ISO 8601: the skill asks rather than run the fan for the hour it begins with."""
    serve_devices(sdm_api, thermostat())
    reply = skill.lambda_handler(fan(None, None, duration="PT1HX"), None)
    assert (spoken(reply), ends_session(reply)) == ("Should I turn the fan on or off?", False)
    assert [c for c in sdm_api.calls if c.request.method == "POST"] == []
