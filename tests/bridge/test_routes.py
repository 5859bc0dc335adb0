"""The core's routes, through `Bridge.handle`, against moto S3/KMS and a `responses` token endpoint."""

from __future__ import annotations

import concurrent.futures
import logging
import secrets
import time
from urllib.parse import parse_qs, quote

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response

from oauth_bridge import app as bridge_app
from oauth_bridge.app import SDM_SCOPE, Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.http_messages import FLOW_COOKIE
from oauth_bridge.sealed_state import MAX_AGE_S, PREFIX, AlexaReturn, StateSealer
from oauth_bridge.spent_states import SpentStates
from oauth_bridge.token_exchange import TokenClient
from tests.bridge.helpers import (
    ACCESS_TOKEN,
    ALEXA_REDIRECT,
    ALEXA_STATE,
    AUTH_URL,
    AUTHORIZE,
    BUCKET,
    CALLBACK,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    INCOMPRESSIBLE,
    KEY,
    TOKEN_URL,
    VENDOR,
    Flow,
    assert_back_to_alexa,
    assert_refused,
    body,
    callback,
    get,
    location,
    make_config,
    set_cookies,
    start,
)
from tests.clock import Clock

ALEXA_HOSTS = ("pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp")
ALL_ALEXA_REDIRECTS = [
    url
    for host in ALEXA_HOSTS
    for url in (
        f"https://{host}/api/skill/link/{VENDOR}",
        f"https://{host}/spa/skill/account-linking-status.html?vendorId={VENDOR}",
    )
]


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "client_id": "alexa-side-id",
        "response_type": "token",
        "state": ALEXA_STATE,
        "redirect_uri": ALEXA_REDIRECT,
        "scope": "sdm",
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


def with_bridge(secrets_bucket, monotonic, wall, **config) -> Bridge:
    return Bridge(
        make_config(**config),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL),
        wall_clock=wall,
    )


# -- /health ------------------------------------------------------------------------------------------


def test_health_touches_no_secret(bridge, secrets_bucket):
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    response = get(bridge, "/health")
    assert (response.status_code, body(response)) == (200, '{"status": "ok"}')
    assert secrets_bucket.get_object_calls == 0


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


@pytest.mark.parametrize(
    "path, content_type, start, outcome",
    [
        ("/health", "application/json", '{"status": "ok"}', "healthy"),
        ("/privacy", "text/html; charset=utf-8", "<!doctype html>", "privacy_policy"),
        ("/terms", "text/html; charset=utf-8", "<!doctype html>", "terms_of_use"),
    ],
)
def test_plain_answers_their_headers_and_their_log_line(bridge, caplog, path, content_type, start, outcome):
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        response = get(bridge, path)
    assert (response.status_code, response.headers["Content-Type"]) == (200, content_type)
    assert body(response).startswith(start)
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
    [line] = [r for r in caplog.records if hasattr(r, "outcome")]
    assert (line.getMessage(), line.outcome) == (f"GET {path} -> 200 {outcome}", outcome)


# -- /authorize ---------------------------------------------------------------------------------------


def test_authorize_sends_the_user_to_google_with_the_bridge_callback(bridge, wall):
    response = get(bridge, "/authorize", authorize_params())
    sent = location(response)
    assert sent.base == AUTH_URL
    assert {name: value for name, value in sent.query.items() if name != "state"} == {
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "access_type": "offline",
        "prompt": "consent",
        "scope": SDM_SCOPE,
    }
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


@pytest.mark.parametrize(
    "headers, callback",
    [
        (
            {"host": "abc123.lambda-url.us-east-1.on.aws", "x-forwarded-proto": "https"},
            "https://abc123.lambda-url.us-east-1.on.aws/callback",
        ),
        ({"host": "bridge.example.net", "x-forwarded-proto": "https, http"}, "https://bridge.example.net/callback"),
        ({"host": "127.0.0.1:8000"}, "https://127.0.0.1:8000/callback"),
    ],
)
def test_without_public_base_url_the_callback_is_where_the_request_came(
    secrets_bucket, monotonic, wall, headers, callback
):
    bridge = with_bridge(secrets_bucket, monotonic, wall, public_base_url=None)
    assert location(get(bridge, "/authorize", authorize_params(), headers)).query["redirect_uri"] == callback


