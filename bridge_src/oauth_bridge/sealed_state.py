"""Alexa's state and redirect URI, carried through Google inside the bridge's own `state`.

Google returns `state` untouched. Signing it (HMAC-SHA256 with the secrets object's `statekey`) and
dating it means a callback can only send a token to the Alexa redirect URI that started the flow,
and only within MAX_AGE_S. The prefix tells a sealed state from one Alexa issued itself.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

PREFIX = "sealed1~"
MAX_AGE_S = 600
_SALT = "oauth-bridge/alexa-state"


@dataclass(frozen=True)
class AlexaReturn:
    """Where and with which state the user goes back to Alexa."""

    state: str
    redirect_uri: str


class StateRefused(Exception):
    """A sealed state that failed verification; `reason` is "expired" or "invalid"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_sealed(state: str) -> bool:
    return state.startswith(PREFIX)


class _ClockedSigner(TimestampSigner):
    """itsdangerous reads time.time(); this reads an injected wall clock so expiry is testable."""

    def __init__(self, *args: Any, wall_clock: Callable[[], float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wall_clock = wall_clock

    def get_timestamp(self) -> int:
        return int(self._wall_clock())


class StateSealer:
    def __init__(self, key: str, wall_clock: Callable[[], float] = time.time) -> None:
        self._serializer = URLSafeTimedSerializer(
            key, salt=_SALT, signer=_ClockedSigner,
            signer_kwargs={"digest_method": hashlib.sha256, "wall_clock": wall_clock},
        )

    def seal(self, alexa: AlexaReturn) -> str:
        return PREFIX + self._serializer.dumps({"s": alexa.state, "r": alexa.redirect_uri})

    def open(self, sealed: str) -> AlexaReturn:
        try:
            payload = self._serializer.loads(sealed.removeprefix(PREFIX), max_age=MAX_AGE_S)
        except SignatureExpired:
            raise StateRefused("expired") from None
        except BadData:
            raise StateRefused("invalid") from None
        if not (isinstance(payload, dict) and isinstance(payload.get("s"), str) and isinstance(payload.get("r"), str)):
            raise StateRefused("invalid")
        return AlexaReturn(state=payload["s"], redirect_uri=payload["r"])
