"""Everything the custom skill says, as plain text: the handlers escape it for SSML, cards show it as is.

The words come from the request's language catalog (catalog.py, messages/*.json: whole sentences
keyed by message id); this module decides which message fits the situation and fills in its
arguments: names as the user wrote them, numbers in the thermostat's own scale (SDM's
`Settings.temperatureScale`, as the Nest app shows them). `Speech.for_locale(locale)` speaks one
locale (English for a locale the skill has no catalog for); a language's catalog is read and parsed at
the first request in it, not at import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nest_skill import temperatures
from nest_skill.controls import (
    AlreadyInMode,
    BeyondLimit,
    CannotChange,
    Change,
    EcoOn,
    EcoWhileOff,
    FanAlreadyOff,
    ModeUnavailable,
    NoControls,
    NoFan,
    NotInEco,
    NotReporting,
    Offline,
    OutOfRange,
    RangeTooNarrow,
    TurnedOff,
)
from nest_skill.custom_skill import catalog
from nest_skill.sdm_errors import Failure
from nest_skill.thermostats import Hvac, Mode, Thermostat

_FAILURES = {
    Failure.RATE_LIMITED: "rate_limited",
    Failure.TIMED_OUT: "timed_out",
    Failure.INVALID: "rejected",
    Failure.PROJECT_UNAVAILABLE: "project_unavailable",
    Failure.CREDENTIALS_EXPIRED: "link_account",
    Failure.CREDENTIALS_INVALID: "link_account",
    Failure.NOT_SHARED: "no_access",
}
"""The message for each Failure that is not about one thermostat; the others name it (failure())."""

_RUNNING = {Hvac.HEATING: "heating", Hvac.COOLING: "cooling", Hvac.OFF: "idle"}
_ORDINALS = 5
"""How many thermostats a "which one?" question numbers ("the first" ... "the fifth")."""


class Speech:
    """What the skill says in one locale. The messages without arguments are its upper-case attributes
    (WELCOME), each the catalog's message of that name in lower case."""

    CARD_TITLE: str
    WELCOME: str
    WHAT_NEXT: str
    HELP: str
    WHICH_MODE: str
    WARMER_OR_COOLER: str
    FAN_ON_OR_OFF: str
    FALLBACK: str
    GOODBYE: str
    LINK_ACCOUNT: str
    NO_ACCESS: str
    NO_THERMOSTATS: str
    RATE_LIMITED: str
    TIMED_OUT: str
    UNAVAILABLE: str
    REJECTED: str
    PROJECT_UNAVAILABLE: str
    NOT_CHANGED: str
    NOTHING_TO_CONFIRM: str
    SOMETHING_WRONG: str
    WHICH_TEMPERATURE: str

    def __init__(self, words: catalog.Catalog) -> None:
        self._ = words
        for name in _FIXED:
            setattr(self, name, words(name.lower()))

    @classmethod
    def for_locale(cls, locale: str | None) -> Speech:
        return _for_catalog(catalog.for_locale(locale or ""))

    @property
    def language(self) -> str:
        return self._.language

    # --- names and lists ---------------------------------------------------------------------

    def the(self, thermostat: Thermostat) -> str:
        """How the thermostat is named aloud; with its home when the user has thermostats in several."""
        by_room = "yes" if thermostat.named_by_room else "no"
        if thermostat.home:
            return self._("thermostat_at_home", by_room=by_room, name=thermostat.name, home=thermostat.home)
        return self._("thermostat", by_room=by_room, name=thermostat.name)

    def listed(self, items: Sequence[str], conjunction: str) -> str:
        """ "a, b and c" (conjunction "and") or "a, b or c" ("or"), as the language lists."""
        if len(items) < 2:
            return items[0] if items else ""
        return self._(f"list_{conjunction}", items=self._("list_separator").join(items[:-1]), last=items[-1])

    def sentences(self, texts: Sequence[str]) -> str:
        """Whole sentences one after another, as the language writes them ("。" needs no space after it)."""
        return self._("sentence_separator").join(texts)

    def _setpoints(self, values: Sequence[float], scale: str) -> str:
        """ "20 and 24" in English, "20度と24度" in Japanese: each setpoint with its unit where the language
        puts it on every number rather than once after the list."""
        return self.listed([self._("setpoint", value=v, scale=scale) for v in values], "and")

    # --- readings ----------------------------------------------------------------------------

    def status(self, thermostats: Sequence[Thermostat]) -> str:
        return self.sentences([self._status_line(t) for t in thermostats]) if thermostats else self.NO_THERMOSTATS

    def _status_line(self, thermostat: Thermostat) -> str:
        subject = self.the(thermostat)
        if not thermostat.reporting:
            return self._("status_not_reporting", thermostat=subject)
        if not thermostat.online:
            return self._("status_offline", thermostat=subject)
        setpoints = tuple(
            thermostat.shown(c)
            for c in thermostat.usable_setpoints(thermostat.heat_c, thermostat.cool_c)
            if c is not None
        )
        setting = _setting(thermostat.mode, setpoints)
        running = (
            _RUNNING.get(thermostat.hvac) if thermostat.hvac is not None and thermostat.mode is not Mode.OFF else None
        )
        ambient = thermostat.shown(thermostat.ambient_c)
        args = dict(
            thermostat=subject, scale=thermostat.scale, running=running or "none", **_setpoint_args(setting, setpoints)
        )
        if setting == "other":
            return (
                self._("status_online", thermostat=subject)
                if ambient is None
                else self._("status_reading", thermostat=subject, temperature=ambient, scale=thermostat.scale)
            )
        if ambient is None:
            return self._("status_without_reading", **args)
        return self._("status", temperature=ambient, **args)

    def humidity(self, thermostats: Sequence[Thermostat]) -> str:
        """`Humidity.ambientHumidityPercent` in whole percent, one sentence per thermostat."""
        if not thermostats:
            return self.NO_THERMOSTATS
        lines = []
        for thermostat in thermostats:
            percent = thermostat.humidity  # reported exactly when the capability is (Capabilities.humidity)
            if not thermostat.reporting or percent is None:
                lines.append(self._("humidity_not_reported", thermostat=self.the(thermostat)))
            else:
                lines.append(self._("humidity", thermostat=self.the(thermostat), percent=int(percent + 0.5)))
        return self.sentences(lines)

    # --- changes -----------------------------------------------------------------------------

    def changed(self, change: Change) -> str:
        """The confirmation, with what the Nest app will show: setpoints in its scale, the mode, the fan."""
        subject = self.the(change.thermostat)
        if change.fan_seconds == 0:
            return self._("fan_off", thermostat=subject)
        if change.fan_seconds is not None:
            return self._(
                "fan_runs",
                thermostat=subject,
                duration=self._duration(change.fan_seconds),
                capped="yes" if change.capped else "no",
            )
        scale = change.thermostat.scale
        if change.eco_off:
            setting = _setting(change.mode, ())
            if setting == "other":
                return self._("eco_off_for", thermostat=subject)
            return self._("eco_off", thermostat=subject, setting=setting)  # a mode alone: no setpoint, no scale
        setting = _setting(change.mode, change.setpoints)
        return self._("changed", thermostat=subject, scale=scale, **_setpoint_args(setting, change.setpoints))

    def cannot_change(self, reason: CannotChange) -> str:
        thermostat = reason.thermostat
        subject, scale = self.the(thermostat), thermostat.scale
        simple = {
            NotReporting: "cannot_not_reporting",
            NoControls: "cannot_no_controls",
            Offline: "cannot_offline",
            TurnedOff: "cannot_turned_off",
            EcoOn: "cannot_eco_on",
            EcoWhileOff: "cannot_eco_while_off",
            NotInEco: "cannot_not_in_eco",
            FanAlreadyOff: "cannot_fan_already_off",
            NoFan: "cannot_no_fan",
        }
        for kind, key in simple.items():
            if isinstance(reason, kind):
                return self._(key, thermostat=subject)
        if isinstance(reason, ModeUnavailable):
            return self._("cannot_mode_unavailable", thermostat=subject, mode=reason.mode.name)
        if isinstance(reason, AlreadyInMode):
            return self._("cannot_already_in_mode", thermostat=subject, setting=_setting(reason.mode, ()))
        if isinstance(reason, BeyondLimit):
            side = "above" if reason.limit == reason.high else "below"
            return self._(
                "cannot_beyond_limit",
                thermostat=subject,
                side=side,
                limit=reason.limit,
                setpoints=self._setpoints(reason.setpoints, scale),
                scale=scale,
            )
        if isinstance(reason, OutOfRange):
            return self._("cannot_out_of_range", thermostat=subject, low=reason.low, high=reason.high, scale=scale)
        if isinstance(reason, RangeTooNarrow):
            return self._too_narrow(thermostat)
        return self._("cannot_no_setpoint", thermostat=subject)

    def unconfirmed(self, thermostat: Thermostat) -> str:
        """The command went out and its outcome is unknown (no answer before the deadline, or SDM's 500 or
        504 while carrying it out): it may or may not have been carried out."""
        return self._("unconfirmed", thermostat=self.the(thermostat))

    def failure(self, kind: Failure, thermostat: Thermostat | None = None) -> str:
        """What the user hears for an SDM failure (sdm_errors.classify), naming the thermostat when the
        failure is about the one being changed. A refusal the thermostat's state explains is worded as
        when the skill itself knew beforehand (cannot_change)."""
        if kind in _FAILURES:
            return self._(_FAILURES[kind])
        if thermostat is None:
            return self.UNAVAILABLE
        subject = self.the(thermostat)
        if kind is Failure.OFFLINE:
            return self._("cannot_offline", thermostat=subject)
        if kind is Failure.ECO_DISALLOWS:
            return self._("cannot_eco_on", thermostat=subject)
        if kind is Failure.MODE_DISALLOWS:
            return self._("failed_mode_disallows", thermostat=subject)
        if kind is Failure.REFUSED:
            return self._("failed_refused", thermostat=subject)
        if kind is Failure.OUT_OF_RANGE:
            low, high = temperatures.LIMITS[thermostat.scale]
            return self._("failed_out_of_range", thermostat=subject, low=low, high=high, scale=thermostat.scale)
        if kind is Failure.RANGE_TOO_NARROW:
            return self._too_narrow(thermostat)
        if kind is Failure.NOT_FOUND:
            return self.gone(thermostat)
        if kind is Failure.UNCONFIRMED:
            return self.unconfirmed(thermostat)
        return self.UNAVAILABLE

    def _too_narrow(self, thermostat: Thermostat) -> str:
        return self._(
            "cannot_range_too_narrow",
            thermostat=self.the(thermostat),
            span=temperatures.min_span(thermostat.scale),
            scale=thermostat.scale,
        )

    def gone(self, thermostat: Thermostat) -> str:
        return self._("gone", thermostat=self.the(thermostat))

    def _duration(self, seconds: int) -> str:
        """ "1 hour and 30 minutes", "1時間30分": the units present, each counted as the language counts
        (`hours`, `minutes`, `seconds`), put together by the `duration` message for that combination
        (`parts`: the units present, joined by "_")."""
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        units = {
            unit: self._(unit, count=n) for n, unit in ((hours, "hours"), (minutes, "minutes"), (secs, "seconds")) if n
        }
        return self._("duration", parts="_".join(units), **units)

    # --- questions ---------------------------------------------------------------------------

    def ask_which_of(self, candidates: Sequence[Thermostat]) -> tuple[str, str]:
        """Several thermostats fit the name: the same room in two homes ("the Living Room at Lake House,
        or at Home?"), or several near-misses."""
        names = {t.name for t in candidates}
        homes = [t.home for t in candidates]
        if len(names) == 1 and all(homes) and len(set(homes)) == len(homes):
            others = self.listed([self._("at_home", home=h) for h in homes[1:]], "or")
            question = self._("which_home", first=self.the(candidates[0]), others=others)
            return question, question
        spoken = [self.the(t) for t in candidates]
        choices = self.listed(spoken, "or")
        if len(set(spoken)) < len(candidates):
            ordinals = self.listed(
                [self._("ordinal", position=str(i + 1)) for i in range(min(len(candidates), _ORDINALS))], "or"
            )
            found = (
                self._("found_same_name", count=len(candidates), thermostat=spoken[0], ordinals=ordinals)
                if len(set(spoken)) == 1
                else self._("found_several", count=len(candidates), choices=choices, ordinals=ordinals)
            )
            return found, self._("which_one_ordinal", ordinals=ordinals)
        return self._("did_you_mean_one_of", choices=choices), self._("which_one", choices=choices)

    def confirm(self, thermostat: Thermostat) -> tuple[str, str]:
        subject = self.the(thermostat)
        return self._("did_you_mean", thermostat=subject), self._("did_you_mean_yes_or_no", thermostat=subject)

    def ask_which(self, thermostats: Sequence[Thermostat], temperature: float | None = None) -> tuple[str, str]:
        """No thermostat named, several listed: the question, naming the temperature when it is a set."""
        choices = self.listed([self.the(t) for t in thermostats], "or")
        asked = (
            self._("which_thermostat", choices=choices)
            if temperature is None
            else self._("which_thermostat_to_set", choices=choices, temperature=temperature)
        )
        return asked, self._("which_one", choices=choices)

    def not_found(self, spoken: str, thermostats: Sequence[Thermostat]) -> str:
        """No shared thermostat fits the name: the ones there are, and where a new one is shared
        (Google shares with the skill only the devices ticked on its Partner Connections page)."""
        return self._("not_found", spoken=spoken, names=self.listed([self.the(t) for t in thermostats], "and"))

    def share_thermostat(self, spoken: str) -> str:
        """The card's steps for sharing a thermostat added or replaced after the account was linked."""
        return self._("share_thermostat", spoken=spoken)

    def unknown_thermostat(self, spoken: str, thermostats: Sequence[Thermostat]) -> tuple[str, str]:
        question = self._("which_to_set", choices=self.listed([self.the(t) for t in thermostats], "or"))
        return self.sentences([self.not_found(spoken, thermostats), question]), question

    def ask_temperature(self, spoken_thermostat: str | None) -> tuple[str, str]:
        if spoken_thermostat:
            name = re.sub(r"^the\s+", "", spoken_thermostat.strip(), flags=re.IGNORECASE)
            return self._("what_temperature_for", name=name), self.WHICH_TEMPERATURE
        return self._("what_temperature"), self.WHICH_TEMPERATURE


