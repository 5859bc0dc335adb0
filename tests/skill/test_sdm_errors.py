"""Every way SDM can fail becomes a spoken answer, in time, never a crash. Each SDM answer is read once
(nest_skill.sdm_errors); tests/smart_home/test_failures.py checks the same answers through the
smart-home door."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from nest_skill.sdm_client import (
    LAMBDA_MARGIN_S,
    SDM_BUDGET_S,
    Deadline,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    ProjectUnavailable,
    RateLimited,
    Rejected,
    SdmError,
    ServerFailed,
    Unauthenticated,
    Unavailable,
)
from nest_skill.sdm_errors import Failure, classify
from sandbox import alexa
from sandbox.alexa import card_type, ends_session, spoken
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import DEVICES_URL, PROJECT, command_url, device_list, device_url, error_body, thermostat

LINK = (
    "To control your thermostats, please link your Nest account in the Alexa app. "
    "I've sent a card there to get you started."
)
NO_ACCESS = (
    "Your linked Nest account doesn't give me access to that thermostat. To share it, link your account "
    "again in the Alexa app. I've sent a card there."
)
RATE_LIMITED = "Nest is limiting requests right now. Please try again in a minute."
UNAVAILABLE = "Sorry, I couldn't reach Nest just now. Please try again later."
TIMED_OUT = "Sorry, Nest didn't answer in time. Please try again in a moment."
NOT_AVAILABLE = "Sorry, Nest isn't available to this skill right now. Please try again later."
UNCONFIRMED = (
    "Nest didn't confirm the change to the Living Room, so it may or may not have been made. "
    "Ask me for the status in a moment."
)
SERVICE_DISABLED_MESSAGE = (
    "Smart Device Management API has not been used in project 123456789 before or it is disabled. Enable it by "
    "visiting https://console.developers.google.com/apis/api/smartdevicemanagement.googleapis.com/overview"
    "?project=123456789 then retry."
)
FAILURES = {
    "401": dict(status=401, json=error_body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")),
    "403": dict(status=403, json=error_body(403, "PERMISSION_DENIED", "The caller does not have permission")),
    "403-service-disabled": dict(
        status=403, json=error_body(403, "PERMISSION_DENIED", SERVICE_DISABLED_MESSAGE, "SERVICE_DISABLED")
    ),
    "403-billing-disabled": dict(
        status=403, json=error_body(403, "PERMISSION_DENIED", "Billing is disabled.", "BILLING_DISABLED")
    ),
    "403-consumer-invalid": dict(
        status=403, json=error_body(403, "PERMISSION_DENIED", "Project not found.", "CONSUMER_INVALID")
    ),
    "403-scope": dict(
        status=403, json=error_body(403, "PERMISSION_DENIED", "Insufficient scopes.", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
    ),
    "404": dict(
        status=404, json=error_body(404, "NOT_FOUND", f"Device enterprises/{PROJECT}/devices/living not found.")
    ),
    "429": dict(
        status=429,
        json={
            "error": {
                "code": 429,
                "status": "RESOURCE_EXHAUSTED",
                "message": "Rate limited for the ExecuteDeviceCommand API for the user.",
                "errors": [{"reason": "rateLimitExceeded", "domain": "global"}],
            }
        },
    ),
    "400-mode": dict(
        status=400, json=error_body(400, "FAILED_PRECONDITION", "Command not allowed in current thermostat mode.")
    ),
    "400-eco": dict(
        status=400,
        json=error_body(400, "FAILED_PRECONDITION", "Command not allowed when thermostat in MANUAL_ECO mode."),
    ),
    "400-mode-named": dict(
        status=400,
        json=error_body(
            400,
            "FAILED_PRECONDITION",
            "sdm.devices.commands.ThermostatTemperatureSetpoint.SetRange command not allowed "
            "in current thermostat mode.",
        ),
    ),
    "400-offline": dict(status=400, json=error_body(400, "FAILED_PRECONDITION", "Device is offline.")),
    "400-precondition": dict(status=400, json=error_body(400, "FAILED_PRECONDITION", "Precondition check failed.")),
    "400-out-of-range": dict(
        status=400,
        json=error_body(
            400, "INVALID_ARGUMENT", "Temperature setpoint is out of range [10.000000, 32.222301] in FAHRENHEIT."
        ),
    ),
    "400-range-too-narrow": dict(
        status=400,
        json=error_body(
            400, "INVALID_ARGUMENT", "Temperature setpoint range is smaller than minimum 1.666700 in FAHRENHEIT."
        ),
    ),
    "400-argument": dict(status=400, json=error_body(400, "INVALID_ARGUMENT", "Contains invalid value.")),
    "401-expired": dict(
        status=401,
        json=error_body(
            401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", "ACCESS_TOKEN_EXPIRED"
        ),
    ),
    "404-enterprise": dict(
        status=404, json=error_body(404, "NOT_FOUND", f"Enterprise enterprises/{PROJECT} not found.")
    ),
    "404-command": dict(
        status=404,
        json=error_body(
            404, "NOT_FOUND", "Command sdm.devices.commands.ThermostatTemperatureSetpoint.SetRange not found."
        ),
    ),
    "500": dict(status=500, json=error_body(500, "INTERNAL", "Internal error encountered.")),
    "500-unknown": dict(status=500, json=error_body(500, "UNKNOWN", "Unknown error.")),
    "500-html": dict(status=500, body="<html>Server Error</html>", content_type="text/html"),
    "504": dict(
        status=504, json=error_body(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
    ),
    "503": dict(status=503, json=error_body(503, "UNAVAILABLE", "The service is currently unavailable.")),
    "503-html": dict(status=503, body="<html>Service Unavailable</html>", content_type="text/html"),
    "302": dict(status=302, headers={"Location": "https://accounts.google.com/"}),
    "invalid-json": dict(status=200, body="<html>not json</html>", content_type="text/html"),
    "wrong-shape": dict(status=200, json={"devices": "none"}),
    "connection": dict(body=requests.ConnectionError("connection refused")),
    "timeout": dict(body=requests.ReadTimeout("read timed out")),
}


@pytest.mark.parametrize(
    "failure, expected, card",
    [
        ("401", LINK, "LinkAccount"),
        ("401-expired", LINK, "LinkAccount"),
        ("403", NO_ACCESS, "LinkAccount"),
        ("403-scope", NO_ACCESS, "LinkAccount"),
        ("403-service-disabled", NOT_AVAILABLE, None),
        ("403-billing-disabled", NOT_AVAILABLE, None),
        ("403-consumer-invalid", NOT_AVAILABLE, None),
        # A 404 on the list is the enterprise (the operator's Device Access project), not a thermostat.
        ("404-enterprise", NOT_AVAILABLE, None),
        ("429", RATE_LIMITED, None),
        ("500", UNAVAILABLE, None),
        ("503-html", UNAVAILABLE, None),
        ("302", UNAVAILABLE, None),
        ("invalid-json", UNAVAILABLE, None),
        ("wrong-shape", UNAVAILABLE, None),
        ("connection", UNAVAILABLE, None),
        ("timeout", TIMED_OUT, None),
    ],
)
def test_a_failed_device_list_is_explained(skill, sdm_api, failure, expected, card):
    sdm_api.get(DEVICES_URL, **FAILURES[failure])
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply) == expected
    assert ends_session(reply)
    assert card_type(reply) == card


@pytest.mark.parametrize(
    "failure, expected, card",
    [
        ("401", LINK, "LinkAccount"),
        ("403", NO_ACCESS, "LinkAccount"),
        ("403-service-disabled", NOT_AVAILABLE, None),
        ("404", "I couldn't find the Living Room on your Nest account any more. It may have been removed.", None),
        ("429", RATE_LIMITED, None),
        (
            "400-mode",
            "The Living Room isn't in a mode that allows that right now, so nothing changed. "
            "Check its mode in the Nest app.",
            None,
        ),
        ("400-eco", "The Living Room is in eco mode, so I didn't change it. Say, turn off eco, first.", None),
        ("400-offline", "The Living Room is offline, so I couldn't change it.", None),
        (
            "400-precondition",
            "Nest refused that change to the Living Room just now, so nothing changed. Check it in the Nest app.",
            None,
        ),
        ("400-out-of-range", "The Living Room can be set between 50 and 90 degrees, so nothing changed.", None),
        ("400-argument", "Sorry, Nest didn't accept that change.", None),
        ("500", UNCONFIRMED, None),
        ("connection", UNAVAILABLE, None),
        (
            "timeout",
            "Nest didn't confirm the change to the Living Room, so it may or may not have been made. "
            "Ask me for the status in a moment.",
            None,
        ),
    ],
)
def test_a_failed_command_is_explained(skill, sdm_api, failure, expected, card):
    """A refusal that stale state could explain is checked against the device read afresh, which
    here is unchanged (or gone, for the 404), so the refusal's own reason is the true one."""
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living")))
    sdm_api.post(command_url("living"), **FAILURES[failure])
    sdm_api.get(device_url("living"), **(FAILURES["404"] if failure == "404" else {"json": thermostat("living")}))
    reply = skill.lambda_handler(alexa.set_temp("70", "living room"), None)
    assert spoken(reply) == expected
    assert ends_session(reply)
    assert card_type(reply) == card


