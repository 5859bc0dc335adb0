"""Alexa request envelopes shaped as in the ASK request reference, and checks that a reply is a
response Alexa accepts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, Mapping, Optional

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import ResponseEnvelope

# Fake values: they must not look like real Amazon or Google tokens.
TOKEN = "linked-test-token-0123456789"
OTHER_TOKEN = "linked-test-token-other-user"
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000c0de"
USER_ID = "amzn1.ask.account.TESTUSER"


def envelope(request: Dict[str, Any], *, token: Optional[str] = TOKEN, session: bool = True,
             attributes: Optional[Mapping[str, Any]] = None, application_id: str = SKILL_ID) -> Dict[str, Any]:
    user: Dict[str, Any] = {"userId": USER_ID}
    if token is not None:
        user["accessToken"] = token
    application = {"applicationId": application_id}
    event: Dict[str, Any] = {
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


def _request(request_type: str, **fields: Any) -> Dict[str, Any]:
    return {"type": request_type, "requestId": "amzn1.echo-api.request.TESTREQUEST",
            "timestamp": "2026-11-24T12:00:00Z", "locale": "en-US", **fields}


def launch(**kwargs: Any) -> Dict[str, Any]:
    return envelope(_request("LaunchRequest"), **kwargs)


def session_ended(reason: str = "USER_INITIATED", error: Optional[Dict[str, str]] = None, **kwargs: Any):
    fields: Dict[str, Any] = {"reason": reason}
    if error:
        fields["error"] = error
    return envelope(_request("SessionEndedRequest", **fields), **kwargs)


def slot(name: str, value: Optional[str] = None, resolved: Optional[str] = None,
         er_status: str = "ER_SUCCESS_MATCH") -> Dict[str, Any]:
    """A slot as Alexa sends it; `resolved` adds a custom slot type's entity resolution."""
    result: Dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if value is not None:
        result["value"] = value
        result["source"] = "USER"
    if resolved is not None or er_status != "ER_SUCCESS_MATCH":
        values = [{"value": {"name": resolved, "id": resolved.upper().replace(" ", "_")}}] if resolved else []
        result["resolutions"] = {"resolutionsPerAuthority": [{
            "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.ROOM",
            "status": {"code": er_status},
            **({"values": values} if values else {}),
        }]}
    return result


def resolved_slot(name: str, heard: Optional[str], type_name: str, slot_id: Optional[str]) -> Dict[str, Any]:
    """A custom-type slot with entity resolution's verdict: ER_SUCCESS_MATCH with `slot_id`, or
    ER_SUCCESS_NO_MATCH when `slot_id` is None (what was heard is kept either way)."""
    result = slot(name, heard)
    if heard is not None:
        authority: Dict[str, Any] = {"authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.{type_name}",
                                     "status": {"code": "ER_SUCCESS_MATCH" if slot_id else "ER_SUCCESS_NO_MATCH"}}
        if slot_id:
            authority["values"] = [{"value": {"name": heard, "id": slot_id}}]
        result["resolutions"] = {"resolutionsPerAuthority": [authority]}
    return result


def intent(name: str, slots: Optional[Mapping[str, Dict[str, Any]]] = None, **kwargs: Any) -> Dict[str, Any]:
    body: Dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if slots is not None:
        body["slots"] = dict(slots)
    return envelope(_request("IntentRequest", dialogState="COMPLETED", intent=body), **kwargs)


def set_temp(temperature: Optional[str] = None, thermostat: Optional[str] = None, resolved: Optional[str] = None,
             er_status: str = "ER_SUCCESS_MATCH", **kwargs: Any) -> Dict[str, Any]:
    """SetTempIntent as Alexa sends it: both slots are always listed, unfilled ones without a value."""
    return intent("SetTempIntent", {
        "temperature": slot("temperature", temperature),
        "thermostat": slot("thermostat", thermostat, resolved, er_status if thermostat else "ER_SUCCESS_MATCH"),
    }, **kwargs)


def status(thermostat: Optional[str] = None, resolved: Optional[str] = None, **kwargs: Any) -> Dict[str, Any]:
    return intent("StatusIntent", {"thermostat": slot("thermostat", thermostat, resolved)}, **kwargs)


def valid_response(reply: Dict[str, Any]) -> Dict[str, Any]:
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


def spoken(reply: Dict[str, Any]) -> str:
    """The reply's speech as the user hears it (SSML tags and entities removed)."""
    return _heard(valid_response(reply)["outputSpeech"])


def reprompt(reply: Dict[str, Any]) -> str:
    return _heard(valid_response(reply)["reprompt"]["outputSpeech"])


def _heard(speech: Dict[str, str]) -> str:
    return "".join(ElementTree.fromstring(speech["ssml"]).itertext())


def ends_session(reply: Dict[str, Any]) -> bool:
    return valid_response(reply).get("shouldEndSession") is True


def card_type(reply: Dict[str, Any]) -> Optional[str]:
    card = valid_response(reply).get("card")
    return card["type"] if card else None