@pytest.mark.parametrize("host", ["", "evil.example/path", "a b", "bridge.example.com\r\nX: y", "[::1]:80"])
def test_an_unusable_host_header_is_refused(secrets_bucket, monotonic, wall, host):
    bridge = with_bridge(secrets_bucket, monotonic, wall, public_base_url=None)
    assert_refused(get(bridge, "/authorize", authorize_params(), {"host": host}), 400, "does not recognise")


@pytest.mark.parametrize("redirect_uri", ALL_ALEXA_REDIRECTS)
def test_each_alexa_redirect_url_of_the_vendor_is_accepted(bridge, redirect_uri):
    assert location(get(bridge, "/authorize", authorize_params(redirect_uri=redirect_uri))).base == AUTH_URL


@pytest.mark.parametrize(
    "redirect_uri",
    [
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
    ],
)
def test_a_redirect_uri_off_the_list_gets_400_and_no_redirect(bridge, secrets_bucket, redirect_uri):
    assert_refused(
        get(bridge, "/authorize", authorize_params(redirect_uri=redirect_uri)),
        400,
        "does not lead back to the Alexa app",
    )
    assert secrets_bucket.get_object_calls == 0


@pytest.mark.parametrize("state", [None, "", "   "])
def test_authorize_without_a_state_is_refused(bridge, state):
    assert_refused(
        get(bridge, "/authorize", authorize_params(state=state)), 400, "missing the part that ties it to your Alexa app"
    )


@pytest.mark.parametrize("response_type", [None, "code", "id_token"])
def test_authorize_for_another_grant_returns_the_error_to_alexa(bridge, response_type):
    back = location(get(bridge, "/authorize", authorize_params(response_type=response_type)))
    assert back.base == ALEXA_REDIRECT
    assert back.fragment == {"error": "unsupported_response_type", "state": ALEXA_STATE}


def test_an_alexa_state_too_long_to_seal_is_refused(bridge):
    """Under 2 KB from Alexa, but over 2 KB once sealed: Google would hand back a state /callback refuses."""
    state = secrets.token_urlsafe(1400)
    assert len(state) < 2048
    assert_refused(get(bridge, "/authorize", authorize_params(state=state)), 400, "more than can be carried")


def test_a_long_alexa_state_that_fits_when_sealed_goes_through(bridge, grant):
    state = secrets.token_urlsafe(1000)
    back = location(callback(bridge, start(bridge, state=state)))
    assert back.fragment["state"] == state


def test_the_url_sent_to_google_byte_for_byte(secrets_bucket, monotonic, wall):
    """The configured URL's own query first (spaces as %20, as everywhere the bridge encodes), then the bridge's."""
    bridge = Bridge(
        make_config(authorization_url=AUTH_URL + "?hl=en&hint=a+b%2Fc"),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL),
        wall_clock=wall,
    )
    sent = get(bridge, "/authorize", AUTHORIZE).headers["Location"]
    assert sent.startswith(
        f"{AUTH_URL}?hl=en&hint=a%20b%2Fc&client_id=1234567890-testclient.apps.googleusercontent.com"
        "&redirect_uri=https%3A%2F%2Fbridge.example.com%2Fcallback&response_type=code"
        "&access_type=offline&prompt=consent"
        "&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fsdm.service&state=sealed2~"
    )


def test_a_blank_parameter_of_the_configured_authorization_url_is_kept(secrets_bucket, monotonic, wall):
    bridge = Bridge(
        make_config(authorization_url=AUTH_URL + "?hd=&hl=en"),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL),
        wall_clock=wall,
    )
    sent = get(
        bridge,
        "/authorize",
        {
            "client_id": "x",
            "response_type": "token",
            "state": "s",
            "redirect_uri": "https://layla.amazon.com/api/skill/link/TESTVENDOR01",
        },
    )
    assert sent.headers["Location"].startswith(AUTH_URL + "?hd=&hl=en&")


def test_google_is_asked_for_exactly_the_sdm_scope_offline_with_consent(bridge):
    response = get(
        bridge, "/authorize", {"response_type": "token", "state": ALEXA_STATE, "redirect_uri": ALEXA_REDIRECT}
    )
    sent = location(response).query
    assert sent["scope"] == "https://www.googleapis.com/auth/sdm.service"
    assert (sent["response_type"], sent["access_type"], sent["prompt"]) == ("code", "offline", "consent")
    assert (sent["client_id"], sent["redirect_uri"]) == (CLIENT_ID, CALLBACK)


@pytest.fixture
def hostless(secrets_bucket, monotonic, wall) -> Bridge:
    """A bridge without PUBLIC_BASE_URL: its callback URL comes from the request."""
    return Bridge(
        make_config(public_base_url=None),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL, budget_s=4.0),
        wall_clock=wall,
    )


