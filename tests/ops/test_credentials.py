"""The credentials object in the encrypted bucket: what is written, what is kept, what is never shown."""

from __future__ import annotations

import sys

import pytest
from oauth_bridge.properties import parse_properties

from ops.credentials import (CredentialsError, describe_credentials, prompt_for_credentials, read_credentials,
                             store_credentials)
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
    secrets.s3.put_bucket_encryption(Bucket=secrets.location.bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})

    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)

    head = secrets.s3.head_object(Bucket=secrets.location.bucket, Key=secrets.location.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == secrets.location.kms_key_arn


def test_a_second_store_replaces_the_secret_and_keeps_the_state_key(secrets):
    first = store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)
    state_key = parse_properties(secrets.body())["statekey"]

    second = store_credentials(secrets.location, CLIENT_ID, OTHER_SECRET, secrets.s3)

    values = parse_properties(secrets.body())
    assert values["clientsecret"] == OTHER_SECRET
    assert values["statekey"] == state_key
    assert "generated a new state key" in first
    assert "kept the existing state key" in second
    assert CLIENT_SECRET not in first and OTHER_SECRET not in second


def test_each_new_object_gets_its_own_state_key(secrets):
    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)
    first = parse_properties(secrets.body())["statekey"]
    secrets.s3.delete_object(Bucket=secrets.location.bucket, Key=secrets.location.key)

    store_credentials(secrets.location, CLIENT_ID, CLIENT_SECRET, secrets.s3)

    assert parse_properties(secrets.body())["statekey"] != first


@pytest.mark.parametrize("client_id, client_secret", [
    ("", CLIENT_SECRET),
    (CLIENT_ID, ""),
    (CLIENT_ID, "   "),
    (CLIENT_ID, "two\nstatekey=chosen-by-the-input"),
], ids=["empty id", "empty secret", "blank secret", "line break"])
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
    assert CLIENT_ID in shown
    assert CLIENT_SECRET not in shown
    assert state_key not in shown
    assert shown.count("redacted") == 2


def test_describe_names_missing_keys(secrets):
    secrets.s3.put_object(Bucket=secrets.location.bucket, Key=secrets.location.key,
                          Body=f"clientid={CLIENT_ID}\nclientsecret=\n".encode())

    shown = describe_credentials(secrets.location, secrets.s3)

    assert "clientsecret: MISSING" in shown
    assert "statekey: MISSING" in shown
    assert "clientid: MISSING" not in shown


def test_describe_says_when_nothing_is_stored_yet(secrets):
    shown = describe_credentials(secrets.location, secrets.s3)

    assert "no credentials stored yet" in shown
    assert str(secrets.location) in shown


def test_a_malformed_object_names_its_location_but_not_its_content(secrets):
    secrets.s3.put_object(Bucket=secrets.location.bucket, Key=secrets.location.key,
                          Body=b"clientsecret: colon-separated-secret-value\n")

    with pytest.raises(CredentialsError) as raised:
        read_credentials(secrets.location, secrets.s3)

    message = str(raised.value)
    assert f"s3://{secrets.location.bucket}/{secrets.location.key}" in message
    assert "colon-separated-secret-value" not in message


def test_an_unreadable_bucket_is_a_credentials_error_naming_the_cause(secrets):
    secrets.s3.delete_bucket_encryption(Bucket=secrets.location.bucket)
    secrets.s3.delete_bucket(Bucket=secrets.location.bucket)

    with pytest.raises(CredentialsError, match="NoSuchBucket"):
        read_credentials(secrets.location, secrets.s3)


def test_prompt_takes_both_values_from_the_environment(monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))
    environ = {"NEST_CLIENT_ID": f" {CLIENT_ID} ", "NEST_CLIENT_SECRET": CLIENT_SECRET}

    assert prompt_for_credentials("111-default.apps.googleusercontent.com", environ, never_asked, never_asked) \
        == (CLIENT_ID, CLIENT_SECRET)


def test_prompt_falls_back_to_the_configured_client_id_without_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=False))

    assert prompt_for_credentials(CLIENT_ID, {"NEST_CLIENT_SECRET": CLIENT_SECRET}, never_asked, never_asked) \
        == (CLIENT_ID, CLIENT_SECRET)


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

    assert prompt_for_credentials(CLIENT_ID, {}, lambda prompt: "", lambda prompt: CLIENT_SECRET) \
        == (CLIENT_ID, CLIENT_SECRET)


@pytest.mark.parametrize("stdin", [Stdin(tty=False), None], ids=["not a terminal", "no stdin"])
def test_no_terminal_and_no_secret_in_the_environment_is_refused(monkeypatch, stdin):
    monkeypatch.setattr(sys, "stdin", stdin)

    with pytest.raises(CredentialsError, match="NEST_CLIENT_SECRET"):
        prompt_for_credentials(CLIENT_ID, {"NEST_CLIENT_ID": CLIENT_ID}, never_asked, never_asked)
