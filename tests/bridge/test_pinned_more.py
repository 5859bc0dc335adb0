"""More of the bridge pinned by literal values (issue 16): the messages an operator reads when a setting or a
secrets value is unusable, the JSON log line as configured in the process itself, and the query checks at the
function level."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from oauth_bridge import app as bridge_app
from oauth_bridge import credentials as credentials_module
from oauth_bridge.app import Bridge, build_bridge
from oauth_bridge.config import BridgeConfig, ConfigError
from oauth_bridge.credentials import CredentialStore, Credentials, CredentialsUnavailable
from oauth_bridge.logs import configure_json_logging
from oauth_bridge.properties import MalformedProperties, format_properties
from oauth_bridge.query import BadQuery, single_params
from oauth_bridge.sealed_state import AlexaReturn, StateSealer, binding_of
from oauth_bridge.spent_states import SpentStates
from oauth_bridge.token_exchange import TokenClient
from tests.bridge.helpers import (ALEXA_REDIRECT, ALEXA_STATE, AUTH_URL, BUCKET, CLIENT_ID, CLIENT_SECRET, CODE, KEY,
                                  STATE_KEY, TOKEN_URL, VENDOR, Flow, assert_back_to_alexa, assert_refused, body,
                                  callback, get, location, make_config, start)
from tests.clock import Clock

REQUIRED = {"SECRETS_BUCKET": BUCKET, "SECRETS_KEY": KEY, "ALEXA_VENDOR_ID": VENDOR,
            "OAUTH_AUTHORIZATION_URL": AUTH_URL}


# -- the configuration -------------------------------------------------------------------------------------------


def config_error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as error:
        BridgeConfig.from_env(env)
    return str(error.value)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_an_absent_required_variable_is_named_as_missing(name):
    env = {other: value for other, value in REQUIRED.items() if other != name}
    assert config_error(env) == f"environment variable {name} is missing or empty"


_NOT_A_URL = "no fragment; http:// only for 127.0.0.1 or localhost)"


@pytest.mark.parametrize("name, value, message", [
    ("SECRETS_BUCKET", "Bad_Bucket", "environment variable SECRETS_BUCKET='Bad_Bucket' is not an S3 bucket name"),
    ("SECRETS_KEY", "/leading-slash", "environment variable SECRETS_KEY='/leading-slash' is not an S3 object key"),
    ("ALEXA_VENDOR_ID", "vendor id",
     "environment variable ALEXA_VENDOR_ID='vendor id' is not an Alexa vendor ID (8-20 A-Z/0-9)"),
    ("OAUTH_AUTHORIZATION_URL", "http://nestservices.google.com/auth",
     "environment variable OAUTH_AUTHORIZATION_URL='http://nestservices.google.com/auth' is not an https:// URL "
     f"(a query is allowed, {_NOT_A_URL}"),
    ("OAUTH_TOKEN_URL", "https://oauth2.example.com/token?x=1",
     f"environment variable OAUTH_TOKEN_URL='https://oauth2.example.com/token?x=1' is not an https:// URL (no query, "
     f"{_NOT_A_URL}"),
    ("PUBLIC_BASE_URL", "https:///callback",
     f"environment variable PUBLIC_BASE_URL='https:///callback' is not an https:// URL (no query, {_NOT_A_URL}"),
])
def test_what_the_operator_reads_for_an_unusable_value(name, value, message):
    assert config_error({**REQUIRED, name: value}) == message


def test_only_the_trailing_slashes_of_the_public_base_url_go():
    config = BridgeConfig.from_env({**REQUIRED, "PUBLIC_BASE_URL": "https://home.example.com/ALEXA-X//"})
    assert config.public_base_url == "https://home.example.com/ALEXA-X"


# -- the JSON log line, configured in this process -----------------------------------------------------------------


@contextmanager
def bare_root_logger() -> Iterator[None]:
    """The root logger as a fresh process has it (no handler, WARNING), restored afterwards: logging.basicConfig
    leaves a root logger that has handlers (pytest adds its own for the test's call) alone."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_configured_logging_writes_info_and_above_as_one_json_line_on_stdout(capsys):
    logger = logging.getLogger("oauth_bridge.app")
    with bare_root_logger():
        configure_json_logging()
        logger.debug("not kept")
        logger.info("GET /health -> 200 healthy", extra={"outcome": "healthy"})
    out, err = capsys.readouterr()
    assert err == ""
    [line] = out.splitlines()
    record = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", record.pop("timestamp"))
    assert record == {"level": "INFO", "name": "oauth_bridge.app", "message": "GET /health -> 200 healthy",
                      "outcome": "healthy"}


# -- the query ---------------------------------------------------------------------------------------------------


def params_of(raw: str) -> dict[str, str]:
    environ = EnvironBuilder(path="/authorize").get_environ()
    environ["QUERY_STRING"] = raw
    return single_params(Request(environ))


def twenty_fields_of(total_chars: int) -> str:
    """Twenty `x=vvv` fields (names a to t, each value at most 2048 bytes) joined by `&`, `total_chars` long."""
    values = 40_960 - 19 - 20 * 2
    sizes = [values // 20] * 20
    sizes[0] += values % 20 + total_chars - 40_960
    return "&".join(f"{chr(ord('a') + index)}={'v' * size}" for index, size in enumerate(sizes))


def test_each_parameter_once_decoded():
    assert params_of("") == {}
    assert params_of("a=1&b=x+y%20z&c=%C3%A9&d=") == {"a": "1", "b": "x y z", "c": "\u00e9", "d": ""}


def test_a_query_of_40960_characters_is_read_and_one_more_is_too_long():
    assert len(twenty_fields_of(40_960)) == 40_960
    assert len(params_of(twenty_fields_of(40_960))) == 20
    with pytest.raises(BadQuery, match="^too_long$"):
        params_of(twenty_fields_of(40_961))


@pytest.mark.parametrize("raw, reason", [
    ("state=%FF", "malformed"),
    ("state=%C3", "malformed"),
    ("state=a&state=a", "malformed"),
    ("&".join(f"x{index}=v" for index in range(21)), "malformed"),
    ("state=" + "%C3%A9" * 1025, "too_long"),
    ("a%0Ab=1", "control_chars"),
    ("state=a%7F", "control_chars"),
], ids=["not UTF-8", "cut UTF-8", "repeated", "21 fields", "2050 bytes in 1025 characters", "in a name",
        "DEL in a value"])
def test_what_no_legitimate_caller_sends_is_refused_with_its_reason(raw, reason):
    with pytest.raises(BadQuery) as bad:
        params_of(raw)
    assert (bad.value.reason, str(bad.value)) == (reason, reason)


def test_a_value_of_2048_bytes_in_1024_characters_passes():
    assert params_of("state=" + "%C3%A9" * 1024) == {"state": "\u00e9" * 1024}


# -- the secrets object's format ------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, message", [
    ({"client secret": "x"}, "key 'client secret' is not letters, digits, '_', '.' or '-'"),
    ({"clientsecret": "line\nbreak"}, "value of 'clientsecret' has surrounding whitespace or a line break"),
])
def test_what_the_operator_reads_when_values_cannot_be_written(values, message):
    with pytest.raises(MalformedProperties) as error:
        format_properties(values)
    assert str(error.value) == message


