"""Thermostats as the user knows them, read from SDM device JSON, and what a spoken setpoint means
for each one.

SDM reports what a device can do through its traits (its `type` must not be relied on), and a
missing trait means the feature is unavailable right now, so every trait here is optional.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from nest_skill import temperatures
from nest_skill.temperatures import Scale

_TRAIT = "sdm.devices.traits."
_COMMAND = "sdm.devices.commands.ThermostatTemperatureSetpoint."
# Below this difflib ratio a spoken name is a different word, not a misheard one.
_NAME_CUTOFF = 0.75


class Mode(str, Enum):
    """SDM `ThermostatMode.mode`, with eco (a separate SDM trait) folded in because it overrides it."""

    HEAT = "HEAT"
    COOL = "COOL"
    HEATCOOL = "HEATCOOL"
    OFF = "OFF"
    ECO = "MANUAL_ECO"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class Thermostat:
    device_name: str
    name: str
    """customName when the user set one, else the room: what the Nest app shows."""
    named_by_room: bool
    aliases: Tuple[str, ...]
    """Every name the user may say: the room and the custom name."""
    scale: Scale
    online: bool
    mode: Mode
    ambient_c: Optional[float]
    heat_c: Optional[float]
    """In eco mode these are the eco setpoints: SDM returns no others then."""
    cool_c: Optional[float]

    @classmethod
    def from_sdm(cls, device: Mapping[str, Any]) -> "Thermostat":
        traits = _traits(device)

        def trait(name: str) -> Mapping[str, Any]:
            value = traits.get(_TRAIT + name)
            return value if isinstance(value, Mapping) else {}

        custom_name = str(trait("Info").get("customName") or "").strip()
        relations = device.get("parentRelations")
        rooms = [str(r.get("displayName") or "").strip() for r in (relations if isinstance(relations, list) else [])
                 if isinstance(r, Mapping)]
        room = next((r for r in rooms if r), "")
        eco = trait("ThermostatEco").get("mode") == Mode.ECO.value
        setpoints = trait("ThermostatEco") if eco else trait("ThermostatTemperatureSetpoint")
        try:
            scale = Scale(trait("Settings").get("temperatureScale"))
        except ValueError:
            scale = Scale.CELSIUS
        try:
            mode = Mode.ECO if eco else Mode(trait("ThermostatMode").get("mode"))
        except ValueError:
            mode = Mode.UNKNOWN
        return cls(
            device_name=str(device.get("name") or ""),
            name=custom_name or room or "thermostat",
            named_by_room=not custom_name and bool(room),
            aliases=tuple(n for n in (room, custom_name) if n),
            scale=scale,
            online=trait("Connectivity").get("status") != "OFFLINE",
            mode=mode,
            ambient_c=temperatures.finite(trait("Temperature").get("ambientTemperatureCelsius")),
            heat_c=temperatures.finite(setpoints.get("heatCelsius")),
            cool_c=temperatures.finite(setpoints.get("coolCelsius")),
        )

    def shown(self, celsius: Optional[float]) -> Optional[float]:
        """A Celsius reading as the Nest app shows it on this thermostat."""
        return temperatures.displayed(celsius, self.scale)


def thermostats_in(devices: Sequence[Mapping[str, Any]]) -> List[Thermostat]:
    """The thermostats among an SDM device list (cameras and doorbells share it)."""
    return [Thermostat.from_sdm(d) for d in devices
            if any(_TRAIT + t in _traits(d) for t in ("ThermostatMode", "ThermostatTemperatureSetpoint"))]


def _traits(device: Mapping[str, Any]) -> Mapping[str, Any]:
    traits = device.get("traits")
    return traits if isinstance(traits, Mapping) else {}


def _normalized(name: str) -> str:
    words = re.sub(r"[^\w\s]", " ", name.lower()).split()
    if words and words[0] == "the":
        words = words[1:]
    if words and words[-1] == "thermostat":
        words = words[:-1]
    return " ".join(words)


def find_thermostat(thermostats: Sequence[Thermostat], *spoken: str) -> Optional[Thermostat]:
    """The thermostat the user named, tolerating case, "the ... thermostat", a name said in part
    ("upstairs" for "Upstairs Hallway") and near-misses from speech recognition.

    Each spoken form (what was heard, then what entity resolution made of it) is tried at each level
    of tolerance in turn, so an exact match on any form beats a near-miss on the first: a "Family Room"
    thermostat is found although the slot type resolves "family room" to its synonym "living room".
    Just "the thermostat" names the only one; it is also what a thermostat with neither room nor
    custom name is called, so such a thermostat is found again on the next turn.
    """
    wanted = [name for name in map(_normalized, spoken) if name]
    if not wanted and len(thermostats) == 1:
        return thermostats[0]
    by_alias: Dict[str, Thermostat] = {}
    for thermostat in thermostats:
        for alias in thermostat.aliases:
            by_alias.setdefault(_normalized(alias), thermostat)
    for name in wanted:
        if name in by_alias:
            return by_alias[name]
    for name in wanted:
        containing = {t.device_name: t for alias, t in by_alias.items() if set(name.split()) <= set(alias.split())}
        if len(containing) == 1:
            return next(iter(containing.values()))
    for name in wanted:
        close = difflib.get_close_matches(name, list(by_alias), n=1, cutoff=_NAME_CUTOFF)
        if close:
            return by_alias[close[0]]
    return None


class CannotSet(Exception):
    """Why a setpoint was not sent: each case has its own answer, none is an error."""

    def __init__(self, thermostat: Thermostat):
        super().__init__(thermostat.name)
        self.thermostat = thermostat


class Offline(CannotSet):
    pass


class TurnedOff(CannotSet):
    pass


class EcoOn(CannotSet):
    pass


class NoSetpoint(CannotSet):
    """The thermostat reports no mode that takes a setpoint (the trait is missing)."""


class OutOfRange(CannotSet):
    def __init__(self, thermostat: Thermostat):
        super().__init__(thermostat)
        self.low, self.high = temperatures.LIMITS[thermostat.scale]


@dataclass(frozen=True)
class SetpointChange:
    """One SDM command and the setpoints it leaves, in the thermostat's own scale, to confirm aloud."""

    thermostat: Thermostat
    command: str
    params: Mapping[str, float]
    setpoints: Tuple[float, ...]


