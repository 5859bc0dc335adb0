"""Alexa's state and redirect URI, carried through Google inside the bridge's own `state`, bound to the
browser that started the flow.

Google returns `state` untouched. Signing it (HMAC-SHA256 with the secrets object's `statekey`) and
dating it means a callback can only send a token to the Alexa redirect URI that started the flow, and
only within MAX_AGE_S. The state also carries the SHA-256 of a random nonce that only the starting
browser holds, in an HttpOnly cookie: the binding to the user agent that RFC 9700 §4.7.1 (OAuth 2.0
Security Best Current Practice, CSRF) asks of a client. The state is signed, not encrypted: the hash,
never the nonce, is in it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

PREFIX = "sealed2~"
"""Format marker: `sealed1~` states (no browser binding) from before this version are refused."""
MAX_AGE_S = 600
_SALT = "oauth-bridge/alexa-state"


@dataclass(frozen=True)
class AlexaReturn:
    """Where and with which state the user goes back to Alexa, and the hash of the flow's browser nonce."""

    state: str
    redirect_uri: str
    binding: str

    def bound_to(self, nonce: str | None) -> bool:
        """True when `nonce` (the flow cookie's value) is the one this state was sealed for."""
        return nonce is not None and hmac.compare_digest(binding_of(nonce), self.binding)


class StateRefused(Exception):
    """A state that failed verification; `reason` is "unsealed" (not the bridge's at all, such as a state
    Alexa issued itself), "expired" or "invalid". An expired state is authentic (its signature holds):
    `expired_flow` is what it carries, so the failure can still go back to Alexa."""

    def __init__(self, reason: str, expired_flow: AlexaReturn | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired_flow = expired_flow


def new_nonce() -> str:
    """128 random bits, URL-safe: the flow cookie's value."""
    return secrets.token_urlsafe(16)


def binding_of(nonce: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(nonce.encode()).digest()).decode().rstrip("=")


class _ClockedSigner(TimestampSigner):
    """itsdangerous reads time.time(); this reads an injected wall clock so expiry is testable."""

    def __init__(self, *args: Any, wall_clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wall_clock = wall_clock

    def get_timestamp(self) -> int:
        return int(self._wall_clock())


def _serializer(key: str, wall_clock: Callable[[], float]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        key,
        salt=_SALT,
        signer=_ClockedSigner,
        signer_kwargs={"digest_method": hashlib.sha256, "wall_clock": wall_clock},
    )


def _alexa_return(payload: object) -> AlexaReturn | None:
    if isinstance(payload, dict) and all(isinstance(payload.get(name), str) for name in ("s", "r", "b")):
        return AlexaReturn(state=payload["s"], redirect_uri=payload["r"], binding=payload["b"])
    return None


def unverified(sealed: str) -> AlexaReturn | None:
    """The payload without checking signature or age, for when the state key cannot be read at all.

    Only ever used to send an error (never a token) to an allow-listed Alexa URL, from the browser that
    holds the flow's nonce; None when it does not even parse."""
    if not sealed.startswith(PREFIX):
        return None
    try:
        _, payload = _serializer("unknown", time.time).loads_unsafe(sealed.removeprefix(PREFIX))
    except (BadData, ValueError, RecursionError):
        return None
    return _alexa_return(payload)


class StateSealer:
    def __init__(self, key: str, wall_clock: Callable[[], float] = time.time) -> None:
        self._serializer = _serializer(key, wall_clock)

    def seal(self, alexa: AlexaReturn) -> str:
        return PREFIX + self._serializer.dumps({"s": alexa.state, "r": alexa.redirect_uri, "b": alexa.binding})

    def open(self, sealed: str) -> AlexaReturn:
        """Raises StateRefused: "unsealed" without the prefix, "expired" after MAX_AGE_S (itsdangerous checks
        the signature before the age, so an expired state is one this key sealed), "invalid" for anything else
        this key did not seal."""
        if not sealed.startswith(PREFIX):
            raise StateRefused("unsealed")
        try:
            payload = self._serializer.loads(sealed.removeprefix(PREFIX), max_age=MAX_AGE_S)
        except SignatureExpired as expired:
            signed = expired.payload  # the signed bytes, set whenever the signature held
            try:
                flow = _alexa_return(self._serializer.load_payload(signed)) if isinstance(signed, bytes) else None
            except BadData:
                flow = None
            raise StateRefused("expired" if flow else "invalid", flow) from None
        except BadData:
            raise StateRefused("invalid") from None
        alexa = _alexa_return(payload)
        if alexa is None:
            raise StateRefused("invalid")
        return alexa
