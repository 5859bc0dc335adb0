"""Thermostats as the user knows them, read from SDM device and structure JSON, and the one place
that decides how closely a spoken name matches a thermostat.

SDM reports what a device can do through its traits (its `type` must not be relied on for that),
and a missing trait means the feature is unavailable right now, so every trait here is optional.
A trait's presence is not enough either: SDM lists `"sdm.devices.traits.Fan": {}` for a thermostat
without a fan. Capabilities.from_traits is the one place that decides what a thermostat can do or
report, each from the field SDM documents for it. The type only tells a thermostat that reports
nothing at all (`"traits": {}` during an outage) from a camera, so that it can be named as not
reporting rather than overlooked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any, overload

from nest_skill import temperatures
from nest_skill.temperatures import Scale

_TRAIT = "sdm.devices.traits."
_THERMOSTAT_TYPE = "sdm.devices.types.THERMOSTAT"
_THERMOSTAT_TRAITS = ("ThermostatMode", "ThermostatTemperatureSetpoint", "ThermostatEco", "ThermostatHvac")
_STRUCTURE_INFO = "sdm.structures.traits.Info"
# Two differing words are the same word misheard at this difflib ratio or above ("rom"/"room",
# "leaving"/"living"); distinct room words stay below it ("dining"/"living" 0.67, "bedroom"/"bathroom" 0.67).
_WORD_CUTOFF = 0.75
_ORDINAL_WORDS = (
    # English; German; French; Spanish; Italian (each form a "which one?" answer may take, articles dropped)
    (
        "first 1st one erste ersten erster erstes eins premier première premiere un une primero primera primer uno "
        "una primo prima"
    ),
    (
        "second 2nd two zweite zweiten zweiter zweites zwei deuxième deuxieme seconde segundo segunda dos secondo "
        "seconda due"
    ),
    (
        "third 3rd three dritte dritten dritter drittes drei troisième troisieme trois tercero tercera tres terzo "
        "terza tre"
    ),
    (
        "fourth 4th four vierte vierten vierter viertes vier quatrième quatrieme quatre cuarto cuarta cuatro quarto "
        "quarta quattro"
    ),
    "fifth 5th five fünfte fünften fünfter fünftes fünf cinquième cinquieme cinq quinto quinta cinco cinque",
)
_JAPANESE_ORDINALS = ("一", "二", "三", "四", "五")
_ORDINALS = {word: index for index, words in enumerate(_ORDINAL_WORDS) for word in words.split()}
# Japanese: 1番目, 一番目, 1つ目, 一つ目, ひとつ目 (with or without の, のやつ, の方, のほう after it), 最初
_ORDINALS.update(
    {
        f"{number}{suffix}{tail}": index
        for index, kanji in enumerate(_JAPANESE_ORDINALS)
        for number in (str(index + 1), kanji, chr(ord("１") + index))
        for suffix in ("番目", "つ目", "個目", "台目")
        for tail in ("", "の", "のやつ", "の方", "のほう", "です")
    }
)
_ORDINALS.update(
    {
        "最初": 0,
        "最初の": 0,
        "最初のやつ": 0,
        "最初の方": 0,
        "最初のほう": 0,
        "ひとつ目": 0,
        "ふたつ目": 1,
        "みっつ目": 2,
    }
)
_LAST_WORDS = frozenset(
    [
        "last",
        "letzte",
        "letzten",
        "letzter",
        "letztes",
        "dernier",
        "dernière",
        "derniere",
        "último",
        "última",
        "ultimo",
        "ultima",
        "最後",
        "最後の",
        "最後のやつ",
        "最後の方",
        "最後のほう",
    ]
)
_ARTICLES = frozenset(
    ["the", "der", "die", "das", "den", "dem", "le", "la", "les", "l", "el", "los", "las", "il", "lo", "gli", "i"]
)
"""Articles a spoken name may start with ("the bedroom", "das Wohnzimmer", "la cuisine", "el salón"),
dropped on both sides of a comparison."""
_THERMOSTAT_WORDS = frozenset(["thermostat", "thermostats", "thermostate", "thermostaten", "termostato", "termostati"])


class Hvac(StrEnum):
    """SDM `ThermostatHvac.status`: what the equipment is doing right now, whatever the mode."""

    HEATING = "HEATING"
    COOLING = "COOLING"
    OFF = "OFF"


class Mode(StrEnum):
    """SDM `ThermostatMode.mode`, with eco (a separate SDM trait) folded in because it overrides it."""

    HEAT = "HEAT"
    COOL = "COOL"
    HEATCOOL = "HEATCOOL"
    OFF = "OFF"
    ECO = "MANUAL_ECO"
    UNKNOWN = "UNKNOWN"


STANDARD_MODES = (Mode.HEAT, Mode.COOL, Mode.HEATCOOL, Mode.OFF)
"""ThermostatMode's own modes (SetMode takes these); eco is a separate trait."""
_FAN_TIMER_MODES = ("ON", "OFF")
_CONNECTIVITY = ("ONLINE", "OFFLINE")


