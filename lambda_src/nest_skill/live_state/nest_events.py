"""Nest's own events (SDM through a Cloud Pub/Sub push subscription) as Alexa ChangeReports and
discovery updates: the events function's whole work, from the function URL's request to its answer.

A push (Lambda function URL, payload format 2.0) is answered:
- 405 to anything but POST, 413 to a body over MAX_BODY_BYTES, 401/403 with an empty body to a token
  push_auth refuses (one log line each, nothing read past the token);
- 204 once the event is applied and every report it needs was accepted by the gateway or is known
  to be pointless (no user sees the device, a user must re-link, the gateway refused the event
  itself); also to a message that is no SDM event (redelivering it would change nothing);
- 503 when something that may pass failed (gateway 5xx or 429 or no answer, LWA unavailable,
  DynamoDB or KMS failing or throttled, Google's keys unavailable, the deadline reached): Pub/Sub
  redelivers with backoff, and the event is applied again from the state before it.
Every answer comes before the subscription's acknowledgement deadline (ACK_DEADLINE_S, 10 s by
default, as Pub/Sub's): all calls share one Deadline that ends DEADLINE_MARGIN_S before it.

Reported (SDM events say neither who nor what made a change): a setting (mode, setpoint, eco) with
cause APP_INTERACTION, a reading (room temperature, connectivity) with PERIODIC_POLL (Amazon's
definition: a change found by polling the device, its example a temperature sensor's). Only what
Alexa would show differently is sent: endpoints.state() of the device before and after the event,
each temperature at the thermostat's display resolution, compared property by property.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nest_skill.config import ConfigError
from nest_skill.live_state.config import GATEWAY_URLS, LWA_TOKEN_URL, _url
from nest_skill.live_state.device_states import TRAIT, DeviceState, DeviceStates
from nest_skill.live_state.gateway import Gateway
from nest_skill.live_state.http import BoundedHttp
from nest_skill.live_state.lwa import Credentials, Lwa
from nest_skill.live_state.push_auth import GOOGLE_CERTS_URL, KeysUnavailable, PushVerifier, Refused
from nest_skill.live_state.sender import Delivery, MessagingCredentials, Sender
from nest_skill.live_state.store import StoreError, TokenStore, shared_aws_clients
from nest_skill.sdm_client import Deadline
from nest_skill.smart_home import endpoints
from nest_skill.smart_home.messages import Property, change_report, event
from nest_skill.thermostats import Thermostat

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""Pub/Sub allows 10 MB, but an SDM event is a few hundred bytes to about 3 KB (a thermostat's every
trait; a combined event a few of them), base64-wrapped in Pub/Sub's envelope: 64 KiB is many times
any real push, and bounds what an unauthenticated caller can make the function read."""
ACK_DEADLINE_S = 10.0
"""Pub/Sub's default acknowledgement deadline for a push subscription (10 to 600 s may be set)."""
DEADLINE_MARGIN_S = 1.0
APP_INTERACTION = "APP_INTERACTION"
PERIODIC_POLL = "PERIODIC_POLL"
_SETTINGS = frozenset({"thermostatMode", "targetSetpoint", "lowerSetpoint", "upperSetpoint"})
_DEVICE = re.compile(r"^enterprises/[^/]+/devices/[^/]+$")
_STRUCTURE = re.compile(r"^(enterprises/[^/]+/structures/[^/]+)(/rooms/[^/]+)?$")
_MAX_EVENT_ID_CHARS = 128


