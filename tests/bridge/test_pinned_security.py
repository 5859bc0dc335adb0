"""The bridge's security constants and shapes, pinned by literal values a user or an attacker would notice
(issue 16): each test here fails when one constant or one check in the state, redirect, query or token-exchange
code changes, which the flow tests (they compare a constant with itself) would not notice."""

from __future__ import annotations

import gzip
import http.server
import hashlib
import re
import select
import json
import socket
import time
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import parse_qsl

import boto3
import pytest
from itsdangerous import URLSafeTimedSerializer

from oauth_bridge import app as bridge_app
from oauth_bridge.alexa_redirects import allowed_redirect_urls, with_fragment
from oauth_bridge.app import Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.sealed_state import AlexaReturn, StateRefused, StateSealer, binding_of, new_nonce, unverified
from oauth_bridge.token_exchange import AccessGrant, TokenClient, TokenExchangeError, TokenFailure
from sandbox.processes import LOOPBACK, free_port
from sandbox.serving import in_background, running
from tests.bridge.helpers import (ACCESS_TOKEN, ALEXA_REDIRECT, ALEXA_STATE, BUCKET, CALLBACK, CLIENT_ID,
                                  CLIENT_SECRET, CODE, KEY, TOKEN_URL, assert_back_to_alexa, assert_refused,
                                  callback, get, location, make_config, start)

PINNED_KEY = "pinned-state-key-" + "k" * 32
PINNED_AT = 1_800_000_000.0
PINNED_RETURN = AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, "bInDiNg")
PINNED_SEALED = ("sealed2~eyJzIjoiQWxleGFTdGF0ZS0wMTIzNDU2Nzg5YWJjZGVmIiwiciI6Imh0dHBzOi8vbGF5bGEuYW1hem9uLmNvbS9hc"
                 "Gkvc2tpbGwvbGluay9URVNUVkVORE9SMDEiLCJiIjoiYkluRGlOZyJ9.a0nSAA.rg38VMgyq9AE1S52oy_OqLXJYQ7pmPqhy1Bfsp"
                 "RhRds")
"""Sealed by this version for PINNED_KEY at PINNED_AT: a change of prefix, salt, digest or payload names would
also refuse every state in flight during a deploy."""


class Wall:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- the sealed state ----------------------------------------------------------------------------------------


def test_one_known_sealed_string_for_a_fixed_key_clock_and_state():
    assert StateSealer(PINNED_KEY, Wall(PINNED_AT)).seal(PINNED_RETURN) == PINNED_SEALED
    assert StateSealer(PINNED_KEY, Wall(PINNED_AT + 10)).open(PINNED_SEALED) == PINNED_RETURN


def test_a_state_opens_at_600_s_and_has_expired_at_601_s():
    wall = Wall(PINNED_AT + 600)
    assert StateSealer(PINNED_KEY, wall).open(PINNED_SEALED) == PINNED_RETURN
    wall.now = PINNED_AT + 601
    with pytest.raises(StateRefused) as refused:
        StateSealer(PINNED_KEY, wall).open(PINNED_SEALED)
    assert refused.value.reason == "expired"


def test_another_key_or_a_sealed1_state_is_refused():
    with pytest.raises(StateRefused) as refused:
        StateSealer("another-key-" + "k" * 32, Wall(PINNED_AT)).open(PINNED_SEALED)
    assert refused.value.reason == "invalid"
    with pytest.raises(StateRefused) as refused:
        StateSealer(PINNED_KEY, Wall(PINNED_AT)).open("sealed1~" + PINNED_SEALED.removeprefix("sealed2~"))
    assert refused.value.reason == "unsealed"


def _signed(payload: object) -> str:
    """A payload signed with the right key, salt and digest: only its shape is wrong."""
    serializer = URLSafeTimedSerializer(PINNED_KEY, salt="oauth-bridge/alexa-state",
                                        signer_kwargs={"digest_method": hashlib.sha256})
    return "sealed2~" + serializer.dumps(payload)