def authorize(bridge: Bridge, headers: dict[str, str]):
    return get(
        bridge,
        "/authorize",
        {"response_type": "token", "state": ALEXA_STATE, "redirect_uri": ALEXA_REDIRECT},
        headers=headers,
    )


@pytest.mark.parametrize(
    "proto, scheme",
    [("https, http", "https"), ("http, https", "http"), ("HTTP", "http"), ("gopher", "https"), ("", "https")],
)
def test_the_first_forwarded_proto_names_the_callback_scheme(hostless, proto, scheme):
    headers = {"host": "bridge.example.net:8443", **({"x-forwarded-proto": proto} if proto else {})}
    assert (
        location(authorize(hostless, headers)).query["redirect_uri"] == f"{scheme}://bridge.example.net:8443/callback"
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"accept": "text/html"},
        {"host": ""},
        {"host": "evil.example/x"},
        {"host": "-a.example"},
        {"host": "a.example:123456"},
        {"host": "a" * 254},
    ],
    ids=["no Host header at all", "blank", "path", "leading hyphen", "6-digit port", "254 chars"],
)
def test_no_host_or_a_malformed_one_is_refused_without_redirect(hostless, headers):
    assert_refused(authorize(hostless, headers), 400)


def test_the_longest_host_accepted_is_253_characters(hostless):
    host = "a" * 253
    assert location(authorize(hostless, {"host": host})).query["redirect_uri"] == f"https://{host}/callback"


def test_a_state_sealed_into_exactly_2048_characters_goes_to_google_and_a_longer_one_does_not(bridge, monkeypatch):
    """With this nonce and clock, Alexa's state of 1804 characters seals into 2048, one of 1805 into 2050 (lengths
    of CPython's zlib deflate, as on Lambda)."""
    monkeypatch.setattr(bridge_app, "new_nonce", lambda: "fixed-nonce")
    sent = location(get(bridge, "/authorize", {**AUTHORIZE, "state": INCOMPRESSIBLE[:1804]}))
    assert len(sent.query["state"]) == 2048
    assert_refused(
        get(bridge, "/authorize", {**AUTHORIZE, "state": INCOMPRESSIBLE[:1805]}), 400, "more than can be carried"
    )


# -- the flow cookie: /authorize binds the state to the browser -------------------------------------


def test_authorize_sets_a_secure_httponly_lax_cookie_for_the_state_lifetime(bridge):
    response = get(bridge, "/authorize", authorize_params())
    cookie = set_cookies(response)[FLOW_COOKIE]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path", "max-age", "expires"} <= attributes
    assert "SameSite=Lax" in cookie and "Path=/;" in cookie + ";" and f"Max-Age={MAX_AGE_S}" in cookie
    assert "Domain" not in cookie
    nonce = cookie.split(";")[0].split("=", 1)[1]
    assert len(nonce) >= 22 and nonce not in response.headers["Location"]


def test_each_authorize_gets_its_own_cookie(bridge):
    assert start(bridge).nonce != start(bridge).nonce


def test_the_flow_cookie_is_named_with_the_host_prefix(bridge):
    response = get(
        bridge,
        "/authorize",
        {
            "client_id": "x",
            "response_type": "token",
            "state": "s",
            "redirect_uri": f"https://layla.amazon.com/api/skill/link/{VENDOR}",
        },
    )
    [cookie] = response.headers.getlist("Set-Cookie")
    assert cookie.startswith("__Host-linking=") and "; Secure" in cookie and "; Path=/" in cookie


def test_the_flow_cookie_is_set_and_cleared_with_every_attribute_a_host_prefixed_cookie_needs(bridge, grant):
    """Browsers ignore a `__Host-` cookie, set or cleared, that lacks Secure and Path=/ or has a Domain:
    a clearing they ignored would leave the state usable again in that browser."""
    started = get(
        bridge,
        "/authorize",
        {
            "client_id": "x",
            "response_type": "token",
            "state": "s",
            "redirect_uri": "https://layla.amazon.com/api/skill/link/TESTVENDOR01",
        },
    )
    [set_cookie] = started.headers.getlist("Set-Cookie")
    name_value, *attributes = set_cookie.split("; ")
    assert name_value.startswith("__Host-linking=") and len(name_value) > len("__Host-linking=") + 20
    assert sorted(a for a in attributes if not a.startswith("Expires=")) == [
        "HttpOnly",
        "Max-Age=600",
        "Path=/",
        "SameSite=Lax",
        "Secure",
    ]
    state = location(started).query["state"]
    finished = get(
        bridge, "/callback", {"state": state, "code": "c"}, cookies={"__Host-linking": name_value.split("=", 1)[1]}
    )
    [cleared] = finished.headers.getlist("Set-Cookie")
    assert cleared.split("; ") == [
        "__Host-linking=",
        "Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "Max-Age=0",
        "Secure",
        "HttpOnly",
        "Path=/",
        "SameSite=Lax",
    ]


