"""The code-for-token exchange: the request Google expects, and each way the answer can go wrong."""

from __future__ import annotations

import concurrent.futures
import gzip
import http.server
import json
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, parse_qsl

import pytest
import requests
import responses

from oauth_bridge import token_exchange
from oauth_bridge.app import build_bridge
from oauth_bridge.token_exchange import AccessGrant, TokenClient, TokenExchangeError, TokenFailure, _Deadline
from sandbox.fake_google import (
    TOKEN_MISBEHAVIOURS,
    TRICKLING_MODES,
    FakeGoogle,
    TricklingFront,
    trickling_token_endpoint,
)
from sandbox.processes import LOOPBACK, free_port
from sandbox.serving import in_background, running
from tests.bridge.helpers import ACCESS_TOKEN, CALLBACK, CLIENT_ID, CLIENT_SECRET, CODE, TOKEN_URL, make_config

PROJECT = "00000000-0000-4000-8000-0000000000bb"


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
    assert parse_qs(call.request.body) == {
        "code": [CODE],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "grant_type": ["authorization_code"],
        "redirect_uri": [CALLBACK],
    }


def test_repr_of_a_grant_hides_the_token():
    assert ACCESS_TOKEN not in repr(AccessGrant(ACCESS_TOKEN, 3599))


@pytest.mark.parametrize("expires_in, expected", [(3599, 3599), ("3600", 3600), (None, None)])
def test_expires_in_is_kept_when_it_is_a_lifetime(token_endpoint, expires_in, expected):
    body = {"access_token": ACCESS_TOKEN} | ({} if expires_in is None else {"expires_in": expires_in})
    token_endpoint.post(TOKEN_URL, json=body)
    assert exchange(TokenClient(TOKEN_URL)).expires_in == expected


@pytest.mark.parametrize(
    "expires_in", [0, -5, "soon", True, 12.5, "²", "٣٦٠٠", "3600\n", "9" * 5000, 10**12, "+3600", " 3600", "0000003599"]
)
def test_an_expires_in_that_is_no_lifetime_fails_the_exchange(token_endpoint, expires_in):
    """Alexa would take a wrong lifetime at its word; no lifetime is better than an invented one."""
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": expires_in})
    assert failure(TokenClient(TOKEN_URL)).kind is TokenFailure.MALFORMED


@pytest.mark.parametrize(
    "mode, kind",
    [
        ("unavailable", TokenFailure.PROVIDER_ERROR),
        ("server_error", TokenFailure.PROVIDER_ERROR),
        ("html", TokenFailure.NOT_JSON),
        ("no_access_token", TokenFailure.NO_ACCESS_TOKEN),
        ("expires_in_superscript", TokenFailure.MALFORMED),
        ("expires_in_5000_digits", TokenFailure.NOT_JSON),
        ("deep_nesting", TokenFailure.NOT_JSON),
    ],
)
def test_each_misbehaviour_of_the_fake_token_endpoint_is_a_clean_failure(token_endpoint, mode, kind):
    status, content_type, body = TOKEN_MISBEHAVIOURS[mode]
    token_endpoint.post(TOKEN_URL, status=status, body=body, content_type=content_type)
    assert failure(TokenClient(TOKEN_URL)).kind is kind


