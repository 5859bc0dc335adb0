"""Alexa.ReportState: the StateReport of the thermostat addressed, from one cached device list."""

from __future__ import annotations

import pytest

from sandbox import alexa
from tests.skill.sdm import DEVICES_URL, f_to_c, thermostat
from tests.smart_home.conftest import setup


def state(send, endpoint_id="living"):
    return alexa.properties(send(alexa.report_state(endpoint_id)))


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"mode": "HEAT", "heat_c": f_to_c(68)}, {"thermostatMode": "HEAT", "targetSetpoint": alexa.degrees(68)}),
        ({"mode": "COOL", "cool_c": f_to_c(75)}, {"thermostatMode": "COOL", "targetSetpoint": alexa.degrees(75)}),
        (
            {"mode": "HEATCOOL", "heat_c": f_to_c(66), "cool_c": f_to_c(76)},
            {"thermostatMode": "AUTO", "lowerSetpoint": alexa.degrees(66), "upperSetpoint": alexa.degrees(76)},
        ),
        ({"mode": "OFF"}, {"thermostatMode": "OFF"}),
        (
            {"mode": "HEAT", "eco": True, "eco_heat_c": f_to_c(62), "eco_cool_c": f_to_c(80)},
            {"thermostatMode": "ECO", "lowerSetpoint": alexa.degrees(62), "upperSetpoint": alexa.degrees(80)},
        ),
    ],
)
def test_every_mode_reports_its_setpoints_in_fahrenheit(send, sdm_api, kwargs, expected):
    setup(sdm_api, thermostat("living", "Living Room", ambient_c=f_to_c(71), **kwargs))
    assert state(send) == {"connectivity": {"value": "OK"}, "temperature": alexa.degrees(71), **expected}


def test_a_celsius_thermostat_reports_half_degrees_in_celsius(send, sdm_api):
    setup(
        sdm_api,
        thermostat(
            "living", "Living Room", scale="CELSIUS", mode="HEATCOOL", heat_c=19.26, cool_c=23.0, ambient_c=21.3
        ),
    )
    assert state(send) == {
        "connectivity": {"value": "OK"},
        "thermostatMode": "AUTO",
        "lowerSetpoint": alexa.degrees(19.5, "CELSIUS"),
        "upperSetpoint": alexa.degrees(23.0, "CELSIUS"),
        "temperature": alexa.degrees(21.5, "CELSIUS"),
    }


def test_a_heat_only_thermostat_in_eco_reports_only_the_eco_setpoint_it_uses(send, sdm_api):
    setup(
        sdm_api, thermostat("living", "Living Room", eco=True, eco_heat_c=f_to_c(62), available_modes=("HEAT", "OFF"))
    )
    assert state(send)["targetSetpoint"] == alexa.degrees(62)


def test_an_offline_thermostat_reports_its_last_state_as_unreachable(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room", online=False))
    assert state(send)["connectivity"] == {"value": "UNREACHABLE"}


def test_a_thermostat_reporting_nothing_is_endpoint_unreachable(send, sdm_api):
    silent = thermostat("living", "Living Room")
    silent["traits"] = {}
    setup(sdm_api, silent)
    assert alexa.error_type(send(alexa.report_state("living"))) == "ENDPOINT_UNREACHABLE"


def test_every_property_has_its_time_of_sample(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room"))
    for prop in send(alexa.report_state("living"))["context"]["properties"]:
        assert prop["timeOfSample"].endswith("Z") and prop["uncertaintyInMilliseconds"] == 30000


def test_the_alexa_app_asking_for_every_device_costs_one_sdm_list(send, sdm_api):
    """Opening the Alexa app sends a ReportState per device; SDM allows 5 lists a minute per user."""
    devices = [thermostat(f"t{i}", f"Room {i}") for i in range(6)]
    setup(sdm_api, *devices)
    for _ in range(3):
        for i in range(6):
            assert state(send, f"t{i}")["connectivity"] == {"value": "OK"}
    assert [c.request.url for c in sdm_api.calls] == [DEVICES_URL]


def test_an_unknown_endpoint_is_no_such_endpoint(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room"))
    assert alexa.error_type(send(alexa.report_state("livin"))) == "NO_SUCH_ENDPOINT"


_AVAILABLE = (None, ("HEAT", "OFF"), ("COOL", "OFF"), ("HEAT", "COOL", "OFF"), ("HEAT", "COOL", "HEATCOOL", "OFF"))


@pytest.mark.parametrize(
    "available, mode, eco",
    [
        (available, mode, eco)
        for available in _AVAILABLE
        for mode in ("HEAT", "COOL", "HEATCOOL", "OFF")
        for eco in (False, True)
        if (available is None or mode in available) and not (eco and mode == "OFF")
    ],
)
def test_a_state_report_holds_only_properties_discovery_declared(send, sdm_api, available, mode, eco):
    """Alexa takes a reported property only if the endpoint declared it: e.g. a heat-and-cool
    thermostat without heat-cool, in eco, reports both eco ends, so it must declare them."""
    setup(
        sdm_api,
        thermostat(
            "living",
            "Living Room",
            mode=mode,
            eco=eco,
            heat_c=20.0,
            cool_c=24.0,
            eco_heat_c=16.0,
            eco_cool_c=28.0,
            **({"available_modes": available} if available is not None else {}),
        ),
    )
    declared = {
        p["name"]
        for c in send(alexa.discover())["event"]["payload"]["endpoints"][0]["capabilities"]
        for p in c.get("properties", {}).get("supported", [])
    }
    assert set(state(send)) <= declared


def prop(namespace, name, value):
    return {
        "namespace": namespace,
        "name": name,
        "value": value,
        "timeOfSample": "2023-11-14T22:13:21.99Z",
        "uncertaintyInMilliseconds": 30000,
    }


AMBIENT = prop("Alexa.TemperatureSensor", "temperature", alexa.degrees(71))
HEALTH = prop("Alexa.EndpointHealth", "connectivity", {"value": "OK"})
MOMENT = 1700000001.996
"""A `time.time()` whose hundredths (.99, truncated) and odd second tell the timestamp's arithmetic apart."""
THERMOSTAT = "Alexa.ThermostatController"


def heatcool(**kwargs):
    return thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76), **kwargs)


@pytest.mark.parametrize(
    "device, properties",
    [
        (
            thermostat(heat_c=f_to_c(68)),
            [
                HEALTH,
                prop(THERMOSTAT, "thermostatMode", "HEAT"),
                prop(THERMOSTAT, "targetSetpoint", alexa.degrees(68)),
                AMBIENT,
            ],
        ),
        (
            heatcool(),
            [
                HEALTH,
                prop(THERMOSTAT, "thermostatMode", "AUTO"),
                prop(THERMOSTAT, "lowerSetpoint", alexa.degrees(66)),
                prop(THERMOSTAT, "upperSetpoint", alexa.degrees(76)),
                AMBIENT,
            ],
        ),
        (thermostat(mode="OFF", ambient_c=None), [HEALTH, prop(THERMOSTAT, "thermostatMode", "OFF")]),
    ],
    ids=["heat", "heatcool", "off-without-a-reading"],
)
def test_each_property_of_a_state_report(send, sdm_api, monkeypatch, device, properties):
    monkeypatch.setattr("nest_skill.smart_home.dispatcher._now", lambda: MOMENT)
    setup(sdm_api, device)
    assert send(alexa.report_state("living"))["context"]["properties"] == properties
