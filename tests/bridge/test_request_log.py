"""The request log line: one per request, naming its route, status and outcome, with the fields the operator
needs to know why (S3's error code, the token endpoint's status and error, the attempts, a traceback), and never a
code, token, state or secret."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from oauth_bridge import app as bridge_app
from oauth_bridge.app import Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.sealed_state import AlexaReturn, StateSealer, binding_of
from oauth_bridge.token_exchange import TokenClient
from sandbox.processes import free_port
from tests.bridge.helpers import (
    ACCESS_TOKEN,
    ALEXA_STATE,
    AUTHORIZE,
    BUCKET,
    CLIENT_SECRET,
    CODE,
    INCOMPRESSIBLE,
    KEY,
    STATE_KEY,
    TOKEN_URL,
    Flow,
    assert_back_to_alexa,
    callback,
    get,
    make_config,
    start,
)

_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


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
    return Flow(
        StateSealer(STATE_KEY, wall).seal(AlexaReturn(ALEXA_STATE, redirect_uri, binding_of(flow_nonce))), flow_nonce
    )


def tampered(flow: Flow) -> Flow:
    return Flow(flow.state[:-4] + ("AAAA" if not flow.state.endswith("AAAA") else "BBBB"), flow.nonce)


def twice(bridge: Bridge, flow: Flow) -> None:
    callback(bridge, flow)
    callback(bridge, flow)


def expired(bridge: Bridge, wall) -> Callable[[], Any]:
    flow = start(bridge)
    wall.advance(601)
    return lambda: callback(bridge, flow)


def expired_elsewhere(bridge: Bridge, wall) -> Callable[[], Any]:
    """An authentic state past its age, for an address that is not one of the vendor's Alexa URLs."""
    flow = sealed_for("https://evil.example/", wall)
    wall.advance(601)
    return lambda: callback(bridge, flow)


OUTCOMES = [
    (lambda b, w: lambda: get(b, "/authorize", "a=1&a=2"), "GET /authorize -> 400 query_malformed", {}),
    (lambda b, w: lambda: get(b, "/authorize", "pad=" + "p" * 2049), "GET /authorize -> 400 query_too_long", {}),
    (lambda b, w: lambda: get(b, "/authorize", "state=a%0A"), "GET /authorize -> 400 query_control_chars", {}),
    (
        lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "redirect_uri": "https://evil.example/"}),
        "GET /authorize -> 400 redirect_uri_not_allowed",
        {},
    ),
    (lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "state": " "}), "GET /authorize -> 400 missing_state", {}),
    (
        lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "response_type": "code"}),
        "GET /authorize -> 302 unsupported_response_type",
        {},
    ),
    (
        lambda b, w: lambda: get(b, "/authorize", {**AUTHORIZE, "state": INCOMPRESSIBLE}),
        "GET /authorize -> 400 state_too_long",
        {},
    ),
    (lambda b, w: lambda: get(b, "/authorize", AUTHORIZE), "GET /authorize -> 302 sent_to_provider", {}),
    (lambda b, w: lambda: get(b, "/callback", {"code": "c"}), "GET /callback -> 400 missing_state", {}),
    (
        lambda b, w: lambda: get(b, "/callback", {"code": "c", "state": ALEXA_STATE}),
        "GET /callback -> 400 state_unsealed",
        {},
    ),
    (lambda b, w: lambda: callback(b, tampered(start(b))), "GET /callback -> 400 state_invalid", {}),
    (expired, "GET /callback -> 302 state_expired", {}),
    (
        lambda b, w: lambda: callback(b, sealed_for("https://evil.example/", w)),
        "GET /callback -> 400 state_redirect_not_allowed",
        {},
    ),
    (expired_elsewhere, "GET /callback -> 400 state_redirect_not_allowed", {}),
    (
        lambda b, w: lambda: get(b, "/callback", {"code": "c", "state": start(b).state}),
        "GET /callback -> 302 flow_cookie_missing",
        {},
    ),
    (
        lambda b, w: lambda: callback(b, Flow(start(b).state, "another-browser")),
        "GET /callback -> 302 flow_cookie_mismatch",
        {},
    ),
    (lambda b, w: lambda: twice(b, start(b)), "GET /callback -> 302 state_reused", {}),
    (
        lambda b, w: lambda: callback(b, start(b), code=None, error="invalid_scope"),
        "GET /callback -> 302 provider_error:server_error",
        {},
    ),
    (lambda b, w: lambda: callback(b, start(b), code=" "), "GET /callback -> 302 missing_code", {}),
    (lambda b, w: lambda: callback(b, start(b), code=None), "GET /callback -> 302 missing_code", {}),
    (lambda b, w: lambda: callback(b, start(b)), "GET /callback -> 302 linked", {}),
    (lambda b, w: lambda: get(b, "/callback", method="POST"), "POST (unknown) -> 405 method_not_allowed", {}),
    (
        lambda b, w: lambda: get(b, "/callback", method="PROPFIND-PROPFIND-PROPFIND"),
        "PROPFIND-PROPFIN (unknown) -> 405 method_not_allowed",
        {},
    ),
    (lambda b, w: lambda: get(b, "/admin"), "GET (unknown) -> 404 not_found", {}),
    (lambda b, w: lambda: get(b, "/health/"), "GET /health -> 200 healthy", {}),
    (lambda b, w: lambda: get(b, "/health//"), "GET (unknown) -> 404 not_found", {}),
    (lambda b, w: lambda: get(b, "/callback//", method="POST"), "POST (unknown) -> 404 not_found", {}),
]
"""(the request to make, given the bridge and its wall clock; the request line it logs; its further fields)"""


