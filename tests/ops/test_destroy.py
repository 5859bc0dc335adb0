"""`make destroy` against moto's CloudFormation, with cdk and ask-cli played by a recorder: what it
removes, what it lists as kept (with the commands to remove it), the confirmation, and its errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ops.cli import load_config, main
from ops.destroy import Destroyer, DestroyError
from tests.ops.helpers import CONTEXT_ARGS, Stdin

SKILL_ID = "amzn1.ask.skill.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
SECRETS_TEMPLATE = {
    "Resources": {
        "CredentialsKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "credentials",
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "kms:*",
                            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                            "Resource": "*",
                        }
                    ],
                },
            },
        },
        "AccessLogs": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
        },
        "Credentials": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "Properties": {
                "VersioningConfiguration": {"Status": "Enabled"},
                "LoggingConfiguration": {"DestinationBucketName": {"Ref": "AccessLogs"}, "LogFilePrefix": "c/"},
            },
        },
    }
}
STATELESS_TEMPLATE = {
    "Resources": {
        "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete", "Properties": {"RetentionInDays": 30}}
    }
}


@dataclass
class FakeTools:
    """cdk and ask-cli: records argv; `cdk destroy` deletes the named stacks; `fail` is an argv prefix that exits 1."""

    fail: Sequence[str] = ()
    commands: list[list[str]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], cwd: Path | None, env: Mapping[str, str]) -> int:
        assert "NEST_CLIENT_SECRET" not in env, "destroy's tools never need the client secret"
        argv = list(argv)
        self.commands.append(argv)
        if self.fail and argv[: len(self.fail)] == list(self.fail):
            return 1
        if argv[:2] == ["cdk", "destroy"]:
            for name in argv[2 : argv.index("--exclusively")]:
                boto3.client("cloudformation").delete_stack(StackName=name)
        return 0


@pytest.fixture
def deployed(aws_env, tmp_path, monkeypatch):
    """The three stacks as CloudFormation holds them, the secrets stack protected and all RETAIN."""
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))
    with mock_aws():
        cloudformation = boto3.client("cloudformation")
        cloudformation.create_stack(
            StackName="NestSkillSecrets", TemplateBody=json.dumps(SECRETS_TEMPLATE), EnableTerminationProtection=True
        )
        for name in ("NestSkill", "NestSkillBridge"):
            cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(STATELESS_TEMPLATE))
        yield cloudformation


def physical_ids(cloudformation, stack: str) -> dict[str, str]:
    return {
        item["LogicalResourceId"]: item["PhysicalResourceId"]
        for item in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
    }


def stack_names(cloudformation) -> set[str]:
    return {
        stack["StackName"]
        for stack in cloudformation.describe_stacks()["Stacks"]
        if stack["StackStatus"] != "DELETE_COMPLETE"
    }


def destroyer(
    tmp_path: Path,
    tools: FakeTools,
    answers: Sequence[str] = (),
    said: list | None = None,
    context: Sequence[str] = (*CONTEXT_ARGS, f"skill_id={SKILL_ID}"),
) -> Destroyer:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in ("cdk", "ask"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 97\n")
        (bin_dir / name).chmod(0o755)
    replies = iter(answers)
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {}}))
    return Destroyer(
        load_config(list(context), cdk_json),
        list(context),
        environ={"PATH": str(bin_dir), "NEST_CLIENT_SECRET": "left-in-the-shell"},
        run=tools,
        outputs_file=tmp_path / "build" / "cdk-outputs.json",
        ask_project_dir=tmp_path / "build" / "ask-project",
        say=(said if said is not None else []).append,
        ask=lambda prompt: next(replies),
    )


def test_destroy_removes_the_skill_and_the_stateless_stacks_and_keeps_the_secrets(deployed, tmp_path):
    tools, said = FakeTools(), []
    outputs = tmp_path / "build" / "cdk-outputs.json"
    outputs.parent.mkdir(parents=True)
    outputs.write_text(
        json.dumps(
            {"NestSkillSecrets": {"SecretsBucketName": "b"}, "NestSkill": {"A": "1"}, "NestSkillBridge": {"B": "2"}}
        )
    )
    destroyer(tmp_path, tools, answers=["destroy"], said=said).destroy()
    assert tools.commands == [
        ["ask", "smapi", "delete-skill", "--skill-id", SKILL_ID],
        [
            "cdk",
            "destroy",
            "NestSkillBridge",
            "NestSkill",
            "--exclusively",
            "--force",
            *[arg for pair in CONTEXT_ARGS for arg in ("-c", pair)],
            "-c",
            f"skill_id={SKILL_ID}",
        ],
    ]
    assert stack_names(deployed) == {"NestSkillSecrets"}
    assert json.loads(outputs.read_text()) == {"NestSkillSecrets": {"SecretsBucketName": "b"}}
    text = "\n".join(said)
    assert "  - stack NestSkillBridge\n  - stack NestSkill\n  - the Alexa skill " + SKILL_ID in text
    assert f'remove "skill_id": "{SKILL_ID}" from where you set it (-c, or cdk.json)' in text


def test_destroy_drops_the_deleted_skill_from_the_owners_settings(deployed, tmp_path, settings_file):
    """The next deploy must create a skill, not update the deleted one; the owner's other keys stay."""
    settings_file.write_text(json.dumps({"privacy_contact": "owner@example.com", "skill_id": SKILL_ID}))
    tools, said = FakeTools(), []

    destroyer(tmp_path, tools, said=said, context=CONTEXT_ARGS).destroy(confirmed=True)

    assert tools.commands[0] == ["ask", "smapi", "delete-skill", "--skill-id", SKILL_ID]
    assert json.loads(settings_file.read_text()) == {"privacy_contact": "owner@example.com"}
    assert f'removed "skill_id": "{SKILL_ID}" from nest-skill.json' in "\n".join(said)
    assert "from where you set it" not in "\n".join(said)


