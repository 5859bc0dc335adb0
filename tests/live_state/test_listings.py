"""A device listing read with a user's Google token (AcceptGrant's, and Discover's with live state on)
is stored as each thermostat's complete state and the user under its home: what the events function
reports Nest's own events from. Storing it never changes the answer and never outlasts the request."""

from __future__ import annotations

import json
import logging
import time

import pytest
import responses

from nest_skill.config import SkillConfig
from nest_skill.controls import SetTemperature
from nest_skill.live_state.reporter import SEVERAL_ALEXA_ACCOUNTS, LiveState, google_key
from nest_skill.live_state.store import CHANGED_MEANWHILE, NOT_LINKED, OutOfTime, StoreError
from nest_skill.sdm_client import DEVICE_CACHE_TTL_S, Deadline, SdmClient
from nest_skill.smart_home.dispatcher import SmartHome
from nest_skill.thermostats import Thermostat
from sandbox import alexa
from tests.clock import Clock
from tests.live_state.conftest import TABLE, home, make_config, thermostat
from tests.live_state.events_support import push, update
from tests.live_state.test_accept_grant import GOOGLE_TOKEN, accept_grant, link
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import DEVICES_URL, PROJECT, STRUCTURES_URL, camera, structure, structure_list

ANNS_GOOGLE = google_key("google-sub-ann")
LIVING = thermostat("living")
BEDROOM = thermostat("bedroom", room="Bedroom", mode="COOL", heat_c=None, cool_c=24.0)
STRUCTURE = Thermostat.from_sdm(LIVING).structure


def device_list_calls(sdm_api) -> int:
    return sum(1 for call in sdm_api.calls if call.request.url == DEVICES_URL)


def discover(door, token: str, remaining_ms: int = 8000) -> dict:
    return door.handle(alexa.discover(token=token), LambdaContext(remaining_ms))


def failing_seed(*_args, **_kwargs):
    raise StoreError("PutItem: ProvisionedThroughputExceededException")


def test_accept_grant_stores_each_thermostats_complete_state_and_the_user_under_its_home(live, door, amazon, sdm_api):
    home(sdm_api, LIVING, BEDROOM, camera())
    user = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    for device in (LIVING, BEDROOM):
        state = live.states.load(device["name"].rsplit("/", 1)[-1])
        assert state.complete and not state.suspect
        assert state.document["traits"] == device["traits"]
    assert live.states.load("door") is None  # cameras are not Alexa endpoints here
    assert live.states.users_of_structure(STRUCTURE) == [user]
    assert device_list_calls(sdm_api) == 1  # the listing AcceptGrant read anyway


def test_accept_grant_is_accepted_when_the_listing_cannot_be_stored(live, door, amazon, sdm_api, monkeypatch, caplog):
    home(sdm_api, LIVING)
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    monkeypatch.setattr(live.states, "seed", failing_seed)
    with caplog.at_level(logging.WARNING):
        reply = door.handle(accept_grant(amazon.lwa.issue_code("ann")))
    assert reply["event"]["header"]["name"] == "AcceptGrant.Response"
    assert live.store.users_for("living")  # the grant itself is stored
    assert [r.reason for r in caplog.records if r.message == "device states not stored"] == [
        "PutItem: ProvisionedThroughputExceededException"
    ]


def test_discover_stores_the_listing_it_answered_from_without_another_sdm_call(live, door, amazon, sdm_api):
    home(sdm_api, LIVING, BEDROOM)
    user = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    live.states.forget_device("living")
    live.states.forget_device("bedroom")
    calls = device_list_calls(sdm_api)
    reply = discover(door, GOOGLE_TOKEN)
    assert [e["endpointId"] for e in reply["event"]["payload"]["endpoints"]] == ["living", "bedroom"]
    assert live.states.load("living").complete and live.states.load("bedroom").complete
    assert live.states.users_of_structure(STRUCTURE) == [user]
    assert device_list_calls(sdm_api) - calls <= 1  # the listing discovery reads, from the warm cache after


