"""Every failure is one valid ErrorResponse, in time, mapped once from what the domain knows; no
exception escapes, and nothing is sent to a thermostat that was not exactly the one addressed. Each
SDM answer is classified once (nest_skill.sdm_errors): the tables below send it through both front
doors, the custom skill's speech and the smart-home door's error type."""

from __future__ import annotations

import logging

import pytest
import requests

from nest_skill import controls, sdm_client
from nest_skill.smart_home.errors import for_cannot_change, for_sdm_error
from nest_skill.thermostats import Mode, thermostats_in
from sandbox import alexa
from sandbox.alexa import card_type, spoken
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import (
    DEVICES_URL,
    command_url,
    device_list,
    device_url,
    error_body,
    f_to_c,
    sent_command,
    thermostat,
)
from tests.skill.test_sdm_errors import (
    FAILURES,
    LINK,
    NO_ACCESS,
    NOT_AVAILABLE,
    RATE_LIMITED,
    TIMED_OUT,
    UNAVAILABLE,
    UNCONFIRMED,
)
from tests.smart_home.conftest import setup
from tests.smart_home.test_directive_input import altered

THERMOSTAT = "Alexa.ThermostatController"
HEAT_COOL = thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(68), cool_c=f_to_c(74))
"""Set to 70 by either door, it is sent SetRange 66-74 °F; SDM's answer is the row's."""
OTHER_MODE = {"currentDeviceMode": "OTHER"}
MODE_REFUSED = (
    "The Living Room isn't in a mode that allows that right now, so nothing changed. Check its mode in the Nest app."
)


