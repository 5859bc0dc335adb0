"""One structured log line per Alexa request.

Lambda's JSON log format turns `extra=` fields into JSON keys beside its own requestId, so these
fields are all the skill adds: identifiers, intent names and timings, never tokens, slot values or
envelopes.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict

from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import IntentRequest, Response

log = logging.getLogger(__name__)

_STARTED = "started_monotonic"


def request_fields(handler_input: HandlerInput) -> Dict[str, Any]:
    """What identifies the request in a log line; latency once the request timer has started."""
    request = handler_input.request_envelope.request
    fields: Dict[str, Any] = {"alexa_request_id": request.request_id, "request_type": request.object_type}
    if isinstance(request, IntentRequest):
        fields["intent"] = request.intent.name
    started = handler_input.attributes_manager.request_attributes.get(_STARTED)
    if started is not None:
        fields["latency_ms"] = round((time.monotonic() - started) * 1000.0, 1)
    return fields


class RequestTimer(AbstractRequestInterceptor):
    def process(self, handler_input: HandlerInput) -> None:
        handler_input.attributes_manager.request_attributes[_STARTED] = time.monotonic()


class ResponseLogger(AbstractResponseInterceptor):
    def process(self, handler_input: HandlerInput, response: Response) -> None:
        log.info("handled", extra={**request_fields(handler_input),
                                   "ends_session": bool(response and response.should_end_session)})
