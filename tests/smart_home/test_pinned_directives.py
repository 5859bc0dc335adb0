"""Directives pinned by literal values (issue 16): the SDM command each one sends, the exact state and error
Alexa gets back (namespace, type, message), the discovery description and the operator's log line, for the
survivors `make mutation` found in the dispatcher, the endpoints and the messages."""

from __future__ import annotations

import logging
import time
import uuid
from types import SimpleNamespace

import pytest

from nest_skill.smart_home import dispatcher
from sandbox import alexa
from tests.skill.sdm import DEVICES_URL, error_body, f_to_c, sent_command, thermostat
from tests.skill.test_logs import fields
from tests.smart_home.conftest import setup

THERMOSTAT = "Alexa.ThermostatController"
SETPOINT = "sdm.devices.commands.ThermostatTemperatureSetpoint."
MOMENT = 1700000001.996
"""A `time.time()` whose hundredths (.99, truncated) and odd second tell the timestamp's arithmetic apart."""


def commands(sdm_api):
    return [sent_command(c) for c in sdm_api.calls if c.request.method == "POST"]


def silent():
    device = thermostat("living", "Living Room")
    device["traits"] = {}
    return device


def heatcool(**kwargs):
    return thermostat("living", "Living Room", mode="HEATCOOL", heat_c=f_to_c(66), cool_c=f_to_c(76), **kwargs)


def mode_payload(value):
    return alexa.directive(THERMOSTAT, "SetThermostatMode", {"thermostatMode": value}, endpoint_id="living")


def altered(directive, header=None, endpoint=None, **body):
    """`directive` with fields of its header or endpoint, or of the directive itself, replaced (None: removed)."""
    inner = directive["directive"]
    for part, changes in (("header", header), ("endpoint", endpoint)):
        for key, value in (changes or {}).items():
            inner[part][key] = value
            if value is None:
                del inner[part][key]
    inner.update(body)
    return directive


