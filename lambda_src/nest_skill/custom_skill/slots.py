"""What Alexa heard in the custom skill's slots, as values the handlers can act on: None (or nothing)
when a slot is missing or Alexa did not recognize it."""

from __future__ import annotations

import re
from typing import Optional, Tuple

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils.request_util import get_slot
from ask_sdk_model.slu.entityresolution import StatusCode

from nest_skill.temperatures import finite


def thermostat_names(handler_input: HandlerInput) -> Tuple[str, ...]:
    """The thermostat slot as heard, then as entity resolution matched it to the ROOM type (if it did):
    the user's room may be named like one of the type's synonyms rather than its canonical value."""
    slot = get_slot(handler_input, "thermostat")
    if slot is None or not slot.value:
        return ()
    resolutions = (slot.resolutions.resolutions_per_authority or []) if slot.resolutions else []
    resolved = [value.value.name for r in resolutions
                if r.status and r.status.code == StatusCode.ER_SUCCESS_MATCH for value in r.values or []]
    return tuple(dict.fromkeys([slot.value, *resolved]))


def number(handler_input: HandlerInput, name: str) -> Optional[float]:
    """AMAZON.NUMBER's value; None when missing or unrecognized (Alexa sends "?")."""
    slot = get_slot(handler_input, name)
    try:
        return finite(float(slot.value)) if slot is not None and slot.value else None
    except ValueError:
        return None


def resolved_id(handler_input: HandlerInput, name: str) -> Optional[str]:
    """The id entity resolution matched a custom-type slot to: what was heard may differ ("auto"
    resolves to HEATCOOL)."""
    slot = get_slot(handler_input, name)
    resolutions = (slot.resolutions.resolutions_per_authority or []) if slot and slot.resolutions else []
    return next((value.value.id for r in resolutions if r.status and r.status.code == StatusCode.ER_SUCCESS_MATCH
                 for value in r.values or [] if value.value and value.value.id), None)


_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def duration_seconds(handler_input: HandlerInput, name: str) -> Optional[int]:
    """AMAZON.DURATION's ISO 8601 value ("PT1H30M") in seconds; None when missing, unrecognized or zero."""
    slot = get_slot(handler_input, name)
    found = _ISO_DURATION.match(slot.value) if slot is not None and slot.value else None
    if found is None:
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return total or None
