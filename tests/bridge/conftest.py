"""Bridge fixtures: moto S3 + KMS holding a real SSE-KMS secrets object, hand-driven clocks, and the
token endpoint through `responses`.

`responses` and moto coexist: moto stubs boto3 through botocore's own event hooks, not through the
requests library, so a RequestsMock started inside `mock_aws` sees only the bridge's token calls
(test_credentials.py checks S3 still answers while one is active).
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import responses
from moto import mock_aws

from oauth_bridge.app import S3_CONFIG, Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.properties import format_properties
from oauth_bridge.token_exchange import TokenClient
from sandbox.processes import LOOPBACK
from tests.bridge.helpers import ACCESS_TOKEN, BUCKET, CLIENT_ID, CLIENT_SECRET, KEY, STATE_KEY, TOKEN_URL, make_config
from tests.clock import Clock


@dataclass
class SecretsBucket:
    """The KMS-encrypted bucket and its properties object; counts the GetObject calls made through `s3`."""

    s3: Any
    kms_key_id: str
    get_object_calls: int = 0

    def write(self, body: str | bytes) -> None:
        self.s3.put_object(
            Bucket=BUCKET, Key=KEY, Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key_id
        )

    def write_credentials(
        self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET, state_key: str = STATE_KEY
    ) -> None:
        self.write(format_properties({"clientid": client_id, "clientsecret": client_secret, "statekey": state_key}))

    def count_get_object(self, **_: Any) -> None:
        self.get_object_calls += 1


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@functools.cache
def _clients() -> tuple[Any, Any]:
    """A KMS and an S3 client for the whole session: building one costs more here (0.2 to 0.8 s) than the
    rest of a test, and moto resets everything they reach when each test's `mock_aws` ends. Built inside
    the first test's mock, so they hold moto's fake credentials."""
    return boto3.client("kms", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def secrets_bucket(aws: None) -> Iterator[SecretsBucket]:
    kms, s3 = _clients()
    key_id = kms.create_key(Description="bridge secrets")["KeyMetadata"]["KeyId"]
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}]
        },
    )
    bucket = SecretsBucket(s3, key_id)
    bucket.write_credentials()
    s3.meta.events.register("before-call.s3.GetObject", bucket.count_get_object)
    yield bucket
    s3.meta.events.unregister("before-call.s3.GetObject", bucket.count_get_object)


@pytest.fixture
def monotonic() -> Clock:
    return Clock(5_000.0)


@pytest.fixture
def wall() -> Clock:
    return Clock(1_800_000_000.0)


@pytest.fixture
def token_endpoint() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def grant(token_endpoint: responses.RequestsMock) -> responses.RequestsMock:
    """A token endpoint that answers like Google does for a good code."""
    token_endpoint.post(
        TOKEN_URL,
        json={
            "access_token": ACCESS_TOKEN,
            "expires_in": 3599,
            "token_type": "Bearer",
            "refresh_token": "test-refresh-token",
            "scope": "sdm",
        },
    )
    return token_endpoint


@pytest.fixture
def bridge(secrets_bucket: SecretsBucket, monotonic: Clock, wall: Clock) -> Bridge:
    return Bridge(
        make_config(),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL, budget_s=4.0),
        wall_clock=wall,
    )


@pytest.fixture
def hanging_s3():
    """An S3 endpoint on 127.0.0.1 that accepts connections (the kernel's backlog) and never answers; the
    client configured as in production (2 s read timeout, 2 attempts: about 6 s per read). Once closed, the
    readers it held fail at once; they are waited for, so their log lines never land in the next test."""
    with socket.create_server((LOOPBACK, 0), backlog=64) as listener:
        yield boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            endpoint_url=f"http://{LOOPBACK}:{listener.getsockname()[1]}",
            config=S3_CONFIG,
        )
    for reader in [thread for thread in threading.enumerate() if thread.name == "secrets-read"]:
        reader.join(timeout=6.0)