# -- the secrets object as read ------------------------------------------------------------------------------------


class FakeS3:
    """GetObject answering with `body`, or raising `error`."""

    def __init__(self, body: bytes = b"", error: Exception | None = None) -> None:
        self.body, self.error = body, error

    def get_object(self, *, Bucket: str, Key: str) -> dict:
        assert (Bucket, Key) == (BUCKET, KEY)
        if self.error:
            raise self.error
        return {"Body": io.BytesIO(self.body)}


_FIELDS = ("event", "bucket", "object_key", "error_code")


def read(s3: FakeS3, caplog: pytest.LogCaptureFixture) -> tuple[Credentials | str, list[tuple]]:
    """The credentials (or the error code), and the operator lines logged meanwhile: level, message and the
    JSON fields they carry."""
    with caplog.at_level(logging.INFO, logger="oauth_bridge.credentials"):
        try:
            outcome: Credentials | str = CredentialStore(s3, BUCKET, KEY, clock=Clock(0.0)).get()
        except CredentialsUnavailable as error:
            outcome = error.error_code
    return outcome, [(record.levelname, record.getMessage(),
                      {name: getattr(record, name) for name in _FIELDS if hasattr(record, name)})
                     for record in caplog.records]


OBJECT = f"s3://{BUCKET}/{KEY}"