def plan_setpoint(thermostat: Thermostat, spoken: float) -> SetpointChange:
    """The command that sets `thermostat` to `spoken` (in its own scale) in its current mode.

    Raises CannotSet when nothing should be sent: SDM would refuse a setpoint while off or in eco,
    and the mode is the user's choice, not ours to change.
    """
    if not thermostat.online:
        raise Offline(thermostat)
    if thermostat.mode is Mode.OFF:
        raise TurnedOff(thermostat)
    if thermostat.mode is Mode.ECO:
        raise EcoOn(thermostat)
    if thermostat.mode is Mode.UNKNOWN:
        raise NoSetpoint(thermostat)
    scale = thermostat.scale
    target = temperatures.nest_round(spoken, scale)
    if not temperatures.within_limits(target, scale):
        raise OutOfRange(thermostat)
    if thermostat.mode is Mode.HEAT:
        return SetpointChange(thermostat, _COMMAND + "SetHeat",
                              {"heatCelsius": temperatures.setpoint_celsius(target, scale)}, (target,))
    if thermostat.mode is Mode.COOL:
        return SetpointChange(thermostat, _COMMAND + "SetCool",
                              {"coolCelsius": temperatures.setpoint_celsius(target, scale)}, (target,))
    current = None
    if thermostat.heat_c is not None and thermostat.cool_c is not None:
        current = (thermostat.shown(thermostat.heat_c), thermostat.shown(thermostat.cool_c))
    low, high = temperatures.centred_range(target, current, scale)
    heat_c, cool_c = temperatures.range_celsius(low, high, scale)
    return SetpointChange(thermostat, _COMMAND + "SetRange", {"heatCelsius": heat_c, "coolCelsius": cool_c},
                          (low, high))