@pytest.mark.parametrize(
    "status, body, kind, provider_error",
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "Bad Request"},
            TokenFailure.GRANT_REFUSED,
            "invalid_grant",
        ),
        (
            401,
            {"error": "invalid_client", "error_description": "Unauthorized"},
            TokenFailure.REQUEST_REJECTED,
            "invalid_client",
        ),
        (400, {"error": "redirect_uri_mismatch"}, TokenFailure.REQUEST_REJECTED, "redirect_uri_mismatch"),
        (403, {"error": "<b>not a code</b>"}, TokenFailure.REQUEST_REJECTED, None),
        (500, {"error": "internal_failure"}, TokenFailure.PROVIDER_ERROR, "internal_failure"),
        (503, None, TokenFailure.PROVIDER_ERROR, None),
        (302, None, TokenFailure.PROVIDER_ERROR, None),
        (200, {"token_type": "Bearer", "expires_in": 3599}, TokenFailure.NO_ACCESS_TOKEN, None),
        (200, {"access_token": "", "expires_in": 3599}, TokenFailure.NO_ACCESS_TOKEN, None),
        (200, {"access_token": 12345}, TokenFailure.NO_ACCESS_TOKEN, None),
        (200, ["access_token"], TokenFailure.NO_ACCESS_TOKEN, None),
    ],
)
def test_answers_that_give_no_token(token_endpoint, status, body, kind, provider_error):
    headers = {"Location": "https://elsewhere.example/"} if status == 302 else None
    if body is None:
        token_endpoint.post(TOKEN_URL, status=status, body="<html>Service Unavailable</html>", headers=headers)
    else:
        token_endpoint.post(TOKEN_URL, status=status, json=body)
    error = failure(TokenClient(TOKEN_URL))
    assert (error.kind, error.http_status, error.provider_error) == (kind, status, provider_error)


@pytest.mark.parametrize("body", [b"<html>Sign in</html>", b"", b"\xff\xfe\x00garbage", b'{"access_token": '])
def test_a_200_that_is_not_json(token_endpoint, body):
    token_endpoint.post(TOKEN_URL, status=200, body=body)
    assert failure(TokenClient(TOKEN_URL)).kind is TokenFailure.NOT_JSON


def test_an_oversized_answer_is_not_read_whole(token_endpoint):
    token_endpoint.post(TOKEN_URL, status=200, body=b'{"access_token": "' + b"a" * 200_000 + b'"}')
    assert failure(TokenClient(TOKEN_URL)).kind is TokenFailure.NOT_JSON


def endless_answer(environ, start_response):
    """A 200 whose body never ends (here: 5 s of 1 KiB pieces), as a broken proxy might send."""
    start_response("200 OK", [("Content-Type", "application/json")])
    ends = time.monotonic() + 5.0
    while time.monotonic() < ends:
        yield b" " * 1024
        time.sleep(0.001)


def test_an_endless_answer_is_cut_at_64_kib_not_read_until_the_budget():
    with running(endless_answer) as base_url:
        started = time.monotonic()
        error = failure(TokenClient(f"{base_url}/oauth2/v4/token", budget_s=3.0))
        elapsed = time.monotonic() - started
    assert error.kind is TokenFailure.NOT_JSON, f"{error.kind} after {elapsed:.2f} s"


def test_a_read_timeout(token_endpoint):
    token_endpoint.post(TOKEN_URL, body=requests.ReadTimeout("read timed out"))
    error = failure(TokenClient(TOKEN_URL))
    assert (error.kind, error.attempts) == (TokenFailure.TIMEOUT, 1)


def test_a_refused_connection_is_retried_once_then_reported():
    client = TokenClient(f"http://127.0.0.1:{free_port()}/oauth2/v4/token")
    error = failure(client)
    assert (error.kind, error.attempts) == (TokenFailure.UNREACHABLE, 2)


def test_cookies_from_one_exchange_never_reach_the_next(token_endpoint):
    token_endpoint.post(
        TOKEN_URL,
        json={"access_token": ACCESS_TOKEN},
        headers={"Set-Cookie": "session=user-one; Domain=www.googleapis.com; Path=/"},
    )
    client = TokenClient(TOKEN_URL)
    exchange(client)
    exchange(client)
    assert "Cookie" not in token_endpoint.calls[1].request.headers


def test_the_token_request_asks_for_json_and_sends_the_form_google_expects(grant):
    exchange_at(TOKEN_URL)
    [call] = grant.calls
    assert call.request.headers["Accept"] == "application/json"
    assert dict(parse_qsl(call.request.body)) == {
        "code": CODE,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK,
    }