def test_discover_stores_a_listing_read_again_when_the_cached_one_expired_meanwhile(aws, amazon, sdm_api):
    """The device list Discover answered from was cached near the end of its TTL, and the homes' names
    (structures.list, asked because the thermostats are in two homes) took past it: the listing to store
    is read again (with the request's deadline) and stored."""
    clock = Clock()
    sdm = SdmClient(SkillConfig(nest_project_id=PROJECT), clock)
    live = LiveState(make_config(aws, amazon), sdm, tokeninfo_url=amazon.tokeninfo_url)
    door = SmartHome(sdm, live)
    cabin = thermostat("cabin", room="Cabin", structure="cabin")
    home(sdm_api, LIVING, cabin)
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    live.states.forget_device("living")
    live.states.forget_device("cabin")

    def slow_homes(_request):
        clock.advance(DEVICE_CACHE_TTL_S)
        return 200, {}, json.dumps(structure_list(structure("home", "Home"), structure("cabin", "Cabin")))

    sdm_api.add_callback(responses.GET, STRUCTURES_URL, callback=slow_homes)
    calls = device_list_calls(sdm_api)
    reply = discover(door, GOOGLE_TOKEN)
    assert [e["endpointId"] for e in reply["event"]["payload"]["endpoints"]] == ["living", "cabin"]
    assert device_list_calls(sdm_api) - calls == 1  # Discover answered from AcceptGrant's; the stored one is new
    assert live.states.load("living").complete and live.states.load("cabin").complete


def test_discover_answers_the_same_when_the_listing_cannot_be_stored(live, door, amazon, sdm_api, monkeypatch, caplog):
    home(sdm_api, LIVING, BEDROOM)
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    stored = discover(door, GOOGLE_TOKEN)
    monkeypatch.setattr(live.states, "seed", failing_seed)
    with caplog.at_level(logging.WARNING):
        failed = discover(door, GOOGLE_TOKEN)
    assert failed["event"]["payload"] == stored["event"]["payload"]
    assert any(r.message == "device states not stored" for r in caplog.records)


def test_discover_by_an_account_tokeninfo_cannot_name_answers_and_stores_nothing(live, door, sdm_api, caplog):
    home(sdm_api, LIVING)
    with caplog.at_level(logging.WARNING):
        reply = discover(door, "a-token-tokeninfo-does-not-know")
    assert [e["endpointId"] for e in reply["event"]["payload"]["endpoints"]] == ["living"]
    assert live.states.load("living") is None
    assert live.store.users_for("living") == []
    assert any(r.message == "discovery not stored" for r in caplog.records)


def test_a_listing_is_not_stored_without_time_left_for_its_writes(live, amazon, sdm_api, caplog):
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")
    with caplog.at_level(logging.WARNING):
        live.listed(GOOGLE_TOKEN, [LIVING], ["living"], Deadline(0.5))
    assert live.states.load("living") is None
    assert [(r.message, r.reason) for r in caplog.records] == [("discovery not stored", "deadline")]


def test_a_google_account_is_asked_of_tokeninfo_once_per_token(live, door, amazon, sdm_api):
    home(sdm_api, LIVING)
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    asked = amazon.tokeninfo.asked  # AcceptGrant's
    discover(door, GOOGLE_TOKEN)
    discover(door, GOOGLE_TOKEN)
    assert amazon.tokeninfo.asked == asked
    assert live.states.load("living").complete


# -- the endpoints a linked user gets ChangeReports for, made those each Discover answered with ------------------

LATER_TOKEN = "google-access-token-of-ann-an-hour-later"  # Alexa refreshes the linked token: the same account
OFFICE = thermostat("office", room="Office")


def shared_later(sdm_api, amazon, *devices: dict) -> None:
    """The user's Google account now sees `devices`; Alexa's next Discover carries a refreshed Google token."""
    sdm_api.replace("GET", DEVICES_URL, json={"devices": list(devices)})
    amazon.tokeninfo.register(LATER_TOKEN, "google-sub-ann")


def answered(reply: dict) -> list[str]:
    return [e["endpointId"] for e in reply["event"]["payload"]["endpoints"]]


def voice_change(live, device: dict, degrees_f: float):
    return live.report_change(SetTemperature(degrees_f).plan(Thermostat.from_sdm(device)), Deadline(5))


def endpoint_items(aws) -> list[tuple[str, str]]:
    """Every user's and endpoint's item in the table (device states and homes aside)."""
    items = aws["dynamodb"].scan(TableName=TABLE)["Items"]
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in items if i["pk"]["S"].startswith(("user#", "endpoint#")))


class TableClient:
    """moto's DynamoDB client, one of its calls replaced by a subclass."""

    def __init__(self, dynamodb):
        self.dynamodb = dynamodb

    def __getattr__(self, name):
        return getattr(self.dynamodb, name)