def test_the_salt_and_digest_are_the_published_ones():
    sealed = _signed({"s": ALEXA_STATE, "r": ALEXA_REDIRECT, "b": "bInDiNg"})
    assert StateSealer(PINNED_KEY).open(sealed) == PINNED_RETURN


@pytest.mark.parametrize("payload", [
    ["AlexaState", ALEXA_REDIRECT, "b"],
    {"s": ALEXA_STATE, "r": ALEXA_REDIRECT},
    {"s": 5, "r": ALEXA_REDIRECT, "b": "bInDiNg"},
    {"s": ALEXA_STATE, "r": None, "b": "bInDiNg"},
    {"s": ALEXA_STATE, "r": ALEXA_REDIRECT, "b": ["bInDiNg"]},
    "just a string",
])
def test_a_rightly_signed_payload_of_the_wrong_shape_is_refused_not_a_crash(payload):
    with pytest.raises(StateRefused) as refused:
        StateSealer(PINNED_KEY).open(_signed(payload))
    assert refused.value.reason == "invalid"
    assert unverified(_signed(payload)) is None


def test_unverified_reads_the_payload_of_a_sealed2_state_only():
    assert unverified(PINNED_SEALED) == PINNED_RETURN
    assert unverified(PINNED_SEALED.removeprefix("sealed2~")) is None
    assert unverified("sealed2~not base64 at all") is None


def test_the_browser_binding_is_the_unpadded_urlsafe_sha256_of_the_nonce():
    assert binding_of("nonce") == "eDd7UldXtJRCf4kBT5fXmSjzk40U61HiD7XeyYNOswQ"
    assert AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of("nonce")).bound_to("nonce")
    assert not AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of("nonce")).bound_to("nonce2")
    assert not AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of("nonce")).bound_to(None)


def test_the_flow_cookie_and_state_live_600_s_through_the_bridge(bridge, wall, grant):
    flow = start(bridge)
    wall.advance(600)
    assert location(callback(bridge, flow)).fragment["access_token"] == ACCESS_TOKEN
    late = start(bridge)
    wall.advance(601)
    assert_back_to_alexa(callback(bridge, late), "access_denied")
    assert len(grant.calls) == 1


# -- redirects -------------------------------------------------------------------------------------------------


def test_the_alexa_redirect_allow_list_is_exactly_these_six_urls():
    assert allowed_redirect_urls("V1") == {
        "https://pitangui.amazon.com/api/skill/link/V1",
        "https://layla.amazon.com/api/skill/link/V1",
        "https://alexa.amazon.co.jp/api/skill/link/V1",
        "https://pitangui.amazon.com/spa/skill/account-linking-status.html?vendorId=V1",
        "https://layla.amazon.com/spa/skill/account-linking-status.html?vendorId=V1",
        "https://alexa.amazon.co.jp/spa/skill/account-linking-status.html?vendorId=V1",
    }


def test_fragments_are_percent_encoded_with_spaces_as_20():
    assert with_fragment("https://a.example/x", [("state", "a b+c/d"), ("error", "access_denied")]) == \
        "https://a.example/x#state=a%20b%2Bc%2Fd&error=access_denied"


def test_google_is_asked_for_exactly_the_sdm_scope_offline_with_consent(bridge):
    response = get(bridge, "/authorize", {"response_type": "token", "state": ALEXA_STATE,
                                          "redirect_uri": ALEXA_REDIRECT})
    sent = location(response).query
    assert sent["scope"] == "https://www.googleapis.com/auth/sdm.service"
    assert (sent["response_type"], sent["access_type"], sent["prompt"]) == ("code", "offline", "consent")
    assert (sent["client_id"], sent["redirect_uri"]) == (CLIENT_ID, CALLBACK)


@pytest.fixture
def hostless(secrets_bucket, monotonic, wall) -> Bridge:
    """A bridge without PUBLIC_BASE_URL: its callback URL comes from the request."""
    return Bridge(make_config(public_base_url=None), CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
                  TokenClient(TOKEN_URL, budget_s=4.0), wall_clock=wall)


