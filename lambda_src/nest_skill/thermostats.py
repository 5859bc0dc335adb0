"""Thermostats as the user knows them, read from SDM device and structure JSON, and the one place
that decides how closely a spoken name matches a thermostat.

SDM reports what a device can do through its traits (its `type` must not be relied on for that),
and a missing trait means the feature is unavailable right now, so every trait here is optional.
The type only tells a thermostat that reports nothing at all (`"traits": {}` during an outage)
from a camera, so that it can be named as not reporting rather than overlooked.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from nest_skill import temperatures
from nest_skill.temperatures import Scale

_TRAIT = "sdm.devices.traits."
_THERMOSTAT_TYPE = "sdm.devices.types.THERMOSTAT"
_THERMOSTAT_TRAITS = ("ThermostatMode", "ThermostatTemperatureSetpoint", "ThermostatEco", "ThermostatHvac")
_STRUCTURE_INFO = "sdm.structures.traits.Info"
# Two differing words are the same word misheard at this difflib ratio or above ("rom"/"room",
# "leaving"/"living"); distinct room words stay below it ("dining"/"living" 0.67, "bedroom"/"bathroom" 0.67).
_WORD_CUTOFF = 0.75
_ORDINALS = {"first": 0, "1st": 0, "one": 0, "second": 1, "2nd": 1, "two": 1, "third": 2, "3rd": 2, "three": 2,
             "fourth": 3, "4th": 3, "four": 3, "fifth": 4, "5th": 4, "five": 4}


class Hvac(str, Enum):
    """SDM `ThermostatHvac.status`: what the equipment is doing right now, whatever the mode."""

    HEATING = "HEATING"
    COOLING = "COOLING"
    OFF = "OFF"


class Mode(str, Enum):
    """SDM `ThermostatMode.mode`, with eco (a separate SDM trait) folded in because it overrides it."""

    HEAT = "HEAT"
    COOL = "COOL"
    HEATCOOL = "HEATCOOL"
    OFF = "OFF"
    ECO = "MANUAL_ECO"
    UNKNOWN = "UNKNOWN"


STANDARD_MODES = (Mode.HEAT, Mode.COOL, Mode.HEATCOOL, Mode.OFF)
"""ThermostatMode's own modes (SetMode takes these); eco is a separate trait."""


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
    available_modes: Tuple[Mode, ...] = ()
    """`ThermostatMode.availableModes`; empty when the trait does not say."""
    reporting: bool = True
    """False when SDM lists the thermostat without any thermostat trait (an outage)."""
    structure: str = ""
    """`enterprises/{p}/structures/{s}` from the device's parentRelations, when given."""
    home: str = ""
    """The structure's customName, filled in only when the user's thermostats span several homes."""
    base_mode: Mode = Mode.UNKNOWN
    """`ThermostatMode.mode` under eco: the mode eco hands back to when it is turned off."""
    eco_heat_c: Optional[float] = None
    eco_cool_c: Optional[float] = None
    hvac: Optional[Hvac] = None
    """`ThermostatHvac.status`; None when the trait is missing."""
    humidity: Optional[float] = None
    """`Humidity.ambientHumidityPercent`."""
    fan: Optional[bool] = None
    """Whether the fan timer is on (`Fan.timerMode`); None when the thermostat has no Fan trait."""
    has_eco: bool = True
    """Whether SDM lists the ThermostatEco trait (from_sdm reads it; unknown counts as yes, like `can`)."""

    @classmethod
    def from_sdm(cls, device: Mapping[str, Any]) -> "Thermostat":
        traits = _traits(device)

        def trait(name: str) -> Mapping[str, Any]:
            value = traits.get(_TRAIT + name)
            return value if isinstance(value, Mapping) else {}

        custom_name = str(trait("Info").get("customName") or "").strip()
        relations = device.get("parentRelations")
        relations = [r for r in (relations if isinstance(relations, list) else []) if isinstance(r, Mapping)]
        room = next((name for name in (str(r.get("displayName") or "").strip() for r in relations) if name), "")
        parent = next((str(r.get("parent")) for r in relations if isinstance(r.get("parent"), str)), "")
        structure = parent.partition("/rooms/")[0] if "/structures/" in parent else ""
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
        try:
            base_mode = Mode(trait("ThermostatMode").get("mode"))
        except ValueError:
            base_mode = Mode.UNKNOWN
        try:
            hvac: Optional[Hvac] = Hvac(trait("ThermostatHvac").get("status"))
        except ValueError:
            hvac = None
        fan_trait = traits.get(_TRAIT + "Fan")
        listed = trait("ThermostatMode").get("availableModes")
        available = tuple(Mode(m) for m in (listed if isinstance(listed, list) else [])
                          if m in {standard.value for standard in STANDARD_MODES})
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
            available_modes=available,
            reporting=any(_TRAIT + t in traits for t in _THERMOSTAT_TRAITS),
            structure=structure,
            base_mode=base_mode,
            eco_heat_c=temperatures.finite(trait("ThermostatEco").get("heatCelsius")),
            eco_cool_c=temperatures.finite(trait("ThermostatEco").get("coolCelsius")),
            hvac=hvac,
            humidity=temperatures.finite(trait("Humidity").get("ambientHumidityPercent")),
            fan=fan_trait.get("timerMode") == "ON" if isinstance(fan_trait, Mapping) else None,
            has_eco=_TRAIT + "ThermostatEco" in traits,
        )

    def shown(self, celsius: Optional[float]) -> Optional[float]:
        """A Celsius reading as the Nest app shows it on this thermostat."""
        return temperatures.displayed(celsius, self.scale)

    def can(self, mode: Mode) -> bool:
        """Whether `mode` (HEAT, COOL, HEATCOOL, OFF) is in availableModes, unknown counting as yes;
        ECO whether the thermostat has the eco trait."""
        if mode is Mode.ECO:
            return self.has_eco
        return not self.available_modes or mode in self.available_modes

    def usable_setpoints(self, heat_c: Optional[float], cool_c: Optional[float]
                         ) -> Tuple[Optional[float], Optional[float]]:
        """(heat, cool) in Celsius, each None when the thermostat cannot use it: a heat-only
        thermostat in eco still reports an eco cool setpoint that nothing will ever act on."""
        heats = self.can(Mode.HEAT) or self.can(Mode.HEATCOOL)
        cools = self.can(Mode.COOL) or self.can(Mode.HEATCOOL)
        return (heat_c if heats else None), (cool_c if cools else None)


