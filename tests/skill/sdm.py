"""SDM device JSON as documented (enterprises.devices), for the `responses` mock of the API."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

PROJECT = "project-under-test"
BASE = "https://smartdevicemanagement.googleapis.com/v1"
DEVICES_URL = f"{BASE}/enterprises/{PROJECT}/devices"
STRUCTURES_URL = f"{BASE}/enterprises/{PROJECT}/structures"
TRAIT = "sdm.devices.traits."
COMMAND = "sdm.devices.commands.ThermostatTemperatureSetpoint."


def f_to_c(degrees_f: float) -> float:
    return (degrees_f - 32) * 5 / 9


def thermostat(
    device_id: str = "living",
    room: str = "Living Room",
    custom_name: str = "",
    scale: str = "FAHRENHEIT",
    mode: str = "HEAT",
    ambient_c: float | None = 21.7,
    heat_c: float | None = 20.0,
    cool_c: float | None = None,
    eco: bool = False,
    eco_heat_c: float = 16.7,
    eco_cool_c: float = 26.7,
    online: bool = True,
    structure: str = "home",
    available_modes: Sequence[str] = ("HEAT", "COOL", "HEATCOOL", "OFF"),
    hvac: str | None = None,
    fan: str | None = "OFF",
) -> dict[str, Any]:
    """A thermostat device. SDM returns only the current mode's setpoints, and none in eco or off.
    `hvac` adds ThermostatHvac.status; `fan` is Fan.timerMode (None: no Fan trait)."""
    traits: dict[str, Any] = {
        TRAIT + "Info": {"customName": custom_name},
        TRAIT + "Connectivity": {"status": "ONLINE" if online else "OFFLINE"},
        TRAIT + "Humidity": {"ambientHumidityPercent": 41},
        TRAIT + "Settings": {"temperatureScale": scale},
        TRAIT + "ThermostatMode": {"mode": mode, "availableModes": list(available_modes)},
        TRAIT + "ThermostatEco": {
            "availableModes": ["MANUAL_ECO", "OFF"],
            "mode": "MANUAL_ECO" if eco else "OFF",
            "heatCelsius": eco_heat_c,
            "coolCelsius": eco_cool_c,
        },
    }
    if hvac is not None:
        traits[TRAIT + "ThermostatHvac"] = {"status": hvac}
    if fan is not None:
        traits[TRAIT + "Fan"] = {"timerMode": fan}
    if ambient_c is not None:
        traits[TRAIT + "Temperature"] = {"ambientTemperatureCelsius": ambient_c}
    setpoint = {}
    if not eco and mode in ("HEAT", "HEATCOOL") and heat_c is not None:
        setpoint["heatCelsius"] = heat_c
    if not eco and mode in ("COOL", "HEATCOOL") and cool_c is not None:
        setpoint["coolCelsius"] = cool_c
    if setpoint:
        traits[TRAIT + "ThermostatTemperatureSetpoint"] = setpoint
    return {
        "name": f"enterprises/{PROJECT}/devices/{device_id}",
        "type": "sdm.devices.types.THERMOSTAT",
        "assignee": f"enterprises/{PROJECT}/structures/{structure}/rooms/{device_id}",
        "traits": traits,
        "parentRelations": [
            {"parent": f"enterprises/{PROJECT}/structures/{structure}/rooms/{device_id}", "displayName": room}
        ],
    }


def camera(device_id: str = "door", room: str = "Front Door") -> dict[str, Any]:
    return {
        "name": f"enterprises/{PROJECT}/devices/{device_id}",
        "type": "sdm.devices.types.DOORBELL",
        "traits": {TRAIT + "Info": {"customName": ""}, TRAIT + "CameraLiveStream": {"maxVideoResolution": {}}},
        "parentRelations": [
            {"parent": f"enterprises/{PROJECT}/structures/home/rooms/{device_id}", "displayName": room}
        ],
    }


def device_list(*devices: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {"devices": list(devices)}


def structure(structure_id: str, name: str) -> dict[str, Any]:
    """A structure (home) as enterprises.structures.list returns it."""
    return {
        "name": f"enterprises/{PROJECT}/structures/{structure_id}",
        "traits": {"sdm.structures.traits.Info": {"customName": name}},
    }


def structure_list(*structures: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {"structures": list(structures)}


def device_url(device_id: str) -> str:
    return f"{BASE}/enterprises/{PROJECT}/devices/{device_id}"


def command_url(device_id: str) -> str:
    return f"{BASE}/enterprises/{PROJECT}/devices/{device_id}:executeCommand"


def error_body(code: int, status: str, message: str, reason: str = "") -> dict[str, Any]:
    """Google's error (google.rpc.Status); `reason` adds an ErrorInfo to error.details as Google does."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": reason,
                "domain": "googleapis.com",
                "metadata": {"service": "smartdevicemanagement.googleapis.com", "consumer": "projects/123456789"},
            },
        ]
    return {"error": error}


def sent_command(call) -> dict[str, Any]:
    """The JSON body of a recorded executeCommand call."""
    return json.loads(call.request.body)


def serve_devices(sdm_api, *devices) -> None:
    """SDM mocked for `devices`: the list, each one's devices.get, and a command that succeeds."""
    sdm_api.get(DEVICES_URL, json=device_list(*devices))
    for device in devices:
        device_id = device["name"].rsplit("/", 1)[-1]
        sdm_api.post(command_url(device_id), json={})
        sdm_api.get(device_url(device_id), json=device)
