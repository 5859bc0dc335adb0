"""The bridge's module constants pinned through what they do, with literal values (issue 16; found by
`make mutation-constants`): lifetimes and waits, the budget and the timeouts handed to the HTTP client,
the bounds of what the config and the token answer accept, the cookie's name and the pages' advice."""

from __future__ import annotations

import logging
import time

import pytest
import responses

from oauth_bridge import token_exchange
from oauth_bridge.app import Bridge, build_bridge
from oauth_bridge.config import BridgeConfig, ConfigError
from oauth_bridge.credentials import CredentialsUnavailable, CredentialStore
from oauth_bridge.spent_states import SpentStates
from oauth_bridge.token_exchange import TokenClient, TokenExchangeError, TokenFailure
from sandbox.processes import free_port
from tests.bridge.helpers import (ACCESS_TOKEN, AUTH_URL, BUCKET, CALLBACK, CLIENT_ID, CLIENT_SECRET, CODE, KEY,
                                  TOKEN_URL, VENDOR, Flow, assert_back_to_alexa, assert_refused, callback, get,
                                  make_config, start)

REQUIRED = {"SECRETS_BUCKET": BUCKET, "SECRETS_KEY": KEY, "ALEXA_VENDOR_ID": VENDOR, "OAUTH_AUTHORIZATION_URL": AUTH_URL}


def config_with(**values: str) -> BridgeConfig:
    return BridgeConfig.from_env({**REQUIRED, **values})


def test_without_a_token_url_the_bridge_exchanges_codes_at_googles():
    assert config_with().token_url == "https://www.googleapis.com/oauth2/v4/token"


@pytest.mark.parametrize("name, longest, shortest", [
    ("SECRETS_BUCKET", "b" * 63, "bkt"),
    ("SECRETS_KEY", "k" * 512, "k"),
    ("ALEXA_VENDOR_ID", "V" * 20, "V" * 8),
])
def test_the_longest_and_shortest_values_s3_and_alexa_allow_and_one_past_them(name, longest, shortest):
    """S3: bucket names of 3 to 63 characters, object keys up to 1,024 bytes (the bridge takes 512 plain
    characters); Alexa vendor IDs are 8 to 20 upper-case letters and digits (14 in practice)."""
    for value in (longest, shortest):
        assert getattr(config_with(**{name: value}), name.lower()) == value
    for value in (longest + longest[-1], shortest[:-1]):
        with pytest.raises(ConfigError, match=name):
            config_with(**{name: value})


def test_the_secrets_are_read_again_after_300_s_and_a_failed_read_after_10_s(bridge, secrets_bucket, monotonic):
    assert start(bridge) and secrets_bucket.get_object_calls == 1
    monotonic.advance(299.9)
    start(bridge)
    assert secrets_bucket.get_object_calls == 1
    monotonic.advance(0.1)
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    response = get(bridge, "/authorize", {"client_id": "x", "response_type": "token", "state": "s",
                                          "redirect_uri": f"https://layla.amazon.com/api/skill/link/{VENDOR}"})
    assert secrets_bucket.get_object_calls == 2
    assert_back_to_alexa(response, "temporarily_unavailable", state="s")
    secrets_bucket.write_credentials()
    monotonic.advance(9.9)
    with pytest.raises(CredentialsUnavailable):
        bridge._credentials.get()
    assert secrets_bucket.get_object_calls == 2
    monotonic.advance(0.1)
    assert bridge._credentials.get().client_id == CLIENT_ID
    assert secrets_bucket.get_object_calls == 3


def test_a_request_waits_2_s_for_a_hanging_secrets_read(hanging_s3):
    """The wall clock is the behaviour: the default wait of the production store, 2 s (plus scheduling)."""
    store = CredentialStore(hanging_s3, BUCKET, KEY)
    started = time.monotonic()
    with pytest.raises(CredentialsUnavailable) as error:
        store.get()
    assert error.value.error_code == "Timeout"
    assert 2.0 <= time.monotonic() - started < 2.15


