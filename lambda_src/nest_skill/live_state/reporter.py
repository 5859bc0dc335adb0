"""AcceptGrant and ChangeReports over the token store, LWA and the gateway, each bounded by the
request's deadline.

AcceptGrant (`accept_grant`): the user's thermostats are listed with Alexa's grantee token (their
Google token) and the Google account behind it is asked of Google's tokeninfo (`sub`; Amazon: "use
the token to identify the customer in your system"), both before the code is spent; LWA exchanges the
code, and the user is the Alexa account LWA names for the tokens it gave (tokeninfo's `user_id`): an
Alexa account that links again replaces its own item, and two Alexa accounts linked to one Google
account have an item each, both reported to. The Google account is stored beside it, for Discover,
which carries only that token. Without the Google account (Google's tokeninfo failed or named none)
the user is linked all the same; when LWA's tokeninfo accepts the token but names no Alexa account,
the user is keyed by the Google account; any other failure of LWA's tokeninfo, or both accounts
unnamed, fails AcceptGrant.

A listing with the user's Google token (AcceptGrant's, and Discover's with live state on) is also
stored as each thermostat's complete state (device_states.DeviceStates.seed), which the events
function reports Nest's own events from; a listing that cannot be stored in time is left for the
next one and never changes the answer.

Discover (`listed`) also makes the user's endpoints, those their changes are reported for, the ones
Alexa was just given (store.TokenStore.reconcile): a thermostat shared with them or replaced after
they linked is reported from then on, one Alexa no longer has is not. Only for a user who linked with
AcceptGrant; within the deadline, and never changing the answer either. A discovery names a Google
account, not an Alexa one: when several Alexa accounts are linked to that Google account, nothing
tells whose discovery it is, so none of their lists is changed (each keeps the list of its own
linking) rather than one being given thermostats its Alexa account may not have.

A change (`report_change`): each user who sees the endpoint gets one ChangeReport on their own
region's gateway with their own token (sender.Sender: refreshed ahead of expiry, refreshed and sent
once more on INVALID_ACCESS_TOKEN_EXCEPTION, the user marked re-link needed when the grant is gone).
A report never raises: the user's answer is already decided.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nest_skill.controls import Change
from nest_skill.live_state.config import LiveStateConfig
from nest_skill.live_state.device_states import DeviceStates
from nest_skill.live_state.gateway import Gateway
from nest_skill.live_state.http import BoundedHttp, NoAnswer
from nest_skill.live_state.lwa import Credentials, Lwa, LwaError, LwaNoAccount
from nest_skill.live_state.sender import MessagingCredentials, Sender
from nest_skill.live_state.store import (
    AWS_CALL_MAX_S,
    NOT_LINKED,
    Link,
    StoreError,
    TokenStore,
    aws_calls_by,
    shared_aws_clients,
)
from nest_skill.sdm_client import DEVICE_CACHE_TTL_S, Deadline, SdmClient, SdmError
from nest_skill.smart_home import endpoints
from nest_skill.smart_home.messages import Property, change_report
from nest_skill.thermostats import thermostats_in

log = logging.getLogger(__name__)

REPORT_BUDGET_S = 1.5
"""The most a change's reports may add to the user's answer, within the request's own deadline."""
VOICE_INTERACTION = "VOICE_INTERACTION"
SEED_MIN_REMAINING_S = AWS_CALL_MAX_S
"""A listing is stored, and the user's endpoints reconciled with it, only while the request's
deadline leaves time for one AWS call: their writes come after the answer is decided, and each
starts only while it can end by the deadline (store.aws_calls_by)."""
MAX_KNOWN_ACCOUNTS = 64
"""Google accounts remembered per container by a hash of their access token, so a Discover within
the token's hour asks tokeninfo once."""
SEVERAL_ALEXA_ACCOUNTS = "several Alexa accounts are linked to this Google account"
GOOGLE_ACCOUNT_BUDGET_S = 1.0
"""The most AcceptGrant waits for Google's tokeninfo, which it can do without: the rest of the
deadline is the code exchange's and the writes'."""


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