def test_the_flow_cookie_and_state_live_600_s_through_the_bridge(bridge, wall, grant):
    flow = start(bridge)
    wall.advance(600)
    assert location(callback(bridge, flow)).fragment["access_token"] == ACCESS_TOKEN
    late = start(bridge)
    wall.advance(601)
    assert_back_to_alexa(callback(bridge, late), "access_denied")
    assert len(grant.calls) == 1


# -- /callback ----------------------------------------------------------------------------------------


def test_callback_exchanges_the_code_and_returns_the_token_to_alexa(bridge, grant):
    response = callback(bridge, start(bridge), scope=SDM_SCOPE)
    back = location(response)
    assert back.base == ALEXA_REDIRECT
    assert back.query == {}
    assert back.fragment == {
        "state": ALEXA_STATE,
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": "3599",
    }
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    [call] = grant.calls
    assert parse_qs(call.request.body) == {
        "code": [CODE],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "grant_type": ["authorization_code"],
        "redirect_uri": [CALLBACK],
    }


def assert_clears_the_flow_cookie(response) -> None:
    cleared = set_cookies(response)[FLOW_COOKIE]
    assert cleared.startswith(f"{FLOW_COOKIE}=;") and "Max-Age=0" in cleared and "Path=/" in cleared


def test_the_callback_of_the_browsers_own_flow_clears_its_cookie_whatever_the_outcome(bridge, grant, wall, monkeypatch):
    assert_clears_the_flow_cookie(callback(bridge, start(bridge)))
    assert_clears_the_flow_cookie(callback(bridge, start(bridge), code=None, error="access_denied"))
    assert_clears_the_flow_cookie(callback(bridge, start(bridge), code=" "))

    def broken(self, **_):
        raise RuntimeError("bug in the exchange")

    with monkeypatch.context() as patched:
        patched.setattr(TokenClient, "exchange", broken)
        assert_clears_the_flow_cookie(callback(bridge, start(bridge)))  # server_error, as any unexpected error
    expired = start(bridge)
    wall.advance(MAX_AGE_S + 1)
    assert_clears_the_flow_cookie(callback(bridge, expired))


def test_finishing_an_older_sign_in_leaves_the_newer_flow_to_finish(bridge, grant):
    """A person starts linking (A), starts again (B) before finishing A, then finishes A's Google page:
    the browser sends B's cookie with A's state. A goes back to Alexa refused; B's cookie stays and B links."""
    older, newer = start(bridge, state="alexa-state-a"), start(bridge, state="alexa-state-b")
    response = get(bridge, "/callback", {"code": CODE, "state": older.state}, cookies=newer.cookies)
    assert_back_to_alexa(response, "access_denied", state="alexa-state-a")
    assert FLOW_COOKIE not in set_cookies(response)
    assert location(callback(bridge, newer)).fragment["access_token"] == ACCESS_TOKEN
    assert len(grant.calls) == 1


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"code": CODE},
        {"code": CODE, "state": ALEXA_STATE},
        {"error": "access_denied", "state": "sealed2~garbage"},
        "state=a&state=b",
    ],
    ids=["bare", "no state", "unsealed state", "garbage state", "unreadable"],
)
def test_a_stray_visit_to_the_callback_leaves_the_browsers_flow_alone(bridge, grant, query):
    flow = start(bridge)
    stray = get(bridge, "/callback", query, cookies=flow.cookies)
    assert stray.status_code == 400 and FLOW_COOKIE not in set_cookies(stray)
    assert location(callback(bridge, flow)).fragment["access_token"] == ACCESS_TOKEN


def test_an_expired_older_sign_in_goes_back_to_alexa_and_leaves_the_newer_flow_alone(bridge, grant, wall):
    older = start(bridge, state="alexa-state-a")
    wall.advance(MAX_AGE_S - 5)
    newer = start(bridge, state="alexa-state-b")
    wall.advance(10)
    response = get(bridge, "/callback", {"code": CODE, "state": older.state}, cookies=newer.cookies)
    assert_back_to_alexa(response, "access_denied", state="alexa-state-a")
    assert FLOW_COOKIE not in set_cookies(response)
    assert location(callback(bridge, newer)).fragment["access_token"] == ACCESS_TOKEN


