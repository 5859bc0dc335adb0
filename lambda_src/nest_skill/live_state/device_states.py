"""Each thermostat's last-known state, as Nest's events leave it, in the token table beside the tokens.

Items (partition `pk`, sort `sk`, both strings; store.py has the users' and endpoints' items):
- `device#<endpointId>` / `state`: the SDM device document (`name`, `type`, `traits`,
  `parentRelations`) with every trait field's newest `timestamp` (`stamps`, "Trait/field" -> seconds
  since the epoch), a `version` every write is conditional on, `complete` once a full device listing
  (AcceptGrant, with the user's Google token) gave every trait, and `suspect` after the known bad
  update (`ThermostatMode {mode: OFF, availableModes: [OFF]}`), until the next listing.
- `event#<eventId>` / `applied`: an SDM event applied and reported; `delete_after` (DynamoDB's
  time-to-live attribute) is EVENT_TTL_S later, beyond Pub/Sub's longest retention, so a redelivered
  or replayed event is found here for as long as Pub/Sub could send it again.
- `structure#<enterprises/…/structures/…>` / `user#<user key>`: the users who see a home, for a
  thermostat added to it.

SDM's `resourceUpdate` carries only the traits that changed, and only a trait's changed fields may be
there; events arrive out of order, repeated and combined (developers.google.com/nest/device-access/api/events:
"use the timestamp field"). So a field takes an event's value only when the event is newer than the
field's stamp (python-google-nest-sdm keeps the newest per trait the same way), and applying an event
twice, or an old one late, changes nothing.

Not `expires_at`: that attribute holds the LWA token's expiry on a user's item, and must never be the
table's time-to-live attribute.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nest_skill.live_state.store import (
    StoreError,
    _ChangedMeanwhile,
    _code,
    endpoint_pk,
    structure_pk,
    transact,
    user_pk,
)

STATE_SK = "state"
APPLIED_SK = "applied"
EVENT_TTL_S = 8 * 24 * 3600
"""Pub/Sub keeps an unacknowledged message at most 7 days (a subscription's longest retention); a day more."""
TTL_ATTRIBUTE = "delete_after"
TRAIT = "sdm.devices.traits."


def device_pk(endpoint_id: str) -> str:
    return f"device#{endpoint_id}"


def event_pk(event_id: str) -> str:
    return f"event#{event_id}"


@dataclass
class DeviceState:
    endpoint_id: str
    document: dict[str, Any]
    stamps: dict[str, float] = field(default_factory=dict)
    version: int = 0
    """0: not stored yet."""
    complete: bool = False
    suspect: bool = False

    def copy(self) -> DeviceState:
        return DeviceState(
            self.endpoint_id, copy.deepcopy(self.document), dict(self.stamps), self.version, self.complete, self.suspect
        )

    def merge(self, traits: Mapping[str, Any], at: float) -> bool:
        """An event's traits taken field by field where the event is newer than the field; True when a
        value changed."""
        changed = False
        all_traits = self.document.setdefault("traits", {})
        for trait, fields in traits.items():
            if not isinstance(fields, Mapping):
                continue
            for name, value in fields.items():
                key = f"{trait}/{name}"
                if at <= self.stamps.get(key, float("-inf")):
                    continue
                self.stamps[key] = at
                current = all_traits.setdefault(trait, {})
                if current.get(name) != value:
                    current[name] = copy.deepcopy(value)
                    changed = True
        return changed

    def reseeded(self, device: Mapping[str, Any], at: float) -> DeviceState:
        """The state after a full listing read at `at`: the listing's document, with each field an
        event set after `at` kept; fields the listing lacks are gone (a trait SDM no longer lists)."""
        fresh = DeviceState(
            self.endpoint_id,
            {k: copy.deepcopy(device[k]) for k in ("name", "type", "traits", "parentRelations") if k in device},
            {},
            self.version,
            complete=True,
            suspect=False,
        )
        traits = fresh.document.setdefault("traits", {})
        for trait, fields in traits.items():
            if isinstance(fields, dict):
                for name in fields:
                    fresh.stamps[f"{trait}/{name}"] = at
        newer: dict[str, dict[str, Any]] = {}
        for key, stamp in self.stamps.items():
            trait, _, name = key.partition("/")
            value = self.document.get("traits", {}).get(trait, {})
            if stamp > at and name in value:
                newer.setdefault(trait, {})[name] = (value[name], stamp)
        for trait, fields in newer.items():
            for name, (value, stamp) in fields.items():
                traits.setdefault(trait, {})[name] = value
                fresh.stamps[f"{trait}/{name}"] = stamp
        return fresh


class DeviceStates:
    def __init__(self, table: str, clients: Callable[[], tuple[Any, Any]], clock: Callable[[], float] = time.time):
        self._table = table
        self._make_clients = clients
        self._dynamodb: Any = None
        self._clock = clock

    def _db(self) -> Any:
        if self._dynamodb is None:
            self._dynamodb = self._make_clients()[0]
        return self._dynamodb

    # -- events applied ---------------------------------------------------------------------------

    def applied(self, event_id: str) -> bool:
        item = _call(
            "GetItem",
            lambda: self._db().get_item(
                TableName=self._table, Key=_key(event_pk(event_id), APPLIED_SK), ConsistentRead=True
            ),
        ).get("Item")
        # DynamoDB deletes expired items within days, not at once: an expired one no longer counts.
        return item is not None and float(item.get(TTL_ATTRIBUTE, {}).get("N", "0")) > self._clock()

    def mark_applied(self, event_id: str) -> None:
        item = {**_key(event_pk(event_id), APPLIED_SK), TTL_ATTRIBUTE: {"N": str(int(self._clock() + EVENT_TTL_S))}}
        _call("PutItem", lambda: self._db().put_item(TableName=self._table, Item=item))

    # -- device states ----------------------------------------------------------------------------

    def load(self, endpoint_id: str) -> DeviceState | None:
        item = _call(
            "GetItem",
            lambda: self._db().get_item(
                TableName=self._table, Key=_key(device_pk(endpoint_id), STATE_SK), ConsistentRead=True
            ),
        ).get("Item")
        if item is None:
            return None
        return DeviceState(
            endpoint_id,
            json.loads(item["document"]["S"]),
            {k: float(v) for k, v in json.loads(item["stamps"]["S"]).items()},
            int(item["version"]["N"]),
            item.get("complete", {}).get("BOOL", False),
            item.get("suspect", {}).get("BOOL", False),
        )

    def save(self, state: DeviceState) -> bool:
        """Write `state` unless another writer stored a version since it was read; False then."""
        item = {
            **_key(device_pk(state.endpoint_id), STATE_SK),
            "document": {"S": json.dumps(state.document, separators=(",", ":"))},
            "stamps": {"S": json.dumps(state.stamps, separators=(",", ":"))},
            "version": {"N": str(state.version + 1)},
            "complete": {"BOOL": state.complete},
            "suspect": {"BOOL": state.suspect},
        }
        condition = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if state.version == 0
            else {
                "ConditionExpression": "version = :seen",
                "ExpressionAttributeValues": {":seen": {"N": str(state.version)}},
            }
        )
        try:
            self._db().put_item(TableName=self._table, Item=item, **condition)
        except Exception as error:
            if _code(error) == "ConditionalCheckFailedException":
                return False
            raise StoreError(f"PutItem: {_code(error) or type(error).__name__}") from None
        state.version += 1
        return True

    def forget_device(self, endpoint_id: str) -> None:
        _call(
            "DeleteItem",
            lambda: self._db().delete_item(TableName=self._table, Key=_key(device_pk(endpoint_id), STATE_SK)),
        )

    def seed(
        self,
        user: str | None,
        devices: Iterable[tuple[str, Mapping[str, Any], str]],
        at: float,
        attempts: int = 3,
        google: str | None = None,
    ) -> None:
        """A full listing read with `user`'s Google token at `at`: each (endpointId, SDM device,
        structure) stored as the device's complete state (fields events set later kept), and the
        user listed under each structure (no one when `user` is None: the listing's Alexa account is
        not known). The user's item records those homes in the same transaction, which holds only
        while the item has tokens and names `google` (the Google account the listing was read
        with; none when None): a listing read before the user linked another Google account lists
        them nowhere."""
        structures = set()
        for endpoint_id, device, structure in devices:
            if structure:
                structures.add(structure)
            for _ in range(attempts):
                stored = self.load(endpoint_id) or DeviceState(endpoint_id, {})
                if self.save(stored.reseeded(device, at)):
                    break
        if user is None or not structures:
            return
        condition = "attribute_exists(sealed) AND " + ("google = :google" if google else "attribute_not_exists(google)")
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(user_pk(user), "tokens"),
            "UpdateExpression": "ADD structures :homes",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {
                ":homes": {"SS": sorted(structures)},
                **({":google": {"S": google}} if google else {}),
            },
        }
        actions: list[dict[str, Any]] = [{"Update": update}]
        actions += [
            {"Put": {"TableName": self._table, "Item": _key(structure_pk(structure), user_pk(user))}}
            for structure in sorted(structures)
        ]
        try:
            transact(self._db(), actions)
        except _ChangedMeanwhile:
            return  # linked again meanwhile, or refused: the next listing stores their homes

    def users_of_structure(self, structure: str) -> list[str]:
        items = _call(
            "Query",
            lambda: self._db().query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": structure_pk(structure)}},
                ProjectionExpression="sk",
            ),
        )["Items"]
        return [item["sk"]["S"].removeprefix("user#") for item in items]

    # -- who sees an endpoint ---------------------------------------------------------------------

    def list_endpoint(self, user: str, endpoint_id: str) -> None:
        """`user` sees `endpoint_id` (Alexa was told of it): the endpoint's index item and the user's list."""
        _call(
            "PutItem",
            lambda: self._db().put_item(TableName=self._table, Item=_key(endpoint_pk(endpoint_id), user_pk(user))),
        )
        try:
            self._db().update_item(
                TableName=self._table,
                Key=_key(user_pk(user), "tokens"),
                UpdateExpression="SET endpoints = list_append(if_not_exists(endpoints, :none), :one)",
                ConditionExpression="attribute_exists(pk) AND NOT contains(endpoints, :id)",
                ExpressionAttributeValues={
                    ":none": {"L": []},
                    ":one": {"L": [{"S": endpoint_id}]},
                    ":id": {"S": endpoint_id},
                },
            )
        except Exception as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise StoreError(f"UpdateItem: {_code(error) or type(error).__name__}") from None

    def unlist_endpoint(self, user: str, endpoint_id: str, endpoints: Iterable[str]) -> None:
        """`user` no longer sees `endpoint_id` (Alexa was told it is gone). `endpoints`: the user's list as read."""
        _call(
            "DeleteItem",
            lambda: self._db().delete_item(TableName=self._table, Key=_key(endpoint_pk(endpoint_id), user_pk(user))),
        )
        listed = list(endpoints)
        if endpoint_id not in listed:
            return
        index = listed.index(endpoint_id)
        try:
            self._db().update_item(
                TableName=self._table,
                Key=_key(user_pk(user), "tokens"),
                UpdateExpression=f"REMOVE endpoints[{index}]",
                ConditionExpression=f"endpoints[{index}] = :id",
                ExpressionAttributeValues={":id": {"S": endpoint_id}},
            )
        except Exception as error:
            if _code(error) != "ConditionalCheckFailedException":  # the list changed meanwhile: a re-link wrote it
                raise StoreError(f"UpdateItem: {_code(error) or type(error).__name__}") from None


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _call(operation: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as error:
        raise StoreError(f"{operation}: {_code(error) or type(error).__name__}") from None
