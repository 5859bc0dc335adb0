"""The smart-home directive dispatcher: one small handler per directive, all over the same domain
as the custom skill (NestAccount, controls' Actions).

Every directive gets exactly one answer event, in time: SDM shares one wall-clock deadline per
directive (Deadline.for_request), and whatever goes wrong becomes an ErrorResponse through
errors.py. A command acts only on the endpoint whose endpointId is exactly the one addressed.
Handlers are looked up by (namespace, name); `Alexa.Authorization.AcceptGrant` would join them
when properties are reported proactively (README: Smart home).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from nest_skill import temperatures
from nest_skill.account import NestAccount
from nest_skill.controls import Action, Adjust, AlreadyInMode, CannotChange, SetMode, SetRange, SetTemperature
from nest_skill.sdm_client import Deadline, SdmClient, SdmError
from nest_skill.smart_home import endpoints, errors, messages
from nest_skill.smart_home.errors import ALEXA, AlexaError
from nest_skill.temperatures import Scale
from nest_skill.thermostats import Mode, Thermostat

log = logging.getLogger(__name__)

_KELVIN = "KELVIN"
_SCALES = {"CELSIUS", "FAHRENHEIT", _KELVIN}


@dataclass(frozen=True)
class Directive:
    """The parts of a v3 directive the handlers read. `token` is the linked Google access token:
    `payload.scope.token` for Discover, `endpoint.scope.token` for the others."""

    namespace: str
    name: str
    correlation_token: Optional[str]
    endpoint_id: Optional[str]
    token: str
    payload: Mapping[str, Any]

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> "Directive":
        """Raises AlexaError INVALID_DIRECTIVE when the event is not a v3 directive."""
        directive = event.get("directive")
        header = directive.get("header") if isinstance(directive, Mapping) else None
        if not isinstance(header, Mapping) or header.get("payloadVersion") != messages.PAYLOAD_VERSION:
            raise AlexaError(ALEXA, "INVALID_DIRECTIVE", "not an Alexa Smart Home v3 directive")
        payload = directive.get("payload")
        payload = payload if isinstance(payload, Mapping) else {}
        endpoint = directive.get("endpoint")
        endpoint = endpoint if isinstance(endpoint, Mapping) else {}
        scope = endpoint.get("scope") if endpoint else payload.get("scope")
        token = scope.get("token") if isinstance(scope, Mapping) else None
        correlation = header.get("correlationToken")
        endpoint_id = endpoint.get("endpointId")
        return cls(namespace=str(header.get("namespace") or ""), name=str(header.get("name") or ""),
                   correlation_token=correlation if isinstance(correlation, str) else None,
                   endpoint_id=endpoint_id if isinstance(endpoint_id, str) else None,
                   token=token if isinstance(token, str) else "", payload=payload)


Handler = Callable[[Directive, NestAccount], Dict[str, Any]]


def _now() -> float:
    return time.time()


def discover(directive: Directive, account: NestAccount) -> Dict[str, Any]:
    """`Alexa.Discovery.Discover`: one endpoint per thermostat (cameras and doorbells are not
    listed). When SDM fails, an empty list, as Alexa.Discovery asks ("return an empty endpoint
    array and not an error"): Alexa keeps the devices it already knows."""
    try:
        found: List[Dict[str, Any]] = [endpoints.discovery_endpoint(t) for t in account.thermostats()]
    except SdmError as error:
        log.warning("discovery failed", extra={"sdm_error": type(error).__name__})
        found = []
    return messages.discover_response(directive.correlation_token, found)


def _addressed(directive: Directive, account: NestAccount) -> Thermostat:
    if not directive.endpoint_id:
        raise AlexaError(ALEXA, "INVALID_DIRECTIVE", "no endpointId")
    thermostat = endpoints.addressed(account.thermostats(), directive.endpoint_id)
    if thermostat is None:
        raise AlexaError(ALEXA, "NO_SUCH_ENDPOINT", "no thermostat has this endpointId")
    return thermostat


def report_state(directive: Directive, account: NestAccount) -> Dict[str, Any]:
    """`Alexa.ReportState` -> `StateReport` from the user's device list (the warm cache: the Alexa
    app asks for every device at once). An offline thermostat still reports its last state with
    connectivity UNREACHABLE; one that reports nothing is ENDPOINT_UNREACHABLE."""
    thermostat = _addressed(directive, account)
    if not thermostat.reporting:
        raise AlexaError(ALEXA, "ENDPOINT_UNREACHABLE", "the thermostat reports no state")
    return messages.state_report(directive.correlation_token, endpoints.endpoint_id(thermostat),
                                 endpoints.state(thermostat, _now()))


def _degrees(payload: Mapping[str, Any], field: str) -> Optional[Tuple[float, str]]:
    """`{"value": n, "scale": s}` at `field` as (value, scale), None when absent; INVALID_VALUE when malformed."""
    if field not in payload:
        return None
    temperature = payload[field]
    value = temperatures.finite(temperature.get("value")) if isinstance(temperature, Mapping) else None
    scale = temperature.get("scale") if isinstance(temperature, Mapping) else None
    if value is None or scale not in _SCALES:
        raise AlexaError(ALEXA, "INVALID_VALUE", f"{field} is not a temperature")
    return value, scale


def _reading(payload: Mapping[str, Any], field: str, thermostat: Thermostat) -> Optional[float]:
    """A temperature reading at `field`, in the thermostat's own scale."""
    degrees = _degrees(payload, field)
    if degrees is None:
        return None
    value, scale = degrees
    celsius = value - 273.15 if scale == _KELVIN else temperatures.to_celsius(value, Scale(scale))
    return temperatures.from_celsius(celsius, thermostat.scale)


def _act(directive: Directive, account: NestAccount, thermostat: Thermostat, action: Action) -> Dict[str, Any]:
    """Carry out `action` and answer with the state it leaves: the new mode, and the setpoints the
    command set (those of a mode just switched to are unknown, so not reported)."""
    endpoint_id = endpoints.endpoint_id(thermostat)
    try:
        change = account.carry_out(thermostat, action)
    except AlreadyInMode:
        return messages.response(directive.correlation_token, endpoint_id, endpoints.state(thermostat, _now()))
    return messages.response(directive.correlation_token, endpoint_id, endpoints.state(
        change.thermostat, _now(), mode=change.mode, setpoints=change.setpoints))


def set_target_temperature(directive: Directive, account: NestAccount) -> Dict[str, Any]:
    """`SetTargetTemperature`: `targetSetpoint`, or `lowerSetpoint`/`upperSetpoint` (a range, honoured in
    heat-cool, or when no target is given: then DUAL_SETPOINTS_UNSUPPORTED outside heat-cool). A lone
    target in heat-cool becomes a range around it (controls.SetTemperature)."""
    thermostat = _addressed(directive, account)
    target = _reading(directive.payload, "targetSetpoint", thermostat)
    low = _reading(directive.payload, "lowerSetpoint", thermostat)
    high = _reading(directive.payload, "upperSetpoint", thermostat)
    ranged = low is not None or high is not None
    if ranged and (target is None or thermostat.mode is Mode.HEATCOOL):
        return _act(directive, account, thermostat, SetRange(low, high))
    if target is None:
        raise AlexaError(ALEXA, "INVALID_VALUE", "no setpoint given")
    return _act(directive, account, thermostat, SetTemperature(target))


def adjust_target_temperature(directive: Directive, account: NestAccount) -> Dict[str, Any]:
    """`AdjustTargetTemperature`: `targetSetpointDelta` converted as a temperature difference to the
    thermostat's scale; in heat-cool both ends move (controls.Adjust)."""
    thermostat = _addressed(directive, account)
    degrees = _degrees(directive.payload, "targetSetpointDelta")
    if degrees is None or degrees[0] == 0:
        raise AlexaError(ALEXA, "INVALID_VALUE", "no non-zero targetSetpointDelta")
    delta, scale = degrees
    amount = temperatures.difference(abs(delta), Scale.CELSIUS if scale == _KELVIN else Scale(scale),
                                     thermostat.scale)
    return _act(directive, account, thermostat, Adjust(up=delta > 0, amount=amount))


def set_thermostat_mode(directive: Directive, account: NestAccount) -> Dict[str, Any]:
    """`SetThermostatMode`: HEAT, COOL, AUTO (SDM's HEATCOOL), OFF, or ECO (the eco trait);
    anything else is UNSUPPORTED_THERMOSTAT_MODE."""
    thermostat = _addressed(directive, account)
    mode = directive.payload.get("thermostatMode")
    wanted = endpoints.ALEXA_MODES.get(mode.get("value")) if isinstance(mode, Mapping) else None
    if wanted is None:
        raise AlexaError(errors.THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", "not a mode a Nest thermostat has")
    return _act(directive, account, thermostat, SetMode(wanted.value))


HANDLERS: Dict[Tuple[str, str], Handler] = {
    ("Alexa.Discovery", "Discover"): discover,
    ("Alexa", "ReportState"): report_state,
    (errors.THERMOSTAT, "SetTargetTemperature"): set_target_temperature,
    (errors.THERMOSTAT, "AdjustTargetTemperature"): adjust_target_temperature,
    (errors.THERMOSTAT, "SetThermostatMode"): set_thermostat_mode,
}


class SmartHome:
    """The front door for directive events; one per warm container, sharing its SdmClient."""

    def __init__(self, sdm: SdmClient):
        self._sdm = sdm

    def handle(self, event: Mapping[str, Any], lambda_context: Any = None) -> Dict[str, Any]:
        """The one response event for `event`; never raises. Logs one line: the directive's name,
        the outcome and the latency, never a token."""
        started = time.monotonic()
        directive: Optional[Directive] = None
        try:
            directive = Directive.parse(event)
            reply = self._answer(directive, lambda_context)
        except AlexaError as error:
            reply = error.response(directive and directive.correlation_token, directive and directive.endpoint_id)
        except Exception:  # the last resort: Alexa must still get an answer
            log.exception("directive failed")
            reply = AlexaError(ALEXA, "INTERNAL_ERROR", "unexpected failure").response(
                directive and directive.correlation_token, directive and directive.endpoint_id)
        header = reply["event"]["header"]
        log.info("directive handled", extra={
            "directive": f"{directive.namespace}.{directive.name}" if directive else "invalid",
            "outcome": header["name"] if header["name"] != "ErrorResponse" else reply["event"]["payload"]["type"],
            "latency_ms": round((time.monotonic() - started) * 1000.0, 1)})
        return reply

    def _answer(self, directive: Directive, lambda_context: Any) -> Dict[str, Any]:
        handler = HANDLERS.get((directive.namespace, directive.name))
        if handler is None:
            raise AlexaError(ALEXA, "INVALID_DIRECTIVE", f"{directive.namespace}.{directive.name} is not handled")
        if not directive.token:
            raise AlexaError(ALEXA, "INVALID_AUTHORIZATION_CREDENTIAL", "no linked account token")
        account = NestAccount(self._sdm, directive.token, Deadline.for_request(lambda_context))
        try:
            return handler(directive, account)
        except CannotChange as reason:
            raise errors.for_cannot_change(reason) from None
        except SdmError as error:
            raise errors.for_sdm_error(error) from None
