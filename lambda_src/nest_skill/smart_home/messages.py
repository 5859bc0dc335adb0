"""Alexa Smart Home v3 events, built one way (developer.amazon.com/docs/device-apis/alexa-response.html,
alexa-errorresponse.html, alexa-statereport, alexa-discovery.html).

Every event has a header with a new `messageId`, `payloadVersion` "3" and the directive's
`correlationToken` when it had one. The endpoint is named by its `endpointId` only: the user's
token (`scope`) is never written back to Alexa's directives; a proactive `ChangeReport` (sent to the
event gateway, not answered) carries the user's LWA token in `scope`, as the gateway requires.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PAYLOAD_VERSION = "3"


@dataclass(frozen=True)
class Property:
    """One reported property (`context.properties[]`): `value` as the interface defines it
    (a temperature is `{"value", "scale"}`), sampled at `sampled_at` (seconds since the epoch),
    known to within `uncertainty_ms`."""

    namespace: str
    name: str
    value: Any
    sampled_at: float
    uncertainty_ms: int

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "value": self.value,
            "timeOfSample": timestamp(self.sampled_at),
            "uncertaintyInMilliseconds": self.uncertainty_ms,
        }


def timestamp(moment: float) -> str:
    """ISO 8601 in UTC with hundredths and a `Z`, as Alexa's examples write `timeOfSample`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + f".{int(moment % 1 * 100):02d}Z"


def message_id() -> str:
    """A new `messageId`: a version 4 (random) UUID, as Alexa recommends (any unique string of letters,
    digits and dashes under 128 characters is valid). `uuid` loads at the first smart-home message,
    not with the skill: it also loads `platform`, and a custom-skill request never needs it."""
    import uuid

    return str(uuid.uuid4())


def header(namespace: str, name: str, correlation_token: str | None) -> dict[str, Any]:
    result = {"namespace": namespace, "name": name, "payloadVersion": PAYLOAD_VERSION, "messageId": message_id()}
    if correlation_token is not None:
        result["correlationToken"] = correlation_token
    return result


def event(
    namespace: str,
    name: str,
    correlation_token: str | None,
    payload: dict[str, Any],
    endpoint_id: str | None = None,
    properties: Sequence[Property] = (),
) -> dict[str, Any]:
    """`{"event": {header, endpoint?, payload}, "context"?: {"properties": [...]}}`."""
    body: dict[str, Any] = {"header": header(namespace, name, correlation_token)}
    if endpoint_id is not None:
        body["endpoint"] = {"endpointId": endpoint_id}
    body["payload"] = payload
    message: dict[str, Any] = {"event": body}
    if properties:
        message["context"] = {"properties": [p.to_json() for p in properties]}
    return message


def discover_response(correlation_token: str | None, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    return event("Alexa.Discovery", "Discover.Response", correlation_token, {"endpoints": endpoints})


def response(correlation_token: str | None, endpoint_id: str, properties: Sequence[Property]) -> dict[str, Any]:
    """`Alexa.Response`: a directive carried out, with the endpoint's state after it."""
    return event("Alexa", "Response", correlation_token, {}, endpoint_id, properties)


def state_report(correlation_token: str | None, endpoint_id: str, properties: Sequence[Property]) -> dict[str, Any]:
    return event("Alexa", "StateReport", correlation_token, {}, endpoint_id, properties)


def error_response(
    namespace: str,
    error_type: str,
    message: str,
    correlation_token: str | None,
    endpoint_id: str | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`<namespace>.ErrorResponse` ("Alexa" or "Alexa.ThermostatController"); `message` is for
    Alexa's logs, never spoken; `extra` are the type's own fields (`validRange`, ...)."""
    payload = {"type": error_type, "message": message, **(extra or {})}
    return event(namespace, "ErrorResponse", correlation_token, payload, endpoint_id)


def change_report(
    endpoint_id: str, scope_token: str, cause: str, changed: Sequence[Property], unchanged: Sequence[Property]
) -> dict[str, Any]:
    """`Alexa.ChangeReport` (developer.amazon.com/docs/device-apis/alexa-changereport.html): the
    properties that changed in `payload.change` with their `cause` (VOICE_INTERACTION, ...), the
    endpoint's other properties in `context`; `scope` is the user's LWA access token. No
    correlationToken: it answers no directive."""
    message = event(
        "Alexa",
        "ChangeReport",
        None,
        {"change": {"cause": {"type": cause}, "properties": [p.to_json() for p in changed]}},
        endpoint_id,
        unchanged,
    )
    message["event"]["endpoint"]["scope"] = {"type": "BearerToken", "token": scope_token}
    return message


def accept_grant_response() -> dict[str, Any]:
    """`Alexa.Authorization.AcceptGrant.Response` (developer.amazon.com/docs/device-apis/alexa-authorization.html)."""
    return event("Alexa.Authorization", "AcceptGrant.Response", None, {})