@pytest.mark.parametrize("s3, code", [
    (FakeS3(error=ClientError({"Error": {"Code": "SlowDown"}}, "GetObject")), "SlowDown"),
    (FakeS3(error=ClientError({"Error": {"Code": ""}}, "GetObject")), "UnknownClientError"),
    (FakeS3(error=ClientError({}, "GetObject")), "UnknownClientError"),
    (FakeS3(error=ConnectionResetError(104, "Connection reset by peer")), "ConnectionResetError"),
    (FakeS3(b"statekey=" + b"k" * 32 + b"\n"), "MalformedProperties: missing or empty clientid, clientsecret"),
    (FakeS3(b"clientid=a\nclientsecret=b\nstatekey=" + b"k" * 31 + b"\n"),
     "MalformedProperties: statekey shorter than 32 characters"),
], ids=["S3's code", "a blank code", "no error at all", "any other exception", "two values missing",
        "a 31-character state key"])
def test_what_the_operator_reads_for_an_unusable_secrets_object(caplog, s3, code):
    assert read(s3, caplog) == (code, [("ERROR", f"cannot use secrets object {OBJECT}: {code}", {
        "event": "credentials_unavailable", "bucket": BUCKET, "object_key": KEY, "error_code": code})])


def test_a_32_character_state_key_is_enough_and_the_read_is_logged(caplog):
    body = f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\nstatekey={'k' * 32}\n".encode()
    assert read(FakeS3(body), caplog) == (Credentials(CLIENT_ID, CLIENT_SECRET, "k" * 32), [
        ("INFO", f"read secrets object {OBJECT}", {"event": "credentials_loaded", "bucket": BUCKET,
                                                   "object_key": KEY})])


class EndsAsTheWaitExpires(Future):
    """A read whose end the request sees only just after its wait expired."""

    def result(self, timeout: float | None = None) -> Credentials:
        self.exception()
        raise FutureTimeout


