"""Live state's messaging credentials: the skill's Alexa Skill Messaging client, which exchanges
AcceptGrant's code with Login with Amazon and refreshes each user's event-gateway tokens.

The deploy reads them from SMAPI (`GET /v1/skills/{skillId}/credentials`, answered with
`skillMessagingCredentials {clientId, clientSecret}`; ask-cli's `ask smapi get-skill-credentials`)
and writes them to the secrets bucket's messaging object (the `MessagingCredentialsObjectKey`
output) with the same KMS key as the Google client secret. The operator never handles them: the
secret travels from ask-cli's stdout (a pipe, never a terminal, argv or log) to S3, and the bucket
policy lets the skill roles alone read the object back. What the operator sees of it are its tags:
the client ID, never the secret.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError

from ops.credentials import CLIENT_ID_TAG, CredentialsLocation
from ops.outputs import Outputs

MESSAGING_OBJECT_OUTPUT = "MessagingCredentialsObjectKey"
MAX_SMAPI_ANSWER_CHARS = 64 * 1024
Capture = Callable[[Sequence[str], Mapping[str, str]], "tuple[int, str]"]
"""Runs a CLI with exactly the environment given; returns its exit code and its stdout (its stderr
goes to the terminal)."""


class MessagingError(RuntimeError):
    """The messaging credentials could not be read or stored; the message never holds the secret."""


@dataclass(frozen=True)
class MessagingCredentials:
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"MessagingCredentials(client_id={self.client_id!r}, client_secret=<hidden>)"


def capture_command(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
    """`argv` with exactly `env`, stdout captured (a pipe), stderr on the terminal, bounded in time."""
    try:
        result = subprocess.run(
            list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        return 124, ""
    return result.returncode, result.stdout


def parse_skill_credentials(answer: str) -> MessagingCredentials:
    """SMAPI's SkillCredentials document as ask-cli prints it; MessagingError names what is missing."""
    try:
        document = json.loads(answer[:MAX_SMAPI_ANSWER_CHARS])
    except ValueError:
        raise MessagingError("SMAPI's skill credentials answer is not JSON") from None
    messaging = document.get("skillMessagingCredentials") if isinstance(document, dict) else None
    client_id = messaging.get("clientId") if isinstance(messaging, dict) else None
    client_secret = messaging.get("clientSecret") if isinstance(messaging, dict) else None
    if not (_credential(client_id) and _credential(client_secret)):
        raise MessagingError(
            "SMAPI's skill credentials answer has no skillMessagingCredentials clientId and clientSecret"
        )
    return MessagingCredentials(client_id.strip(), client_secret.strip())


def _credential(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and bool(value.strip()) and value.isprintable()


def read_skill_credentials(
    skill_id: str, env: Mapping[str, str], capture: Capture = capture_command, profile: str | None = None
) -> MessagingCredentials:
    """`ask smapi get-skill-credentials` for `skill_id`, its answer kept out of the terminal."""
    argv = [
        "ask",
        "smapi",
        "get-skill-credentials",
        "--skill-id",
        skill_id,
        *(["--profile", profile] if profile else []),
    ]
    code, answer = capture(argv, env)
    if code != 0:
        raise MessagingError(f"`{' '.join(argv)}` failed (exit {code}; see its output above)")
    return parse_skill_credentials(answer)


def messaging_location(outputs: Outputs) -> CredentialsLocation:
    """The messaging object: the secrets bucket, the MessagingCredentialsObjectKey output, the same key."""
    return CredentialsLocation(
        outputs.require("SecretsBucketName"), outputs.require(MESSAGING_OBJECT_OUTPUT), outputs.require("SecretsKeyArn")
    )


def stored_messaging_client(location: CredentialsLocation, s3: Any) -> str | None:
    """The client ID the stored object's tags name, or None when there is no object yet (its body is
    the skill roles' alone to read)."""
    try:
        tags = s3.get_object_tagging(Bucket=location.bucket, Key=location.key).get("TagSet", [])
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise MessagingError(f"cannot read the tags of {location}: {error.response['Error']['Code']}") from None
    except BotoCoreError as error:
        raise MessagingError(f"cannot read the tags of {location}: {type(error).__name__}") from None
    return next((tag["Value"] for tag in tags if tag["Key"] == CLIENT_ID_TAG), "")


def store_messaging_credentials(location: CredentialsLocation, credentials: MessagingCredentials, s3: Any) -> str:
    """Writes the object (JSON clientId, clientSecret, as the skill reads it), SSE-KMS with the
    stack's key as the bucket policy requires, tagged with the client ID; returns what it did."""
    body = json.dumps({"clientId": credentials.client_id, "clientSecret": credentials.client_secret}).encode()
    try:
        s3.put_object(
            Bucket=location.bucket,
            Key=location.key,
            Body=body,
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=location.kms_key_arn,
            ContentType="application/json",
            Tagging=urlencode({CLIENT_ID_TAG: credentials.client_id}, quote_via=quote),
        )
    except (ClientError, BotoCoreError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        raise MessagingError(f"cannot write {location}: {code}") from None
    return (
        f"stored the skill's Alexa Skill Messaging client {credentials.client_id} and its secret in {location} "
        "(SSE-KMS)"
    )


def ensure_messaging_credentials(
    skill_id: str,
    outputs: Outputs,
    s3: Any,
    env: Mapping[str, str],
    capture: Capture = capture_command,
    profile: str | None = None,
) -> str:
    """The deploy's step: read the skill's messaging credentials from SMAPI and store them unless the
    object already holds this client's (the messaging client of a skill does not change)."""
    location = messaging_location(outputs)
    credentials = read_skill_credentials(skill_id, env, capture, profile)
    if stored_messaging_client(location, s3) == credentials.client_id:
        return f"the skill's messaging client {credentials.client_id} is already in {location}"
    return store_messaging_credentials(location, credentials, s3)