@pytest.mark.parametrize("device, directive, expected", [
    (silent(), alexa.report_state("living"), ("Alexa", "ENDPOINT_UNREACHABLE", "the thermostat reports no state")),
    (thermostat(), alexa.adjust("living", 0), ("Alexa", "INVALID_VALUE", "no non-zero targetSetpointDelta")),
    (thermostat(), alexa.set_target("living"), ("Alexa", "INVALID_VALUE", "no setpoint given")),
    (thermostat(), alexa.set_mode("living", "HEATCOOL"),
     (THERMOSTAT, "UNSUPPORTED_THERMOSTAT_MODE", "not a mode a Nest thermostat has")),
    (thermostat(), mode_payload("HEAT"), ("Alexa", "INVALID_VALUE", "thermostatMode is not a mode object")),
    # A range (lower/upper) asked of a thermostat that cannot take one now.
    (thermostat(mode="OFF"), alexa.set_target("living", lower=66, upper=74),
     (THERMOSTAT, "THERMOSTAT_IS_OFF", "the thermostat is off")),
    (thermostat(eco=True), alexa.set_target("living", lower=66, upper=74),
     ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in MANUAL_ECO")),
    (thermostat(mode="SOME_FUTURE_MODE"), alexa.set_target("living", lower=66, upper=74),
     ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in UNKNOWN")),
    (thermostat(mode="HEATCOOL", heat_c=f_to_c(66), cool_c=None), alexa.set_target("living", lower=68),
     ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in HEATCOOL")),
    (thermostat(mode="HEATCOOL", heat_c=None, cool_c=f_to_c(76)), alexa.set_target("living", upper=78),
     ("Alexa", "NOT_SUPPORTED_IN_CURRENT_MODE", "not possible in HEATCOOL")),
    (heatcool(), alexa.set_target("living", lower=40, upper=75),
     ("Alexa", "TEMPERATURE_VALUE_OUT_OF_RANGE", "outside the Nest setpoint limits")),
], ids=["silent", "zero-delta", "no-setpoint", "sdm-mode-name", "mode-not-an-object", "range-off", "range-eco",
        "range-unknown-mode", "lower-without-cool", "upper-without-heat", "range-end-out-of-limits"])
def test_what_alexa_is_told_when_nothing_is_sent(send, sdm_api, device, directive, expected):
    setup(sdm_api, device)
    event = send(directive)["event"]
    assert (event["header"]["namespace"], event["payload"]["type"], event["payload"]["message"]) == expected
    assert commands(sdm_api) == []


@pytest.mark.parametrize("directive, expected", [
    ({"directive": {"header": {"namespace": "Alexa", "name": "ReportState", "payloadVersion": "2"}}},
     ("Alexa", "INVALID_DIRECTIVE", "not an Alexa Smart Home v3 directive")),
    (altered(alexa.report_state("living"), header={"namespace": None}),
     ("Alexa", "INVALID_DIRECTIVE", ".ReportState is not handled")),
    (altered(alexa.report_state("living"), header={"name": None}),
     ("Alexa", "INVALID_DIRECTIVE", "Alexa. is not handled")),
    (alexa.directive("Alexa", "ReportState"), ("Alexa", "INVALID_DIRECTIVE", "no endpointId")),
    (altered(alexa.report_state("living"), endpoint={"endpointId": 7}),
     ("Alexa", "INVALID_DIRECTIVE", "no endpointId")),
    (alexa.report_state("livingroom"), ("Alexa", "NO_SUCH_ENDPOINT", "no thermostat has this endpointId")),
    (alexa.report_state("living", token=None),
     ("Alexa", "INVALID_AUTHORIZATION_CREDENTIAL", "no linked account token")),
    (altered(alexa.report_state("living"), endpoint={"scope": {"type": "BearerToken", "token": 123}}),
     ("Alexa", "INVALID_AUTHORIZATION_CREDENTIAL", "no linked account token")),
    (altered(alexa.discover(), payload="not an object"),
     ("Alexa", "INVALID_DIRECTIVE", "endpoint or payload is not an object")),
], ids=["version-2", "no-namespace", "no-name", "no-endpoint", "endpoint-id-not-a-string", "unknown-endpoint",
        "no-token", "token-not-a-string", "payload-not-an-object"])
def test_what_alexa_is_told_of_a_directive_the_skill_cannot_act_on(skill, sdm_api, directive, expected):
    """Not all of these are what Alexa sends (sandbox.alexa.valid_smart_home would refuse them): still, one answer."""
    setup(sdm_api, thermostat())
    event = skill.lambda_handler(directive, None)["event"]
    assert (event["header"]["namespace"], event["payload"]["type"], event["payload"]["message"]) == expected
    assert commands(sdm_api) == []


def test_a_correlation_token_that_is_not_a_string_is_not_answered_with(skill, sdm_api):
    setup(sdm_api, thermostat())
    reply = skill.lambda_handler(altered(alexa.report_state("living"), header={"correlationToken": 42}), None)
    assert (reply["event"]["header"]["name"], "correlationToken" in reply["event"]["header"]) == ("StateReport", False)


@pytest.mark.parametrize("device, directive, sent, reported", [
    # 295.15 K is 22 °C, 71.6 °F: the thermostat shows 72.
    (thermostat(heat_c=f_to_c(66)), alexa.set_target("living", 295.15, scale="KELVIN"),
     (SETPOINT + "SetHeat", {"heatCelsius": 22.2222}), {"targetSetpoint": alexa.degrees(72)}),
    # A difference, not a reading: 4 °C warmer is 7.2 °F, 7 whole degrees; 5 °F is 2.78 °C, 3 half degrees.
    (thermostat(heat_c=f_to_c(68)), alexa.adjust("living", 4, scale="CELSIUS"),
     (SETPOINT + "SetHeat", {"heatCelsius": 23.8889}), {"targetSetpoint": alexa.degrees(75)}),
    (thermostat(scale="CELSIUS", heat_c=19.0), alexa.adjust("living", 5),
     (SETPOINT + "SetHeat", {"heatCelsius": 22.0}), {"targetSetpoint": alexa.degrees(22.0, "CELSIUS")}),
    # A target beside a range: heat takes the target, heat-cool the range.
    (thermostat(heat_c=f_to_c(66)), alexa.set_target("living", 70, lower=60, upper=80),
     (SETPOINT + "SetHeat", {"heatCelsius": 21.1111}), {"targetSetpoint": alexa.degrees(70)}),
    (heatcool(), alexa.set_target("living", 70, lower=60, upper=80),
     (SETPOINT + "SetRange", {"heatCelsius": 15.5555, "coolCelsius": 26.6667}),
     {"lowerSetpoint": alexa.degrees(60), "upperSetpoint": alexa.degrees(80)}),
    # One end alone keeps the other; exactly the narrowest range SDM takes is sent.
    (heatcool(), alexa.set_target("living", lower=68),
     (SETPOINT + "SetRange", {"heatCelsius": 20.0, "coolCelsius": 24.4445}),
     {"lowerSetpoint": alexa.degrees(68), "upperSetpoint": alexa.degrees(76)}),
    (heatcool(), alexa.set_target("living", lower=70, upper=73),
     (SETPOINT + "SetRange", {"heatCelsius": 21.111, "coolCelsius": 22.7778}),
     {"lowerSetpoint": alexa.degrees(70), "upperSetpoint": alexa.degrees(73)}),
    (thermostat(scale="CELSIUS", mode="HEATCOOL", heat_c=19.0, cool_c=24.0),
     alexa.set_target("living", lower=21, upper=23, scale="CELSIUS"),
     (SETPOINT + "SetRange", {"heatCelsius": 21.0, "coolCelsius": 23.0}),
     {"lowerSetpoint": alexa.degrees(21.0, "CELSIUS"), "upperSetpoint": alexa.degrees(23.0, "CELSIUS")}),
    # A mode just switched to reports no setpoint: heat's own setpoint is not heat-cool's lower end.
    (heatcool(), alexa.set_mode("living", "HEAT"), ("sdm.devices.commands.ThermostatMode.SetMode", {"mode": "HEAT"}),
     {}),
], ids=["kelvin", "celsius-delta", "fahrenheit-delta", "target-in-heat", "range-in-heatcool", "lower-only",
        "three-fahrenheit", "two-celsius", "switched-mode"])
def test_the_command_sent_and_the_state_answered(send, sdm_api, device, directive, sent, reported):
    setup(sdm_api, device)
    reply = send(directive)
    assert commands(sdm_api) == [{"command": sent[0], "params": sent[1]}]
    mode = alexa.properties(reply)["thermostatMode"]
    scale = device["traits"]["sdm.devices.traits.Settings"]["temperatureScale"]
    assert alexa.properties(reply) == {"connectivity": {"value": "OK"}, "thermostatMode": mode,
                                       "temperature": alexa.degrees(71 if scale == "FAHRENHEIT" else 21.5, scale),
                                       **reported}


def prop(namespace, name, value):
    return {"namespace": namespace, "name": name, "value": value, "timeOfSample": "2023-11-14T22:13:21.99Z",
            "uncertaintyInMilliseconds": 30000}


HEALTH = prop("Alexa.EndpointHealth", "connectivity", {"value": "OK"})
AMBIENT = prop("Alexa.TemperatureSensor", "temperature", alexa.degrees(71))


@pytest.mark.parametrize("device, properties", [
    (thermostat(heat_c=f_to_c(68)),
     [HEALTH, prop(THERMOSTAT, "thermostatMode", "HEAT"), prop(THERMOSTAT, "targetSetpoint", alexa.degrees(68)), AMBIENT]),
    (heatcool(), [HEALTH, prop(THERMOSTAT, "thermostatMode", "AUTO"),
                  prop(THERMOSTAT, "lowerSetpoint", alexa.degrees(66)),
                  prop(THERMOSTAT, "upperSetpoint", alexa.degrees(76)), AMBIENT]),
    (thermostat(mode="OFF", ambient_c=None), [HEALTH, prop(THERMOSTAT, "thermostatMode", "OFF")]),
], ids=["heat", "heatcool", "off-without-a-reading"])
def test_each_property_of_a_state_report(send, sdm_api, monkeypatch, device, properties):
    monkeypatch.setattr("nest_skill.smart_home.dispatcher._now", lambda: MOMENT)
    setup(sdm_api, device)
    assert send(alexa.report_state("living"))["context"]["properties"] == properties


def test_a_range_set_is_answered_with_each_property(send, sdm_api, monkeypatch):
    monkeypatch.setattr("nest_skill.smart_home.dispatcher._now", lambda: MOMENT)
    setup(sdm_api, heatcool())
    assert send(alexa.set_target("living", lower=64, upper=78))["context"]["properties"] == [
        HEALTH, prop(THERMOSTAT, "thermostatMode", "AUTO"), prop(THERMOSTAT, "lowerSetpoint", alexa.degrees(64)),
        prop(THERMOSTAT, "upperSetpoint", alexa.degrees(78)), AMBIENT]


def controller(reply):
    [endpoint] = reply["event"]["payload"]["endpoints"]
    return endpoint, next(c for c in endpoint["capabilities"] if c["interface"] == THERMOSTAT)


@pytest.mark.parametrize("available, eco, modes, properties", [
    (("HEATCOOL", "OFF"), True, ["AUTO", "OFF", "ECO"], ["lowerSetpoint", "upperSetpoint", "thermostatMode"]),
    (("HEATCOOL", "OFF"), False, ["AUTO", "OFF"], ["lowerSetpoint", "upperSetpoint", "thermostatMode"]),
    (("HEAT", "COOL"), True, ["HEAT", "COOL", "ECO"],
     ["targetSetpoint", "lowerSetpoint", "upperSetpoint", "thermostatMode"]),
    (("HEAT", "COOL"), False, ["HEAT", "COOL"], ["targetSetpoint", "thermostatMode"]),
    (("COOL", "OFF"), True, ["COOL", "OFF", "ECO"], ["targetSetpoint", "thermostatMode"]),
    (("OFF",), True, ["OFF", "ECO"], ["thermostatMode"]),
])
def test_the_setpoints_discovery_declares_for_the_modes_a_thermostat_has(send, sdm_api, available, eco, modes,
                                                                         properties):
    device = thermostat("living", "Living Room", available_modes=available)
    if not eco:
        del device["traits"]["sdm.devices.traits.ThermostatEco"]
    setup(sdm_api, device)
    endpoint, capability = controller(send(alexa.discover()))
    assert capability["configuration"]["supportedModes"] == modes
    assert [p["name"] for p in capability["properties"]["supported"]] == properties
    assert endpoint["description"] == "Nest thermostat (through Home Thermostat)"


def test_each_answer_has_a_message_id_of_its_own(send, sdm_api):
    """Alexa's messageId: a new UUID for every event."""
    setup(sdm_api, thermostat())
    ids = [send(directive)["event"]["header"]["messageId"] for directive in (
        alexa.discover(), alexa.report_state("living"), alexa.report_state("living"), alexa.report_state("gone"))]
    assert [uuid.UUID(i).version for i in ids] == [4, 4, 4, 4]
    assert len(set(ids)) == 4


def test_discovery_answers_with_the_correlation_token_it_was_given(send, sdm_api):
    setup(sdm_api, thermostat())
    directive = alexa.directive("Alexa.Discovery", "Discover", correlation_token="dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8")
    assert send(directive)["event"]["header"]["correlationToken"] == "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8"


def test_a_failed_discovery_logs_a_warning_naming_the_sdm_error(send, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, status=401, json=error_body(401, "UNAUTHENTICATED", "Request had invalid credentials."))
    send(alexa.discover())
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert (warning.name, warning.getMessage(), fields(warning)) == (
        "nest_skill.smart_home.dispatcher", "discovery failed", {"sdm_error": "Unauthenticated"})


@pytest.mark.parametrize("directive, logged", [
    (alexa.report_state("living"), {"directive": "Alexa.ReportState", "outcome": "StateReport", "latency_ms": 12.3}),
    (alexa.report_state("attic"), {"directive": "Alexa.ReportState", "outcome": "NO_SUCH_ENDPOINT", "latency_ms": 12.3}),
    ({"directive": []}, {"directive": "invalid", "outcome": "INVALID_DIRECTIVE", "latency_ms": 12.3}),
], ids=["answered", "error", "invalid"])
def test_each_directive_logs_one_line_with_its_name_outcome_and_latency(skill, sdm_api, caplog, monkeypatch, directive,
                                                                        logged):
    """The directive arrives at 100 s on the monotonic clock and is answered at 100.01234 s."""
    readings = iter([100.0, 100.01234])
    monkeypatch.setattr(dispatcher, "time", SimpleNamespace(monotonic=lambda: next(readings), time=time.time))
    setup(sdm_api, thermostat())
    caplog.set_level(logging.INFO)
    skill.lambda_handler(directive, None)
    [line] = [r for r in caplog.records if r.name == "nest_skill.smart_home.dispatcher"]
    assert (line.levelno, line.getMessage(), fields(line)) == (logging.INFO, "directive handled", logged)


def test_an_unexpected_failure_is_logged_with_its_traceback_and_answered_as_internal_error(skill, sdm_api, caplog,
                                                                                           monkeypatch):
    setup(sdm_api, thermostat())
    monkeypatch.setattr("nest_skill.account.NestAccount.carry_out", lambda *a: {}["bug"])
    reply = skill.lambda_handler(alexa.set_target("living", 70), None)
    assert (reply["event"]["payload"]["type"], reply["event"]["payload"]["message"]) == (
        "INTERNAL_ERROR", "unexpected failure")
    [failed] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (failed.name, failed.getMessage(), failed.exc_info[0]) == (
        "nest_skill.smart_home.dispatcher", "directive failed", KeyError)