class FailingTransactions(TableClient):
    """TransactWriteItems throttled (ProvisionedThroughputExceededException); every other call works."""

    def transact_write_items(self, **_):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "TransactWriteItems")


def test_a_thermostat_shared_after_linking_is_reported_after_the_next_discover(live, door, amazon, sdm_api, caplog):
    home(sdm_api, LIVING)
    user = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    assert voice_change(live, BEDROOM, 72).users == 0  # linked before it was shared: nobody sees it yet
    with caplog.at_level(logging.INFO):
        reply = discover(door, LATER_TOKEN)
        discover(door, LATER_TOKEN)  # nothing new: nothing written
    assert answered(reply) == ["living", "bedroom"]
    assert live.store.load(user).endpoints == ("living", "bedroom")
    assert live.store.users_for("bedroom") == [user]
    assert [(r.listed, r.unlisted) for r in caplog.records if r.message == "endpoints reconciled"] == [(1, 0)]
    result = voice_change(live, BEDROOM, 72)
    assert (result.users, result.accepted) == (1, 1)
    [received] = amazon.gateway.events("NA")
    assert received.customer == "ann"
    assert (received.event["event"]["header"]["name"], received.event["event"]["endpoint"]["endpointId"]) == (
        "ChangeReport",
        "bedroom",
    )


def test_a_nest_event_for_a_thermostat_shared_after_linking_is_reported_after_the_next_discover(
    live, door, amazon, sdm_api, events, pubsub
):
    home(sdm_api, LIVING)
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    cooler = {"ThermostatTemperatureSetpoint": {"coolCelsius": 22.0}}
    assert events.apply(update(BEDROOM, cooler, time.time()), Deadline(5)).reason == "unseen"
    discover(door, LATER_TOKEN)
    assert push(events, pubsub, update(BEDROOM, cooler, time.time())) == 204
    [received] = amazon.gateway.events("NA")
    event = received.event["event"]
    assert (event["header"]["name"], event["endpoint"]["endpointId"], received.customer) == (
        "ChangeReport",
        "bedroom",
        "ann",
    )
    assert event["payload"]["change"]["cause"] == {"type": "APP_INTERACTION"}


def test_a_thermostat_alexa_no_longer_has_is_no_longer_reported(live, door, amazon, sdm_api):
    home(sdm_api, LIVING, BEDROOM)
    user = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    shared_later(sdm_api, amazon, LIVING, OFFICE)  # the bedroom's thermostat replaced
    assert answered(discover(door, LATER_TOKEN)) == ["living", "office"]
    assert live.store.load(user).endpoints == ("living", "office")
    assert live.store.users_for("bedroom") == []
    assert live.store.users_for("office") == [user]
    assert voice_change(live, BEDROOM, 72).users == 0
    assert amazon.gateway.events() == []
    assert voice_change(live, OFFICE, 72).accepted == 1


def test_discover_by_a_user_who_never_linked_for_events_lists_no_endpoints(live, door, amazon, aws, sdm_api):
    home(sdm_api, LIVING, BEDROOM)
    amazon.tokeninfo.register(GOOGLE_TOKEN, "google-sub-ann")  # linked before live state: no AcceptGrant
    assert answered(discover(door, GOOGLE_TOKEN)) == ["living", "bedroom"]
    assert endpoint_items(aws) == []
    assert aws["dynamodb"].scan(TableName=TABLE)["Items"] == []  # nothing about them: no device state, no home
    assert voice_change(live, LIVING, 72).users == 0


def test_discover_by_a_user_marked_relink_needed_lists_no_endpoints(live, door, amazon, aws, sdm_api):
    home(sdm_api, LIVING)
    user = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    assert live.store.forget(live.store.load(user))  # Alexa refused the grant
    before = endpoint_items(aws)
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    assert answered(discover(door, LATER_TOKEN)) == ["living", "bedroom"]
    assert endpoint_items(aws) == before == [(f"user#{user}", "tokens")]
    assert live.store.load(user).relink_needed


