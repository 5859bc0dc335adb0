"""Who may push: Pub/Sub's push authentication (cloud.google.com/pubsub/docs/authenticate-push-subscriptions).

The events function's URL is public (Google cannot sign AWS requests), so the OIDC token Pub/Sub puts
in `Authorization: Bearer <JWT>` is the only authentication. It is refused unless:
- its header names RS256 and a key id (`alg: none`, HS256 and the rest are refused before any key is
  looked at);
- google-auth (`google.oauth2.id_token.verify_token`) finds its signature made by one of Google's keys
  (the x509 certificates at GOOGLE_CERTS_URL), its `iat`/`exp` current (RFC 7519, a minute of skew
  allowed, as Google's own verifiers do) and its `aud` the configured push audience;
- `iss` is Google's (`https://accounts.google.com` or `accounts.google.com`), `email` is the
  subscription's service account and `email_verified` is true.

Google's certificates are fetched once and kept across warm invocations for as long as their
Cache-Control max-age says (between MIN_CACHE_S and MAX_CACHE_S); a token whose key id the cached set
lacks (Google rotated its keys) refetches them, at most once per REFETCH_AFTER_S, so forged key ids
cannot make the function hammer Google.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import requests

log = logging.getLogger(__name__)

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = ("https://accounts.google.com", "accounts.google.com")
MAX_TOKEN_CHARS = 4096
"""A Pub/Sub OIDC token is about 1 KB; anything far longer is no Google token."""
CLOCK_SKEW_S = 60
MIN_CACHE_S = 60.0
MAX_CACHE_S = 24 * 3600.0
DEFAULT_CACHE_S = 3600.0
REFETCH_AFTER_S = 60.0
CERTS_TIMEOUT_S = (1.0, 2.0)
MAX_CERTS_BYTES = 64 * 1024
_MAX_AGE = re.compile(r"max-age=(\d+)")


class Refused(Exception):
    """The push is not from our subscription. `status` is 401 (no usable token) or 403 (a genuine
    Google token for someone else); `reason` is for the one log line, never the caller."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class KeysUnavailable(Exception):
    """Google's certificates could not be fetched: nothing is known about the token (answer 503)."""


@dataclass(frozen=True)
class _Response:
    """What google-auth's transport.Request returns: `status`, `headers`, `data`."""

    status: int
    headers: Mapping[str, str]
    data: bytes


class CachedCerts:
    """A google.auth.transport.Request for the certificates URL only, answering from a cache that
    lives as long as the warm container (google-auth fetches the certificates on every verify)."""

    def __init__(self, url: str, clock: Callable[[], float] = time.monotonic):
        self.url = url
        self._clock = clock
        self._lock = threading.Lock()
        self._data: bytes | None = None
        self._kids: frozenset[str] = frozenset()
        self._fresh_until = 0.0
        self._fetched_at = -REFETCH_AFTER_S
        self.fetches = 0
        session = requests.Session()
        session.trust_env = False
        self._session = session

    def ensure(self, kid: str) -> None:
        """Have certificates that may hold `kid`: the cached ones while fresh and holding it, else fetched."""
        with self._lock:
            now = self._clock()
            fresh = self._data is not None and now < self._fresh_until
            if fresh and (kid in self._kids or now - self._fetched_at < REFETCH_AFTER_S):
                return
            try:
                self._fetch(now)
            except KeysUnavailable:
                if self._data is None:
                    raise
                log.warning("google certificates refetch failed; keeping the cached ones")

    def _fetch(self, now: float) -> None:
        try:
            response = self._session.get(self.url, timeout=CERTS_TIMEOUT_S, allow_redirects=False, stream=True)
            data = response.raw.read(MAX_CERTS_BYTES + 1, decode_content=True)
            response.close()
        except (requests.RequestException, OSError):
            raise KeysUnavailable("certificates: no answer") from None
        if response.status_code != 200 or len(data) > MAX_CERTS_BYTES:
            raise KeysUnavailable(f"certificates: HTTP {response.status_code}")
        try:
            certs = json.loads(data)
        except ValueError:
            raise KeysUnavailable("certificates: not JSON") from None
        if not isinstance(certs, dict) or not certs or not all(isinstance(v, str) for v in certs.values()):
            raise KeysUnavailable("certificates: not a key id to PEM map")
        match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
        max_age = float(match.group(1)) if match else DEFAULT_CACHE_S
        self._data, self._kids = data, frozenset(certs)
        self._fresh_until = now + min(max(max_age, MIN_CACHE_S), MAX_CACHE_S)
        self._fetched_at = now
        self.fetches += 1

    def __call__(
        self, url: str, method: str = "GET", body: Any = None, headers: Any = None, timeout: Any = None, **kwargs: Any
    ) -> _Response:
        if url != self.url or method != "GET" or self._data is None:
            return _Response(404, {}, b"")
        return _Response(200, {"content-type": "application/json"}, self._data)


class PushVerifier:
    def __init__(
        self,
        audience: str,
        service_account: str,
        certs_url: str = GOOGLE_CERTS_URL,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.audience = audience
        self.service_account = service_account
        self.certs = CachedCerts(certs_url, clock)

    def verify(self, authorization: str | None) -> Mapping[str, Any]:
        """The token's claims; raises Refused, or KeysUnavailable when Google's keys cannot be had."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Refused(401, "no bearer token")
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise Refused(401, "not a JWT")
        header = _header(token)
        if header.get("alg") != "RS256":
            raise Refused(401, f"algorithm {str(header.get('alg'))[:16]!r} refused")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Refused(401, "no key id")
        self.certs.ensure(kid)
        from google.auth import exceptions, transport
        from google.oauth2 import id_token

        try:
            claims = id_token.verify_token(
                token,
                cast(transport.Request, self.certs),
                audience=self.audience,
                certs_url=self.certs.url,
                clock_skew_in_seconds=CLOCK_SKEW_S,
            )
        except (exceptions.GoogleAuthError, ValueError) as error:
            raise Refused(401, _reason(error)) from None
        if claims.get("iss") not in ISSUERS:
            raise Refused(403, "issuer is not Google")
        if claims.get("email") != self.service_account:
            raise Refused(403, "email is not the subscription's service account")
        if claims.get("email_verified") is not True:
            raise Refused(403, "email not verified")
        return claims


def _header(token: str) -> Mapping[str, Any]:
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError):
        raise Refused(401, "unreadable JWT header") from None
    if not isinstance(header, dict):
        raise Refused(401, "unreadable JWT header")
    return header


def _reason(error: Exception) -> str:
    """The check that failed, from google-auth's message; the message itself is never logged (some
    quote the token's segments or its audience, the caller's text)."""
    text = str(error)
    if "audience" in text:
        return "wrong audience"
    if "expired" in text.lower():
        return "token expired"
    if "early" in text.lower():
        return "token used too early"
    if "signature" in text.lower():
        return "signature not Google's"
    if "Certificate for key id" in text:
        return "unknown key id"
    return f"token refused ({type(error).__name__})"
