"""The token table: per linked user, their LWA tokens, the Alexa region whose gateway serves them and
the endpoints they see; per endpoint, the users who see it.

Keys (partition `pk`, sort `sk`, both strings):
- `user#<user key>` / `tokens`: one item per user, a user being an Alexa account. The user key is a
  hash of the Alexa account LWA names for AcceptGrant's tokens (reporter.user_key), so an Alexa
  account that links again replaces its own item, and two Alexa accounts linked to one Google account
  have an item each. Attributes: `region` (NA, EU, FE), `endpoints` (their endpointIds), `google` (a
  hash of the Google account they linked, when Google named it), `sealed` (the token pair,
  encrypted with the table's KMS key, the user's key in its encryption context), `expires_at`,
  `version` (every write of tokens is conditional on it), `relink_needed` once their grant was refused.
- `endpoint#<endpointId>` / `user#<user key>`: one item per endpoint a user sees. A change of one
  endpoint is reported to the users listed under it, and to no one else.
- `google#<google key>` / `user#<user key>`: the users linked to a Google account, for a discovery,
  which carries only the Google token (`linked_to`). A user's item is listed under one Google
  account at a time (its `google`), and under none once their grant was refused. Attribute:
  `version`, the user's item version link() wrote it with; `linked_to` deletes a stale listing
  only while it still has the version it read.
- `structure#<structure>` / `user#<user key>` (device_states.py): the users who see a home, for a
  thermostat added to it; the user's item keeps these homes in `structures` (a string set), so that
  linking another Google account, or a grant refused, unlists them.

A user's endpoints (their `endpoints` and their index items) are those AcceptGrant's listing gave,
made again those Alexa was given at each Discover (`reconcile`): a thermostat shared with them or
replaced after they linked is reported from the next discovery on, and one Alexa no longer has is not.

The table is also encrypted at rest by DynamoDB with the same key; the token pair is encrypted
before it is written as well, so that whoever can read items (a Scan, a backup, an export) without
kms:Decrypt on this key, with this user's encryption context, sees ciphertext.

boto3 is the Lambda runtime's, imported on first use: live state off never loads it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from nest_skill.live_state.lwa import Tokens
from nest_skill.sdm_client import Deadline

log = logging.getLogger(__name__)

TOKENS_SK = "tokens"
# Connections to DynamoDB and KMS in the home region: short timeouts and one attempt, so a slow AWS
# call ends well within the request's deadline.
AWS_CONNECT_TIMEOUT_S = 1.0
AWS_READ_TIMEOUT_S = 1.5
AWS_CALL_MAX_S = AWS_CONNECT_TIMEOUT_S + AWS_READ_TIMEOUT_S
"""The longest one DynamoDB or KMS call can take (one attempt: its connect, then its answer)."""

_bound = threading.local()


class OutOfTime(Exception):
    """An AWS call not started: the request's deadline (aws_calls_by) leaves less than AWS_CALL_MAX_S.
    The store's callers read it as any failed call: StoreError naming the operation."""


@contextlib.contextmanager
def aws_calls_by(deadline: Deadline) -> Iterator[None]:
    """Within the block, this thread's DynamoDB and KMS calls start only while `deadline` leaves them
    the time one can take, so however many calls a request makes and however slow AWS is, the last
    ends by the deadline and the answer goes out in time."""
    previous = getattr(_bound, "deadline", None)
    _bound.deadline = deadline
    try:
        yield
    finally:
        _bound.deadline = previous


def _in_time(event_name: str = "", **_kwargs: Any) -> None:
    """botocore's `before-call` event, before each call's request is made."""
    deadline = getattr(_bound, "deadline", None)
    if deadline is not None and deadline.remaining() < AWS_CALL_MAX_S:
        raise OutOfTime(event_name.rpartition(".")[2])


def user_pk(user: str) -> str:
    return f"user#{user}"


def endpoint_pk(endpoint_id: str) -> str:
    return f"endpoint#{endpoint_id}"


def google_pk(google: str) -> str:
    return f"google#{google}"


def structure_pk(structure: str) -> str:
    return f"structure#{structure}"


@dataclass(frozen=True)
class Link:
    """One user's item. `tokens` is None once their grant was refused (`relink_needed`)."""

    user: str
    region: str
    endpoints: tuple[str, ...]
    tokens: Tokens | None
    version: int
    relink_needed: bool = False
    google: str | None = None


