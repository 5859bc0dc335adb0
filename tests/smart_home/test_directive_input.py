"""Every field of a directive is checked by type and range where the directive is parsed, before SDM
is asked anything: a malformed field gets Amazon's documented error type (INVALID_VALUE,
TEMPERATURE_VALUE_OUT_OF_RANGE with validRange, UNSUPPORTED_THERMOSTAT_MODE, INVALID_DIRECTIVE), one
log line and no traceback; and every answer, however malformed the directive, carries back the
correlationToken and endpointId it gave when they are what Alexa sends."""

from __future__ import annotations

import copy
import json
import logging
import random
import uuid
from typing import Any

import pytest

from sandbox import alexa
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import thermostat
from tests.smart_home.conftest import setup

THERMOSTAT = "Alexa.ThermostatController"
MAX_DEGREES = 1000.0
"""The dispatcher's bound on any temperature or change a directive gives, in any scale."""
MAX_CORRELATION_TOKEN_CHARS = 16 * 1024
"""The longest correlationToken the dispatcher echoes."""


def set_target_payload(payload: Any) -> dict[str, Any]:
    return alexa.directive(THERMOSTAT, "SetTargetTemperature", payload, endpoint_id="living")


def with_temperature(build, field: str, temperature: Any) -> dict[str, Any]:
    return alexa.directive(THERMOSTAT, build, {field: temperature}, endpoint_id="living")


def raw_payload(name: str, payload: Any) -> dict[str, Any]:
    directive = alexa.directive(THERMOSTAT, name, endpoint_id="living")
    directive["directive"]["payload"] = payload
    return directive


def with_mode(mode: Any) -> dict[str, Any]:
    return alexa.directive(THERMOSTAT, "SetThermostatMode", {"thermostatMode": mode}, endpoint_id="living")