@dataclass(frozen=True)
class Capabilities:
    """What a thermostat can do and report, each only when the field SDM documents for it says so
    (developers.google.com/nest/device-access/traits): a trait listed empty, or with values SDM does
    not document, gives nothing. As Home Assistant's nest integration does for the fan (offered
    only when `timerMode` is present)."""

    modes: tuple[Mode, ...] = ()
    """The standard modes in `ThermostatMode.availableModes` (SetMode takes these); unknown values are left out."""
    eco: bool = False
    """`ThermostatEco.availableModes` holds MANUAL_ECO: eco can be turned on."""
    fan: bool = False
    """`Fan.timerMode` is ON or OFF: the fan timer can be read and set."""
    temperature: bool = False
    """`Temperature.ambientTemperatureCelsius` is a number: the room temperature is reported."""
    humidity: bool = False
    """`Humidity.ambientHumidityPercent` is a number."""
    connectivity: bool = False
    """`Connectivity.status` is ONLINE or OFFLINE: whether the thermostat is online is known."""

    @property
    def dual_setpoints(self) -> bool:
        """HEATCOOL is available: a heat-cool range (SetRange) can be set."""
        return Mode.HEATCOOL in self.modes

    @property
    def controls(self) -> bool:
        """Anything that takes a command: a mode, eco or the fan. A thermostat without any only reports."""
        return bool(self.modes) or self.eco or self.fan

    @classmethod
    def from_traits(cls, traits: Mapping[str, Any]) -> Capabilities:
        def field(trait: str, name: str) -> Any:
            value = traits.get(_TRAIT + trait)
            return value.get(name) if isinstance(value, Mapping) else None

        listed = field("ThermostatMode", "availableModes")
        listed = listed if isinstance(listed, list) else []
        eco_modes = field("ThermostatEco", "availableModes")
        return cls(
            modes=tuple(m for m in STANDARD_MODES if m.value in listed),
            eco=isinstance(eco_modes, list) and Mode.ECO.value in eco_modes,
            fan=field("Fan", "timerMode") in _FAN_TIMER_MODES,
            temperature=temperatures.finite(field("Temperature", "ambientTemperatureCelsius")) is not None,
            humidity=temperatures.finite(field("Humidity", "ambientHumidityPercent")) is not None,
            connectivity=field("Connectivity", "status") in _CONNECTIVITY,
        )


