"""The core's three routes, through `Bridge.handle`, against moto S3/KMS and a `responses` token endpoint."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import parse_qs, quote

import pytest
import requests

from oauth_bridge.app import SDM_SCOPE, Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.sealed_state import MAX_AGE_S, PREFIX
from oauth_bridge.token_exchange import TokenClient
from tests.bridge.helpers import (ACCESS_TOKEN, ALEXA_REDIRECT, ALEXA_STATE, AUTH_URL, BUCKET, CALLBACK, CLIENT_ID,
                                  CLIENT_SECRET, CODE, DEFAULT_ALEXA_REDIRECT, KEY, STATE_KEY, TOKEN_URL, VENDOR,
                                  assert_refused, authorize, get, location, make_config)

ALEXA_HOSTS = ("pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp")
ALL_ALEXA_REDIRECTS = [url for host in ALEXA_HOSTS for url in (
    f"https://{host}/api/skill/link/{VENDOR}",
    f"https://{host}/spa/skill/account-linking-status.html?vendorId={VENDOR}")]


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {"client_id": "alexa-side-id", "response_type": "token", "state": ALEXA_STATE,
              "redirect_uri": ALEXA_REDIRECT, "scope": "sdm"}
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def with_bridge(secrets_bucket, monotonic, wall, **config) -> Bridge:
    return Bridge(make_config(**config), CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
                  TokenClient(TOKEN_URL), wall_clock=wall)


# -- /health ------------------------------------------------------------------------------------------


def test_health_touches_no_secret(bridge, secrets_bucket):
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    response = get(bridge, "/health")
    assert (response.status, response.body) == (200, '{"status": "ok"}')
    assert secrets_bucket.get_object_calls == 0


# -- /authorize ---------------------------------------------------------------------------------------


def test_authorize_sends_the_user_to_google_with_the_bridge_callback(bridge, wall):
    response = get(bridge, "/authorize", authorize_params())
    sent = location(response)
    assert sent.base == AUTH_URL
    assert {name: value for name, value in sent.query.items() if name != "state"} == {
        "client_id": CLIENT_ID, "redirect_uri": CALLBACK, "response_type": "code", "access_type": "offline",
        "prompt": "consent", "scope": SDM_SCOPE}
    assert sent.query["state"].startswith(PREFIX)
    assert ALEXA_STATE not in sent.query["state"] and CLIENT_SECRET not in response.headers["Location"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_query_already_in_the_authorization_url_is_kept(secrets_bucket, monotonic, wall):
    bridge = with_bridge(secrets_bucket, monotonic, wall, authorization_url=AUTH_URL + "?hl=en&client_id=stale")
    sent = location(get(bridge, "/authorize", authorize_params()))
    assert sent.base == AUTH_URL
    assert sent.query["hl"] == "en" and sent.query["client_id"] == CLIENT_ID
    assert list(sent.query).count("client_id") == 1


@pytest.mark.parametrize("headers, callback", [
    ({"host": "abc123.lambda-url.us-east-1.on.aws", "x-forwarded-proto": "https"},
     "https://abc123.lambda-url.us-east-1.on.aws/callback"),
    ({"host": "bridge.example.net", "x-forwarded-proto": "https, http"}, "https://bridge.example.net/callback"),
    ({"host": "127.0.0.1:8000"}, "https://127.0.0.1:8000/callback"),
])
def test_without_public_base_url_the_callback_is_where_the_request_came(secrets_bucket, monotonic, wall, headers,
                                                                         callback):
    bridge = with_bridge(secrets_bucket, monotonic, wall, public_base_url=None)
    assert location(get(bridge, "/authorize", authorize_params(), headers)).query["redirect_uri"] == callback


@pytest.mark.parametrize("host", ["", "evil.example/path", "a b", "bridge.example.com\r\nX: y", "[::1]:80"])
def test_an_unusable_host_header_is_refused(secrets_bucket, monotonic, wall, host):
    bridge = with_bridge(secrets_bucket, monotonic, wall, public_base_url=None)
    assert_refused(get(bridge, "/authorize", authorize_params(), {"host": host}), 400, "Host header")


@pytest.mark.parametrize("redirect_uri", ALL_ALEXA_REDIRECTS)
def test_each_alexa_redirect_url_of_the_vendor_is_accepted(bridge, redirect_uri):
    assert location(get(bridge, "/authorize", authorize_params(redirect_uri=redirect_uri))).base == AUTH_URL


@pytest.mark.parametrize("redirect_uri", [
    None,
    "",
    f"http://layla.amazon.com/api/skill/link/{VENDOR}",
    f"https://evil.example/api/skill/link/{VENDOR}",
    f"https://layla.amazon.com.evil.example/api/skill/link/{VENDOR}",
    f"https://layla.amazon.com@evil.example/api/skill/link/{VENDOR}",
    "https://layla.amazon.com/api/skill/link/OTHERVENDOR1",
    f"https://layla.amazon.com/api/skill/link/{VENDOR}/",
    f"https://layla.amazon.com/api/skill/link/{VENDOR}?next=https://evil.example",
    f"https://LAYLA.amazon.com/api/skill/link/{VENDOR}",
    f"https://layla.amazon.com:8443/api/skill/link/{VENDOR}",
    f"https://layla.amazon.com/spa/skill/account-linking-status.html?vendorId={VENDOR}&x=1",
    f"https://alexa.amazon.com/api/skill/link/{VENDOR}",
])
def test_a_redirect_uri_off_the_list_gets_400_and_no_redirect(bridge, secrets_bucket, redirect_uri):
    assert_refused(get(bridge, "/authorize", authorize_params(redirect_uri=redirect_uri)), 400,
                   "not one of Alexa")
    assert secrets_bucket.get_object_calls == 0


@pytest.mark.parametrize("state", [None, "", "   "])
def test_authorize_without_a_state_is_refused(bridge, state):
    assert_refused(get(bridge, "/authorize", authorize_params(state=state)), 400, "no state parameter")


@pytest.mark.parametrize("response_type", [None, "code", "id_token"])
def test_authorize_for_another_grant_returns_the_error_to_alexa(bridge, response_type):
    back = location(get(bridge, "/authorize", authorize_params(response_type=response_type)))
    assert back.base == ALEXA_REDIRECT
    assert back.fragment == {"error": "unsupported_response_type", "state": ALEXA_STATE}


def test_an_alexa_state_too_long_to_seal_is_refused(bridge):
    """Under 2 KB from Alexa, but over 2 KB once sealed: Google would hand back a state /callback refuses."""
    state = secrets.token_urlsafe(1400)
    assert len(state) < 2048
    assert_refused(get(bridge, "/authorize", authorize_params(state=state)), 400, "too long to carry")


def test_a_long_alexa_state_that_fits_when_sealed_goes_through(bridge, grant):
    state = secrets.token_urlsafe(1000)
    back = location(get(bridge, "/callback", {"code": CODE, "state": authorize(bridge, state=state)}))
    assert back.fragment["state"] == state


# -- /callback ----------------------------------------------------------------------------------------


def test_callback_exchanges_the_code_and_returns_the_token_to_alexa(bridge, grant):
    sealed = authorize(bridge)
    response = get(bridge, "/callback", {"code": CODE, "state": sealed, "scope": SDM_SCOPE})
    back = location(response)
    assert back.base == ALEXA_REDIRECT
    assert back.query == {}
    assert back.fragment == {"state": ALEXA_STATE, "access_token": ACCESS_TOKEN, "token_type": "Bearer",
                             "expires_in": "3599"}
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    [call] = grant.calls
    assert parse_qs(call.request.body) == {"code": [CODE], "client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET],
                                           "grant_type": ["authorization_code"], "redirect_uri": [CALLBACK]}


def test_the_fragment_is_fully_url_encoded(bridge, token_endpoint):
    token = "tok/en+with=odd&chars"
    token_endpoint.post(TOKEN_URL, json={"access_token": token, "expires_in": 3599})
    state = "alexa state&x=1#y"
    response = get(bridge, "/callback", {"code": CODE, "state": authorize(bridge, state=state)})
    fragment = response.headers["Location"].split("#", 1)[1]
    assert f"access_token={quote(token, safe='')}" in fragment and f"state={quote(state, safe='')}" in fragment
    assert location(response).fragment["access_token"] == token


def test_the_older_alexa_redirect_keeps_its_vendor_query(bridge, grant):
    old = f"https://pitangui.amazon.com/spa/skill/account-linking-status.html?vendorId={VENDOR}"
    response = get(bridge, "/callback", {"code": CODE, "state": authorize(bridge, redirect_uri=old)})
    assert response.headers["Location"].startswith(old + "#state=")
    assert location(response).fragment["access_token"] == ACCESS_TOKEN


def test_expires_in_is_left_out_when_google_sends_none(bridge, token_endpoint):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN})
    back = location(get(bridge, "/callback", {"code": CODE, "state": authorize(bridge)}))
    assert back.fragment == {"state": ALEXA_STATE, "access_token": ACCESS_TOKEN, "token_type": "Bearer"}


def test_a_state_the_bridge_did_not_seal_is_alexas_own(bridge, grant):
    """The original design: Google was set to redirect to the bridge, with Alexa's state passed through."""
    back = location(get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE}))
    assert back.base == DEFAULT_ALEXA_REDIRECT
    assert back.fragment["state"] == ALEXA_STATE and back.fragment["access_token"] == ACCESS_TOKEN


