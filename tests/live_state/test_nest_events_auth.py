"""Who may push: only Pub/Sub's OIDC token for our subscription, checked with google-auth against the
keys the certs URL serves; anything else is refused before the body is read, with an empty answer and
one log line; only POST; the body bounded."""

from __future__ import annotations

import json
import logging
import time

import pytest

from sandbox import fake_pubsub
from tests.live_state.events_support import (
    linked,
    make_events,
    push,
    thermostat,
    update,
)

LIVING = thermostat("living")


@pytest.fixture
def ann(door, amazon, sdm_api, events):
    return linked(door, amazon, sdm_api, events, LIVING)


def warmer(at: float | None = None) -> dict:
    return update(LIVING, {"ThermostatTemperatureSetpoint": {"heatCelsius": 22.2}}, time.time() if at is None else at)


def test_a_valid_push_is_applied_and_its_change_reported(events, pubsub, amazon, ann):
    assert push(events, pubsub, warmer()) == 204
    [received] = amazon.gateway.events("NA")
    assert received.event["event"]["payload"]["change"]["properties"][0]["value"] == {
        "value": 72.0,
        "scale": "FAHRENHEIT",
    }


@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("forged", 401, "signature not Google's"),
        ("expired", 401, "token expired"),
        ("wrong-audience", 401, "wrong audience"),
        ("alg-none", 401, "algorithm 'none' refused"),
        ("hs256", 401, "algorithm 'HS256' refused"),
        ("unknown-key", 401, "unknown key id"),
        ("wrong-email", 403, "email is not the subscription's service account"),
        ("unverified-email", 403, "email not verified"),
        ("wrong-issuer", 403, "issuer is not Google"),
    ],
)
def test_a_token_not_from_our_subscription_is_refused_with_nothing_applied(
    events, pubsub, amazon, ann, caplog, kind, status, reason
):
    event = warmer()
    with caplog.at_level(logging.INFO):
        answer = events.handle(fake_pubsub.push_request(pubsub, event, kind))
    assert answer["statusCode"] == status and answer["body"] == ""
    refusals = [r for r in caplog.records if r.getMessage() == "push refused"]
    assert [(r.reason, r.status) for r in refusals] == [(reason, status)]
    assert not any(r.getMessage() == "nest event" for r in caplog.records)  # the body was never applied
    assert amazon.gateway.events() == []
    token = pubsub.token(kind)
    assert all(token.split(".")[1] not in r.getMessage() + str(r.__dict__) for r in caplog.records)
    # The same event with a good token afterwards is news: nothing of the refused push was stored.
    assert push(events, pubsub, event) == 204 and len(amazon.gateway.events()) == 1


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a.b", "Bearer " + "a" * 5000 + ".b.c", "Bearer !!!.e30.x"],
)
def test_a_push_without_a_readable_bearer_token_is_401(events, pubsub, authorization):
    request = fake_pubsub.function_url_request(json.dumps(fake_pubsub.envelope(warmer())), authorization)
    assert events.handle(request) == {"statusCode": 401, "headers": {}, "body": ""}


def test_a_replayed_push_is_applied_once(events, pubsub, amazon, ann):
    request = fake_pubsub.push_request(pubsub, warmer())
    assert [events.handle(request)["statusCode"] for _ in range(3)] == [204, 204, 204]
    assert len(amazon.gateway.events()) == 1


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"])
def test_only_post_is_served(events, pubsub, method):
    request = fake_pubsub.function_url_request("", pubsub.authorization(), method=method)
    assert events.handle(request) == {"statusCode": 405, "headers": {"allow": "POST"}, "body": ""}


def test_a_body_over_the_bound_is_413_before_the_token_is_checked(events, pubsub, ann, amazon):
    body = json.dumps({"message": {"data": "A" * (64 * 1024)}})
    for encoded in (False, True):
        text = fake_pubsub.base64.b64encode(body.encode()).decode() if encoded else body
        request = fake_pubsub.function_url_request(text, "Bearer forged", base64_encoded=encoded)
        assert events.handle(request)["statusCode"] == 413
    assert amazon.gateway.events() == []


def test_a_body_at_the_bound_is_read(events, pubsub, ann, amazon):
    event = warmer()
    padded = fake_pubsub.envelope(event)
    padded["padding"] = ""
    padded["padding"] = "x" * (64 * 1024 - len(json.dumps(padded)))
    body = json.dumps(padded)
    assert len(body) == 64 * 1024
    request = fake_pubsub.function_url_request(body, pubsub.authorization())
    assert events.handle(request)["statusCode"] == 204 and len(amazon.gateway.events()) == 1


def test_googles_keys_are_fetched_once_per_warm_container(events, pubsub, ann):
    for degrees in (21.0, 22.0, 23.0):
        push(events, pubsub, update(LIVING, {"ThermostatTemperatureSetpoint": {"heatCelsius": degrees}}, time.time()))
    assert pubsub.cert_fetches == 1


def test_a_token_under_a_key_id_the_cache_lacks_refetches_at_most_once_a_minute(events, pubsub, ann):
    push(events, pubsub, warmer())
    for _ in range(5):
        assert push(events, pubsub, warmer(), "unknown-key") == 401
    assert pubsub.cert_fetches == 1  # fetched within the last minute: forged key ids cannot make it refetch


def test_googles_keys_unavailable_is_503_so_pubsub_redelivers(aws, amazon, pubsub, door, sdm_api):
    events = make_events(aws, amazon, pubsub)
    linked(door, amazon, sdm_api, events, LIVING)
    pubsub.certs_status = 500
    assert push(events, pubsub, warmer()) == 503
    pubsub.certs_status = 200
    assert push(events, pubsub, warmer()) == 204
    assert len(amazon.gateway.events()) == 1


def test_an_authenticated_push_that_is_no_sdm_event_is_acknowledged(events, pubsub, amazon, caplog):
    for body in (
        "not json",
        json.dumps({"message": {}}),
        json.dumps({"message": {"data": "%%%"}}),
        json.dumps(fake_pubsub.envelope({"eventId": "x"})),
    ):
        request = fake_pubsub.function_url_request(body, pubsub.authorization())
        assert events.handle(request)["statusCode"] == 204  # redelivering it would change nothing
    assert amazon.gateway.events() == []