def thermostats_in(devices: Sequence[Mapping[str, Any]]) -> List[Thermostat]:
    """The thermostats among an SDM device list (cameras and doorbells share it)."""
    return [Thermostat.from_sdm(d) for d in devices
            if d.get("type") == _THERMOSTAT_TYPE or any(_TRAIT + t in _traits(d) for t in _THERMOSTAT_TRAITS)]


def structure_names(structures: Sequence[Mapping[str, Any]]) -> Mapping[str, str]:
    """`enterprises/{p}/structures/{s}` -> the home's customName (`sdm.structures.traits.Info`)."""
    names = {}
    for structure in structures:
        info = _traits(structure).get(_STRUCTURE_INFO)
        name = str(info.get("customName") or "").strip() if isinstance(info, Mapping) else ""
        if isinstance(structure.get("name"), str) and name:
            names[structure["name"]] = name
    return names


def _traits(device: Mapping[str, Any]) -> Mapping[str, Any]:
    traits = device.get("traits")
    return traits if isinstance(traits, Mapping) else {}


class Closeness(IntEnum):
    NONE = 0
    NEAR = 1
    """Possibly what was meant: a misheard word, or a name said in part. Never acted on unasked."""
    EXACT = 2


def _words(name: str) -> List[str]:
    """Lower-case words without "the ... thermostat"; apostrophes and a final s are dropped, so
    "Dad's Office", "dads office" and "Dad's Offices" compare equal."""
    words = re.sub(r"[^\w\s]", " ", name.lower().replace("'", "").replace("\u2019", "")).split()
    if words and words[0] == "the":
        words = words[1:]
    if words and words[-1] in ("thermostat", "thermostats"):
        words = words[:-1]
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def closeness(spoken: str, name: str) -> Closeness:
    """How closely `spoken` names `name`: the only place this is decided.

    EXACT ignores case, punctuation, a possessive 's, "the ... thermostat" and word breaks ("bed
    room" is "Bedroom"). NEAR is a name said in part ("upstairs" for "Upstairs Hallway") or the same
    words with some misheard ("living rom"): each differing word must be that close to its
    counterpart, so two different rooms that merely share a word ("Guest Bedroom", "Guest Bathroom")
    are NONE.
    """
    said, named = _words(spoken), _words(name)
    if not said or not named:
        return Closeness.NONE
    if "".join(said) == "".join(named):
        return Closeness.EXACT
    if set(said) < set(named):
        return Closeness.NEAR
    if len(said) == len(named) and all(
            a == b or difflib.SequenceMatcher(None, a, b).ratio() >= _WORD_CUTOFF for a, b in zip(said, named)):
        return Closeness.NEAR
    return Closeness.NONE


