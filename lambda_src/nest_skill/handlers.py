"""One handler per intent. Nest intents need the linked token, and every SDM failure becomes speech:
the user always hears an answer, never Alexa's generic "problem with the skill".

Session attributes carry a half-finished request across turns ("set it to 70" / "which one?" /
"the bedroom"; "set the bedrom to 70" / "Did you mean the Bedroom?" / yes): the pending command as
controls.Action JSON, never sent before exactly one thermostat is meant. Requests without a session
simply do without. What each command does lives in controls.py; here are only the conversation and
the words.
"""

from __future__ import annotations

import html
import logging
import os
import re
import traceback
from abc import abstractmethod
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_core.utils.request_util import get_account_linking_access_token, get_slot
from ask_sdk_model import Response
from ask_sdk_model.slu.entityresolution import StatusCode
from ask_sdk_model.ui import Card, LinkAccountCard, SimpleCard

from nest_skill import speech
from nest_skill.account import NestAccount
from nest_skill.controls import (Action, Adjust, CannotChange, EcoOff, Fan, OutOfRange, SetMode,
                                 SetTemperature, action_from_json)
from nest_skill.logs import request_fields
from nest_skill.sdm_client import Deadline, SdmClient, SdmError
from nest_skill.sdm_errors import classify
from nest_skill.temperatures import finite
from nest_skill.thermostats import Thermostat, choose, match, readable

log = logging.getLogger(__name__)

PENDING_THERMOSTAT = "pending_thermostat"
"""The thermostat as heard, while the skill asks for the number."""
PENDING_DEVICE = "pending_device"
"""The SDM device name a pending question is about (a "Did you mean" or a new temperature)."""
PENDING_ACTION = "pending_action"
"""The command waiting for an answer, as controls.Action JSON."""
PENDING_CHOICES = "pending_choices"
"""The SDM device names a "which one?" question offered, in the order offered."""

class LaunchRequestHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        if not get_account_linking_access_token(handler_input):
            return _link_account(handler_input, speech.LINK_ACCOUNT)
        return _ask(handler_input, speech.WELCOME, speech.WHAT_NEXT)


class _IntentHandler(AbstractRequestHandler):
    intent_name = ""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name(self.intent_name)(handler_input)


class _NestIntentHandler(_IntentHandler):
    """An intent that acts on the user's Nest account."""

    def __init__(self, sdm: SdmClient):
        self._sdm = sdm

    def handle(self, handler_input: HandlerInput) -> Response:
        token = get_account_linking_access_token(handler_input)
        if not token:
            return _link_account(handler_input, speech.LINK_ACCOUNT)
        account = NestAccount(self._sdm, token, Deadline.for_request(handler_input.context))
        try:
            return self.answer(handler_input, account)
        except SdmError as error:
            return _sdm_failure(handler_input, error)

    @abstractmethod
    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        """The reply once the user is known to be linked; SDM failures may propagate."""


