"""Every failure is one valid ErrorResponse, in time, mapped once from what the domain knows; no
exception escapes, and nothing is sent to a thermostat that was not exactly the one addressed."""

from __future__ import annotations

import pytest
import requests

from sandbox import alexa
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import DEVICES_URL, command_url, device_list, device_url, error_body, thermostat
from tests.smart_home.conftest import setup


def commands(sdm_api):
    return [c for c in sdm_api.calls if c.request.method == "POST"]


@pytest.mark.parametrize("status, body, expected", [
    (429, error_body(429, "RESOURCE_EXHAUSTED", "Rate limited"), "RATE_LIMIT_EXCEEDED"),
    (401, error_body(401, "UNAUTHENTICATED", "expired", "ACCESS_TOKEN_EXPIRED"), "EXPIRED_AUTHORIZATION_CREDENTIAL"),
    (401, error_body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
     "INVALID_AUTHORIZATION_CREDENTIAL"),
    (403, error_body(403, "PERMISSION_DENIED", "The caller does not have permission"),
     "INVALID_AUTHORIZATION_CREDENTIAL"),
    (500, error_body(500, "INTERNAL", "Internal error"), "INTERNAL_ERROR"),
    (503, {}, "INTERNAL_ERROR"),
    (403, error_body(403, "PERMISSION_DENIED", "disabled", "SERVICE_DISABLED"), "INTERNAL_ERROR"),
])
def test_sdm_failures_listing_devices(send, sdm_api, status, body, expected):
    sdm_api.get(DEVICES_URL, status=status, json=body)
    for directive in (alexa.report_state("living"), alexa.set_target("living", 70), alexa.set_mode("living", "ECO")):
        reply = send(directive)
        assert alexa.error_type(reply) == expected
        assert "Bearer" not in reply["event"]["payload"]["message"]


