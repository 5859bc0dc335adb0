"""One handler class per intent and request type (as in alexa-samples' skill-sample-python-helloworld-classes).
Nest intents need the linked token, and every SDM failure becomes speech: the user always hears an
answer, never Alexa's generic "problem with the skill".

A request that cannot be carried out yet becomes a question, with the command kept in the session
(`session`) until exactly one thermostat is meant. What each command does lives in controls.py; here
are only the conversation and, through `speech`, the words.
"""

from __future__ import annotations

import html
import logging
import os
import traceback
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_core.utils.request_util import get_account_linking_access_token
from ask_sdk_model import Response, SessionEndedRequest
from ask_sdk_model.ui import Card, LinkAccountCard, SimpleCard

from nest_skill.account import NestAccount
from nest_skill.controls import Action, Adjust, CannotChange, EcoOff, Fan, OutOfRange, SetMode, SetTemperature
from nest_skill.custom_skill import interceptors, session, slots, speech
from nest_skill.custom_skill.interceptors import request_fields
from nest_skill.sdm_client import Deadline, SdmClient, SdmError
from nest_skill.sdm_errors import classify
from nest_skill.thermostats import Thermostat, choose, match, readable

log = logging.getLogger(__name__)


class LaunchRequestHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        if not get_account_linking_access_token(handler_input):
            return _link_account(handler_input, _words(handler_input).LINK_ACCOUNT)
        return _ask(handler_input, _words(handler_input).WELCOME, _words(handler_input).WHAT_NEXT)


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
        if not token or not isinstance(token, str):  # the SDK's type allows bytes; Alexa sends a JSON string
            return _link_account(handler_input, _words(handler_input).LINK_ACCOUNT)
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
        pending = session.attributes(handler_input)
        return (
            is_intent_name(SetTempIntentHandler.intent_name)(handler_input)
            and isinstance(pending.get(session.PENDING_CHOICES), list)
            and session.pending_action(pending) is not None
            and bool(slots.thermostat_names(handler_input))
            and slots.number(handler_input, "temperature") is None
        )

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        pending = session.attributes(handler_input)
        action = session.pending_action(pending)
        assert action is not None, "can_handle admits only a pending action"
        by_device = {t.device_name: t for t in account.thermostats()}
        offered = pending[session.PENDING_CHOICES]
        candidates = [by_device[name] for name in offered if name in by_device]
        if len(candidates) < len(offered):
            # One offered thermostat is gone: "the first one" would now point at another. Ask again.
            if len(candidates) == 1:
                return _ask(
                    handler_input,
                    *_words(handler_input).confirm(candidates[0]),
                    session.pending(action, device=candidates[0]),
                )
            if not candidates:
                return _tell(handler_input, _words(handler_input).NO_THERMOSTATS)
            return _ask(
                handler_input,
                *_words(handler_input).ask_which_of(candidates),
                session.pending(action, choices=candidates),
            )
        heard = slots.thermostat_names(handler_input)
        chosen = next((c for c in (choose(candidates, said) for said in heard) if c), None)
        if chosen is None:
            return _ask(
                handler_input,
                *_words(handler_input).ask_which_of(candidates),
                session.pending(action, choices=candidates),
            )
        return _carry_out(handler_input, account, chosen, action)


class YesIntentHandler(_NestIntentHandler):
    """Yes to "Did you mean the X?": only now is the pending command sent."""

    intent_name = "AMAZON.YesIntent"

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        pending = session.attributes(handler_input)
        action, device = session.pending_action(pending), session.text(pending.get(session.PENDING_DEVICE))
        if action is None or device is None:
            return _ask(handler_input, _words(handler_input).NOTHING_TO_CONFIRM, _words(handler_input).WHAT_NEXT)
        thermostat = next((t for t in account.thermostats() if t.device_name == device), None)
        if thermostat is None:
            return _tell(handler_input, _words(handler_input).NO_THERMOSTATS)
        return _carry_out(handler_input, account, thermostat, action)


