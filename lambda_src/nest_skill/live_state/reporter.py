"""AcceptGrant and ChangeReports over the token store, LWA and the gateway, each bounded by the
request's deadline.

AcceptGrant (`accept_grant`): the user is the Google account behind Alexa's grantee token (Amazon:
"use the token to identify the customer in your system"; Google's tokeninfo gives its `sub`), their
thermostats are listed with the same token, LWA exchanges the code, and the user's item is replaced.

A change (`report_change`): each user who sees the endpoint gets one ChangeReport on their own
region's gateway with their own token: refreshed first when within REFRESH_AHEAD_S of expiry; on
INVALID_ACCESS_TOKEN_EXCEPTION refreshed and sent once more; when LWA says `invalid_grant` or the
gateway says the grant is gone (403, 404), their tokens are deleted and they are marked re-link
needed, with one log line. A report never raises: the user's answer is already decided.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nest_skill.controls import Change
from nest_skill.live_state.config import LiveStateConfig
from nest_skill.live_state.gateway import Gateway, Outcome
from nest_skill.live_state.http import BoundedHttp, NoAnswer
from nest_skill.live_state.lwa import Credentials, Lwa, LwaError
from nest_skill.live_state.store import Link, StoreError, TokenStore, aws_clients
from nest_skill.sdm_client import Deadline, SdmClient, SdmError
from nest_skill.smart_home import endpoints
from nest_skill.smart_home.messages import Property, change_report
from nest_skill.thermostats import thermostats_in

log = logging.getLogger(__name__)

REPORT_BUDGET_S = 1.5
"""The most a change's reports may add to the user's answer, within the request's own deadline."""
VOICE_INTERACTION = "VOICE_INTERACTION"


class AcceptGrantFailed(Exception):
    """AcceptGrant could not be completed; the message names the step, never a code or token."""


@dataclass
class ReportResult:
    """What one change's reports did: users reported to, gateway calls and LWA refreshes made."""

    users: int = 0
    accepted: int = 0
    gateway_calls: int = 0
    refreshes: int = 0
    relink_needed: list[str] = field(default_factory=list)


def user_key(google_sub: str) -> str:
    """The table's user key: a hash of the Google account's `sub`, never the `sub` itself."""
    return hashlib.sha256(f"google:{google_sub}".encode()).hexdigest()[:40]


def changed_properties(change: Change, now: float) -> tuple[list[Property], list[Property]]:
    """The endpoint's properties after `change`, as ReportState and Alexa.Response report them
    (endpoints.state), split into those whose value the change altered and the rest."""
    before = {(p.namespace, p.name): p.value for p in endpoints.state(change.thermostat, now, uncertainty_ms=0)}
    after = endpoints.state(change.thermostat, now, uncertainty_ms=0, mode=change.mode, setpoints=change.setpoints)
    changed = [p for p in after if before.get((p.namespace, p.name)) != p.value]
    return changed, [p for p in after if p not in changed]