def authorize(bridge: Bridge, headers: dict[str, str]):
    return get(bridge, "/authorize", {"response_type": "token", "state": ALEXA_STATE,
                                      "redirect_uri": ALEXA_REDIRECT}, headers=headers)


@pytest.mark.parametrize("proto, scheme", [("https, http", "https"), ("http, https", "http"), ("HTTP", "http"),
                                           ("gopher", "https"), ("", "https")])
def test_the_first_forwarded_proto_names_the_callback_scheme(hostless, proto, scheme):
    headers = {"host": "bridge.example.net:8443", **({"x-forwarded-proto": proto} if proto else {})}
    assert location(authorize(hostless, headers)).query["redirect_uri"] == \
        f"{scheme}://bridge.example.net:8443/callback"


@pytest.mark.parametrize("headers", [{"accept": "text/html"}, {"host": ""}, {"host": "evil.example/x"}, {"host": "-a.example"},
                                     {"host": "a.example:123456"}, {"host": "a" * 254}],
                         ids=["no Host header at all", "blank", "path", "leading hyphen", "6-digit port", "254 chars"])
def test_no_host_or_a_malformed_one_is_refused_without_redirect(hostless, headers):
    assert_refused(authorize(hostless, headers), 400)


def test_the_longest_host_accepted_is_253_characters(hostless):
    host = "a" * 253
    assert location(authorize(hostless, {"host": host})).query["redirect_uri"] == f"https://{host}/callback"


# -- /callback ---------------------------------------------------------------------------------------------------


def test_a_blank_error_does_not_exchange_the_code(bridge, grant):
    assert_back_to_alexa(callback(bridge, start(bridge), error=""), "server_error")
    assert len(grant.calls) == 0


@pytest.mark.parametrize("error, passed_on", [("access_denied", "access_denied"),
                                              ("temporarily_unavailable", "temporarily_unavailable"),
                                              ("invalid_scope", "server_error"), ("ACCESS_DENIED", "server_error")])
def test_only_two_provider_errors_are_passed_on_to_alexa(bridge, grant, error, passed_on):
    assert_back_to_alexa(callback(bridge, start(bridge), error=error, code=None), passed_on)
    assert len(grant.calls) == 0


@pytest.mark.parametrize("status, error", [(400, "access_denied"), (401, "server_error"), (500, "server_error"),
                                           (502, "temporarily_unavailable"), (503, "temporarily_unavailable"),
                                           (504, "temporarily_unavailable"), (505, "server_error")])
def test_what_alexa_hears_for_each_token_endpoint_status(bridge, token_endpoint, status, error):
    token_endpoint.post(TOKEN_URL, status=status,
                        json={"error": "invalid_grant" if status == 400 else "other"})
    assert_back_to_alexa(callback(bridge, start(bridge)), error)


def test_the_production_s3_client_bounds_each_read():
    """1 s to connect, 2 s per read, 3 attempts in all (botocore's max_attempts counts retries): about 6 s."""
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x",
                          config=bridge_app.S3_CONFIG)
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (1, 2)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


# -- the query ---------------------------------------------------------------------------------------------------


def test_del_and_other_control_characters_are_refused(bridge):
    for raw in ("%7F", "%1F", "%00"):
        assert_refused(get(bridge, "/authorize", f"state=a{raw}b&response_type=token&redirect_uri="
                                                 f"{ALEXA_REDIRECT}"), 400, "characters that do not belong")


def test_a_value_of_2048_bytes_passes_and_one_more_is_too_long(bridge):
    ok = get(bridge, "/authorize", {"state": "s" * 1024, "response_type": "token", "redirect_uri": ALEXA_REDIRECT,
                                    "pad": "p" * 2048})
    assert ok.status_code == 302
    too_long = get(bridge, "/authorize", {"state": "s", "response_type": "token", "redirect_uri": ALEXA_REDIRECT,
                                          "pad": "p" * 2049})
    assert_refused(too_long, 400)
    assert body_of(too_long) != body_of(get(bridge, "/authorize", "state=a&state=b"))


def body_of(response) -> str:
    return response.get_data(as_text=True)


