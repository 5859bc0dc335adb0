"""Thermostats as Alexa endpoints: their discovery description and their state as Alexa properties.

Sources: developer.amazon.com/docs/device-apis/alexa-discovery.html (endpoint objects, `endpointId`
rules), alexa-thermostatcontroller.html (properties, `supportedModes`, `supportsScheduling`),
alexa-temperaturesensor.html, alexa-endpointhealth.html. Temperatures are reported in the
thermostat's own scale, rounded as the Nest app shows them.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Dict, List, Optional, Sequence

from nest_skill.sdm_client import DEVICE_CACHE_TTL_S
from nest_skill.smart_home.messages import Property
from nest_skill.thermostats import STANDARD_MODES, Mode, Thermostat

MANUFACTURER = "Google Nest"
THERMOSTAT = "Alexa.ThermostatController"
SENSOR = "Alexa.TemperatureSensor"
HEALTH = "Alexa.EndpointHealth"
# Alexa's thermostatMode values and SDM's modes (HEATCOOL is Alexa's AUTO; eco is SDM's ThermostatEco trait).
ALEXA_MODES = {"HEAT": Mode.HEAT, "COOL": Mode.COOL, "AUTO": Mode.HEATCOOL, "OFF": Mode.OFF, "ECO": Mode.ECO}
_ALEXA_MODE_OF = {mode: name for name, mode in ALEXA_MODES.items()}
_ENDPOINT_ID = re.compile(r"^[A-Za-z0-9 _\-=#;:?@&]{1,256}$")
# State read from SDM's device list may be as old as the warm container's cache of it.
LIST_UNCERTAINTY_MS = int(DEVICE_CACHE_TTL_S * 1000)


def endpoint_id(thermostat: Thermostat) -> str:
    """The SDM device ID (`enterprises/{p}/devices/{id}`'s last segment) when it fits Alexa's rules
    (letters, digits, space and `_-=#;:?@&`, at most 256), else `sdm:` and its SHA-256: stable
    across discoveries either way, and never the same for two devices."""
    device_id = thermostat.device_name.rpartition("/")[2]
    if _ENDPOINT_ID.fullmatch(device_id):
        return device_id
    return "sdm:" + hashlib.sha256(thermostat.device_name.encode()).hexdigest()


def addressed(thermostats: Sequence[Thermostat], wanted: str) -> Optional[Thermostat]:
    """The thermostat whose endpointId is exactly `wanted`, else None: never a near one."""
    return next((t for t in thermostats if endpoint_id(t) == wanted), None)


def supported_modes(thermostat: Thermostat) -> List[str]:
    """Alexa's names for `availableModes` (HEATCOOL as AUTO), ECO when the thermostat has the eco
    trait; every standard mode when SDM does not list them."""
    listed = thermostat.available_modes or STANDARD_MODES
    modes = [_ALEXA_MODE_OF[m] for m in listed]
    return modes + ["ECO"] if thermostat.can(Mode.ECO) else modes


def _interface(name: str, supported: Sequence[str] = (), configuration: Optional[Dict[str, Any]] = None
               ) -> Dict[str, Any]:
    capability: Dict[str, Any] = {"type": "AlexaInterface", "interface": name, "version": "3"}
    if supported:
        capability["properties"] = {"supported": [{"name": n} for n in supported],
                                    "proactivelyReported": False, "retrievable": True}
    if configuration is not None:
        capability["configuration"] = configuration
    return capability


def discovery_endpoint(thermostat: Thermostat) -> Dict[str, Any]:
    """One `Discover.Response` endpoint: display category THERMOSTAT, the setpoints the modes it
    can be in take (a target for heat or cool, lower and upper for heat-cool), no scheduling.
    Properties are retrievable (ReportState) and not proactively reported: that needs ChangeReports
    (README: Smart home)."""
    modes = supported_modes(thermostat)
    # Eco holds both ends when the thermostat can both heat and cool (as `state` reports it).
    both_ends = "AUTO" in modes or {"ECO", "HEAT", "COOL"} <= set(modes)
    setpoints = (["targetSetpoint"] if {"HEAT", "COOL"} & set(modes) else []) + (
        ["lowerSetpoint", "upperSetpoint"] if both_ends else [])
    where = f" in {thermostat.home}" if thermostat.home else ""
    return {
        "endpointId": endpoint_id(thermostat),
        "manufacturerName": MANUFACTURER,
        "friendlyName": thermostat.name,
        "description": f"Nest thermostat{where} (through Home Thermostat)",
        "displayCategories": ["THERMOSTAT"],
        "capabilities": [
            _interface("Alexa"),
            _interface(THERMOSTAT, [*setpoints, "thermostatMode"],
                       {"supportedModes": modes, "supportsScheduling": False}),
            _interface(SENSOR, ["temperature"]),
            _interface(HEALTH, ["connectivity"]),
        ],
    }


def degrees(value: float, thermostat: Thermostat) -> Dict[str, Any]:
    """Alexa's temperature object for `value` in the thermostat's own scale."""
    return {"value": value, "scale": thermostat.scale.value}


def _temperature(thermostat: Thermostat, celsius: Optional[float]) -> Optional[Dict[str, Any]]:
    shown = thermostat.shown(celsius)
    return None if shown is None else degrees(shown, thermostat)


def state(thermostat: Thermostat, sampled_at: float, uncertainty_ms: int = LIST_UNCERTAINTY_MS,
          mode: Optional[Mode] = None, setpoints: Sequence[float] = ()) -> List[Property]:
    """The endpoint's properties: connectivity, mode, the mode's setpoint(s) and the room
    temperature. `mode` and `setpoints` (own scale) override what SDM listed: the state a command
    just set. A setpoint SDM does not report (nor those of a mode just switched to), or a mode it
    does not know, is left out, never guessed."""
    switched = mode is not None and mode is not thermostat.mode and not setpoints
    mode = thermostat.mode if mode is None else mode
    celsius = () if switched else {Mode.HEAT: (thermostat.heat_c,), Mode.COOL: (thermostat.cool_c,),
               Mode.HEATCOOL: (thermostat.heat_c, thermostat.cool_c),
               Mode.ECO: thermostat.usable_setpoints(thermostat.eco_heat_c, thermostat.eco_cool_c)}.get(mode, ())
    values = [degrees(v, thermostat) for v in setpoints] if setpoints else [
        _temperature(thermostat, c) for c in celsius if c is not None]

    def prop(namespace: str, name: str, value: Any) -> Property:
        return Property(namespace, name, value, sampled_at, uncertainty_ms)

    properties = [prop(HEALTH, "connectivity", {"value": "OK" if thermostat.online else "UNREACHABLE"})]
    if mode in _ALEXA_MODE_OF:
        properties.append(prop(THERMOSTAT, "thermostatMode", _ALEXA_MODE_OF[mode]))
    if len(values) == 1 and mode is not Mode.HEATCOOL:
        properties.append(prop(THERMOSTAT, "targetSetpoint", values[0]))
    elif len(values) == 2:
        properties += [prop(THERMOSTAT, "lowerSetpoint", values[0]), prop(THERMOSTAT, "upperSetpoint", values[1])]
    ambient = _temperature(thermostat, thermostat.ambient_c)
    if ambient is not None:
        properties.append(prop(SENSOR, "temperature", ambient))
    return properties