def test_a_rate_limited_command_is_rate_limit_exceeded(send, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", "Living Room")))
    sdm_api.post(command_url("living"), status=429, json=error_body(429, "RESOURCE_EXHAUSTED", "Rate limited"))
    assert alexa.error_type(send(alexa.adjust("living", 1))) == "RATE_LIMIT_EXCEEDED"


def test_a_device_gone_since_the_list_is_no_such_endpoint(send, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", "Living Room")))
    sdm_api.post(command_url("living"), status=404, json=error_body(404, "NOT_FOUND", "Device not found"))
    sdm_api.get(device_url("living"), status=404, json=error_body(404, "NOT_FOUND", "Device not found"))
    assert alexa.error_type(send(alexa.set_target("living", 70))) == "NO_SUCH_ENDPOINT"


def test_a_refusal_fresh_state_explains_is_answered_from_the_fresh_state(send, sdm_api):
    """The list said heat; the thermostat was turned off since: SDM refuses, the fresh read says off."""
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", "Living Room", mode="HEAT")))
    sdm_api.post(command_url("living"), status=400,
                 json=error_body(400, "FAILED_PRECONDITION", "Cannot change setpoint in OFF mode"))
    sdm_api.get(device_url("living"), json=thermostat("living", "Living Room", mode="OFF"))
    assert alexa.error_type(send(alexa.set_target("living", 70))) == "THERMOSTAT_IS_OFF"


@pytest.mark.parametrize("directive", [alexa.set_target("livingroom", 70), alexa.adjust("Living", 1),
                                       alexa.set_mode("living ", "COOL"), alexa.set_mode("Living Room", "COOL")])
def test_only_the_exact_endpoint_is_acted_on(send, sdm_api, directive):
    setup(sdm_api, thermostat("living", "Living Room"), thermostat("living2", "Living Room 2"))
    assert alexa.error_type(send(directive)) == "NO_SUCH_ENDPOINT"
    assert commands(sdm_api) == []


def test_an_offline_thermostat_is_endpoint_unreachable(send, sdm_api):
    setup(sdm_api, thermostat("attic", "Attic", online=False))
    for directive in (alexa.set_target("attic", 70), alexa.adjust("attic", 1), alexa.set_mode("attic", "COOL")):
        assert alexa.error_type(send(directive)) == "ENDPOINT_UNREACHABLE"
    assert commands(sdm_api) == []


@pytest.mark.parametrize("directive", [
    alexa.report_state("living", token=None), alexa.set_target("living", 70, token=""),
])
def test_no_linked_token_is_an_invalid_credential(send, sdm_api, directive):
    assert alexa.error_type(send(directive)) == "INVALID_AUTHORIZATION_CREDENTIAL"
    assert len(sdm_api.calls) == 0


@pytest.mark.parametrize("payload", [{}, {"targetSetpoint": {"value": "seventy", "scale": "FAHRENHEIT"}},
                                     {"targetSetpoint": {"value": 70, "scale": "RANKINE"}},
                                     {"targetSetpoint": {"value": float("nan"), "scale": "CELSIUS"}},
                                     {"targetSetpoint": 70}])
def test_a_malformed_setpoint_is_invalid_value(send, sdm_api, payload):
    setup(sdm_api, thermostat("living", "Living Room"))
    directive = alexa.directive("Alexa.ThermostatController", "SetTargetTemperature", payload, endpoint_id="living")
    assert alexa.error_type(send(directive)) == "INVALID_VALUE"
    assert commands(sdm_api) == []


def test_a_zero_delta_is_invalid_value(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room"))
    assert alexa.error_type(send(alexa.adjust("living", 0))) == "INVALID_VALUE"


@pytest.mark.parametrize("directive", [
    alexa.directive("Alexa.PowerController", "TurnOn", endpoint_id="living"),
    alexa.directive("Alexa.ThermostatController", "ResumeSchedule", endpoint_id="living"),
    {"directive": {"header": {"namespace": "Alexa", "name": "ReportState", "payloadVersion": "2",
                              "messageId": "m"}, "payload": {}}},
    alexa.directive("Alexa", "ReportState"),
])
def test_a_directive_this_skill_does_not_handle_is_invalid_directive(send, sdm_api, directive):
    assert alexa.error_type(send(directive)) == "INVALID_DIRECTIVE"


@pytest.mark.parametrize("event", [{"directive": None}, {"directive": {"header": "x"}}, {"directive": []}])
def test_garbage_with_a_directive_key_still_gets_an_error_response(skill, event):
    reply = skill.lambda_handler(event, LambdaContext(7000))
    assert reply["event"]["header"]["name"] == "ErrorResponse"
    assert reply["event"]["payload"]["type"] == "INVALID_DIRECTIVE"


def test_an_unexpected_failure_is_internal_error_not_an_exception(skill, sdm_api, monkeypatch):
    setup(sdm_api, thermostat("living", "Living Room"))
    monkeypatch.setattr("nest_skill.smart_home.endpoints.discovery_endpoint",
                        lambda t: (_ for _ in ()).throw(RuntimeError("bug")))
    monkeypatch.setattr("nest_skill.account.NestAccount.carry_out",
                        lambda *a: (_ for _ in ()).throw(KeyError("bug")))
    directive = alexa.set_target("living", 70)
    reply = skill.lambda_handler(directive, LambdaContext(7000))
    alexa.valid_smart_home(reply, directive)
    assert alexa.error_type(reply) == "INTERNAL_ERROR"


def test_no_time_left_for_sdm_is_answered_at_once_without_calling_it(send, sdm_api):
    """SDM shares the directive's wall-clock deadline (issue 9): with Lambda about to time out,
    the answer is an error now rather than no answer at all."""
    setup(sdm_api, thermostat("living", "Living Room"))
    reply = send(alexa.report_state("living"), LambdaContext(300))
    assert alexa.error_type(reply) == "INTERNAL_ERROR"
    assert len(sdm_api.calls) == 0


def test_a_command_whose_answer_timed_out_is_internal_error_saying_it_may_have_been_made(send, sdm_api):
    """There is no Alexa error for "sent but unconfirmed"; Alexa's log gets the truth."""
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", "Living Room")))
    sdm_api.post(command_url("living"), body=requests.ReadTimeout("read timed out"))
    reply = send(alexa.set_target("living", 70))
    assert alexa.error_type(reply) == "INTERNAL_ERROR"
    assert "may have been made" in reply["event"]["payload"]["message"]


@pytest.mark.parametrize("failure", [requests.ConnectTimeout("connect timed out"),
                                     requests.ConnectionError("connection refused")])
def test_a_command_that_never_connected_is_not_said_to_have_maybe_run(send, sdm_api, failure):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", "Living Room")))
    sdm_api.post(command_url("living"), body=failure)
    reply = send(alexa.set_target("living", 70))
    assert alexa.error_type(reply) == "INTERNAL_ERROR"
    assert "may have been made" not in reply["event"]["payload"]["message"]
