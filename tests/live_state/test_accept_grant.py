"""Alexa.Authorization.AcceptGrant in the smart-home door: LWA's code exchanged with the messaging
credentials, the user's tokens stored encrypted, ACCEPT_GRANT_FAILED when any step fails."""

from __future__ import annotations

import logging

import pytest

from nest_skill.config import SkillConfig
from nest_skill.live_state.http import NoAnswer
from nest_skill.live_state.reporter import GOOGLE_ACCOUNT_BUDGET_S, LiveState, google_key, user_key
from nest_skill.sdm_client import SdmClient
from nest_skill.smart_home.dispatcher import MAX_GRANT_CHARS, SmartHome
from sandbox.fake_amazon import FakeLwa
from tests.live_state.conftest import CLIENT_ID, REGION, TABLE, home, make_config, thermostat
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import DEVICES_URL, PROJECT

GOOGLE_TOKEN = "google-access-token-of-ann"  # a stand-in, not shaped as a real one
ANN = user_key(FakeLwa.user_id_of("ann"))  # the user key of the Alexa account "ann"


def accept_grant(code: str, token: str = GOOGLE_TOKEN) -> dict:
    return {
        "directive": {
            "header": {
                "namespace": "Alexa.Authorization",
                "name": "AcceptGrant",
                "messageId": "m-1",
                "payloadVersion": "3",
            },
            "payload": {
                "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
                "grantee": {"type": "BearerToken", "token": token},
            },
        }
    }


def link(door, amazon, customer: str, sub: str, google_token: str) -> str:
    """The Alexa account `customer` links the Google account `sub` (whose token is `google_token`);
    returns the user's key."""
    amazon.tokeninfo.register(google_token, sub)
    reply = door.handle(accept_grant(amazon.lwa.issue_code(customer), google_token))
    assert reply["event"]["header"]["name"] == "AcceptGrant.Response"
    return user_key(amazon.lwa.user_id_of(customer))


def test_accept_grant_stores_the_users_tokens_encrypted(door, live, amazon, aws, sdm_api, caplog):
    home(sdm_api, thermostat("living"), thermostat("bedroom", room="Bedroom"))
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    code = amazon.lwa.issue_code("ann")
    with caplog.at_level(logging.DEBUG):
        reply = door.handle(accept_grant(code))
    assert reply["event"]["header"]["namespace"] == "Alexa.Authorization"
    assert reply["event"]["header"]["name"] == "AcceptGrant.Response"
    assert reply["event"]["payload"] == {}
    assert amazon.lwa.stats("ann") == {"exchanges": 1, "refreshes": 0}

    user = ANN
    item = aws["dynamodb"].get_item(TableName=TABLE, Key={"pk": {"S": f"user#{user}"}, "sk": {"S": "tokens"}})["Item"]
    assert item["region"] == {"S": "NA"}
    assert [e["S"] for e in item["endpoints"]["L"]] == ["living", "bedroom"]
    stored = repr(item).encode()
    link = live.store.load(user)
    assert link.tokens.access_token.startswith("Atza|")
    # At rest the item holds only ciphertext: neither token appears in it.
    assert link.tokens.access_token.encode() not in stored and link.tokens.refresh_token.encode() not in stored
    assert b"Atz" not in item["sealed"]["B"]
    for endpoint in ("living", "bedroom"):
        assert live.store.users_for(endpoint) == [user]
    text = caplog.text
    assert code not in text and GOOGLE_TOKEN not in text and "Atz" not in text


