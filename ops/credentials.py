"""Stores and shows the OAuth client credentials object in the encrypted bucket.

Values come from the environment (NEST_CLIENT_ID, NEST_CLIENT_SECRET) or a prompt, never from argv,
and the secret is never printed. The bridge's state key is generated once and kept across updates.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from dataclasses import dataclass
from typing import Callable

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from oauth_bridge.properties import MalformedProperties, format_properties, parse_properties

from ops.outputs import Outputs

CLIENT_ID_ENV = "NEST_CLIENT_ID"
CLIENT_SECRET_ENV = "NEST_CLIENT_SECRET"
REQUIRED_KEYS = ("clientid", "clientsecret", "statekey")


class CredentialsError(RuntimeError):
    """A credentials operation failed; the message names bucket, key and cause, never a value."""


@dataclass(frozen=True)
class CredentialsLocation:
    bucket: str
    key: str
    kms_key_arn: str

    @classmethod
    def from_outputs(cls, outputs: Outputs) -> "CredentialsLocation":
        return cls(outputs.require("SecretsBucketName"), outputs.require("SecretsObjectKey"),
                   outputs.require("SecretsKeyArn"))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def read_credentials(location: CredentialsLocation, s3=None) -> dict[str, str] | None:
    """The stored values, or None when no object exists yet."""
    s3 = s3 or boto3.client("s3")
    try:
        body = s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read().decode("utf-8")
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise CredentialsError(f"cannot read {location}: {error.response['Error']['Code']}") from None
    except (BotoCoreError, UnicodeDecodeError) as error:
        raise CredentialsError(f"cannot read {location}: {type(error).__name__}") from None
    try:
        return parse_properties(body)
    except MalformedProperties as error:
        raise CredentialsError(f"{location} is not a valid properties file: {error}") from None


def is_complete(values: dict[str, str] | None) -> bool:
    """Whether stored credentials need nothing more: a secret and the bridge's state key."""
    return bool(values and values.get("clientsecret") and values.get("statekey"))


def store_credentials(location: CredentialsLocation, client_id: str, client_secret: str, s3=None) -> str:
    """Writes clientid/clientsecret, keeping an existing statekey; returns what happened, in words."""
    s3 = s3 or boto3.client("s3")
    if not client_id or not client_secret:
        raise CredentialsError("the client ID and the client secret must both be non-empty")
    existing = read_credentials(location, s3) or {}
    values = {"clientid": client_id, "clientsecret": client_secret,
              "statekey": existing.get("statekey") or secrets.token_urlsafe(32)}
    try:
        body = format_properties(values)
    except MalformedProperties as error:
        raise CredentialsError(f"cannot store these values: {error}") from None
    try:
        s3.put_object(Bucket=location.bucket, Key=location.key, Body=body.encode("utf-8"),
                      ServerSideEncryption="aws:kms", SSEKMSKeyId=location.kms_key_arn,
                      ContentType="text/plain; charset=utf-8")
    except (ClientError, BotoCoreError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        raise CredentialsError(f"cannot write {location}: {code}") from None
    kept = "kept the existing state key" if existing.get("statekey") else "generated a new state key"
    return f"stored client ID {client_id} and its secret in {location} (SSE-KMS), {kept}"


def describe_credentials(location: CredentialsLocation, s3=None) -> str:
    """What is stored, with the secret and the state key redacted."""
    values = read_credentials(location, s3)
    if values is None:
        return f"{location}: no credentials stored yet (run `make credentials`)"
    lines = [f"{location}:"]
    for key in REQUIRED_KEYS:
        if key not in values or not values[key]:
            lines.append(f"  {key}: MISSING")
        elif key == "clientid":
            lines.append(f"  {key}: {values[key]}")
        else:
            lines.append(f"  {key}: set ({len(values[key])} characters, redacted)")
    return "\n".join(lines)


def prompt_for_credentials(default_client_id: str, environ=os.environ,
                           ask: Callable[[str], str] = input,
                           ask_secret: Callable[[str], str] = getpass.getpass) -> tuple[str, str]:
    """Client ID and secret from the environment, else from an interactive prompt."""
    client_id = environ.get(CLIENT_ID_ENV, "").strip()
    client_secret = environ.get(CLIENT_SECRET_ENV, "").strip()
    interactive = sys.stdin is not None and sys.stdin.isatty()
    if not client_id:
        client_id = (ask(f"Google OAuth client ID [{default_client_id}]: ").strip() if interactive else "") \
            or default_client_id
    if not client_secret:
        if not interactive:
            raise CredentialsError(f"set {CLIENT_SECRET_ENV} (no terminal to prompt for the client secret)")
        client_secret = ask_secret("Google OAuth client secret (not echoed): ").strip()
    return client_id, client_secret
