"""Both entry points, loaded as their platforms load them (config from os.environ at import):
Lambda function URL and HTTP API v2 events, and a WSGI environ."""

from __future__ import annotations

import io
import itertools
import sys
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest

from oauth_bridge.config import ConfigError
from oauth_bridge.http_messages import FLOW_COOKIE
from sandbox.entry_points import load_module
from tests.bridge.helpers import (
    ACCESS_TOKEN,
    ALEXA_REDIRECT,
    ALEXA_STATE,
    AUTH_URL,
    BUCKET,
    CODE,
    KEY,
    TOKEN_URL,
    VENDOR,
)

_CONTAINERS = itertools.count()
FUNCTION_URL_HOST = "abcdefghij.lambda-url.us-east-1.on.aws"
HTTP_API_HOST = "k1l2m3n4o5.execute-api.us-east-1.amazonaws.com"
AUTHORIZE_QUERY = urlencode(
    {
        "client_id": "alexa",
        "response_type": "token",
        "state": ALEXA_STATE,
        "redirect_uri": ALEXA_REDIRECT,
        "scope": "sdm",
    }
)


@pytest.fixture
def environment(secrets_bucket, monkeypatch):
    """What the CDK sets; PUBLIC_BASE_URL is left out so the callback comes from the request."""
    for name, value in {
        "SECRETS_BUCKET": BUCKET,
        "SECRETS_KEY": KEY,
        "ALEXA_VENDOR_ID": VENDOR,
        "OAUTH_AUTHORIZATION_URL": AUTH_URL,
        "OAUTH_TOKEN_URL": TOKEN_URL,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    return monkeypatch


def load_entry(relative_path: str) -> Any:
    """A fresh module per test, as a fresh container or worker would be (the credentials cache included)."""
    name = f"bridge_entry_{next(_CONTAINERS)}"
    try:
        return load_module(relative_path, name)
    finally:
        sys.modules.pop(name, None)


@pytest.fixture
def lambda_entry(environment):
    return load_entry("bridge_src/lambda_function.py")


@pytest.fixture
def wsgi_entry(environment):
    return load_entry("bridge_src/application.py")


def function_url_event(path: str, query: str = "", method: str = "GET", cookies: list[str] | None = None) -> dict:
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": FUNCTION_URL_HOST,
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "user-agent": "Mozilla/5.0",
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefghij",
            "domainName": FUNCTION_URL_HOST,
            "domainPrefix": "abcdefghij",
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 1_800_000_000_000,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "Mozilla/5.0",
            },
        },
        "isBase64Encoded": False,
    }
    if cookies:  # a function URL event has the key only when the request had cookies
        event["cookies"] = cookies
    return event


def http_api_event(path: str, query: str = "", method: str = "GET", cookies: list[str] | None = None) -> dict:
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "cookies": cookies or ["a=b"],
        "headers": {"Host": HTTP_API_HOST, "X-Forwarded-Proto": "https", "x-amzn-trace-id": "Root=1-abc"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "k1l2m3n4o5",
            "domainName": HTTP_API_HOST,
            "domainPrefix": "k1l2m3n4o5",
            "requestId": "req-2",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "timeEpoch": 1_800_000_000_000,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.2",
                "userAgent": "Mozilla/5.0",
            },
        },
        "isBase64Encoded": False,
    }


def sealed_state(to_google: str) -> str:
    """The `state` the bridge put on its redirect to Google, still encoded as Google hands it back."""
    query = dict(part.split("=", 1) for part in to_google.split("?", 1)[1].split("&"))
    return query["state"]


@pytest.mark.parametrize("make_event, host", [(function_url_event, FUNCTION_URL_HOST), (http_api_event, HTTP_API_HOST)])
def test_lambda_events_run_the_whole_flow_with_the_cookie(lambda_entry, grant, make_event, host):
    to_google = lambda_entry.lambda_handler(make_event("/authorize", AUTHORIZE_QUERY), None)
    assert to_google["statusCode"] == 302 and to_google["isBase64Encoded"] is False
    location = to_google["headers"]["Location"]
    assert location.startswith(AUTH_URL + "?")
    assert f"redirect_uri=https%3A%2F%2F{host}%2Fcallback" in location
    [flow_cookie] = to_google["cookies"]
    assert flow_cookie.startswith(f"{FLOW_COOKIE}=") and "Set-Cookie" not in to_google["headers"]
    sealed = sealed_state(location)

    browser_cookie = flow_cookie.split(";")[0]
    to_alexa = lambda_entry.lambda_handler(
        make_event("/callback", f"code={CODE}&state={sealed}", cookies=["other=1", browser_cookie]), None
    )
    assert to_alexa["statusCode"] == 302
    assert to_alexa["headers"]["Location"] == (
        f"{ALEXA_REDIRECT}#state={ALEXA_STATE}&access_token={ACCESS_TOKEN}&token_type=Bearer&expires_in=3599"
    )
    assert to_alexa["headers"]["Cache-Control"] == "no-store"
    assert [cookie.split(";")[0] for cookie in to_alexa["cookies"]] == [f"{FLOW_COOKIE}="]
    assert f"redirect_uri=https%3A%2F%2F{host}%2Fcallback" in grant.calls[0].request.body