def test_linking_again_replaces_the_users_own_entry(door, live, amazon, sdm_api):
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    home(sdm_api, thermostat("living"), thermostat("bedroom", room="Bedroom"))
    door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    first = live.store.load(ANN)
    sdm_api.replace("GET", sdm_api.registered()[0].url, json={"devices": [thermostat("living")]})
    # The device list is cached per token for 30 s: a new link brings a new Google token.
    amazon.tokeninfo.register("ya29.ann-again", "google-sub-ann")
    assert (
        door.handle(accept_grant(amazon.lwa.issue_code("ann"), "ya29.ann-again"))["event"]["header"]["name"]
        == "AcceptGrant.Response"
    )
    again = live.store.load(ANN)
    assert again.tokens.refresh_token != first.tokens.refresh_token
    assert again.endpoints == ("living",) and again.version == first.version + 1
    assert live.store.users_for("bedroom") == []  # no longer seen: unlisted
    assert live.store.users_for("living") == [ANN]


def test_two_alexa_accounts_linking_one_google_account_have_an_entry_each(door, live, amazon, aws, sdm_api):
    home(sdm_api, thermostat("living"))
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    bob = link(door, amazon, "bob", "google-sub-ann", "google-token-of-bob-on-anns-account")
    assert user_items(aws) == sorted([f"user#{ANN}", f"user#{bob}"])
    assert sorted(live.store.users_for("living")) == sorted([ANN, bob])
    assert sorted(live.store.linked_to(google_key("google-sub-ann"))) == sorted([ANN, bob])
    assert live.store.load(ANN).tokens.refresh_token != live.store.load(bob).tokens.refresh_token


def test_an_alexa_account_linking_another_google_account_replaces_its_entry(door, live, amazon, aws, sdm_api):
    home(sdm_api, thermostat("living"))
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    link(door, amazon, "ann", "google-sub-other", "google-token-of-ann-on-another-account")
    assert user_items(aws) == [f"user#{ANN}"]
    assert live.store.load(ANN).google == google_key("google-sub-other")
    assert live.store.linked_to(google_key("google-sub-other")) == [ANN]
    assert live.store.linked_to(google_key("google-sub-ann")) == []


def listing(aws, google: str, user: str):
    """The item listing `user` under the Google account `google`, or None."""
    key = {"pk": {"S": f"google#{google}"}, "sk": {"S": f"user#{user}"}}
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")


@pytest.mark.parametrize("version", [None, "1"], ids=["written without a version", "of an earlier linking"])
def test_a_listing_whose_item_names_another_google_account_is_deleted_when_read(
    door, live, amazon, aws, sdm_api, version
):
    home(sdm_api, thermostat("living"))
    for _ in range(2):  # the item's version is 2
        link(door, amazon, "ann", "google-sub-other", "google-token-of-ann-on-another-account")
    assert live.store.load(ANN).version == 2
    anns = google_key("google-sub-ann")
    left = {"pk": {"S": f"google#{anns}"}, "sk": {"S": f"user#{ANN}"}}
    aws["dynamodb"].put_item(TableName=TABLE, Item={**left, **({"version": {"N": version}} if version else {})})
    assert live.store.linked_to(anns) == []
    assert listing(aws, anns, ANN) is None
    assert live.store.linked_to(google_key("google-sub-other")) == [ANN]


def test_a_listing_written_again_while_it_is_read_as_stale_is_kept(door, live, amazon, aws, sdm_api, monkeypatch):
    """Ann links another Google account and then hers again while a discovery of hers checks who is
    linked to it: the listing was read, then her item naming the other account; her linking back
    wrote the listing anew before the stale one was deleted, so only the stale one may go."""
    home(sdm_api, thermostat("living"))
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    anns = google_key("google-sub-ann")
    meanwhile = {
        "Query": lambda: link(door, amazon, "ann", "google-sub-other", "google-token-of-ann-on-another-account"),
        "GetItem": lambda: link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN),
    }
    read = live.store._call

    def interleaved(operation, call):
        result = read(operation, call)
        step = meanwhile.pop(operation, None) if "writing" not in meanwhile else None
        if step is not None:
            meanwhile["writing"] = True
            step()
            del meanwhile["writing"]
        return result

    monkeypatch.setattr(live.store, "_call", interleaved)
    assert live.store.linked_to(anns) == []  # as read: her item named the other account
    assert not meanwhile  # both linkings came between
    monkeypatch.undo()
    assert live.store.load(ANN).google == anns
    assert listing(aws, anns, ANN) is not None
    assert live.store.linked_to(anns) == [ANN]