@pytest.mark.parametrize(
    "scenario, message, fields", [pytest.param(*case, id=case[1].split(" ")[-1]) for case in OUTCOMES]
)
def test_the_request_line_names_the_outcome(bridge, wall, grant, caplog, scenario, message, fields):
    """Each way a request ends, as the operator's log line and its JSON fields say it."""
    send = scenario(bridge, wall)
    _, route, _, status, outcome = message.split(" ")
    assert request_line(caplog, send) == (
        message,
        {
            "event": "request",
            "route": None if route == "(unknown)" else route,
            "status": int(status),
            "outcome": outcome,
            **fields,
        },
    )


def test_the_request_line_carries_its_duration_in_milliseconds_to_a_tenth(bridge, caplog, monkeypatch):
    monkeypatch.setattr(bridge_app, "time", SimpleNamespace(monotonic=iter([10.0, 10.0123456]).__next__))
    with caplog.at_level(logging.INFO, logger="oauth_bridge.app"):
        get(bridge, "/health")
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    assert record.duration_ms == 12.3


def test_logs_never_hold_codes_tokens_states_or_secrets(bridge, grant, caplog):
    with caplog.at_level(logging.DEBUG):
        flow = start(bridge)
        callback(bridge, flow)
        callback(bridge, flow)
        get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE})
        callback(bridge, start(bridge), code=None, error="access_denied")
    logged = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    request_lines = [record for record in caplog.records if getattr(record, "event", None) == "request"]
    assert [record.outcome for record in request_lines] == [
        "sent_to_provider",
        "linked",
        "state_reused",
        "state_unsealed",
        "sent_to_provider",
        "provider_error:access_denied",
    ]
    for secret in (
        CODE,
        ACCESS_TOKEN,
        ALEXA_STATE,
        flow.state,
        flow.nonce,
        CLIENT_SECRET,
        STATE_KEY,
        "test-refresh-token",
    ):
        assert secret not in logged


@pytest.mark.parametrize(
    "send, route, status",
    [
        (lambda b, flow: get(b, "/authorize", AUTHORIZE), "/authorize", 302),
        (lambda b, flow: callback(b, flow), "/callback", 302),
        (lambda b, flow: get(b, "/callback", {"code": "c", "state": ALEXA_STATE}), "/callback", 503),
    ],
    ids=["authorize", "callback of the flow's browser", "callback of an unknown state"],
)
def test_unusable_secrets_are_logged_with_s3s_error_code(
    bridge, secrets_bucket, monotonic, caplog, send, route, status
):
    flow = start(bridge)
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    monotonic.advance(300)
    assert request_line(caplog, lambda: send(bridge, flow)) == (
        f"GET {route} -> {status} secrets_unavailable",
        {
            "event": "request",
            "route": route,
            "status": status,
            "outcome": "secrets_unavailable",
            "error_code": "NoSuchKey",
        },
    )


def request_fields(caplog) -> dict:
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    return {name: getattr(line, name, None) for name in ("outcome", "error_code", "attempts", "status")}


@pytest.mark.parametrize("own_browser", [True, False])
def test_a_callback_while_the_secrets_cannot_be_read_is_logged_with_s3s_error(
    bridge, secrets_bucket, monotonic, caplog, own_browser
):
    """The flow's own browser goes back to Alexa (the state cannot be verified, so only an error); any other
    request gets the page. Either way the operator reads why: S3's error code."""
    flow = start(bridge)
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    monotonic.advance(300)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        response = get(
            bridge, "/callback", {"state": flow.state, "code": "c"}, cookies=flow.cookies if own_browser else None
        )
    if own_browser:
        assert_back_to_alexa(response, "temporarily_unavailable")
    else:
        assert response.status_code == 503
    assert request_fields(caplog) == {
        "outcome": "secrets_unavailable",
        "error_code": "NoSuchKey",
        "attempts": None,
        "status": response.status_code,
    }