@pytest.mark.parametrize("s3, code", [
    (FakeS3(error=ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")), "NoSuchKey"),
    (FakeS3(f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\nstatekey={'k' * 32}\n".encode()), "Timeout"),
], ids=["failed", "succeeded"])
def test_a_read_ending_as_the_wait_expires(monkeypatch, s3, code):
    """The request answers with the read's own failure, or, when it succeeded too late, with Timeout."""
    monkeypatch.setattr(credentials_module, "Future", EndsAsTheWaitExpires)
    with pytest.raises(CredentialsUnavailable) as error:
        CredentialStore(s3, BUCKET, KEY, clock=Clock(0.0)).get()
    assert error.value.error_code == code


# -- the request log line -------------------------------------------------------------------------------------------


_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
INCOMPRESSIBLE = base64.urlsafe_b64encode(b"".join(hashlib.sha256(bytes([n])).digest() for n in range(45))).decode()
"""1920 characters (under the 2 KB a parameter may have) that zlib shrinks little: over 2 KB once sealed."""
AUTHORIZE = {"response_type": "token", "state": ALEXA_STATE, "redirect_uri": ALEXA_REDIRECT}


def request_line(caplog: pytest.LogCaptureFixture, send: Callable[[], Any]) -> tuple[str, dict[str, Any]]:
    """The request line of the last request `send` makes (after any /authorize or /callback it needs first): its
    message and its JSON fields (the duration only checked to be a number)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="oauth_bridge.app"):
        send()
    record = [r for r in caplog.records if getattr(r, "event", None) == "request"][-1]
    fields = {name: value for name, value in vars(record).items() if name not in _RECORD_ATTRIBUTES}
    assert isinstance(fields.pop("duration_ms"), float)
    return record.getMessage(), fields


def sealed_for(redirect_uri: str, wall, flow_nonce: str = "nonce") -> Flow:
    """A state sealed with the bridge's key for `redirect_uri`, and the browser holding its nonce."""
    return Flow(StateSealer(STATE_KEY, wall).seal(AlexaReturn(ALEXA_STATE, redirect_uri, binding_of(flow_nonce))),
                flow_nonce)


def tampered(flow: Flow) -> Flow:
    return Flow(flow.state[:-4] + ("AAAA" if not flow.state.endswith("AAAA") else "BBBB"), flow.nonce)


def twice(bridge: Bridge, flow: Flow) -> None:
    callback(bridge, flow)
    callback(bridge, flow)


def expired(bridge: Bridge, wall) -> Callable[[], Any]:
    flow = start(bridge)
    wall.advance(601)
    return lambda: callback(bridge, flow)


OUTCOMES = [
    (lambda b, w: lambda: get(b, "/authorize", "a=1&a=2"), "GET /authorize -> 400 query_malformed", {}),
    (lambda b, w: lambda: get(b, "/authorize", "pad=" + "p" * 2049), "GET /authorize -> 400 query_too_long", {}),
    (lambda b, w: lambda: get(b, "/authorize", "state=a%0A"), "GET /authorize -> 400 query_control_chars", {}),
    (lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "redirect_uri": "https://evil.example/"}),
     "GET /authorize -> 400 redirect_uri_not_allowed", {}),
    (lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "state": " "}), "GET /authorize -> 400 missing_state",
     {}),
    (lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "response_type": "code"}),
     "GET /authorize -> 302 unsupported_response_type", {}),
    (lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "state": INCOMPRESSIBLE}),
     "GET /authorize -> 400 state_too_long", {}),
    (lambda b, w: lambda: get(b, "/authorize", AUTHORIZE), "GET /authorize -> 302 sent_to_provider", {}),
    (lambda b, w: lambda: get(b, "/callback", {"code": "c"}), "GET /callback -> 400 missing_state", {}),
    (lambda b, w: lambda: get(b, "/callback", {"code": "c", "state": ALEXA_STATE}),
     "GET /callback -> 400 state_unsealed", {}),
    (lambda b, w: lambda: callback(b, tampered(start(b))), "GET /callback -> 400 state_invalid", {}),
    (expired, "GET /callback -> 302 state_expired", {}),
    (lambda b, w: lambda: callback(b, sealed_for("https://evil.example/", w)),
     "GET /callback -> 400 state_redirect_not_allowed", {}),
    (lambda b, w: lambda: get(b, "/callback", {"code": "c", "state": start(b).state}),
     "GET /callback -> 302 flow_cookie_missing", {}),
    (lambda b, w: lambda: callback(b, Flow(start(b).state, "another-browser")),
     "GET /callback -> 302 flow_cookie_mismatch", {}),
    (lambda b, w: lambda: twice(b, start(b)), "GET /callback -> 302 state_reused", {}),
    (lambda b, w: lambda: callback(b, start(b), code=None, error="invalid_scope"),
     "GET /callback -> 302 provider_error:server_error", {}),
    (lambda b, w: lambda: callback(b, start(b), code=" "), "GET /callback -> 302 missing_code", {}),
    (lambda b, w: lambda: callback(b, start(b), code=None), "GET /callback -> 302 missing_code", {}),
    (lambda b, w: lambda: callback(b, start(b)), "GET /callback -> 302 linked", {}),
    (lambda b, w: lambda: get(b, "/callback", method="POST"), "POST (unknown) -> 405 method_not_allowed", {}),
    (lambda b, w: lambda: get(b, "/callback", method="PROPFIND-PROPFIND-PROPFIND"),
     "PROPFIND-PROPFIN (unknown) -> 405 method_not_allowed", {}),
    (lambda b, w: lambda: get(b, "/admin"), "GET (unknown) -> 404 not_found", {}),
    (lambda b, w: lambda: get(b, "/health/"), "GET /health -> 200 healthy", {}),
    (lambda b, w: lambda: get(b, "/health//"), "GET (unknown) -> 404 not_found", {}),
    (lambda b, w: lambda: get(b, "/callback//", method="POST"), "POST (unknown) -> 404 not_found", {}),
]
"""(the request to make, given the bridge and its wall clock; the request line it logs; its further fields)"""