# SDM's answer to executeCommand -> what the custom skill says (and its card) -> the smart-home ErrorResponse.
COMMAND_ANSWERS = [
    (
        "400-offline",
        "The Living Room is offline, so I couldn't change it.",
        None,
        ("Alexa", "ENDPOINT_UNREACHABLE", {}),
    ),
    ("400-mode", MODE_REFUSED, None, ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", OTHER_MODE)),
    ("400-mode-named", MODE_REFUSED, None, ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", OTHER_MODE)),
    (
        "400-eco",
        "The Living Room is in eco mode, so I didn't change it. Say, turn off eco, first.",
        None,
        ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", OTHER_MODE),
    ),
    (
        "400-precondition",
        "Nest refused that change to the Living Room just now, so nothing changed. Check it in the Nest app.",
        None,
        ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", OTHER_MODE),
    ),
    (
        "400-out-of-range",
        "The Living Room can be set between 50 and 90 degrees, so nothing changed.",
        None,
        (
            "Alexa",
            "TEMPERATURE_VALUE_OUT_OF_RANGE",
            {"validRange": {"minimumValue": alexa.degrees(50.0), "maximumValue": alexa.degrees(90.0)}},
        ),
    ),
    (
        "400-range-too-narrow",
        "Nest needs the heat and cool setpoints of the Living Room at least 3 degrees apart, so nothing changed.",
        None,
        (THERMOSTAT, "REQUESTED_SETPOINTS_TOO_CLOSE", {"minimumTemperatureDelta": alexa.degrees(3.0)}),
    ),
    ("400-argument", "Sorry, Nest didn't accept that change.", None, ("Alexa", "INVALID_VALUE", {})),
    ("429", RATE_LIMITED, None, ("Alexa", "RATE_LIMIT_EXCEEDED", {})),
    ("401", LINK, "LinkAccount", ("Alexa", "INVALID_AUTHORIZATION_CREDENTIAL", {})),
    ("401-expired", LINK, "LinkAccount", ("Alexa", "EXPIRED_AUTHORIZATION_CREDENTIAL", {})),
    ("403", NO_ACCESS, "LinkAccount", ("Alexa", "INVALID_AUTHORIZATION_CREDENTIAL", {})),
    ("403-service-disabled", NOT_AVAILABLE, None, ("Alexa", "INTERNAL_ERROR", {})),
    (
        "404",
        "I couldn't find the Living Room on your Nest account any more. It may have been removed.",
        None,
        ("Alexa", "NO_SUCH_ENDPOINT", {}),
    ),
    # SDM documents 404 NOT_FOUND for an invalid command name too: the device read afresh is still there.
    ("404-command", "Sorry, Nest didn't accept that change.", None, ("Alexa", "INVALID_VALUE", {})),
    # SDM failed while carrying the command out (google.rpc.Code: DEADLINE_EXCEEDED "may be returned even
    # if the operation has completed successfully"): it may have been made. 503 UNAVAILABLE: nothing ran.
    ("500", UNCONFIRMED, None, ("Alexa", "INTERNAL_ERROR", {})),
    ("500-unknown", UNCONFIRMED, None, ("Alexa", "INTERNAL_ERROR", {})),
    ("500-html", UNCONFIRMED, None, ("Alexa", "INTERNAL_ERROR", {})),
    ("504", UNCONFIRMED, None, ("Alexa", "INTERNAL_ERROR", {})),
    ("503", UNAVAILABLE, None, ("Alexa", "INTERNAL_ERROR", {})),
    ("503-html", UNAVAILABLE, None, ("Alexa", "INTERNAL_ERROR", {})),
    ("connection", UNAVAILABLE, None, ("Alexa", "INTERNAL_ERROR", {})),
    ("timeout", UNCONFIRMED, None, ("Alexa", "INTERNAL_ERROR", {})),
]


# SDM's answer to the device list -> the custom skill's status answer -> ReportState's ErrorResponse.
LIST_ANSWERS = [
    ("401", LINK, "LinkAccount", "INVALID_AUTHORIZATION_CREDENTIAL"),
    ("401-expired", LINK, "LinkAccount", "EXPIRED_AUTHORIZATION_CREDENTIAL"),
    ("403", NO_ACCESS, "LinkAccount", "INVALID_AUTHORIZATION_CREDENTIAL"),
    ("403-scope", NO_ACCESS, "LinkAccount", "INVALID_AUTHORIZATION_CREDENTIAL"),
    ("403-service-disabled", NOT_AVAILABLE, None, "INTERNAL_ERROR"),
    ("404-enterprise", NOT_AVAILABLE, None, "INTERNAL_ERROR"),
    ("429", RATE_LIMITED, None, "RATE_LIMIT_EXCEEDED"),
    ("500", UNAVAILABLE, None, "INTERNAL_ERROR"),
    ("invalid-json", UNAVAILABLE, None, "INTERNAL_ERROR"),
    ("connection", UNAVAILABLE, None, "INTERNAL_ERROR"),
    ("timeout", TIMED_OUT, None, "INTERNAL_ERROR"),
]


def error_of(reply):
    """An ErrorResponse as (namespace, type, the type's own payload fields)."""
    payload = reply["event"]["payload"]
    return (
        reply["event"]["header"]["namespace"],
        payload["type"],
        {k: v for k, v in payload.items() if k not in ("type", "message")},
    )


@pytest.mark.parametrize("answer, said, card, alexa_error", COMMAND_ANSWERS, ids=[row[0] for row in COMMAND_ANSWERS])
def test_each_sdm_answer_to_a_command_is_read_once_for_both_doors(
    skill, send, sdm_api, answer, said, card, alexa_error
):
    """A refusal fresh state could explain is checked against the device read again, here unchanged
    (or gone, for the 404), so the refusal's own reason is the answer. The offline row is the field's:
    the device list says ONLINE, the command answers "Device is offline."."""
    sdm_api.get(DEVICES_URL, json=device_list(HEAT_COOL))
    sdm_api.post(command_url("living"), **FAILURES[answer])
    sdm_api.get(device_url("living"), **(FAILURES["404"] if answer == "404" else {"json": HEAT_COOL}))
    spoken_reply = skill.lambda_handler(alexa.set_temp("70", "living room"), None)
    assert (spoken(spoken_reply), card_type(spoken_reply)) == (said, card)
    assert error_of(send(alexa.set_target("living", 70))) == alexa_error


@pytest.mark.parametrize("answer, said, card, alexa_error", LIST_ANSWERS, ids=[row[0] for row in LIST_ANSWERS])
def test_each_sdm_answer_to_the_device_list_is_read_once_for_both_doors(
    skill, send, sdm_api, answer, said, card, alexa_error
):
    sdm_api.get(DEVICES_URL, **FAILURES[answer])
    spoken_reply = skill.lambda_handler(alexa.status(), None)
    assert (spoken(spoken_reply), card_type(spoken_reply)) == (said, card)
    assert error_of(send(alexa.report_state("living"))) == ("Alexa", alexa_error, {})


def commands(sdm_api):
    return [c for c in sdm_api.calls if c.request.method == "POST"]


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (429, error_body(429, "RESOURCE_EXHAUSTED", "Rate limited"), "RATE_LIMIT_EXCEEDED"),
        (
            401,
            error_body(401, "UNAUTHENTICATED", "expired", "ACCESS_TOKEN_EXPIRED"),
            "EXPIRED_AUTHORIZATION_CREDENTIAL",
        ),
        (
            401,
            error_body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
            "INVALID_AUTHORIZATION_CREDENTIAL",
        ),
        (
            403,
            error_body(403, "PERMISSION_DENIED", "The caller does not have permission"),
            "INVALID_AUTHORIZATION_CREDENTIAL",
        ),
        (500, error_body(500, "INTERNAL", "Internal error"), "INTERNAL_ERROR"),
        (503, {}, "INTERNAL_ERROR"),
        (403, error_body(403, "PERMISSION_DENIED", "disabled", "SERVICE_DISABLED"), "INTERNAL_ERROR"),
    ],
)
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


