"""Thermostats as Alexa endpoints: their discovery description and their state as Alexa properties.

Sources: developer.amazon.com/docs/device-apis/alexa-discovery.html (endpoint objects, `endpointId`
rules), alexa-thermostatcontroller.html (properties, `supportedModes`, `supportsScheduling`),
alexa-temperaturesensor.html, alexa-endpointhealth.html. Temperatures are reported in the
thermostat's own scale, rounded as the Nest app shows them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from nest_skill.sdm_client import DEVICE_CACHE_TTL_S
from nest_skill.smart_home.messages import Property
from nest_skill.thermostats import NAME_MAX_CHARS, STANDARD_MODES, Mode, Thermostat, clean_name

MANUFACTURER = "Google Nest"
THERMOSTAT = "Alexa.ThermostatController"
SENSOR = "Alexa.TemperatureSensor"
HEALTH = "Alexa.EndpointHealth"
# Alexa's thermostatMode values and SDM's modes (HEATCOOL is Alexa's AUTO; eco is SDM's ThermostatEco trait).
ALEXA_MODES = {"HEAT": Mode.HEAT, "COOL": Mode.COOL, "AUTO": Mode.HEATCOOL, "OFF": Mode.OFF, "ECO": Mode.ECO}
_ALEXA_MODE_OF = {mode: name for name, mode in ALEXA_MODES.items()}
_ENDPOINT_ID = re.compile(r"^[A-Za-z0-9 _\-=#;:?@&]{1,256}$")
_DESCRIPTION = "Nest thermostat{where} (through Home Thermostat)"
# State read from SDM's device list may be as old as the warm container's cache of it.
LIST_UNCERTAINTY_MS = int(DEVICE_CACHE_TTL_S * 1000)


_NAME_MARKS = frozenset("'\u2019-\u2010")
"""Punctuation a friendlyName keeps: apostrophes (straight and typographic) and hyphens, which the
Alexa app accepts in a name and name matching ignores."""
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def friendly_name(thermostat: Thermostat) -> str:
    """The endpoint's `friendlyName`: the thermostat's name (its custom name, else its room) in the
    letters, digits and spaces Amazon's discovery objects allow, keeping apostrophes and hyphens. Every
    symbol (emoji, `&`, `+`, `$`), enclosing mark and other punctuation becomes a space, and variation
    selectors go with the emoji they dress. When nothing is left, the next name, then "thermostat".
    Speech and name matching keep the name as the Nest app shows it (thermostats.clean_name)."""

    def kept(c: str) -> bool:
        category = unicodedata.category(c)
        return c in _NAME_MARKS or (category[0] not in ("S", "P") and category != "Me")

    def spoken(name: str) -> str:
        return " ".join("".join(c if kept(c) else " " for c in _VARIATION_SELECTORS.sub("", name)).split())

    return next((n for n in map(spoken, (thermostat.name, *thermostat.aliases)) if n), "thermostat")


def endpoint_id(thermostat: Thermostat) -> str:
    """The SDM device ID (`enterprises/{p}/devices/{id}`'s last segment) when it fits Alexa's rules
    (letters, digits, space and `_-=#;:?@&`, at most 256), else `sdm:` and its SHA-256: stable
    across discoveries either way, and never the same for two devices."""
    device_id = thermostat.device_name.rpartition("/")[2]
    if _ENDPOINT_ID.fullmatch(device_id):
        return device_id
    return "sdm:" + hashlib.sha256(thermostat.device_name.encode()).hexdigest()


def is_endpoint_id(value: Any) -> bool:
    """Whether `value` is an endpointId by Alexa's rules (letters, digits, space and `_-=#;:?@&`, 1 to 256)."""
    return isinstance(value, str) and _ENDPOINT_ID.fullmatch(value) is not None


def addressed(thermostats: Sequence[Thermostat], wanted: str) -> Thermostat | None:
    """The thermostat whose endpointId is exactly `wanted`, else None: never a near one."""
    return next((t for t in thermostats if endpoint_id(t) == wanted), None)


def supported_modes(thermostat: Thermostat) -> list[str]:
    """Alexa's names for the modes the thermostat can be switched to (Capabilities: `availableModes`,
    HEATCOOL as AUTO; ECO when eco's `availableModes` lists MANUAL_ECO). Empty: no ThermostatController."""
    modes = [_ALEXA_MODE_OF[m] for m in STANDARD_MODES if thermostat.can(m)]
    return [*modes, "ECO"] if thermostat.can(Mode.ECO) else modes


def _setpoints(modes: Sequence[str]) -> list[str]:
    """The setpoint properties the modes take: a target for heat or cool, lower and upper for
    heat-cool, and for eco on a thermostat that both heats and cools (as `state` reports it)."""
    both_ends = "AUTO" in modes or {"ECO", "HEAT", "COOL"} <= set(modes)
    return (["targetSetpoint"] if {"HEAT", "COOL"} & set(modes) else []) + (
        ["lowerSetpoint", "upperSetpoint"] if both_ends else []
    )


def declared(thermostat: Thermostat) -> dict[str, list[str]]:
    """The properties discovery declares, by interface: only what the thermostat's Capabilities
    allow. A state report holds nothing else (Alexa drops what was not declared)."""
    interfaces: dict[str, list[str]] = {}
    modes = supported_modes(thermostat)
    if modes:
        interfaces[THERMOSTAT] = [*_setpoints(modes), "thermostatMode"]
    if thermostat.capabilities.temperature:
        interfaces[SENSOR] = ["temperature"]
    if thermostat.capabilities.connectivity:
        interfaces[HEALTH] = ["connectivity"]
    return interfaces


def _interface(
    name: str, supported: Sequence[str] = (), configuration: dict[str, Any] | None = None, proactive: bool = False
) -> dict[str, Any]:
    capability: dict[str, Any] = {"type": "AlexaInterface", "interface": name, "version": "3"}
    if supported:
        capability["properties"] = {
            "supported": [{"name": n} for n in supported],
            "proactivelyReported": proactive,
            "retrievable": True,
        }
    if configuration is not None:
        capability["configuration"] = configuration
    return capability


def discovery_endpoint(thermostat: Thermostat, proactive: bool = False) -> dict[str, Any]:
    """One `Discover.Response` endpoint with the interfaces its Capabilities allow: a
    ThermostatController when it has a mode to switch to (the setpoints those modes take, no
    scheduling), a TemperatureSensor when it reports the room temperature, EndpointHealth when it
    reports connectivity. One that only reports a temperature is a TEMPERATURE_SENSOR. Properties are
    retrievable (ReportState); proactively reported only when `proactive` (live state on: the
    skill sends ChangeReports, docs: how-it-works/live-state.md), since Alexa requires properties
    declared so to be reported on every change."""
    interfaces = declared(thermostat)
    capabilities = [_interface("Alexa")]
    if THERMOSTAT in interfaces:
        capabilities.append(
            _interface(
                THERMOSTAT,
                interfaces[THERMOSTAT],
                {"supportedModes": supported_modes(thermostat), "supportsScheduling": False},
                proactive,
            )
        )
    capabilities += [
        _interface(name, interfaces[name], proactive=proactive) for name in (SENSOR, HEALTH) if name in interfaces
    ]
    sensor_only = THERMOSTAT not in interfaces and SENSOR in interfaces
    # The home's name (already clean) may take up to NAME_MAX_CHARS on its own: shortened to keep the
    # whole within them, and cleaned again for the space a cut may leave at its end.
    room_for_home = NAME_MAX_CHARS - len(_DESCRIPTION.format(where=" in "))
    where = f" in {clean_name(thermostat.home[:room_for_home])}" if thermostat.home else ""
    return {
        "endpointId": endpoint_id(thermostat),
        "manufacturerName": MANUFACTURER,
        "friendlyName": friendly_name(thermostat),
        "description": _DESCRIPTION.format(where=where),
        "displayCategories": ["TEMPERATURE_SENSOR" if sensor_only else "THERMOSTAT"],
        "capabilities": capabilities,
    }


def degrees(value: float, thermostat: Thermostat) -> dict[str, Any]:
    """Alexa's temperature object for `value` in the thermostat's own scale."""
    return {"value": value, "scale": thermostat.scale.value}


def _temperature(thermostat: Thermostat, celsius: float | None) -> dict[str, Any] | None:
    shown = thermostat.shown(celsius)
    return None if shown is None else degrees(shown, thermostat)


def state(
    thermostat: Thermostat,
    sampled_at: float,
    uncertainty_ms: int = LIST_UNCERTAINTY_MS,
    mode: Mode | None = None,
    setpoints: Sequence[float] = (),
) -> list[Property]:
    """The endpoint's properties: connectivity, mode, the mode's setpoint(s) and the room
    temperature, each only when discovery declared it (`declared`). `mode` and `setpoints` (own
    scale) override what SDM listed: the state a command just set. A setpoint SDM does not report (nor
    those of a mode just switched to), or a mode it does not know, is left out, never guessed."""
    switched = mode is not None and mode is not thermostat.mode and not setpoints
    mode = thermostat.mode if mode is None else mode
    celsius = (
        ()
        if switched
        else {
            Mode.HEAT: (thermostat.heat_c,),
            Mode.COOL: (thermostat.cool_c,),
            Mode.HEATCOOL: (thermostat.heat_c, thermostat.cool_c),
            Mode.ECO: thermostat.usable_setpoints(thermostat.eco_heat_c, thermostat.eco_cool_c),
        }.get(mode, ())
    )
    values = (
        [degrees(v, thermostat) for v in setpoints]
        if setpoints
        else [_temperature(thermostat, c) for c in celsius if c is not None]
    )

    interfaces = declared(thermostat)

    def prop(namespace: str, name: str, value: Any) -> Property:
        return Property(namespace, name, value, sampled_at, uncertainty_ms)

    properties = [prop(HEALTH, "connectivity", {"value": "OK" if thermostat.online else "UNREACHABLE"})]
    if _ALEXA_MODE_OF.get(mode) in supported_modes(thermostat):
        properties.append(prop(THERMOSTAT, "thermostatMode", _ALEXA_MODE_OF[mode]))
    if len(values) == 1 and mode is not Mode.HEATCOOL:
        properties.append(prop(THERMOSTAT, "targetSetpoint", values[0]))
    elif len(values) == 2:
        properties += [prop(THERMOSTAT, "lowerSetpoint", values[0]), prop(THERMOSTAT, "upperSetpoint", values[1])]
    ambient = _temperature(thermostat, thermostat.ambient_c)
    if ambient is not None:
        properties.append(prop(SENSOR, "temperature", ambient))
    return [p for p in properties if p.name in interfaces.get(p.namespace, ())]