class StoreError(Exception):
    """DynamoDB or KMS failed; the message names the operation, never a token."""


@dataclass(frozen=True)
class Reconciled:
    """What `TokenStore.reconcile` did: the endpoints listed and unlisted for the user, or, when it
    wrote nothing, why (`skipped`: NOT_LINKED, CHANGED_MEANWHILE; empty when the list was already right)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: str = ""


NOT_LINKED = "no tokens stored for the user"
CHANGED_MEANWHILE = "the user's endpoints changed meanwhile"
MAX_TRANSACTION_ACTIONS = 100
"""DynamoDB's TransactWriteItems limit: the user's item and one index item per endpoint listed or unlisted."""


def aws_clients(region: str) -> tuple[Any, Any]:
    """DynamoDB and KMS clients for `region` (the runtime's boto3, imported here, once needed)."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        connect_timeout=AWS_CONNECT_TIMEOUT_S,
        read_timeout=AWS_READ_TIMEOUT_S,
        retries={"total_max_attempts": 1},
    )
    return boto3.client("dynamodb", config=config), boto3.client("kms", config=config)


def shared_aws_clients(region: str, make: Callable[[], tuple[Any, Any]] | None = None) -> Callable[[], tuple[Any, Any]]:
    """One pair of clients (`make`'s, else aws_clients(region)) for the token store and the device
    states of one container, made on first use."""
    made: list[tuple[Any, Any]] = []

    def clients() -> tuple[Any, Any]:
        if not made:
            pair = (make or (lambda: aws_clients(region)))()
            for client in pair:
                client.meta.events.register("before-call", _in_time, unique_id="nest-skill-aws-calls-by")
            made.append(pair)
        return made[0]

    return clients


