"""The whole two-step flow: Alexa -> /authorize -> Google (the sandbox fake, over loopback HTTP) ->
/callback -> Alexa, with the secrets object in moto's KMS-encrypted bucket."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from oauth_bridge.app import Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.token_exchange import TokenClient
from sandbox.fake_google import FakeGoogle
from sandbox.serving import running
from tests.bridge.helpers import (ALEXA_REDIRECT, ALEXA_STATE, BUCKET, CALLBACK, CLIENT_ID, CLIENT_SECRET, KEY,
                                  assert_refused, get, location, make_config)

PROJECT = "00000000-0000-4000-8000-0000000000aa"


@pytest.fixture
def google():
    fake = FakeGoogle(PROJECT, CLIENT_ID, CLIENT_SECRET, [CALLBACK])
    with running(fake) as base_url:
        yield fake, base_url


@pytest.fixture
def bridge(secrets_bucket, google, monotonic, wall) -> Bridge:
    _, base_url = google
    config = make_config(authorization_url=f"{base_url}/partnerconnections/{PROJECT}/auth",
                         token_url=f"{base_url}/oauth2/v4/token")
    return Bridge(config, CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
                  TokenClient(config.token_url), wall_clock=wall)


def sign_in_at_google(bridge: Bridge, redirect_uri: str = ALEXA_REDIRECT) -> str:
    """Alexa opens /authorize; the browser follows to Google, which approves and redirects to /callback.
    Returns the query Google put on the callback URL."""
    to_google = get(bridge, "/authorize", {"client_id": "alexa", "response_type": "token", "state": ALEXA_STATE,
                                           "redirect_uri": redirect_uri, "scope": "sdm"})
    approved = requests.get(to_google.headers["Location"], allow_redirects=False, timeout=5)
    assert approved.status_code == 302, approved.text
    back = urlsplit(approved.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return back.query


def test_alexa_gets_a_token_that_works_at_the_sdm_api(bridge, google):
    fake, base_url = google
    response = get(bridge, "/callback", sign_in_at_google(bridge))
    back = location(response)
    assert back.base == ALEXA_REDIRECT
    assert back.fragment["state"] == ALEXA_STATE
    assert back.fragment["token_type"] == "Bearer" and back.fragment["expires_in"] == "3599"
    devices = requests.get(f"{base_url}/v1/enterprises/{PROJECT}/devices", timeout=5,
                           headers={"Authorization": f"Bearer {back.fragment['access_token']}"})
    assert devices.status_code == 200 and devices.json()["devices"]
    assert fake.stats()["counts"]["token"] == 1


def test_replaying_the_callback_is_refused_by_google(bridge):
    callback_query = sign_in_at_google(bridge)
    location(get(bridge, "/callback", callback_query))
    assert_refused(get(bridge, "/callback", callback_query), 400, "expired or was already used")


def test_a_wrong_client_secret_in_s3_is_a_settings_error(bridge, secrets_bucket, monotonic):
    secrets_bucket.write_credentials(client_secret="not-the-registered-secret")
    monotonic.advance(3600)
    assert_refused(get(bridge, "/callback", sign_in_at_google(bridge)), 502, "client ID, secret or redirect address")