def test_the_kept_list_names_every_retained_resource_with_its_commands_in_a_safe_order(deployed, tmp_path):
    said = []
    destroyer(tmp_path, FakeTools(), answers=["destroy"], said=said).destroy()
    ids = physical_ids(deployed, "NestSkillSecrets")
    kept = said[1].splitlines()
    assert kept[:3] == [
        "destroy keeps (remove them yourself, in this order, once you are sure):",
        "  - stack NestSkillSecrets (termination protection on)",
        "      aws cloudformation update-termination-protection --no-enable-termination-protection "
        "--stack-name NestSkillSecrets",
    ]
    text = "\n".join(kept)
    credentials, access_logs, key = ids["Credentials"], ids["AccessLogs"], ids["CredentialsKey"]
    # The credentials bucket logs into the access-log bucket, so it is emptied first; the key comes last.
    assert text.index(f"bucket {credentials} ") < text.index(f"bucket {access_logs} ") < text.index(f"KMS key {key}")
    assert f"aws s3api list-object-versions --bucket {access_logs}" in text
    assert f"aws s3api delete-bucket --bucket {credentials}" in text
    assert f"aws kms schedule-key-deletion --key-id {key} --pending-window-in-days 7" in text
    assert "Google OAuth client" in text and "CDKToolkit" in text
    assert "log group" not in text  # the stateless stacks' log groups (DeletionPolicy Delete) go with them


def test_nothing_is_removed_without_the_typed_confirmation(deployed, tmp_path):
    tools = FakeTools()
    with pytest.raises(DestroyError, match="not confirmed: nothing was removed"):
        destroyer(tmp_path, tools, answers=["y"]).destroy()
    assert tools.commands == []
    assert stack_names(deployed) == {"NestSkillSecrets", "NestSkill", "NestSkillBridge"}


def test_without_a_terminal_destroy_needs_yes(deployed, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=False))
    tools = FakeTools()
    with pytest.raises(DestroyError, match="--yes"):
        destroyer(tmp_path, tools).destroy()
    assert tools.commands == []
    destroyer(tmp_path, tools).destroy(confirmed=True)
    assert stack_names(deployed) == {"NestSkillSecrets"}