@pytest.mark.parametrize("length, logged", [(64, True), (65, False)])
def test_a_provider_error_code_is_passed_on_up_to_64_characters(token_endpoint, length, logged):
    code = "e" * length
    token_endpoint.post(TOKEN_URL, status=400, json={"error": code})
    with pytest.raises(TokenExchangeError) as error:
        TokenClient(TOKEN_URL).exchange(
            code=CODE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK
        )
    assert error.value.provider_error == (code if logged else None)


@pytest.mark.parametrize("expires_in, kept", [(1, 1), (31_622_400, 31_622_400), ("31622400", 31_622_400)])
def test_expires_in_from_one_second_to_366_days(token_endpoint, expires_in, kept):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": expires_in})
    assert exchange_at(TOKEN_URL) == AccessGrant(ACCESS_TOKEN, kept)


@pytest.mark.parametrize("expires_in", [0, 31_622_401])
def test_expires_in_outside_that_is_malformed(token_endpoint, expires_in):
    token_endpoint.post(TOKEN_URL, json={"access_token": ACCESS_TOKEN, "expires_in": expires_in})
    assert failure_of(TOKEN_URL).kind is TokenFailure.MALFORMED


def token_answer(body: bytes, headers: list[tuple[str, str]], chunks: int = 1):
    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json"), *headers])
        size = -(-len(body) // chunks)
        return iter([body[i : i + size] for i in range(0, len(body), size)])

    return app


def exchange_at(token_url: str, budget_s: float = 4.0) -> AccessGrant:
    return TokenClient(token_url, budget_s=budget_s).exchange(
        code=CODE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK
    )


def answer(status: str, body: bytes):
    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    return app


def failure_of(token_url: str) -> TokenExchangeError:
    with pytest.raises(TokenExchangeError) as error:
        exchange_at(token_url)
    return error.value


def padded(size: int, **fields) -> bytes:
    """A JSON token answer of exactly `size` bytes."""
    body = json.dumps({**fields, "pad": ""}).encode()
    return body[:-2] + b"p" * (size - len(body)) + b'"}'


def test_a_gzip_encoded_token_answer_links():
    body = gzip.compress(json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599}).encode())
    with running(token_answer(body, [("Content-Encoding", "gzip")])) as base_url:
        assert exchange_at(f"{base_url}/token") == AccessGrant(ACCESS_TOKEN, 3599)


def test_a_9_kb_token_answer_arriving_in_several_reads_links():
    body = json.dumps({"access_token": ACCESS_TOKEN, "expires_in": 3599, "id_token": "j" * 9000}).encode()
    with running(token_answer(body, [], chunks=9)) as base_url:
        assert exchange_at(f"{base_url}/token") == AccessGrant(ACCESS_TOKEN, 3599)


def test_an_answer_of_exactly_64_kib_is_read_and_one_byte_more_is_not():
    with running(answer("200 OK", padded(65536, access_token=ACCESS_TOKEN))) as base_url:
        assert exchange_at(f"{base_url}/token") == AccessGrant(ACCESS_TOKEN, None)
    with running(answer("200 OK", padded(65537, access_token=ACCESS_TOKEN))) as base_url:
        error = failure_of(f"{base_url}/token")
    assert (error.kind, error.http_status, error.attempts) == (TokenFailure.NOT_JSON, 200, 1)


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
        exchange_at(f"{base_url}/token", budget_s=2.0)
    assert error.value.kind is TokenFailure.NOT_JSON


def test_a_300_with_a_token_is_no_grant():
    with running(answer("300 Multiple Choices", json.dumps({"access_token": ACCESS_TOKEN}).encode())) as base_url:
        error = failure_of(f"{base_url}/token")
    assert (error.kind, error.http_status, error.attempts) == (TokenFailure.PROVIDER_ERROR, 300, 1)


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


