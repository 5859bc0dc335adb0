"""The credentials object in the encrypted bucket: what is written, what the operator sees of it without
reading it (its tags), and what is never shown."""

from __future__ import annotations

import sys

import pytest

from oauth_bridge.properties import parse_properties
from ops.credentials import (
    CredentialsError,
    describe_credentials,
    prompt_for_credentials,
    prompt_for_secret,
    store_credentials,
    stored_credentials,
)
from tests.ops.helpers import CLIENT_ID, CLIENT_SECRET, Stdin

OTHER_SECRET = "test-rotated-client-secret"


def never_asked(prompt: str) -> str:
    raise AssertionError(f"prompted although the environment had the value: {prompt}")


def test_store_writes_the_three_properties_the_bridge_reads(secrets):
    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)

    values = parse_properties(secrets.body())
    assert set(values) == {"clientid", "clientsecret", "statekey"}
    assert values["clientid"] == CLIENT_ID
    assert values["clientsecret"] == CLIENT_SECRET
    assert len(values["statekey"]) >= 32


def test_store_encrypts_with_the_stacks_kms_key(secrets):
    # An AWS-managed default for the bucket, so the object's key can only come from the request itself.
    secrets.s3.put_bucket_encryption(
        Bucket=secrets.location.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )

    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)

    head = secrets.s3.head_object(Bucket=secrets.location.bucket, Key=secrets.location.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == secrets.location.kms_key_arn


def test_store_describes_the_object_in_tags_that_hold_no_secret(secrets):
    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)

    tags = secrets.s3.get_object_tagging(Bucket=secrets.location.bucket, Key=secrets.location.key)["TagSet"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == {
        "clientid": CLIENT_ID,
        "properties": "clientid clientsecret statekey",
    }
    stored = stored_credentials(secrets.location, secrets.s3)
    assert stored.client_id == CLIENT_ID and stored.is_complete
    assert CLIENT_SECRET not in repr(stored)


def test_stored_credentials_never_read_the_object(secrets):
    """What the operator may do under the bucket policy: GetObjectTagging, not GetObject (nor HeadObject,
    which S3 authorizes as s3:GetObject)."""
    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)
    calls = []
    secrets.s3.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))

    stored_credentials(secrets.location, secrets.s3)
    describe_credentials(secrets.location, secrets.s3)
    store_credentials(secrets.location, CLIENT_ID, OTHER_SECRET, secrets.s3)

    assert set(calls) == {"GetObjectTagging", "PutObject"}


def test_each_store_replaces_the_secret_and_makes_a_new_state_key(secrets):
    first = store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)
    state_key = parse_properties(secrets.body())["statekey"]

    second = store_credentials(secrets.location, CLIENT_ID, OTHER_SECRET, secrets.s3)

    values = parse_properties(secrets.body())
    assert values["clientsecret"] == OTHER_SECRET
    assert values["statekey"] != state_key
    assert "new state key" in first and "new state key" in second
    assert "account linkings in progress must be started again" in second
    assert CLIENT_SECRET not in first and OTHER_SECRET not in second
    assert secrets.versions() == 2


@pytest.mark.parametrize(
    "client_id, client_secret",
    [
        ("", CLIENT_SECRET),
        (CLIENT_ID, ""),
        (CLIENT_ID, "   "),
        (CLIENT_ID, "two\nstatekey=chosen-by-the-input"),
    ],
    ids=["empty id", "empty secret", "blank secret", "line break"],
)
def test_values_that_cannot_be_stored_are_refused_and_nothing_is_written(secrets, client_id, client_secret):
    with pytest.raises(CredentialsError) as raised:
        store_credentials(secrets.location, client_id, client_secret, secrets.s3)

    assert not secrets.exists()
    assert "chosen-by-the-input" not in str(raised.value)