class NoIntentHandler(_IntentHandler):
    intent_name = "AMAZON.NoIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _tell(handler_input, _words(handler_input).NOT_CHANGED)


class _ReadIntentHandler(_NestIntentHandler):
    """An intent that only reads: every thermostat, or those the name fits. A near-miss may be read,
    since each line of the answer names the thermostat it reports."""

    report: Callable[[speech.Speech, Sequence[Thermostat]], str]

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        thermostats = account.thermostats()
        named = slots.thermostat_names(handler_input)
        if named and thermostats:
            found = match(thermostats, *named)
            if not (found.exact or found.near):
                return _tell(
                    handler_input,
                    _words(handler_input).not_found(named[0], thermostats),
                    _share_card(handler_input, named[0]),
                )
            thermostats = list(found.exact or found.near)
        text = self.report(_words(handler_input), thermostats)
        return _tell(handler_input, text, SimpleCard(_words(handler_input).CARD_TITLE, text))


class StatusIntentHandler(_ReadIntentHandler):
    """ "What's the temperature", "what's the bedroom set to", "is the heat on"."""

    intent_name = "StatusIntent"
    report = staticmethod(speech.Speech.status)


class SetTempIntentHandler(_NestIntentHandler):
    intent_name = "SetTempIntent"

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        pending = session.attributes(handler_input)
        temperature = slots.number(handler_input, "temperature")
        pending_action = session.pending_action(pending)
        pending_room = session.text(pending.get(session.PENDING_THERMOSTAT))
        said = slots.thermostat_names(handler_input)
        named = said or ((pending_room,) if pending_room else ())
        action = SetTemperature(temperature) if temperature is not None else pending_action
        if action is None:
            heard = named[0] if named else None
            kept = {session.PENDING_THERMOSTAT: heard} if heard else {}
            return _ask(handler_input, *_words(handler_input).ask_temperature(heard), kept)
        # A device kept while asking for a new number; a "Did you mean" device waits for a yes instead.
        device = None if said or pending_action else session.text(pending.get(session.PENDING_DEVICE))
        return _act(handler_input, account, named, action, device)


class HumidityIntentHandler(_ReadIntentHandler):
    """The named thermostat's humidity, else the only one's, else every one's."""

    intent_name = "HumidityIntent"
    report = staticmethod(speech.Speech.humidity)


class _ChangeIntentHandler(_NestIntentHandler):
    """An intent that changes one thermostat: its Action, or a question when a slot is missing."""

    def answer(self, handler_input: HandlerInput, account: NestAccount) -> Response:
        named = slots.thermostat_names(handler_input)
        pending_room = session.text(session.attributes(handler_input).get(session.PENDING_THERMOSTAT))
        action = self.action(handler_input)
        if action is None:
            heard = named[0] if named else None
            question = self.question(_words(handler_input))
            return _ask(handler_input, question, question, {session.PENDING_THERMOSTAT: heard} if heard else {})
        return _act(handler_input, account, named or ((pending_room,) if pending_room else ()), action)

    @abstractmethod
    def action(self, handler_input: HandlerInput) -> Action | None:
        """The Action the slots ask for; None when a slot it needs is missing."""

    def question(self, words: speech.Speech) -> str:
        """What to ask when `action` is None."""
        return words.WHAT_NEXT


class SetModeIntentHandler(_ChangeIntentHandler):
    """Slot `mode` (THERMOSTAT_MODE): entity resolution's id, HEAT, COOL, HEATCOOL, OFF or ECO."""

    intent_name = "SetModeIntent"

    def action(self, handler_input: HandlerInput) -> Action | None:
        mode = slots.resolved_id(handler_input, "mode")
        if mode not in ("HEAT", "COOL", "HEATCOOL", "OFF", "ECO"):
            return None
        return SetMode("MANUAL_ECO" if mode == "ECO" else mode)

    def question(self, words: speech.Speech) -> str:
        return words.WHICH_MODE