def test_another_browser_never_gets_a_token_for_the_state(bridge, grant):
    """Login CSRF: the attacker starts linking, sends the Google link to a victim whose browser has no
    cookie (or the cookie of its own flow); the victim's token never reaches the attacker's Alexa."""
    attacker = start(bridge, state="attacker-alexa-state")
    victim = start(bridge, state="victim-alexa-state")
    for cookies in ({}, victim.cookies, {FLOW_COOKIE: "guessed-" + attacker.nonce[8:]}):
        response = get(bridge, "/callback", {"code": CODE, "state": attacker.state}, cookies=cookies)
        assert_back_to_alexa(response, "access_denied", state="attacker-alexa-state")
    assert len(grant.calls) == 0


def test_a_state_yields_a_token_at_most_once(bridge, grant):
    flow = start(bridge)
    assert location(callback(bridge, flow)).fragment["access_token"] == ACCESS_TOKEN
    assert_back_to_alexa(callback(bridge, flow, code="a-second-code"), "access_denied")
    assert len(grant.calls) == 1


def test_a_foreign_browser_does_not_spend_the_real_flow(bridge, grant):
    flow = start(bridge)
    assert_back_to_alexa(get(bridge, "/callback", {"code": CODE, "state": flow.state}), "access_denied")
    assert location(callback(bridge, flow)).fragment["access_token"] == ACCESS_TOKEN


def test_reuse_is_refused_until_the_state_would_have_expired(secrets_bucket, wall, token_endpoint):
    """The replay cache forgets a state only once it could not be opened any more anyway."""
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN})
    spent_clock = Clock(100.0)
    bridge = Bridge(
        make_config(),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY),
        TokenClient(TOKEN_URL),
        wall_clock=wall,
        spent=SpentStates(MAX_AGE_S, spent_clock),
    )
    flow = start(bridge)
    location(callback(bridge, flow))
    spent_clock.advance(MAX_AGE_S - 1)
    wall.advance(MAX_AGE_S - 1)
    assert_back_to_alexa(callback(bridge, flow), "access_denied")
    spent_clock.advance(2)
    wall.advance(2)
    assert_back_to_alexa(callback(bridge, flow), "access_denied")
    assert len(token_endpoint.calls) == 1


def test_the_fragment_is_fully_url_encoded(bridge, token_endpoint):
    token = "tok/en+with=odd&chars"
    token_endpoint.post(TOKEN_URL, json={"access_token": token, "expires_in": 3599})
    state = "alexa state&x=1#y"
    response = callback(bridge, start(bridge, state=state))
    fragment = response.headers["Location"].split("#", 1)[1]
    assert f"access_token={quote(token, safe='')}" in fragment and f"state={quote(state, safe='')}" in fragment
    assert location(response).fragment["access_token"] == token


def test_the_older_alexa_redirect_keeps_its_vendor_query(bridge, grant):
    old = f"https://pitangui.amazon.com/spa/skill/account-linking-status.html?vendorId={VENDOR}"
    response = callback(bridge, start(bridge, redirect_uri=old))
    assert response.headers["Location"].startswith(old + "#state=")
    assert location(response).fragment["access_token"] == ACCESS_TOKEN


def test_expires_in_is_left_out_when_google_sends_none(bridge, token_endpoint):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN})
    back = location(callback(bridge, start(bridge)))
    assert back.fragment == {"state": ALEXA_STATE, "access_token": ACCESS_TOKEN, "token_type": "Bearer"}


# -- only sealed states; the bridge's own page only when the state itself is bad -----------------------


@pytest.mark.parametrize(
    "params", [{"code": CODE, "state": ALEXA_STATE}, {"error": "access_denied", "state": ALEXA_STATE}]
)
def test_a_state_the_bridge_did_not_seal_is_refused(bridge, token_endpoint, params):
    assert_refused(get(bridge, "/callback", params), 400, "not started from the Alexa app")
    assert len(token_endpoint.calls) == 0