def test_discover_for_a_google_account_several_alexa_accounts_link_changes_no_list(
    live, door, amazon, aws, sdm_api, caplog
):
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    bob = link(door, amazon, "bob", "google-sub-ann", "google-token-of-bob-on-anns-account")
    before = endpoint_items(aws)
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    with caplog.at_level(logging.INFO):
        assert answered(discover(door, LATER_TOKEN)) == ["living", "bedroom"]
    # Nothing says whose Alexa the discovery came from: neither is given the bedroom.
    assert endpoint_items(aws) == before
    assert live.store.users_for("bedroom") == []
    assert [r.reason for r in caplog.records if r.message == "endpoints not reconciled"] == [SEVERAL_ALEXA_ACCOUNTS]
    assert live.states.load("bedroom").complete  # the thermostats' state is stored all the same
    assert sorted(live.states.users_of_structure(STRUCTURE)) == sorted([ann, bob])  # as their linkings left it


def test_discover_updates_the_list_of_the_one_alexa_account_left_linked_to_the_google_account(
    live, door, amazon, sdm_api
):
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    bob = link(door, amazon, "bob", "google-sub-ann", "google-token-of-bob-on-anns-account")
    assert live.store.forget(live.store.load(bob))  # Alexa refused bob's grant
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    discover(door, LATER_TOKEN)
    assert live.store.users_for("bedroom") == [ann]
    assert live.store.load(ann).endpoints == ("living", "bedroom")


def test_discover_by_an_alexa_account_linked_without_its_google_account_changes_no_list(
    live, door, amazon, aws, sdm_api, caplog
):
    home(sdm_api, LIVING)
    door.handle(accept_grant(amazon.lwa.issue_code("ann")))  # tokeninfo named no Google account then
    before = endpoint_items(aws)
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    with caplog.at_level(logging.INFO):
        assert answered(discover(door, LATER_TOKEN)) == ["living", "bedroom"]
    assert endpoint_items(aws) == before
    assert [r.reason for r in caplog.records if r.message == "endpoints not reconciled"] == [NOT_LINKED]


def test_a_failing_table_leaves_the_discover_answer_unchanged(aws, amazon, door, sdm, sdm_api, caplog):
    home(sdm_api, LIVING)
    user = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    failing = LiveState(
        make_config(aws, amazon),
        sdm,
        clients=lambda: (FailingTransactions(aws["dynamodb"]), aws["kms"]),
        tokeninfo_url=amazon.tokeninfo_url,
    )
    with caplog.at_level(logging.WARNING):
        reply = discover(SmartHome(sdm, failing), LATER_TOKEN)
    assert failing.store.load(user).endpoints == ("living",)
    assert failing.store.users_for("bedroom") == []
    assert [r.reason for r in caplog.records if r.message == "endpoints not reconciled"] == [
        "TransactWriteItems: ProvisionedThroughputExceededException"
    ]
    assert reply["event"]["header"]["name"] == "Discover.Response"
    assert reply["event"]["payload"] == discover(door, LATER_TOKEN)["event"]["payload"]  # the table working
    assert failing.store.users_for("bedroom") == [user]


def test_endpoints_listed_meanwhile_are_kept_and_nothing_is_half_written(live, door, amazon, aws, sdm, sdm_api):
    home(sdm_api, LIVING)
    user = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)

    class EventListsOfficeFirst(TableClient):
        def transact_write_items(self, **kwargs):
            live.states.list_endpoint(user, "office")  # the events function: a thermostat added to the home
            return self.dynamodb.transact_write_items(**kwargs)

    store = LiveState(
        make_config(aws, amazon), sdm, clients=lambda: (EventListsOfficeFirst(aws["dynamodb"]), aws["kms"])
    ).store
    assert store.reconcile(user, ["living", "bedroom"], ANNS_GOOGLE).skipped == CHANGED_MEANWHILE
    assert store.load(user).endpoints == ("living", "office")
    assert store.users_for("bedroom") == []
    assert store.reconcile(user, ["living", "bedroom"], ANNS_GOOGLE).added == ("bedroom",)  # the next Discover
    assert store.load(user).endpoints == ("living", "bedroom")
    assert store.users_for("office") == []


def test_a_listing_left_under_a_google_account_the_user_no_longer_links_is_not_that_accounts_user(
    live, door, amazon, aws, sdm_api
):
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    link(door, amazon, "ann", "google-sub-other", "google-token-of-ann-on-another-account")
    left = {"pk": {"S": f"google#{ANNS_GOOGLE}"}, "sk": {"S": f"user#{ann}"}}
    aws["dynamodb"].put_item(TableName=TABLE, Item=left)  # as a linking cut short between its writes would
    assert live.store.reconcile(ann, ["living", "bedroom"], ANNS_GOOGLE).skipped == NOT_LINKED
    bob = link(door, amazon, "bob", "google-sub-ann", "google-token-of-bob-on-anns-account")
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    discover(door, LATER_TOKEN)
    assert live.store.users_for("bedroom") == [bob]  # bob's discovery: ann's list is not touched
    assert live.store.load(ann).endpoints == ("living",)
    assert "Item" not in aws["dynamodb"].get_item(TableName=TABLE, Key=left)  # the left-over listing is gone


