"""One handler per intent. Nest intents need the linked token, and every SDM failure becomes speech:
the user always hears an answer, never Alexa's generic "problem with the skill".

Session attributes carry a half-finished request across turns ("set it to 70" / "which one?" /
"the bedroom"); requests without a session simply do without.
"""

from __future__ import annotations

import html
import logging
import traceback
from abc import abstractmethod
from typing import Any, Dict, Mapping, Optional, Tuple

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_core.utils.request_util import get_account_linking_access_token, get_slot
from ask_sdk_model import Response
from ask_sdk_model.slu.entityresolution import StatusCode
from ask_sdk_model.ui import Card, LinkAccountCard, SimpleCard

from nest_skill import speech
from nest_skill.account import NestAccount
from nest_skill.logs import request_fields
from nest_skill.sdm_client import (Deadline, FailedPrecondition, NotFound, PermissionDenied, RateLimited,
                                   Rejected, SdmClient, SdmError, TimedOut, Unauthenticated)
from nest_skill.temperatures import finite
from nest_skill.thermostats import CannotSet, OutOfRange, Thermostat, find_thermostat, plan_setpoint

log = logging.getLogger(__name__)

PENDING_TEMPERATURE = "pending_temperature"
PENDING_THERMOSTAT = "pending_thermostat"

_FAILURE_SPEECH = {RateLimited: speech.RATE_LIMITED, TimedOut: speech.TIMED_OUT, Rejected: speech.REJECTED}


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


class StatusIntentHandler(_NestIntentHandler):
    intent_name = "StatusIntent"

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        """Every thermostat, or only the one named ("what's the bedroom set to")."""
        thermostats = account.thermostats()
        named = _room_slot(handler_input)
        if named and thermostats:
            thermostat = find_thermostat(thermostats, *named)
            if thermostat is None:
                return _tell(handler_input, speech.not_found(named[0], thermostats))
            thermostats = [thermostat]
        text = speech.status(thermostats)
        return _tell(handler_input, text, SimpleCard(speech.CARD_TITLE, text))


class SetTempIntentHandler(_NestIntentHandler):
    intent_name = "SetTempIntent"

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        pending = _session_attributes(handler_input)
        temperature = _number_slot(handler_input, "temperature")
        if temperature is None:
            temperature = finite(pending.get(PENDING_TEMPERATURE))
        pending_room = _text(pending.get(PENDING_THERMOSTAT))
        named = _room_slot(handler_input) or ((pending_room,) if pending_room else ())
        if temperature is None:
            heard = named[0] if named else None
            return _ask(handler_input, *speech.ask_temperature(heard), {PENDING_THERMOSTAT: heard} if heard else {})

        thermostats = account.thermostats()
        if not thermostats:
            return _tell(handler_input, speech.NO_THERMOSTATS)
        if named:
            thermostat = find_thermostat(thermostats, *named)
            if thermostat is None:
                return _ask(handler_input, *speech.unknown_thermostat(named[0], thermostats),
                            {PENDING_TEMPERATURE: temperature})
        elif len(thermostats) == 1:
            thermostat = thermostats[0]
        else:
            return _ask(handler_input, *speech.ask_which(thermostats, temperature), {PENDING_TEMPERATURE: temperature})

        try:
            change = plan_setpoint(thermostat, temperature)
        except OutOfRange as reason:
            return _ask(handler_input, speech.cannot_set(reason), speech.WHICH_TEMPERATURE,
                        {PENDING_THERMOSTAT: thermostat.name})
        except CannotSet as reason:
            return _tell(handler_input, speech.cannot_set(reason))
        try:
            account.apply(change)
        except SdmError as error:
            return _sdm_failure(handler_input, error, thermostat)
        return _tell(handler_input, speech.changed(change))


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
        where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else None
        log.error("unhandled exception", extra={**request_fields(handler_input),
                                                "error_type": type(exception).__name__, "where": where})
        return _tell(handler_input, speech.SOMETHING_WRONG)


def _sdm_failure(handler_input: HandlerInput, error: SdmError, thermostat: Optional[Thermostat] = None) -> Response:
    if isinstance(error, Unauthenticated):
        return _link_account(handler_input, speech.LINK_ACCOUNT)
    if isinstance(error, PermissionDenied):
        return _link_account(handler_input, speech.NO_ACCESS)
    if thermostat is not None and isinstance(error, NotFound):
        return _tell(handler_input, speech.gone(thermostat))
    if thermostat is not None and isinstance(error, FailedPrecondition):
        return _tell(handler_input, speech.refused(thermostat, error.detail))
    return _tell(handler_input, _FAILURE_SPEECH.get(type(error), speech.UNAVAILABLE))


def _link_account(handler_input: HandlerInput, text: str) -> Response:
    return _tell(handler_input, text, LinkAccountCard())


def _tell(handler_input: HandlerInput, text: str, card: Optional[Card] = None) -> Response:
    """Speak and end the session, forgetting any half-finished request."""
    _remember(handler_input, {})
    builder = handler_input.response_builder.speak(_ssml(text)).set_should_end_session(True)
    return (builder.set_card(card) if card is not None else builder).response


def _ask(handler_input: HandlerInput, text: str, reprompt: str, pending: Optional[Dict[str, Any]] = None) -> Response:
    """Speak, keep the session open, and keep only `pending` for the next turn."""
    _remember(handler_input, pending or {})
    return handler_input.response_builder.speak(_ssml(text)).ask(_ssml(reprompt)).response


def _ssml(text: str) -> str:
    return html.escape(text, quote=False)


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


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None