@dataclass(frozen=True)
class EventsConfig:
    table: str
    key_id: str
    region: str
    credentials_bucket: str
    credentials_object: str
    audience: str
    service_account: str
    certs_url: str = GOOGLE_CERTS_URL
    ack_deadline_s: float = ACK_DEADLINE_S
    lwa_token_url: str = LWA_TOKEN_URL
    gateway_urls: Mapping[str, str] = field(default_factory=lambda: dict(GATEWAY_URLS))

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> EventsConfig:
        """ConfigError naming the variable that is missing or unusable. PUSH_AUDIENCE and
        PUSH_SERVICE_ACCOUNT are the subscription's push authentication; ACK_DEADLINE_S its deadline;
        GOOGLE_CERTS_URL, LWA_TOKEN_URL and EVENT_GATEWAY_URL_* replace Google's and Amazon's hosts
        in the sandbox only."""
        values = {}
        for name in (
            "LIVE_STATE_TABLE",
            "LIVE_STATE_KEY",
            "LIVE_STATE_REGION",
            "MESSAGING_CREDENTIALS_BUCKET",
            "MESSAGING_CREDENTIALS_OBJECT",
            "PUSH_AUDIENCE",
            "PUSH_SERVICE_ACCOUNT",
        ):
            values[name] = env.get(name, "").strip()
            if not values[name]:
                raise ConfigError(f"{name} is not set: the events function needs it")
        if "@" not in values["PUSH_SERVICE_ACCOUNT"]:
            raise ConfigError("PUSH_SERVICE_ACCOUNT: expected the service account's email")
        try:
            deadline = float(env.get("ACK_DEADLINE_S", "").strip() or ACK_DEADLINE_S)
        except ValueError:
            raise ConfigError("ACK_DEADLINE_S: expected seconds (10 to 600)") from None
        if not 10 <= deadline <= 600:
            raise ConfigError("ACK_DEADLINE_S: Pub/Sub takes 10 to 600 seconds")
        return cls(
            table=values["LIVE_STATE_TABLE"],
            key_id=values["LIVE_STATE_KEY"],
            region=values["LIVE_STATE_REGION"],
            credentials_bucket=values["MESSAGING_CREDENTIALS_BUCKET"],
            credentials_object=values["MESSAGING_CREDENTIALS_OBJECT"],
            audience=values["PUSH_AUDIENCE"],
            service_account=values["PUSH_SERVICE_ACCOUNT"],
            certs_url=_url("GOOGLE_CERTS_URL", env, GOOGLE_CERTS_URL),
            ack_deadline_s=deadline,
            lwa_token_url=_url("LWA_TOKEN_URL", env, LWA_TOKEN_URL),
            gateway_urls={
                region: _url(f"EVENT_GATEWAY_URL_{region}", env, default) for region, default in GATEWAY_URLS.items()
            },
        )


@dataclass
class Applied:
    """What one push did (sender.Tally: the sends' counts)."""

    status: int
    reason: str
    accepted: int = 0
    gateway_calls: int = 0
    refreshes: int = 0
    relink_needed: list[str] = field(default_factory=list)


