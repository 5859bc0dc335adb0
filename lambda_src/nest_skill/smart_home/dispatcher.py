"""The smart-home directive dispatcher: one small handler per directive, all over the same domain
as the custom skill (NestAccount, controls' Actions).

Every directive gets exactly one answer event, in time: SDM shares one wall-clock deadline per
directive (Deadline.for_request), and whatever goes wrong becomes an ErrorResponse through
errors.py. Each directive is parsed once, before anything is asked of SDM: its envelope
(Directive.parse: INVALID_DIRECTIVE) and its payload as the handler's typed request (Temperature,
Setpoints, Delta, ModeChoice: INVALID_VALUE, TEMPERATURE_VALUE_OUT_OF_RANGE,
UNSUPPORTED_THERMOSTAT_MODE). Every answer, an error to a malformed directive too, carries the
directive's correlationToken and endpointId when they are what Alexa sends (`_echo`). A command acts
only on the endpoint whose endpointId is exactly the one addressed.
Handlers are looked up by (namespace, name). `Alexa.Authorization.AcceptGrant` is answered by live
state when it is on (live_state.reporter: the token in its payload is the grantee's), and
`Alexa.Authorization.ErrorResponse` ACCEPT_GRANT_FAILED otherwise or when it fails; discovery then
declares properties proactively reported (docs: how-it-works/live-state.md).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

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
MAX_DEGREES = 1000.0
"""The largest temperature or change a directive may give, in any scale, before it is answered
TEMPERATURE_VALUE_OUT_OF_RANGE at once: no thermostat is set a thousand degrees, and below it the
arithmetic stays finite (1e308 °F in Celsius and back is infinity). Within it the thermostat's own
limits decide (controls: 50–90 °F, 10–32 °C, answered in its own scale)."""
MAX_CORRELATION_TOKEN_CHARS = 16 * 1024
"""The longest correlationToken echoed: Alexa's are opaque strings of about a kilobyte. A longer or
non-string one is left out of the answer rather than copied back."""
_INTERFACE_NAME = re.compile(r"^[A-Za-z0-9.]{0,128}$")
"""A header namespace or name as Alexa writes them ("Alexa.ThermostatController", "ReportState");
anything else counts as absent, so it is never echoed into a message or a log line."""


def _echo(event: Any) -> tuple[str | None, str | None]:
    """The correlationToken and endpointId an answer to `event` repeats, whatever else is wrong with
    it: each only when it is what Alexa sends (a string; a token of at most
    MAX_CORRELATION_TOKEN_CHARS, the empty one too, since Alexa matches the answer by it as given;
    an endpointId of Alexa's characters, at most 256), else None."""
    directive = event.get("directive") if isinstance(event, Mapping) else None
    header = directive.get("header") if isinstance(directive, Mapping) else None
    endpoint = directive.get("endpoint") if isinstance(directive, Mapping) else None
    correlation = header.get("correlationToken") if isinstance(header, Mapping) else None
    endpoint_id = endpoint.get("endpointId") if isinstance(endpoint, Mapping) else None
    return (
        correlation if isinstance(correlation, str) and len(correlation) <= MAX_CORRELATION_TOKEN_CHARS else None,
        endpoint_id if endpoints.is_endpoint_id(endpoint_id) else None,
    )


def _interface_name(value: Any) -> str:
    return value if isinstance(value, str) and _INTERFACE_NAME.match(value) else ""


@dataclass(frozen=True)
class Directive:
    """The parts of a v3 directive the handlers read. `token` is the linked Google access token:
    `payload.scope.token` for Discover, `endpoint.scope.token` for the others. `request` is the
    payload as the handler's typed request (PAYLOADS), None for a directive without one."""

    namespace: str
    name: str
    correlation_token: str | None
    endpoint_id: str | None
    token: str
    request: Any = None

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> Directive:
        """Raises AlexaError INVALID_DIRECTIVE when the event is not a v3 directive (a header with
        payloadVersion "3"; endpoint and payload objects when present), and the payload's own error
        (PAYLOADS) when its fields are not what the directive takes. An endpointId that is not of
        Alexa's characters is read as none: a directive about an endpoint is then INVALID_DIRECTIVE."""
        directive = event.get("directive")
        directive = directive if isinstance(directive, Mapping) else {}
        header = directive.get("header")
        if not isinstance(header, Mapping) or header.get("payloadVersion") != messages.PAYLOAD_VERSION:
            raise AlexaError(ALEXA, "INVALID_DIRECTIVE", "not an Alexa Smart Home v3 directive")
        payload = directive.get("payload", {})
        endpoint = directive.get("endpoint", {})
        if not isinstance(payload, Mapping) or not isinstance(endpoint, Mapping):
            raise AlexaError(ALEXA, "INVALID_DIRECTIVE", "endpoint or payload is not an object")
        scope = endpoint.get("scope") if endpoint else payload.get("scope")
        token = scope.get("token") if isinstance(scope, Mapping) else None
        correlation_token, endpoint_id = _echo(event)
        namespace, name = _interface_name(header.get("namespace")), _interface_name(header.get("name"))
        read_payload = PAYLOADS.get((namespace, name))
        return cls(
            namespace=namespace,
            name=name,
            correlation_token=correlation_token,
            endpoint_id=endpoint_id,
            token=token if isinstance(token, str) else "",
            request=read_payload(payload) if read_payload else None,
        )


@dataclass(frozen=True)
class Temperature:
    """An Alexa temperature object `{"value": number, "scale": "CELSIUS" | "FAHRENHEIT" | "KELVIN"}`
    as a directive gave it: a finite number within MAX_DEGREES."""

    value: float
    scale: str

    @classmethod
    def parse(cls, payload: Mapping[str, Any], field: str) -> Temperature | None:
        """The temperature at `field`, None when absent; INVALID_VALUE when it is not a temperature
        object, TEMPERATURE_VALUE_OUT_OF_RANGE beyond MAX_DEGREES."""
        if field not in payload:
            return None
        temperature = payload[field]
        value = temperatures.finite(temperature.get("value")) if isinstance(temperature, Mapping) else None
        scale = temperature.get("scale") if isinstance(temperature, Mapping) else None
        if value is None or not isinstance(scale, str) or scale not in _SCALES:
            raise AlexaError(ALEXA, "INVALID_VALUE", f"{field} is not a temperature")
        if abs(value) > MAX_DEGREES:
            raise _beyond_any_thermostat(field, scale)
        return cls(value, scale)

    def reading(self, scale: Scale) -> float:
        """This reading in `scale`."""
        celsius = (
            self.value - 273.15 if self.scale == _KELVIN else temperatures.to_celsius(self.value, Scale(self.scale))
        )
        return temperatures.from_celsius(celsius, scale)

    def difference(self, scale: Scale) -> float:
        """This temperature difference in `scale` (a kelvin is a degree Celsius)."""
        return temperatures.difference(self.value, Scale.CELSIUS if self.scale == _KELVIN else Scale(self.scale), scale)


def _beyond_any_thermostat(field: str, scale: str) -> AlexaError:
    """TEMPERATURE_VALUE_OUT_OF_RANGE with the Nest app's limits in the directive's own scale: the
    thermostat (and so its scale) is not looked up for a value no thermostat takes."""
    low, high = temperatures.LIMITS[Scale.CELSIUS if scale == _KELVIN else Scale(scale)]
    offset = 273.15 if scale == _KELVIN else 0.0
    return AlexaError(
        ALEXA,
        "TEMPERATURE_VALUE_OUT_OF_RANGE",
        f"{field} is beyond any thermostat's limits",
        {
            "validRange": {
                "minimumValue": {"value": low + offset, "scale": scale},
                "maximumValue": {"value": high + offset, "scale": scale},
            }
        },
    )


@dataclass(frozen=True)
class Setpoints:
    """`SetTargetTemperature`'s payload: `targetSetpoint`, `lowerSetpoint`, `upperSetpoint`, at least one."""

    target: Temperature | None
    lower: Temperature | None
    upper: Temperature | None

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> Setpoints:
        setpoints = cls(*(Temperature.parse(payload, f) for f in ("targetSetpoint", "lowerSetpoint", "upperSetpoint")))
        if setpoints.target is None and setpoints.lower is None and setpoints.upper is None:
            raise AlexaError(ALEXA, "INVALID_VALUE", "no setpoint given")
        return setpoints


@dataclass(frozen=True)
class Delta:
    """`AdjustTargetTemperature`'s payload: a non-zero `targetSetpointDelta`."""

    delta: Temperature

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> Delta:
        delta = Temperature.parse(payload, "targetSetpointDelta")
        if delta is None or delta.value == 0:
            raise AlexaError(ALEXA, "INVALID_VALUE", "no non-zero targetSetpointDelta")
        return cls(delta)


@dataclass(frozen=True)
class ModeChoice:
    """`SetThermostatMode`'s payload: `thermostatMode.value`, one of Alexa's modes a Nest thermostat has."""

    mode: Mode

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> ModeChoice:
        """INVALID_VALUE when `thermostatMode` is not an object with a string `value`;
        UNSUPPORTED_THERMOSTAT_MODE for a mode no Nest thermostat has (CUSTOM, or SDM's own HEATCOOL)."""
        mode = payload.get("thermostatMode")
        value = mode.get("value") if isinstance(mode, Mapping) else None
        if not isinstance(value, str):
            raise AlexaError(ALEXA, "INVALID_VALUE", "thermostatMode is not a mode object")
        wanted = endpoints.ALEXA_MODES.get(value)
        if wanted is None:
            raise AlexaError(errors.THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", "not a mode a Nest thermostat has")
        return cls(wanted)


PAYLOADS: dict[tuple[str, str], Callable[[Mapping[str, Any]], Any]] = {
    (errors.THERMOSTAT, "SetTargetTemperature"): Setpoints.parse,
    (errors.THERMOSTAT, "AdjustTargetTemperature"): Delta.parse,
    (errors.THERMOSTAT, "SetThermostatMode"): ModeChoice.parse,
    ("Alexa.Authorization", "AcceptGrant"): lambda payload: Grant.parse(payload),
}
"""Each directive's payload as its handler's typed request; directives without one read no payload
(Discover reads only its scope)."""


Handler = Callable[[Directive, NestAccount], dict[str, Any]]


def _now() -> float:
    return time.time()


def discover(directive: Directive, account: NestAccount, proactive: bool = False) -> dict[str, Any]:
    """`Alexa.Discovery.Discover`: one endpoint per thermostat (cameras and doorbells are not
    listed), proactively reported when live state is on. When SDM fails, an empty list, as
    Alexa.Discovery asks ("return an empty endpoint array and not an error"): Alexa keeps the
    devices it already knows. So too when a thermostat is listed reporting nothing (`"traits": {}`
    during an outage): its capabilities are then unknown, not absent, and an endpoint described
    from them would replace the one Alexa knows with one that has no controls until the next
    discovery."""
    try:
        thermostats = account.thermostats()
    except SdmError as error:
        log.warning("discovery failed", extra={"sdm_error": type(error).__name__})
        return messages.discover_response(directive.correlation_token, [])
    silent = sum(1 for t in thermostats if not t.reporting)
    if silent:
        log.warning("discovery deferred: thermostats not reporting", extra={"not_reporting": silent})
        return messages.discover_response(directive.correlation_token, [])
    found: list[dict[str, Any]] = [endpoints.discovery_endpoint(t, proactive) for t in thermostats]
    return messages.discover_response(directive.correlation_token, found)


def _addressed(directive: Directive, account: NestAccount) -> Thermostat:
    if not directive.endpoint_id:
        raise AlexaError(ALEXA, "INVALID_DIRECTIVE", "no endpointId")
    thermostat = endpoints.addressed(account.thermostats(), directive.endpoint_id)
    if thermostat is None:
        raise AlexaError(ALEXA, "NO_SUCH_ENDPOINT", "no thermostat has this endpointId")
    return thermostat


def report_state(directive: Directive, account: NestAccount) -> dict[str, Any]:
    """`Alexa.ReportState` -> `StateReport` from the user's device list (the warm cache: the Alexa
    app asks for every device at once). An offline thermostat still reports its last state with
    connectivity UNREACHABLE; one that reports nothing is ENDPOINT_UNREACHABLE."""
    thermostat = _addressed(directive, account)
    if not thermostat.reporting:
        raise AlexaError(ALEXA, "ENDPOINT_UNREACHABLE", "the thermostat reports no state")
    return messages.state_report(
        directive.correlation_token, endpoints.endpoint_id(thermostat), endpoints.state(thermostat, _now())
    )


def _reading(temperature: Temperature | None, thermostat: Thermostat) -> float | None:
    """A reading in the thermostat's own scale; None when the directive gave none."""
    return None if temperature is None else temperature.reading(thermostat.scale)


def _act(directive: Directive, account: NestAccount, thermostat: Thermostat, action: Action) -> dict[str, Any]:
    """Carry out `action` and answer with the state it leaves: the new mode, and the setpoints the
    command set (those of a mode just switched to are unknown, so not reported)."""
    endpoint_id = endpoints.endpoint_id(thermostat)
    try:
        change = account.carry_out(thermostat, action)
    except AlreadyInMode:
        return messages.response(directive.correlation_token, endpoint_id, endpoints.state(thermostat, _now()))
    except SdmError as error:  # about this thermostat: its limits and scale go into the answer
        raise errors.for_sdm_error(error, thermostat) from None
    return messages.response(
        directive.correlation_token,
        endpoint_id,
        endpoints.state(change.thermostat, _now(), mode=change.mode, setpoints=change.setpoints),
    )


def set_target_temperature(directive: Directive, account: NestAccount) -> dict[str, Any]:
    """`SetTargetTemperature`: `targetSetpoint`, or `lowerSetpoint`/`upperSetpoint` (a range, honoured in
    heat-cool, or when no target is given: then DUAL_SETPOINTS_UNSUPPORTED outside heat-cool). A lone
    target in heat-cool becomes a range around it (controls.SetTemperature)."""
    thermostat = _addressed(directive, account)
    setpoints: Setpoints = directive.request
    target = _reading(setpoints.target, thermostat)
    low = _reading(setpoints.lower, thermostat)
    high = _reading(setpoints.upper, thermostat)
    if target is None or ((low is not None or high is not None) and thermostat.mode is Mode.HEATCOOL):
        return _act(directive, account, thermostat, SetRange(low, high))
    return _act(directive, account, thermostat, SetTemperature(target))


def adjust_target_temperature(directive: Directive, account: NestAccount) -> dict[str, Any]:
    """`AdjustTargetTemperature`: `targetSetpointDelta` converted as a temperature difference to the
    thermostat's scale; in heat-cool both ends move (controls.Adjust)."""
    thermostat = _addressed(directive, account)
    delta: Temperature = directive.request.delta
    amount = abs(delta.difference(thermostat.scale))
    return _act(directive, account, thermostat, Adjust(up=delta.value > 0, amount=amount))


def set_thermostat_mode(directive: Directive, account: NestAccount) -> dict[str, Any]:
    """`SetThermostatMode`: HEAT, COOL, AUTO (SDM's HEATCOOL), OFF, or ECO (the eco trait);
    anything else is UNSUPPORTED_THERMOSTAT_MODE."""
    thermostat = _addressed(directive, account)
    return _act(directive, account, thermostat, SetMode(directive.request.mode.value))


HANDLERS: dict[tuple[str, str], Handler] = {
    ("Alexa.Discovery", "Discover"): discover,
    ("Alexa", "ReportState"): report_state,
    (errors.THERMOSTAT, "SetTargetTemperature"): set_target_temperature,
    (errors.THERMOSTAT, "AdjustTargetTemperature"): adjust_target_temperature,
    (errors.THERMOSTAT, "SetThermostatMode"): set_thermostat_mode,
}


AUTHORIZATION = "Alexa.Authorization"
ACCEPT_GRANT = (AUTHORIZATION, "AcceptGrant")
MAX_GRANT_CHARS = 4096
"""The longest grant code or grantee token taken: Alexa's codes are tens of characters, Google's
access tokens at most 2048 bytes."""


@dataclass(frozen=True)
class Grant:
    """`AcceptGrant`'s payload: `grant.code` (LWA's authorization code) and `grantee.token` (the
    user's linked Google access token)."""

    code: str
    grantee_token: str

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> Grant:
        grant, grantee = payload.get("grant"), payload.get("grantee")
        code = grant.get("code") if isinstance(grant, Mapping) else None
        token = grantee.get("token") if isinstance(grantee, Mapping) else None
        if not (_grant_value(code) and _grant_value(token)):
            raise AlexaError(AUTHORIZATION, "ACCEPT_GRANT_FAILED", "no grant code or grantee token")
        return cls(code, token)


def _grant_value(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_GRANT_CHARS and value.isprintable()


class SmartHome:
    """The front door for directive events; one per warm container, sharing its SdmClient.
    `live_state` (live_state.reporter.LiveState) when the deployment sends ChangeReports."""

    def __init__(self, sdm: SdmClient, live_state: Any = None):
        self._sdm = sdm
        self._live_state = live_state
        self._handlers = dict(HANDLERS)
        if live_state is not None:
            self._handlers[("Alexa.Discovery", "Discover")] = self._discover_live

    def _discover_live(self, directive: Directive, account: NestAccount) -> dict[str, Any]:
        """Discover with live state: endpoints proactively reported; the linked user's endpoints
        that get ChangeReports made those answered, and the listing the answer came from stored as the
        thermostats' complete state for the events function (reporter.LiveState.listed: within the
        request's deadline, never raising). Only an answer with endpoints is stored: an empty one
        (SDM failed, or a thermostat reports nothing) leaves Alexa's devices as they are."""
        reply = discover(directive, account, proactive=True)
        answered = [endpoint["endpointId"] for endpoint in reply["event"]["payload"]["endpoints"]]
        if answered:
            try:
                devices = account.devices()  # discover()'s listing: warm cache, unless its TTL ran out meanwhile
            except SdmError:
                return reply
            self._live_state.listed(directive.token, devices, answered, account.deadline)
        return reply

    def handle(self, event: Mapping[str, Any], lambda_context: Any = None) -> dict[str, Any]:
        """The one response event for `event`; never raises. Logs one line: the directive's name,
        the outcome and the latency, never a token."""
        started = time.monotonic()
        directive: Directive | None = None
        correlation_token, endpoint_id = _echo(event)
        try:
            directive = Directive.parse(event)
            reply = self._answer(directive, lambda_context)
        except AlexaError as error:
            reply = error.response(correlation_token, endpoint_id)
        except Exception:  # the last resort: Alexa must still get an answer
            log.exception("directive failed")
            reply = AlexaError(ALEXA, "INTERNAL_ERROR", "unexpected failure").response(correlation_token, endpoint_id)
        header = reply["event"]["header"]
        log.info(
            "directive handled",
            extra={
                "directive": f"{directive.namespace}.{directive.name}" if directive else "invalid",
                "outcome": header["name"] if header["name"] != "ErrorResponse" else reply["event"]["payload"]["type"],
                "latency_ms": round((time.monotonic() - started) * 1000.0, 1),
            },
        )
        return reply

    def _answer(self, directive: Directive, lambda_context: Any) -> dict[str, Any]:
        if (directive.namespace, directive.name) == ACCEPT_GRANT:
            return self._accept_grant(directive, lambda_context)
        handler = self._handlers.get((directive.namespace, directive.name))
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

    def _accept_grant(self, directive: Directive, lambda_context: Any) -> dict[str, Any]:
        """`AcceptGrant.Response` once the user's tokens are stored; ACCEPT_GRANT_FAILED when live
        state is off or any step fails (the log names the step, never the code or a token)."""
        grant: Grant = directive.request
        if self._live_state is None:
            raise AlexaError(AUTHORIZATION, "ACCEPT_GRANT_FAILED", "this deployment does not send Alexa events")
        from nest_skill.live_state.reporter import AcceptGrantFailed

        try:
            self._live_state.accept_grant(grant.code, grant.grantee_token, Deadline.for_request(lambda_context))
        except AcceptGrantFailed as error:
            log.warning("accept grant failed", extra={"reason": str(error)})
            raise AlexaError(AUTHORIZATION, "ACCEPT_GRANT_FAILED", "the grant could not be accepted") from None
        return messages.accept_grant_response()