def _setting(mode: Mode, setpoints: tuple[float, ...]) -> str:
    """The `setting` variant of a message for a mode and the setpoints it holds (none, one, or a range)."""
    if mode is Mode.OFF:
        return "off"
    kind = {Mode.ECO: "eco", Mode.HEATCOOL: "heatcool", Mode.HEAT: "heat", Mode.COOL: "cool"}.get(mode)
    if kind is None:
        return "other"
    if len(setpoints) == 2 and kind in ("eco", "heatcool"):
        return f"{kind}_between"
    if setpoints and kind != "heatcool":
        return f"{kind}_to"
    return kind


def _setpoint_args(setting: str, setpoints: tuple[float, ...]) -> dict[str, str | float]:
    """`setting` with the setpoints its variant reads: `target` for one, `low` and `high` for a range
    (a variant reads no other)."""
    args: dict[str, str | float] = {"setting": setting}
    if setting.endswith("_between"):
        args["low"], args["high"] = setpoints[0], setpoints[1]
    elif setting.endswith("_to"):
        args["target"] = setpoints[0]
    return args


_SPEECH: dict[int, Speech] = {}


def _for_catalog(words: catalog.Catalog) -> Speech:
    if id(words) not in _SPEECH:
        _SPEECH[id(words)] = Speech(words)
    return _SPEECH[id(words)]


_FIXED = tuple(name for name in Speech.__annotations__ if name.isupper())
"""The messages without arguments: Speech's upper-case attributes, in their order there."""
