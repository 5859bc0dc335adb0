"""Alexa request envelopes shaped as in the ASK request reference, and checks that a reply is a
response Alexa accepts."""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import ResponseEnvelope

# Fake values: they must not look like real Amazon or Google tokens.
TOKEN = "linked-test-token-0123456789"
OTHER_TOKEN = "linked-test-token-other-user"
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000c0de"
USER_ID = "amzn1.ask.account.TESTUSER"


def envelope(
    request: dict[str, Any],
    *,
    token: str | None = TOKEN,
    session: bool = True,
    attributes: Mapping[str, Any] | None = None,
    application_id: str = SKILL_ID,
) -> dict[str, Any]:
    user: dict[str, Any] = {"userId": USER_ID}
    if token is not None:
        user["accessToken"] = token
    application = {"applicationId": application_id}
    event: dict[str, Any] = {
        "version": "1.0",
        "context": {
            "System": {
                "application": application,
                "user": user,
                "device": {"deviceId": "amzn1.ask.device.TESTDEVICE", "supportedInterfaces": {}},
                "apiEndpoint": "https://api.amazonalexa.com",
                "apiAccessToken": "alexa-api-test-token",
            },
        },
        "request": request,
    }
    if session:
        event["session"] = {
            "new": attributes is None,
            "sessionId": "amzn1.echo-api.session.TESTSESSION",
            "application": application,
            "attributes": dict(attributes or {}),
            "user": user,
        }
    return event


def _request(request_type: str, locale: str = "en-US", **fields: Any) -> dict[str, Any]:
    """A request in the user's locale (the language and country of their Alexa device, e.g. "de-DE")."""
    return {
        "type": request_type,
        "requestId": "amzn1.echo-api.request.TESTREQUEST",
        "timestamp": "2026-11-24T12:00:00Z",
        "locale": locale,
        **fields,
    }


def launch(locale: str = "en-US", **kwargs: Any) -> dict[str, Any]:
    return envelope(_request("LaunchRequest", locale), **kwargs)


def session_ended(reason: str = "USER_INITIATED", error: dict[str, str] | None = None, **kwargs: Any):
    fields: dict[str, Any] = {"reason": reason}
    if error:
        fields["error"] = error
    return envelope(_request("SessionEndedRequest", **fields), **kwargs)


def slot(
    name: str, value: str | None = None, resolved: str | None = None, er_status: str = "ER_SUCCESS_MATCH"
) -> dict[str, Any]:
    """A slot as Alexa sends it; `resolved` adds a custom slot type's entity resolution."""
    result: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if value is not None:
        result["value"] = value
        result["source"] = "USER"
    if resolved is not None or er_status != "ER_SUCCESS_MATCH":
        values = [{"value": {"name": resolved, "id": resolved.upper().replace(" ", "_")}}] if resolved else []
        result["resolutions"] = {
            "resolutionsPerAuthority": [
                {
                    "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.ROOM",
                    "status": {"code": er_status},
                    **({"values": values} if values else {}),
                }
            ]
        }
    return result


def resolved_slot(name: str, heard: str | None, type_name: str, slot_id: str | None) -> dict[str, Any]:
    """A custom-type slot with entity resolution's verdict: ER_SUCCESS_MATCH with `slot_id`, or
    ER_SUCCESS_NO_MATCH when `slot_id` is None (what was heard is kept either way)."""
    result = slot(name, heard)
    if heard is not None:
        authority: dict[str, Any] = {
            "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.{type_name}",
            "status": {"code": "ER_SUCCESS_MATCH" if slot_id else "ER_SUCCESS_NO_MATCH"},
        }
        if slot_id:
            authority["values"] = [{"value": {"name": heard, "id": slot_id}}]
        result["resolutions"] = {"resolutionsPerAuthority": [authority]}
    return result