# -- the time budget, against real slow servers on 127.0.0.1 -------------------------------------------


def answer_late(environ, start_response):
    time.sleep(2.0)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


class _HeadersLateThenStall(http.server.BaseHTTPRequestHandler):
    """Google's HTTP/1.1 keep-alive answer, but with the headers and a first byte just inside the budget,
    then silence."""

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
        yield f"{base_url}/oauth2/v4/token"


def within_budget(token_url: str) -> TokenExchangeError:
    """A 1 s budget against servers that would take 2 s to 12 s. The bound sits at 1.5 s rather than just
    over the budget, so a loaded machine does not fail a correct exchange."""
    started = time.monotonic()
    error = failure(TokenClient(token_url, budget_s=1.0))
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"the exchange took {elapsed:.2f} s against a 1 s budget"
    return error


def test_an_answer_after_the_budget_times_out():
    with running(answer_late) as base_url:
        assert within_budget(f"{base_url}/oauth2/v4/token").kind is TokenFailure.TIMEOUT


@pytest.mark.parametrize("mode", TRICKLING_MODES)
def test_headers_or_body_trickled_every_0_3_s_end_by_the_budget(mode):
    """Without a wall clock, one header line every 0.3 s holds /callback 12-20 s, and a body trickled on a
    connection without keep-alive 7 s: each read is quick, so no read timeout stops them."""
    with trickling_token_endpoint(mode, interval_s=0.3, steps=40) as token_url:
        assert within_budget(token_url).kind is TokenFailure.TIMEOUT


@pytest.mark.parametrize("mode", TRICKLING_MODES)
def test_over_https_trickled_headers_or_body_end_by_the_budget(mode, tls, monkeypatch):
    """Google's token endpoint is HTTPS: the socket the timer shuts is the one TLS wraps after connecting."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
    with trickling_token_endpoint(mode, interval_s=0.3, steps=40, tls=tls.server_context()) as token_url:
        assert token_url.startswith("https://")
        assert within_budget(token_url).kind is TokenFailure.TIMEOUT


def test_over_https_a_prompt_answer_links_and_an_untrusted_certificate_does_not(tls, monkeypatch):
    google = FakeGoogle(PROJECT, CLIENT_ID, CLIENT_SECRET, [CALLBACK])
    with (
        running(google) as base_url,
        in_background(TricklingFront(base_url, "body", only="never-trickled", tls=tls.server_context())) as front,
    ):
        code = google_code(base_url)
        client = TokenClient(f"{front}/oauth2/v4/token", budget_s=2.0)
        refused = failure(client)  # certifi's roots do not include the sandbox's certificate authority
        assert (refused.kind, refused.attempts) == (TokenFailure.PROVIDER_ERROR, 1)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
        grant = client.exchange(code=code, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)
    assert grant.access_token.startswith("fake-access-") and grant.expires_in == 3599


def test_a_socket_connected_after_the_budget_is_shut_at_once():
    """A connect (or TLS handshake) that completes after the timer fired must not then wait out a read."""
    deadline = _Deadline(0.0)
    ours, theirs = socket.socketpair()
    try:
        deadline.watch(ours)
        ours.settimeout(1.0)
        assert (deadline.expired, ours.recv(1)) == (True, b"")
    finally:
        deadline.close()
        ours.close()
        theirs.close()


def test_a_connection_the_server_has_reset_is_passed_over_when_the_budget_ends(monkeypatch):
    """Shutting a reset socket down fails (not connected): nothing is left to interrupt, so neither a connect
    completing after the budget nor the budget's timer raises (no stray traceback in the log)."""
    raised: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda hooked: raised.append(hooked.exc_type))
    with socket.create_server((LOOPBACK, 0)) as listener:
        ours = socket.create_connection(listener.getsockname())
        theirs, _ = listener.accept()
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        theirs.close()  # with a zero linger: a reset
        assert select.select([ours], [], [], 1.0)[0] == [ours]
        with pytest.raises(ConnectionResetError):
            ours.recv(1)
        late, timed = _Deadline(0.0), _Deadline(0.05)
        try:
            timed.watch(ours)
            late.watch(ours)  # as a connect completing after the budget: shut at once
            timed._timer.join(1.0)
            assert (late.expired, timed.expired, raised) == (True, True, [])
        finally:
            late.close()
            timed.close()
            ours.close()


