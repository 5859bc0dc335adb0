"""Exchanging an authorization code for an access token at the provider's token endpoint.

Everything, retry included, fits in one time budget (4 s by default), so the user's browser gets an
answer well before anything upstream gives up. Only a failed connection is retried: an authorization
code works once, and a request the provider may have received must not be sent twice.
"""

from __future__ import annotations

import enum
import http.cookiejar
import json
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import requests
import urllib3

BUDGET_S = 4.0
CONNECT_TIMEOUT_S = 1.5
MIN_RETRY_BUDGET_S = 1.0
MAX_ATTEMPTS = 2
MAX_BODY_BYTES = 64 * 1024
OAUTH_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
"""What an OAuth `error` value looks like (RFC 6749 codes are a subset); anything else is not passed on."""


@dataclass(frozen=True)
class AccessGrant:
    access_token: str = field(repr=False)
    expires_in: int | None


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


class TokenExchangeError(Exception):
    def __init__(self, kind: TokenFailure, *, http_status: int | None = None, provider_error: str | None = None,
                 attempts: int = 1) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.http_status = http_status
        self.provider_error = provider_error
        """The provider's `error` code when it matches OAUTH_ERROR_CODE (safe to log); else None."""
        self.attempts = attempts


class _NotConnected(Exception):
    """The request never reached the provider, so sending it again is safe."""


class TokenClient:
    def __init__(self, token_url: str, session: requests.Session | None = None, *, budget_s: float = BUDGET_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._token_url = token_url
        self._session = session or _new_session()
        self._budget_s = budget_s
        self._clock = clock

    def exchange(self, *, code: str, client_id: str, client_secret: str, redirect_uri: str) -> AccessGrant:
        form = {"code": code, "client_id": client_id, "client_secret": client_secret,
                "grant_type": "authorization_code", "redirect_uri": redirect_uri}
        deadline = self._clock() + self._budget_s
        attempts = 1
        while True:
            try:
                return _grant_from(*self._post(form, deadline), attempts)
            except _NotConnected:
                if attempts == MAX_ATTEMPTS or deadline - self._clock() < MIN_RETRY_BUDGET_S:
                    raise TokenExchangeError(TokenFailure.UNREACHABLE, attempts=attempts) from None
                attempts += 1
            except requests.Timeout:
                raise TokenExchangeError(TokenFailure.TIMEOUT, attempts=attempts) from None
            except requests.RequestException:
                raise TokenExchangeError(TokenFailure.PROVIDER_ERROR, attempts=attempts) from None

    def _post(self, form: dict[str, str], deadline: float) -> tuple[int, bytes]:
        """Status and body, read within the deadline.

        Socket timeouts bound each wait, not the sum (a body sent a byte at a time would never trip them),
        so the body is read as it arrives, the deadline checked between reads, and each read's wait cut to
        what is left of the budget: the read timeout set at the start would allow a whole budget more.
        (urllib3 exposes the socket only on a kept-alive connection, which is how Google answers.)"""
        remaining = deadline - self._clock()
        try:
            response = self._session.post(self._token_url, data=form, stream=True, allow_redirects=False,
                                          headers={"Accept": "application/json"},
                                          timeout=(min(CONNECT_TIMEOUT_S, remaining), remaining))
        except requests.ConnectTimeout:
            raise _NotConnected from None
        except requests.ConnectionError as error:
            if _failed_to_connect(error):
                raise _NotConnected from None
            raise
        with response:
            sock = getattr(response.raw.connection, "sock", None)
            body = bytearray()
            try:
                while True:
                    left = deadline - self._clock()
                    if left <= 0:
                        raise requests.Timeout("token response not complete within the budget")
                    if sock is not None:
                        sock.settimeout(left)
                    chunk = response.raw.read1(8192, decode_content=True)
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        return response.status_code, b""
            except urllib3.exceptions.ReadTimeoutError as error:
                raise requests.Timeout(str(error)) from None
            except urllib3.exceptions.HTTPError as error:
                raise requests.ConnectionError(str(error)) from None
        return response.status_code, bytes(body)


def _new_session() -> requests.Session:
    """No cookie jar: a cookie set during one user's exchange must never ride along with the next."""
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


def _failed_to_connect(error: requests.ConnectionError) -> bool:
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _grant_from(status: int, body: bytes, attempts: int) -> AccessGrant:
    try:
        document = json.loads(body)
        parsed = True
    except ValueError:
        document, parsed = None, False
    provider_error = document.get("error") if isinstance(document, dict) else None
    if not (isinstance(provider_error, str) and OAUTH_ERROR_CODE.match(provider_error)):
        provider_error = None
    failure = None
    if 400 <= status < 500:
        failure = TokenFailure.GRANT_REFUSED if provider_error == "invalid_grant" else TokenFailure.REQUEST_REJECTED
    elif not 200 <= status < 300:
        failure = TokenFailure.PROVIDER_ERROR
    elif not parsed:
        failure = TokenFailure.NOT_JSON
    else:
        token = document.get("access_token") if isinstance(document, dict) else None
        if isinstance(token, str) and token.strip():
            return AccessGrant(access_token=token, expires_in=_seconds(document.get("expires_in")))
        failure = TokenFailure.NO_ACCESS_TOKEN
    raise TokenExchangeError(failure, http_status=status, provider_error=provider_error, attempts=attempts)


def _seconds(value: object) -> int | None:
    """`expires_in` as sent (Google: an integer); anything unusable is left out rather than guessed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    return None
