"""What a thermostat can do and report, decided once from the fields SDM documents
(thermostats.Capabilities), seen the same through both front doors: the custom skill's answers and
the commands it sends, and the smart-home door's discovery, ReportState and directives. Each
capability is tried with its trait absent, listed empty, and listed with values SDM does not document."""

from __future__ import annotations

import pytest

from sandbox import alexa
from sandbox.alexa import spoken
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import DEVICES_URL, TRAIT, device_list, f_to_c, sent_command, thermostat
from tests.skill.test_change_intents import fan, humidity, set_mode
from tests.smart_home.conftest import setup

FORMS = ("absent", "empty", "unknown")
UNDOCUMENTED = {
    "Fan": {"timerMode": "AUTO"},
    "ThermostatEco": {"availableModes": ["AWAY_ECO", "OFF"], "mode": "OFF"},
    "ThermostatMode": {"mode": "HEAT", "availableModes": ["TURBO", "AUTO"]},
    "Temperature": {"ambientTemperatureCelsius": "warm"},
    "Humidity": {"ambientHumidityPercent": "damp"},
    "Connectivity": {"status": "FLAKY"},
}
"""Per trait, the trait listed with values outside what SDM documents for its fields."""


def living_room(**kwargs) -> dict:
    return thermostat("living", "Living Room", mode="HEAT", heat_c=f_to_c(68), ambient_c=f_to_c(71), **kwargs)


def with_trait(device: dict, trait: str, form: str) -> dict:
    traits = device["traits"]
    traits.pop(TRAIT + trait, None)
    if form == "empty":
        traits[TRAIT + trait] = {}
    elif form == "unknown":
        traits[TRAIT + trait] = UNDOCUMENTED[trait]
    return device


def commands(sdm_api):
    return [sent_command(c) for c in sdm_api.calls if c.request.method == "POST"]


def discovered(send) -> dict:
    [endpoint] = send(alexa.discover())["event"]["payload"]["endpoints"]
    return endpoint


def interfaces(endpoint: dict) -> dict:
    """{interface: (its property names, its configuration)}."""
    return {
        c["interface"]: ([p["name"] for p in c.get("properties", {}).get("supported", [])], c.get("configuration"))
        for c in endpoint["capabilities"]
    }


def state(send) -> dict:
    return alexa.properties(send(alexa.report_state("living")))


# --- fan: Fan.timerMode ON or OFF ---------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_fan_trait_without_a_documented_timer_mode_is_no_fan_at_either_door(skill, load_skill, send, sdm_api, form):
    """SDM lists `"sdm.devices.traits.Fan": {}` for a thermostat without a fan: "turn on the living
    room fan" gets the answer a thermostat without the trait gets, and nothing is sent."""
    setup(sdm_api, with_trait(living_room(), "Fan", form))
    reply = skill.lambda_handler(fan("on", "ON", None, "living room"), None)
    assert spoken(reply) == "The Living Room has no fan that Nest can control."
    assert commands(sdm_api) == []
    assert discovered(send) == discovered_as(load_skill, sdm_api, living_room(fan=None))


def discovered_as(load_skill, sdm_api, device: dict) -> dict:
    """Discovery of `device` instead, by a fresh container (whose device list is not cached yet)."""
    sdm_api.replace("GET", DEVICES_URL, json=device_list(device))
    directive = alexa.discover()
    reply = load_skill().lambda_handler(directive, LambdaContext(7000))
    alexa.valid_smart_home(reply, directive)
    [endpoint] = reply["event"]["payload"]["endpoints"]
    return endpoint


def test_a_fan_with_a_documented_timer_mode_runs(skill, sdm_api):
    setup(sdm_api, living_room(fan="OFF"))
    assert spoken(skill.lambda_handler(fan("on", "ON", None, "living room"), None)) == (
        "OK, the fan of the Living Room will run for 1 hour."
    )


# --- eco: ThermostatEco.availableModes holds MANUAL_ECO -----------------------------------------


