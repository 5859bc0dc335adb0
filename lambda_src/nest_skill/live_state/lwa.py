"""Login with Amazon for the event gateway: AcceptGrant's code exchanged for a user's token pair, and
the pair refreshed (developer.amazon.com/docs/smarthome/authenticate-a-customer-permissions.html;
`POST https://api.amazon.com/auth/o2/token`, form-encoded). The client is the skill's Alexa Skill
Messaging client, not the account-linking one.

The Alexa account a token pair belongs to is LWA's tokeninfo `user_id`
(developer.amazon.com/docs/login-with-amazon/obtain-customer-profile.html: `GET
https://api.amazon.com/auth/o2/tokeninfo?access_token=…` answers `aud`, the client the token was issued
to, and `user_id`, "amzn1.account.…"), beside the token endpoint. The token goes in the query, as LWA
documents it; BoundedHttp never logs a URL."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from nest_skill.live_state.http import BoundedHttp, NoAnswer
from nest_skill.sdm_client import Deadline

TOKENINFO_PATH = "tokeninfo"
"""LWA's tokeninfo, beside its token endpoint (`…/auth/o2/token` -> `…/auth/o2/tokeninfo`)."""
MAX_USER_ID_CHARS = 256
REFRESH_AHEAD_S = 300.0
"""A token this close to its expiry is refreshed before use (as Home Assistant's alexa/auth.py)."""
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True)
class Credentials:
    """The skill's Alexa Skill Messaging client (SMAPI's skillMessagingCredentials)."""

    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret=<hidden>)"


@dataclass(frozen=True)
class Tokens:
    """One user's LWA token pair; `expires_at` in seconds since the epoch."""

    access_token: str
    refresh_token: str
    expires_at: float

    def usable(self, now: float) -> bool:
        """Whether the access token may be sent now: not within REFRESH_AHEAD_S of its expiry."""
        return now < self.expires_at - REFRESH_AHEAD_S

    def __repr__(self) -> str:
        return f"Tokens(expires_at={self.expires_at})"


class LwaError(Exception):
    """LWA did not give tokens. `lasting` when it will not for this grant again (`invalid_grant`:
    the code was used or expired, the refresh token was revoked: the user must link again)."""

    def __init__(self, message: str, lasting: bool):
        super().__init__(message)
        self.lasting = lasting


class LwaNoAccount(LwaError):
    """tokeninfo accepted the token as the messaging client's but named no Alexa account."""

    def __init__(self, message: str):
        super().__init__(message, lasting=False)


class Lwa:
    def __init__(
        self,
        http: BoundedHttp,
        token_url: str,
        credentials: Callable[[], Credentials],
        clock: Callable[[], float] = time.time,
    ):
        self._http = http
        self._url = token_url
        self._tokeninfo_url = token_url.rsplit("/", 1)[0] + "/" + TOKENINFO_PATH
        self._credentials = credentials
        self._clock = clock

    def exchange(self, code: str, deadline: Deadline) -> Tokens:
        """AcceptGrant's authorization code for the user's token pair."""
        return self._token("lwa authorization_code", {"grant_type": "authorization_code", "code": code}, deadline)

    def refresh(self, tokens: Tokens, deadline: Deadline) -> Tokens:
        """A new access token; the refresh token LWA returns, else the one it was given."""
        return self._token(
            "lwa refresh_token",
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            deadline,
            keep_refresh=tokens.refresh_token,
        )

    def account(self, tokens: Tokens, deadline: Deadline) -> str:
        """The Alexa account `tokens` were issued for (tokeninfo's `user_id`), once tokeninfo says the
        access token is this skill's (`aud` is the messaging client). Raises LwaNoAccount when
        tokeninfo answered so but named no account, LwaError (not lasting) for any other failure."""
        operation = "lwa tokeninfo"
        try:
            answer = self._http.get(
                operation, self._tokeninfo_url, deadline, params={"access_token": tokens.access_token}
            )
        except NoAnswer as error:
            raise LwaError(str(error), lasting=False) from None
        document = answer.document if isinstance(answer.document, dict) else {}
        if answer.status != 200:
            raise LwaError(f"{operation}: HTTP {answer.status} {str(document.get('error', ''))[:64]}", lasting=False)
        if document.get("aud") != self._credentials().client_id:
            raise LwaError(f"{operation}: the token was not issued to the messaging client", lasting=False)
        user_id = document.get("user_id")
        if not (isinstance(user_id, str) and 0 < len(user_id) <= MAX_USER_ID_CHARS and user_id.isprintable()):
            raise LwaNoAccount(f"{operation}: the answer names no Alexa account")
        return user_id

    def _token(
        self, operation: str, form: Mapping[str, str], deadline: Deadline, keep_refresh: str | None = None
    ) -> Tokens:
        credentials = self._credentials()
        try:
            answer = self._http.post(
                operation,
                self._url,
                deadline,
                form={**form, "client_id": credentials.client_id, "client_secret": credentials.client_secret},
            )
        except NoAnswer as error:
            raise LwaError(str(error), lasting=False) from None
        document = answer.document if isinstance(answer.document, dict) else {}
        if answer.status != 200:
            # RFC 6749 section 5.2: invalid_grant is the grant's own fault; anything else (invalid_client,
            # a 5xx, a throttle) is not the user's, and their tokens are kept.
            lasting = answer.status == 400 and document.get("error") == "invalid_grant"
            raise LwaError(f"{operation}: HTTP {answer.status} {str(document.get('error', ''))[:64]}", lasting)
        access, refresh, expires_in = (
            document.get("access_token"),
            document.get("refresh_token") or keep_refresh,
            document.get("expires_in"),
        )
        if not (
            isinstance(access, str)
            and isinstance(refresh, str)
            and _token(access)
            and _token(refresh)
            and isinstance(expires_in, (int, float))
            and not isinstance(expires_in, bool)
            and 0 < expires_in <= 86400
        ):
            raise LwaError(f"{operation}: the answer has no usable token pair", lasting=False)
        return Tokens(access_token=access, refresh_token=refresh, expires_at=self._clock() + float(expires_in))


def _token(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_CHARS and value.isprintable()