class TokenStore:
    def __init__(self, table: str, key_id: str, clients: Callable[[], tuple[Any, Any]]):
        self._table = table
        self._key_id = key_id  # the key's alias ARN, as the stacks give it
        self._make_clients = clients
        self._clients: tuple[Any, Any] | None = None

    def _aws(self) -> tuple[Any, Any]:
        if self._clients is None:
            self._clients = self._make_clients()
        return self._clients

    # -- reads ------------------------------------------------------------------------------------

    def users_for(self, endpoint_id: str) -> list[str]:
        """The users who see `endpoint_id` (one Query)."""
        return self._users_under(endpoint_pk(endpoint_id))

    def linked_to(self, google: str) -> list[str]:
        """The users linked, with tokens, to the Google account `google`: those listed under it whose
        item names it (one Query, one GetItem per listed user). A listing whose item no longer names
        it, or was refused, is deleted, on condition that it is still the listing read: the one a
        linking wrote meanwhile (with the item's new version) is kept."""
        dynamodb, _ = self._aws()
        linked = []
        for user, written in self._listings_under(google_pk(google)):
            item = self._call(
                "GetItem",
                functools.partial(
                    dynamodb.get_item,
                    TableName=self._table,
                    Key=self._key(user),
                    ProjectionExpression="google, sealed, relink_needed",
                    ConsistentRead=True,
                ),
            ).get("Item")
            if _linked(item) and item.get("google", {}).get("S") == google:
                linked.append(user)
            else:
                self._delete_stale_listing(google_pk(google), user, written)
        return linked

    def _listings_under(self, pk: str) -> list[tuple[str, dict[str, Any] | None]]:
        """Each user listed under `pk`, with the item version the listing was written with (None for
        a listing written without one)."""
        dynamodb, _ = self._aws()
        items = self._call(
            "Query",
            lambda: dynamodb.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
                ProjectionExpression="sk, version",
                ConsistentRead=True,
            ),
        )["Items"]
        return [(item["sk"]["S"].removeprefix("user#"), item.get("version")) for item in items]

    def _delete_stale_listing(self, pk: str, user: str, written: dict[str, Any] | None) -> None:
        dynamodb, _ = self._aws()
        condition: dict[str, Any] = (
            {"ConditionExpression": "version = :written", "ExpressionAttributeValues": {":written": written}}
            if written
            else {"ConditionExpression": "attribute_not_exists(version)"}
        )
        try:
            dynamodb.delete_item(TableName=self._table, Key=self._index_key_of(pk, user), **condition)
        except Exception as error:  # botocore's exceptions are classes of the client
            # ConditionalCheckFailed: a linking wrote it anew (kept), or another writer deleted it already.
            if _code(error) != "ConditionalCheckFailedException":
                raise StoreError(f"DeleteItem: {_code(error) or type(error).__name__}") from None

    def _users_under(self, pk: str) -> list[str]:
        return [user for user, _ in self._listings_under(pk)]

    def load(self, user: str) -> Link | None:
        """The user's item with their tokens decrypted; None when there is none."""
        dynamodb, _ = self._aws()
        item = self._call(
            "GetItem", lambda: dynamodb.get_item(TableName=self._table, Key=self._key(user), ConsistentRead=True)
        ).get("Item")
        if item is None:
            return None
        tokens = None
        if "sealed" in item:
            pair = json.loads(self._decrypt(user, item["sealed"]["B"]))
            tokens = Tokens(
                access_token=pair["access_token"],
                refresh_token=pair["refresh_token"],
                expires_at=float(item["expires_at"]["N"]),
            )
        return Link(
            user=user,
            region=item["region"]["S"],
            endpoints=tuple(v["S"] for v in item.get("endpoints", {}).get("L", [])),
            tokens=tokens,
            version=int(item["version"]["N"]),
            relink_needed=item.get("relink_needed", {}).get("BOOL", False),
            google=item.get("google", {}).get("S"),
        )

    # -- writes -----------------------------------------------------------------------------------

    def link(self, user: str, region: str, endpoints: Sequence[str], tokens: Tokens, google: str | None = None) -> Link:
        """AcceptGrant: the user's item replaced (an Alexa account linking again), their endpoints
        listed and those they no longer see unlisted, and the user listed under the Google account
        they linked (`google`, None when Google did not name it) and under no other; when that
        Google account changed, they are unlisted from the homes of the old one too (the listing
        AcceptGrant stores next lists them under their homes again). One GetItem, then one
        TransactWriteItems conditional on the item as read (its version, endpoints and homes), read
        again and tried once more when another write came between: two linkings of one user at
        once, or a linking beside an event's or a discovery's listing, never leave a listing the
        item does not record."""
        sealed = self._sealed(user, tokens)
        unique = tuple(dict.fromkeys(endpoints))
        for attempt in range(2):
            previous = self._read(user, "endpoints, version, google, structures")
            old_endpoints = {v["S"] for v in previous.get("endpoints", {}).get("L", [])}
            old_google = previous.get("google", {}).get("S")
            version = int(previous.get("version", {}).get("N", "0")) + 1
            item = {
                **self._key(user),
                "region": {"S": region},
                "endpoints": {"L": [{"S": e} for e in unique]},
                "version": {"N": str(version)},
                **({"google": {"S": google}} if google else {}),
                **sealed,
            }
            if old_google != google:
                gone = [google_pk(old_google)] if old_google else []
                gone += [structure_pk(v) for v in sorted(previous.get("structures", {}).get("SS", []))]
            else:
                item.update({"structures": previous["structures"]} if "structures" in previous else {})
                gone = []
            gone += [endpoint_pk(e) for e in sorted(old_endpoints - set(unique))]
            listed = [endpoint_pk(e) for e in unique]
            put: dict[str, Any] = {"TableName": self._table, "Item": item, **_unchanged(previous)}
            if not put["ExpressionAttributeValues"]:
                del put["ExpressionAttributeValues"]
            actions: list[dict[str, Any]] = [{"Put": put}]
            actions += [{"Put": {"TableName": self._table, "Item": self._index_key_of(pk, user)}} for pk in listed]
            if google:  # with the item's version, which tells it from a listing linked_to read before as stale
                listing = {**self._index_key_of(google_pk(google), user), "version": item["version"]}
                actions.append({"Put": {"TableName": self._table, "Item": listing}})
            actions += [{"Delete": {"TableName": self._table, "Key": self._index_key_of(pk, user)}} for pk in gone]
            try:
                self._transact(actions)
            except _ChangedMeanwhile:
                if attempt:
                    raise StoreError("TransactWriteItems: the user's item changed meanwhile") from None
                continue
            break
        return Link(user=user, region=region, endpoints=unique, tokens=tokens, version=version, google=google)

    def refreshed(self, link: Link, tokens: Tokens) -> Link:
        """Store refreshed tokens unless another request stored some since `link` was read (a
        conditional write on `version`): then theirs are kept and returned, so no token is lost."""
        dynamodb, _ = self._aws()
        sealed = self._sealed(link.user, tokens)
        try:
            dynamodb.update_item(
                TableName=self._table,
                Key=self._key(link.user),
                UpdateExpression="SET sealed = :sealed, expires_at = :expires, version = :next",
                ConditionExpression="version = :seen",
                ExpressionAttributeValues={
                    ":sealed": sealed["sealed"],
                    ":expires": sealed["expires_at"],
                    ":next": {"N": str(link.version + 1)},
                    ":seen": {"N": str(link.version)},
                },
            )
        except Exception as error:  # botocore's exceptions are classes of the client
            if _code(error) != "ConditionalCheckFailedException":
                raise StoreError(f"UpdateItem: {_code(error) or type(error).__name__}") from None
            stored = self.load(link.user)
            return stored if stored is not None else replace(link, tokens=None, relink_needed=True)
        return replace(link, tokens=tokens, version=link.version + 1)

    def forget(self, link: Link) -> bool:
        """The user's grant was refused: their tokens deleted, `relink_needed` set, the version moved
        on, and every listing of them removed (under their endpoints, their Google account and their
        homes, as their item records them now), in one TransactWriteItems, only while the item is
        the one `link` read (a user who linked again since keeps the new tokens and listings), read
        again and tried once more when an event's or a discovery's listing came between. True when
        this call made the change (so it is logged once)."""
        for _ in range(2):
            item = self._read(link.user, "endpoints, version, google, structures, sealed")
            if item.get("version", {}).get("N") != str(link.version) or "sealed" not in item:
                return False
            gone = [endpoint_pk(e) for e in sorted({v["S"] for v in item.get("endpoints", {}).get("L", [])})]
            gone += [google_pk(item["google"]["S"])] if "google" in item else []
            gone += [structure_pk(v) for v in sorted(item.get("structures", {}).get("SS", []))]
            unchanged = _unchanged(item)
            update = {
                "TableName": self._table,
                "Key": self._key(link.user),
                "UpdateExpression": (
                    "REMOVE sealed, expires_at, structures SET relink_needed = :yes, endpoints = :none, version = :next"
                ),
                "ConditionExpression": unchanged["ConditionExpression"] + " AND attribute_exists(sealed)",
                "ExpressionAttributeValues": {
                    ":yes": {"BOOL": True},
                    ":none": {"L": []},
                    ":next": {"N": str(link.version + 1)},
                    **unchanged["ExpressionAttributeValues"],
                },
            }
            actions: list[dict[str, Any]] = [{"Update": update}]
            actions += [{"Delete": {"TableName": self._table, "Key": self._index_key_of(pk, link.user)}} for pk in gone]
            try:
                self._transact(actions)
            except _ChangedMeanwhile:
                continue
            return True
        return False

    def reconcile(self, user: str, endpoint_ids: Sequence[str], google: str) -> Reconciled:
        """A Discover made with a token of the Google account `google` answered with `endpoint_ids`:
        the user's endpoints become those, an index item written for each one new to them and
        deleted for each Alexa no longer has. Only for a user with tokens (linked with AcceptGrant,
        not marked re-link needed) whose item names `google`: nothing is written for anyone else.
        One GetItem and, when the list differs, one TransactWriteItems whose update of the user's
        item is conditional on their tokens, their Google account and the list as read, so a
        re-link, a grant refused or an event's listing in between wins, and nothing is half written."""
        dynamodb, _ = self._aws()
        item = self._call(
            "GetItem",
            lambda: dynamodb.get_item(
                TableName=self._table,
                Key=self._key(user),
                ProjectionExpression="endpoints, relink_needed, sealed, google",
                ConsistentRead=True,
            ),
        ).get("Item")
        if not _linked(item) or item.get("google", {}).get("S") != google:
            return Reconciled(skipped=NOT_LINKED)
        listed = [v["S"] for v in item.get("endpoints", {}).get("L", [])]
        wanted = tuple(dict.fromkeys(endpoint_ids))
        added = tuple(e for e in wanted if e not in listed)
        removed = tuple(e for e in dict.fromkeys(listed) if e not in wanted)
        if not added and not removed:
            return Reconciled()
        seen: dict[str, Any] = {":google": {"S": google}}
        if "endpoints" in item:
            condition, seen[":seen"] = (
                "attribute_exists(sealed) AND google = :google AND endpoints = :seen",
                item["endpoints"],
            )
        else:
            condition = "attribute_exists(sealed) AND google = :google AND attribute_not_exists(endpoints)"
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._key(user),
                    "UpdateExpression": "SET endpoints = :now",
                    "ConditionExpression": condition,
                    "ExpressionAttributeValues": {":now": {"L": [{"S": e} for e in wanted]}, **seen},
                }
            }
        ]
        actions += [{"Put": {"TableName": self._table, "Item": self._index_key(e, user)}} for e in added]
        actions += [{"Delete": {"TableName": self._table, "Key": self._index_key(e, user)}} for e in removed]
        try:
            self._transact(actions)
        except _ChangedMeanwhile:
            return Reconciled(skipped=CHANGED_MEANWHILE)
        return Reconciled(added=added, removed=removed)

    # -- helpers ----------------------------------------------------------------------------------

    def _read(self, user: str, projection: str) -> dict[str, Any]:
        dynamodb, _ = self._aws()
        return dict(
            self._call(
                "GetItem",
                functools.partial(
                    dynamodb.get_item,
                    TableName=self._table,
                    Key=self._key(user),
                    ProjectionExpression=projection,
                    ConsistentRead=True,
                ),
            ).get("Item", {})
        )

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        dynamodb, _ = self._aws()
        transact(dynamodb, actions)

    def _key(self, user: str) -> dict[str, Any]:
        return {"pk": {"S": user_pk(user)}, "sk": {"S": TOKENS_SK}}

    @staticmethod
    def _index_key(endpoint_id: str, user: str) -> dict[str, Any]:
        return TokenStore._index_key_of(endpoint_pk(endpoint_id), user)

    @staticmethod
    def _index_key_of(pk: str, user: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": user_pk(user)}}

    def _context(self, user: str) -> dict[str, str]:
        return {"table": self._table, "user": user}

    def _sealed(self, user: str, tokens: Tokens) -> dict[str, Any]:
        _, kms = self._aws()
        plaintext = json.dumps({"access_token": tokens.access_token, "refresh_token": tokens.refresh_token})
        blob = self._call(
            "Encrypt",
            lambda: kms.encrypt(
                KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=self._context(user)
            ),
        )["CiphertextBlob"]
        return {"sealed": {"B": blob}, "expires_at": {"N": repr(tokens.expires_at)}}

    def _decrypt(self, user: str, blob: bytes) -> bytes:
        _, kms = self._aws()
        return self._call(
            "Decrypt",
            lambda: kms.decrypt(KeyId=self._key_id, CiphertextBlob=blob, EncryptionContext=self._context(user)),
        )["Plaintext"]

    @staticmethod
    def _call(operation: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as error:  # botocore's errors, whatever the client
            raise StoreError(f"{operation}: {_code(error) or type(error).__name__}") from None


def _unchanged(item: dict[str, Any]) -> dict[str, Any]:
    """A condition that the user's item is still `item` as read: none when it did not exist, else
    the same version, endpoints and homes (the attributes other writers change without a version)."""
    if "version" not in item:
        return {"ConditionExpression": "attribute_not_exists(pk)", "ExpressionAttributeValues": {}}
    parts, values = ["version = :seen"], {":seen": item["version"]}
    for name in ("endpoints", "structures"):
        if name in item:
            parts.append(f"{name} = :seen_{name}")
            values[f":seen_{name}"] = item[name]
        else:
            parts.append(f"attribute_not_exists({name})")
    return {"ConditionExpression": " AND ".join(parts), "ExpressionAttributeValues": values}


class _ChangedMeanwhile(Exception):
    """A transaction's condition on the user's item failed: another write came first."""


def transact(dynamodb: Any, actions: list[dict[str, Any]]) -> None:
    """One TransactWriteItems; _ChangedMeanwhile when the first action's condition failed, StoreError
    naming the operation for anything else."""
    if len(actions) > MAX_TRANSACTION_ACTIONS:
        raise StoreError(f"TransactWriteItems: over {MAX_TRANSACTION_ACTIONS} actions")
    try:
        dynamodb.transact_write_items(TransactItems=actions)
    except Exception as error:  # botocore's exceptions are classes of the client
        reasons = getattr(error, "response", {}).get("CancellationReasons") or [{}]
        if _code(error) == "TransactionCanceledException" and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise _ChangedMeanwhile from None
        raise StoreError(f"TransactWriteItems: {_code(error) or type(error).__name__}") from None


def _linked(item: dict[str, Any] | None) -> bool:
    """An item with tokens, not marked re-link needed."""
    return item is not None and "sealed" in item and not item.get("relink_needed", {}).get("BOOL", False)


def _code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