@pytest.mark.parametrize("sealed", [False, True])
def test_a_provider_error_goes_back_to_alexa_without_a_token(bridge, token_endpoint, sealed):
    state = authorize(bridge) if sealed else ALEXA_STATE
    back = location(get(bridge, "/callback", {"error": "access_denied", "state": state}))
    assert back.base == (ALEXA_REDIRECT if sealed else DEFAULT_ALEXA_REDIRECT)
    assert back.fragment == {"error": "access_denied", "state": ALEXA_STATE}
    assert len(token_endpoint.calls) == 0


def test_an_odd_provider_error_value_becomes_server_error(bridge):
    back = location(get(bridge, "/callback", {"error": "<script>alert(1)</script>", "state": ALEXA_STATE}))
    assert back.fragment == {"error": "server_error", "state": ALEXA_STATE}


@pytest.mark.parametrize("params, phrase", [
    ({"state": ALEXA_STATE}, "no authorization code"),
    ({"state": ALEXA_STATE, "code": ""}, "no authorization code"),
    ({"code": CODE}, "no state parameter"),
    ({"code": CODE, "state": ""}, "no state parameter"),
    ({}, "no state parameter"),
])
def test_missing_or_empty_code_or_state(bridge, token_endpoint, params, phrase):
    assert_refused(get(bridge, "/callback", params), 400, phrase)
    assert len(token_endpoint.calls) == 0