def answered(skill, directive, caplog) -> dict[str, Any]:
    """The reply, checked against the documented shapes; exactly one log line, no traceback."""
    caplog.set_level(logging.INFO)
    caplog.clear()
    reply = skill.lambda_handler(copy.deepcopy(directive), LambdaContext(7000))
    alexa.valid_smart_home(reply, directive)
    lines = [r for r in caplog.records if r.name.startswith("nest_skill.smart_home")]
    assert [r.getMessage() for r in lines] == ["directive handled"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    return reply


def out_of_range(scale: str) -> dict[str, Any]:
    low, high = {"FAHRENHEIT": (50.0, 90.0), "CELSIUS": (10.0, 32.0), "KELVIN": (283.15, 305.15)}[scale]
    return {"minimumValue": {"value": low, "scale": scale}, "maximumValue": {"value": high, "scale": scale}}


@pytest.mark.parametrize(
    "directive, expected",
    [
        (alexa.set_target("living", 1e308), ("TEMPERATURE_VALUE_OUT_OF_RANGE", out_of_range("FAHRENHEIT"))),
        (alexa.set_target("living", -1e308), ("TEMPERATURE_VALUE_OUT_OF_RANGE", out_of_range("FAHRENHEIT"))),
        (alexa.set_target("living", 1e308, scale="KELVIN"), ("TEMPERATURE_VALUE_OUT_OF_RANGE", out_of_range("KELVIN"))),
        (
            alexa.set_target("living", lower=60, upper=1e308),
            ("TEMPERATURE_VALUE_OUT_OF_RANGE", out_of_range("FAHRENHEIT")),
        ),
        (alexa.adjust("living", 1e308, scale="CELSIUS"), ("TEMPERATURE_VALUE_OUT_OF_RANGE", out_of_range("CELSIUS"))),
        (
            alexa.adjust("living", -MAX_DEGREES - 1, scale="CELSIUS"),
            ("TEMPERATURE_VALUE_OUT_OF_RANGE", out_of_range("CELSIUS")),
        ),
        (set_target_payload({"targetSetpoint": {"value": 70, "scale": ["FAHRENHEIT"]}}), ("INVALID_VALUE", None)),
        (set_target_payload({"targetSetpoint": {"value": 70, "scale": {"FAHRENHEIT": 1}}}), ("INVALID_VALUE", None)),
        (set_target_payload({"targetSetpoint": {"value": 70, "scale": 3}}), ("INVALID_VALUE", None)),
        (set_target_payload({"targetSetpoint": {"value": [70], "scale": "FAHRENHEIT"}}), ("INVALID_VALUE", None)),
        (set_target_payload({"targetSetpoint": {"value": True, "scale": "FAHRENHEIT"}}), ("INVALID_VALUE", None)),
        (set_target_payload({"targetSetpoint": {"value": 10**400, "scale": "CELSIUS"}}), ("INVALID_VALUE", None)),
        (set_target_payload({"targetSetpoint": {"value": float("inf"), "scale": "CELSIUS"}}), ("INVALID_VALUE", None)),
        (set_target_payload({"targetSetpoint": None}), ("INVALID_VALUE", None)),
        (set_target_payload({"lowerSetpoint": "60"}), ("INVALID_VALUE", None)),
        (
            with_temperature("AdjustTargetTemperature", "targetSetpointDelta", {"value": 1, "scale": []}),
            ("INVALID_VALUE", None),
        ),
        (
            with_temperature(
                "AdjustTargetTemperature", "targetSetpointDelta", {"value": float("nan"), "scale": "CELSIUS"}
            ),
            ("INVALID_VALUE", None),
        ),
        (alexa.directive(THERMOSTAT, "AdjustTargetTemperature", {}, endpoint_id="living"), ("INVALID_VALUE", None)),
        (with_mode({"value": ["HEAT"]}), ("INVALID_VALUE", None)),
        (with_mode({"value": {"HEAT": 1}}), ("INVALID_VALUE", None)),
        (with_mode({"value": 3}), ("INVALID_VALUE", None)),
        (with_mode(None), ("INVALID_VALUE", None)),
        (with_mode({"value": "HEAT" * 10000}), ("UNSUPPORTED_THERMOSTAT_MODE", None)),
        (raw_payload("SetThermostatMode", []), ("INVALID_DIRECTIVE", None)),
        (raw_payload("SetTargetTemperature", "70"), ("INVALID_DIRECTIVE", None)),
    ],
    ids=lambda value: None,
)
def test_a_malformed_field_gets_its_documented_error_and_nothing_is_asked_of_sdm(
    skill, sdm_api, caplog, directive, expected
):
    setup(sdm_api, thermostat("living", "Living Room"))
    reply = answered(skill, directive, caplog)
    error_type, valid_range = expected
    assert alexa.error_type(reply) == error_type
    assert reply["event"]["payload"].get("validRange") == valid_range
    assert len(sdm_api.calls) == 0


def test_a_value_beyond_any_thermostat_names_its_field_in_the_error_message(skill, sdm_api, caplog):
    setup(sdm_api, thermostat("living", "Living Room"))
    reply = answered(skill, alexa.set_target("living", lower=60, upper=1e308), caplog)
    assert reply["event"]["payload"]["message"] == "upperSetpoint is beyond any thermostat's limits"


def test_a_change_of_exactly_the_bound_is_refused_with_the_thermostats_own_limits(skill, sdm_api, caplog):
    setup(sdm_api, thermostat("living", "Living Room"))
    reply = answered(skill, alexa.adjust("living", MAX_DEGREES, scale="CELSIUS"), caplog)
    assert alexa.error_type(reply) == "TEMPERATURE_VALUE_OUT_OF_RANGE"
    assert reply["event"]["payload"]["validRange"] == out_of_range("FAHRENHEIT")


def test_a_directive_without_a_payload_is_read_as_one_with_an_empty_payload(skill, sdm_api, caplog):
    """ReportState takes nothing from its payload, so a ReportState without one is answered."""
    setup(sdm_api, thermostat("living", "Living Room"))
    directive = alexa.report_state("living")
    del directive["directive"]["payload"]
    assert answered(skill, directive, caplog)["event"]["header"]["name"] == "StateReport"


def test_a_payload_that_is_not_an_object_is_invalid_directive_still_answered_to_the_directive(skill, sdm_api, caplog):
    directive = alexa.set_target("living", 70)
    directive["directive"]["payload"] = [{"targetSetpoint": {"value": 70, "scale": "FAHRENHEIT"}}]
    reply = answered(skill, directive, caplog)
    assert alexa.error_type(reply) == "INVALID_DIRECTIVE"
    assert reply["event"]["header"]["correlationToken"] == alexa.CORRELATION_TOKEN
    assert reply["event"]["endpoint"] == {"endpointId": "living"}


@pytest.mark.parametrize(
    "break_it, expected",
    [
        (lambda d: d["directive"]["header"].update(payloadVersion=3), "INVALID_DIRECTIVE"),
        (lambda d: d["directive"]["header"].update(namespace=["Alexa"]), "INVALID_DIRECTIVE"),
        (lambda d: d["directive"]["header"].update(name="ReportState" * 100), "INVALID_DIRECTIVE"),
        (lambda d: d["directive"].update(payload="x"), "INVALID_DIRECTIVE"),
        (lambda d: d["directive"]["endpoint"].update(scope=[]), "INVALID_AUTHORIZATION_CREDENTIAL"),
        (lambda d: d["directive"]["endpoint"]["scope"].update(token="tö\nken"), "INVALID_AUTHORIZATION_CREDENTIAL"),
        (lambda d: d["directive"]["endpoint"]["scope"].update(token="t" * 5000), "INVALID_AUTHORIZATION_CREDENTIAL"),
    ],
    ids=[
        "version-number",
        "namespace-list",
        "name-too-long",
        "payload-string",
        "scope-list",
        "token-not-a-header",
        "token-too-long",
    ],
)
def test_an_error_to_any_malformed_directive_carries_its_correlation_token_and_endpoint(
    skill, sdm_api, caplog, break_it, expected
):
    """Nothing of the malformed field is copied into the answer's message or the log line."""
    setup(sdm_api, thermostat("living", "Living Room"))
    directive = alexa.report_state("living")
    break_it(directive)
    reply = answered(skill, directive, caplog)
    assert alexa.error_type(reply) == expected
    assert len(reply["event"]["payload"]["message"]) <= 100 and len(caplog.text) < 2000
    assert reply["event"]["header"]["correlationToken"] == alexa.CORRELATION_TOKEN
    assert reply["event"]["endpoint"] == {"endpointId": "living"}
    assert len(sdm_api.calls) == 0


@pytest.mark.parametrize(
    "correlation_token, endpoint_id, echoed",
    [
        ("c" * MAX_CORRELATION_TOKEN_CHARS, "living", ("c" * MAX_CORRELATION_TOKEN_CHARS, "living")),
        ("c" * (MAX_CORRELATION_TOKEN_CHARS + 1), "living", (None, "living")),
        ("", "living", ("", "living")),
        (alexa.CORRELATION_TOKEN, "living\x00", (alexa.CORRELATION_TOKEN, None)),
        (alexa.CORRELATION_TOKEN, "x" * 257, (alexa.CORRELATION_TOKEN, None)),
        (alexa.CORRELATION_TOKEN, "living/room", (alexa.CORRELATION_TOKEN, None)),
    ],
)
def test_only_a_correlation_token_and_endpoint_id_alexa_could_send_are_echoed(
    skill, sdm_api, correlation_token, endpoint_id, echoed
):
    setup(sdm_api, thermostat("living", "Living Room"))
    directive = alexa.report_state(endpoint_id, correlation_token=correlation_token)
    event = skill.lambda_handler(directive, LambdaContext(7000))["event"]
    assert (event["header"].get("correlationToken"), event.get("endpoint", {}).get("endpointId")) == echoed
    if echoed[1] is None:
        assert (event["payload"]["type"], len(sdm_api.calls)) == ("INVALID_DIRECTIVE", 0)
    json.dumps(event, allow_nan=False)


_SAMPLES = 400


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value Lambda's parser can give: scalars at the edges of their types, strings of any
    code points (lone surrogates and control characters too), lists and objects a few levels deep."""
    scalars = [
        None,
        True,
        False,
        0,
        -1,
        1e308,
        -1e308,
        float("nan"),
        float("inf"),
        10**400,
        0.5,
        "",
        "HEAT",
        "CELSIUS",
        "KELVIN",
        "\x00",
        "\ud800",
        "x" * 20000,
        "living",
        rng.random() * 200 - 100,
    ]
    kind = rng.randrange(4 if depth < 3 else 1)
    if kind == 0:
        return rng.choice(scalars)
    if kind == 1:
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    if kind == 2:
        return {
            rng.choice(["value", "scale", "token", "endpointId", "x"]): _json_value(rng, depth + 1)
            for _ in range(rng.randrange(3))
        }
    return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(8)))


def _paths(value: Any, path: tuple = ()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def _replaced(event: dict[str, Any], path: tuple, value: Any) -> Any:
    if not path:
        return value
    event = copy.deepcopy(event)
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return event


def _valid_answer(reply: dict[str, Any], sent: Any) -> None:
    """What Alexa takes as an answer to `sent`: the documented shapes (valid_smart_home) whenever the
    directive carried what it checks against; else at least an event with a header, a payload and
    nothing JSON cannot say."""
    json.dumps(reply, allow_nan=False)
    header = reply["event"]["header"]
    assert header["payloadVersion"] == "3" and isinstance(header["messageId"], str)
    assert isinstance(reply["event"]["payload"], dict)
    if header["name"] == "ErrorResponse":
        assert reply["event"]["payload"]["type"] != "INTERNAL_ERROR"
    asked = sent.get("directive", {}).get("header") if isinstance(sent.get("directive"), dict) else None
    token = asked.get("correlationToken") if isinstance(asked, dict) else None
    if isinstance(token, str) and len(token) <= MAX_CORRELATION_TOKEN_CHARS:
        assert header["correlationToken"] == token
    else:
        assert "correlationToken" not in header
    if "endpoint" in reply["event"]:
        endpoint_id = reply["event"]["endpoint"]["endpointId"]
        assert endpoint_id == sent["directive"]["endpoint"]["endpointId"]


@pytest.mark.parametrize(
    "template",
    [
        alexa.discover(),
        alexa.report_state("living"),
        alexa.set_target("living", 70),
        alexa.set_target("living", lower=66, upper=74),
        alexa.adjust("living", -2, scale="CELSIUS"),
        alexa.set_mode("living", "COOL"),
    ],
    ids=["discover", "report-state", "set-target", "set-range", "adjust", "set-mode"],
)
def test_any_json_in_place_of_any_field_gets_a_valid_answer_never_an_internal_error(skill, sdm_api, caplog, template):
    """A seeded sample (the same every run) of directives with one field, or one object, replaced
    by arbitrary JSON: each is answered with a well-formed event, never INTERNAL_ERROR, and no
    traceback is logged."""
    setup(sdm_api, thermostat("living", "Living Room"))
    rng = random.Random(f"directive fields {template['directive']['header']['name']}")
    paths = list(_paths(template))
    caplog.set_level(logging.INFO)
    for _ in range(_SAMPLES):
        event = _replaced(template, rng.choice(paths), _json_value(rng))
        if not (isinstance(event, dict) and "directive" in event):
            continue  # the entry point sends anything else to the custom skill
        reply = skill.lambda_handler(event, LambdaContext(7000))
        _valid_answer(reply, event)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


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


def test_a_correlation_token_that_is_not_a_string_is_not_answered_with(skill, sdm_api):
    setup(sdm_api, thermostat())
    reply = skill.lambda_handler(altered(alexa.report_state("living"), header={"correlationToken": 42}), None)
    assert (reply["event"]["header"]["name"], "correlationToken" in reply["event"]["header"]) == ("StateReport", False)


def test_each_answer_has_a_message_id_of_its_own(send, sdm_api):
    """Alexa's messageId: a new version 4 (random) UUID for every event, in its canonical text form."""
    setup(sdm_api, thermostat())
    ids = [
        send(directive)["event"]["header"]["messageId"]
        for directive in (
            alexa.discover(),
            alexa.report_state("living"),
            alexa.report_state("living"),
            alexa.report_state("gone"),
        )
    ]
    assert [(uuid.UUID(i).version, uuid.UUID(i).variant) for i in ids] == [(4, uuid.RFC_4122)] * 4
    assert [str(uuid.UUID(i)) for i in ids] == ids  # 8-4-4-4-12 lowercase hex digits, nothing around them
    assert len(set(ids)) == 4
