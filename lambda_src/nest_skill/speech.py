"""Everything the skill says, as plain text: the handlers escape it for SSML, cards show it as is."""

from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

from nest_skill import temperatures
from nest_skill.controls import (AlreadyInMode, BeyondLimit, CannotChange, Change, EcoOn, EcoWhileOff,
                                 FanAlreadyOff, ModeUnavailable, NoControls, NoFan, NotInEco, NotReporting, Offline,
                                 OutOfRange, RangeTooNarrow, TurnedOff)
from nest_skill.sdm_errors import Failure
from nest_skill.thermostats import Hvac, Mode, Thermostat

CARD_TITLE = "Nest thermostats"

WELCOME = ("Welcome to Home Thermostat. You can ask for the status, or say, set the living room to 70. "
           "What would you like?")
WHAT_NEXT = "You can ask for the status, or tell me a temperature to set."
HELP = ("I can tell you what your Nest thermostats are doing, or set one, for example: set the living room to 70. "
        "I can also switch a thermostat to heat, cool, heat and cool, eco or off, make it warmer or cooler, "
        "tell you the humidity, and run the fan. What would you like?")
WHICH_MODE = "Which mode: heat, cool, heat and cool, eco, or off?"
WARMER_OR_COOLER = "Warmer or cooler?"
FAN_ON_OR_OFF = "Should I turn the fan on or off?"
FALLBACK = "Sorry, I can't help with that. " + WHAT_NEXT
GOODBYE = "Goodbye."

LINK_ACCOUNT = ("To control your thermostats, please link your Nest account in the Alexa app. "
                "I've sent a card there to get you started.")
NO_ACCESS = ("Your linked Nest account doesn't give me access to that thermostat. To share it, link your account "
             "again in the Alexa app. I've sent a card there.")
NO_THERMOSTATS = ("I couldn't find any thermostats on your linked Nest account. To share them, link your account "
                  "again in the Alexa app.")
RATE_LIMITED = "Nest is limiting requests right now. Please try again in a minute."
TIMED_OUT = "Sorry, Nest didn't answer in time. Please try again in a moment."
UNAVAILABLE = "Sorry, I couldn't reach Nest just now. Please try again later."
REJECTED = "Sorry, Nest didn't accept that change."
PROJECT_UNAVAILABLE = "Sorry, Nest isn't available to this skill right now. Please try again later."
NOT_CHANGED = "OK, I didn't change anything."
NOTHING_TO_CONFIRM = "Sorry, I wasn't waiting for a yes or no. " + WHAT_NEXT
SOMETHING_WRONG = "Sorry, something went wrong. Please try again."
WHICH_TEMPERATURE = "What temperature?"


def status(thermostats: Sequence[Thermostat]) -> str:
    return " ".join(_status_line(t) for t in thermostats) if thermostats else NO_THERMOSTATS


def changed(change: Change) -> str:
    """The confirmation, with what the Nest app will show: setpoints in its scale, the mode, the fan."""
    subject = _the(change.thermostat)
    if change.fan_seconds == 0:
        return f"OK, the fan of {subject} is off."
    if change.fan_seconds is not None:
        longest = ", the longest Nest allows" if change.capped else ""
        return f"OK, the fan of {subject} will run for {_duration(change.fan_seconds)}{longest}."
    if change.eco_off:
        clause = _mode_clause(change.mode, ())
        return f"OK, eco is off. {_capitalized(subject)} is {clause}." if clause else f"OK, eco is off for {subject}."
    return f"OK, {subject} is {_mode_clause(change.mode, change.setpoints)}."


def cannot_change(reason: CannotChange) -> str:
    subject = _capitalized(_the(reason.thermostat))
    if isinstance(reason, NotReporting):
        return f"{subject} isn't reporting to Nest right now, so I couldn't change it. Please try again later."
    if isinstance(reason, NoControls):
        return _no_controls(reason.thermostat)
    if isinstance(reason, Offline):
        return _offline(reason.thermostat)
    if isinstance(reason, TurnedOff):
        return f"{subject} is turned off, so I didn't change it. Switch it to heat or cool first."
    if isinstance(reason, EcoOn):
        return _eco_on(reason.thermostat)
    if isinstance(reason, ModeUnavailable):
        return f"{subject} can't be set to {_MODE_NAMES[reason.mode]}, so I didn't change it."
    if isinstance(reason, EcoWhileOff):
        return (f"{subject} is turned off, and Nest can't turn on eco while it's off. "
                "Switch it to heat or cool first.")
    if isinstance(reason, AlreadyInMode):
        return f"{subject} is already {_mode_clause(reason.mode, ())}."
    if isinstance(reason, NotInEco):
        return f"{subject} isn't in eco mode."
    if isinstance(reason, FanAlreadyOff):
        return f"The fan of {_the(reason.thermostat)} is already off."
    if isinstance(reason, NoFan):
        return f"{subject} has no fan that Nest can control."
    if isinstance(reason, BeyondLimit):
        at = _listed([_n(v) for v in reason.setpoints], "and")
        side = "above" if reason.limit == reason.high else "below"
        return (f"{subject} can't go {side} {_n(reason.limit)} degrees, so I didn't change it. "
                f"It's set to {at}.")
    if isinstance(reason, OutOfRange):
        return (f"{subject} can be set between {_n(reason.low)} and {_n(reason.high)} degrees. "
                "What temperature would you like?")
    if isinstance(reason, RangeTooNarrow):
        return _too_narrow(reason.thermostat)
    return f"{subject} isn't in a mode I can set, so I didn't change it."