class PendingChoiceHandler(_NestIntentHandler):
    """The answer to "which one?" after several thermostats fitted a name: a home's name or an
    ordinal, heard in the thermostat slot of whichever intent the model chose. Comes first."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        pending = _session_attributes(handler_input)
        return (is_intent_name(SetTempIntentHandler.intent_name)(handler_input)
                and isinstance(pending.get(PENDING_CHOICES), list) and _pending_action(pending) is not None
                and bool(_room_slot(handler_input)) and _number_slot(handler_input, "temperature") is None)

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        pending = _session_attributes(handler_input)
        action = _pending_action(pending)
        by_device = {t.device_name: t for t in account.thermostats()}
        offered = pending[PENDING_CHOICES]
        candidates = [by_device[name] for name in offered if name in by_device]
        if len(candidates) < len(offered):
            # One offered thermostat is gone: "the first one" would now point at another. Ask again.
            if len(candidates) == 1:
                return _ask(handler_input, *speech.confirm(candidates[0]), _pending(action, device=candidates[0]))
            if not candidates:
                return _tell(handler_input, speech.NO_THERMOSTATS)
            return _ask(handler_input, *speech.ask_which_of(candidates), _pending(action, choices=candidates))
        chosen = next((c for c in (choose(candidates, said) for said in _room_slot(handler_input)) if c), None)
        if chosen is None:
            return _ask(handler_input, *speech.ask_which_of(candidates), _pending(action, choices=candidates))
        return _carry_out(handler_input, account, chosen, action)


class YesIntentHandler(_NestIntentHandler):
    """Yes to "Did you mean the X?": only now is the pending command sent."""

    intent_name = "AMAZON.YesIntent"

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        pending = _session_attributes(handler_input)
        action, device = _pending_action(pending), _text(pending.get(PENDING_DEVICE))
        if action is None or device is None:
            return _ask(handler_input, speech.NOTHING_TO_CONFIRM, speech.WHAT_NEXT)
        thermostat = next((t for t in account.thermostats() if t.device_name == device), None)
        if thermostat is None:
            return _tell(handler_input, speech.NO_THERMOSTATS)
        return _carry_out(handler_input, account, thermostat, action)


class NoIntentHandler(_IntentHandler):
    intent_name = "AMAZON.NoIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _tell(handler_input, speech.NOT_CHANGED)


class _ReadIntentHandler(_NestIntentHandler):
    """An intent that only reads: every thermostat, or those the name fits. A near-miss may be read,
    since each line of the answer names the thermostat it reports."""

    report: Callable[[Sequence[Thermostat]], str]

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        thermostats = account.thermostats()
        named = _room_slot(handler_input)
        if named and thermostats:
            found = match(thermostats, *named)
            if not (found.exact or found.near):
                return _tell(handler_input, speech.not_found(named[0], thermostats))
            thermostats = list(found.exact or found.near)
        text = self.report(thermostats)
        return _tell(handler_input, text, SimpleCard(speech.CARD_TITLE, text))


class StatusIntentHandler(_ReadIntentHandler):
    """"What's the temperature", "what's the bedroom set to", "is the heat on"."""

    intent_name = "StatusIntent"
    report = staticmethod(speech.status)


class SetTempIntentHandler(_NestIntentHandler):
    intent_name = "SetTempIntent"

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        pending = _session_attributes(handler_input)
        temperature = _number_slot(handler_input, "temperature")
        pending_action = _pending_action(pending)
        pending_room = _text(pending.get(PENDING_THERMOSTAT))
        named = _room_slot(handler_input) or ((pending_room,) if pending_room else ())
        if temperature is None and pending_action is None:
            heard = named[0] if named else None
            return _ask(handler_input, *speech.ask_temperature(heard), {PENDING_THERMOSTAT: heard} if heard else {})
        action = SetTemperature(temperature) if temperature is not None else pending_action
        # A device kept while asking for a new number; a "Did you mean" device waits for a yes instead.
        device = None if _room_slot(handler_input) or pending_action else _text(pending.get(PENDING_DEVICE))
        return _act(handler_input, account, named, action, device)


class HumidityIntentHandler(_ReadIntentHandler):
    """The named thermostat's humidity, else the only one's, else every one's."""

    intent_name = "HumidityIntent"
    report = staticmethod(speech.humidity)


class _ChangeIntentHandler(_NestIntentHandler):
    """An intent that changes one thermostat: its Action, or a question when a slot is missing."""

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        named = _room_slot(handler_input)
        pending_room = _text(_session_attributes(handler_input).get(PENDING_THERMOSTAT))
        action = self.action(handler_input)
        if action is None:
            heard = named[0] if named else None
            question = self.question()
            return _ask(handler_input, question, question, {PENDING_THERMOSTAT: heard} if heard else {})
        return _act(handler_input, account, named or ((pending_room,) if pending_room else ()), action)

    @abstractmethod
    def action(self, handler_input: HandlerInput) -> Optional[Action]:
        """The Action the slots ask for; None when a slot it needs is missing."""

    def question(self) -> str:
        """What to ask when `action` is None."""
        return speech.WHAT_NEXT


class SetModeIntentHandler(_ChangeIntentHandler):
    """Slot `mode` (THERMOSTAT_MODE): entity resolution's id, HEAT, COOL, HEATCOOL, OFF or ECO."""

    intent_name = "SetModeIntent"

    def action(self, handler_input: HandlerInput) -> Optional[Action]:
        mode = _resolved_id(handler_input, "mode")
        if mode not in ("HEAT", "COOL", "HEATCOOL", "OFF", "ECO"):
            return None
        return SetMode("MANUAL_ECO" if mode == "ECO" else mode)

    def question(self) -> str:
        return speech.WHICH_MODE


class EcoOffIntentHandler(_ChangeIntentHandler):
    intent_name = "EcoOffIntent"

    def action(self, handler_input: HandlerInput) -> Optional[Action]:
        return EcoOff()


