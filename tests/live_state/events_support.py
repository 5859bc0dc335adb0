"""The events function's tests' helpers (fixtures `pubsub` and `events` in conftest): the function against
its stand-ins, Pub/Sub push (sandbox.fake_pubsub: its own RSA key and certificates), LWA and the gateways
(sandbox.fake_amazon), moto's DynamoDB and KMS (the `aws` fixture). Users link as in the AcceptGrant
tests; their thermostats' full state is stored as a listing with their Google token stores it
(DeviceStates.seed)."""

from __future__ import annotations

import time
from typing import Any

from nest_skill.live_state.device_states import DeviceStates
from nest_skill.live_state.nest_events import EventsConfig, NestEvents, endpoint_id_of
from nest_skill.thermostats import Thermostat
from sandbox import fake_pubsub
from tests.live_state.conftest import REGION, TABLE, home, thermostat
from tests.live_state.test_accept_grant import link

TRAIT = "sdm.devices.traits."
LISTED_AT = time.time() - 600


def make_events(aws, amazon, pubsub, **overrides: str) -> NestEvents:
    env = {
        "LIVE_STATE_TABLE": TABLE,
        "LIVE_STATE_KEY": aws["key_id"],
        "LIVE_STATE_REGION": REGION,
        "MESSAGING_CREDENTIALS_BUCKET": "secrets",
        "MESSAGING_CREDENTIALS_OBJECT": "messaging.json",
        "PUSH_AUDIENCE": fake_pubsub.AUDIENCE,
        "PUSH_SERVICE_ACCOUNT": fake_pubsub.SERVICE_ACCOUNT,
        "GOOGLE_CERTS_URL": pubsub.certs_url,
        "LWA_TOKEN_URL": amazon.lwa_url,
        **{f"EVENT_GATEWAY_URL_{r}": url for r, url in amazon.gateway_urls.items()},
        **overrides,
    }
    return NestEvents(EventsConfig.from_mapping(env))


def seed(states: DeviceStates, user: str, *devices: dict[str, Any], at: float = LISTED_AT) -> None:
    """What a listing with `user`'s Google token (of the Google account their item names) stores."""
    item = states._db().get_item(TableName=states._table, Key={"pk": {"S": f"user#{user}"}, "sk": {"S": "tokens"}})
    google = item.get("Item", {}).get("google", {}).get("S")
    listing = [(endpoint_id_of(d["name"]), d, Thermostat.from_sdm(d).structure) for d in devices]
    states.seed(user, listing, at, google=google)


def linked(door, amazon, sdm_api, events, *devices: dict[str, Any], customer: str = "ann") -> str:
    """`customer` links; Alexa sees `devices`, whose full state AcceptGrant's listing stored. The
    tests' events come after a listing ten minutes old (LISTED_AT): the devices' states are stored
    as that listing left them."""
    home(sdm_api, *devices)
    user = link(door, amazon, customer, f"google-sub-{customer}", f"ya29.{customer}")
    listed_long_ago(events, user, *devices)
    return user


def listed_long_ago(events: NestEvents, user: str, *devices: dict[str, Any]) -> None:
    """The states AcceptGrant's listing stored for `devices`, as if that listing was at LISTED_AT."""
    for device in devices:
        assert events.states.load(endpoint_id_of(device["name"])).complete  # AcceptGrant stored a listing
        events.states.forget_device(endpoint_id_of(device["name"]))
    seed(events.states, user, *devices)


def push(events: NestEvents, pubsub, event: dict, kind: str = "valid") -> int:
    return events.handle(fake_pubsub.push_request(pubsub, event, kind))["statusCode"]


def update(device: dict, traits: dict[str, Any], at: float, event_id: str | None = None) -> dict:
    return fake_pubsub.sdm_event(
        resource=device["name"], traits={TRAIT + k: v for k, v in traits.items()}, at=at, event_id=event_id
    )


__all__ = ["thermostat"]
