"""Stores and describes the OAuth client credentials object in the encrypted bucket, never reading it.

Values come from the environment (NEST_CLIENT_ID, NEST_CLIENT_SECRET) or a prompt, never from argv,
and the secret is never printed. Only the bridge may read the object (the secrets stack's key and
bucket policies), so what the operator sees of it comes from object tags written with it: the
client ID and the names of the properties stored, never a value that is secret.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError

from oauth_bridge.properties import MalformedProperties, format_properties
from ops.outputs import Outputs

CLIENT_ID_ENV = "NEST_CLIENT_ID"
CLIENT_SECRET_ENV = "NEST_CLIENT_SECRET"
REQUIRED_KEYS = ("clientid", "clientsecret", "statekey")
CLIENT_ID_TAG = "clientid"
PROPERTIES_TAG = "properties"


class CredentialsError(RuntimeError):
    """A credentials operation failed; the message names bucket, key and cause, never a value."""


@dataclass(frozen=True)
class CredentialsLocation:
    bucket: str
    key: str
    kms_key_arn: str

    @classmethod
    def from_outputs(cls, outputs: Outputs) -> CredentialsLocation:
        return cls(
            outputs.require("SecretsBucketName"), outputs.require("SecretsObjectKey"), outputs.require("SecretsKeyArn")
        )

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class StoredCredentials:
    """What the object's tags say about it: the client ID and the names of the properties it holds."""

    client_id: str
    properties: tuple[str, ...]
    version_id: str | None

    @property
    def is_complete(self) -> bool:
        """Whether it needs nothing more: a client ID, a secret and the bridge's state key."""
        return bool(self.client_id) and all(key in self.properties for key in REQUIRED_KEYS)


def stored_credentials(location: CredentialsLocation, s3: Any) -> StoredCredentials | None:
    """The stored object's description from its tags (GetObjectTagging), or None when none exists yet.

    Never reads the object: the bucket policy denies s3:GetObject, which also authorizes HeadObject,
    to everyone but the bridge. An object written before the tags existed reads as incomplete.
    """
    try:
        response = s3.get_object_tagging(Bucket=location.bucket, Key=location.key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise CredentialsError(f"cannot read the tags of {location}: {error.response['Error']['Code']}") from None
    except BotoCoreError as error:
        raise CredentialsError(f"cannot read the tags of {location}: {type(error).__name__}") from None
    tags = {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}
    return StoredCredentials(
        tags.get(CLIENT_ID_TAG, ""), tuple(tags.get(PROPERTIES_TAG, "").split()), response.get("VersionId")
    )


@dataclass(frozen=True)
class WrittenCredentials:
    """What one store wrote: the object version S3 made and the body's length, which the operator can
    read back (ListObjectVersions) without reading the object."""

    version_id: str | None
    size: int
    message: str


def store_credentials(location: CredentialsLocation, client_id: str, client_secret: str, s3: Any) -> str:
    """Writes clientid/clientsecret and a new state key; returns what happened, in words."""
    return write_credentials(location, client_id, client_secret, s3).message


def write_credentials(location: CredentialsLocation, client_id: str, client_secret: str, s3: Any) -> WrittenCredentials:
    """Writes clientid/clientsecret and a new state key; returns the version written and what happened.

    The state key cannot be kept, since the operator may not read the object: each store makes a
    new one, and account linkings started before it (their state sealed with the old key) fail once
    and are retried by the user. The upload names the stack's KMS key, as the bucket policy requires.
    """
    if not client_id or not client_secret:
        raise CredentialsError("the client ID and the client secret must both be non-empty")
    values = {"clientid": client_id, "clientsecret": client_secret, "statekey": secrets.token_urlsafe(32)}
    try:
        body = format_properties(values)
    except MalformedProperties as error:
        raise CredentialsError(f"cannot store these values: {error}") from None
    tags = urlencode({CLIENT_ID_TAG: client_id, PROPERTIES_TAG: " ".join(values)}, quote_via=quote)
    encoded = body.encode("utf-8")
    try:
        response = s3.put_object(
            Bucket=location.bucket,
            Key=location.key,
            Body=encoded,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=location.kms_key_arn,
            ContentType="text/plain; charset=utf-8",
            Tagging=tags,
        )
    except (ClientError, BotoCoreError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        raise CredentialsError(f"cannot write {location}: {code}") from None
    return WrittenCredentials(
        response.get("VersionId"),
        len(encoded),
        f"stored client ID {client_id} and its secret in {location} (SSE-KMS) with a new state key "
        f"(account linkings in progress must be started again)",
    )


def current_version(location: CredentialsLocation, s3: Any) -> tuple[str | None, int] | None:
    """(version ID, size in bytes) of the object's current version from ListObjectVersions, which needs
    s3:ListBucketVersions, not a read of the object; None when there is none."""
    try:
        listing = s3.list_object_versions(Bucket=location.bucket, Prefix=location.key)
    except (ClientError, BotoCoreError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        raise CredentialsError(f"cannot list the versions of {location}: {code}") from None
    latest = [
        version for version in listing.get("Versions", []) if version["Key"] == location.key and version.get("IsLatest")
    ]
    if not latest:
        return None
    version_id = latest[0].get("VersionId")
    return (None if version_id in (None, "null") else version_id), latest[0]["Size"]


def describe_credentials(location: CredentialsLocation, s3: Any) -> str:
    """What is stored, from the object's tags: the client ID and which properties are set, no value."""
    stored = stored_credentials(location, s3)
    if stored is None:
        return f"{location}: no credentials stored yet (run `make credentials`)"
    lines = [f"{location} (version {stored.version_id or 'unversioned'}):"]
    for key in REQUIRED_KEYS:
        if key == "clientid" and stored.client_id:
            lines.append(f"  {key}: {stored.client_id}")
        elif key in stored.properties:
            lines.append(f"  {key}: set (not readable by the operator)")
        else:
            lines.append(f"  {key}: MISSING")
    if not stored.is_complete:
        lines.append("  run `make credentials` to store complete credentials")
    return "\n".join(lines)


def prompt_for_credentials(
    default_client_id: str,
    environ: Mapping[str, str] = os.environ,
    ask: Callable[[str], str] | None = None,
    ask_secret: Callable[[str], str] | None = None,
) -> tuple[str, str]:
    """Client ID and secret from the environment, else from an interactive prompt (input, getpass)."""
    client_id = environ.get(CLIENT_ID_ENV, "").strip()
    if not client_id and has_terminal():
        client_id = (ask or input)(f"Google OAuth client ID [{default_client_id}]: ").strip()
    return client_id or default_client_id, prompt_for_secret(environ, ask_secret)


def prompt_for_secret(environ: Mapping[str, str] = os.environ, ask_secret: Callable[[str], str] | None = None) -> str:
    """The client secret from NEST_CLIENT_SECRET, else from an unechoed prompt on a terminal."""
    client_secret = environ.get(CLIENT_SECRET_ENV, "").strip()
    if not client_secret:
        if not has_terminal():
            raise CredentialsError(f"set {CLIENT_SECRET_ENV} (no terminal to prompt for the client secret)")
        client_secret = (ask_secret or getpass.getpass)("Google OAuth client secret (not echoed): ").strip()
    return client_secret


def has_terminal() -> bool:
    """Whether a prompt can be answered: stdin is a terminal."""
    return sys.stdin is not None and sys.stdin.isatty()
