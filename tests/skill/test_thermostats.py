"""thermostats.Thermostat as read from SDM's device JSON: its traits and setpoints, eco, fields missing or
malformed, thermostats listed without traits, and the homes (structures) they belong to."""

from __future__ import annotations

import pytest

from nest_skill.temperatures import Scale
from nest_skill.thermostats import Capabilities, Mode, Thermostat, choose, structure_names, thermostats_in
from tests.skill.sdm import PROJECT, TRAIT, camera, f_to_c, thermostat

F, C = Scale.FAHRENHEIT, Scale.CELSIUS
THERMOSTATS = [
    Thermostat.from_sdm(d)
    for d in (
        thermostat("a", room="Upstairs Hallway"),
        thermostat("b", room="Downstairs Hallway"),
        thermostat("c", room="Bedroom", custom_name="Guest Suite"),
        thermostat("d", room="Living Room"),
    )
]


def test_device_json_becomes_a_thermostat():
    [parsed] = thermostats_in(
        [
            camera(),
            thermostat(
                "t1",
                room="Hall",
                custom_name="",
                scale="CELSIUS",
                mode="HEATCOOL",
                ambient_c=20.2,
                heat_c=19.0,
                cool_c=23.0,
            ),
        ]
    )
    assert parsed == Thermostat(
        device_name="enterprises/project-under-test/devices/t1",
        name="Hall",
        named_by_room=True,
        aliases=("Hall",),
        scale=C,
        online=True,
        mode=Mode.HEATCOOL,
        ambient_c=20.2,
        heat_c=19.0,
        cool_c=23.0,
        capabilities=Capabilities(
            modes=(Mode.HEAT, Mode.COOL, Mode.HEATCOOL, Mode.OFF),
            eco=True,
            fan=True,
            temperature=True,
            humidity=True,
            connectivity=True,
        ),
        structure="enterprises/project-under-test/structures/home",
        base_mode=Mode.HEATCOOL,
        eco_heat_c=16.7,
        eco_cool_c=26.7,
        hvac=None,
        humidity=41.0,
        fan=False,
    )


def test_eco_reports_the_eco_setpoints():
    parsed = Thermostat.from_sdm(thermostat(eco=True, eco_heat_c=f_to_c(62), eco_cool_c=f_to_c(80)))
    assert parsed.mode is Mode.ECO
    assert (parsed.shown(parsed.heat_c), parsed.shown(parsed.cool_c)) == (62, 80)


def test_a_thermostat_with_missing_traits_is_still_usable():
    parsed = Thermostat.from_sdm(
        {"name": "enterprises/p/devices/x", "traits": {"sdm.devices.traits.ThermostatMode": {"mode": "SOMETHING_NEW"}}}
    )
    assert (parsed.name, parsed.scale, parsed.mode, parsed.online, parsed.ambient_c) == (
        "thermostat",
        C,
        Mode.UNKNOWN,
        True,
        None,
    )


@pytest.mark.parametrize(
    "device",
    [
        {"name": "enterprises/p/devices/x", "traits": ["sdm.devices.traits.ThermostatMode"]},
        {
            "name": "enterprises/p/devices/x",
            "traits": {"sdm.devices.traits.ThermostatMode": "HEAT"},
            "parentRelations": {"displayName": "Hall"},
        },
        {
            "traits": {
                "sdm.devices.traits.ThermostatMode": {"mode": "HEAT"},
                "sdm.devices.traits.Temperature": {"ambientTemperatureCelsius": "warm"},
            },
            "parentRelations": ["Hall", {"displayName": None}],
        },
    ],
)
def test_malformed_device_json_does_not_crash(device):
    for parsed in thermostats_in([device]):
        assert parsed.ambient_c is None and parsed.aliases == ()


def test_a_thermostat_listed_with_empty_traits_is_kept_as_not_reporting():
    device = thermostat("living")
    device["traits"] = {}
    [parsed] = thermostats_in([device, camera()])
    assert (parsed.name, parsed.reporting) == ("Living Room", False)