def test_the_flow_cookie_is_named_with_the_host_prefix(bridge):
    response = get(bridge, "/authorize", {"client_id": "x", "response_type": "token", "state": "s",
                                          "redirect_uri": f"https://layla.amazon.com/api/skill/link/{VENDOR}"})
    [cookie] = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("__Host-linking=") and "; Secure" in cookie and "; Path=/" in cookie


def test_a_refusal_page_says_how_to_start_again_and_what_the_owner_checks(secrets_bucket, monotonic, wall):
    bridge = Bridge(make_config(public_base_url=None), CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
                    TokenClient(TOKEN_URL), wall_clock=wall)
    flow = start(bridge)
    tampered = Flow(flow.state[:-3] + ("AAA" if not flow.state.endswith("AAA") else "BBB"), flow.nonce)
    assert_refused(callback(bridge, tampered), 400, "<p>To try again, start linking in the Alexa app: Skills, then "
                                                    "Home Thermostat, then Link account.</p>\n"
                                                    "<p>You can close this window.</p>")
    bad_host = get(bridge, "/authorize", {"client_id": "x", "response_type": "token", "state": "s",
                                          "redirect_uri": f"https://layla.amazon.com/api/skill/link/{VENDOR}"},
                   {"host": "a b"})
    assert_refused(bad_host, 400, "<p>If this keeps happening, the person who set up Home Thermostat needs to check "
                                  "its linking service.</p>")


def test_a_token_answer_with_an_unusable_lifetime_goes_back_as_server_error_and_is_logged_as_such(
        bridge, token_endpoint, caplog):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": -5})
    flow = start(bridge)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        assert_back_to_alexa(callback(bridge, flow), "server_error")
    [line] = [r for r in caplog.records if getattr(r, "outcome", None)]
    assert line.outcome == "token_malformed"


def test_production_gives_google_4_s_and_connects_within_1_5_s(monkeypatch, secrets_bucket):
    budgets = []

    class Recorded(token_exchange._Deadline):
        def __init__(self, budget_s: float) -> None:
            budgets.append(budget_s)
            super().__init__(budget_s)

    monkeypatch.setattr(token_exchange, "_Deadline", Recorded)
    with responses.RequestsMock() as google:
        google.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": 3599})
        client = build_bridge(make_config())._tokens
        client.exchange(code=CODE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)
        connect, read = google.calls[0].request.req_kwargs["timeout"]
    assert budgets == [4.0]
    assert connect == 1.5 and 3.9 < read <= 4.0


@pytest.mark.parametrize("budget_s, attempts", [(1.08, 2), (0.95, 1)])
def test_a_refused_connection_is_tried_again_only_with_a_second_left(budget_s, attempts):
    client = TokenClient(f"http://127.0.0.1:{free_port()}/oauth2/v4/token", budget_s=budget_s)
    with pytest.raises(TokenExchangeError) as error:
        client.exchange(code=CODE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)
    assert (error.value.kind, error.value.attempts) == (TokenFailure.UNREACHABLE, attempts)


@pytest.mark.parametrize("length, logged", [(64, True), (65, False)])
def test_a_provider_error_code_is_passed_on_up_to_64_characters(token_endpoint, length, logged):
    code = "e" * length
    token_endpoint.post(TOKEN_URL, status=400, json={"error": code})
    with pytest.raises(TokenExchangeError) as error:
        TokenClient(TOKEN_URL).exchange(code=CODE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                        redirect_uri=CALLBACK)
    assert error.value.provider_error == (code if logged else None)


def test_100000_states_in_flight_are_remembered_and_the_oldest_goes_first_past_them():
    spent = SpentStates(600.0, clock=lambda: 0.0)
    for n in range(100_000):
        assert spent.claim(f"binding-{n}")
    assert not spent.claim("binding-0")
    assert spent.claim("binding-100000")
    assert spent.claim("binding-0")  # the oldest was forgotten to make room
    assert not spent.claim("binding-2")