UNKNOWN_COMMAND = "Command sdm.devices.commands.ThermostatTemperatureSetpoint.SetRange not found."


@pytest.mark.parametrize("reason", ["", "AN_ERRORINFO_REASON"], ids=["no ErrorInfo", "ErrorInfo"])
def test_an_unknown_command_is_logged_as_this_projects_error_naming_the_command(skill, send, sdm_api, caplog, reason):
    """A 404 on a command for a device the fresh read still finds is about the command this project
    sent, so both doors log it as an error naming the command (and SDM's ErrorInfo reason, when it
    gives one), and the ErrorResponse's message names the operation and status; the device is not
    called removed."""
    caplog.set_level(logging.INFO, logger="nest_skill")
    sdm_api.get(DEVICES_URL, json=device_list(HEAT_COOL))
    sdm_api.post(command_url("living"), status=404, json=error_body(404, "NOT_FOUND", UNKNOWN_COMMAND, reason))
    sdm_api.get(device_url("living"), json=HEAT_COOL)
    reply = send(alexa.set_target("living", 70))
    spoken_reply = skill.lambda_handler(alexa.set_temp("70", "living room"), None)
    assert reply["event"]["payload"] == {
        "type": "INVALID_VALUE",
        "message": "devices.executeCommand: UnknownCommand (HTTP 404)",
    }
    assert spoken(spoken_reply) == "Sorry, Nest didn't accept that change."
    unknown = [
        (r.levelno, r.sdm_operation, r.sdm_command, r.sdm_status, r.sdm_reason)
        for r in caplog.records
        if r.getMessage() == "sdm command unknown"
    ]
    assert unknown == 2 * [
        (
            logging.ERROR,
            "devices.executeCommand",
            "sdm.devices.commands.ThermostatTemperatureSetpoint.SetRange",
            404,
            reason,
        )
    ]


def test_a_refusal_fresh_state_explains_is_answered_from_the_fresh_state(send, sdm_api):
    """The list said heat; the thermostat was turned off since: SDM refuses, the fresh read says off."""
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", "Living Room", mode="HEAT")))
    sdm_api.post(
        command_url("living"),
        status=400,
        json=error_body(400, "FAILED_PRECONDITION", "Cannot change setpoint in OFF mode"),
    )
    sdm_api.get(device_url("living"), json=thermostat("living", "Living Room", mode="OFF"))
    assert alexa.error_type(send(alexa.set_target("living", 70))) == "THERMOSTAT_IS_OFF"


