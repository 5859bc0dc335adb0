"""Every reason the domain gives, and every SDM failure, as the exact ErrorResponse Alexa gets (issue 16):
namespace, type, message and the type's own payload fields
(developer.amazon.com/docs/device-apis/alexa-errorresponse.html, alexa-thermostatcontroller-errorresponse.html)."""

from __future__ import annotations

import pytest

from nest_skill import controls, sdm_client
from nest_skill.smart_home.errors import for_cannot_change, for_sdm_error
from nest_skill.thermostats import Mode, thermostats_in
from tests.skill.sdm import thermostat

FAHRENHEIT = thermostats_in([thermostat(mode="HEATCOOL", cool_c=24.0)])[0]
CELSIUS = thermostats_in([thermostat(scale="CELSIUS", mode="OFF")])[0]
THERMOSTAT = "Alexa.ThermostatController"


def answer(error):
    return error.namespace, error.error_type, error.message, error.extra


@pytest.mark.parametrize("reason, expected", [
    (controls.Offline(FAHRENHEIT), ("Alexa", "ENDPOINT_UNREACHABLE", "the thermostat is offline or not reporting to Nest", {})),
    (controls.NotReporting(FAHRENHEIT), ("Alexa", "ENDPOINT_UNREACHABLE", "the thermostat is offline or not reporting to Nest", {})),
    (controls.TurnedOff(CELSIUS), (THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off", {})),
    (controls.EcoWhileOff(CELSIUS), (THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off", {})),
    (controls.OutOfRange(FAHRENHEIT), ("Alexa", "TEMPERATURE_VALUE_OUT_OF_RANGE", "outside the Nest setpoint limits",
                                      {"validRange": {"minimumValue": {"value": 50.0, "scale": "FAHRENHEIT"},
                                                      "maximumValue": {"value": 90.0, "scale": "FAHRENHEIT"}}})),
    (controls.BeyondLimit(CELSIUS, 32.0, (31.5,)), ("Alexa", "TEMPERATURE_VALUE_OUT_OF_RANGE",
                                                    "outside the Nest setpoint limits",
                                                    {"validRange": {"minimumValue": {"value": 10.0, "scale": "CELSIUS"},
                                                                    "maximumValue": {"value": 32.0, "scale": "CELSIUS"}}})),
    (controls.RangeTooNarrow(FAHRENHEIT), (THERMOSTAT, "REQUESTED_SETPOINTS_TOO_CLOSE",
                                           "narrower than SDM's minimum heat-cool gap",
                                           {"minimumTemperatureDelta": {"value": 3.0, "scale": "FAHRENHEIT"}})),
    (controls.RangeTooNarrow(CELSIUS), (THERMOSTAT, "REQUESTED_SETPOINTS_TOO_CLOSE",
                                        "narrower than SDM's minimum heat-cool gap",
                                        {"minimumTemperatureDelta": {"value": 2.0, "scale": "CELSIUS"}})),
    (controls.SingleSetpoint(FAHRENHEIT), (THERMOSTAT, "DUAL_SETPOINTS_UNSUPPORTED", "the current mode takes one setpoint", {})),
    (controls.ModeUnavailable(FAHRENHEIT, Mode.COOL), (THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", "COOL is not available", {})),
    (controls.EcoOn(FAHRENHEIT), ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in HEATCOOL",
                                  {"currentDeviceMode": "OTHER"})),
    (controls.NoSetpoint(CELSIUS), ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in OFF",
                                    {"currentDeviceMode": "OTHER"})),
    (controls.NoControls(CELSIUS), ("Alexa", "INVALID_DIRECTIVE",
                                    "the endpoint only reports readings: it has no ThermostatController", {})),
    # Reasons only the custom skill's intents meet (eco off, fan): never sent by a directive, still answered.
    (controls.NoFan(FAHRENHEIT), ("Alexa", "INTERNAL_ERROR", "NoFan", {})),
    (controls.NotInEco(FAHRENHEIT), ("Alexa", "INTERNAL_ERROR", "NotInEco", {})),
], ids=lambda value: type(value).__name__ if isinstance(value, controls.CannotChange) else "")
def test_each_reason_nothing_was_sent(reason, expected):
    assert answer(for_cannot_change(reason)) == expected


@pytest.mark.parametrize("error, expected", [
    (sdm_client.RateLimited("devices.list", 429), ("RATE_LIMIT_EXCEEDED", "devices.list: RateLimited (HTTP 429)", {})),
    (sdm_client.Unauthenticated("devices.list", 401, "expired", "ACCESS_TOKEN_EXPIRED"),
     ("EXPIRED_AUTHORIZATION_CREDENTIAL", "devices.list: Unauthenticated (HTTP 401)", {})),
    (sdm_client.Unauthenticated("devices.list", 401, "bad", "ACCESS_TOKEN_INVALID"),
     ("INVALID_AUTHORIZATION_CREDENTIAL", "devices.list: Unauthenticated (HTTP 401)", {})),
    (sdm_client.PermissionDenied("devices.executeCommand", 403),
     ("INVALID_AUTHORIZATION_CREDENTIAL", "devices.executeCommand: PermissionDenied (HTTP 403)", {})),
    (sdm_client.NotFound("devices.get", 404), ("NO_SUCH_ENDPOINT", "devices.get: NotFound (HTTP 404)", {})),
    (sdm_client.FailedPrecondition("devices.executeCommand", 400, "Thermostat is in eco mode"),
     ("NOT_SUPPORTED_IN_CURRENT_MODE", "devices.executeCommand: FailedPrecondition (HTTP 400)",
      {"currentDeviceMode": "OTHER"})),
    (sdm_client.Rejected("devices.executeCommand", 400), ("INVALID_VALUE", "devices.executeCommand: Rejected (HTTP 400)", {})),
    (sdm_client.FailedPrecondition("devices.executeCommand", 400, "Device is offline."),
     ("ENDPOINT_UNREACHABLE", "devices.executeCommand: FailedPrecondition (HTTP 400)", {})),
    (sdm_client.FailedPrecondition("devices.executeCommand", 400, "Precondition check failed."),
     ("NOT_SUPPORTED_IN_CURRENT_MODE", "devices.executeCommand: FailedPrecondition (HTTP 400)",
      {"currentDeviceMode": "OTHER"})),
    (sdm_client.Rejected("devices.executeCommand", 400, "Temperature setpoint is out of range [10.0, 32.2] in CELSIUS."),
     ("INVALID_VALUE", "devices.executeCommand: Rejected (HTTP 400)", {})),  # no thermostat: no validRange to give
    (sdm_client.NotFound("devices.list", 404), ("INTERNAL_ERROR", "devices.list: NotFound (HTTP 404)", {})),
    (sdm_client.TimedOut("devices.executeCommand", sent=True),
     ("INTERNAL_ERROR", "devices.executeCommand: TimedOut: no answer, the command may have been made", {})),
    (sdm_client.TimedOut("devices.executeCommand", sent=False), ("INTERNAL_ERROR", "devices.executeCommand: TimedOut", {})),
    (sdm_client.Unreachable("devices.list", sent=True), ("INTERNAL_ERROR", "devices.list: Unreachable", {})),
    (sdm_client.ProjectUnavailable("devices.list", 403, "off", "SERVICE_DISABLED"),
     ("INTERNAL_ERROR", "devices.list: ProjectUnavailable (HTTP 403)", {})),
    (sdm_client.Unavailable("devices.list", 503), ("INTERNAL_ERROR", "devices.list: Unavailable (HTTP 503)", {})),
], ids=lambda value: type(value).__name__ if isinstance(value, sdm_client.SdmError) else "")
def test_each_sdm_failure(error, expected):
    assert answer(for_sdm_error(error)) == ("Alexa", *expected)


@pytest.mark.parametrize("message, expected", [
    ("Temperature setpoint is out of range [10.000000, 32.222301] in FAHRENHEIT.",
     ("Alexa", "TEMPERATURE_VALUE_OUT_OF_RANGE", {"validRange": {"minimumValue": {"value": 50.0, "scale": "FAHRENHEIT"},
                                                                 "maximumValue": {"value": 90.0, "scale": "FAHRENHEIT"}}})),
    ("Temperature setpoint range is smaller than minimum 1.666700 in FAHRENHEIT.",
     (THERMOSTAT, "REQUESTED_SETPOINTS_TOO_CLOSE", {"minimumTemperatureDelta": {"value": 3.0, "scale": "FAHRENHEIT"}})),
    ("Cool value must be greater than heat value.",
     (THERMOSTAT, "REQUESTED_SETPOINTS_TOO_CLOSE", {"minimumTemperatureDelta": {"value": 3.0, "scale": "FAHRENHEIT"}})),
])
def test_a_setpoint_sdm_refused_gives_the_thermostats_own_limits(message, expected):
    error = for_sdm_error(sdm_client.Rejected("devices.executeCommand", 400, message), FAHRENHEIT)
    assert (error.namespace, error.error_type, error.extra) == expected