class AdjustTempIntentHandler(_ChangeIntentHandler):
    """Slots `direction` (DIRECTION: UP, DOWN) and `amount` (AMAZON.NUMBER, optional, own scale)."""

    intent_name = "AdjustTempIntent"

    def action(self, handler_input: HandlerInput) -> Optional[Action]:
        direction = _resolved_id(handler_input, "direction")
        if direction not in ("UP", "DOWN"):
            return None
        amount = _number_slot(handler_input, "amount")
        return Adjust(direction == "UP", abs(amount) if amount else None)

    def question(self) -> str:
        return speech.WARMER_OR_COOLER


class FanIntentHandler(_ChangeIntentHandler):
    """Slots `fan_state` (ON_OFF: ON, OFF) and `duration` (AMAZON.DURATION, optional); a duration
    alone ("run the fan for an hour") means on."""

    intent_name = "FanIntent"

    def action(self, handler_input: HandlerInput) -> Optional[Action]:
        state = _resolved_id(handler_input, "fan_state")
        seconds = _duration_slot(handler_input, "duration")
        if state == "OFF":
            return Fan(False)
        if state == "ON" or seconds is not None:
            return Fan(True, seconds)
        return None

    def question(self) -> str:
        return speech.FAN_ON_OR_OFF


def _act(handler_input: HandlerInput, account: NestAccount, named: Tuple[str, ...], action: Action,
         device: Optional[str] = None) -> Response:
    """Carry out `action` on the thermostat named, or ask: which one (none named, or several fit),
    "Did you mean" (only a near-miss fits). Nothing is sent until exactly one thermostat is meant."""
    thermostats = account.thermostats()
    if not thermostats:
        return _tell(handler_input, speech.NO_THERMOSTATS)
    chosen = next((t for t in thermostats if t.device_name == device), None)
    if chosen is not None:
        return _carry_out(handler_input, account, chosen, action)
    if not named:
        if len(thermostats) == 1:
            return _carry_out(handler_input, account, thermostats[0], action)
        temperature = action.value if isinstance(action, SetTemperature) else None
        return _ask(handler_input, *speech.ask_which(thermostats, temperature), _pending(action))
    found = match(thermostats, *named)
    if len(found.exact) == 1:
        return _carry_out(handler_input, account, found.exact[0], action)
    if found.exact or len(found.near) > 1:
        candidates = found.exact or found.near
        return _ask(handler_input, *speech.ask_which_of(candidates), _pending(action, choices=candidates))
    if found.near:
        return _ask(handler_input, *speech.confirm(found.near[0]), _pending(action, device=found.near[0]))
    return _ask(handler_input, *speech.unknown_thermostat(named[0], thermostats), _pending(action))


def _carry_out(handler_input: HandlerInput, account: NestAccount, thermostat: Thermostat, action: Action) -> Response:
    try:
        change = account.carry_out(thermostat, action)
    except OutOfRange as reason:
        if isinstance(action, SetTemperature):  # Adjust's BeyondLimit says where the setpoint is: no question
            return _ask(handler_input, speech.cannot_change(reason), speech.WHICH_TEMPERATURE,
                        {PENDING_DEVICE: reason.thermostat.device_name})
        return _tell(handler_input, speech.cannot_change(reason))
    except CannotChange as reason:
        return _tell(handler_input, speech.cannot_change(reason))
    except SdmError as error:
        return _sdm_failure(handler_input, error, thermostat)
    return _tell(handler_input, speech.changed(change))


def _pending(action: Action, choices: Sequence[Thermostat] = (), device: Optional[Thermostat] = None
             ) -> Dict[str, Any]:
    pending: Dict[str, Any] = {PENDING_ACTION: action.to_json()}
    if choices:
        pending[PENDING_CHOICES] = [t.device_name for t in choices]
    if device is not None:
        pending[PENDING_DEVICE] = device.device_name
    return pending


def _pending_action(pending: Mapping[str, Any]) -> Optional[Action]:
    return action_from_json(pending.get(PENDING_ACTION))


class HelpIntentHandler(_IntentHandler):
    intent_name = "AMAZON.HelpIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _ask(handler_input, speech.HELP, speech.WHAT_NEXT)


class FallbackIntentHandler(_IntentHandler):
    intent_name = "AMAZON.FallbackIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _ask(handler_input, speech.FALLBACK, speech.WHAT_NEXT)


class _GoodbyeHandler(_IntentHandler):
    def handle(self, handler_input: HandlerInput) -> Response:
        return _tell(handler_input, speech.GOODBYE)


class StopIntentHandler(_GoodbyeHandler):
    intent_name = "AMAZON.StopIntent"


class CancelIntentHandler(_GoodbyeHandler):
    intent_name = "AMAZON.CancelIntent"


class NavigateHomeIntentHandler(_GoodbyeHandler):
    intent_name = "AMAZON.NavigateHomeIntent"


