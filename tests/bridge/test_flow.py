"""The whole two-step flow: Alexa -> /authorize -> Google (the sandbox fake, over loopback HTTP) ->
/callback -> Alexa, with the secrets object in moto's KMS-encrypted bucket."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
import requests

from oauth_bridge.app import Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.http_messages import FLOW_COOKIE
from oauth_bridge.token_exchange import TokenClient
from sandbox.fake_google import TRICKLING_MODES, FakeGoogle, trickling_token_endpoint
from sandbox.serving import running
from tests.bridge.helpers import (
    ALEXA_REDIRECT,
    ALEXA_STATE,
    BUCKET,
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    KEY,
    Flow,
    assert_back_to_alexa,
    get,
    location,
    make_config,
    set_cookies,
)

PROJECT = "00000000-0000-4000-8000-0000000000aa"


@pytest.fixture
def google():
    fake = FakeGoogle(PROJECT, CLIENT_ID, CLIENT_SECRET, [CALLBACK])
    with running(fake) as base_url:
        yield fake, base_url


@pytest.fixture
def bridge(secrets_bucket, google, monotonic, wall) -> Bridge:
    _, base_url = google
    config = make_config(
        authorization_url=f"{base_url}/partnerconnections/{PROJECT}/auth", token_url=f"{base_url}/oauth2/v4/token"
    )
    return Bridge(
        config,
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(config.token_url),
        wall_clock=wall,
    )


def sign_in_at_google(bridge: Bridge, redirect_uri: str = ALEXA_REDIRECT) -> tuple[str, Flow]:
    """Alexa opens /authorize; the browser follows to Google, which approves and redirects to /callback.
    Returns the query Google put on the callback URL, and the browser's flow."""
    to_google = get(
        bridge,
        "/authorize",
        {
            "client_id": "alexa",
            "response_type": "token",
            "state": ALEXA_STATE,
            "redirect_uri": redirect_uri,
            "scope": "sdm",
        },
    )
    flow = Flow(location(to_google).query["state"], set_cookies(to_google)[FLOW_COOKIE].split(";")[0].split("=", 1)[1])
    approved = requests.get(to_google.headers["Location"], allow_redirects=False, timeout=5)
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return back.query, flow


def test_alexa_gets_a_token_that_works_at_the_sdm_api(bridge, google):
    fake, base_url = google
    query, flow = sign_in_at_google(bridge)
    back = location(get(bridge, "/callback", query, cookies=flow.cookies))
    assert back.base == ALEXA_REDIRECT
    assert back.fragment["state"] == ALEXA_STATE
    assert back.fragment["token_type"] == "Bearer" and back.fragment["expires_in"] == "3599"
    devices = requests.get(
        f"{base_url}/v1/enterprises/{PROJECT}/devices",
        timeout=5,
        headers={"Authorization": f"Bearer {back.fragment['access_token']}"},
    )
    assert devices.status_code == 200 and devices.json()["devices"]
    assert fake.stats()["counts"]["token"] == 1


def test_reloading_the_callback_goes_back_to_alexa_without_spending_another_exchange(bridge, google):
    fake, _ = google
    query, flow = sign_in_at_google(bridge)
    location(get(bridge, "/callback", query, cookies=flow.cookies))
    for cookies in (flow.cookies, {}):  # a replayed cookie, or the cleared one a browser really sends
        assert_back_to_alexa(get(bridge, "/callback", query, cookies=cookies), "access_denied")
    assert fake.stats()["counts"]["token"] == 1


def test_a_wrong_client_secret_in_s3_goes_back_to_alexa_as_server_error(bridge, secrets_bucket, monotonic):
    secrets_bucket.write_credentials(client_secret="not-the-registered-secret")
    monotonic.advance(3600)
    query, flow = sign_in_at_google(bridge)
    assert_back_to_alexa(get(bridge, "/callback", query, cookies=flow.cookies), "server_error")


@pytest.mark.parametrize(
    "mode, alexa_error",
    [
        ("unavailable", "temporarily_unavailable"),
        ("server_error", "server_error"),
        ("html", "server_error"),
        ("no_access_token", "server_error"),
        ("expires_in_superscript", "server_error"),
        ("expires_in_5000_digits", "server_error"),
        ("deep_nesting", "server_error"),
    ],
)
def test_each_misbehaviour_of_googles_token_endpoint_returns_the_user_to_alexa(bridge, google, mode, alexa_error):
    _, base_url = google
    requests.post(f"{base_url}/__fake/token-misbehaviour", params={"mode": mode}, timeout=5).raise_for_status()
    query, flow = sign_in_at_google(bridge)
    response = get(bridge, "/callback", query, cookies=flow.cookies)
    assert_back_to_alexa(response, alexa_error)
    assert "access_token" not in response.headers["Location"]


@pytest.mark.parametrize("mode", TRICKLING_MODES)
def test_a_trickling_token_endpoint_returns_the_user_to_alexa_within_the_budget(
    secrets_bucket, google, monotonic, wall, mode
):
    _, base_url = google
    with trickling_token_endpoint(mode) as token_url:
        config = make_config(authorization_url=f"{base_url}/partnerconnections/{PROJECT}/auth", token_url=token_url)
        bridge = Bridge(
            config,
            CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
            TokenClient(token_url, budget_s=1.0),
            wall_clock=wall,
        )
        query, flow = sign_in_at_google(bridge)
        started = time.monotonic()
        response = get(bridge, "/callback", query, cookies=flow.cookies)
        assert time.monotonic() - started < 1.5
    assert_back_to_alexa(response, "temporarily_unavailable")