def unconfirmed(thermostat: Thermostat) -> str:
    """The command went out but its answer did not come back in time: it may have been carried out."""
    return (f"Nest didn't confirm the change to {_the(thermostat)} in time, so it may or may not have "
            f"been made. Ask me for the status in a moment.")


_FAILURES = {
    Failure.RATE_LIMITED: RATE_LIMITED, Failure.TIMED_OUT: TIMED_OUT, Failure.INVALID: REJECTED,
    Failure.PROJECT_UNAVAILABLE: PROJECT_UNAVAILABLE, Failure.CREDENTIALS_EXPIRED: LINK_ACCOUNT,
    Failure.CREDENTIALS_INVALID: LINK_ACCOUNT, Failure.NOT_SHARED: NO_ACCESS,
}
"""What each Failure that is not about one thermostat says; the others name it (failure())."""


def failure(kind: Failure, thermostat: Optional[Thermostat] = None) -> str:
    """What the user hears for an SDM failure (sdm_errors.classify), naming the thermostat when the
    failure is about the one being changed. A refusal the thermostat's state explains is worded as
    when the skill itself knew beforehand (cannot_change)."""
    if kind in _FAILURES:
        return _FAILURES[kind]
    if thermostat is None:
        return UNAVAILABLE
    subject = _capitalized(_the(thermostat))
    if kind is Failure.OFFLINE:
        return _offline(thermostat)
    if kind is Failure.ECO_DISALLOWS:
        return _eco_on(thermostat)
    if kind is Failure.MODE_DISALLOWS:
        return (f"{subject} isn't in a mode that allows that right now, so nothing changed. "
                "Check its mode in the Nest app.")
    if kind is Failure.REFUSED:
        return f"Nest refused that change to {_the(thermostat)} just now, so nothing changed. Check it in the Nest app."
    if kind is Failure.OUT_OF_RANGE:
        low, high = temperatures.LIMITS[thermostat.scale]
        return f"{subject} can be set between {_n(low)} and {_n(high)} degrees, so nothing changed."
    if kind is Failure.RANGE_TOO_NARROW:
        return _too_narrow(thermostat)
    if kind is Failure.NOT_FOUND:
        return gone(thermostat)
    if kind is Failure.UNCONFIRMED:
        return unconfirmed(thermostat)
    return UNAVAILABLE


def _too_narrow(thermostat: Thermostat) -> str:
    return (f"Nest needs the heat and cool setpoints of {_the(thermostat)} at least "
            f"{_n(temperatures.min_span(thermostat.scale))} degrees apart, so nothing changed.")


def _no_controls(thermostat: Thermostat) -> str:
    return f"{_capitalized(_the(thermostat))} only reports its readings to Nest, so I can't change it."


def _eco_on(thermostat: Thermostat) -> str:
    return (f"{_capitalized(_the(thermostat))} is in eco mode, so I didn't change it. "
            "Say, turn off eco, first.")


def _offline(thermostat: Thermostat) -> str:
    return f"{_capitalized(_the(thermostat))} is offline, so I couldn't change it."


def gone(thermostat: Thermostat) -> str:
    return f"I couldn't find {_the(thermostat)} on your Nest account any more. It may have been removed."


def ask_which_of(candidates: Sequence[Thermostat]) -> Tuple[str, str]:
    """Several thermostats fit the name: the same room in two homes ("the Living Room at Lake House,
    or at Home?"), or several near-misses."""
    names = {t.name for t in candidates}
    homes = [t.home for t in candidates]
    if len(names) == 1 and all(homes) and len(set(homes)) == len(homes):
        first = _the(candidates[0])
        question = f"Which one: {first}, or {_listed([f'at {h}' for h in homes[1:]], 'or')}?"
        return question, question
    choices = _listed([_the(t) for t in candidates], "or")
    spoken_names = set(_the(t) for t in candidates)
    if len(spoken_names) < len(candidates):
        order = _listed([f"the {_ORDINAL_WORDS[i]}" for i in range(min(len(candidates), len(_ORDINAL_WORDS)))], "or")
        found = (f"I found {len(candidates)} called {_the(candidates[0])}." if len(spoken_names) == 1 else
                 f"I found {len(candidates)} that could be it: {choices}.")
        return f"{found} Which one: {order}?", f"Which one: {order}?"
    return f"Did you mean {choices}?", f"Which one: {choices}?"


