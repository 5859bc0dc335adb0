"""Exchanging an authorization code for an access token at the provider's token endpoint (RFC 6749 §4.1.3).

Everything, retry included, ends by one wall-clock budget (4 s by default), so the user's browser gets an
answer well before anything upstream gives up. Socket timeouts bound each wait, not their sum: a server
trickling one header line or body byte at a time would never trip them. So every socket the exchange
opens is watched by a timer that shuts it down when the budget is spent, whatever the exchange is then
waiting for (connect, TLS handshake, headers, body). Each exchange has its own session and connection,
so no exchange can be cut short by another's timer or read another's answer. Only a failed connection
is retried: an authorization code works once, and a request the provider may have received must not be
sent twice.
"""

from __future__ import annotations

import contextlib
import enum
import http.cookiejar
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from requests.adapters import DEFAULT_POOLBLOCK, HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

BUDGET_S = 4.0
CONNECT_TIMEOUT_S = 1.5
MIN_RETRY_BUDGET_S = 1.0
MAX_ATTEMPTS = 2
MAX_BODY_BYTES = 64 * 1024
MAX_EXPIRES_IN_S = 366 * 24 * 3600
"""Longer than any access token Google issues (3599 s); a larger `expires_in` is not a lifetime."""
OAUTH_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
"""What an OAuth `error` value looks like (RFC 6749 codes are a subset); anything else is not passed on."""
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class AccessGrant:
    access_token: str = field(repr=False)
    expires_in: int | None
    """Seconds, as the provider sent it; None when it sent none."""


class TokenFailure(enum.Enum):
    GRANT_REFUSED = "grant_refused"
    """4xx with `invalid_grant`: the code expired or was used; the user can simply retry."""
    REQUEST_REJECTED = "request_rejected"
    """Any other 4xx (wrong client ID or secret, unregistered redirect URI): a settings problem."""
    PROVIDER_ERROR = "provider_error"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    NOT_JSON = "not_json"
    NO_ACCESS_TOKEN = "no_access_token"
    MALFORMED = "malformed"
    """JSON with an access token, but an `expires_in` that is no lifetime in seconds ("²", -5, 10**4999)."""


class TokenExchangeError(Exception):
    def __init__(
        self, kind: TokenFailure, *, http_status: int | None = None, provider_error: str | None = None, attempts: int
    ) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.http_status = http_status
        # The provider's `error` code when it matches OAUTH_ERROR_CODE (safe to log); else None.
        self.provider_error = provider_error
        self.attempts = attempts


class _NotConnected(Exception):
    """The request never reached the provider, so sending it again is safe."""


