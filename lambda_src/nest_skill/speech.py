"""Everything the skill says, as plain text: the handlers escape it for SSML, cards show it as is."""

from __future__ import annotations

import re
from typing import Optional, Sequence, Tuple

from nest_skill.controls import CannotChange, Change, EcoOn, NotReporting, Offline, OutOfRange, TurnedOff
from nest_skill.thermostats import Mode, Thermostat

CARD_TITLE = "Nest thermostats"

WELCOME = ("Welcome to Home Thermostat. You can ask for the status, or say, set the living room to 70. "
           "What would you like?")
WHAT_NEXT = "You can ask for the status, or tell me a temperature to set."
HELP = ("I can tell you what your Nest thermostats are doing, or set one, for example: set the living room to 70. "
        "What would you like?")
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
    return f"OK, {_the(change.thermostat)} is {_mode_clause(change.mode, change.setpoints)}."


def cannot_change(reason: CannotChange) -> str:
    subject = _capitalized(_the(reason.thermostat))
    if isinstance(reason, NotReporting):
        return f"{subject} isn't reporting to Nest right now, so I couldn't change it. Please try again later."
    if isinstance(reason, Offline):
        return _offline(reason.thermostat)
    if isinstance(reason, TurnedOff):
        return f"{subject} is turned off, so I didn't change it. Choose heat or cool in the Nest app first."
    if isinstance(reason, EcoOn):
        return _eco_on(reason.thermostat)
    if isinstance(reason, OutOfRange):
        return (f"{subject} can be set between {_n(reason.low)} and {_n(reason.high)} degrees. "
                "What temperature would you like?")
    return f"{subject} isn't in a mode I can set, so I didn't change it."


def refused(thermostat: Thermostat, detail: str) -> str:
    """SDM's FAILED_PRECONDITION: its message says whether eco, being offline or the mode was in the way."""
    words = set(re.split(r"[^A-Z]+", detail.upper()))
    if "ECO" in words:
        return _eco_on(thermostat)
    if "OFFLINE" in words:
        return _offline(thermostat)
    return (f"{_capitalized(_the(thermostat))} isn't in a mode that allows that right now, so nothing changed. "
            "Check its mode in the Nest app.")


def _eco_on(thermostat: Thermostat) -> str:
    return (f"{_capitalized(_the(thermostat))} is in eco mode, so I didn't change it. "
            "Turn off eco in the Nest app first.")


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
    if len(set(_the(t) for t in candidates)) < len(candidates):
        question = f"I found {len(candidates)} called {_the(candidates[0])}. Which one: the first or the second?"
        return question, "Which one: the first or the second?"
    return f"Did you mean {choices}?", f"Which one: {choices}?"


def confirm(thermostat: Thermostat) -> Tuple[str, str]:
    question = f"Did you mean {_the(thermostat)}?"
    return question, f"{question} Please say yes or no."


def ask_which(thermostats: Sequence[Thermostat], temperature: float) -> Tuple[str, str]:
    choices = _listed([_the(t) for t in thermostats], "or")
    return f"Which thermostat should I set to {_n(temperature)}: {choices}?", f"Which one: {choices}?"


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
    setpoints = tuple(thermostat.shown(c) for c in thermostat.usable_setpoints() if c is not None)
    clause = _mode_clause(thermostat.mode, setpoints)
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


def _the(thermostat: Thermostat) -> str:
    """How the thermostat is named aloud; with its home when the user has thermostats in several."""
    name = f"the {thermostat.name}" if thermostat.named_by_room else thermostat.name
    return f"{name} at {thermostat.home}" if thermostat.home else name


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _listed(items: Sequence[str], conjunction: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
