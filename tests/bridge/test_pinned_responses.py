"""The bridge's plain answers pinned by literal values (issue 16): what /health, /privacy and /terms send
and log, the JSON log lines Elastic Beanstalk keeps, and which plain-http token URLs a config accepts."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from oauth_bridge.app import Bridge
from oauth_bridge.config import BridgeConfig, ConfigError
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.token_exchange import TokenClient
from sandbox.processes import free_port
from tests.bridge.helpers import (AUTH_URL, BUCKET, KEY, TOKEN_URL, VENDOR, assert_back_to_alexa, body, callback, get,
                                  location, make_config, start)
from tests.conftest import ROOT

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


@pytest.mark.parametrize("path, content_type, start, outcome", [
    ("/health", "application/json", '{"status": "ok"}', "healthy"),
    ("/privacy", "text/html; charset=utf-8", "<!doctype html>", "privacy_policy"),
    ("/terms", "text/html; charset=utf-8", "<!doctype html>", "terms_of_use"),
])
def test_plain_answers_their_headers_and_their_log_line(bridge, caplog, path, content_type, start, outcome):
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        response = get(bridge, path)
    assert (response.status_code, response.headers["Content-Type"]) == (200, content_type)
    assert body(response).startswith(start)
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    [line] = [r for r in caplog.records if hasattr(r, "outcome")]
    assert (line.getMessage(), line.outcome) == (f"GET {path} -> 200 {outcome}", outcome)


@pytest.mark.parametrize("path, title", [("/privacy", "Home Thermostat: privacy policy"),
                                         ("/terms", "Home Thermostat: terms of use")])
def test_the_legal_pages_are_titled(bridge, path, title):
    text = body(get(bridge, path))
    assert f"<title>{title}</title>" in text and f"<h1>{title}</h1>" in text


def test_on_beanstalk_each_log_record_is_one_json_line_on_stdout():
    """What application.py sets up before gunicorn serves: INFO and above, as JSON with `level`, `name`,
    `message`, a timestamp and the `extra=` fields; nothing on stderr, nothing below INFO."""
    script = ("import logging\n"
              "from oauth_bridge.logs import configure_json_logging\n"
              "configure_json_logging()\n"
              "logging.getLogger('oauth_bridge.app').debug('not kept')\n"
              "logging.getLogger('oauth_bridge.app').info('GET /health -> 200 healthy', extra={'outcome': 'healthy'})\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT / "bridge_src", capture_output=True, text=True,
                          timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert (done.returncode, done.stderr) == (0, "")
    [line] = done.stdout.splitlines()
    record = json.loads(line)
    assert record.pop("timestamp").startswith("20")
    assert record == {"level": "INFO", "name": "oauth_bridge.app", "message": "GET /health -> 200 healthy",
                      "outcome": "healthy"}


REQUIRED = {"SECRETS_BUCKET": BUCKET, "SECRETS_KEY": KEY, "ALEXA_VENDOR_ID": VENDOR, "OAUTH_AUTHORIZATION_URL": AUTH_URL}


@pytest.mark.parametrize("url", ["http://localhost:8123/oauth2/v4/token", "http://LOCALHOST:8123/token",
                                 "http://127.0.0.1:8123/token", "http://127.8.9.10/token", "http://[::1]:8123/token"])
def test_plain_http_is_accepted_only_on_the_loopback(url):
    assert BridgeConfig.from_env({**REQUIRED, "OAUTH_TOKEN_URL": url}).token_url == url


@pytest.mark.parametrize("url", ["http://localhost.example.com/token", "http://mylocalhost/token",
                                 "http://10.0.0.1/token", "http://[::2]/token"])
def test_plain_http_elsewhere_is_refused(url):
    with pytest.raises(ConfigError, match="OAUTH_TOKEN_URL"):
        BridgeConfig.from_env({**REQUIRED, "OAUTH_TOKEN_URL": url})


def test_the_flow_cookie_is_set_and_cleared_with_every_attribute_a_host_prefixed_cookie_needs(bridge, grant):
    """Browsers ignore a `__Host-` cookie, set or cleared, that lacks Secure and Path=/ or has a Domain:
    a clearing they ignored would leave the state usable again in that browser."""
    started = get(bridge, "/authorize", {"client_id": "x", "response_type": "token", "state": "s",
                                          "redirect_uri": "https://layla.amazon.com/api/skill/link/TESTVENDOR01"})
    [set_cookie] = started.headers.getlist("Set-Cookie")
    name_value, *attributes = set_cookie.split("; ")
    assert name_value.startswith("__Host-linking=") and len(name_value) > len("__Host-linking=") + 20
    assert sorted(a for a in attributes if not a.startswith("Expires=")) == [
        "HttpOnly", "Max-Age=600", "Path=/", "SameSite=Lax", "Secure"]
    state = location(started).query["state"]
    finished = get(bridge, "/callback", {"state": state, "code": "c"}, cookies={"__Host-linking": name_value.split("=", 1)[1]})
    [cleared] = finished.headers.getlist("Set-Cookie")
    assert cleared.split("; ") == ["__Host-linking=", "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0", "Secure",
                                   "HttpOnly", "Path=/", "SameSite=Lax"]


def request_line(caplog) -> dict:
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    return {name: getattr(line, name, None) for name in ("outcome", "error_code", "attempts", "status")}


@pytest.mark.parametrize("own_browser", [True, False])
def test_a_callback_while_the_secrets_cannot_be_read_is_logged_with_s3s_error(bridge, secrets_bucket, monotonic,
                                                                                caplog, own_browser):
    """The flow's own browser goes back to Alexa (the state cannot be verified, so only an error); any other
    request gets the page. Either way the operator reads why: S3's error code."""
    flow = start(bridge)
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    monotonic.advance(300)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        response = get(bridge, "/callback", {"state": flow.state, "code": "c"},
                       cookies=flow.cookies if own_browser else None)
    if own_browser:
        assert_back_to_alexa(response, "temporarily_unavailable")
    else:
        assert response.status_code == 503
    assert request_line(caplog) == {"outcome": "secrets_unavailable", "error_code": "NoSuchKey", "attempts": None,
                                    "status": response.status_code}


