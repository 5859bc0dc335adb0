"""The domain layer on its own: temperature arithmetic, device JSON, and matching spoken names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nest_skill import temperatures
from nest_skill.controls import Adjust, BeyondLimit, EcoWhileOff, Fan, ModeUnavailable, SetMode, action_from_json
from nest_skill.temperatures import Scale
from nest_skill.thermostats import (Capabilities, Closeness, Mode, Thermostat, choose, closeness, match, structure_names,
                                    thermostats_in)
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
                                ambient_c=20.2, heat_c=19.0, cool_c=23.0,
                                capabilities=Capabilities(modes=(Mode.HEAT, Mode.COOL, Mode.HEATCOOL, Mode.OFF),
                                                          eco=True, fan=True, temperature=True, humidity=True,
                                                          connectivity=True),
                                structure="enterprises/project-under-test/structures/home", base_mode=Mode.HEATCOOL,
                                eco_heat_c=16.7, eco_cool_c=26.7, hvac=None, humidity=41.0, fan=False)


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


def ids(thermostats) -> tuple:
    return tuple(t.device_name.rsplit("/", 1)[-1] for t in thermostats)


@pytest.mark.parametrize("said, exact, near", [
    ("upstairs hallway", "a", ""), ("the upstairs hallway thermostat", "a", ""), ("UPSTAIRS HALLWAY", "a", ""),
    ("guest suite", "c", ""), ("bedroom", "c", ""), ("bed room", "c", ""), ("Living Room's", "d", ""),
    ("Upstairs", "", "a"), ("downstairs", "", "b"), ("living groom", "", "d"), ("living rom", "", "d"),
    ("leaving room", "", "d"), ("hallway", "", "ab"), ("kitchen", "", ""), ("", "", ""), ("the", "", ""),
])
def test_only_exact_names_may_be_acted_on_near_misses_are_only_candidates(said, exact, near):
    found = match(THERMOSTATS, said)
    assert (ids(found.exact), ids(found.near)) == (tuple(exact), tuple(near))


def test_an_exact_match_on_what_was_heard_beats_entity_resolutions_value():
    family = [*THERMOSTATS, Thermostat.from_sdm(thermostat("f", room="Family Room"))]
    assert ids(match(family, "family room", "living room").exact) == ("f",)
    found_by_synonym = match(THERMOSTATS, "front room", "living room")
    assert ids(found_by_synonym.exact) == () and ids(found_by_synonym.near) == ("d",)


def test_the_same_room_in_two_homes_is_two_exact_matches():
    two = [Thermostat.from_sdm(thermostat("x", room="Living Room")), Thermostat.from_sdm(thermostat("y", room="Living Room"))]
    assert ids(match(two, "living room").exact) == ("x", "y")


# Google Home's standard room names (Home app, "Choose a room"): no two may be taken for each other.
STANDARD_ROOMS = [
    "Attic", "Back Door", "Backyard", "Basement", "Bathroom", "Bedroom", "Closet", "Deck", "Den", "Dining Room",
    "Downstairs", "Driveway", "Entryway", "Family Room", "Front Door", "Front Yard", "Garage", "Guest Bathroom",
    "Guest Bedroom", "Guest Room", "Gym", "Hall", "Hallway", "Kids Room", "Kitchen", "Landing", "Laundry Room",
    "Living Room", "Lounge", "Master Bathroom", "Master Bedroom", "Mudroom", "Nursery", "Office", "Outside", "Pantry",
    "Patio", "Playroom", "Porch", "Primary Bathroom", "Primary Bedroom", "Shed", "Side Door", "Study", "Sunroom",
    "Upstairs", "Utility Room", "Workshop",
]
ROOM_PAIRS = [(said, named) for said in STANDARD_ROOMS for named in STANDARD_ROOMS if said != named]


def test_no_standard_room_is_ever_taken_for_another():
    """A different room is never an exact match, and is not even a near-miss unless it was named in
    part ("Bedroom" said for the only "Guest Bedroom"), which is only ever asked about."""
    assert len(ROOM_PAIRS) > 2000
    for said, named in ROOM_PAIRS:
        found = closeness(said, named)
        assert found is not Closeness.EXACT, (said, named)
        assert found is Closeness.NONE or set(said.lower().split()) < set(named.lower().split()), (said, named)


@pytest.mark.parametrize("said, named", [
    ("Guest Bedroom", "Guest Bathroom"), ("Master Bedroom", "Master Bathroom"), ("Dining Room", "Living Room"),
    ("Bedroom", "Bathroom"), ("Upstairs", "Downstairs"), ("Front Door", "Back Door"), ("Front Yard", "Backyard"),
    ("Garage", "Garden"), ("Mudroom", "Bedroom"), ("Hall", "Hallway"), ("Kids Room", "Guest Room"),
])
def test_similar_rooms_that_the_old_tolerance_confused_are_different_rooms(said, named):
    assert closeness(said, named) is Closeness.NONE


def test_with_every_standard_room_present_each_name_finds_only_its_own_room():
    rooms = [Thermostat.from_sdm(thermostat(f"r{i}", room=room)) for i, room in enumerate(STANDARD_ROOMS)]
    for i, room in enumerate(STANDARD_ROOMS):
        assert ids(match(rooms, room).exact) == (f"r{i}",), room


def test_structures_name_homes_and_an_answer_picks_one():
    homes = structure_names([
        {"name": "enterprises/p/structures/lake", "traits": {"sdm.structures.traits.Info": {"customName": "Lake House"}}},
        {"name": "enterprises/p/structures/home", "traits": {"sdm.structures.traits.Info": {"customName": "Home"}}},
        {"name": "enterprises/p/structures/bare", "traits": {}},
    ])
    assert homes == {"enterprises/p/structures/lake": "Lake House", "enterprises/p/structures/home": "Home"}
    lake = Thermostat(**{**vars(THERMOSTATS[3]), "device_name": "lake", "home": "Lake House"})
    home = Thermostat(**{**vars(THERMOSTATS[3]), "device_name": "home", "home": "Home"})
    for answer, chosen in [("lake house", lake), ("the Lake House", lake), ("home", home), ("the first one", lake),
                           ("second", home), ("the last one", home), ("third", None), ("garage", None)]:
        assert choose([lake, home], answer) == chosen, answer


def test_a_thermostat_listed_with_empty_traits_is_kept_as_not_reporting():
    device = thermostat("living")
    device["traits"] = {}
    [parsed] = thermostats_in([device, camera()])
    assert (parsed.name, parsed.reporting) == ("Living Room", False)


def test_a_heat_only_thermostat_in_eco_uses_only_its_heat_setpoint():
    device = thermostat(eco=True, eco_heat_c=15.5, eco_cool_c=29.0)
    device["traits"]["sdm.devices.traits.ThermostatMode"]["availableModes"] = ["HEAT", "OFF"]
    parsed = Thermostat.from_sdm(device)
    assert parsed.usable_setpoints(parsed.heat_c, parsed.cool_c) == (15.5, None)


def test_the_domain_layer_imports_neither_http_nor_the_alexa_sdk():
    code = ("import sys; import nest_skill.thermostats, nest_skill.temperatures, nest_skill.controls; "
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


def test_controls_plan_typed_changes_and_reasons_without_speech():
    heat_only = Thermostat.from_sdm(thermostat(mode="OFF", available_modes=("HEAT", "OFF")))
    with pytest.raises(ModeUnavailable) as unavailable:
        SetMode("COOL").plan(heat_only)
    assert unavailable.value.mode is Mode.COOL
    with pytest.raises(EcoWhileOff):
        SetMode("MANUAL_ECO").plan(heat_only)
    change = SetMode("HEAT").plan(heat_only)
    assert (change.command, dict(change.params), change.mode) == (
        "sdm.devices.commands.ThermostatMode.SetMode", {"mode": "HEAT"}, Mode.HEAT)
    with pytest.raises(BeyondLimit) as beyond:
        Adjust(up=True, amount=5).plan(Thermostat.from_sdm(thermostat(heat_c=f_to_c(88))))
    assert (beyond.value.limit, beyond.value.setpoints) == (90.0, (88.0,))
    capped = Fan(on=True, seconds=86400).plan(Thermostat.from_sdm(thermostat()))
    assert (dict(capped.params), capped.fan_seconds, capped.capped) == (
        {"timerMode": "ON", "duration": "43200s"}, 43200, True)
    for action in (SetMode("COOL"), Adjust(up=False, amount=2.0), Fan(on=True, seconds=60)):
        assert action_from_json(action.to_json()) == action
    for forged in ({"kind": "set_mode", "mode": "TURBO"}, {"kind": "fan", "on": "yes"},
                   {"kind": "adjust", "up": True, "amount": -3}, {"kind": "fan", "on": True, "seconds": True},
                   {"kind": "nope"}, {"kind": "set_temperature", "value": 70, "extra": 1}, "set_mode"):
        assert action_from_json(forged) is None, forged
