"""Live state's messaging credentials from SMAPI to the secrets bucket: read with the real ask-cli
from the SMAPI stand-in, stored SSE-KMS under the stack's key, never printed or put in argv."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ops.credentials import CredentialsLocation
from ops.messaging import (
    MessagingCredentials,
    MessagingError,
    capture_command,
    ensure_messaging_credentials,
    messaging_location,
    parse_skill_credentials,
    read_skill_credentials,
    store_messaging_credentials,
    stored_messaging_client,
)
from ops.outputs import Outputs
from sandbox.fake_smapi import FakeSmapi
from sandbox.serving import running
from tests.ops.helpers import VENDOR_ID, create_secrets_bucket, stack_outputs

ROOT = Path(__file__).resolve().parents[2]
SKILL_ID = "amzn1.ask.skill.6b1c0d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"
MESSAGING_ID = "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef"
MESSAGING_SECRET = "amzn1.oa2-cs.v1.messaging-secret-for-ops-tests"
ANSWER = json.dumps({"skillMessagingCredentials": {"clientId": MESSAGING_ID, "clientSecret": MESSAGING_SECRET}})


@pytest.fixture
def bucket():
    with mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "testing")
        s3 = boto3.client("s3", region_name="us-east-1")
        location = create_secrets_bucket(s3, boto3.client("kms", region_name="us-east-1"))
        yield s3, CredentialsLocation(location.bucket, "alexa-messaging-credentials.json", location.kms_key_arn)


def outputs_for(location: CredentialsLocation) -> Outputs:
    document = stack_outputs(location)
    document["NestSkillSecrets"]["MessagingCredentialsObjectKey"] = location.key
    return Outputs({k: v for stack in document.values() for k, v in stack.items()}, Path("cdk-outputs.json"))


def test_smapis_answer_gives_the_messaging_client():
    credentials = parse_skill_credentials(ANSWER)
    assert credentials == MessagingCredentials(MESSAGING_ID, MESSAGING_SECRET)
    assert MESSAGING_SECRET not in repr(credentials)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "not json",
        "[]",
        json.dumps({"skillMessagingCredentials": {}}),
        json.dumps({"skillMessagingCredentials": {"clientId": MESSAGING_ID}}),
        json.dumps({"skillMessagingCredentials": {"clientId": MESSAGING_ID, "clientSecret": "  "}}),
    ],
)
def test_an_answer_without_both_values_is_a_clear_error(answer):
    with pytest.raises(MessagingError, match="skill credentials"):
        parse_skill_credentials(answer)


def test_a_failing_ask_cli_is_named_without_its_answer():
    seen = []

    def capture(argv, env):
        seen.append(list(argv))
        return 1, ANSWER

    with pytest.raises(MessagingError, match=r"get-skill-credentials.*exit 1") as raised:
        read_skill_credentials(SKILL_ID, {}, capture)
    assert MESSAGING_SECRET not in str(raised.value)
    assert seen == [["ask", "smapi", "get-skill-credentials", "--skill-id", SKILL_ID]]


def test_stored_under_the_stacks_key_as_the_skill_reads_it(bucket):
    s3, location = bucket
    said = store_messaging_credentials(location, MessagingCredentials(MESSAGING_ID, MESSAGING_SECRET), s3)
    assert MESSAGING_ID in said and MESSAGING_SECRET not in said
    head = s3.head_object(Bucket=location.bucket, Key=location.key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == location.kms_key_arn
    body = json.loads(s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read())
    assert body == {"clientId": MESSAGING_ID, "clientSecret": MESSAGING_SECRET}  # the shape reporter reads
    assert stored_messaging_client(location, s3) == MESSAGING_ID
    tags = s3.get_object_tagging(Bucket=location.bucket, Key=location.key)["TagSet"]
    assert MESSAGING_SECRET not in json.dumps(tags)


def test_the_deploy_step_stores_once_and_then_keeps_what_is_there(bucket):
    s3, location = bucket
    outputs = outputs_for(location)
    assert messaging_location(outputs) == location

    def capture(argv, env):
        return 0, ANSWER

    first = ensure_messaging_credentials(SKILL_ID, outputs, s3, {}, capture)
    again = ensure_messaging_credentials(SKILL_ID, outputs, s3, {}, capture)
    assert first.startswith("stored") and "already" in again
    versions = s3.list_object_versions(Bucket=location.bucket, Prefix=location.key)["Versions"]
    assert len(versions) == 1


def test_nothing_is_stored_without_an_object_key_output(bucket):
    s3, location = bucket
    outputs = Outputs(
        {k: v for k, v in outputs_for(location).items() if k != "MessagingCredentialsObjectKey"},
        Path("cdk-outputs.json"),
    )
    with pytest.raises(Exception, match="MessagingCredentialsObjectKey"):
        ensure_messaging_credentials(SKILL_ID, outputs, s3, {}, lambda argv, env: (0, ANSWER))


def test_the_real_ask_cli_reads_them_from_the_smapi_stand_in(tmp_path):
    """`ask smapi get-skill-credentials` against the stand-in: the secret arrives on the pipe only."""
    refresh_token = "messaging-test-refresh-token"
    smapi = FakeSmapi(VENDOR_ID, refresh_token)
    smapi.skills[SKILL_ID] = {"accountLinking": {}}
    with running(smapi) as url:
        env = {
            "PATH": f"{ROOT / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}",
            "HOME": str(tmp_path),
            "ASK_SMAPI_SERVER_BASE_URL": url,
            "ASK_LWA_TOKEN_HOST": url,
            "ASK_REFRESH_TOKEN": refresh_token,
            "ASK_VENDOR_ID": VENDOR_ID,
            "ASK_SKIP_NEW_VERSION_REMINDER": "true",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
        }
        credentials = read_skill_credentials(SKILL_ID, env, capture_command)
        unknown = subprocess.run(
            ["ask", "smapi", "get-skill-credentials", "--skill-id", SKILL_ID[:-1] + "0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    stored = smapi.skills[SKILL_ID]["messagingCredentials"]
    assert credentials == MessagingCredentials(stored["clientId"], stored["clientSecret"])
    assert credentials.client_id.startswith("amzn1.application-oa2-client.")
    assert unknown.returncode != 0
    assert [entry["path"] for entry in smapi.log if "credentials" in entry["path"]] == [
        f"/v1/skills/{SKILL_ID}/credentials",
        f"/v1/skills/{SKILL_ID[:-1] + '0'}/credentials",
    ]