class LiveState:
    def __init__(self, config: LiveStateConfig, sdm: SdmClient, *, http: BoundedHttp | None = None,
                 clients: Callable[[], tuple[Any, Any]] | None = None,
                 credentials: Callable[[], Credentials] | None = None,
                 tokeninfo_url: str | None = None, clock: Callable[[], float] = time.time):
        self._config = config
        self._sdm = sdm
        self._http = http or BoundedHttp()
        self._clock = clock
        self._tokeninfo_url = tokeninfo_url or config.tokeninfo_url
        self._store = TokenStore(config.table, config.key_id, clients or (lambda: aws_clients(config.region)))
        self._credentials_source = credentials
        self._credentials: Credentials | None = None
        self._lwa = Lwa(self._http, config.lwa_token_url, self._messaging_credentials, clock)
        self._gateway = Gateway(self._http, config.gateway_urls)

    @property
    def store(self) -> TokenStore:
        return self._store

    # -- AcceptGrant ------------------------------------------------------------------------------

    def accept_grant(self, code: str, grantee_token: str, deadline: Deadline) -> Link:
        """Raises AcceptGrantFailed naming the step that failed."""
        try:
            user = user_key(self._google_sub(grantee_token, deadline))
            thermostats = thermostats_in(self._sdm.list_devices(grantee_token, deadline))
            tokens = self._lwa.exchange(code, deadline)
            link = self._store.link(user, self._config.alexa_region,
                                    [endpoints.endpoint_id(t) for t in thermostats], tokens)
        except (LwaError, StoreError, SdmError, AcceptGrantFailed) as error:
            raise AcceptGrantFailed(f"{type(error).__name__}: {error}") from None
        log.info("accept grant stored", extra={"alexa_region": link.region, "endpoints": len(link.endpoints)})
        return link

    def _google_sub(self, token: str, deadline: Deadline) -> str:
        """The Google account behind `token` (tokeninfo's `sub`); the token goes in the body, not the URL."""
        try:
            answer = self._http.post("google tokeninfo", self._tokeninfo_url, deadline, form={"access_token": token})
        except NoAnswer as error:
            raise AcceptGrantFailed(str(error)) from None
        sub = answer.document.get("sub") if isinstance(answer.document, dict) else None
        if answer.status != 200 or not isinstance(sub, str) or not sub:
            raise AcceptGrantFailed(f"google tokeninfo: HTTP {answer.status}, no account")
        return sub

    def _messaging_credentials(self) -> Credentials:
        """The skill's messaging credentials, read once per container from the secrets bucket."""
        if self._credentials is None:
            source = self._credentials_source or self._read_credentials
            self._credentials = source()
        return self._credentials

    def _read_credentials(self) -> Credentials:
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]

        s3 = boto3.client("s3", config=Config(region_name=self._config.region, connect_timeout=1.0,
                                              read_timeout=1.5, retries={"total_max_attempts": 1}))
        try:
            body = s3.get_object(Bucket=self._config.credentials_bucket,
                                 Key=self._config.credentials_object)["Body"].read()
            document = json.loads(body)
            return Credentials(client_id=str(document["clientId"]), client_secret=str(document["clientSecret"]))
        except Exception as error:  # noqa: BLE001 - botocore's, a malformed object: either way no credentials
            raise LwaError(f"messaging credentials unreadable: {type(error).__name__}", lasting=False) from None

    # -- ChangeReports ----------------------------------------------------------------------------

    def report_change(self, change: Change, deadline: Deadline, cause: str = VOICE_INTERACTION) -> ReportResult:
        """One ChangeReport per user who sees the changed endpoint; nothing when no reported property
        changed (a fan timer, a setpoint set to what it was). Never raises."""
        result = ReportResult()
        changed, unchanged = changed_properties(change, self._clock())
        if not changed:
            return result
        endpoint_id = endpoints.endpoint_id(change.thermostat)
        try:
            users = self._store.users_for(endpoint_id)
        except StoreError as error:
            log.warning("change report skipped", extra={"reason": str(error)})
            return result
        for user in users:
            if deadline.remaining() <= 0:
                log.warning("change report skipped", extra={"reason": "deadline"})
                break
            result.users += 1
            try:
                self._report_to(user, endpoint_id, cause, changed, unchanged, deadline, result)
            except StoreError as error:
                log.warning("change report failed", extra={"reason": str(error)})
        return result

    def _report_to(self, user: str, endpoint_id: str, cause: str, changed: Sequence[Property],
                   unchanged: Sequence[Property], deadline: Deadline, result: ReportResult) -> None:
        link = self._store.load(user)
        if link is None or link.tokens is None or endpoint_id not in link.endpoints:
            return  # unlinked meanwhile, or re-link needed: nothing to send with
        retried = False
        while True:
            if not link.tokens.usable(self._clock()) or retried:
                link = self._refresh(link, deadline, result, force=retried)
                if link is None:
                    return
            assert link.tokens is not None
            result.gateway_calls += 1
            sent = self._gateway.send(link.region, link.tokens.access_token,
                                      change_report(endpoint_id, link.tokens.access_token, cause, changed, unchanged),
                                      deadline)
            if sent.outcome is Outcome.ACCEPTED:
                result.accepted += 1
                return
            if sent.outcome is Outcome.TOKEN_REJECTED and not retried:
                retried = True
                continue
            if sent.outcome is Outcome.GRANT_GONE:
                self._relink_needed(link, f"gateway HTTP {sent.status} {sent.code}", result)
                return
            log.warning("change report failed", extra={"gateway_status": sent.status, "gateway_code": sent.code})
            return

    def _refresh(self, link: Link, deadline: Deadline, result: ReportResult, force: bool) -> Link | None:
        """Fresh tokens for `link`: those another request stored meanwhile when they are usable (and
        this is not a retry after the gateway refused them), else LWA's. None when there are none."""
        assert link.tokens is not None
        result.refreshes += 1
        try:
            tokens = self._lwa.refresh(link.tokens, deadline)
        except LwaError as error:
            if error.lasting:
                self._relink_needed(link, str(error), result)
            else:
                log.warning("change report failed", extra={"reason": str(error)})
            return None
        stored = self._store.refreshed(link, tokens)
        return stored if stored.tokens is not None else None

    def _relink_needed(self, link: Link, reason: str, result: ReportResult) -> None:
        if self._store.forget(link):
            result.relink_needed.append(link.user)
            log.warning("live state stopped for a user: re-link needed",
                        extra={"reason": reason, "alexa_region": link.region})
