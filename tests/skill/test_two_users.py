"""Two users of one warm container, their requests interleaved through the same lambda_handler (one
SdmClient, one HTTP session, one device cache, one pair of front doors): nothing of one reaches the
other. SDM sets a cookie on every answer to user A; none goes out with user B's requests. The device
cache is keyed per user, so B's list is B's own. A's half-finished command lives only in A's session,
and no field of A's requests is left on the loggers for B's."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from responses import matchers

from sandbox import alexa
from sandbox.alexa import spoken
from tests.skill.sdm import DEVICES_URL, command_url, device_list, sent_command, thermostat

USERS = {
    "A": {
        "token": "token-of-user-a",
        "devices": [thermostat("a-living", "Living Room"), thermostat("a-bed", "Bedroom")],
    },
    "B": {"token": "token-of-user-b", "devices": [thermostat("b-den", "Den")]},
}


def as_user(event: dict[str, Any], user: str, turn: int) -> dict[str, Any]:
    """`event` from `user` (their own user id, session and request ids); smart-home directives carry
    only their token."""
    if "directive" in event:
        return event
    event["session"]["sessionId"] = f"amzn1.echo-api.session.{user}"
    event["session"]["user"]["userId"] = f"amzn1.ask.account.{user}"
    event["context"]["System"]["user"]["userId"] = f"amzn1.ask.account.{user}"
    event["request"]["requestId"] = f"amzn1.echo-api.request.{user}-{turn}"
    return event


@pytest.fixture
def sdm(sdm_api):
    """SDM as it answers each user (matched by the bearer token), with a cookie on every answer to A."""
    for user, data in USERS.items():
        by_token = [matchers.header_matcher({"Authorization": f"Bearer {data['token']}"})]
        cookie = {"Set-Cookie": "sdm_affinity=user-a-session; Path=/; HttpOnly"} if user == "A" else {}
        sdm_api.get(DEVICES_URL, json=device_list(*data["devices"]), match=by_token, headers=cookie)
        for device in data["devices"]:
            sdm_api.post(command_url(device["name"].rsplit("/", 1)[-1]), json={}, match=by_token, headers=cookie)
    return sdm_api


def calls_of(sdm_api, user: str) -> list[Any]:
    return [c for c in sdm_api.calls if c.request.headers["Authorization"] == f"Bearer {USERS[user]['token']}"]


def test_two_interleaved_users_share_nothing_but_the_container(skill, sdm, caplog):
    caplog.set_level(logging.INFO)
    handled: list[tuple] = []

    def handle(user: str, event: dict[str, Any]) -> dict[str, Any]:
        first = len(caplog.records)
        reply = skill.lambda_handler(as_user(event, user, len(handled)), None)
        handled.append((user, caplog.records[first:]))
        return reply

    token_a, token_b = USERS["A"]["token"], USERS["B"]["token"]
    # A asks to set "it" to 70: two thermostats, so the skill asks which, keeping the command in A's session.
    question = handle("A", alexa.set_temp("70", None, token=token_a))
    assert spoken(question).startswith("Which thermostat")
    pending_a = question["sessionAttributes"]
    assert pending_a
    # B discovers, then answers a question B was never asked, in a new session of B's own.
    discovered = handle("B", alexa.discover(token=token_b))
    assert [e["endpointId"] for e in discovered["event"]["payload"]["endpoints"]] == ["b-den"]
    stray = handle("B", alexa.set_temp(None, "bedroom", token=token_b))
    assert "sessionAttributes" not in stray or not stray["sessionAttributes"].get("pending_action")
    assert [c for c in sdm.calls if c.request.method == "POST"] == []
    # A answers A's own question: A's command goes to A's bedroom with A's token.
    done = handle("A", alexa.set_temp(None, "bedroom", token=token_a, attributes=pending_a))
    assert spoken(done) == "OK, the Bedroom is heating to 70."
    [command] = [c for c in sdm.calls if c.request.method == "POST"]
    assert command.request.url == command_url("a-bed")
    assert command.request.headers["Authorization"] == f"Bearer {token_a}"
    assert sent_command(command)["params"] == {"heatCelsius": 21.1111}
    # B's status and B's thermostat: B's own list, never A's (A's list was cached a moment ago).
    assert spoken(handle("B", alexa.status(token=token_b))).startswith("The Den is")
    report = handle("B", alexa.report_state("a-bed", token=token_b))
    assert alexa.error_type(report) == "NO_SUCH_ENDPOINT"

    # Cookies: A's answers all set one; no request of either user ever sent it back.
    assert calls_of(sdm, "A") and all("sdm_affinity" in c.response.headers["Set-Cookie"] for c in calls_of(sdm, "A"))
    assert [c.request.headers.get("Cookie") for c in sdm.calls] == [None] * len(sdm.calls)
    assert list(skill.sdm._session.cookies) == []
    # Caches: B's first request listed B's devices with B's token; the rest came from B's own cache entry.
    assert [c.request.method for c in calls_of(sdm, "B")] == ["GET"]
    # Log context: every line of B's requests names B's request (or none), nothing of A's.
    for user, records in handled:
        other = "A" if user == "B" else "B"
        for record in records:
            fields = json.dumps({k: str(v) for k, v in vars(record).items()})
            assert f"request.{other}-" not in fields and USERS[other]["token"] not in fields, (user, fields)
            if hasattr(record, "alexa_request_id"):
                assert record.alexa_request_id.startswith(f"amzn1.echo-api.request.{user}-")
    assert [user for user, records in handled if records] == ["A", "B", "B", "A", "B", "B"]
    for name in (
        "nest_skill",
        "nest_skill.custom_skill.interceptors",
        "nest_skill.custom_skill.handlers",
        "nest_skill.smart_home.dispatcher",
        "nest_skill.sdm_client",
    ):
        assert logging.getLogger(name).filters == []