@pytest.mark.parametrize(
    "directive",
    [
        alexa.set_target("livingroom", 70),
        alexa.adjust("Living", 1),
        alexa.set_mode("living ", "COOL"),
        alexa.set_mode("Living Room", "COOL"),
    ],
)
def test_only_the_exact_endpoint_is_acted_on(send, sdm_api, directive):
    setup(sdm_api, thermostat("living", "Living Room"), thermostat("living2", "Living Room 2"))
    assert alexa.error_type(send(directive)) == "NO_SUCH_ENDPOINT"
    assert commands(sdm_api) == []


def test_an_offline_thermostat_is_endpoint_unreachable(send, sdm_api):
    setup(sdm_api, thermostat("attic", "Attic", online=False))
    for directive in (alexa.set_target("attic", 70), alexa.adjust("attic", 1), alexa.set_mode("attic", "COOL")):
        assert alexa.error_type(send(directive)) == "ENDPOINT_UNREACHABLE"
    assert commands(sdm_api) == []


@pytest.mark.parametrize(
    "directive",
    [
        alexa.report_state("living", token=None),
        alexa.set_target("living", 70, token=""),
    ],
)
def test_no_linked_token_is_an_invalid_credential(send, sdm_api, directive):
    assert alexa.error_type(send(directive)) == "INVALID_AUTHORIZATION_CREDENTIAL"
    assert len(sdm_api.calls) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"targetSetpoint": {"value": "seventy", "scale": "FAHRENHEIT"}},
        {"targetSetpoint": {"value": 70, "scale": "RANKINE"}},
        {"targetSetpoint": {"value": float("nan"), "scale": "CELSIUS"}},
        {"targetSetpoint": 70},
    ],
)
def test_a_malformed_setpoint_is_invalid_value(send, sdm_api, payload):
    setup(sdm_api, thermostat("living", "Living Room"))
    directive = alexa.directive("Alexa.ThermostatController", "SetTargetTemperature", payload, endpoint_id="living")
    assert alexa.error_type(send(directive)) == "INVALID_VALUE"
    assert commands(sdm_api) == []


