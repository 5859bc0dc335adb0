"""Request and response interceptors: the request's start time, one structured log line per
custom-skill request, and (live state on) the ChangeReport of a change the request made, sent once
its answer is decided.

Lambda's JSON log format turns `extra=` fields into JSON keys beside its own requestId, so these
fields are all the skill adds: identifiers, intent names and timings, never tokens, slot values or
envelopes.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import IntentRequest, Response

log = logging.getLogger(__name__)

_STARTED = "started_monotonic"
CHANGE = "change"
"""The request attribute holding the controls.Change a request made (handlers._carry_out)."""


def request_fields(handler_input: HandlerInput) -> dict[str, Any]:
    """What identifies the request in a log line; latency once the request timer has started."""
    request = handler_input.request_envelope.request
    fields: dict[str, Any] = {}
    if request is not None:  # the SDK's model allows an envelope without one; Alexa always sends it
        fields.update(alexa_request_id=request.request_id, request_type=request.object_type)
    if isinstance(request, IntentRequest) and request.intent is not None:
        fields["intent"] = request.intent.name
    started = _started(handler_input)
    if started is not None:
        fields["latency_ms"] = round((time.monotonic() - started) * 1000.0, 1)
    return fields


def _started(handler_input: HandlerInput) -> float | None:
    """When RequestTimer saw the request (time.monotonic()), if it did."""
    started = handler_input.attributes_manager.request_attributes.get(_STARTED)
    return started if isinstance(started, float) else None


class RequestTimer(AbstractRequestInterceptor):
    def process(self, handler_input: HandlerInput) -> None:
        handler_input.attributes_manager.request_attributes[_STARTED] = time.monotonic()


class ResponseLogger(AbstractResponseInterceptor):
    def process(self, handler_input: HandlerInput, response: Response) -> None:
        log.info(
            "handled",
            extra={**request_fields(handler_input), "ends_session": bool(response and response.should_end_session)},
        )


class ChangeReporter(AbstractResponseInterceptor):
    """Live state: after the answer to a request that changed a thermostat is decided, one
    ChangeReport (cause VOICE_INTERACTION) per user who sees it, within the request's own deadline
    (`live_state`: live_state.on_first_use.LiveStateOnFirstUse, which also bounds its calls to
    Alexa by the reporter's REPORT_BUDGET_S and loads the reporter at the first change). A failure to report
    never changes the answer."""

    def __init__(self, live_state: Any, request_budget_s: float):
        self._live_state = live_state
        self._request_budget_s = request_budget_s

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        attributes = handler_input.attributes_manager.request_attributes
        change = attributes.get(CHANGE)
        if change is None:
            return
        from nest_skill.sdm_client import Deadline  # the domain's deadline, as the handlers use it

        started = _started(handler_input)
        left = min(
            self._request_budget_s - (time.monotonic() - started if started is not None else 0.0),
            Deadline.for_request(handler_input.context).remaining(),
        )
        try:
            self._live_state.report_change(change, Deadline(left))
        except Exception:  # the answer stands whatever happens to the report
            log.exception("change report failed", extra=request_fields(handler_input))