@pytest.mark.parametrize("form", [*FORMS, "without-manual-eco"])
def test_eco_is_offered_only_when_its_available_modes_list_manual_eco(skill, send, sdm_api, form):
    device = living_room()
    if form == "without-manual-eco":
        device["traits"][TRAIT + "ThermostatEco"] = {"availableModes": ["OFF"], "mode": "OFF"}
    else:
        with_trait(device, "ThermostatEco", form)
    setup(sdm_api, device)
    reply = skill.lambda_handler(set_mode("eco", "ECO", "living room"), None)
    assert spoken(reply) == "The Living Room can't be set to eco, so I didn't change it."
    controller = interfaces(discovered(send))["Alexa.ThermostatController"]
    assert controller[1]["supportedModes"] == ["HEAT", "COOL", "AUTO", "OFF"]
    directive = send(alexa.set_mode("living", "ECO"))
    assert (directive["event"]["header"]["namespace"], alexa.error_type(directive)) == (
        "Alexa.ThermostatController",
        "UNSUPPORTED_THERMOSTAT_MODE",
    )
    assert commands(sdm_api) == []


def test_eco_with_manual_eco_listed_is_offered_and_turned_on(skill, send, sdm_api):
    setup(sdm_api, living_room())
    assert "ECO" in interfaces(discovered(send))["Alexa.ThermostatController"][1]["supportedModes"]
    assert send(alexa.set_mode("living", "ECO"))["event"]["header"]["name"] == "Response"
    assert commands(sdm_api) == [
        {"command": "sdm.devices.commands.ThermostatEco.SetMode", "params": {"mode": "MANUAL_ECO"}}
    ]


# --- each mode: ThermostatMode.availableModes ---------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_mode_is_offered_only_when_available_modes_list_it(skill, send, sdm_api, form):
    """Without documented availableModes only eco (its own trait) can be switched to; no mode is guessed."""
    setup(sdm_api, with_trait(living_room(), "ThermostatMode", form))
    for heard, mode_id, name in (("cool", "COOL", "cool"), ("auto", "HEATCOOL", "heat and cool")):
        reply = skill.lambda_handler(set_mode(heard, mode_id, "living room"), None)
        assert spoken(reply) == f"The Living Room can't be set to {name}, so I didn't change it."
    assert interfaces(discovered(send))["Alexa.ThermostatController"] == (
        ["thermostatMode"],
        {"supportedModes": ["ECO"], "supportsScheduling": False},
    )
    for mode in ("COOL", "AUTO", "OFF"):
        assert alexa.error_type(send(alexa.set_mode("living", mode))) == "UNSUPPORTED_THERMOSTAT_MODE"
    assert commands(sdm_api) == []


def test_without_heat_cool_there_are_no_dual_setpoints(skill, send, sdm_api):
    """availableModes' unknown "AUTO" is not SDM's HEATCOOL: no range at either door."""
    device = living_room(available_modes=("HEAT", "OFF", "AUTO"))
    del device["traits"][TRAIT + "ThermostatEco"]
    setup(sdm_api, device)
    assert spoken(skill.lambda_handler(set_mode("auto", "HEATCOOL", "living room"), None)) == (
        "The Living Room can't be set to heat and cool, so I didn't change it."
    )
    assert interfaces(discovered(send))["Alexa.ThermostatController"] == (
        ["targetSetpoint", "thermostatMode"],
        {"supportedModes": ["HEAT", "OFF"], "supportsScheduling": False},
    )
    reply = send(alexa.set_target("living", None, lower=66, upper=72))
    assert alexa.error_type(reply) == "DUAL_SETPOINTS_UNSUPPORTED"
    assert commands(sdm_api) == []


# --- temperature reading: Temperature.ambientTemperatureCelsius ---------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_a_room_temperature_is_reported_only_when_sdm_gives_a_number(skill, send, sdm_api, form):
    setup(sdm_api, with_trait(living_room(), "Temperature", form))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == "The Living Room is heating to 68."
    assert "Alexa.TemperatureSensor" not in interfaces(discovered(send))
    assert state(send) == {
        "connectivity": {"value": "OK"},
        "thermostatMode": "HEAT",
        "targetSetpoint": alexa.degrees(68),
    }


