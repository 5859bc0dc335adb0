"""The custom skill's session state: a half-finished request carried across turns ("set it to 70" /
"which one?" / "the bedroom"; "set the bedrom to 70" / "Did you mean the Bedroom?" / yes).

The pending command travels as controls.Action JSON in the session attributes and is never sent
before exactly one thermostat is meant. Requests without a session simply do without.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ask_sdk_core.handler_input import HandlerInput

from nest_skill.controls import Action, action_from_json
from nest_skill.thermostats import Thermostat

PENDING_THERMOSTAT = "pending_thermostat"
"""The thermostat as heard, while the skill asks for the number."""
PENDING_DEVICE = "pending_device"
"""The SDM device name a pending question is about (a "Did you mean" or a new temperature)."""
PENDING_ACTION = "pending_action"
"""The command waiting for an answer, as controls.Action JSON."""
PENDING_CHOICES = "pending_choices"
"""The SDM device names a "which one?" question offered, in the order offered."""


def pending(action: Action, choices: Sequence[Thermostat] = (), device: Thermostat | None = None) -> dict[str, Any]:
    """The attributes that keep `action` waiting: for a choice among `choices`, or a yes about `device`."""
    attributes: dict[str, Any] = {PENDING_ACTION: action.to_json()}
    if choices:
        attributes[PENDING_CHOICES] = [t.device_name for t in choices]
    if device is not None:
        attributes[PENDING_DEVICE] = device.device_name
    return attributes


def pending_action(attributes: Mapping[str, Any]) -> Action | None:
    """The command waiting for an answer; None when there is none or it does not parse."""
    return action_from_json(attributes.get(PENDING_ACTION))


def attributes(handler_input: HandlerInput) -> Mapping[str, Any]:
    """What the previous turn kept; empty when the request has no session."""
    if handler_input.request_envelope.session is None:
        return {}
    return handler_input.attributes_manager.session_attributes or {}


def remember(handler_input: HandlerInput, kept: dict[str, Any]) -> None:
    """Keep only `kept` for the next turn (when the request has a session)."""
    if handler_input.request_envelope.session is not None:
        handler_input.attributes_manager.session_attributes = kept


def text(value: Any) -> str | None:
    """A kept string; None for anything else, or an empty string."""
    return value if isinstance(value, str) and value else None