@pytest.mark.parametrize("scenario, message, fields", [pytest.param(*case, id=case[1].split(" ")[-1])
                                                       for case in OUTCOMES])
def test_the_request_line_names_the_outcome(bridge, wall, grant, caplog, scenario, message, fields):
    """Each way a request ends, as the operator's log line and its JSON fields say it."""
    send = scenario(bridge, wall)
    _, route, _, status, outcome = message.split(" ")
    assert request_line(caplog, send) == (message, {
        "event": "request", "route": None if route == "(unknown)" else route, "status": int(status),
        "outcome": outcome, **fields})


@pytest.mark.parametrize("send, route, status", [
    (lambda b, flow: get(b, "/authorize", AUTHORIZE), "/authorize", 302),
    (lambda b, flow: callback(b, flow), "/callback", 302),
    (lambda b, flow: get(b, "/callback", {"code": "c", "state": ALEXA_STATE}), "/callback", 503),
], ids=["authorize", "callback of the flow's browser", "callback of an unknown state"])
def test_unusable_secrets_are_logged_with_s3s_error_code(bridge, secrets_bucket, monotonic, caplog, send, route,
                                                         status):
    flow = start(bridge)
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    monotonic.advance(300)
    assert request_line(caplog, lambda: send(bridge, flow)) == (f"GET {route} -> {status} secrets_unavailable", {
        "event": "request", "route": route, "status": status, "outcome": "secrets_unavailable",
        "error_code": "NoSuchKey"})


def test_the_request_line_carries_its_duration_in_milliseconds_to_a_tenth(bridge, caplog, monkeypatch):
    monkeypatch.setattr(bridge_app, "time", SimpleNamespace(monotonic=iter([10.0, 10.0123456]).__next__))
    with caplog.at_level(logging.INFO, logger="oauth_bridge.app"):
        get(bridge, "/health")
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    assert record.duration_ms == 12.3


def test_a_state_sealed_into_exactly_2048_characters_goes_to_google_and_a_longer_one_does_not(bridge, monkeypatch):
    """With this nonce and clock, Alexa's state of 1804 characters seals into 2048, one of 1805 into 2050 (lengths
    of CPython's zlib deflate, as on Lambda)."""
    monkeypatch.setattr(bridge_app, "new_nonce", lambda: "fixed-nonce")
    sent = location(get(bridge, "/authorize", {**AUTHORIZE, "state": INCOMPRESSIBLE[:1804]}))
    assert len(sent.query["state"]) == 2048
    assert_refused(get(bridge, "/authorize", {**AUTHORIZE, "state": INCOMPRESSIBLE[:1805]}), 400, "more than can be carried")


def test_a_failed_exchange_is_logged_with_googles_status_error_and_the_attempts(bridge, token_endpoint, caplog):
    token_endpoint.post(TOKEN_URL, status=503, json={"error": "backend_error"})
    flow = start(bridge)
    assert request_line(caplog, lambda: callback(bridge, flow)) == ("GET /callback -> 302 token_provider_error", {
        "event": "request", "route": "/callback", "status": 302, "outcome": "token_provider_error",
        "provider_status": 503, "provider_error": "backend_error", "attempts": 1})