NO_ACCOUNT_NAMED = pytest.mark.parametrize(
    "answer",
    [
        (200, {"aud": CLIENT_ID}),
        (200, {"aud": CLIENT_ID, "user_id": ""}),
        (200, {"aud": CLIENT_ID, "user_id": 42}),
        (200, {"aud": CLIENT_ID, "user_id": "amzn1.account.\n"}),
    ],
    ids=["no user_id", "empty", "not a string", "unprintable"],
)
TOKENINFO_FAILED = pytest.mark.parametrize(
    "answer",
    [
        (400, {"error": "invalid_token", "error_description": "invalid token"}),
        (500, {"error": "server_error"}),
        (200, {"aud": "amzn1.application-oa2-client.another-skill", "user_id": "amzn1.account.ANOTHER"}),
    ],
    ids=["invalid token", "server error", "another client"],
)


@NO_ACCOUNT_NAMED
def test_a_token_lwa_accepts_without_naming_its_alexa_account_is_keyed_by_its_google_account(
    door, live, amazon, aws, sdm_api, answer, caplog
):
    home(sdm_api, thermostat("living"))
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    amazon.lwa.tokeninfo_answer = answer
    with caplog.at_level(logging.DEBUG):
        reply = door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert reply["event"]["header"]["name"] == "AcceptGrant.Response"
    assert amazon.lwa.tokeninfo_asked == 1
    google = google_key("google-sub-ann")
    assert user_items(aws) == [f"user#{google}"]
    assert live.store.users_for("living") == [google] and live.store.linked_to(google) == [google]
    assert [r.message for r in caplog.records if r.levelno == logging.WARNING] == [
        "accept grant keyed by google account"
    ]
    assert "Atz" not in caplog.text and GOOGLE_TOKEN not in caplog.text