@pytest.mark.parametrize("query, phrase", [
    (f"code={CODE}&state={'s' * 2049}", "longer than 2 KB"),
    (f"code={'c' * 2049}&state=abc", "longer than 2 KB"),
    (f"code={CODE}&state=abc%0D%0ASet-Cookie:%20x=1", "line breaks"),
    (f"code={CODE}&state=abc%0Adef", "line breaks"),
    (f"code={CODE}&state=abc%00", "line breaks"),
    (f"code={CODE}&state=a&state=b", "could not be read"),
    (f"code={CODE}&state=%FF%FE", "could not be read"),
    ("&".join(f"p{n}=1" for n in range(30)), "could not be read"),
    ("x=" + "y" * 50_000, "longer than 2 KB"),
])
def test_unreadable_parameters(bridge, token_endpoint, query, phrase):
    assert_refused(get(bridge, "/callback", query), 400, phrase)
    assert len(token_endpoint.calls) == 0


def test_a_tampered_sealed_state_is_refused_not_taken_as_alexas(bridge, token_endpoint):
    sealed = authorize(bridge)
    tampered = sealed[:-3] + ("AAA" if not sealed.endswith("AAA") else "BBB")
    assert_refused(get(bridge, "/callback", {"code": CODE, "state": tampered}), 400, "could not be verified")
    assert_refused(get(bridge, "/callback", {"error": "access_denied", "state": tampered}), 400,
                   "could not be verified")
    assert len(token_endpoint.calls) == 0


def test_an_expired_sealed_state_is_refused(bridge, token_endpoint, wall):
    sealed = authorize(bridge)
    wall.advance(MAX_AGE_S + 1)
    assert_refused(get(bridge, "/callback", {"code": CODE, "state": sealed}), 400, "More than 10 minutes")
    assert len(token_endpoint.calls) == 0