def test_a_callback_whose_own_url_cannot_be_built_goes_back_to_alexa_as_server_error(secrets_bucket, monotonic, wall,
                                                                                     grant, caplog):
    """Without PUBLIC_BASE_URL the Host header names the callback URL Google must be given again."""
    bridge = Bridge(make_config(public_base_url=None), CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
                    TokenClient(TOKEN_URL), wall_clock=wall)
    flow = start(bridge)
    answers = []

    def send() -> None:
        answers.append(get(bridge, "/callback", {"state": flow.state, "code": CODE}, {"host": "a b"},
                           cookies=flow.cookies))

    assert request_line(caplog, send) == ("GET /callback -> 302 bad_host", {
        "event": "request", "route": "/callback", "status": 302, "outcome": "bad_host"})
    assert_back_to_alexa(answers[0], "server_error")
    assert len(grant.calls) == 0


def broken(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a bug")


@pytest.mark.parametrize("target, send, message", [
    ("oauth_bridge.app.single_params", lambda b: get(b, "/authorize", AUTHORIZE),
     "GET /authorize -> 500 internal_error"),
    ("oauth_bridge.app.TokenClient.exchange", lambda b: callback(b, start(b)), "GET /callback -> 302 internal_error"),
], ids=["before the state is known", "after"])
def test_an_unexpected_error_is_logged_with_its_traceback_and_as_the_outcome(bridge, caplog, monkeypatch, target,
                                                                            send, message):
    monkeypatch.setattr(target, broken)
    route = message.split(" ")[1]
    assert request_line(caplog, lambda: send(bridge)) == (message, {
        "event": "request", "route": route, "status": int(message.split(" ")[3]), "outcome": "internal_error"})
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (error.getMessage(), error.event, error.route, error.exc_info[0]) == (
        "unexpected error", "internal_error", route, RuntimeError)

def test_the_url_sent_to_google_byte_for_byte(secrets_bucket, monotonic, wall):
    """The configured URL's own query first (spaces as %20, as everywhere the bridge encodes), then the bridge's."""
    bridge = Bridge(make_config(authorization_url=AUTH_URL + "?hl=en&hint=a+b%2Fc"),
                    CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic), TokenClient(TOKEN_URL),
                    wall_clock=wall)
    sent = get(bridge, "/authorize", AUTHORIZE).headers["Location"]
    assert sent.startswith(f"{AUTH_URL}?hl=en&hint=a%20b%2Fc&client_id=1234567890-testclient.apps.googleusercontent.com"
                           "&redirect_uri=https%3A%2F%2Fbridge.example.com%2Fcallback&response_type=code"
                           "&access_type=offline&prompt=consent"
                           "&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fsdm.service&state=sealed2~")


def test_the_production_bridge_reads_s3_with_its_own_bounds(aws):
    """1 s to connect, 2 s per read, 3 attempts: the background read ends within about 6 s."""
    config = build_bridge(make_config())._credentials._s3.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries) == (
        1, 2, {"mode": "standard", "total_max_attempts": 3})


def test_a_page_without_advice_in_full(bridge):
    response = get(bridge, "/admin")
    assert "Allow" not in response.headers
    assert body(response) == (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Page not found - Home Thermostat</title>\n"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5;overflow-wrap:anywhere}</style>\n</head>\n<body>\n"
        "<p>Home Thermostat: linking your Google account</p>\n<h1>Page not found</h1>\n"
        "<p>There is no page at this address of Home Thermostat&#x27;s linking service.</p>\n"
        "<p>You can close this window.</p>\n</body>\n</html>\n")


# -- spent states --------------------------------------------------------------------------------------------------


def test_a_binding_claimed_again_the_second_it_expires_is_the_newest_entry():
    """Claimed anew at 600 s, "a" lives until 1200 s: when the cache is full later, older entries go first."""
    clock = Clock(0.0)
    spent = SpentStates(600, clock, max_entries=3)
    assert spent.claim("a")
    clock.now = 1.0
    assert spent.claim("b")
    clock.now = 600.0
    assert spent.claim("a")
    clock.now = 601.0
    assert spent.claim("c")
    clock.now = 602.0
    assert spent.claim("d")
    assert not spent.claim("a")