@dataclass(frozen=True)
class Match:
    """The thermostats a spoken name may mean: `exact` ones may be acted on (when there is one),
    `near` ones only confirmed."""

    exact: Tuple[Thermostat, ...]
    near: Tuple[Thermostat, ...]


def match(thermostats: Sequence[Thermostat], *spoken: str) -> Match:
    """Which thermostats the spoken forms (what was heard, then entity resolution's value) name.

    Only what was heard can match exactly, so a "Family Room" thermostat is found although the slot
    type resolves "family room" to its synonym "living room". A thermostat found only through the
    resolved value is near, never exact: the slot type's synonym ("master bedroom" → "bedroom") may
    not be what this home calls that room, so a command asks before it acts. Just "the thermostat"
    names the only one; it is also what a thermostat with neither room nor custom name is called.
    """
    forms = [s for s in spoken if _words(s)]
    if not forms:
        return Match(tuple(thermostats) if len(thermostats) == 1 else (), ())
    exact = tuple(t for t in thermostats if _best(forms[0], t) is Closeness.EXACT)
    if exact:
        return Match(exact, ())
    near = tuple(t for t in thermostats if any(_best(form, t) >= Closeness.NEAR for form in forms))
    return Match((), near)


def _best(spoken: str, thermostat: Thermostat) -> Closeness:
    names = thermostat.aliases or (thermostat.name,)
    return max(closeness(spoken, name) for name in names)


_AT_HOME = re.compile(r"^\s*(?:the one\s+)?(?:at|in)\s+", re.IGNORECASE)
"""How people answer "at Lake House, or at Home?": the question's own preposition comes back."""


def choose(candidates: Sequence[Thermostat], answer: str) -> Optional[Thermostat]:
    """The candidate an answer to "which one?" picks: an ordinal ("the first one", "second"), or a
    home or thermostat name that fits exactly one candidate ("lake house", "at Lake House", "the
    one at home")."""
    answer = _AT_HOME.sub("", answer)
    words = _words(answer)
    ordinal = len(candidates) - 1 if "last" in words else next((_ORDINALS[w] for w in words if w in _ORDINALS), None)
    if ordinal is not None and words and set(words) <= set(_ORDINALS) | {"last"}:
        return candidates[ordinal] if ordinal < len(candidates) else None
    for wanted in (Closeness.EXACT, Closeness.NEAR):
        fits = [t for t in candidates
                if any(closeness(answer, name) >= wanted for name in (t.home, *t.aliases) if name)]
        if len(fits) == 1:
            return fits[0]
        if fits:
            return None
    return None