def test_a_state_sealed_before_a_vendor_change_is_refused(secrets_bucket, monotonic, wall, token_endpoint):
    sealed = authorize(with_bridge(secrets_bucket, monotonic, wall))
    other_vendor = with_bridge(secrets_bucket, monotonic, wall, alexa_vendor_id="OTHERVENDOR1")
    assert_refused(get(other_vendor, "/callback", {"code": CODE, "state": sealed}), 400, "could not be verified")


@pytest.mark.parametrize("status, body, page_status, phrase", [
    (400, {"error": "invalid_grant"}, 400, "expired or was already used"),
    (401, {"error": "invalid_client"}, 502, "client ID, secret or redirect address"),
    (500, {"error": "backend_error"}, 502, "answered with an error"),
    (200, "<html>not json</html>", 502, "could not be read"),
    (200, {"token_type": "Bearer"}, 502, "without an access token"),
])
def test_token_endpoint_failures_become_pages_never_redirects(bridge, token_endpoint, status, body, page_status,
                                                              phrase):
    if isinstance(body, dict):
        token_endpoint.post(TOKEN_URL, status=status, json=body)
    else:
        token_endpoint.post(TOKEN_URL, status=status, body=body)
    response = get(bridge, "/callback", {"code": CODE, "state": authorize(bridge)})
    assert_refused(response, page_status, phrase, "start linking again from the Alexa app")


def test_token_endpoint_timeout(bridge, token_endpoint):
    token_endpoint.post(TOKEN_URL, body=requests.ReadTimeout("slow"))
    assert_refused(get(bridge, "/callback", {"code": CODE, "state": authorize(bridge)}), 502, "did not answer in time")


# -- secrets unavailable --------------------------------------------------------------------------------


@pytest.mark.parametrize("break_secrets", ["delete", "malformed"])
def test_unusable_secrets_give_503_on_both_routes(bridge, secrets_bucket, token_endpoint, break_secrets):
    if break_secrets == "delete":
        secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    else:
        secrets_bucket.write(f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\n")
    assert_refused(get(bridge, "/authorize", authorize_params()), 503, "cannot read its settings")
    assert_refused(get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE}), 503, "cannot read its settings")
    assert len(token_endpoint.calls) == 0


# -- pages, methods, logs ---------------------------------------------------------------------------------


def test_pages_never_reflect_input(bridge):
    marker = "<script>alert('x')</script>"
    for path, params in [("/callback", {"state": marker}), ("/authorize", authorize_params(redirect_uri=marker)),
                         ("/nope", {"a": marker})]:
        response = get(bridge, path, params)
        assert response.status >= 400
        assert "<script" not in response.body and "alert" not in response.body


def test_unknown_path_and_other_methods(bridge):
    assert_refused(get(bridge, "/admin"), 404, "nothing at this address")
    response = get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE}, method="POST")
    assert_refused(response, 405, "only answers GET")
    assert response.headers["Allow"] == "GET"


def test_an_unexpected_error_is_a_plain_500_page(bridge, monkeypatch, caplog):
    def broken(self, **_):
        raise RuntimeError("bug in the exchange")

    monkeypatch.setattr(TokenClient, "exchange", broken)
    with caplog.at_level(logging.ERROR, logger="oauth_bridge"):
        response = get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE})
    assert_refused(response, 500, "unexpected error")
    assert "Traceback" not in response.body and "bug in the exchange" not in response.body
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "internal_error"]
    assert record.exc_info is not None


def test_logs_never_hold_codes_tokens_states_or_secrets(bridge, grant, caplog):
    with caplog.at_level(logging.DEBUG):
        sealed = authorize(bridge)
        get(bridge, "/callback", {"code": CODE, "state": sealed})
        get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE})
        get(bridge, "/callback", {"error": "access_denied", "state": sealed})
    logged = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    request_lines = [record for record in caplog.records if getattr(record, "event", None) == "request"]
    assert [record.outcome for record in request_lines] == ["sent_to_provider", "linked", "linked",
                                                            "provider_error:access_denied"]
    for secret in (CODE, ACCESS_TOKEN, ALEXA_STATE, sealed, CLIENT_SECRET, STATE_KEY, "test-refresh-token"):
        assert secret not in logged


def test_a_refused_request_logs_why(bridge, token_endpoint, caplog):
    token_endpoint.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE})
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    assert (record.status, record.outcome, record.provider_status, record.provider_error, record.route) == (
        400, "token_grant_refused", 400, "invalid_grant", "/callback")
