"""What the domain knows, as Alexa's error types: the one place a CannotChange or an SdmError
becomes an `ErrorResponse` (developer.amazon.com/docs/device-apis/alexa-errorresponse.html and
alexa-thermostatcontroller-errorresponse.html)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from nest_skill import controls, sdm_client
from nest_skill.smart_home import messages
from nest_skill.smart_home.endpoints import THERMOSTAT, degrees

ALEXA = "Alexa"
# Google's ErrorInfo reason on a 401 for an access token past its lifetime.
EXPIRED_TOKEN_REASON = "ACCESS_TOKEN_EXPIRED"


class AlexaError(Exception):
    """An `<namespace>.ErrorResponse` of `error_type`; `extra` holds the type's own payload fields."""

    def __init__(self, namespace: str, error_type: str, message: str, extra: Optional[Dict[str, Any]] = None):
        self.namespace = namespace
        self.error_type = error_type
        self.message = message
        self.extra = extra or {}

    def response(self, correlation_token: Optional[str], endpoint_id: Optional[str]) -> Dict[str, Any]:
        return messages.error_response(self.namespace, self.error_type, self.message, correlation_token,
                                       endpoint_id, self.extra)


def for_cannot_change(reason: controls.CannotChange) -> AlexaError:
    """Why nothing was sent, as Alexa names it. Temperatures in the payload are in the thermostat's scale."""
    thermostat = reason.thermostat
    if isinstance(reason, (controls.Offline, controls.NotReporting)):
        return AlexaError(ALEXA, "ENDPOINT_UNREACHABLE", "the thermostat is offline or not reporting to Nest")
    if isinstance(reason, (controls.TurnedOff, controls.EcoWhileOff)):
        return AlexaError(THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off")
    if isinstance(reason, controls.OutOfRange):
        return AlexaError(ALEXA, "TEMPERATURE_VALUE_OUT_OF_RANGE", "outside the Nest setpoint limits",
                          {"validRange": {"minimumValue": degrees(reason.low, thermostat),
                                          "maximumValue": degrees(reason.high, thermostat)}})
    if isinstance(reason, controls.RangeTooNarrow):
        return AlexaError(THERMOSTAT, "REQUESTED_SETPOINTS_TOO_CLOSE", "narrower than SDM's minimum heat-cool gap",
                          {"minimumTemperatureDelta": degrees(reason.minimum, thermostat)})
    if isinstance(reason, controls.SingleSetpoint):
        return AlexaError(THERMOSTAT, "DUAL_SETPOINTS_UNSUPPORTED", "the current mode takes one setpoint")
    if isinstance(reason, controls.ModeUnavailable):
        return AlexaError(THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", f"{reason.mode.value} is not available")
    if isinstance(reason, (controls.EcoOn, controls.NoSetpoint)):
        return AlexaError(ALEXA, "NOT_SUPPORTED_IN_CURRENT_MODE", f"not possible in {reason.thermostat.mode.value}",
                          {"currentDeviceMode": "OTHER"})
    return AlexaError(ALEXA, "INTERNAL_ERROR", type(reason).__name__)


def for_sdm_error(error: sdm_client.SdmError) -> AlexaError:
    """An SDM failure, as Alexa names it: 429 is RATE_LIMIT_EXCEEDED, 401 an expired (Google's
    ACCESS_TOKEN_EXPIRED) or otherwise invalid credential, 404 NO_SUCH_ENDPOINT, anything the user
    cannot act on INTERNAL_ERROR. The message names the SDM operation and error class, never a body."""
    message = str(error)
    if isinstance(error, sdm_client.RateLimited):
        return AlexaError(ALEXA, "RATE_LIMIT_EXCEEDED", message)
    if isinstance(error, sdm_client.Unauthenticated):
        expired = error.reason == EXPIRED_TOKEN_REASON
        return AlexaError(ALEXA, "EXPIRED_AUTHORIZATION_CREDENTIAL" if expired else "INVALID_AUTHORIZATION_CREDENTIAL",
                          message)
    if isinstance(error, sdm_client.PermissionDenied):
        return AlexaError(ALEXA, "INVALID_AUTHORIZATION_CREDENTIAL", message)
    if isinstance(error, sdm_client.NotFound):
        return AlexaError(ALEXA, "NO_SUCH_ENDPOINT", message)
    if isinstance(error, sdm_client.FailedPrecondition):
        return AlexaError(ALEXA, "NOT_SUPPORTED_IN_CURRENT_MODE", message, {"currentDeviceMode": "OTHER"})
    if isinstance(error, sdm_client.Rejected):
        return AlexaError(ALEXA, "INVALID_VALUE", message)
    if isinstance(error, sdm_client.NoAnswer) and error.command_may_have_run:
        return AlexaError(ALEXA, "INTERNAL_ERROR", f"{message}: no answer, the command may have been made")
    return AlexaError(ALEXA, "INTERNAL_ERROR", message)