class _Deadline:
    """Shuts down each watched socket when the budget ends; a blocked connect, send or recv then returns."""

    def __init__(self, budget_s: float) -> None:
        self.at = time.monotonic() + budget_s
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(budget_s, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def expired(self) -> bool:
        """The timer fires after `at` (it starts waiting later), so the clock alone says it has."""
        return self.remaining() <= 0

    def watch(self, sock: socket.socket) -> None:
        """Keeps a duplicate descriptor: TLS wrapping detaches the original, and shutdown acts on the socket.
        A socket that connects after the budget is shut at once, as the timer would have."""
        with self._lock:
            self._watched.append(sock.dup())
            if self.expired:
                _shut(self._watched[-1])

    def _expire(self) -> None:
        with self._lock:
            for sock in self._watched:
                _shut(sock)

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # not connected (yet, or any more): nothing to interrupt
        sock.shutdown(socket.SHUT_RDWR)


_exchange = threading.local()
"""The deadline of the exchange running on this thread; its connections are opened on the same thread."""


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _exchange.deadline.watch(sock)
        return sock


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _exchange.deadline.watch(sock)
        return sock


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = DEFAULT_POOLBLOCK, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def _new_session() -> requests.Session:
    """A session for one exchange. No cookie jar: nothing set during one user's exchange rides along."""
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    adapter = _WatchedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class TokenClient:
    def __init__(self, token_url: str, *, budget_s: float = BUDGET_S) -> None:
        self._token_url = token_url
        self._budget_s = budget_s

    def exchange(self, *, code: str, client_id: str, client_secret: str, redirect_uri: str) -> AccessGrant:
        """Raises TokenExchangeError; returns or raises by `budget_s` after the call, whatever the server does."""
        form = {
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        }
        deadline = _Deadline(self._budget_s)
        _exchange.deadline = deadline
        attempts = 1
        try:
            while True:
                try:
                    return _grant_from(*self._post(form, deadline), attempts)
                except _NotConnected:
                    if attempts == MAX_ATTEMPTS or deadline.remaining() < MIN_RETRY_BUDGET_S:
                        raise TokenExchangeError(TokenFailure.UNREACHABLE, attempts=attempts) from None
                    attempts += 1
                except requests.Timeout:
                    raise TokenExchangeError(TokenFailure.TIMEOUT, attempts=attempts) from None
                except requests.RequestException:
                    kind = TokenFailure.TIMEOUT if deadline.expired else TokenFailure.PROVIDER_ERROR
                    raise TokenExchangeError(kind, attempts=attempts) from None
        finally:
            deadline.close()
            del _exchange.deadline

    def _post(self, form: dict[str, str], deadline: _Deadline) -> tuple[int, bytes]:
        """Status and body (cut to MAX_BODY_BYTES + 1); the deadline's timer ends any wait."""
        remaining = max(deadline.remaining(), 0.001)
        with _new_session() as session:
            try:
                response = session.post(
                    self._token_url,
                    data=form,
                    stream=True,
                    allow_redirects=False,
                    headers={"Accept": "application/json"},
                    timeout=(min(CONNECT_TIMEOUT_S, remaining), remaining),
                )
            except requests.ConnectTimeout:
                raise _NotConnected from None
            except requests.ConnectionError as error:
                if _failed_to_connect(error) and not deadline.expired:
                    raise _NotConnected from None
                raise
            with response:
                try:
                    body = response.raw.read(MAX_BODY_BYTES + 1, decode_content=True)
                except urllib3.exceptions.ReadTimeoutError:
                    raise requests.Timeout from None
                except (urllib3.exceptions.HTTPError, OSError):
                    raise requests.ConnectionError from None
            if deadline.expired:
                raise requests.Timeout
            return response.status_code, body


def _failed_to_connect(error: requests.ConnectionError) -> bool:
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _grant_from(status: int, body: bytes, attempts: int) -> AccessGrant:
    try:
        document = json.loads(body) if len(body) <= MAX_BODY_BYTES else None
        parsed = document is not None
    except (ValueError, RecursionError):  # RecursionError: `[` nested deeper than the parser recurses
        document, parsed = None, False
    provider_error = document.get("error") if isinstance(document, dict) else None
    if not (isinstance(provider_error, str) and OAUTH_ERROR_CODE.match(provider_error)):
        provider_error = None
    if 400 <= status < 500:
        failure = TokenFailure.GRANT_REFUSED if provider_error == "invalid_grant" else TokenFailure.REQUEST_REJECTED
    elif not 200 <= status < 300:
        failure = TokenFailure.PROVIDER_ERROR
    elif not parsed:
        failure = TokenFailure.NOT_JSON
    else:
        fields = document if isinstance(document, dict) else {}
        token = fields.get("access_token")
        if not (isinstance(token, str) and token.strip()):
            failure = TokenFailure.NO_ACCESS_TOKEN
        elif "expires_in" not in fields:
            return AccessGrant(access_token=token, expires_in=None)
        else:
            expires_in = _seconds(fields["expires_in"])
            if expires_in is not None:
                return AccessGrant(access_token=token, expires_in=expires_in)
            failure = TokenFailure.MALFORMED
    raise TokenExchangeError(failure, http_status=status, provider_error=provider_error, attempts=attempts)


def _seconds(value: object) -> int | None:
    """`expires_in` (RFC 6749 §5.1: the lifetime in seconds; Google sends an integer) when it is one: a positive
    integer up to MAX_EXPIRES_IN_S, or its ASCII decimal digits; anything else is None, never guessed."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_EXPIRES_IN_S:
        return value
    return None