def test_linking_another_google_account_unlists_the_user_from_the_old_home(live, door, amazon, sdm_api):
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    assert live.states.users_of_structure(STRUCTURE) == [ann]
    cabin = thermostat("cabin", room="Cabin", structure="cabin")
    sdm_api.replace("GET", DEVICES_URL, json={"devices": [cabin]})
    link(door, amazon, "ann", "google-sub-other", "google-token-of-ann-on-another-account")
    # A thermostat added to the old home (a Nest event) is no longer announced to ann's Alexa.
    assert live.states.users_of_structure(STRUCTURE) == []
    assert live.states.users_of_structure(Thermostat.from_sdm(cabin).structure) == [ann]
    assert live.store.users_for("living") == [] and live.store.users_for("cabin") == [ann]


def test_a_refused_grant_unlists_the_user_everywhere_unless_they_linked_again_since(live, door, amazon, aws, sdm_api):
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    read_before = live.store.load(ann)
    link(door, amazon, "ann", "google-sub-ann", "google-token-of-ann-again")
    assert not live.store.forget(read_before)  # the old grant's refusal takes nothing from the new one
    assert live.store.users_for("living") == [ann] and live.store.linked_to(ANNS_GOOGLE) == [ann]
    assert live.states.users_of_structure(STRUCTURE) == [ann]
    assert live.store.forget(live.store.load(ann))
    keys = [(i["pk"]["S"], i["sk"]["S"]) for i in aws["dynamodb"].scan(TableName=TABLE)["Items"]]
    assert [k for k in keys if k[1] == f"user#{ann}" or k[0] == f"user#{ann}"] == [(f"user#{ann}", "tokens")]
    assert live.store.users_for("living") == [] and live.store.linked_to(ANNS_GOOGLE) == []
    assert live.states.users_of_structure(STRUCTURE) == []


@pytest.mark.parametrize("others", [1, 2], ids=["once: read again, the later wins", "twice: refused"])
def test_two_linkings_of_one_user_at_once_never_leave_a_mix(live, door, amazon, aws, sdm, sdm_api, others):
    home(sdm_api, LIVING, BEDROOM)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    tokens = live.store.load(ann).tokens
    other = LiveState(make_config(aws, amazon), sdm).store
    left = [others]

    class AnotherLinkingFirst(TableClient):
        def transact_write_items(self, **kwargs):
            if left[0]:
                left[0] -= 1
                other.link(ann, "NA", ["bedroom"], tokens, ANNS_GOOGLE)
            return self.dynamodb.transact_write_items(**kwargs)

    store = LiveState(
        make_config(aws, amazon), sdm, clients=lambda: (AnotherLinkingFirst(aws["dynamodb"]), aws["kms"])
    ).store
    if others == 1:
        store.link(ann, "EU", ["living"], tokens, ANNS_GOOGLE)
        expected = ("EU", ("living",))
    else:
        with pytest.raises(StoreError):
            store.link(ann, "EU", ["living"], tokens, ANNS_GOOGLE)
        expected = ("NA", ("bedroom",))
    stored = store.load(ann)
    assert (stored.region, stored.endpoints) == expected
    assert sorted(e for e in ("living", "bedroom") if store.users_for(e) == [ann]) == sorted(expected[1])


def test_homes_listed_by_a_discovery_during_a_linking_stay_recorded(live, door, amazon, aws, sdm, sdm_api):
    """A discovery's listing (which records the user's homes) between a linking's read and write
    makes the linking read again, so no home listing is left that the item does not record."""
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    tokens = live.store.load(ann).tokens
    cabin = thermostat("cabin", room="Cabin", structure="cabin")
    cabin_home = Thermostat.from_sdm(cabin).structure
    done = []

    class DiscoveryFirst(TableClient):
        def transact_write_items(self, **kwargs):
            if not done:
                done.append(True)
                live.states.seed(ann, [("cabin", cabin, cabin_home)], time.time(), google=ANNS_GOOGLE)
            return self.dynamodb.transact_write_items(**kwargs)

    store = LiveState(
        make_config(aws, amazon), sdm, clients=lambda: (DiscoveryFirst(aws["dynamodb"]), aws["kms"])
    ).store
    store.link(ann, "NA", ["living"], tokens, google_key("google-sub-other"))  # another Google account
    assert live.states.users_of_structure(cabin_home) == [] and live.states.users_of_structure(STRUCTURE) == []


