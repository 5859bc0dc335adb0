"""`python -m ops credentials store|show` as the operator runs them, against moto's server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from oauth_bridge.properties import parse_properties
from ops import REPO_ROOT
from sandbox.processes import Service, free_port
from tests.ops.helpers import CLIENT_ID, CLIENT_SECRET, create_secrets_bucket, stack_outputs

pytestmark = pytest.mark.integration


@dataclass
class LocalAws:
    env: dict[str, str]
    s3: Any
    kms: Any
    workdir: Path


@dataclass
class Deployed:
    """One secrets stack's outputs file and the bucket it names."""

    aws: LocalAws
    outputs_file: Path
    bucket: str
    key: str

    def ops(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-m", "ops", *args, "--outputs", str(self.outputs_file)]
        assert not any(CLIENT_SECRET in arg for arg in argv)
        return subprocess.run(
            argv,
            cwd=REPO_ROOT,
            env={**self.aws.env, **extra_env},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )

    def stored(self) -> dict[str, str]:
        return parse_properties(self.aws.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read().decode())


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory) -> Iterator[LocalAws]:
    workdir = tmp_path_factory.mktemp("ops-aws")
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "NEST_", "ASK_")) and name != "CI"
    }
    env.update(
        HOME=str(workdir),
        AWS_ENDPOINT_URL=f"http://localhost:{port}",
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    argv = [sys.executable, "-m", "sandbox.aws_emulator", "--port", str(port)]
    with Service("moto", argv, port, env={**env, "PYTHONPATH": str(REPO_ROOT)}, log_path=workdir / "moto.log"):
        session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
        yield LocalAws(
            env,
            session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]),
            session.client("kms", endpoint_url=env["AWS_ENDPOINT_URL"]),
            workdir,
        )


@pytest.fixture
def deployed(local_aws) -> Deployed:
    bucket = f"secrets-{uuid.uuid4().hex}"
    location = create_secrets_bucket(local_aws.s3, local_aws.kms, bucket=bucket)
    outputs_file = local_aws.workdir / f"{bucket}.json"
    outputs_file.write_text(json.dumps(stack_outputs(location)))
    return Deployed(local_aws, outputs_file, location.bucket, location.key)


def test_store_takes_the_secret_from_the_environment_and_encrypts_it(deployed):
    result = deployed.ops("credentials", "store", NEST_CLIENT_ID=CLIENT_ID, NEST_CLIENT_SECRET=CLIENT_SECRET)

    assert result.returncode == 0, result.stderr
    assert CLIENT_SECRET not in result.stdout + result.stderr
    stored = deployed.stored()
    assert (stored["clientid"], stored["clientsecret"]) == (CLIENT_ID, CLIENT_SECRET)
    head = deployed.aws.s3.head_object(Bucket=deployed.bucket, Key=deployed.key)
    assert head["ServerSideEncryption"] == "aws:kms"


def test_store_without_a_secret_or_a_terminal_says_which_variable_to_set(deployed):
    result = deployed.ops("credentials", "store", NEST_CLIENT_ID=CLIENT_ID)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "error: set NEST_CLIENT_SECRET (no terminal to prompt for the client secret)"
    assert deployed.aws.s3.list_objects_v2(Bucket=deployed.bucket)["KeyCount"] == 0


def test_store_if_missing_leaves_complete_credentials_alone(deployed):
    deployed.ops("credentials", "store", NEST_CLIENT_SECRET=CLIENT_SECRET)
    before = deployed.stored()

    result = deployed.ops("credentials", "store", "--if-missing", NEST_CLIENT_SECRET="test-another-secret")

    assert result.returncode == 0, result.stderr
    assert "left as they are" in result.stdout
    assert deployed.stored() == before


def test_show_names_what_is_set_and_never_the_secret_or_the_state_key(deployed):
    deployed.ops("credentials", "store", NEST_CLIENT_ID=CLIENT_ID, NEST_CLIENT_SECRET=CLIENT_SECRET)
    state_key = deployed.stored()["statekey"]

    result = deployed.ops("credentials", "show")

    assert result.returncode == 0, result.stderr
    assert CLIENT_ID in result.stdout
    assert CLIENT_SECRET not in result.stdout
    assert state_key not in result.stdout
    assert "clientsecret: set (not readable by the operator)" in result.stdout


def test_show_before_any_store_says_so(deployed):
    result = deployed.ops("credentials", "show")

    assert result.returncode == 0, result.stderr
    assert "no credentials stored yet" in result.stdout