@pytest.mark.parametrize("make_event", [function_url_event, http_api_event])
def test_a_lambda_callback_without_the_cookie_gets_no_token(lambda_entry, grant, make_event):
    sealed = sealed_state(
        lambda_entry.lambda_handler(make_event("/authorize", AUTHORIZE_QUERY), None)["headers"]["Location"]
    )
    to_alexa = lambda_entry.lambda_handler(make_event("/callback", f"code={CODE}&state={sealed}"), None)
    assert to_alexa["headers"]["Location"] == f"{ALEXA_REDIRECT}#error=access_denied&state={ALEXA_STATE}"
    assert len(grant.calls) == 0


def test_privacy_and_terms_through_the_function_url(lambda_entry):
    for path in ("/privacy", "/terms"):
        result = lambda_entry.lambda_handler(function_url_event(path), None)
        assert result["statusCode"] == 200 and "<h1>Home Thermostat" in result["body"]


@pytest.mark.parametrize("make_event", [function_url_event, http_api_event])
def test_lambda_refusals_are_html_pages(lambda_entry, make_event):
    result = lambda_entry.lambda_handler(make_event("/callback", "code=abc"), None)
    assert result["statusCode"] == 400
    assert result["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert "missing the part that ties it to your Alexa app" in result["body"]
    assert lambda_entry.lambda_handler(make_event("/health"), None)["statusCode"] == 200
    assert lambda_entry.lambda_handler(make_event("/health", method="POST"), None)["statusCode"] == 405


@pytest.mark.parametrize("path", ["/\ud800", "/callback\udfff", "/%ED%A0%80", "/\u00e9t\u00e9"])
def test_a_path_that_is_not_clean_utf_8_gets_a_page_not_an_exception(lambda_entry, path):
    """A lone surrogate in rawPath (JSON allows one) cannot be encoded: the adapter answers with a page."""
    result = lambda_entry.lambda_handler(function_url_event(path), None)
    assert result["statusCode"] in (400, 404) and "<h1>" in result["body"]
    assert "Traceback" not in result["body"]


def test_an_event_of_another_kind_gets_a_page_not_an_exception(lambda_entry):
    result = lambda_entry.lambda_handler({"key1": "value1"}, None)
    assert result["statusCode"] == 404 and "<h1>" in result["body"]


def call_wsgi(application, path: str, query: str = "", **environ: str) -> tuple[str, list[tuple[str, str]], bytes]:
    env: dict[str, Any] = {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": "GET",
        "HTTP_HOST": "bridge.example.org",
        "wsgi.input": io.BytesIO(),
        **environ,
    }
    setup_testing_defaults(env)
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started.update(status=status, headers=headers)

    body = b"".join(application(env, start_response))
    return started["status"], started["headers"], body


def test_wsgi_runs_the_whole_flow_behind_a_tls_proxy(wsgi_entry, grant):
    status, headers, body = call_wsgi(
        wsgi_entry.application, "/authorize", AUTHORIZE_QUERY, HTTP_X_FORWARDED_PROTO="https"
    )
    assert (status, body) == ("302 FOUND", b"")
    location = dict(headers)["Location"]
    assert "redirect_uri=https%3A%2F%2Fbridge.example.org%2Fcallback" in location
    [flow_cookie] = [value for name, value in headers if name == "Set-Cookie"]
    sealed = sealed_state(location)

    status, headers, _ = call_wsgi(
        wsgi_entry.application,
        "/callback",
        f"code={CODE}&state={sealed}",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_COOKIE=flow_cookie.split(";")[0],
    )
    assert status == "302 FOUND"
    assert dict(headers)["Location"].startswith(f"{ALEXA_REDIRECT}#state={ALEXA_STATE}&access_token={ACCESS_TOKEN}")
    assert dict(headers)["Referrer-Policy"] == "no-referrer"


def test_wsgi_pages_have_status_line_and_length(wsgi_entry):
    status, headers, body = call_wsgi(wsgi_entry.application, "/callback", "code=x")
    assert status == "400 BAD REQUEST"
    assert (
        dict(headers)["Content-Length"] == str(len(body)) and b"missing the part that ties it to your Alexa app" in body
    )
    status, headers, body = call_wsgi(wsgi_entry.application, "/health")
    assert (status, body) == ("200 OK", b'{"status": "ok"}')
    status, _, body = call_wsgi(wsgi_entry.application, "/health", REQUEST_METHOD="HEAD")
    assert (status, body) == ("200 OK", b"")


def test_a_missing_setting_stops_the_entry_point_naming_it(environment):
    environment.delenv("OAUTH_AUTHORIZATION_URL")
    for path in ("bridge_src/lambda_function.py", "bridge_src/application.py"):
        with pytest.raises(ConfigError, match="OAUTH_AUTHORIZATION_URL"):
            load_entry(path)
