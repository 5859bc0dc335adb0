"""Operator CLI fixtures: an isolated AWS environment (no real profile, no instance metadata) and
moto's S3 + KMS holding the secrets stack's key and bucket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import ops.settings
from ops.credentials import CredentialsLocation
from tests.ops.helpers import create_secrets_bucket


@pytest.fixture
def aws_env(monkeypatch, tmp_path) -> None:
    """Fake credentials and a region in the environment, and nothing of the machine's own setup."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "NEST_CLIENT_ID",
        "NEST_CLIENT_SECRET",
        "ASK_REFRESH_TOKEN",
        "ASK_ACCESS_TOKEN",
        "ASK_VENDOR_ID",
        "ASK_DEFAULT_PROFILE",
        "CI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class Secrets:
    s3: Any
    kms: Any
    location: CredentialsLocation

    def body(self) -> str:
        return self.s3.get_object(Bucket=self.location.bucket, Key=self.location.key)["Body"].read().decode()

    def exists(self) -> bool:
        return self.s3.list_objects_v2(Bucket=self.location.bucket, Prefix=self.location.key)["KeyCount"] > 0

    def versions(self) -> int:
        listing = self.s3.list_object_versions(Bucket=self.location.bucket, Prefix=self.location.key)
        return len(listing.get("Versions", []))


@pytest.fixture
def secrets(aws_env) -> Iterator[Secrets]:
    with mock_aws():
        s3, kms = boto3.client("s3"), boto3.client("kms")
        yield Secrets(s3, kms, create_secrets_bucket(s3, kms))


@pytest.fixture(autouse=True)
def settings_file(tmp_path, monkeypatch) -> Path:
    """The owner's settings file, in the test's own directory: no test reads or writes the checkout's."""
    path = tmp_path / "nest-skill.json"
    monkeypatch.setattr(ops.settings, "SETTINGS_FILE", path)
    return path