@dataclass(frozen=True)
class Thermostat:
    device_name: str
    name: str
    """customName when the user set one, else the room: what the Nest app shows."""
    named_by_room: bool
    aliases: tuple[str, ...]
    """Every name the user may say: the room and the custom name."""
    scale: Scale
    online: bool
    mode: Mode
    ambient_c: float | None
    heat_c: float | None
    """In eco mode these are the eco setpoints: SDM returns no others then."""
    cool_c: float | None
    capabilities: Capabilities = Capabilities()
    """What it can do and report (Capabilities.from_traits)."""
    reporting: bool = True
    """False when SDM lists the thermostat with nothing it can do or report (an outage)."""
    structure: str = ""
    """`enterprises/{p}/structures/{s}` from the device's parentRelations, when given."""
    home: str = ""
    """The structure's customName, filled in only when the user's thermostats span several homes."""
    base_mode: Mode = Mode.UNKNOWN
    """`ThermostatMode.mode` under eco: the mode eco hands back to when it is turned off."""
    eco_heat_c: float | None = None
    eco_cool_c: float | None = None
    hvac: Hvac | None = None
    """`ThermostatHvac.status`; None when the trait is missing."""
    humidity: float | None = None
    """`Humidity.ambientHumidityPercent`."""
    fan: bool | None = None
    """Whether the fan timer is on (`Fan.timerMode`); None without the fan capability."""

    @classmethod
    def from_sdm(cls, device: Mapping[str, Any]) -> Thermostat:
        traits = _traits(device)

        def trait(name: str) -> Mapping[str, Any]:
            value = traits.get(_TRAIT + name)
            return value if isinstance(value, Mapping) else {}

        custom_name = clean_name(trait("Info").get("customName"))
        relations = device.get("parentRelations")
        relations = [r for r in (relations if isinstance(relations, list) else []) if isinstance(r, Mapping)]
        room = next((name for name in (clean_name(r.get("displayName")) for r in relations) if name), "")
        parent = next((str(r.get("parent")) for r in relations if isinstance(r.get("parent"), str)), "")
        structure = parent.partition("/rooms/")[0] if "/structures/" in parent else ""
        eco = trait("ThermostatEco").get("mode") == Mode.ECO.value
        setpoints = trait("ThermostatEco") if eco else trait("ThermostatTemperatureSetpoint")
        try:
            scale = Scale(str(trait("Settings").get("temperatureScale")))
        except ValueError:
            scale = Scale.CELSIUS
        try:
            mode = Mode.ECO if eco else Mode(str(trait("ThermostatMode").get("mode")))
        except ValueError:
            mode = Mode.UNKNOWN
        try:
            base_mode = Mode(str(trait("ThermostatMode").get("mode")))
        except ValueError:
            base_mode = Mode.UNKNOWN
        try:
            hvac: Hvac | None = Hvac(str(trait("ThermostatHvac").get("status")))
        except ValueError:
            hvac = None
        capabilities = Capabilities.from_traits(traits)
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
            capabilities=capabilities,
            reporting=any(_TRAIT + t in traits for t in _THERMOSTAT_TRAITS)
            or capabilities.temperature
            or capabilities.humidity
            or capabilities.connectivity
            or capabilities.fan,
            structure=structure,
            base_mode=base_mode,
            eco_heat_c=temperatures.finite(trait("ThermostatEco").get("heatCelsius")),
            eco_cool_c=temperatures.finite(trait("ThermostatEco").get("coolCelsius")),
            hvac=hvac,
            humidity=temperatures.finite(trait("Humidity").get("ambientHumidityPercent")),
            fan=trait("Fan").get("timerMode") == "ON" if capabilities.fan else None,
        )

    @overload
    def shown(self, celsius: float) -> float: ...
    @overload
    def shown(self, celsius: None) -> None: ...
    @overload
    def shown(self, celsius: float | None) -> float | None: ...
    def shown(self, celsius: float | None) -> float | None:
        """A Celsius reading as the Nest app shows it on this thermostat (None: none reported)."""
        return temperatures.displayed(celsius, self.scale)

    def can(self, mode: Mode) -> bool:
        """Whether the thermostat can be switched to `mode`: HEAT, COOL, HEATCOOL, OFF when listed in
        `ThermostatMode.availableModes`, ECO when `ThermostatEco.availableModes` lists MANUAL_ECO."""
        if mode is Mode.ECO:
            return self.capabilities.eco
        return mode in self.capabilities.modes

    def usable_setpoints(self, heat_c: float | None, cool_c: float | None) -> tuple[float | None, float | None]:
        """(heat, cool) in Celsius, each None when the thermostat cannot use it: a heat-only
        thermostat in eco still reports an eco cool setpoint that nothing will ever act on."""
        modes = set(self.capabilities.modes) or {self.base_mode}
        heats = bool(modes & {Mode.HEAT, Mode.HEATCOOL})
        cools = bool(modes & {Mode.COOL, Mode.HEATCOOL})
        return (heat_c if heats else None), (cool_c if cools else None)


def thermostats_in(devices: Sequence[Mapping[str, Any]]) -> list[Thermostat]:
    """The thermostats among an SDM device list (cameras and doorbells share it)."""
    return [
        Thermostat.from_sdm(d)
        for d in devices
        if d.get("type") == _THERMOSTAT_TYPE or any(_TRAIT + t in _traits(d) for t in _THERMOSTAT_TRAITS)
    ]


def structure_names(structures: Sequence[Mapping[str, Any]]) -> Mapping[str, str]:
    """`enterprises/{p}/structures/{s}` -> the home's customName (`sdm.structures.traits.Info`)."""
    names = {}
    for structure in structures:
        info = _traits(structure).get(_STRUCTURE_INFO)
        name = clean_name(info.get("customName")) if isinstance(info, Mapping) else ""
        if isinstance(structure.get("name"), str) and name:
            names[structure["name"]] = name
    return names