class EcoOffIntentHandler(_ChangeIntentHandler):
    intent_name = "EcoOffIntent"

    def action(self, handler_input: HandlerInput) -> Action | None:
        return EcoOff()


class AdjustTempIntentHandler(_ChangeIntentHandler):
    """Slots `direction` (DIRECTION: UP, DOWN) and `amount` (AMAZON.NUMBER, optional, own scale)."""

    intent_name = "AdjustTempIntent"

    def action(self, handler_input: HandlerInput) -> Action | None:
        direction = slots.resolved_id(handler_input, "direction")
        if direction not in ("UP", "DOWN"):
            return None
        amount = slots.number(handler_input, "amount")
        return Adjust(direction == "UP", abs(amount) if amount else None)

    def question(self, words: speech.Speech) -> str:
        return words.WARMER_OR_COOLER


class FanIntentHandler(_ChangeIntentHandler):
    """Slots `fan_state` (ON_OFF: ON, OFF) and `duration` (AMAZON.DURATION, optional); a duration
    alone ("run the fan for an hour") means on."""

    intent_name = "FanIntent"

    def action(self, handler_input: HandlerInput) -> Action | None:
        state = slots.resolved_id(handler_input, "fan_state")
        seconds = slots.duration_seconds(handler_input, "duration")
        if state == "OFF":
            return Fan(False)
        if state == "ON" or seconds is not None:
            return Fan(True, seconds)
        return None

    def question(self, words: speech.Speech) -> str:
        return words.FAN_ON_OR_OFF


def _act(
    handler_input: HandlerInput, account: NestAccount, named: tuple[str, ...], action: Action, device: str | None = None
) -> Response:
    """Carry out `action` on the thermostat named, or ask: which one (none named, or several fit),
    "Did you mean" (only a near-miss fits). Nothing is sent until exactly one thermostat is meant."""
    thermostats = account.thermostats()
    if not thermostats:
        return _tell(handler_input, _words(handler_input).NO_THERMOSTATS)
    chosen = next((t for t in thermostats if t.device_name == device), None)
    if chosen is not None:
        return _carry_out(handler_input, account, chosen, action)
    if not named:
        if len(thermostats) == 1:
            return _carry_out(handler_input, account, thermostats[0], action)
        temperature = action.value if isinstance(action, SetTemperature) else None
        return _ask(handler_input, *_words(handler_input).ask_which(thermostats, temperature), session.pending(action))
    found = match(thermostats, *named)
    if len(found.exact) == 1:
        return _carry_out(handler_input, account, found.exact[0], action)
    if found.exact or len(found.near) > 1:
        candidates = found.exact or found.near
        return _ask(
            handler_input, *_words(handler_input).ask_which_of(candidates), session.pending(action, choices=candidates)
        )
    if found.near:
        return _ask(
            handler_input, *_words(handler_input).confirm(found.near[0]), session.pending(action, device=found.near[0])
        )
    return _ask(
        handler_input,
        *_words(handler_input).unknown_thermostat(named[0], thermostats),
        session.pending(action),
        _share_card(handler_input, named[0]),
    )


def _carry_out(handler_input: HandlerInput, account: NestAccount, thermostat: Thermostat, action: Action) -> Response:
    try:
        change = account.carry_out(thermostat, action)
    except OutOfRange as reason:
        if isinstance(action, SetTemperature):  # Adjust's BeyondLimit says where the setpoint is: no question
            words = _words(handler_input)
            return _ask(
                handler_input,
                words.cannot_change(reason),
                words.WHICH_TEMPERATURE,
                {session.PENDING_DEVICE: reason.thermostat.device_name},
            )
        return _tell(handler_input, _words(handler_input).cannot_change(reason))
    except CannotChange as reason:
        return _tell(handler_input, _words(handler_input).cannot_change(reason))
    except SdmError as error:
        return _sdm_failure(handler_input, error, thermostat)
    handler_input.attributes_manager.request_attributes[interceptors.CHANGE] = change  # live state reports it
    return _tell(handler_input, _words(handler_input).changed(change))