@pytest.mark.parametrize(
    "trait, value",
    [
        ("ThermostatMode", {"mode": "HEAT", "availableModes": ["HEAT", "OFF"]}),
        ("Temperature", {"ambientTemperatureCelsius": 21.0}),
        ("Humidity", {"ambientHumidityPercent": 40}),
        ("Connectivity", {"status": "ONLINE"}),
        ("Fan", {"timerMode": "OFF"}),
    ],
)
def test_a_thermostat_reporting_any_one_field_is_reporting(trait, value):
    """Only a thermostat that reports nothing Alexa can read is answered as not reporting."""
    device = thermostat("living")
    device["traits"] = {TRAIT + trait: value}
    [parsed] = thermostats_in([device])
    assert parsed.reporting


def test_a_heat_only_thermostat_in_eco_uses_only_its_heat_setpoint():
    device = thermostat(eco=True, eco_heat_c=15.5, eco_cool_c=29.0)
    device["traits"]["sdm.devices.traits.ThermostatMode"]["availableModes"] = ["HEAT", "OFF"]
    parsed = Thermostat.from_sdm(device)
    assert parsed.usable_setpoints(parsed.heat_c, parsed.cool_c) == (15.5, None)


def test_structures_name_homes_and_an_answer_picks_one():
    homes = structure_names(
        [
            {
                "name": "enterprises/p/structures/lake",
                "traits": {"sdm.structures.traits.Info": {"customName": "Lake House"}},
            },
            {"name": "enterprises/p/structures/home", "traits": {"sdm.structures.traits.Info": {"customName": "Home"}}},
            {"name": "enterprises/p/structures/bare", "traits": {}},
        ]
    )
    assert homes == {"enterprises/p/structures/lake": "Lake House", "enterprises/p/structures/home": "Home"}
    lake = Thermostat(**{**vars(THERMOSTATS[3]), "device_name": "lake", "home": "Lake House"})
    home = Thermostat(**{**vars(THERMOSTATS[3]), "device_name": "home", "home": "Home"})
    for answer, chosen in [
        ("lake house", lake),
        ("the Lake House", lake),
        ("home", home),
        ("the first one", lake),
        ("second", home),
        ("the last one", home),
        ("third", None),
        ("garage", None),
    ]:
        assert choose([lake, home], answer) == chosen, answer


def test_a_device_with_only_the_setpoint_trait_is_a_thermostat():
    device = {
        "name": f"enterprises/{PROJECT}/devices/x",
        "type": "sdm.devices.types.SOMETHING_NEW",
        "traits": {TRAIT + "ThermostatTemperatureSetpoint": {"heatCelsius": 20.0}},
    }
    [found] = thermostats_in([device])
    assert (found.name, found.heat_c, found.mode, found.reporting) == ("thermostat", 20.0, Mode.UNKNOWN, True)


def test_a_thermostat_type_without_traits_is_listed_as_not_reporting():
    [found] = thermostats_in([{"name": "d", "type": "sdm.devices.types.THERMOSTAT", "traits": {}}])
    assert (found.reporting, found.scale, found.online) == (False, Scale.CELSIUS, True)


def test_what_the_sdm_json_leaves_out():
    device = thermostat(mode="SOME_FUTURE_MODE")
    device["parentRelations"] = [{"parent": "rooms/no-structure"}]
    del device["name"]
    found = Thermostat.from_sdm(device)
    assert (found.device_name, found.structure, found.name, found.aliases) == ("", "", "thermostat", ())
    assert (found.mode, found.base_mode) == (Mode.UNKNOWN, Mode.UNKNOWN)


def test_a_home_without_a_name_is_not_named():
    assert structure_names(
        [
            {"name": "enterprises/p/structures/a", "traits": {}},
            {"name": "enterprises/p/structures/b", "traits": {"sdm.structures.traits.Info": {}}},
            {
                "name": "enterprises/p/structures/c",
                "traits": {"sdm.structures.traits.Info": {"customName": " Lake House "}},
            },
        ]
    ) == {"enterprises/p/structures/c": "Lake House"}