def confirm(thermostat: Thermostat) -> Tuple[str, str]:
    question = f"Did you mean {_the(thermostat)}?"
    return question, f"{question} Please say yes or no."


def ask_which(thermostats: Sequence[Thermostat], temperature: Optional[float] = None) -> Tuple[str, str]:
    """No thermostat named, several listed: the question, naming the temperature when it is a set."""
    choices = _listed([_the(t) for t in thermostats], "or")
    asked = "Which thermostat" if temperature is None else f"Which thermostat should I set to {_n(temperature)}"
    return f"{asked}: {choices}?", f"Which one: {choices}?"


def not_found(spoken: str, thermostats: Sequence[Thermostat]) -> str:
    names = _listed([_the(t) for t in thermostats], "and")
    return f"I couldn't find a thermostat called {spoken}. Your thermostats are {names}."


def unknown_thermostat(spoken: str, thermostats: Sequence[Thermostat]) -> Tuple[str, str]:
    question = f"Which one should I set: {_listed([_the(t) for t in thermostats], 'or')}?"
    return f"{not_found(spoken, thermostats)} {question}", question


def ask_temperature(spoken_thermostat: Optional[str]) -> Tuple[str, str]:
    if spoken_thermostat:
        name = re.sub(r"^the\s+", "", spoken_thermostat.strip(), flags=re.IGNORECASE)
        return f"What temperature should I set the {name} to?", WHICH_TEMPERATURE
    return "What temperature would you like?", WHICH_TEMPERATURE


def _status_line(thermostat: Thermostat) -> str:
    subject = _capitalized(_the(thermostat))
    if not thermostat.reporting:
        return f"{subject} isn't reporting to Nest right now."
    if not thermostat.online:
        return f"{subject} is offline."
    setpoints = tuple(thermostat.shown(c) for c in thermostat.usable_setpoints(thermostat.heat_c, thermostat.cool_c)
                      if c is not None)
    clause = _mode_clause(thermostat.mode, setpoints)
    running = _RUNNING.get(thermostat.hvac) if thermostat.hvac is not None and thermostat.mode is not Mode.OFF else None
    if clause and running:
        clause = f"{clause}, {running}"
    ambient = thermostat.shown(thermostat.ambient_c)
    if ambient is None:
        return f"{subject} is {clause}." if clause else f"{subject} is online."
    return f"{subject} is {_n(ambient)} degrees, {clause}." if clause else f"{subject} is {_n(ambient)} degrees."


def _mode_clause(mode: Mode, setpoints: Tuple[float, ...]) -> str:
    between = f"between {_n(setpoints[0])} and {_n(setpoints[1])}" if len(setpoints) == 2 else ""
    if mode is Mode.OFF:
        return "turned off"
    if mode is Mode.ECO:
        if between:
            return f"in eco mode, {between}"
        return f"in eco mode at {_n(setpoints[0])}" if setpoints else "in eco mode"
    if mode is Mode.HEATCOOL:
        return f"set to heat-cool {between}" if between else "set to heat-cool"
    if mode is Mode.HEAT:
        return f"heating to {_n(setpoints[0])}" if setpoints else "set to heat"
    if mode is Mode.COOL:
        return f"cooling to {_n(setpoints[0])}" if setpoints else "set to cool"
    return ""


_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth")
_MODE_NAMES = {Mode.HEAT: "heat", Mode.COOL: "cool", Mode.HEATCOOL: "heat and cool", Mode.OFF: "off",
               Mode.ECO: "eco"}
_RUNNING = {Hvac.HEATING: "and heating right now", Hvac.COOLING: "and cooling right now",
            Hvac.OFF: "not running right now"}


def humidity(thermostats: Sequence[Thermostat]) -> str:
    """`Humidity.ambientHumidityPercent` in whole percent, one sentence per thermostat."""
    if not thermostats:
        return NO_THERMOSTATS
    lines = []
    for thermostat in thermostats:
        subject = _capitalized(_the(thermostat))
        if not thermostat.reporting or not thermostat.capabilities.humidity:
            lines.append(f"{subject} isn't reporting humidity right now.")
        else:
            lines.append(f"The humidity at {_the(thermostat)} is {int(thermostat.humidity + 0.5)} percent.")
    return " ".join(lines)


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((hours, "hour"), (minutes, "minute"),
                                                                   (secs, "second")) if n]
    return _listed(parts, "and")


def _the(thermostat: Thermostat) -> str:
    """How the thermostat is named aloud; with its home when the user has thermostats in several."""
    name = f"the {thermostat.name}" if thermostat.named_by_room else thermostat.name
    return f"{name} at {thermostat.home}" if thermostat.home else name


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _n(value: float) -> str:
    return f"{value:g}"


def _listed(items: Sequence[str], conjunction: str) -> str:
    if len(items) < 2:
        return items[0] if items else ""
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