class HelpIntentHandler(_IntentHandler):
    intent_name = "AMAZON.HelpIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _ask(handler_input, _words(handler_input).HELP, _words(handler_input).WHAT_NEXT)


class FallbackIntentHandler(_IntentHandler):
    intent_name = "AMAZON.FallbackIntent"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _ask(handler_input, _words(handler_input).FALLBACK, _words(handler_input).WHAT_NEXT)


class _GoodbyeHandler(_IntentHandler):
    def handle(self, handler_input: HandlerInput) -> Response:
        return _tell(handler_input, _words(handler_input).GOODBYE)


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
        assert isinstance(request, SessionEndedRequest), "can_handle admits only these"
        error = request.error
        log.info(
            "session ended",
            extra={
                **request_fields(handler_input),
                "reason": request.reason.value if request.reason else None,
                "error_type": error.object_type.value if error is not None and error.object_type else None,
            },
        )
        return handler_input.response_builder.response


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Apologizes for anything unexpected. Logs where it happened but not the exception's message,
    which could quote request data."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        frames = traceback.extract_tb(exception.__traceback__)
        where = f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else None
        log.error(
            "unhandled exception",
            extra={**request_fields(handler_input), "error_type": type(exception).__name__, "where": where},
        )
        return _tell(handler_input, _words(handler_input).SOMETHING_WRONG)


def _sdm_failure(handler_input: HandlerInput, error: SdmError, thermostat: Thermostat | None = None) -> Response:
    """SDM's failure as sdm_errors classifies it, in words (speech.Speech.failure); the LinkAccount card only
    where linking again can help."""
    kind = classify(error)
    text = _words(handler_input).failure(kind, thermostat)
    return _link_account(handler_input, text) if kind.needs_linking else _tell(handler_input, text)


def _share_card(handler_input: HandlerInput, spoken: str) -> Card:
    """Where a thermostat added or replaced after linking is shared with the skill."""
    return SimpleCard(_words(handler_input).CARD_TITLE, _words(handler_input).share_thermostat(spoken))


def _words(handler_input: HandlerInput) -> speech.Speech:
    """The words for the request's locale (`request.locale`, e.g. "de-DE"): its language's catalog,
    overlaid by the locale's own (fr-CA over fr), English for a language the skill has no catalog for.
    speech.Speech.for_locale keeps one Speech per catalog, so asking again costs a lookup."""
    return speech.Speech.for_locale(getattr(handler_input.request_envelope.request, "locale", None))


def _link_account(handler_input: HandlerInput, text: str) -> Response:
    return _tell(handler_input, text, LinkAccountCard())


def _tell(handler_input: HandlerInput, text: str, card: Card | None = None) -> Response:
    """Speak and end the session, forgetting any half-finished request."""
    session.remember(handler_input, {})
    builder = handler_input.response_builder.speak(_ssml(text)).set_should_end_session(True)
    if card is not None:
        builder.set_card(card)
    return builder.response


def _ask(
    handler_input: HandlerInput,
    text: str,
    reprompt: str,
    pending: dict[str, Any] | None = None,
    card: Card | None = None,
) -> Response:
    """Speak, keep the session open, and keep only `pending` for the next turn."""
    session.remember(handler_input, pending or {})
    builder = handler_input.response_builder.speak(_ssml(text)).ask(_ssml(reprompt))
    if card is not None:
        builder.set_card(card)
    return builder.response


def _ssml(text: str) -> str:
    """Speech as SSML: readable (thermostats.readable: no character XML 1.0 forbids, so the SSML parses
    and Alexa takes the answer), then escaped."""
    return html.escape(readable(text), quote=False)