def test_a_listing_read_before_the_user_linked_another_google_account_lists_them_under_no_home(
    live, door, amazon, sdm_api
):
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    link(door, amazon, "ann", "google-sub-other", "google-token-of-ann-on-another-account")
    cabin = thermostat("cabin", room="Cabin", structure="cabin")
    live.states.seed(ann, [("cabin", cabin, Thermostat.from_sdm(cabin).structure)], time.time(), google=ANNS_GOOGLE)
    assert live.states.users_of_structure(Thermostat.from_sdm(cabin).structure) == []


def test_a_refused_grant_unlists_endpoints_an_event_listed_after_it_was_read(live, door, amazon, sdm_api):
    home(sdm_api, LIVING)
    ann = link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    read = live.store.load(ann)
    live.states.list_endpoint(ann, "office")  # the events function: a thermostat added to the home
    assert live.store.forget(read)
    assert live.store.users_for("office") == [] and live.store.users_for("living") == []


def test_no_time_left_after_the_answer_writes_nothing(live, door, amazon, aws, sdm_api, caplog):
    home(sdm_api, LIVING)
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    before = endpoint_items(aws)
    shared_later(sdm_api, amazon, LIVING, BEDROOM)
    with caplog.at_level(logging.WARNING):
        reply = discover(door, LATER_TOKEN, remaining_ms=1400)  # 0.9 s for SDM and the writes together
    assert answered(reply) == ["living", "bedroom"]
    assert endpoint_items(aws) == before
    assert live.states.load("bedroom") is None
    assert [(r.message, r.reason) for r in caplog.records] == [("discovery not stored", "deadline")]


class SlowTable(TableClient):
    """moto's DynamoDB client whose every call takes `seconds` of the test's clock."""

    def __init__(self, dynamodb, clock: Clock, seconds: float):
        super().__init__(dynamodb)
        self.clock, self.seconds, self.calls = clock, seconds, 0

    def __getattr__(self, name):
        call = getattr(self.dynamodb, name)
        if not name.endswith(("_item", "_items", "query")):
            return call

        def slow(**kwargs):
            try:
                answer = call(**kwargs)
            except OutOfTime:
                raise  # never sent: it took no time
            except Exception:
                self.took()
                raise
            self.took()
            return answer

        return slow

    def took(self):
        self.calls += 1
        self.clock.advance(self.seconds)


def test_a_slow_table_stops_storing_a_listing_by_the_deadline(live, door, amazon, aws, sdm, sdm_api, caplog):
    """Each DynamoDB call takes 0.4 s and storing ten thermostats takes over twenty of them: the calls
    stop while the last one can still end by the deadline, so Discover answers in time."""
    devices = [thermostat(f"room{i}", room=f"Room {i}") for i in range(10)]
    home(sdm_api, *devices)
    link(door, amazon, "ann", "google-sub-ann", GOOGLE_TOKEN)
    for i in range(10):
        live.states.forget_device(f"room{i}")
    clock = Clock()
    table = SlowTable(aws["dynamodb"], clock, 0.4)
    slow = LiveState(
        make_config(aws, amazon), sdm, clients=lambda: (table, aws["kms"]), tokeninfo_url=amazon.tokeninfo_url
    )
    deadline = Deadline(5.5, clock)
    with caplog.at_level(logging.WARNING):
        slow.listed(GOOGLE_TOKEN, devices, [f"room{i}" for i in range(10)], deadline)
    assert deadline.remaining() > 0  # the last call ended before the deadline
    assert table.calls == 8  # started with 2.5 s or more left: at 0, 0.4, ... 2.8 s
    stored = [i for i in range(10) if live.states.load(f"room{i}") is not None]
    assert stored and len(stored) < 10  # the rest comes with the next listing
    assert [r.reason for r in caplog.records if r.message == "device states not stored"] == ["PutItem: OutOfTime"]