def test_the_skill_ask_cli_recorded_is_deleted_and_its_record_dropped(deployed, tmp_path):
    states = tmp_path / "build" / "ask-project" / ".ask" / "ask-states.json"
    states.parent.mkdir(parents=True)
    states.write_text(json.dumps({"askcliStatesVersion": "2020-03-31", "profiles": {"default": {"skillId": SKILL_ID}}}))
    tools, said = FakeTools(), []
    destroyer(tmp_path, tools, said=said, context=CONTEXT_ARGS).destroy(confirmed=True)
    assert tools.commands[0] == ["ask", "smapi", "delete-skill", "--skill-id", SKILL_ID]
    assert not states.exists()
    assert "from where you set it" not in "\n".join(said)


def test_a_second_destroy_removes_nothing_and_lists_what_is_kept(deployed, tmp_path):
    destroyer(tmp_path, FakeTools(), context=CONTEXT_ARGS).destroy(confirmed=True)
    tools, said = FakeTools(), []
    destroyer(tmp_path, tools, said=said, context=CONTEXT_ARGS).destroy()
    assert tools.commands == []
    assert said[0] == "destroy removes:\n  - nothing: none is deployed"
    assert "stack NestSkillSecrets (termination protection on)" in said[1]


def test_a_failing_delete_skill_stops_before_the_stacks(deployed, tmp_path):
    tools = FakeTools(fail=["ask", "smapi", "delete-skill"])
    with pytest.raises(DestroyError, match=r"If the skill is already gone, remove skill_id from nest-skill\.json"):
        destroyer(tmp_path, tools).destroy(confirmed=True)
    assert stack_names(deployed) == {"NestSkillSecrets", "NestSkill", "NestSkillBridge"}


def test_missing_tools_and_credentials_are_named_before_anything(aws_env, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {}}))
    with pytest.raises(DestroyError) as raised:
        Destroyer(load_config(list(CONTEXT_ARGS), cdk_json), environ={"PATH": str(tmp_path)}).destroy()
    assert str(raised.value).splitlines() == [
        "cannot destroy:",
        "  - 'cdk' is not on PATH: run it through make, which installs node_modules",
        "  - 'ask' is not on PATH: run it through make, which installs node_modules",
        "  - no AWS credentials or no region: use the profile and region you deployed with",
    ]


def test_the_cli_reports_a_destroy_error_in_one_line(aws_env, tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["destroy", "--yes", "-c", "bridge_hostng=lambda"])
    assert raised.value.code == (
        "error: config key 'bridge_hostng' = 'lambda' is not allowed: expected a key this "
        "project knows: did you mean 'bridge_hosting'?"
    )


def test_destroy_also_removes_the_skill_stacks_of_the_locales_other_regions(deployed, tmp_path):
    """Found in their own regions (eu-west-1 for en-GB and en-IN; us-west-2's was never deployed)."""
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName="NestSkill-eu-west-1", TemplateBody=json.dumps(STATELESS_TEMPLATE)
    )
    tools, said = FakeTools(), []
    destroyer(tmp_path, tools, answers=["destroy"], said=said).destroy()
    cdk = next(argv for argv in tools.commands if argv[:2] == ["cdk", "destroy"])
    assert cdk[2 : cdk.index("--exclusively")] == ["NestSkillBridge", "NestSkill", "NestSkill-eu-west-1"]
    assert "  - stack NestSkill-eu-west-1\n" in said[0]


def test_live_states_token_table_is_listed_as_kept_with_its_delete_command(aws_env):
    from ops.destroy import kept_resources

    template = {
        "Resources": {
            **SECRETS_TEMPLATE["Resources"],
            "LiveStateTokens": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "TableName": "NestSkillSecrets-LiveStateTokens",
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                    ],
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                },
            },
        }
    }
    with mock_aws():
        boto3.client("cloudformation").create_stack(
            StackName="NestSkillSecrets", TemplateBody=json.dumps(template), EnableTerminationProtection=True
        )
        kept = kept_resources(boto3.Session(), ["NestSkillSecrets"])
    [table] = [item for item in kept if "DynamoDB table" in item.what]
    assert "NestSkillSecrets-LiveStateTokens" in table.what and "RETAIN" in table.what
    assert table.commands == ("aws dynamodb delete-table --table-name NestSkillSecrets-LiveStateTokens",)