def test_describe_shows_the_client_id_and_never_the_secret_or_state_key(secrets):
    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)
    state_key = parse_properties(secrets.body())["statekey"]

    shown = describe_credentials(secrets.location, secrets.s3)

    assert str(secrets.location) in shown
    assert f"clientid: {CLIENT_ID}" in shown
    assert CLIENT_SECRET not in shown
    assert state_key not in shown
    assert shown.count("set (not readable by the operator)") == 2
    assert "MISSING" not in shown


def test_an_object_without_the_tags_reads_as_incomplete(secrets):
    """Written by hand or by an earlier version: the deploy stores complete credentials again."""
    secrets.s3.put_object(
        Bucket=secrets.location.bucket,
        Key=secrets.location.key,
        Body=f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\n".encode(),
    )

    stored = stored_credentials(secrets.location, secrets.s3)
    shown = describe_credentials(secrets.location, secrets.s3)

    assert stored is not None and not stored.is_complete
    for key in ("clientid", "clientsecret", "statekey"):
        assert f"{key}: MISSING" in shown
    assert "run `make credentials`" in shown


def test_describe_says_when_nothing_is_stored_yet(secrets):
    shown = describe_credentials(secrets.location, secrets.s3)

    assert "no credentials stored yet" in shown
    assert str(secrets.location) in shown


def test_an_unreadable_bucket_is_a_credentials_error_naming_the_cause(secrets):
    secrets.s3.delete_bucket_encryption(Bucket=secrets.location.bucket)
    secrets.s3.delete_bucket(Bucket=secrets.location.bucket)

    with pytest.raises(CredentialsError, match="NoSuchBucket"):
        stored_credentials(secrets.location, secrets.s3)


def test_prompt_for_secret_reads_only_the_secret(monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))

    assert prompt_for_secret({"NEST_CLIENT_SECRET": f" {CLIENT_SECRET} "}, never_asked) == CLIENT_SECRET
    assert prompt_for_secret({}, lambda prompt: OTHER_SECRET) == OTHER_SECRET


def test_prompt_takes_both_values_from_the_environment(monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))
    environ = {"NEST_CLIENT_ID": f" {CLIENT_ID} ", "NEST_CLIENT_SECRET": CLIENT_SECRET}

    assert prompt_for_credentials("111-default.apps.googleusercontent.com", environ, never_asked, never_asked) == (
        CLIENT_ID,
        CLIENT_SECRET,
    )


def test_prompt_falls_back_to_the_configured_client_id_without_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=False))

    assert prompt_for_credentials(CLIENT_ID, {"NEST_CLIENT_SECRET": CLIENT_SECRET}, never_asked, never_asked) == (
        CLIENT_ID,
        CLIENT_SECRET,
    )


def test_prompt_asks_on_a_terminal_with_the_secret_unechoed(monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))
    asked, asked_secretly = [], []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "987654321098-typedclientid.apps.googleusercontent.com"

    def ask_secret(prompt: str) -> str:
        asked_secretly.append(prompt)
        return f"  {CLIENT_SECRET}  "

    result = prompt_for_credentials(CLIENT_ID, {}, ask, ask_secret)

    assert result == ("987654321098-typedclientid.apps.googleusercontent.com", CLIENT_SECRET)
    assert len(asked) == 1 and CLIENT_ID in asked[0]
    assert len(asked_secretly) == 1 and "secret" in asked_secretly[0]


def test_an_empty_answer_keeps_the_configured_client_id(monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))

    assert prompt_for_credentials(CLIENT_ID, {}, lambda prompt: "", lambda prompt: CLIENT_SECRET) == (
        CLIENT_ID,
        CLIENT_SECRET,
    )


@pytest.mark.parametrize("stdin", [Stdin(tty=False), None], ids=["not a terminal", "no stdin"])
def test_no_terminal_and_no_secret_in_the_environment_is_refused(monkeypatch, stdin):
    monkeypatch.setattr(sys, "stdin", stdin)

    with pytest.raises(CredentialsError, match="NEST_CLIENT_SECRET"):
        prompt_for_credentials(CLIENT_ID, {"NEST_CLIENT_ID": CLIENT_ID}, never_asked, never_asked)