def intent(
    name: str, slots: Mapping[str, dict[str, Any]] | None = None, locale: str = "en-US", **kwargs: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if slots is not None:
        body["slots"] = dict(slots)
    return envelope(_request("IntentRequest", locale, dialogState="COMPLETED", intent=body), **kwargs)


def set_temp(
    temperature: str | None = None,
    thermostat: str | None = None,
    resolved: str | None = None,
    er_status: str = "ER_SUCCESS_MATCH",
    **kwargs: Any,
) -> dict[str, Any]:
    """SetTempIntent as Alexa sends it: both slots are always listed, unfilled ones without a value."""
    return intent(
        "SetTempIntent",
        {
            "temperature": slot("temperature", temperature),
            "thermostat": slot("thermostat", thermostat, resolved, er_status if thermostat else "ER_SUCCESS_MATCH"),
        },
        **kwargs,
    )


def status(thermostat: str | None = None, resolved: str | None = None, **kwargs: Any) -> dict[str, Any]:
    return intent("StatusIntent", {"thermostat": slot("thermostat", thermostat, resolved)}, **kwargs)


def valid_response(reply: dict[str, Any]) -> dict[str, Any]:
    """Assert `reply` is a response envelope Alexa accepts; return its `response`."""
    assert reply["version"] == "1.0"
    response = reply["response"]
    text = json.dumps(reply)
    assert len(text.encode()) <= 24 * 1024
    envelope_model = DefaultSerializer().deserialize(text, ResponseEnvelope)
    assert DefaultSerializer().serialize(envelope_model) == reply, "fields Alexa's model does not know"
    for speech in (response.get("outputSpeech"), (response.get("reprompt") or {}).get("outputSpeech")):
        if speech is None:
            continue
        assert speech["type"] in ("SSML", "PlainText")
        if speech["type"] == "SSML":
            root = ElementTree.fromstring(speech["ssml"])  # raises on unescaped &, < or >
            assert root.tag == "speak"
            assert len(speech["ssml"]) <= 8000
    card = response.get("card")
    if card is not None:
        assert card["type"] in ("Simple", "Standard", "LinkAccount", "AskForPermissionsConsent")
        if card["type"] == "Simple":
            assert card["title"] and card["content"]
        if card["type"] == "LinkAccount":
            assert set(card) == {"type"}
    return response


def spoken(reply: dict[str, Any]) -> str:
    """The reply's speech as the user hears it (SSML tags and entities removed)."""
    return _heard(valid_response(reply)["outputSpeech"])


def reprompt(reply: dict[str, Any]) -> str:
    return _heard(valid_response(reply)["reprompt"]["outputSpeech"])


def _heard(speech: dict[str, str]) -> str:
    return "".join(ElementTree.fromstring(speech["ssml"]).itertext())


def ends_session(reply: dict[str, Any]) -> bool:
    return valid_response(reply).get("shouldEndSession") is True


def card_type(reply: dict[str, Any]) -> str | None:
    card = valid_response(reply).get("card")
    return card["type"] if card else None


# Smart Home API v3 (developer.amazon.com/docs/device-apis/alexa-discovery.html,
# alexa-thermostatcontroller.html, alexa-statereport): directive envelopes and a check of every
# response against the documented message shapes. No registry package ships Amazon's
# alexa_smart_home_message_schema.json (docs: how-it-works/smart-home.md), so `valid_smart_home` asserts the
# documented shapes explicitly.
CORRELATION_TOKEN = "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg=="
_ENDPOINT_ID = re.compile(r"^[A-Za-z0-9 _\-=#;:?@&]{1,256}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_SCALES = {"CELSIUS", "FAHRENHEIT", "KELVIN"}
_MODES = {"AUTO", "COOL", "HEAT", "ECO", "OFF", "CUSTOM"}
_DISPLAY_CATEGORIES = {"THERMOSTAT", "TEMPERATURE_SENSOR"}
_ERROR_TYPES = {
    "Alexa": {
        "ALREADY_IN_OPERATION",
        "BRIDGE_UNREACHABLE",
        "CLOUD_CONTROL_DISABLED",
        "ENDPOINT_BUSY",
        "ENDPOINT_LOW_POWER",
        "ENDPOINT_UNREACHABLE",
        "EXPIRED_AUTHORIZATION_CREDENTIAL",
        "FIRMWARE_OUT_OF_DATE",
        "HARDWARE_MALFUNCTION",
        "INSUFFICIENT_PERMISSIONS",
        "INTERNAL_ERROR",
        "INVALID_AUTHORIZATION_CREDENTIAL",
        "INVALID_DIRECTIVE",
        "INVALID_VALUE",
        "NO_SUCH_ENDPOINT",
        "NOT_CALIBRATED",
        "NOT_SUPPORTED_IN_CURRENT_MODE",
        "NOT_IN_OPERATION",
        "POWER_LEVEL_NOT_SUPPORTED",
        "RATE_LIMIT_EXCEEDED",
        "TEMPERATURE_VALUE_OUT_OF_RANGE",
        "TOO_MANY_FAILED_ATTEMPTS",
        "VALUE_OUT_OF_RANGE",
    },
    "Alexa.ThermostatController": {
        "REQUESTED_SETPOINTS_TOO_CLOSE",
        "THERMOSTAT_IS_OFF",
        "UNSUPPORTED_THERMOSTAT_MODE",
        "DUAL_SETPOINTS_UNSUPPORTED",
        "TRIPLE_SETPOINTS_UNSUPPORTED",
        "UNWILLING_TO_SET_SCHEDULE",
        "UNWILLING_TO_SET_VALUE",
    },
    # alexa-authorization.html: the one answer to an AcceptGrant that failed (no endpoint, no correlation token).
    "Alexa.Authorization": {"ACCEPT_GRANT_FAILED"},
}
_NAME_MARKS = {"'", "\u2019", "-", "\u2010"}
"""The punctuation a friendlyName may hold besides letters, digits and spaces (Amazon's discovery objects:
"alphanumeric characters and spaces"): apostrophes and hyphens, which the Alexa app accepts in a name."""
_NOT_TEXT = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
"""Unicode categories of no readable text (controls, format characters, lone surrogates, private-use and
unassigned code points, line and paragraph separators): never in a name or description Alexa shows."""
_DEVICE_MODES = {"COLOR", "ASLEEP", "NOT_PROVISIONED", "OTHER"}
_TEMPERATURE_PROPERTIES = {"targetSetpoint", "lowerSetpoint", "upperSetpoint", "temperature"}


def directive(
    namespace: str,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    endpoint_id: str | None = None,
    token: str | None = TOKEN,
    correlation_token: str | None = CORRELATION_TOKEN,
) -> dict[str, Any]:
    """A v3 directive as Alexa sends it: the token in `endpoint.scope` (or in `payload.scope` for
    Discover, which has no endpoint), `correlationToken` on everything but Discover."""
    header: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": "3",
        "messageId": "1bd5d003-31b9-476f-ad03-71d471922820",
    }
    if correlation_token is not None:
        header["correlationToken"] = correlation_token
    scope = {"type": "BearerToken", "token": token} if token is not None else None
    body: dict[str, Any] = {"header": header}
    if endpoint_id is not None:
        body["endpoint"] = {"endpointId": endpoint_id, "cookie": {}, **({"scope": scope} if scope else {})}
    body["payload"] = dict(payload or {})
    if endpoint_id is None and scope:
        body["payload"]["scope"] = scope
    return {"directive": body}


def discover(**kwargs: Any) -> dict[str, Any]:
    return directive("Alexa.Discovery", "Discover", correlation_token=None, **kwargs)


def report_state(endpoint_id: str, **kwargs: Any) -> dict[str, Any]:
    return directive("Alexa", "ReportState", endpoint_id=endpoint_id, **kwargs)


def degrees(value: float, scale: str = "FAHRENHEIT") -> dict[str, Any]:
    return {"value": value, "scale": scale}


def set_target(
    endpoint_id: str,
    target: float | None = None,
    scale: str = "FAHRENHEIT",
    lower: float | None = None,
    upper: float | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    payload = {
        field: degrees(value, scale)
        for field, value in (("targetSetpoint", target), ("lowerSetpoint", lower), ("upperSetpoint", upper))
        if value is not None
    }
    return directive("Alexa.ThermostatController", "SetTargetTemperature", payload, endpoint_id=endpoint_id, **kwargs)


def adjust(endpoint_id: str, delta: float, scale: str = "FAHRENHEIT", **kwargs: Any) -> dict[str, Any]:
    return directive(
        "Alexa.ThermostatController",
        "AdjustTargetTemperature",
        {"targetSetpointDelta": degrees(delta, scale)},
        endpoint_id=endpoint_id,
        **kwargs,
    )


def set_mode(endpoint_id: str, mode: str, **kwargs: Any) -> dict[str, Any]:
    return directive(
        "Alexa.ThermostatController",
        "SetThermostatMode",
        {"thermostatMode": {"value": mode}},
        endpoint_id=endpoint_id,
        **kwargs,
    )


def _temperature(value: Any, where: str) -> None:
    assert isinstance(value, dict) and set(value) == {"value", "scale"}, f"{where}: {value!r}"
    assert isinstance(value["value"], (int, float)) and not isinstance(value["value"], bool), where
    assert value["scale"] in _SCALES, where


def _capability(capability: dict[str, Any]) -> None:
    assert set(capability) <= {"type", "interface", "version", "properties", "configuration"}, capability
    assert capability["type"] == "AlexaInterface" and capability["version"] == "3", capability
    assert isinstance(capability["interface"], str) and capability["interface"].startswith("Alexa")
    properties = capability.get("properties")
    if properties is not None:
        assert set(properties) == {"supported", "proactivelyReported", "retrievable"}, properties
        assert properties["supported"] and all(set(p) == {"name"} for p in properties["supported"])
        assert isinstance(properties["proactivelyReported"], bool) and isinstance(properties["retrievable"], bool)
    if capability["interface"] == "Alexa.ThermostatController":
        configuration = capability["configuration"]
        assert set(configuration) <= {"supportedModes", "supportsScheduling"}, configuration
        assert configuration["supportedModes"] and set(configuration["supportedModes"]) <= _MODES
        assert len(set(configuration["supportedModes"])) == len(configuration["supportedModes"])
        assert isinstance(configuration["supportsScheduling"], bool)


def _endpoint(endpoint: dict[str, Any]) -> None:
    assert set(endpoint) <= {
        "endpointId",
        "manufacturerName",
        "friendlyName",
        "description",
        "displayCategories",
        "capabilities",
        "cookie",
        "additionalAttributes",
        "connections",
        "relationships",
    }
    assert _ENDPOINT_ID.match(endpoint["endpointId"]), endpoint["endpointId"]
    for field in ("manufacturerName", "friendlyName", "description"):
        assert isinstance(endpoint[field], str) and 0 < len(endpoint[field]) <= 128, field
        assert not [c for c in endpoint[field] if unicodedata.category(c) in _NOT_TEXT], (field, endpoint[field])
        assert endpoint[field] == " ".join(endpoint[field].split()), (field, endpoint[field])
    categories = [(c, unicodedata.category(c)) for c in endpoint["friendlyName"]]
    assert all(
        c.isspace() or c in _NAME_MARKS or (category[0] in "LNM" and category != "Me") for c, category in categories
    ), endpoint["friendlyName"]
    assert endpoint["displayCategories"] and set(endpoint["displayCategories"]) <= _DISPLAY_CATEGORIES
    interfaces = [c["interface"] for c in endpoint["capabilities"]]
    assert "Alexa" in interfaces and len(set(interfaces)) == len(interfaces), interfaces
    for capability in endpoint["capabilities"]:
        _capability(capability)


def _property(prop: dict[str, Any]) -> None:
    assert set(prop) == {"namespace", "name", "value", "timeOfSample", "uncertaintyInMilliseconds"}, prop
    assert _TIME.match(prop["timeOfSample"]), prop["timeOfSample"]
    assert isinstance(prop["uncertaintyInMilliseconds"], int) and prop["uncertaintyInMilliseconds"] >= 0
    if prop["name"] in _TEMPERATURE_PROPERTIES:
        _temperature(prop["value"], prop["name"])
    elif prop["name"] == "thermostatMode":
        assert prop["value"] in _MODES, prop
    elif prop["name"] == "connectivity":
        assert prop["value"] in ({"value": "OK"}, {"value": "UNREACHABLE"}), prop


def valid_smart_home(reply: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """Assert `reply` is a v3 message Alexa accepts for the directive `sent`: the documented header
    (new messageId, payloadVersion "3", the directive's correlationToken), the endpoint addressed,
    and per event its payload and properties. Returns `reply["event"]`."""
    assert set(reply) <= {"event", "context"}, reply.keys()
    json.dumps(reply, allow_nan=False)
    event = reply["event"]
    assert set(event) <= {"header", "endpoint", "payload"}, event.keys()
    header, asked = event["header"], sent["directive"]["header"]
    assert set(header) <= {"namespace", "name", "messageId", "payloadVersion", "correlationToken"}, header
    assert header["payloadVersion"] == "3"
    assert isinstance(header["messageId"], str) and 0 < len(header["messageId"]) <= 128
    assert header["messageId"] != asked.get("messageId")
    assert header.get("correlationToken") == asked.get("correlationToken")
    payload = event["payload"]
    assert isinstance(payload, dict)
    name = (header["namespace"], header["name"])
    if name == ("Alexa.Discovery", "Discover.Response"):
        assert "endpoint" not in event and "context" not in reply
        assert set(payload) == {"endpoints"} and len(payload["endpoints"]) <= 300
        for endpoint in payload["endpoints"]:
            _endpoint(endpoint)
        ids = [e["endpointId"] for e in payload["endpoints"]]
        assert len(set(ids)) == len(ids), ids
        return event
    wanted = (sent["directive"].get("endpoint") or {}).get("endpointId")
    if wanted is not None:
        assert event["endpoint"]["endpointId"] == wanted
        assert set(event["endpoint"]) == {"endpointId"}, "the user's token is never written back"
    if header["name"] == "ErrorResponse":
        assert header["namespace"] in _ERROR_TYPES and "context" not in reply
        assert payload["type"] in _ERROR_TYPES[header["namespace"]], payload
        assert isinstance(payload["message"], str)
        extra = set(payload) - {"type", "message"}
        if payload["type"] == "TEMPERATURE_VALUE_OUT_OF_RANGE":
            assert extra == {"validRange"} and set(payload["validRange"]) == {"minimumValue", "maximumValue"}
            for bound in payload["validRange"].values():
                _temperature(bound, "validRange")
        elif payload["type"] == "REQUESTED_SETPOINTS_TOO_CLOSE":
            assert extra == {"minimumTemperatureDelta"}
            _temperature(payload["minimumTemperatureDelta"], "minimumTemperatureDelta")
        elif payload["type"] == "NOT_SUPPORTED_IN_CURRENT_MODE":
            assert extra == {"currentDeviceMode"} and payload["currentDeviceMode"] in _DEVICE_MODES
        else:
            assert not extra, payload
        return event
    assert name in {("Alexa", "Response"), ("Alexa", "StateReport")}, name
    assert payload == {}
    properties = reply["context"]["properties"]
    for prop in properties:
        _property(prop)
    keys = [(p["namespace"], p["name"]) for p in properties]
    assert len(set(keys)) == len(keys), keys
    return event


def properties(reply: dict[str, Any]) -> dict[str, Any]:
    """`context.properties` as {name: value}."""
    return {p["name"]: p["value"] for p in reply.get("context", {}).get("properties", [])}


def error_type(reply: dict[str, Any]) -> str | None:
    event = reply["event"]
    return event["payload"]["type"] if event["header"]["name"] == "ErrorResponse" else None