def test_twenty_parameters_pass_and_twenty_one_are_refused(bridge):
    base = {"state": "s", "response_type": "token", "redirect_uri": ALEXA_REDIRECT}
    twenty = {**base, **{f"x{i}": "v" for i in range(17)}}
    assert get(bridge, "/authorize", twenty).status_code == 302
    assert_refused(get(bridge, "/authorize", {**twenty, "x17": "v"}), 400)


def test_a_query_over_40960_characters_is_refused_before_parsing(bridge):
    query = "state=s&response_type=token&redirect_uri=" + ALEXA_REDIRECT + "&pad="
    assert_refused(get(bridge, "/authorize", query + "p" * (40961 - len(query))), 400)


# -- the token exchange over a real loopback socket -------------------------------------------------------------


def token_answer(body: bytes, headers: list[tuple[str, str]], chunks: int = 1):
    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json"), *headers])
        size = -(-len(body) // chunks)
        return iter([body[i:i + size] for i in range(0, len(body), size)])
    return app


def exchange(token_url: str, budget_s: float = 4.0) -> AccessGrant:
    return TokenClient(token_url, budget_s=budget_s).exchange(code=CODE, client_id=CLIENT_ID,
                                                              client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)


def test_a_gzip_encoded_token_answer_links():
    body = gzip.compress(json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599}).encode())
    with running(token_answer(body, [("Content-Encoding", "gzip")])) as base_url:
        assert exchange(f"{base_url}/token") == AccessGrant(ACCESS_TOKEN, 3599)


def test_a_9_kb_token_answer_arriving_in_several_reads_links():
    body = json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599, "id_token": "j" * 9000}).encode()
    with running(token_answer(body, [], chunks=9)) as base_url:
        assert exchange(f"{base_url}/token") == AccessGrant(ACCESS_TOKEN, 3599)


