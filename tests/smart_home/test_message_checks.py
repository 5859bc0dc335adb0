"""The documented-shape check every smart-home test relies on (sandbox.alexa.valid_smart_home)
refuses what Alexa would: it must be able to fail for the other tests to mean anything."""

from __future__ import annotations

import copy

import pytest

from sandbox import alexa
from tests.skill.sdm import thermostat
from tests.smart_home.conftest import setup


@pytest.fixture
def answered(skill, sdm_api):
    """A directive and the skill's valid answer to it."""
    setup(sdm_api, thermostat("living", "Living Room", scale="CELSIUS"))

    def answer(directive):
        reply = skill.lambda_handler(directive, None)
        alexa.valid_smart_home(reply, directive)
        return directive, reply

    return answer


def broken(reply, change):
    reply = copy.deepcopy(reply)
    change(reply)
    return reply


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["event"]["header"].pop("correlationToken"),
        lambda r: r["event"]["header"].update(payloadVersion="2"),
        lambda r: r["event"]["header"].update(messageId="1bd5d003-31b9-476f-ad03-71d471922820"),  # the directive's
        lambda r: r["event"]["endpoint"].update(endpointId="other"),
        lambda r: r["event"]["endpoint"].update(scope={"type": "BearerToken", "token": alexa.TOKEN}),
        lambda r: r["context"]["properties"][0].update(timeOfSample="yesterday"),
        lambda r: r["context"]["properties"].append(dict(r["context"]["properties"][0])),
        lambda r: r["context"]["properties"][-1].update(value={"value": 21, "scale": "CELCIUS"}),
    ],
)
def test_a_state_report_that_breaks_a_documented_rule_is_refused(answered, change):
    directive, reply = answered(alexa.report_state("living"))
    with pytest.raises((AssertionError, KeyError)):
        alexa.valid_smart_home(broken(reply, change), directive)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["event"]["payload"].pop("validRange"),
        lambda r: r["event"]["payload"]["validRange"].pop("maximumValue"),
        lambda r: r["event"]["payload"].update(type="TOO_HOT"),
        lambda r: r["event"]["header"].update(namespace="Alexa.ThermostatController"),
    ],
)
def test_an_error_response_that_breaks_a_documented_rule_is_refused(answered, change):
    directive, reply = answered(alexa.set_target("living", 40, "CELSIUS"))
    assert alexa.error_type(reply) == "TEMPERATURE_VALUE_OUT_OF_RANGE"
    with pytest.raises(AssertionError):
        alexa.valid_smart_home(broken(reply, change), directive)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["event"]["payload"]["endpoints"][0].update(endpointId="enterprises/p/devices/living"),
        lambda r: r["event"]["payload"]["endpoints"][0].update(displayCategories=["CAMERA"]),
        lambda r: r["event"]["payload"]["endpoints"][0]["capabilities"].pop(0),
        lambda r: r["event"]["payload"]["endpoints"][0]["capabilities"][1]["configuration"].update(
            supportedModes=["HEAT", "HEATCOOL"]
        ),
        lambda r: r["event"]["payload"]["endpoints"].append(r["event"]["payload"]["endpoints"][0]),
        lambda r: r["event"]["payload"]["endpoints"][0].update(friendlyName="Kids & Guests"),
        lambda r: r["event"]["payload"]["endpoints"][0].update(friendlyName="Living Room \U0001f525"),
    ],
)
def test_a_discovery_that_breaks_a_documented_rule_is_refused(answered, change):
    directive, reply = answered(alexa.discover())
    with pytest.raises(AssertionError):
        alexa.valid_smart_home(broken(reply, change), directive)


ACCEPT_GRANT = {
    "directive": {
        "header": {
            "namespace": "Alexa.Authorization",
            "name": "AcceptGrant",
            "messageId": "m-1",
            "payloadVersion": "3",
        },
        "payload": {
            "grant": {"type": "OAuth2.AuthorizationCode", "code": "c"},
            "grantee": {"type": "BearerToken", "token": alexa.TOKEN},
        },
    }
}


def test_an_accept_grant_to_a_deployment_without_live_state_says_why_it_failed(skill):
    reply = skill.lambda_handler(copy.deepcopy(ACCEPT_GRANT), None)
    assert reply["event"]["payload"]["message"] == "this deployment does not send Alexa events"


def test_the_accept_grant_failure_alexa_documents_is_accepted_and_no_other(skill):
    """Alexa.Authorization.ErrorResponse ACCEPT_GRANT_FAILED (alexa-authorization.html), as a deployment
    without live state answers every AcceptGrant."""
    reply = skill.lambda_handler(copy.deepcopy(ACCEPT_GRANT), None)
    assert (reply["event"]["header"]["namespace"], alexa.error_type(reply)) == (
        "Alexa.Authorization",
        "ACCEPT_GRANT_FAILED",
    )
    alexa.valid_smart_home(reply, ACCEPT_GRANT)
    for change in (
        lambda r: r["event"]["payload"].update(type="INTERNAL_ERROR"),
        lambda r: r["event"]["header"].update(namespace="Alexa.ThermostatController"),
    ):
        with pytest.raises(AssertionError):
            alexa.valid_smart_home(broken(reply, change), ACCEPT_GRANT)