# --- humidity reading: Humidity.ambientHumidityPercent ------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_humidity_is_reported_only_when_sdm_gives_a_number(skill, load_skill, send, sdm_api, form):
    """Alexa's thermostat interfaces carry no humidity: the smart-home door is the same either way."""
    setup(sdm_api, with_trait(living_room(), "Humidity", form))
    assert spoken(skill.lambda_handler(humidity("living room"), None)) == (
        "The Living Room isn't reporting humidity right now."
    )
    assert discovered(send) == discovered_as(load_skill, sdm_api, living_room())


# --- connectivity: Connectivity.status ONLINE or OFFLINE -----------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_connectivity_is_reported_only_when_sdm_says_online_or_offline(skill, send, sdm_api, form):
    """Whether it is online is then unknown: the command is sent, and SDM's answer says."""
    setup(sdm_api, with_trait(living_room(), "Connectivity", form))
    assert "Alexa.EndpointHealth" not in interfaces(discovered(send))
    assert "connectivity" not in state(send)
    assert send(alexa.set_target("living", 70))["event"]["header"]["name"] == "Response"
    assert spoken(skill.lambda_handler(alexa.set_temp("71", "living room"), None)) == (
        "OK, the Living Room is heating to 71."
    )
    assert len(commands(sdm_api)) == 2


# --- a thermostat that only reports: Info, Temperature and Humidity ------------------------------


def sensor_only(connectivity: bool = False) -> dict:
    device = living_room()
    kept = ("Info", "Temperature", "Humidity") + (("Connectivity",) if connectivity else ())
    device["traits"] = {name: value for name, value in device["traits"].items() if name[len(TRAIT) :] in kept}
    return device


@pytest.mark.parametrize("connectivity", [False, True], ids=["no-connectivity", "with-connectivity"])
def test_a_thermostat_listing_only_readings_is_a_temperature_sensor(skill, send, sdm_api, connectivity):
    """Discovered as a TEMPERATURE_SENSOR (Alexa.TemperatureSensor, EndpointHealth when SDM lists
    Connectivity), not as a ThermostatController that then cannot report: ReportState gives its
    room temperature."""
    setup(sdm_api, sensor_only(connectivity))
    endpoint = discovered(send)
    assert endpoint["displayCategories"] == ["TEMPERATURE_SENSOR"]
    assert interfaces(endpoint) == {
        "Alexa": ([], None),
        "Alexa.TemperatureSensor": (["temperature"], None),
        **({"Alexa.EndpointHealth": (["connectivity"], None)} if connectivity else {}),
    }
    assert state(send) == {
        "temperature": alexa.degrees(21.5, "CELSIUS"),
        **({"connectivity": {"value": "OK"}} if connectivity else {}),
    }


@pytest.mark.parametrize("connectivity", [False, True], ids=["no-connectivity", "with-connectivity"])
def test_a_thermostat_listing_only_readings_is_read_and_never_commanded(skill, send, sdm_api, connectivity):
    setup(sdm_api, sensor_only(connectivity))
    assert spoken(skill.lambda_handler(alexa.status(), None)) == "The Living Room is 21.5 degrees."
    assert spoken(skill.lambda_handler(humidity("living room"), None)) == (
        "The humidity at the Living Room is 41 percent."
    )
    for event in (
        alexa.set_temp("70", "living room"),
        set_mode("cool", "COOL", "living room"),
        fan("on", "ON", None, "living room"),
    ):
        assert spoken(skill.lambda_handler(event, None)) == (
            "The Living Room only reports its readings to Nest, so I can't change it."
        )
    for directive in (alexa.set_target("living", 70), alexa.adjust("living", 1), alexa.set_mode("living", "HEAT")):
        assert alexa.error_type(send(directive)) == "INVALID_DIRECTIVE"
    assert commands(sdm_api) == []


def test_a_thermostat_reporting_nothing_is_not_described_without_its_capabilities(send, sdm_api):
    """`"traits": {}` (an outage): what it can do is unknown, not absent, so discovery describes no
    endpoint at all rather than one without controls (Alexa keeps those it knows:
    tests/smart_home/test_discovery.py); ReportState says ENDPOINT_UNREACHABLE
    (tests/smart_home/test_report_state.py)."""
    silent = living_room()
    silent["traits"] = {}
    setup(sdm_api, silent)
    assert send(alexa.discover())["event"]["payload"]["endpoints"] == []