def oversized_then_stalled(environ, start_response):
    """One byte over MAX_BODY_BYTES (64 KiB), a Content-Length promising more, then silence past the budget."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "70000")])
    yield b" " * (64 * 1024 + 1)
    time.sleep(3.0)
    yield b" " * (70000 - 64 * 1024 - 1)


def test_an_answer_one_byte_over_64_kib_is_refused_without_waiting_for_the_rest():
    """The read stops at the byte that makes the answer too long: Alexa hears server_error (NOT_JSON) at once,
    not temporarily_unavailable when the budget ends."""
    with running(oversized_then_stalled) as base_url, pytest.raises(TokenExchangeError) as error:
        exchange(f"{base_url}/token", budget_s=2.0)
    assert error.value.kind is TokenFailure.NOT_JSON


def test_a_prompt_answer_within_a_half_second_budget_links():
    body = json.dumps({"access_token": ACCESS_TOKEN}).encode()
    with running(token_answer(body, [])) as base_url:
        assert exchange(f"{base_url}/token", budget_s=0.5) == AccessGrant(ACCESS_TOKEN, None)


def test_a_refused_connection_with_under_a_second_left_is_not_retried():
    started = time.monotonic()
    with pytest.raises(TokenExchangeError) as error:
        exchange(f"http://{LOOPBACK}:{free_port()}/token", budget_s=0.9)
    assert (error.value.kind, error.value.attempts) == (TokenFailure.UNREACHABLE, 1)
    assert time.monotonic() - started < 0.9


@contextmanager
def never_accepting_endpoint() -> Iterator[str]:
    """A listener whose accept queue is full: the kernel drops the next SYN, so a connect never completes."""
    with socket.create_server((LOOPBACK, 0), backlog=0) as listener, socket.socket() as queued:
        queued.connect(listener.getsockname())
        assert select.select([listener], [], [], 1.0)[0], "the first connection is in the accept queue"
        yield f"http://{LOOPBACK}:{listener.getsockname()[1]}/token"


def test_a_connect_that_never_completes_ends_with_a_quarter_second_budget():
    """Before its socket can be watched, only the connect timeout bounds the wait: it is the budget left."""
    with never_accepting_endpoint() as token_url:
        started = time.monotonic()
        with pytest.raises(TokenExchangeError) as error:
            exchange(token_url, budget_s=0.25)
        elapsed = time.monotonic() - started
    assert (error.value.kind, error.value.attempts) == (TokenFailure.UNREACHABLE, 1)
    assert 0.2 < elapsed < 0.75, f"a connect that never completes took {elapsed:.2f} s against a 0.25 s budget"


def test_a_flow_nonce_is_128_random_bits_in_22_url_safe_characters():
    nonces = {new_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", nonce) for nonce in nonces)


def answer(status: str, body: bytes):
    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response(status, [("Content-Type", "application/json")])
        return [body]
    return app


def failure_of(token_url: str) -> TokenExchangeError:
    with pytest.raises(TokenExchangeError) as error:
        exchange(token_url)
    return error.value


def padded(size: int, **fields) -> bytes:
    """A JSON token answer of exactly `size` bytes."""
    body = json.dumps({**fields, "pad": ""}).encode()
    return body[:-2] + b"p" * (size - len(body)) + b'"}'


def test_an_answer_of_exactly_64_kib_is_read_and_one_byte_more_is_not():
    with running(answer("200 OK", padded(65536, access_token=ACCESS_TOKEN))) as base_url:
        assert exchange(f"{base_url}/token") == AccessGrant(ACCESS_TOKEN, None)
    with running(answer("200 OK", padded(65537, access_token=ACCESS_TOKEN))) as base_url:
        error = failure_of(f"{base_url}/token")
    assert (error.kind, error.http_status, error.attempts) == (TokenFailure.NOT_JSON, 200, 1)


def test_a_300_with_a_token_is_no_grant():
    with running(answer("300 Multiple Choices", json.dumps({"access_token": ACCESS_TOKEN}).encode())) as base_url:
        error = failure_of(f"{base_url}/token")
    assert (error.kind, error.http_status, error.attempts) == (TokenFailure.PROVIDER_ERROR, 300, 1)


@pytest.mark.parametrize("expires_in, kept", [(1, 1), (31_622_400, 31_622_400), ("31622400", 31_622_400)])
def test_expires_in_from_one_second_to_366_days(token_endpoint, expires_in, kept):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": expires_in})
    assert exchange(TOKEN_URL) == AccessGrant(ACCESS_TOKEN, kept)


@pytest.mark.parametrize("expires_in", [0, 31_622_401])
def test_expires_in_outside_that_is_malformed(token_endpoint, expires_in):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": expires_in})
    assert failure_of(TOKEN_URL).kind is TokenFailure.MALFORMED


class _HangUp(http.server.BaseHTTPRequestHandler):
    """Reads the request, then closes the connection without answering."""

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.close_connection = True

    def log_message(self, *args):
        pass


def test_a_connection_closed_after_the_request_is_not_retried():
    """The provider may have spent the code: a dropped answer is a provider error, never a second POST."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _HangUp)
    server.daemon_threads = True
    with in_background(server) as base_url:
        error = failure_of(f"{base_url}/token")
    assert (error.kind, error.attempts) == (TokenFailure.PROVIDER_ERROR, 1)


def test_https_connections_to_google_are_watched_by_the_budget_too():
    """The production token URL is https: its connections must be the watched kind (the loopback tests above
    can only show http)."""
    from oauth_bridge import token_exchange
    with token_exchange._new_session() as session:
        adapter = session.get_adapter("https://www.googleapis.com/oauth2/v4/token")
        adapter.init_poolmanager(1, 1)
        pool = adapter.poolmanager.connection_from_url("https://www.googleapis.com/")
        assert type(pool).ConnectionCls is token_exchange._WatchedHTTPSConnection
        assert adapter.max_retries.total == 0


def test_the_token_request_asks_for_json_and_sends_the_form_google_expects(grant):
    exchange(TOKEN_URL)
    [call] = grant.calls
    assert call.request.headers["Accept"] == "application/json"
    assert dict(parse_qsl(call.request.body)) == {"code": CODE, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                                  "grant_type": "authorization_code", "redirect_uri": CALLBACK}