NAME_MAX_CHARS = 128
"""The longest name kept: Alexa's endpoint object takes a friendlyName (and a description, which
names the home) of 1 to 128 characters (Amazon's Smart Home message schema; the discovery objects
page allows 256 for friendlyName)."""
_BREAKS = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories that are no text anyone reads or says, and so stand between words: controls (NUL,
BEL, tab, newline), lone surrogates, private-use and unassigned code points (U+FFFE), line and paragraph
separators. XML 1.0 forbids most of them: SSML holding one does not parse."""
_INVISIBLE = "Cf"
"""Format characters (a soft hyphen, a zero-width joiner, a bidi override): dropped, joining what they split."""


def readable(text: str) -> str:
    """`text` as words anyone can read: each character of a _BREAKS category becomes a space, format
    characters go, runs of white space become one space, and the ends are trimmed. The one cleaning of
    text from outside, for the names both front doors show and for all speech."""
    kept = "".join(
        " " if category in _BREAKS else "" if category == _INVISIBLE else c
        for c, category in ((c, unicodedata.category(c)) for c in text)
    )
    return " ".join(kept.split())


def clean_name(value: Any) -> str:
    """A name from SDM (a device's Info.customName, a room's displayName, a structure's Info.customName)
    as Alexa and the user may have it: readable, at most NAME_MAX_CHARS (cut at a word when one ends in
    the second half), "" when nothing readable is left: the caller falls back to the next name."""
    name = readable(value) if isinstance(value, str) else ""
    if len(name) <= NAME_MAX_CHARS:
        return name
    cut = name[: NAME_MAX_CHARS + 1].rfind(" ")
    return name[: cut if cut > NAME_MAX_CHARS // 2 else NAME_MAX_CHARS].rstrip()


def _traits(device: Mapping[str, Any]) -> Mapping[str, Any]:
    traits = device.get("traits")
    return traits if isinstance(traits, Mapping) else {}


class Closeness(IntEnum):
    NONE = 0
    NEAR = 1
    """Possibly what was meant: a misheard word, or a name said in part. Never acted on unasked."""
    EXACT = 2


def _words(name: str) -> list[str]:
    """Lower-case words without "the ... thermostat" (or its German, French, Spanish or Italian article,
    and "Thermostat", "termostato"); apostrophes and a final s are dropped, so
    "Dad's Office", "dads office" and "Dad's Offices" compare equal."""
    words = re.sub(r"[^\w\s]", " ", name.lower().replace("'", "").replace("\u2019", "")).split()
    if words and words[-1] in _THERMOSTAT_WORDS:
        words = words[:-1]
    if words and (words[0] == "the" or (len(words) > 1 and words[0] in _ARTICLES)):
        words = words[1:]
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
    if len(said) == len(named) and all(a == b or _misheard(a, b) for a, b in zip(said, named, strict=True)):
        return Closeness.NEAR
    return Closeness.NONE


def _misheard(said: str, named: str) -> bool:
    """Whether two differing words are one word misheard (difflib's ratio, _WORD_CUTOFF). difflib loads at
    the first such comparison, not at import: many requests never make one (one thermostat, a directive)."""
    from difflib import SequenceMatcher

    return SequenceMatcher(None, said, named).ratio() >= _WORD_CUTOFF


@dataclass(frozen=True)
class Match:
    """The thermostats a spoken name may mean: `exact` ones may be acted on (when there is one),
    `near` ones only confirmed."""

    exact: tuple[Thermostat, ...]
    near: tuple[Thermostat, ...]


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


_AT_HOME = (
    r"(?i)^\s*(?:the one\s+|das\s+|der\s+|celui\s+|celle\s+|el\s+|la\s+|quello\s+"
    r"|quella\s+)?(?:at|in|im|à|a|au|chez|de|en|del|nel|nella|della)\s+"
)
"""How people answer "at Lake House, or at Home?" ("in Seehaus", "à la maison", "en la casa", "nella casa"):
the question's own preposition comes back. Patterns here are compiled by `re` at their first use (and
kept in its cache): only an answer to "which one?" needs these."""
_JAPANESE_HOME = r"(?:の方|のほう|のやつ|の)$"
"""A Japanese answer to "湖の家のリビングですか、それとも自宅のほうですか？": "自宅のほう", "自宅の"."""


def choose(candidates: Sequence[Thermostat], answer: str) -> Thermostat | None:
    """The candidate an answer to "which one?" picks: an ordinal ("the first one", "second"), or a
    home or thermostat name that fits exactly one candidate ("lake house", "at Lake House", "the
    one at home")."""
    words = _words(answer)
    last = bool(_LAST_WORDS & set(words))
    ordinal = len(candidates) - 1 if last else next((_ORDINALS[w] for w in words if w in _ORDINALS), None)
    if ordinal is not None and words and set(words) <= set(_ORDINALS) | _LAST_WORDS:
        return candidates[ordinal] if ordinal < len(candidates) else None
    answer = re.sub(_JAPANESE_HOME, "", re.sub(_AT_HOME, "", answer))
    for wanted in (Closeness.EXACT, Closeness.NEAR):
        fits = [
            t for t in candidates if any(closeness(answer, name) >= wanted for name in (t.home, *t.aliases) if name)
        ]
        if len(fits) == 1:
            return fits[0]
        if fits:
            return None
    return None
