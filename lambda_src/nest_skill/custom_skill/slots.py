"""What Alexa heard in the custom skill's slots, as values the handlers can act on: None (or nothing)
when a slot is missing or Alexa did not recognize it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils.request_util import get_slot

from nest_skill.temperatures import finite

if TYPE_CHECKING:
    from ask_sdk_model import Slot
    from ask_sdk_model.slu.entityresolution import Value


def thermostat_names(handler_input: HandlerInput) -> tuple[str, ...]:
    """The thermostat slot as heard, then as entity resolution matched it to the ROOM type (if it did):
    the user's room may be named like one of the type's synonyms rather than its canonical value."""
    slot = get_slot(handler_input, "thermostat")
    if slot is None or not slot.value:
        return ()
    resolved = [value.name for value in _matched(slot) if value.name]
    return tuple(dict.fromkeys([slot.value, *resolved]))


def number(handler_input: HandlerInput, name: str) -> float | None:
    """AMAZON.NUMBER's value; None when missing or unrecognized (Alexa sends "?")."""
    slot = get_slot(handler_input, name)
    try:
        return finite(float(slot.value)) if slot is not None and slot.value else None
    except ValueError:
        return None


def resolved_id(handler_input: HandlerInput, name: str) -> str | None:
    """The id entity resolution matched a custom-type slot to: what was heard may differ ("auto"
    resolves to HEATCOOL)."""
    return next((value.id for value in _matched(get_slot(handler_input, name)) if value.id), None)


def _matched(slot: Slot | None) -> list[Value]:
    """The values entity resolution matched `slot` to (status ER_SUCCESS_MATCH), authority by authority.
    The SDK loads its entity-resolution model to read a slot with resolutions; a request without any
    (a launch, "what's the temperature?") never loads it."""
    resolutions = (slot.resolutions.resolutions_per_authority or []) if slot and slot.resolutions else []
    if not resolutions:
        return []
    from ask_sdk_model.slu.entityresolution import StatusCode

    return [
        value.value
        for r in resolutions
        if r.status and r.status.code == StatusCode.ER_SUCCESS_MATCH
        for value in r.values or []
        if value.value
    ]


_ISO_DURATION = r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
"""Compiled by `re` at its first use: only a fan timer's duration needs it."""


def duration_seconds(handler_input: HandlerInput, name: str) -> int | None:
    """AMAZON.DURATION's ISO 8601 value ("PT1H30M") in seconds; None when missing, unrecognized or zero."""
    slot = get_slot(handler_input, name)
    found = re.match(_ISO_DURATION, slot.value) if slot is not None and slot.value else None
    if found is None:
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return total or None
