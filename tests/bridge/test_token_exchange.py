"""The code-for-token exchange: the request Google expects, and each way the answer can go wrong."""

from __future__ import annotations

import http.server
import time
from urllib.parse import parse_qs

import pytest
import requests

from oauth_bridge.token_exchange import AccessGrant, TokenClient, TokenExchangeError, TokenFailure
from sandbox.serving import in_background, running
from sandbox.processes import LOOPBACK, free_port
from tests.bridge.helpers import ACCESS_TOKEN, CALLBACK, CLIENT_ID, CLIENT_SECRET, CODE, TOKEN_URL


def exchange(client: TokenClient) -> AccessGrant:
    return client.exchange(code=CODE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)


def failure(client: TokenClient) -> TokenExchangeError:
    with pytest.raises(TokenExchangeError) as error:
        exchange(client)
    return error.value


def test_posts_the_form_google_expects(grant):
    assert exchange(TokenClient(TOKEN_URL)) == AccessGrant(ACCESS_TOKEN, 3599)
    [call] = grant.calls
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(call.request.body) == {"code": [CODE], "client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET],
                                           "grant_type": ["authorization_code"], "redirect_uri": [CALLBACK]}


def test_repr_of_a_grant_hides_the_token():
    assert ACCESS_TOKEN not in repr(AccessGrant(ACCESS_TOKEN, 3599))


@pytest.mark.parametrize("expires_in, expected", [(3599, 3599), ("3600", 3600), (None, None), (0, None),
                                                  (-5, None), ("soon", None), (True, None), (12.5, None)])
def test_expires_in_is_kept_only_when_usable(token_endpoint, expires_in, expected):
    body = {"access_token": ACCESS_TOKEN} | ({} if expires_in is None else {"expires_in": expires_in})
    token_endpoint.post(TOKEN_URL, json=body)
    assert exchange(TokenClient(TOKEN_URL)).expires_in == expected


@pytest.mark.parametrize("status, body, kind, provider_error", [
    (400, {"error": "invalid_grant", "error_description": "Bad Request"}, TokenFailure.GRANT_REFUSED, "invalid_grant"),
    (401, {"error": "invalid_client", "error_description": "Unauthorized"}, TokenFailure.REQUEST_REJECTED,
     "invalid_client"),
    (400, {"error": "redirect_uri_mismatch"}, TokenFailure.REQUEST_REJECTED, "redirect_uri_mismatch"),
    (403, {"error": "<b>not a code</b>"}, TokenFailure.REQUEST_REJECTED, None),
    (500, {"error": "internal_failure"}, TokenFailure.PROVIDER_ERROR, "internal_failure"),
    (503, None, TokenFailure.PROVIDER_ERROR, None),
    (302, None, TokenFailure.PROVIDER_ERROR, None),
    (200, {"token_type": "Bearer", "expires_in": 3599}, TokenFailure.NO_ACCESS_TOKEN, None),
    (200, {"access_token": "", "expires_in": 3599}, TokenFailure.NO_ACCESS_TOKEN, None),
    (200, {"access_token": 12345}, TokenFailure.NO_ACCESS_TOKEN, None),
    (200, ["access_token"], TokenFailure.NO_ACCESS_TOKEN, None),
])
def test_answers_that_give_no_token(token_endpoint, status, body, kind, provider_error):
    headers = {"Location": "https://elsewhere.example/"} if status == 302 else None
    if body is None:
        token_endpoint.post(TOKEN_URL, status=status, body="<html>Service Unavailable</html>", headers=headers)
    else:
        token_endpoint.post(TOKEN_URL, status=status, json=body)
    error = failure(TokenClient(TOKEN_URL))
    assert (error.kind, error.http_status, error.provider_error) == (kind, status, provider_error)


@pytest.mark.parametrize("body", [b"<html>Sign in</html>", b"", b"\xff\xfe\x00garbage", b"{\"access_token\": "])
def test_a_200_that_is_not_json(token_endpoint, body):
    token_endpoint.post(TOKEN_URL, status=200, body=body)
    assert failure(TokenClient(TOKEN_URL)).kind is TokenFailure.NOT_JSON


def test_an_oversized_answer_is_not_read_whole(token_endpoint):
    token_endpoint.post(TOKEN_URL, status=200, body=b'{"access_token": "' + b"a" * 200_000 + b'"}')
    assert failure(TokenClient(TOKEN_URL)).kind is TokenFailure.NOT_JSON


def test_a_read_timeout(token_endpoint):
    token_endpoint.post(TOKEN_URL, body=requests.ReadTimeout("read timed out"))
    error = failure(TokenClient(TOKEN_URL))
    assert (error.kind, error.attempts) == (TokenFailure.TIMEOUT, 1)


def test_a_refused_connection_is_retried_once_then_reported():
    client = TokenClient(f"http://127.0.0.1:{free_port()}/oauth2/v4/token")
    error = failure(client)
    assert (error.kind, error.attempts) == (TokenFailure.UNREACHABLE, 2)


def test_cookies_from_one_exchange_never_reach_the_next(token_endpoint):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN},
                        headers={"Set-Cookie": "session=user-one; Domain=www.googleapis.com; Path=/"})
    client = TokenClient(TOKEN_URL)
    exchange(client)
    exchange(client)
    assert "Cookie" not in token_endpoint.calls[1].request.headers


# -- the time budget, against a real slow server --------------------------------------------------------


def answer_late(environ, start_response):
    time.sleep(2.0)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


def trickle_body(environ, start_response):
    """Headers at once, then one byte every 0.1 s: each read is quick, the whole is far too slow."""
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "200")])
    for _ in range(200):
        time.sleep(0.1)
        yield b" "


class _HeadersLateThenStall(http.server.BaseHTTPRequestHandler):
    """Google's HTTP/1.1 keep-alive answer, but with the headers and a first byte just inside the budget,
    then silence: the read timeout set when the request started would allow a whole budget more."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.8)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{")
        self.wfile.flush()
        time.sleep(3.0)
        self.wfile.write(b"}")

    def log_message(self, *args):
        pass


@pytest.fixture
def stalling_endpoint():
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _HeadersLateThenStall)
    server.daemon_threads = True
    with in_background(server) as base_url:
        yield base_url


def within_budget(base_url: str) -> TokenExchangeError:
    """A 1 s budget. An exchange that kept its starting read timeout would wait on the stalled body until
    0.8 s + 1 s, one with no deadline until the slow servers finish (2 s and more): the bound sits just
    under 1.8 s rather than just over the budget, so a loaded machine does not fail a correct exchange."""
    started = time.monotonic()
    error = failure(TokenClient(f"{base_url}/oauth2/v4/token", budget_s=1.0))
    elapsed = time.monotonic() - started
    assert elapsed < 1.7, "the exchange waited past its budget for the slow server"
    return error


@pytest.mark.parametrize("slow_app", [answer_late, trickle_body])
def test_the_whole_exchange_fits_the_budget(slow_app):
    with running(slow_app) as base_url:
        assert within_budget(base_url).kind is TokenFailure.TIMEOUT


def test_a_body_stalled_late_in_the_budget_still_ends_with_it(stalling_endpoint):
    assert within_budget(stalling_endpoint).kind is TokenFailure.TIMEOUT