def test_accept_grant_without_time_left_for_its_writes_fails_in_time_and_stores_nothing(
    door, amazon, aws, sdm_api, caplog
):
    """Lambda gives the request 2.6 s: the deadline (2.1 s) leaves the token store's calls (up to 2.5 s
    each) no time, so AcceptGrant fails in time, and before its code is spent."""
    home(sdm_api, thermostat("living"))
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    code = amazon.lwa.issue_code("ann")
    with caplog.at_level(logging.WARNING):
        reply = door.handle(accept_grant(code), LambdaContext(2600))
    assert reply["event"]["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert aws["dynamodb"].scan(TableName=TABLE)["Items"] == []
    assert [r.reason for r in caplog.records if r.message == "accept grant failed"] == [
        "deadline: no time left to store the tokens"
    ]
    assert door.handle(accept_grant(code), LambdaContext(7000))["event"]["header"]["name"] == "AcceptGrant.Response"


@TOKENINFO_FAILED
def test_lwa_tokeninfo_failing_is_accept_grant_failed_and_nothing_is_stored(door, amazon, aws, sdm_api, answer, caplog):
    """A passing outage must not leave a second, Google-keyed item beside the Alexa account's own."""
    home(sdm_api, thermostat("living"))
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    amazon.lwa.tokeninfo_answer = answer
    with caplog.at_level(logging.DEBUG):
        reply = door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert reply["event"]["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert aws["dynamodb"].scan(TableName=TABLE)["Items"] == []
    assert "Atz" not in caplog.text and GOOGLE_TOKEN not in caplog.text


@NO_ACCOUNT_NAMED
def test_neither_account_named_is_accept_grant_failed_and_nothing_is_stored(door, amazon, aws, sdm_api, answer):
    home(sdm_api, thermostat("living"))  # Google's tokeninfo knows no account for GOOGLE_TOKEN either
    amazon.lwa.tokeninfo_answer = answer
    reply = door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert reply["event"]["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert aws["dynamodb"].scan(TableName=TABLE)["Items"] == []


def test_a_slow_google_tokeninfo_leaves_the_code_exchange_its_time(door, live, amazon, sdm_api, monkeypatch, caplog):
    """Google's tokeninfo gets at most GOOGLE_ACCOUNT_BUDGET_S of the deadline, before the code is spent."""
    home(sdm_api, thermostat("living"))
    seen: list[float] = []
    post = live._http.post

    def silent_google_tokeninfo(operation, url, deadline, **kwargs):
        if operation != "google tokeninfo":
            return post(operation, url, deadline, **kwargs)
        seen.append(deadline.remaining())
        raise NoAnswer(f"{operation}: no answer")

    monkeypatch.setattr(live._http, "post", silent_google_tokeninfo)
    with caplog.at_level(logging.WARNING):
        reply = door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert reply["event"]["header"]["name"] == "AcceptGrant.Response"
    assert len(seen) == 1 and seen[0] <= GOOGLE_ACCOUNT_BUDGET_S
    assert amazon.lwa.stats("ann") == {"exchanges": 1, "refreshes": 0}
    assert live.store.load(ANN).google is None
    assert [r.message for r in caplog.records] == ["accept grant without google account"]


def test_a_google_account_tokeninfo_does_not_name_is_linked_without_it(door, live, amazon, sdm_api, caplog):
    home(sdm_api, thermostat("living"))  # tokeninfo knows no account for GOOGLE_TOKEN
    with caplog.at_level(logging.WARNING):
        reply = door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert reply["event"]["header"]["name"] == "AcceptGrant.Response"
    link = live.store.load(ANN)
    assert link.google is None and link.endpoints == ("living",) and link.tokens is not None
    assert live.store.users_for("living") == [ANN]
    assert [r.message for r in caplog.records] == ["accept grant without google account"]


def test_a_used_code_is_accept_grant_failed(door, amazon, sdm_api, caplog):
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    home(sdm_api, thermostat("living"))
    code = amazon.lwa.issue_code("ann")
    door.handle(accept_grant(code))
    reply = door.handle(accept_grant(code))
    assert reply["event"]["header"]["namespace"] == "Alexa.Authorization"
    assert reply["event"]["header"]["name"] == "ErrorResponse"
    assert reply["event"]["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert code not in caplog.text


def user_items(aws) -> list[str]:
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    return sorted(i["pk"]["S"] for i in items if i["pk"]["S"].startswith("user#"))


def test_a_google_token_sdm_refuses_fails_before_the_code_is_used(door, amazon, aws, sdm_api):
    sdm_api.get(
        DEVICES_URL,
        status=401,
        json={
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "status": "UNAUTHENTICATED",
            }
        },
    )
    reply = door.handle(accept_grant(amazon.lwa.issue_code("ann"), token="ya29.not-issued"))
    assert reply["event"]["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    assert amazon.lwa.stats("ann") == {"exchanges": 0, "refreshes": 0}
    assert user_items(aws) == []


def grant_payload(code, token) -> dict:
    return {
        "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
        "grantee": {"type": "BearerToken", "token": token},
    }


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"grant": "x", "grantee": None},
        grant_payload("", GOOGLE_TOKEN),
        grant_payload("a-code", ""),
        grant_payload(None, GOOGLE_TOKEN),
        grant_payload("c" * (MAX_GRANT_CHARS + 1), GOOGLE_TOKEN),
        grant_payload("a-code", "t" * (MAX_GRANT_CHARS + 1)),
        grant_payload("a\ncode", GOOGLE_TOKEN),
    ],
    ids=[
        "empty",
        "not objects",
        "no code",
        "no token",
        "code not a string",
        "code too long",
        "token too long",
        "code unprintable",
    ],
)
def test_a_malformed_grant_fails_before_anything_is_asked(door, amazon, aws, sdm_api, payload):
    home(sdm_api, thermostat("living"))
    event = accept_grant("c")
    event["directive"]["payload"] = payload
    reply = door.handle(event)
    assert (reply["event"]["header"]["namespace"], reply["event"]["payload"]) == (
        "Alexa.Authorization",
        {"type": "ACCEPT_GRANT_FAILED", "message": "no grant code or grantee token"},
    )
    assert len(sdm_api.calls) == 0 and user_items(aws) == []


def test_a_grant_code_of_the_longest_length_taken_is_sent_to_login_with_amazon(door, amazon, sdm_api, caplog):
    home(sdm_api, thermostat("living"))
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    event = accept_grant("c")
    event["directive"]["payload"] = grant_payload("c" * MAX_GRANT_CHARS, GOOGLE_TOKEN)
    with caplog.at_level(logging.WARNING):
        reply = door.handle(event)
    assert reply["event"]["payload"]["message"] == "the grant could not be accepted"  # LWA never issued it
    [failed] = [r.reason for r in caplog.records if r.message == "accept grant failed"]
    assert failed.startswith("LwaError: lwa authorization_code: HTTP 400")


def test_lwa_failing_is_accept_grant_failed_and_the_log_names_the_step(door, amazon, sdm_api, caplog):
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    home(sdm_api, thermostat("living"))
    amazon.lwa.failing_status = 500
    with caplog.at_level(logging.WARNING):
        reply = door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert reply["event"]["payload"] == {
        "type": "ACCEPT_GRANT_FAILED",
        "message": "the grant could not be accepted",
    }
    [failed] = [r for r in caplog.records if r.message == "accept grant failed"]
    assert failed.levelno == logging.WARNING
    assert failed.reason == "LwaError: lwa authorization_code: HTTP 500 server_error"


def test_live_state_off_answers_accept_grant_failed_and_discovery_is_not_proactive(sdm_api):
    door = SmartHome(SdmClient(SkillConfig(nest_project_id=PROJECT)))
    reply = door.handle(accept_grant("code"))
    assert reply["event"]["payload"]["type"] == "ACCEPT_GRANT_FAILED"
    home(sdm_api, thermostat("living"))
    discovered = door.handle(
        {
            "directive": {
                "header": {"namespace": "Alexa.Discovery", "name": "Discover", "messageId": "m", "payloadVersion": "3"},
                "payload": {"scope": {"type": "BearerToken", "token": "t"}},
            }
        }
    )
    flags = [
        c["properties"]["proactivelyReported"]
        for e in discovered["event"]["payload"]["endpoints"]
        for c in e["capabilities"]
        if "properties" in c
    ]
    assert flags and not any(flags)


def test_live_state_on_declares_every_property_proactively_reported_and_retrievable(door, sdm_api):
    home(sdm_api, thermostat("living"))
    discovered = door.handle(
        {
            "directive": {
                "header": {"namespace": "Alexa.Discovery", "name": "Discover", "messageId": "m", "payloadVersion": "3"},
                "payload": {"scope": {"type": "BearerToken", "token": "t"}},
            }
        }
    )
    capabilities = discovered["event"]["payload"]["endpoints"][0]["capabilities"]
    reported = {c["interface"]: c["properties"] for c in capabilities if "properties" in c}
    assert "Alexa.EndpointHealth" in reported
    assert all(p["proactivelyReported"] and p["retrievable"] for p in reported.values())


def test_the_region_that_received_accept_grant_is_the_users(aws, amazon, sdm, sdm_api):
    eu = LiveState(make_config(aws, amazon, aws_region="eu-west-1"), sdm, tokeninfo_url=amazon.tokeninfo_url)
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    home(sdm_api, thermostat("living"))
    SmartHome(sdm, eu).handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert eu.store.load(ANN).region == "EU"
    assert REGION == "us-east-1"