def test_the_inner_state_of_an_expired_sealed_state_cannot_be_resent(bridge, token_endpoint, wall):
    flow = start(bridge)
    wall.advance(MAX_AGE_S + 1)
    # Anyone can read the payload (signed, not encrypted; itsdangerous zlib-compresses it when that is shorter).
    inner = URLSafeTimedSerializer("any key").loads_unsafe(flow.state.removeprefix(PREFIX))[1]
    assert inner["s"] == ALEXA_STATE
    response = get(bridge, "/callback", {"code": CODE, "state": inner["s"]}, cookies=flow.cookies)
    assert_refused(response, 400, "not started from the Alexa app")
    assert len(token_endpoint.calls) == 0


def test_a_tampered_sealed_state_is_refused(bridge, token_endpoint):
    flow = start(bridge)
    tampered = Flow(flow.state[:-3] + ("AAA" if not flow.state.endswith("AAA") else "BBB"), flow.nonce)
    assert_refused(callback(bridge, tampered), 400, "cannot be matched")
    assert_refused(callback(bridge, tampered, code=None, error="access_denied"), 400, "cannot be matched")
    assert len(token_endpoint.calls) == 0


@pytest.mark.parametrize("own_browser", [True, False])
def test_an_expired_sign_in_goes_back_to_alexa_so_the_user_sees_alexas_own_retry(
    bridge, token_endpoint, wall, own_browser
):
    """Authentic but past 10 minutes: RFC 6749 §4.2.2.1 access_denied with Alexa's state, from the browser
    that started it or one whose cookie has already expired with it, never a token and never a page."""
    flow = start(bridge)
    wall.advance(MAX_AGE_S + 1)
    response = get(
        bridge, "/callback", {"code": CODE, "state": flow.state}, cookies=flow.cookies if own_browser else None
    )
    assert_back_to_alexa(response, "access_denied")
    assert len(token_endpoint.calls) == 0


def test_an_expired_sign_in_to_an_address_no_longer_listed_gets_a_page(secrets_bucket, monotonic, wall, token_endpoint):
    flow = start(with_bridge(secrets_bucket, monotonic, wall))
    wall.advance(MAX_AGE_S + 1)
    other_vendor = with_bridge(secrets_bucket, monotonic, wall, alexa_vendor_id="OTHERVENDOR1")
    assert_refused(callback(other_vendor, flow), 400, "cannot be matched")


def test_a_state_sealed_before_a_vendor_change_is_refused(secrets_bucket, monotonic, wall, token_endpoint):
    flow = start(with_bridge(secrets_bucket, monotonic, wall))
    other_vendor = with_bridge(secrets_bucket, monotonic, wall, alexa_vendor_id="OTHERVENDOR1")
    assert_refused(callback(other_vendor, flow), 400, "cannot be matched")


@pytest.mark.parametrize(
    "params, phrase",
    [
        ({"code": CODE}, "missing the part that ties it to your Alexa app"),
        ({"code": CODE, "state": ""}, "missing the part that ties it to your Alexa app"),
        ({}, "missing the part that ties it to your Alexa app"),
    ],
)
def test_missing_or_empty_state(bridge, token_endpoint, params, phrase):
    assert_refused(get(bridge, "/callback", params), 400, phrase)
    assert len(token_endpoint.calls) == 0


@pytest.mark.parametrize(
    "query, phrase",
    [
        (f"code={CODE}&state={'s' * 2049}", "is too long"),
        (f"code={'c' * 2049}&state=abc", "is too long"),
        (f"code={CODE}&state=abc%0D%0ASet-Cookie:%20x=1", "characters that do not belong"),
        (f"code={CODE}&state=abc%0Adef", "characters that do not belong"),
        (f"code={CODE}&state=abc%00", "characters that do not belong"),
        (f"code={CODE}&state=a&state=b", "is damaged"),
        (f"code={CODE}&state=%FF%FE", "is damaged"),
        ("&".join(f"p{n}=1" for n in range(30)), "is damaged"),
        ("x=" + "y" * 50_000, "is too long"),
    ],
)
def test_unreadable_parameters(bridge, token_endpoint, query, phrase):
    assert_refused(get(bridge, "/callback", query), 400, phrase)
    assert len(token_endpoint.calls) == 0


def test_a_repeated_code_with_a_good_state_is_refused_too(bridge, token_endpoint):
    flow = start(bridge)
    query = f"code=one&code=two&state={quote(flow.state)}"
    assert_refused(get(bridge, "/callback", query, cookies=flow.cookies), 400, "is damaged")
    assert len(token_endpoint.calls) == 0


# -- failures with a good state go back to Alexa ------------------------------------------------------