def test_a_zero_delta_is_invalid_value(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room"))
    assert alexa.error_type(send(alexa.adjust("living", 0))) == "INVALID_VALUE"


@pytest.mark.parametrize(
    "directive",
    [
        alexa.directive("Alexa.PowerController", "TurnOn", endpoint_id="living"),
        alexa.directive("Alexa.ThermostatController", "ResumeSchedule", endpoint_id="living"),
        {
            "directive": {
                "header": {"namespace": "Alexa", "name": "ReportState", "payloadVersion": "2", "messageId": "m"},
                "payload": {},
            }
        },
        alexa.directive("Alexa", "ReportState"),
    ],
)
def test_a_directive_this_skill_does_not_handle_is_invalid_directive(send, sdm_api, directive):
    assert alexa.error_type(send(directive)) == "INVALID_DIRECTIVE"


@pytest.mark.parametrize("event", [{"directive": None}, {"directive": {"header": "x"}}, {"directive": []}])
def test_garbage_with_a_directive_key_still_gets_an_error_response(skill, event):
    reply = skill.lambda_handler(event, LambdaContext(7000))
    assert reply["event"]["header"]["name"] == "ErrorResponse"
    assert reply["event"]["payload"]["type"] == "INVALID_DIRECTIVE"


def test_an_unexpected_failure_is_internal_error_not_an_exception(skill, sdm_api, monkeypatch):
    setup(sdm_api, thermostat("living", "Living Room"))
    monkeypatch.setattr(
        "nest_skill.smart_home.endpoints.discovery_endpoint", lambda t: (_ for _ in ()).throw(RuntimeError("bug"))
    )
    monkeypatch.setattr("nest_skill.account.NestAccount.carry_out", lambda *a: (_ for _ in ()).throw(KeyError("bug")))
    directive = alexa.set_target("living", 70)
    reply = skill.lambda_handler(directive, LambdaContext(7000))
    alexa.valid_smart_home(reply, directive)
    assert alexa.error_type(reply) == "INTERNAL_ERROR"


def test_no_time_left_for_sdm_is_answered_at_once_without_calling_it(send, sdm_api):
    """SDM shares the directive's wall-clock deadline: with Lambda about to time out,
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


@pytest.mark.parametrize(
    "failure", [requests.ConnectTimeout("connect timed out"), requests.ConnectionError("connection refused")]
)
def test_a_command_that_never_connected_is_not_said_to_have_maybe_run(send, sdm_api, failure):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat("living", "Living Room")))
    sdm_api.post(command_url("living"), body=failure)
    reply = send(alexa.set_target("living", 70))
    assert alexa.error_type(reply) == "INTERNAL_ERROR"
    assert "may have been made" not in reply["event"]["payload"]["message"]


CELSIUS = thermostats_in([thermostat(scale="CELSIUS", mode="OFF")])[0]
FAHRENHEIT = thermostats_in([thermostat(mode="HEATCOOL", cool_c=24.0)])[0]


def answer(error):
    return error.namespace, error.error_type, error.message, error.extra


def heatcool(**kwargs):
    return thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76), **kwargs)


def mode_payload(value):
    return alexa.directive(THERMOSTAT, "SetThermostatMode", {"thermostatMode": value}, endpoint_id="living")


def sent_commands(sdm_api):
    return [sent_command(c) for c in sdm_api.calls if c.request.method == "POST"]


def silent():
    device = thermostat("living", "Living Room")
    device["traits"] = {}
    return device


@pytest.mark.parametrize(
    "reason, expected",
    [
        (
            controls.Offline(FAHRENHEIT),
            ("Alexa", "ENDPOINT_UNREACHABLE", "the thermostat is offline or not reporting to Nest", {}),
        ),
        (
            controls.NotReporting(FAHRENHEIT),
            ("Alexa", "ENDPOINT_UNREACHABLE", "the thermostat is offline or not reporting to Nest", {}),
        ),
        (controls.TurnedOff(CELSIUS), (THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off", {})),
        (controls.EcoWhileOff(CELSIUS), (THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off", {})),
        (
            controls.OutOfRange(FAHRENHEIT),
            (
                "Alexa",
                "TEMPERATURE_VALUE_OUT_OF_RANGE",
                "outside the Nest setpoint limits",
                {
                    "validRange": {
                        "minimumValue": {"value": 50.0, "scale": "FAHRENHEIT"},
                        "maximumValue": {"value": 90.0, "scale": "FAHRENHEIT"},
                    }
                },
            ),
        ),
        (
            controls.BeyondLimit(CELSIUS, 32.0, (31.5,)),
            (
                "Alexa",
                "TEMPERATURE_VALUE_OUT_OF_RANGE",
                "outside the Nest setpoint limits",
                {
                    "validRange": {
                        "minimumValue": {"value": 10.0, "scale": "CELSIUS"},
                        "maximumValue": {"value": 32.0, "scale": "CELSIUS"},
                    }
                },
            ),
        ),
        (
            controls.RangeTooNarrow(FAHRENHEIT),
            (
                THERMOSTAT,
                "REQUESTED_SETPOINTS_TOO_CLOSE",
                "narrower than SDM's minimum heat-cool gap",
                {"minimumTemperatureDelta": {"value": 3.0, "scale": "FAHRENHEIT"}},
            ),
        ),
        (
            controls.RangeTooNarrow(CELSIUS),
            (
                THERMOSTAT,
                "REQUESTED_SETPOINTS_TOO_CLOSE",
                "narrower than SDM's minimum heat-cool gap",
                {"minimumTemperatureDelta": {"value": 2.0, "scale": "CELSIUS"}},
            ),
        ),
        (
            controls.SingleSetpoint(FAHRENHEIT),
            (THERMOSTAT, "DUAL_SETPOINTS_UNSUPPORTED", "the current mode takes one setpoint", {}),
        ),
        (
            controls.ModeUnavailable(FAHRENHEIT, Mode.COOL),
            (THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", "COOL is not available", {}),
        ),
        (
            controls.EcoOn(FAHRENHEIT),
            ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in HEATCOOL", {"currentDeviceMode": "OTHER"}),
        ),
        (
            controls.NoSetpoint(CELSIUS),
            ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in OFF", {"currentDeviceMode": "OTHER"}),
        ),
        (
            controls.NoControls(CELSIUS),
            ("Alexa", "INVALID_DIRECTIVE", "the endpoint only reports readings: it has no ThermostatController", {}),
        ),
        # Reasons only the custom skill's intents meet (eco off, fan): never sent by a directive, still answered.
        (controls.NoFan(FAHRENHEIT), ("Alexa", "INTERNAL_ERROR", "NoFan", {})),
        (controls.NotInEco(FAHRENHEIT), ("Alexa", "INTERNAL_ERROR", "NotInEco", {})),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, controls.CannotChange) else "",
)
def test_each_reason_nothing_was_sent(reason, expected):
    assert answer(for_cannot_change(reason)) == expected


@pytest.mark.parametrize(
    "error, expected",
    [
        (
            sdm_client.RateLimited("devices.list", 429),
            ("RATE_LIMIT_EXCEEDED", "devices.list: RateLimited (HTTP 429)", {}),
        ),
        (
            sdm_client.Unauthenticated("devices.list", 401, "expired", "ACCESS_TOKEN_EXPIRED"),
            ("EXPIRED_AUTHORIZATION_CREDENTIAL", "devices.list: Unauthenticated (HTTP 401)", {}),
        ),
        (
            sdm_client.Unauthenticated("devices.list", 401, "bad", "ACCESS_TOKEN_INVALID"),
            ("INVALID_AUTHORIZATION_CREDENTIAL", "devices.list: Unauthenticated (HTTP 401)", {}),
        ),
        (
            sdm_client.PermissionDenied("devices.executeCommand", 403),
            ("INVALID_AUTHORIZATION_CREDENTIAL", "devices.executeCommand: PermissionDenied (HTTP 403)", {}),
        ),
        (sdm_client.NotFound("devices.get", 404), ("NO_SUCH_ENDPOINT", "devices.get: NotFound (HTTP 404)", {})),
        (
            sdm_client.FailedPrecondition("devices.executeCommand", 400, "Thermostat is in eco mode"),
            (
                "NOT_SUPPORTED_IN_CURRENT_MODE",
                "devices.executeCommand: FailedPrecondition (HTTP 400)",
                {"currentDeviceMode": "OTHER"},
            ),
        ),
        (
            sdm_client.Rejected("devices.executeCommand", 400),
            ("INVALID_VALUE", "devices.executeCommand: Rejected (HTTP 400)", {}),
        ),
        (
            sdm_client.FailedPrecondition("devices.executeCommand", 400, "Device is offline."),
            ("ENDPOINT_UNREACHABLE", "devices.executeCommand: FailedPrecondition (HTTP 400)", {}),
        ),
        (
            sdm_client.FailedPrecondition("devices.executeCommand", 400, "Precondition check failed."),
            (
                "NOT_SUPPORTED_IN_CURRENT_MODE",
                "devices.executeCommand: FailedPrecondition (HTTP 400)",
                {"currentDeviceMode": "OTHER"},
            ),
        ),
        (
            sdm_client.Rejected(
                "devices.executeCommand", 400, "Temperature setpoint is out of range [10.0, 32.2] in CELSIUS."
            ),
            ("INVALID_VALUE", "devices.executeCommand: Rejected (HTTP 400)", {}),
        ),  # no thermostat: no validRange to give
        (sdm_client.NotFound("devices.list", 404), ("INTERNAL_ERROR", "devices.list: NotFound (HTTP 404)", {})),
        (
            sdm_client.TimedOut("devices.executeCommand", sent=True),
            ("INTERNAL_ERROR", "devices.executeCommand: TimedOut: no answer, the command may have been made", {}),
        ),
        (
            sdm_client.TimedOut("devices.executeCommand", sent=False),
            ("INTERNAL_ERROR", "devices.executeCommand: TimedOut", {}),
        ),
        (sdm_client.Unreachable("devices.list", sent=True), ("INTERNAL_ERROR", "devices.list: Unreachable", {})),
        (
            sdm_client.ProjectUnavailable("devices.list", 403, "off", "SERVICE_DISABLED"),
            ("INTERNAL_ERROR", "devices.list: ProjectUnavailable (HTTP 403)", {}),
        ),
        (sdm_client.Unavailable("devices.list", 503), ("INTERNAL_ERROR", "devices.list: Unavailable (HTTP 503)", {})),
        (
            sdm_client.Unavailable("devices.executeCommand", 503),
            ("INTERNAL_ERROR", "devices.executeCommand: Unavailable (HTTP 503)", {}),
        ),
        (
            sdm_client.ServerFailed("devices.executeCommand", 504, "Deadline expired"),
            ("INTERNAL_ERROR", "devices.executeCommand: ServerFailed (HTTP 504): the command may have been made", {}),
        ),
        (sdm_client.ServerFailed("devices.list", 500), ("INTERNAL_ERROR", "devices.list: ServerFailed (HTTP 500)", {})),
        (
            sdm_client.UnknownCommand("devices.executeCommand", 404, "Command not found."),
            ("INVALID_VALUE", "devices.executeCommand: UnknownCommand (HTTP 404)", {}),
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, sdm_client.SdmError) else "",
)
def test_each_sdm_failure(error, expected):
    assert answer(for_sdm_error(error)) == ("Alexa", *expected)


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "Temperature setpoint is out of range [10.000000, 32.222301] in FAHRENHEIT.",
            (
                "Alexa",
                "TEMPERATURE_VALUE_OUT_OF_RANGE",
                {
                    "validRange": {
                        "minimumValue": {"value": 50.0, "scale": "FAHRENHEIT"},
                        "maximumValue": {"value": 90.0, "scale": "FAHRENHEIT"},
                    }
                },
            ),
        ),
        (
            "Temperature setpoint range is smaller than minimum 1.666700 in FAHRENHEIT.",
            (
                THERMOSTAT,
                "REQUESTED_SETPOINTS_TOO_CLOSE",
                {"minimumTemperatureDelta": {"value": 3.0, "scale": "FAHRENHEIT"}},
            ),
        ),
        (
            "Cool value must be greater than heat value.",
            (
                THERMOSTAT,
                "REQUESTED_SETPOINTS_TOO_CLOSE",
                {"minimumTemperatureDelta": {"value": 3.0, "scale": "FAHRENHEIT"}},
            ),
        ),
    ],
)
def test_a_setpoint_sdm_refused_gives_the_thermostats_own_limits(message, expected):
    error = for_sdm_error(sdm_client.Rejected("devices.executeCommand", 400, message), FAHRENHEIT)
    assert (error.namespace, error.error_type, error.extra) == expected


@pytest.mark.parametrize(
    "device, directive, expected",
    [
        (silent(), alexa.report_state("living"), ("Alexa", "ENDPOINT_UNREACHABLE", "the thermostat reports no state")),
        (thermostat(), alexa.adjust("living", 0), ("Alexa", "INVALID_VALUE", "no non-zero targetSetpointDelta")),
        (thermostat(), alexa.set_target("living"), ("Alexa", "INVALID_VALUE", "no setpoint given")),
        (
            thermostat(),
            alexa.set_mode("living", "HEATCOOL"),
            (THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", "not a mode a Nest thermostat has"),
        ),
        (thermostat(), mode_payload("HEAT"), ("Alexa", "INVALID_VALUE", "thermostatMode is not a mode object")),
        # A range (lower/upper) asked of a thermostat that cannot take one now.
        (
            thermostat(mode="OFF"),
            alexa.set_target("living", lower=66, upper=74),
            (THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off"),
        ),
        (
            thermostat(eco=True),
            alexa.set_target("living", lower=66, upper=74),
            ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in MANUAL_ECO"),
        ),
        (
            thermostat(mode="SOME_FUTURE_MODE"),
            alexa.set_target("living", lower=66, upper=74),
            ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in UNKNOWN"),
        ),
        (
            thermostat(mode="HEATCOOL", heat_c=f_to_c(66), cool_c=None),
            alexa.set_target("living", lower=68),
            ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in HEATCOOL"),
        ),
        (
            thermostat(mode="HEATCOOL", heat_c=None, cool_c=f_to_c(76)),
            alexa.set_target("living", upper=78),
            ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in HEATCOOL"),
        ),
        (
            heatcool(),
            alexa.set_target("living", lower=40, upper=75),
            ("Alexa", "TEMPERATURE_VALUE_OUT_OF_RANGE", "outside the Nest setpoint limits"),
        ),
    ],
    ids=[
        "silent",
        "zero-delta",
        "no-setpoint",
        "sdm-mode-name",
        "mode-not-an-object",
        "range-off",
        "range-eco",
        "range-unknown-mode",
        "lower-without-cool",
        "upper-without-heat",
        "range-end-out-of-limits",
    ],
)
def test_what_alexa_is_told_when_nothing_is_sent(send, sdm_api, device, directive, expected):
    setup(sdm_api, device)
    event = send(directive)["event"]
    assert (event["header"]["namespace"], event["payload"]["type"], event["payload"]["message"]) == expected
    assert sent_commands(sdm_api) == []


@pytest.mark.parametrize(
    "directive, expected",
    [
        (
            {"directive": {"header": {"namespace": "Alexa", "name": "ReportState", "payloadVersion": "2"}}},
            ("Alexa", "INVALID_DIRECTIVE", "not an Alexa Smart Home v3 directive"),
        ),
        (
            altered(alexa.report_state("living"), header={"namespace": None}),
            ("Alexa", "INVALID_DIRECTIVE", ".ReportState is not handled"),
        ),
        (
            altered(alexa.report_state("living"), header={"name": None}),
            ("Alexa", "INVALID_DIRECTIVE", "Alexa. is not handled"),
        ),
        (alexa.directive("Alexa", "ReportState"), ("Alexa", "INVALID_DIRECTIVE", "no endpointId")),
        (
            altered(alexa.report_state("living"), endpoint={"endpointId": 7}),
            ("Alexa", "INVALID_DIRECTIVE", "no endpointId"),
        ),
        (alexa.report_state("livingroom"), ("Alexa", "NO_SUCH_ENDPOINT", "no thermostat has this endpointId")),
        (
            alexa.report_state("living", token=None),
            ("Alexa", "INVALID_AUTHORIZATION_CREDENTIAL", "no linked account token"),
        ),
        (
            altered(alexa.report_state("living"), endpoint={"scope": {"type": "BearerToken", "token": 123}}),
            ("Alexa", "INVALID_AUTHORIZATION_CREDENTIAL", "no linked account token"),
        ),
        (
            altered(alexa.discover(), payload="not an object"),
            ("Alexa", "INVALID_DIRECTIVE", "endpoint or payload is not an object"),
        ),
    ],
    ids=[
        "version-2",
        "no-namespace",
        "no-name",
        "no-endpoint",
        "endpoint-id-not-a-string",
        "unknown-endpoint",
        "no-token",
        "token-not-a-string",
        "payload-not-an-object",
    ],
)
def test_what_alexa_is_told_of_a_directive_the_skill_cannot_act_on(skill, sdm_api, directive, expected):
    """Not all of these are what Alexa sends (sandbox.alexa.valid_smart_home would refuse them): still, one answer."""
    setup(sdm_api, thermostat())
    event = skill.lambda_handler(directive, None)["event"]
    assert (event["header"]["namespace"], event["payload"]["type"], event["payload"]["message"]) == expected
    assert sent_commands(sdm_api) == []