def user_key(alexa_user_id: str) -> str:
    """The table's user key: a hash of the Alexa account's LWA `user_id`, never the ID itself."""
    return hashlib.sha256(f"alexa:{alexa_user_id}".encode()).hexdigest()[:40]


def google_key(google_sub: str) -> str:
    """The table's key for a Google account: a hash of its `sub`, never the `sub` itself."""
    return hashlib.sha256(f"google:{google_sub}".encode()).hexdigest()[:40]


def changed_properties(change: Change, now: float) -> tuple[list[Property], list[Property]]:
    """The endpoint's properties after `change`, as ReportState and Alexa.Response report them
    (endpoints.state), split into those whose value the change altered and the rest."""
    before = {(p.namespace, p.name): p.value for p in endpoints.state(change.thermostat, now, uncertainty_ms=0)}
    after = endpoints.state(change.thermostat, now, uncertainty_ms=0, mode=change.mode, setpoints=change.setpoints)
    changed = [p for p in after if before.get((p.namespace, p.name)) != p.value]
    return changed, [p for p in after if p not in changed]


class LiveState:
    def __init__(
        self,
        config: LiveStateConfig,
        sdm: SdmClient,
        *,
        http: BoundedHttp | None = None,
        clients: Callable[[], tuple[Any, Any]] | None = None,
        credentials: Callable[[], Credentials] | None = None,
        tokeninfo_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._config = config
        self._sdm = sdm
        self._http = http or BoundedHttp()
        self._clock = clock
        self._tokeninfo_url = tokeninfo_url or config.tokeninfo_url
        aws = shared_aws_clients(config.region, clients)
        self._store = TokenStore(config.table, config.key_id, aws)
        self._states = DeviceStates(config.table, aws, clock)
        messaging = MessagingCredentials(
            config.region, config.credentials_bucket, config.credentials_object, credentials
        )
        self._lwa = Lwa(self._http, config.lwa_token_url, messaging, clock)
        self._sender = Sender(
            self._store, self._lwa, Gateway(self._http, config.gateway_urls), clock, failure="change report failed"
        )
        self._accounts: dict[str, str] = {}

    @property
    def store(self) -> TokenStore:
        return self._store

    @property
    def states(self) -> DeviceStates:
        return self._states

    # -- AcceptGrant ------------------------------------------------------------------------------

    def accept_grant(self, code: str, grantee_token: str, deadline: Deadline) -> Link:
        """_accept_grant, with each AWS call started only while it can end by `deadline`."""
        with aws_calls_by(deadline):
            return self._accept_grant(code, grantee_token, deadline)

    def _accept_grant(self, code: str, grantee_token: str, deadline: Deadline) -> Link:
        """Raises AcceptGrantFailed naming the step that failed. Every check that needs no grant code
        comes before the code is spent. A Google account tokeninfo does not name leaves the user
        linked without `google` (their discoveries then change no list); a token LWA's tokeninfo
        accepts without naming its Alexa account makes the user their Google account (so, as one
        user, the Alexa accounts linked to it get reports only through the last of them to link):
        one warning says which."""
        try:
            devices = self._sdm.list_devices(grantee_token, deadline)
            listed_at = self._clock() - DEVICE_CACHE_TTL_S  # read this long ago at the most (the warm cache)
            thermostats = thermostats_in(devices)
            try:
                google: str | None = self._google(
                    grantee_token, Deadline(min(deadline.remaining(), GOOGLE_ACCOUNT_BUDGET_S))
                )
            except AcceptGrantFailed as error:
                log.warning("accept grant without google account", extra={"reason": str(error)})
                google = None
            if deadline.remaining() < AWS_CALL_MAX_S:  # the writes could not start: keep the code unspent
                raise AcceptGrantFailed("deadline: no time left to store the tokens")
            tokens = self._lwa.exchange(code, deadline)
            try:
                user = user_key(self._lwa.account(tokens, deadline))
            except LwaNoAccount as error:
                if google is None:
                    raise
                log.warning("accept grant keyed by google account", extra={"reason": str(error)})
                user = google
            link = self._store.link(
                user, self._config.alexa_region, [endpoints.endpoint_id(t) for t in thermostats], tokens, google
            )
        except (LwaError, StoreError, SdmError) as error:
            raise AcceptGrantFailed(f"{type(error).__name__}: {error}") from None
        log.info("accept grant stored", extra={"alexa_region": link.region, "endpoints": len(link.endpoints)})
        self._seed(user, devices, listed_at, deadline, google)
        return link

    def listed(
        self, google_token: str, devices: Sequence[Mapping[str, Any]], discovered: Sequence[str], deadline: Deadline
    ) -> None:
        """_listed, with each AWS call started only while it can end by `deadline`."""
        with aws_calls_by(deadline):
            self._listed(google_token, devices, discovered, deadline)

    def _listed(
        self, google_token: str, devices: Sequence[Mapping[str, Any]], discovered: Sequence[str], deadline: Deadline
    ) -> None:
        """A device listing read with `google_token` (Discover's, from the warm cache at most
        DEVICE_CACHE_TTL_S old) and the endpointIds Discover answered with from it: the user's
        endpoints made those, then the thermostats' complete state stored. Never raises."""
        listed_at = self._clock() - DEVICE_CACHE_TTL_S
        if deadline.remaining() < SEED_MIN_REMAINING_S:
            log.warning("discovery not stored", extra={"reason": "deadline"})
            return
        try:
            google = self._google(google_token, deadline)
            users = self._store.linked_to(google)
        except (AcceptGrantFailed, StoreError) as error:
            log.warning("discovery not stored", extra={"reason": str(error)})
            return
        if not users:
            log.info("endpoints not reconciled", extra={"reason": NOT_LINKED})
        elif len(users) > 1:
            log.info("endpoints not reconciled", extra={"reason": SEVERAL_ALEXA_ACCOUNTS, "users": len(users)})
            self._seed(None, devices, listed_at, deadline, google)
        elif self._reconcile(users[0], google, discovered, deadline):
            self._seed(users[0], devices, listed_at, deadline, google)

    def _reconcile(self, user: str, google: str, discovered: Sequence[str], deadline: Deadline) -> bool:
        """Make the user's endpoints those Discover answered with. False when the user never linked
        for events (or must link again): then nothing about them is stored, device states included."""
        if deadline.remaining() < SEED_MIN_REMAINING_S:
            log.warning("endpoints not reconciled", extra={"reason": "deadline"})
            return True
        try:
            done = self._store.reconcile(user, discovered, google)
        except StoreError as error:
            log.warning("endpoints not reconciled", extra={"reason": str(error)})
            return True
        if done.skipped:
            log.info("endpoints not reconciled", extra={"reason": done.skipped})
        elif done.added or done.removed:
            log.info("endpoints reconciled", extra={"listed": len(done.added), "unlisted": len(done.removed)})
        return done.skipped != NOT_LINKED

    def _seed(
        self,
        user: str | None,
        devices: Sequence[Mapping[str, Any]],
        listed_at: float,
        deadline: Deadline,
        google: str | None,
    ) -> None:
        if deadline.remaining() < SEED_MIN_REMAINING_S:
            log.warning("device states not stored", extra={"reason": "deadline"})
            return
        listing = [
            (endpoints.endpoint_id(t), device, t.structure) for device in devices for t in thermostats_in([device])
        ]
        try:
            self._states.seed(user, listing, listed_at, google=google)
        except StoreError as error:
            log.warning("device states not stored", extra={"reason": str(error)})

    def _google(self, google_token: str, deadline: Deadline) -> str:
        """The table's key of the Google account behind `google_token` (remembered per container)."""
        token_hash = hashlib.sha256(google_token.encode()).hexdigest()
        google = self._accounts.get(token_hash)
        if google is None:
            google = google_key(self._google_sub(google_token, deadline))
            if len(self._accounts) >= MAX_KNOWN_ACCOUNTS:
                self._accounts.pop(next(iter(self._accounts)))
            self._accounts[token_hash] = google
        return google

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
                self._sender.deliver(
                    user,
                    lambda token: change_report(endpoint_id, token, cause, changed, unchanged),
                    deadline,
                    result,
                    endpoint_id,
                )
            except StoreError as error:
                log.warning("change report failed", extra={"reason": str(error)})
        return result
