"""One event to one user's event gateway with the user's own LWA token: the skill's ChangeReports
(reporter.LiveState) and the events function's reports (nest_events.NestEvents) both send this way.

The token is refreshed first when it is within REFRESH_AHEAD_S of expiry (lwa.Tokens.usable); on
INVALID_ACCESS_TOKEN_EXCEPTION it is refreshed and the event sent once more; when LWA answers
`invalid_grant` or the gateway says the grant is gone (403, 404), the user's tokens are deleted and
they are marked re-link needed, with one log line. The outcome says whether sending again could
change anything (Delivery), which the events function turns into its answer to Pub/Sub.

The skill's messaging credentials (the LWA client) are read here too, once per container, from their
object in the home region's credentials bucket.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from nest_skill.live_state.gateway import Gateway, Outcome
from nest_skill.live_state.lwa import Credentials, Lwa, LwaError
from nest_skill.live_state.store import Link, TokenStore
from nest_skill.sdm_client import Deadline

log = logging.getLogger(__name__)


class Delivery(enum.Enum):
    ACCEPTED = "accepted"
    POINTLESS = "pointless"  # sending again would change nothing
    RETRY = "retry"  # may succeed later (gateway 5xx, 429 or no answer; LWA unavailable)


class Tally(Protocol):
    """What the sends of one change or event did; Sender adds to it."""

    accepted: int
    gateway_calls: int
    refreshes: int
    relink_needed: list[str]


class Sender:
    def __init__(
        self,
        tokens: TokenStore,
        lwa: Lwa,
        gateway: Gateway,
        clock: Callable[[], float],
        failure: str = "report failed",
    ):
        """`failure`: the log line of a send that failed (the front door's own words)."""
        self._tokens, self._lwa, self._gateway, self._clock = tokens, lwa, gateway, clock
        self._failure = failure

    def deliver(
        self,
        user: str,
        build: Callable[[str], dict[str, Any]],
        deadline: Deadline,
        tally: Tally,
        endpoint_id: str | None = None,
    ) -> tuple[Delivery, Link | None]:
        """Send `build(<the user's access token>)`; with `endpoint_id`, only while the user sees it.
        Raises StoreError when the token table fails."""
        link = self._tokens.load(user)
        if link is None or link.tokens is None or (endpoint_id is not None and endpoint_id not in link.endpoints):
            return Delivery.POINTLESS, link  # unlinked meanwhile, or re-link needed: nothing to send with
        retried = False
        while True:
            if retried or not link.tokens.usable(self._clock()):
                tally.refreshes += 1
                try:
                    tokens = self._lwa.refresh(link.tokens, deadline)
                except LwaError as error:
                    if error.lasting:
                        self._relink_needed(link, str(error), tally)
                        return Delivery.POINTLESS, link
                    log.warning(self._failure, extra={"reason": str(error)})
                    return Delivery.RETRY, link
                # Another request may have stored fresher tokens meanwhile: those are kept and used.
                link = self._tokens.refreshed(link, tokens)
                if link.tokens is None:
                    return Delivery.POINTLESS, link
            assert link.tokens is not None
            tally.gateway_calls += 1
            sent = self._gateway.send(link.region, link.tokens.access_token, build(link.tokens.access_token), deadline)
            if sent.outcome is Outcome.ACCEPTED:
                tally.accepted += 1
                return Delivery.ACCEPTED, link
            if sent.outcome is Outcome.TOKEN_REJECTED and not retried:
                retried = True
                continue
            if sent.outcome is Outcome.GRANT_GONE:
                self._relink_needed(link, f"gateway HTTP {sent.status} {sent.code}", tally)
                return Delivery.POINTLESS, link
            transient = sent.status is None or sent.status == 429 or sent.status >= 500
            log.warning(
                self._failure,
                extra={"gateway_status": sent.status, "gateway_code": sent.code, "redelivery": transient},
            )
            # A fresh token refused twice, or the event itself refused (400, 413): the same again would be too.
            return (Delivery.RETRY if transient else Delivery.POINTLESS), link

    def _relink_needed(self, link: Link, reason: str, tally: Tally) -> None:
        if self._tokens.forget(link):
            tally.relink_needed.append(link.user)
            log.warning(
                "live state stopped for a user: re-link needed", extra={"reason": reason, "alexa_region": link.region}
            )


class MessagingCredentials:
    """The skill's Alexa Skill Messaging credentials, read once per container from their object (the
    stacks give both functions the same bucket and key), or from `source` (tests, the sandbox)."""

    def __init__(self, region: str, bucket: str, key: str, source: Callable[[], Credentials] | None = None):
        self._region, self._bucket, self._key = region, bucket, key
        self._source = source or self._read
        self._credentials: Credentials | None = None

    def __call__(self) -> Credentials:
        if self._credentials is None:
            self._credentials = self._source()
        return self._credentials

    def _read(self) -> Credentials:
        import boto3
        from botocore.config import Config

        s3 = boto3.client(
            "s3",
            config=Config(
                region_name=self._region, connect_timeout=1.0, read_timeout=1.5, retries={"total_max_attempts": 1}
            ),
        )
        try:
            document = json.loads(s3.get_object(Bucket=self._bucket, Key=self._key)["Body"].read())
            return Credentials(client_id=str(document["clientId"]), client_secret=str(document["clientSecret"]))
        except Exception as error:  # botocore's, a malformed object: either way no credentials
            raise LwaError(f"messaging credentials unreadable: {type(error).__name__}", lasting=False) from None