def add_or_update_report(scope_token: str, endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """`Alexa.Discovery.AddOrUpdateReport` (developer.amazon.com/docs/device-apis/alexa-discovery.html):
    the endpoint as discovery describes it, the user's LWA token in `payload.scope`."""
    return event(
        "Alexa.Discovery",
        "AddOrUpdateReport",
        None,
        {"endpoints": [dict(endpoint)], "scope": {"type": "BearerToken", "token": scope_token}},
    )


def delete_report(scope_token: str, endpoint_id: str) -> dict[str, Any]:
    """`Alexa.Discovery.DeleteReport`: the endpoint named by its id, the user's LWA token in `payload.scope`."""
    return event(
        "Alexa.Discovery",
        "DeleteReport",
        None,
        {"endpoints": [{"endpointId": endpoint_id}], "scope": {"type": "BearerToken", "token": scope_token}},
    )


def endpoint_id_of(device_name: str) -> str:
    """The endpointId discovery gives the device named `device_name`."""
    return endpoints.endpoint_id(Thermostat.from_sdm({"name": device_name}))


def sdm_timestamp(value: Any) -> float | None:
    """An SDM event's RFC 3339 `timestamp` in seconds since the epoch; None when it is not one."""
    if not isinstance(value, str) or not 20 <= len(value) <= 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def known_bad_mode(traits: Mapping[str, Any]) -> bool:
    """The update SDM sometimes sends for a working thermostat: ThermostatMode with OFF as its only
    available mode and no setpoints (home-assistant/core#92927; python-google-nest-sdm treats it as
    invalid and re-reads the device). Never taken as the thermostat's state."""
    mode = traits.get(TRAIT + "ThermostatMode")
    setpoints = traits.get(TRAIT + "ThermostatTemperatureSetpoint")
    return (
        isinstance(mode, Mapping)
        and mode.get("availableModes") == ["OFF"]
        and mode.get("mode") in ("OFF", None)
        and not (isinstance(setpoints, Mapping) and setpoints)
    )


def _changes(before: Thermostat, after: Thermostat, at: float) -> tuple[list[Property], list[Property]]:
    old = {(p.namespace, p.name): p.value for p in endpoints.state(before, at, uncertainty_ms=0)}
    now = endpoints.state(after, at, uncertainty_ms=0)
    changed = [p for p in now if old.get((p.namespace, p.name)) != p.value]
    return changed, [p for p in now if p not in changed]


class NestEvents:
    def __init__(
        self,
        config: EventsConfig,
        *,
        http: BoundedHttp | None = None,
        clients: Callable[[], tuple[Any, Any]] | None = None,
        credentials: Callable[[], Credentials] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._config = config
        self._clock = clock
        self._http = http or BoundedHttp()
        aws = shared_aws_clients(config.region, clients)
        self.tokens = TokenStore(config.table, config.key_id, aws)
        self.states = DeviceStates(config.table, aws, clock)
        self.verifier = PushVerifier(config.audience, config.service_account, config.certs_url)
        messaging = MessagingCredentials(
            config.region, config.credentials_bucket, config.credentials_object, credentials
        )
        self._sender = Sender(
            self.tokens,
            Lwa(self._http, config.lwa_token_url, messaging, clock),
            Gateway(self._http, config.gateway_urls),
            clock,
            failure="nest event report failed",
        )

    # -- the function URL's request ---------------------------------------------------------------

    def handle(self, request: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        started = time.monotonic()
        deadline = self._deadline(context)
        method = str(request.get("requestContext", {}).get("http", {}).get("method", ""))
        if method != "POST":
            log.warning("push refused", extra={"reason": "method", "method": method[:16], "status": 405})
            return _answer(405, {"allow": "POST"})
        body = request.get("body") or ""
        encoded = bool(request.get("isBase64Encoded"))
        if not isinstance(body, str) or len(body) > (MAX_BODY_BYTES * 4 // 3 + 4 if encoded else MAX_BODY_BYTES):
            log.warning("push refused", extra={"reason": "body too large", "status": 413})
            return _answer(413)
        headers = {str(k).lower(): v for k, v in (request.get("headers") or {}).items()}
        try:
            self.verifier.verify(headers.get("authorization"))
        except Refused as refusal:
            log.warning("push refused", extra={"reason": refusal.reason, "status": refusal.status})
            return _answer(refusal.status)
        except KeysUnavailable as error:
            log.warning("push not verified: Google's keys unavailable", extra={"reason": str(error), "status": 503})
            return _answer(503)
        try:
            raw = base64.b64decode(body, validate=True) if encoded else body.encode()
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) > MAX_BODY_BYTES:
            log.warning("push refused", extra={"reason": "body too large", "status": 413})
            return _answer(413)
        sdm_event = _sdm_event(raw)
        if sdm_event is None:
            log.warning("push acknowledged: not an SDM event", extra={"status": 204})
            return _answer(204)
        applied = self.apply(sdm_event, deadline)
        log.info(
            "nest event",
            extra={
                "status": applied.status,
                "reason": applied.reason,
                "reports": applied.accepted,
                "gateway_calls": applied.gateway_calls,
                "refreshes": applied.refreshes,
                "latency_ms": round((time.monotonic() - started) * 1000.0, 1),
            },
        )
        return _answer(applied.status)

    def _deadline(self, context: Any) -> Deadline:
        budget = self._config.ack_deadline_s - DEADLINE_MARGIN_S
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining_ms):
            budget = min(budget, remaining_ms() / 1000.0 - DEADLINE_MARGIN_S)
        return Deadline(budget)

    # -- one SDM event ----------------------------------------------------------------------------

    def apply(self, sdm_event: Mapping[str, Any], deadline: Deadline) -> Applied:
        """Apply one SDM event; its answer for Pub/Sub (204 or 503) and what it sent."""
        event_id, at = sdm_event.get("eventId"), sdm_timestamp(sdm_event.get("timestamp"))
        if not isinstance(event_id, str) or not 0 < len(event_id) <= _MAX_EVENT_ID_CHARS or at is None:
            log.warning("push acknowledged: an SDM event without eventId or timestamp")
            return Applied(204, "unusable")
        tally = Applied(204, "applied")
        try:
            if self.states.applied(event_id):
                tally.reason = "duplicate"
                return tally
            if isinstance(sdm_event.get("resourceUpdate"), Mapping):
                done = self._resource_update(sdm_event["resourceUpdate"], at, deadline, tally)
            elif isinstance(sdm_event.get("relationUpdate"), Mapping):
                done = self._relation_update(sdm_event["relationUpdate"], deadline, tally)
            else:
                tally.reason, done = "no device update", True
            if not done:
                tally.status = 503
                return tally
            self.states.mark_applied(event_id)
        except StoreError as error:
            log.warning("nest event not applied", extra={"reason": str(error)})
            tally.status, tally.reason = 503, "store"
        return tally

    def _resource_update(self, update: Mapping[str, Any], at: float, deadline: Deadline, tally: Applied) -> bool:
        name, traits = update.get("name"), update.get("traits")
        if not isinstance(name, str) or not _DEVICE.fullmatch(name) or not isinstance(traits, Mapping):
            tally.reason = "not a device"  # a structure's update: nothing Alexa shows
            return True
        endpoint_id = endpoint_id_of(name)
        users = self.tokens.users_for(endpoint_id)
        if not users:
            log.info("nest event dropped: no linked user sees the device")
            tally.reason = "unseen"
            return True
        traits = dict(traits)
        bad = known_bad_mode(traits)
        if bad:
            log.warning("nest event: the known bad ThermostatMode update ignored; state kept until the next listing")
            traits = {
                t: f
                for t, f in traits.items()
                if t not in (TRAIT + "ThermostatMode", TRAIT + "ThermostatTemperatureSetpoint")
                and not (isinstance(f, Mapping) and f.get("availableModes") == ["OFF"])
            }
        for _ in range(3):
            stored = self.states.load(endpoint_id) or DeviceState(endpoint_id, {"name": name})
            after = stored.copy()
            changed = after.merge(traits, at)
            after.suspect = after.suspect or bad
            if not changed and after.suspect == stored.suspect:
                tally.reason = "nothing new"
                return True
            if stored.complete and changed:
                if not self._report(stored, after, at, users, deadline, tally):
                    tally.reason = "redeliver"
                    return False
            elif not stored.complete:
                tally.reason = "kept until the next listing"
            if self.states.save(after):
                return True
        tally.reason = "concurrent writes"
        return False

    def _report(
        self,
        stored: DeviceState,
        after: DeviceState,
        at: float,
        users: Sequence[str],
        deadline: Deadline,
        tally: Applied,
    ) -> bool:
        before_t, after_t = Thermostat.from_sdm(stored.document), Thermostat.from_sdm(after.document)
        described = endpoints.discovery_endpoint(after_t, proactive=True)
        rediscover = endpoints.discovery_endpoint(before_t, proactive=True) != described
        changed, unchanged = _changes(before_t, after_t, at)
        if not changed and not rediscover:
            tally.reason = "nothing Alexa shows"
            return True
        cause = APP_INTERACTION if any(p.name in _SETTINGS for p in changed) else PERIODIC_POLL
        endpoint_id = stored.endpoint_id
        ok = True
        for user in users:
            if deadline.remaining() <= 0:
                return False
            if rediscover:
                delivery, _ = self._sender.deliver(
                    user, lambda token: add_or_update_report(token, described), deadline, tally, endpoint_id
                )
                ok = ok and delivery is not Delivery.RETRY
            if changed:
                delivery, _ = self._sender.deliver(
                    user,
                    lambda token: change_report(endpoint_id, token, cause, changed, unchanged),
                    deadline,
                    tally,
                    endpoint_id,
                )
                ok = ok and delivery is not Delivery.RETRY
        tally.reason = "reported"
        return ok

    def _relation_update(self, relation: Mapping[str, Any], deadline: Deadline, tally: Applied) -> bool:
        kind, subject, device = relation.get("type"), relation.get("subject"), relation.get("object")
        home = _STRUCTURE.fullmatch(subject) if isinstance(subject, str) else None
        if not isinstance(device, str) or not _DEVICE.fullmatch(device) or home is None:
            tally.reason = "not a device relation"
            return True
        endpoint_id = endpoint_id_of(device)
        if kind == "DELETED" and home.group(2) is None:
            return self._removed(endpoint_id, deadline, tally)
        if kind == "CREATED":
            return self._added(endpoint_id, home.group(1), deadline, tally)
        # UPDATED, or a device leaving a room (a move): a room's new name is not in the event.
        log.info("nest relation event: Alexa learns the room at the next discovery", extra={"type": str(kind)[:16]})
        tally.reason = "relation kept until the next listing"
        return True

    def _removed(self, endpoint_id: str, deadline: Deadline, tally: Applied) -> bool:
        users = self.tokens.users_for(endpoint_id)
        if not users:
            tally.reason = "unseen"
            self.states.forget_device(endpoint_id)
            return True
        ok = True
        for user in users:
            delivery, link = self._sender.deliver(
                user, lambda token: delete_report(token, endpoint_id), deadline, tally
            )
            if delivery is Delivery.RETRY:
                ok = False
                continue
            # Told, or never to be told: either way this user no longer sees it (a redelivery skips them).
            self.states.unlist_endpoint(user, endpoint_id, link.endpoints if link else ())
        if ok:
            self.states.forget_device(endpoint_id)
        tally.reason = "removed"
        return ok

    def _added(self, endpoint_id: str, structure: str, deadline: Deadline, tally: Applied) -> bool:
        seeing = set(self.tokens.users_for(endpoint_id))
        users = [u for u in self.states.users_of_structure(structure) if u not in seeing]
        if not users:
            tally.reason = "no new viewer"
            return True
        state = self.states.load(endpoint_id)
        thermostat = Thermostat.from_sdm(state.document) if state is not None and state.complete else None
        if thermostat is None or not endpoints.declared(thermostat):
            log.info("nest device added: Alexa learns it at the next discovery or link")
            tally.reason = "added, kept until the next listing"
            return True
        described = endpoints.discovery_endpoint(thermostat, proactive=True)
        ok = True
        for user in users:
            delivery, _ = self._sender.deliver(
                user, lambda token: add_or_update_report(token, described), deadline, tally
            )
            if delivery is Delivery.ACCEPTED:
                self.states.list_endpoint(user, endpoint_id)
            ok = ok and delivery is not Delivery.RETRY
        tally.reason = "added"
        return ok


def _sdm_event(raw: bytes) -> Mapping[str, Any] | None:
    """The SDM event inside Pub/Sub's push envelope (`{"message": {"data": <base64>, ...}, "subscription"}`)."""
    try:
        envelope = json.loads(raw)
        data = envelope["message"]["data"]
        document = json.loads(base64.b64decode(data, validate=True))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return document if isinstance(document, dict) else None


def _answer(status: int, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A function URL answer with an empty body: Pub/Sub reads the status only."""
    return {"statusCode": status, "headers": dict(headers or {}), "body": ""}
