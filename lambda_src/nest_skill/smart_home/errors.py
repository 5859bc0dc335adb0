"""What the domain knows, as Alexa's error types: the one place a CannotChange or an SDM failure
(as sdm_errors classifies it) becomes an `ErrorResponse`
(developer.amazon.com/docs/device-apis/alexa-errorresponse.html and
alexa-thermostatcontroller-errorresponse.html). A failure SDM reports after a command and the same
reason known before sending (offline, eco, out of range, a range too narrow) get the same type."""

from __future__ import annotations

from typing import Any

from nest_skill import controls, sdm_client, temperatures
from nest_skill.sdm_errors import Failure, classify
from nest_skill.smart_home import messages
from nest_skill.smart_home.endpoints import THERMOSTAT, degrees
from nest_skill.thermostats import Thermostat

ALEXA = "Alexa"
_OTHER_MODE = {"currentDeviceMode": "OTHER"}


class AlexaError(Exception):
    """An `<namespace>.ErrorResponse` of `error_type`; `extra` holds the type's own payload fields."""

    def __init__(self, namespace: str, error_type: str, message: str, extra: dict[str, Any] | None = None):
        self.namespace = namespace
        self.error_type = error_type
        self.message = message
        self.extra = extra or {}

    def response(self, correlation_token: str | None, endpoint_id: str | None) -> dict[str, Any]:
        return messages.error_response(
            self.namespace, self.error_type, self.message, correlation_token, endpoint_id, self.extra
        )


def for_cannot_change(reason: controls.CannotChange) -> AlexaError:
    """Why nothing was sent, as Alexa names it. Temperatures in the payload are in the thermostat's scale."""
    thermostat = reason.thermostat
    if isinstance(reason, (controls.Offline, controls.NotReporting)):
        return AlexaError(ALEXA, "ENDPOINT_UNREACHABLE", "the thermostat is offline or not reporting to Nest")
    if isinstance(reason, (controls.TurnedOff, controls.EcoWhileOff)):
        return AlexaError(THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off")
    if isinstance(reason, controls.OutOfRange):
        return _out_of_range(thermostat, "outside the Nest setpoint limits")
    if isinstance(reason, controls.RangeTooNarrow):
        return _too_close(thermostat, "narrower than SDM's minimum heat-cool gap")
    if isinstance(reason, controls.NoControls):
        return AlexaError(
            ALEXA, "INVALID_DIRECTIVE", "the endpoint only reports readings: it has no ThermostatController"
        )
    if isinstance(reason, controls.SingleSetpoint):
        return AlexaError(THERMOSTAT, "DUAL_SETPOINTS_UNSUPPORTED", "the current mode takes one setpoint")
    if isinstance(reason, controls.ModeUnavailable):
        return AlexaError(THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", f"{reason.mode.value} is not available")
    if isinstance(reason, (controls.EcoOn, controls.NoSetpoint)):
        return AlexaError(
            ALEXA, "NOT_SUPPORTED_IN_CURRENT_MODE", f"not possible in {reason.thermostat.mode.value}", dict(_OTHER_MODE)
        )
    return AlexaError(ALEXA, "INTERNAL_ERROR", type(reason).__name__)


def _out_of_range(thermostat: Thermostat, message: str) -> AlexaError:
    low, high = temperatures.LIMITS[thermostat.scale]
    return AlexaError(
        ALEXA,
        "TEMPERATURE_VALUE_OUT_OF_RANGE",
        message,
        {"validRange": {"minimumValue": degrees(low, thermostat), "maximumValue": degrees(high, thermostat)}},
    )


def _too_close(thermostat: Thermostat, message: str) -> AlexaError:
    return AlexaError(
        THERMOSTAT,
        "REQUESTED_SETPOINTS_TOO_CLOSE",
        message,
        {"minimumTemperatureDelta": degrees(temperatures.min_span(thermostat.scale), thermostat)},
    )


_ALEXA_TYPES: dict[Failure, str] = {
    Failure.OFFLINE: "ENDPOINT_UNREACHABLE",
    Failure.MODE_DISALLOWS: "NOT_SUPPORTED_IN_CURRENT_MODE",
    Failure.ECO_DISALLOWS: "NOT_SUPPORTED_IN_CURRENT_MODE",
    Failure.REFUSED: "NOT_SUPPORTED_IN_CURRENT_MODE",
    Failure.INVALID: "INVALID_VALUE",
    Failure.OUT_OF_RANGE: "INVALID_VALUE",  # only without a thermostat to give validRange in its scale
    Failure.RANGE_TOO_NARROW: "INVALID_VALUE",  # likewise
    Failure.RATE_LIMITED: "RATE_LIMIT_EXCEEDED",
    Failure.CREDENTIALS_EXPIRED: "EXPIRED_AUTHORIZATION_CREDENTIAL",
    Failure.CREDENTIALS_INVALID: "INVALID_AUTHORIZATION_CREDENTIAL",
    Failure.NOT_SHARED: "INVALID_AUTHORIZATION_CREDENTIAL",
    Failure.NOT_FOUND: "NO_SUCH_ENDPOINT",
    Failure.PROJECT_UNAVAILABLE: "INTERNAL_ERROR",
    Failure.TIMED_OUT: "INTERNAL_ERROR",
    Failure.UNCONFIRMED: "INTERNAL_ERROR",
    Failure.UNAVAILABLE: "INTERNAL_ERROR",
}
"""Each Failure's generic Alexa.ErrorResponse type; OUT_OF_RANGE and RANGE_TOO_NARROW of a thermostat
get their own types with its limits (for_failure)."""


def for_sdm_error(error: sdm_client.SdmError, thermostat: Thermostat | None = None) -> AlexaError:
    """An SDM failure (sdm_errors.classify), as Alexa names it; `thermostat` is the one a command was
    for. The message names the SDM operation and error class, never a body."""
    message = str(error)
    kind = classify(error)
    if kind is Failure.UNCONFIRMED:
        message += (
            ": no answer, the command may have been made"
            if isinstance(error, sdm_client.NoAnswer)
            else ": the command may have been made"
        )
    return for_failure(kind, message, thermostat)


def for_failure(kind: Failure, message: str, thermostat: Thermostat | None = None) -> AlexaError:
    """One Failure as an ErrorResponse: ENDPOINT_UNREACHABLE for an offline thermostat (whatever the
    device list said), its limits for a setpoint out of range, its minimum gap for a range too narrow."""
    if thermostat is not None and kind is Failure.OUT_OF_RANGE:
        return _out_of_range(thermostat, message)
    if thermostat is not None and kind is Failure.RANGE_TOO_NARROW:
        return _too_close(thermostat, message)
    error_type = _ALEXA_TYPES[kind]
    return AlexaError(
        ALEXA, error_type, message, dict(_OTHER_MODE) if error_type == "NOT_SUPPORTED_IN_CURRENT_MODE" else None
    )