@pytest.mark.parametrize(
    "google_error, alexa_error",
    [
        ("access_denied", "access_denied"),
        ("temporarily_unavailable", "temporarily_unavailable"),
        ("invalid_scope", "server_error"),
        ("<script>alert(1)</script>", "server_error"),
    ],
)
def test_an_error_from_google_goes_back_to_alexa_without_a_token(bridge, token_endpoint, google_error, alexa_error):
    assert_back_to_alexa(callback(bridge, start(bridge), code=None, error=google_error), alexa_error)
    assert len(token_endpoint.calls) == 0


def test_a_missing_code_goes_back_to_alexa(bridge, token_endpoint):
    assert_back_to_alexa(callback(bridge, start(bridge), code=""), "server_error")
    assert len(token_endpoint.calls) == 0


@pytest.mark.parametrize(
    "status, answer, alexa_error",
    [
        (400, {"error": "invalid_grant"}, "access_denied"),
        (401, {"error": "invalid_client"}, "server_error"),
        (500, {"error": "backend_error"}, "server_error"),
        (503, "<html>Service Unavailable</html>", "temporarily_unavailable"),
        (200, "<html>not json</html>", "server_error"),
        (200, {"token_type": "Bearer"}, "server_error"),
        (200, {"access_token": "", "expires_in": 3599}, "server_error"),
        (200, {"access_token": ACCESS_TOKEN, "expires_in": "²"}, "server_error"),
        (200, '{"access_token": "t", "expires_in": ' + "9" * 5000 + "}", "server_error"),
        (200, {"access_token": ACCESS_TOKEN, "expires_in": "9" * 5000}, "server_error"),
        (200, "[" * 60_000, "server_error"),
        (200, '{"access_token": "t", "x": ' + "[" * 60_000 + "]" * 60_000 + "}", "server_error"),
    ],
)
def test_token_endpoint_failures_go_back_to_alexa_never_a_page(bridge, token_endpoint, status, answer, alexa_error):
    """Points 3 and 5: after the code is spent, the user must still get Alexa's own "try again"."""
    if isinstance(answer, dict):
        token_endpoint.post(TOKEN_URL, status=status, json=answer)
    else:
        token_endpoint.post(TOKEN_URL, status=status, body=answer)
    response = callback(bridge, start(bridge))
    assert_back_to_alexa(response, alexa_error)
    assert "access_token" not in response.headers["Location"]


@pytest.mark.parametrize("timeout", [requests.ReadTimeout("slow"), requests.ConnectTimeout("no route")])
def test_token_endpoint_timeouts_go_back_as_temporarily_unavailable(bridge, token_endpoint, timeout):
    token_endpoint.post(TOKEN_URL, body=timeout)
    assert_back_to_alexa(callback(bridge, start(bridge)), "temporarily_unavailable")


def test_an_unexpected_error_after_the_state_is_checked_still_goes_back_to_alexa(bridge, monkeypatch, caplog):
    def broken(self, **_):
        raise RuntimeError("bug in the exchange")

    monkeypatch.setattr(TokenClient, "exchange", broken)
    with caplog.at_level(logging.ERROR, logger="oauth_bridge"):
        response = callback(bridge, start(bridge))
    assert_back_to_alexa(response, "server_error")
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "internal_error"]
    assert record.exc_info is not None


def test_a_blank_error_does_not_exchange_the_code(bridge, grant):
    assert_back_to_alexa(callback(bridge, start(bridge), error=""), "server_error")
    assert len(grant.calls) == 0


@pytest.mark.parametrize(
    "error, passed_on",
    [
        ("access_denied", "access_denied"),
        ("temporarily_unavailable", "temporarily_unavailable"),
        ("invalid_scope", "server_error"),
        ("ACCESS_DENIED", "server_error"),
    ],
)
def test_only_two_provider_errors_are_passed_on_to_alexa(bridge, grant, error, passed_on):
    assert_back_to_alexa(callback(bridge, start(bridge), error=error, code=None), passed_on)
    assert len(grant.calls) == 0


@pytest.mark.parametrize(
    "status, error",
    [
        (400, "access_denied"),
        (401, "server_error"),
        (500, "server_error"),
        (502, "temporarily_unavailable"),
        (503, "temporarily_unavailable"),
        (504, "temporarily_unavailable"),
        (505, "server_error"),
    ],
)
def test_what_alexa_hears_for_each_token_endpoint_status(bridge, token_endpoint, status, error):
    token_endpoint.post(TOKEN_URL, status=status, json={"error": "invalid_grant" if status == 400 else "other"})
    assert_back_to_alexa(callback(bridge, start(bridge)), error)