class SessionEndedRequestHandler(AbstractRequestHandler):
    """Alexa allows no speech here; the reason (and an error's type, never its message) goes to the log."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        error = request.error
        log.info("session ended", extra={
            **request_fields(handler_input),
            "reason": request.reason.value if request.reason else None,
            "error_type": error.object_type.value if error is not None and error.object_type else None,
        })
        return handler_input.response_builder.response


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Apologizes for anything unexpected. Logs where it happened but not the exception's message,
    which could quote request data."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        frames = traceback.extract_tb(exception.__traceback__)
        where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else None
        log.error("unhandled exception", extra={**request_fields(handler_input),
                                                "error_type": type(exception).__name__, "where": where})
        return _tell(handler_input, speech.SOMETHING_WRONG)


def _sdm_failure(handler_input: HandlerInput, error: SdmError, thermostat: Optional[Thermostat] = None) -> Response:
    """SDM's failure as sdm_errors classifies it, in words (speech.failure); the LinkAccount card only
    where linking again can help."""
    kind = classify(error)
    text = speech.failure(kind, thermostat)
    return _link_account(handler_input, text) if kind.needs_linking else _tell(handler_input, text)


def _link_account(handler_input: HandlerInput, text: str) -> Response:
    return _tell(handler_input, text, LinkAccountCard())


def _tell(handler_input: HandlerInput, text: str, card: Optional[Card] = None) -> Response:
    """Speak and end the session, forgetting any half-finished request."""
    _remember(handler_input, {})
    return handler_input.response_builder.speak(_ssml(text)).set_should_end_session(True).set_card(card).response


def _ask(handler_input: HandlerInput, text: str, reprompt: str, pending: Optional[Dict[str, Any]] = None) -> Response:
    """Speak, keep the session open, and keep only `pending` for the next turn."""
    _remember(handler_input, pending or {})
    return handler_input.response_builder.speak(_ssml(text)).ask(_ssml(reprompt)).response


def _ssml(text: str) -> str:
    """Speech as SSML: readable (thermostats.readable: no character XML 1.0 forbids, so the SSML parses
    and Alexa takes the answer), then escaped."""
    return html.escape(readable(text), quote=False)


def _session_attributes(handler_input: HandlerInput) -> Mapping[str, Any]:
    if handler_input.request_envelope.session is None:
        return {}
    return handler_input.attributes_manager.session_attributes or {}


def _remember(handler_input: HandlerInput, attributes: Dict[str, Any]) -> None:
    if handler_input.request_envelope.session is not None:
        handler_input.attributes_manager.session_attributes = attributes


def _room_slot(handler_input: HandlerInput) -> Tuple[str, ...]:
    """The thermostat slot as heard, then as entity resolution matched it to the ROOM type (if it did):
    the user's room may be named like one of the type's synonyms rather than its canonical value."""
    slot = get_slot(handler_input, "thermostat")
    if slot is None or not slot.value:
        return ()
    resolutions = (slot.resolutions.resolutions_per_authority or []) if slot.resolutions else []
    resolved = [value.value.name for r in resolutions
                if r.status and r.status.code == StatusCode.ER_SUCCESS_MATCH for value in r.values or []]
    return tuple(dict.fromkeys([slot.value, *resolved]))


def _number_slot(handler_input: HandlerInput, name: str) -> Optional[float]:
    """AMAZON.NUMBER's value; None when missing or unrecognized (Alexa sends "?")."""
    slot = get_slot(handler_input, name)
    try:
        return finite(float(slot.value)) if slot is not None and slot.value else None
    except ValueError:
        return None


def _resolved_id(handler_input: HandlerInput, name: str) -> Optional[str]:
    """The id entity resolution matched a custom-type slot to: what was heard may differ ("auto"
    resolves to HEATCOOL)."""
    slot = get_slot(handler_input, name)
    resolutions = (slot.resolutions.resolutions_per_authority or []) if slot and slot.resolutions else []
    return next((value.value.id for r in resolutions if r.status and r.status.code == StatusCode.ER_SUCCESS_MATCH
                 for value in r.values or [] if value.value and value.value.id), None)


_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _duration_slot(handler_input: HandlerInput, name: str) -> Optional[int]:
    """AMAZON.DURATION's ISO 8601 value ("PT1H30M") in seconds; None when missing, unrecognized or zero."""
    slot = get_slot(handler_input, name)
    found = _ISO_DURATION.match(slot.value) if slot is not None and slot.value else None
    if found is None:
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return total or None


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None