def test_a_body_stalled_late_in_the_budget_still_ends_with_it(stalling_endpoint):
    assert within_budget(stalling_endpoint).kind is TokenFailure.TIMEOUT


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


def test_a_prompt_answer_within_a_half_second_budget_links():
    body = json.dumps({"access_token": ACCESS_TOKEN}).encode()
    with running(token_answer(body, [])) as base_url:
        assert exchange_at(f"{base_url}/token", budget_s=0.5) == AccessGrant(ACCESS_TOKEN, None)


@pytest.mark.parametrize("budget_s, attempts", [(1.08, 2), (0.95, 1)])
def test_a_refused_connection_is_tried_again_only_with_a_second_left(budget_s, attempts):
    client = TokenClient(f"http://127.0.0.1:{free_port()}/oauth2/v4/token", budget_s=budget_s)
    with pytest.raises(TokenExchangeError) as error:
        client.exchange(code=CODE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK)
    assert (error.value.kind, error.value.attempts) == (TokenFailure.UNREACHABLE, attempts)


def test_a_refused_connection_with_under_a_second_left_is_not_retried():
    started = time.monotonic()
    with pytest.raises(TokenExchangeError) as error:
        exchange_at(f"http://{LOOPBACK}:{free_port()}/token", budget_s=0.9)
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
            exchange_at(token_url, budget_s=0.25)
        elapsed = time.monotonic() - started
    assert (error.value.kind, error.value.attempts) == (TokenFailure.UNREACHABLE, 1)
    assert 0.2 < elapsed < 0.75, f"a connect that never completes took {elapsed:.2f} s against a 0.25 s budget"


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


# -- concurrency ----------------------------------------------------------------------------------------------


def test_many_concurrent_exchanges_neither_mix_nor_break_each_other():
    """64 threads at once (gunicorn runs 4 per worker), half of them against a trickling endpoint that
    times out: each good exchange gets its own code's token, and none is cut short by another's deadline."""
    google = FakeGoogle(PROJECT, CLIENT_ID, CLIENT_SECRET, [CALLBACK])
    with running(google) as base_url, trickling_token_endpoint("trickle_body", 0.05, 60) as slow_url:
        codes = [google_code(base_url) for _ in range(32)]
        good, slow = TokenClient(f"{base_url}/oauth2/v4/token", budget_s=3.0), TokenClient(slow_url, budget_s=1.0)

        def one(index: int) -> str:
            if index % 2:
                return failure(slow).kind.value
            return good.exchange(
                code=codes[index // 2], client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=CALLBACK
            ).access_token

        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            results = list(pool.map(one, range(64)))
        tokens = results[0::2]
        assert results[1::2] == ["timeout"] * 32
        assert len(set(tokens)) == 32
        for token in tokens:
            assert (
                requests.get(
                    f"{base_url}/v1/enterprises/{PROJECT}/devices",
                    timeout=5,
                    headers={"Authorization": f"Bearer {token}"},
                ).status_code
                == 200
            )
    assert google.stats()["counts"]["token"] == 32


def google_code(base_url: str) -> str:
    """A code from the fake's authorization page, issued for the bridge's callback."""
    approved = requests.get(
        f"{base_url}/partnerconnections/{PROJECT}/auth",
        allow_redirects=False,
        timeout=5,
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": "https://www.googleapis.com/auth/sdm.service",
            "state": "s",
        },
    )
    return parse_qs(approved.headers["Location"].split("?", 1)[1])["code"][0]