# -- secrets unavailable --------------------------------------------------------------------------------


@pytest.mark.parametrize("break_secrets", ["delete", "malformed"])
def test_unusable_secrets_send_alexa_temporarily_unavailable(
    secrets_bucket, monotonic, wall, token_endpoint, break_secrets
):
    bridge = with_bridge(secrets_bucket, monotonic, wall)
    flow = start(bridge)
    if break_secrets == "delete":
        secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    else:
        secrets_bucket.write(f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\n")
    monotonic.advance(3600)
    assert_back_to_alexa(get(bridge, "/authorize", authorize_params()), "temporarily_unavailable")
    assert_back_to_alexa(callback(bridge, flow), "temporarily_unavailable")
    assert len(token_endpoint.calls) == 0


def test_without_secrets_an_unknown_state_or_browser_gets_the_page(secrets_bucket, monotonic, wall):
    """Without the key the state cannot be verified: an error goes back to Alexa only for a state naming an
    allow-listed Alexa URL, from the browser holding that flow's cookie."""
    bridge = with_bridge(secrets_bucket, monotonic, wall)
    flow = start(bridge)
    forged = StateSealer("attacker-key-" + "y" * 32).seal(AlexaReturn("s", "https://evil.example/", flow.state))
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    monotonic.advance(3600)
    for response in (
        get(bridge, "/callback", {"code": CODE, "state": flow.state}),
        get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE}, cookies=flow.cookies),
        get(bridge, "/callback", {"code": CODE, "state": forged}, cookies=flow.cookies),
    ):
        assert_refused(response, 503, "cannot read its settings")


def test_while_s3_hangs_concurrent_authorizations_all_go_back_to_alexa_within_the_wait(hanging_s3, wall):
    """8 requests at once, none queued behind another's read of the secrets object."""
    bridge = Bridge(
        make_config(), CredentialStore(hanging_s3, BUCKET, KEY, wait_s=1.0), TokenClient(TOKEN_URL), wall_clock=wall
    )

    def one(number: int) -> tuple[Response, float]:
        started = time.monotonic()
        response = get(bridge, "/authorize", authorize_params(state=f"s{number}"))
        return response, time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    for number, (response, _) in enumerate(results):
        assert_back_to_alexa(response, "temporarily_unavailable", state=f"s{number}")
    assert max(elapsed for _, elapsed in results) < 1.8


# -- /privacy and /terms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, phrases",
    [
        (
            "/privacy",
            [
                "privacy policy",
                "whoever deployed",
                "30 seconds",
                "hash",
                "never hold access tokens",
                "Unlink",
                "third-party",
            ],
        ),
        ("/terms", ["terms of use", "as is", "/privacy", "operator"]),
    ],
)
def test_privacy_policy_and_terms_are_plain_pages_reading_no_secret(bridge, secrets_bucket, path, phrases):
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    response = get(bridge, path)
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    text = body(response)
    assert text.startswith("<!doctype html>") and "<script" not in text
    for phrase in phrases:
        assert phrase.lower() in text.lower()
    assert secrets_bucket.get_object_calls == 0


# -- pages and methods ------------------------------------------------------------------------------------


def test_pages_never_reflect_input(bridge):
    marker = "<script>alert('x')</script>"
    for path, params in [
        ("/callback", {"state": marker}),
        ("/authorize", authorize_params(redirect_uri=marker)),
        ("/nope", {"a": marker}),
    ]:
        response = get(bridge, path, params)
        assert response.status_code >= 400
        assert "<script" not in body(response) and "alert" not in body(response)


def test_unknown_path_and_other_methods(bridge):
    assert_refused(get(bridge, "/admin"), 404, "no page at this address")
    response = get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE}, method="POST")
    assert_refused(response, 405, "open only as ordinary links")
    assert response.headers["Allow"] == "GET, HEAD"


def test_an_unexpected_error_before_the_state_is_known_is_a_plain_500_page(bridge, monkeypatch, caplog):
    def broken(request):
        raise RuntimeError("bug in parsing")

    monkeypatch.setattr("oauth_bridge.app.single_params", broken)
    with caplog.at_level(logging.ERROR, logger="oauth_bridge"):
        response = get(bridge, "/callback", {"code": CODE, "state": ALEXA_STATE})
    assert_refused(response, 500, "unexpected problem")
    assert "Traceback" not in body(response) and "bug in parsing" not in body(response)
