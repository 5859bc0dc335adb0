"""The domain layer on its own: temperature arithmetic and finding thermostats by name."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nest_skill import temperatures
from nest_skill.temperatures import Scale
from nest_skill.thermostats import Mode, Thermostat, find_thermostat, thermostats_in
from tests.conftest import ROOT
from tests.skill.sdm import camera, f_to_c, thermostat

F, C = Scale.FAHRENHEIT, Scale.CELSIUS


@pytest.mark.parametrize("value, scale, rounded", [
    (70.49, F, 70), (70.5, F, 71), (69.5, F, 70), (-0.5, F, 0),
    (21.24, C, 21.0), (21.25, C, 21.5), (21.74, C, 21.5), (21.75, C, 22.0),
])
def test_nest_rounding_is_whole_fahrenheit_and_half_celsius_halves_up(value, scale, rounded):
    assert temperatures.nest_round(value, scale) == rounded


def test_conversions_round_trip():
    for degrees_f in range(50, 91):
        assert temperatures.from_celsius(temperatures.to_celsius(degrees_f, F), F) == pytest.approx(degrees_f)
    assert temperatures.to_celsius(21.5, C) == 21.5


@pytest.mark.parametrize("scale", [F, C])
def test_every_range_the_skill_can_send_clears_sdms_minimum_and_limits(scale):
    low_limit, high_limit = temperatures.LIMITS[scale]
    step = 1.0 if scale is F else 0.5
    targets = [low_limit + i * step for i in range(int((high_limit - low_limit) / step) + 1)]
    for span in (0, step, 3 * step, 6 * step, 100):
        for target in targets:
            current = (low_limit + 5, low_limit + 5 + span)
            low, high = temperatures.centred_range(target, current, scale)
            assert low_limit <= low < high <= high_limit
            assert temperatures.nest_round(low, scale) == low and temperatures.nest_round(high, scale) == high
            heat_c, cool_c = temperatures.range_celsius(low, high, scale)
            assert cool_c - heat_c >= temperatures.MIN_RANGE_GAP_C
            assert 10.0 <= heat_c and cool_c <= 32.2223
            assert (temperatures.displayed(heat_c, scale), temperatures.displayed(cool_c, scale)) == (low, high)


def test_device_json_becomes_a_thermostat():
    [parsed] = thermostats_in([camera(), thermostat("t1", room="Hall", custom_name="", scale="CELSIUS",
                                                    mode="HEATCOOL", ambient_c=20.2, heat_c=19.0, cool_c=23.0)])
    assert parsed == Thermostat(device_name="enterprises/project-under-test/devices/t1", name="Hall",
                                named_by_room=True, aliases=("Hall",), scale=C, online=True, mode=Mode.HEATCOOL,
                                ambient_c=20.2, heat_c=19.0, cool_c=23.0)


def test_eco_reports_the_eco_setpoints():
    parsed = Thermostat.from_sdm(thermostat(eco=True, eco_heat_c=f_to_c(62), eco_cool_c=f_to_c(80)))
    assert parsed.mode is Mode.ECO
    assert (parsed.shown(parsed.heat_c), parsed.shown(parsed.cool_c)) == (62, 80)


def test_a_thermostat_with_missing_traits_is_still_usable():
    parsed = Thermostat.from_sdm({"name": "enterprises/p/devices/x",
                                  "traits": {"sdm.devices.traits.ThermostatMode": {"mode": "SOMETHING_NEW"}}})
    assert (parsed.name, parsed.scale, parsed.mode, parsed.online, parsed.ambient_c) == (
        "thermostat", C, Mode.UNKNOWN, True, None)


@pytest.mark.parametrize("device", [
    {"name": "enterprises/p/devices/x", "traits": ["sdm.devices.traits.ThermostatMode"]},
    {"name": "enterprises/p/devices/x", "traits": {"sdm.devices.traits.ThermostatMode": "HEAT"},
     "parentRelations": {"displayName": "Hall"}},
    {"traits": {"sdm.devices.traits.ThermostatMode": {"mode": "HEAT"},
                "sdm.devices.traits.Temperature": {"ambientTemperatureCelsius": "warm"}},
     "parentRelations": ["Hall", {"displayName": None}]},
])
def test_malformed_device_json_does_not_crash(device):
    for parsed in thermostats_in([device]):
        assert parsed.ambient_c is None and parsed.aliases == ()


THERMOSTATS = [Thermostat.from_sdm(d) for d in (
    thermostat("a", room="Upstairs Hallway"), thermostat("b", room="Downstairs Hallway"),
    thermostat("c", room="Bedroom", custom_name="Guest Suite"), thermostat("d", room="Living Room"))]


@pytest.mark.parametrize("said, device", [
    ("upstairs hallway", "a"), ("Upstairs", "a"), ("downstairs", "b"), ("the upstairs hallway thermostat", "a"),
    ("guest suite", "c"), ("bedroom", "c"), ("bed room", "c"), ("living groom", "d"),
    ("hallway", None), ("kitchen", None), ("", None), ("the", None),
])
def test_names_match_tolerantly_but_not_ambiguously(said, device):
    found = find_thermostat(THERMOSTATS, said)
    assert (found.device_name.rsplit("/", 1)[-1] if found else None) == device


def test_the_domain_layer_imports_neither_http_nor_the_alexa_sdk():
    code = ("import sys; import nest_skill.thermostats, nest_skill.temperatures; "
            "print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('requests', 'urllib3', 'ask_sdk_core', 'ask_sdk_model')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "lambda_src", capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_the_entry_point_loads_no_boto3():
    code = "import sys, lambda_function; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "lambda_src", capture_output=True, text=True,
                            check=True, timeout=60, env={"NEST_PROJECT_ID": "p", "PATH": ""})
    assert result.stdout.strip() == "False False"