def test_a_refused_command_refreshes_the_device_list_next_time(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living")))
    sdm_api.post(command_url("living"), **FAILURES["400-mode"])
    sdm_api.get(device_url("living"), json=thermostat("living"))
    skill.lambda_handler(alexa.set_temp("70"), None)
    skill.lambda_handler(alexa.status(), None)
    assert [(c.request.method, c.request.url) for c in sdm_api.calls] == [
        ("GET", DEVICES_URL),
        ("POST", command_url("living")),
        ("GET", device_url("living")),
        ("GET", DEVICES_URL),
    ]


def test_a_failed_list_is_not_cached(skill, sdm_api):
    sdm_api.get(DEVICES_URL, **FAILURES["500"])
    skill.lambda_handler(alexa.status(), None)
    sdm_api.replace("GET", DEVICES_URL, json=device_list(thermostat()))
    assert spoken(skill.lambda_handler(alexa.status(), None)).startswith("The Living Room is 71 degrees")


@pytest.fixture
def hung_sdm():
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


@pytest.mark.parametrize("event", [alexa.status(), alexa.set_temp("70", "living room")], ids=["status", "set"])
def test_a_hung_api_still_gets_an_answer_before_lambda_runs_out_of_time(load_skill, hung_sdm, event):
    skill = load_skill(sdm_api_base_url=hung_sdm)
    started = time.monotonic()
    reply = skill.lambda_handler(event, LambdaContext(remaining_ms=2000))
    assert time.monotonic() - started < 2.0 - LAMBDA_MARGIN_S + 0.3
    assert spoken(reply) == TIMED_OUT


def test_the_deadline_leaves_time_to_answer_within_alexas_eight_seconds():
    assert SDM_BUDGET_S <= 6.0
    assert Deadline.for_request(None).remaining() <= SDM_BUDGET_S
    assert Deadline.for_request(LambdaContext(remaining_ms=3000)).remaining() <= 3.0 - LAMBDA_MARGIN_S
    assert Deadline.for_request(LambdaContext(remaining_ms=100)).remaining() == 0.0


def test_no_time_left_means_no_call_at_all(skill, sdm_api):
    reply = skill.lambda_handler(alexa.status(), LambdaContext(remaining_ms=400))
    assert spoken(reply) == TIMED_OUT
    assert len(sdm_api.calls) == 0


@pytest.mark.parametrize(
    "failure, expected",
    [
        (requests.ConnectTimeout("connect timed out"), TIMED_OUT),
        (requests.ConnectionError("connection refused"), UNAVAILABLE),
    ],
)
def test_a_command_that_never_reached_nest_is_not_said_to_have_maybe_run(skill, sdm_api, failure, expected):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living")))
    sdm_api.post(command_url("living"), body=failure)
    reply = skill.lambda_handler(alexa.set_temp("70", "living room"), None)
    assert spoken(reply) == expected


@pytest.mark.parametrize(
    "status, body, kind, reason",
    [
        (400, error_body(400, "RESOURCE_EXHAUSTED", "Rate limited"), RateLimited, ""),
        (429, {}, RateLimited, ""),
        (429, "not json", RateLimited, ""),
        (503, "null", Unavailable, ""),
        (404, "[1]", NotFound, ""),
        (400, '"RESOURCE_EXHAUSTED"', Rejected, ""),
        (400, error_body(400, "UNAUTHENTICATED", "no"), Unauthenticated, ""),
        (401, {}, Unauthenticated, ""),
        (400, error_body(400, "NOT_FOUND", "gone"), NotFound, ""),
        (404, {"error": "a string"}, NotFound, ""),
        (400, error_body(400, "FAILED_PRECONDITION", "offline"), FailedPrecondition, ""),
        (403, {}, PermissionDenied, ""),
        (400, error_body(400, "PERMISSION_DENIED", "no"), PermissionDenied, ""),
        (
            403,
            error_body(403, "PERMISSION_DENIED", "scope", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"),
            PermissionDenied,
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        ),
        (403, error_body(403, "PERMISSION_DENIED", "off", "SERVICE_DISABLED"), ProjectUnavailable, "SERVICE_DISABLED"),
        (403, {"error": {"details": [{"@type": "other", "reason": "SERVICE_DISABLED"}]}}, PermissionDenied, ""),
        (403, error_body(403, "INVALID_ARGUMENT", "no"), Rejected, ""),
        (400, error_body(400, "INVALID_ARGUMENT", "Invalid value"), Rejected, ""),
        (499, {}, Rejected, ""),
        (500, error_body(500, "INTERNAL", "oops"), ServerFailed, ""),
        (500, error_body(500, "UNKNOWN", "oops"), ServerFailed, ""),
        (504, error_body(504, "DEADLINE_EXCEEDED", "late"), ServerFailed, ""),
        (500, {}, ServerFailed, ""),
        (504, "<html>Gateway Timeout</html>", ServerFailed, ""),
        (500, error_body(500, "UNAVAILABLE", "overloaded"), Unavailable, ""),
        (503, error_body(503, "UNAVAILABLE", "The service is currently unavailable."), Unavailable, ""),
        (502, {}, Unavailable, ""),
        (503, {}, Unavailable, ""),
        (302, {}, Unavailable, ""),
    ],
)
def test_each_sdm_error_is_classified(client, sdm_api, status, body, kind, reason):
    if isinstance(body, str):
        sdm_api.get(DEVICES_URL, status=status, body=body)
    else:
        sdm_api.get(DEVICES_URL, status=status, json=body)
    with pytest.raises(SdmError) as error:
        client.list_devices("token", Deadline(5))
    said = body.get("error") if isinstance(body, dict) else None
    assert type(error.value) is kind
    assert (str(error.value), error.value.status, error.value.reason) == (
        f"devices.list: {kind.__name__} (HTTP {status})",
        status,
        reason,
    )
    assert error.value.detail == (said.get("message", "") if isinstance(said, dict) else "")


@pytest.mark.parametrize(
    "message, failure",
    [
        ("Thermostat is in Eco mode.", Failure.ECO_DISALLOWS),
        ("Command Not Allowed In Current Mode.", Failure.MODE_DISALLOWS),
    ],
)
def test_a_precondition_is_read_whatever_the_case_of_its_message(message, failure):
    assert classify(FailedPrecondition("devices.executeCommand", 400, message)) is failure


def test_an_error_info_without_a_reason_is_the_users_to_fix(client, sdm_api):
    sdm_api.get(
        DEVICES_URL,
        status=403,
        json={
            "error": {
                "code": 403,
                "status": "PERMISSION_DENIED",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo"}],
            }
        },
    )
    with pytest.raises(PermissionDenied) as error:
        client.list_devices("token", Deadline(5))
    assert (str(error.value), error.value.reason) == ("devices.list: PermissionDenied (HTTP 403)", "")