def test_a_failed_exchange_logs_why(bridge, token_endpoint, caplog):
    token_endpoint.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    flow = start(bridge)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        callback(bridge, flow)
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    assert (record.status, record.outcome, record.provider_status, record.provider_error, record.route) == (
        302,
        "token_grant_refused",
        400,
        "invalid_grant",
        "/callback",
    )


def test_a_failed_exchange_is_logged_with_googles_status_error_and_the_attempts(bridge, token_endpoint, caplog):
    token_endpoint.post(TOKEN_URL, status=503, json={"error": "backend_error"})
    flow = start(bridge)
    assert request_line(caplog, lambda: callback(bridge, flow)) == (
        "GET /callback -> 302 token_provider_error",
        {
            "event": "request",
            "route": "/callback",
            "status": 302,
            "outcome": "token_provider_error",
            "provider_status": 503,
            "provider_error": "backend_error",
            "attempts": 1,
        },
    )


def test_an_unreachable_token_endpoint_is_logged_with_its_two_attempts(secrets_bucket, monotonic, wall, caplog):
    bridge = Bridge(
        make_config(),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(f"http://127.0.0.1:{free_port()}/token"),
        wall_clock=wall,
    )
    flow = start(bridge)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        assert_back_to_alexa(callback(bridge, flow), "temporarily_unavailable")
    assert request_fields(caplog) == {"outcome": "token_unreachable", "error_code": None, "attempts": 2, "status": 302}


def test_a_token_answer_with_an_unusable_lifetime_goes_back_as_server_error_and_is_logged_as_such(
    bridge, token_endpoint, caplog
):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": -5})
    flow = start(bridge)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        assert_back_to_alexa(callback(bridge, flow), "server_error")
    [line] = [r for r in caplog.records if getattr(r, "outcome", None)]
    assert line.outcome == "token_malformed"


def test_a_callback_whose_own_url_cannot_be_built_goes_back_to_alexa_as_server_error(
    secrets_bucket, monotonic, wall, grant, caplog
):
    """Without PUBLIC_BASE_URL the Host header names the callback URL Google must be given again."""
    bridge = Bridge(
        make_config(public_base_url=None),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL),
        wall_clock=wall,
    )
    flow = start(bridge)
    answers = []

    def send() -> None:
        answers.append(
            get(bridge, "/callback", {"state": flow.state, "code": CODE}, {"host": "a b"}, cookies=flow.cookies)
        )

    assert request_line(caplog, send) == (
        "GET /callback -> 302 bad_host",
        {"event": "request", "route": "/callback", "status": 302, "outcome": "bad_host"},
    )
    assert_back_to_alexa(answers[0], "server_error")
    assert len(grant.calls) == 0


def test_a_callback_to_an_unusable_host_goes_back_to_alexa_as_server_error(secrets_bucket, monotonic, wall, caplog):
    bridge = Bridge(
        make_config(public_base_url=None),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL),
        wall_clock=wall,
    )
    flow = start(bridge)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        response = get(bridge, "/callback", {"state": flow.state, "code": "c"}, {"host": "a b"}, cookies=flow.cookies)
    assert_back_to_alexa(response, "server_error")
    assert request_fields(caplog)["outcome"] == "bad_host"


def broken(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("a bug")


@pytest.mark.parametrize(
    "target, send, message",
    [
        (
            "oauth_bridge.app.single_params",
            lambda b: get(b, "/authorize", AUTHORIZE),
            "GET /authorize -> 500 internal_error",
        ),
        (
            "oauth_bridge.app.TokenClient.exchange",
            lambda b: callback(b, start(b)),
            "GET /callback -> 302 internal_error",
        ),
    ],
    ids=["before the state is known", "after"],
)
def test_an_unexpected_error_is_logged_with_its_traceback_and_as_the_outcome(
    bridge, caplog, monkeypatch, target, send, message
):
    monkeypatch.setattr(target, broken)
    route = message.split(" ")[1]
    assert request_line(caplog, lambda: send(bridge)) == (
        message,
        {"event": "request", "route": route, "status": int(message.split(" ")[3]), "outcome": "internal_error"},
    )
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (error.getMessage(), error.event, error.route, error.exc_info[0]) == (
        "unexpected error",
        "internal_error",
        route,
        RuntimeError,
    )