def test_a_callback_to_an_unusable_host_goes_back_to_alexa_as_server_error(secrets_bucket, monotonic, wall, caplog):
    bridge = Bridge(make_config(public_base_url=None), CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
                    TokenClient(TOKEN_URL), wall_clock=wall)
    flow = start(bridge)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        response = get(bridge, "/callback", {"state": flow.state, "code": "c"}, {"host": "a b"}, cookies=flow.cookies)
    assert_back_to_alexa(response, "server_error")
    assert request_line(caplog)["outcome"] == "bad_host"


def test_an_unreachable_token_endpoint_is_logged_with_its_two_attempts(secrets_bucket, monotonic, wall, caplog):
    bridge = Bridge(make_config(), CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
                    TokenClient(f"http://127.0.0.1:{free_port()}/token"), wall_clock=wall)
    flow = start(bridge)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        assert_back_to_alexa(callback(bridge, flow), "temporarily_unavailable")
    assert request_line(caplog) == {"outcome": "token_unreachable", "error_code": None, "attempts": 2, "status": 302}


def test_a_blank_parameter_of_the_configured_authorization_url_is_kept(secrets_bucket, monotonic, wall):
    bridge = Bridge(make_config(authorization_url=AUTH_URL + "?hd=&hl=en"),
                    CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic), TokenClient(TOKEN_URL),
                    wall_clock=wall)
    sent = get(bridge, "/authorize", {"client_id": "x", "response_type": "token", "state": "s",
                                      "redirect_uri": "https://layla.amazon.com/api/skill/link/TESTVENDOR01"})
    assert sent.headers["Location"].startswith(AUTH_URL + "?hd=&hl=en&")
