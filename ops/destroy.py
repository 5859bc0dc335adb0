"""`make destroy`: remove the stateless stacks and the Alexa skill, and say exactly what is kept.

The secrets stack is termination-protected and every resource in it is RETAIN, on purpose: the
credentials outlive any redeploy. So destroy removes NestSkillBridge and NestSkill (`cdk destroy`),
with the NestSkill-<region> stacks of the locales' other Alexa regions,
and the skill (`ask smapi delete-skill`), then lists what stays, read from what CloudFormation has
deployed (each resource with `DeletionPolicy: Retain`, the protected stack itself, and the log groups
Elastic Beanstalk leaves behind), each with the AWS CLI commands that remove it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ops.ask_project import read_skill_id
from ops.aws import aws_region, aws_session
from ops.deploy import Operation, missing_tools
from ops.settings import forget_skill_id
from stacks.config import BRIDGE_STACK, SECRETS_STACK, SKILL_STACK, regional_skill_stack

STATELESS_STACKS = (BRIDGE_STACK, SKILL_STACK)
CONFIRMATION = "destroy"
KEY_DELETION_WINDOW_DAYS = 7  # KMS allows 7-30; the key can be restored with cancel-key-deletion until then
_RETAINED = ("Retain", "RetainExceptOnCreate")
_EMPTY_VERSIONED_BUCKET = (
    'aws s3api delete-objects --bucket {name} --delete "$(aws s3api list-object-versions --bucket {name} '
    "--output json --query '{{Objects: [Versions, DeleteMarkers][][].{{Key: Key, VersionId: VersionId}}}}')\""
)


class DestroyError(RuntimeError):
    """Destroy cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Kept:
    """One thing destroy leaves in place, and the commands that remove it, in order."""

    what: str
    commands: tuple[str, ...]


@dataclass
class Destroyer(Operation):
    ask: Callable[[str], str] = input

    def destroy(self, confirmed: bool = False) -> None:
        """Show the plan, get a confirmation (unless `confirmed`), then remove the stacks and the skill."""
        problems = missing_tools(self.environ)
        session = aws_session(aws_region(self.environ)[0])
        if session.get_credentials() is None or not session.region_name:
            problems.append("no AWS credentials or no region: use the profile and region you deployed with")
        if problems:
            raise DestroyError("cannot destroy:\n  - " + "\n  - ".join(problems))
        cloudformation = session.client("cloudformation")
        deployed = [name for name in STATELESS_STACKS if _stack(cloudformation, name)]
        deployed += [
            regional_skill_stack(region)
            for region in self.config.skill_regions
            if region != session.region_name
            and _stack(session.client("cloudformation", region_name=region), regional_skill_stack(region))
        ]
        skill_id = self.config.skill_id or read_skill_id(self.ask_project_dir, self.ask_profile)
        removed = [f"stack {name}" for name in deployed] + (
            [f"the Alexa skill {skill_id} (every stage)"] if skill_id else []
        )
        try:
            kept = kept_resources(session, [*deployed, SECRETS_STACK])
        except (ClientError, BotoCoreError) as error:
            raise DestroyError(f"cannot read the deployed stacks: {error}") from None
        self.say("destroy removes:\n" + "\n".join(f"  - {item}" for item in removed or ["nothing: none is deployed"]))
        self.say(describe_kept(kept))
        if not removed:
            return
        if not confirmed:
            if not sys.stdin.isatty():
                raise DestroyError(
                    "no terminal to confirm on: run `python -m ops destroy --yes` to destroy without asking (CI)"
                )
            if self.ask(f"Type '{CONFIRMATION}' to remove them: ").strip() != CONFIRMATION:
                raise DestroyError("not confirmed: nothing was removed")
        forgotten = False
        if skill_id:
            argv = ["ask", "smapi", "delete-skill", "--skill-id", skill_id]
            if self.run(argv, None, self.ask_environ) != 0:
                raise DestroyError(
                    f"`{' '.join(argv)}` failed (see its output above). If the skill is already "
                    f"gone, remove skill_id from {self.settings_file.name} and run `make destroy` "
                    f"again"
                )
            self._forget_skill()
            self.say(f"deleted the Alexa skill {skill_id}")
            forgotten = forget_skill_id(self.settings_file, skill_id)
            if forgotten:
                self.say(
                    f'removed "skill_id": "{skill_id}" from {self.settings_file.name}: the next deploy '
                    f"creates a new skill"
                )
        if deployed:
            argv = ["cdk", "destroy", *deployed, "--exclusively", "--force", *self.context_argv()]
            if self.run(argv, None, self.child_environ) != 0:
                raise DestroyError(f"`{' '.join(argv)}` failed (see its output above)")
            self._forget_outputs(deployed)
            self.say(f"destroyed {', '.join(deployed)}")
        if self.config.skill_id and not forgotten:
            self.say(
                f'remove "skill_id": "{skill_id}" from where you set it (-c, or cdk.json): that skill no longer exists'
            )

    def _forget_skill(self) -> None:
        """ask-cli's record of the deleted skill would make the next deploy update a skill that is gone."""
        (self.ask_project_dir / ".ask" / "ask-states.json").unlink(missing_ok=True)

    def _forget_outputs(self, stacks: Sequence[str]) -> None:
        """The outputs file keeps only the stacks that still exist (`make credentials` reads the secrets')."""
        try:
            outputs = json.loads(self.outputs_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return
        self.outputs_file.write_text(
            json.dumps({name: values for name, values in outputs.items() if name not in stacks}, indent=2)
        )


def kept_resources(session: boto3.Session, stacks: Sequence[str]) -> list[Kept]:
    """What stays after the stateless stacks are deleted, read from the deployed templates.

    Order matters for the commands: the stack goes first (its resources stay), buckets that receive
    other buckets' access logs are emptied last, the key is scheduled for deletion at the end.
    """
    cloudformation = session.client("cloudformation")
    kept: list[Kept] = []
    buckets: list[tuple[bool, Kept]] = []
    keys: list[Kept] = []
    for name in stacks:
        stack = _stack(cloudformation, name)
        if stack is None:
            continue
        if stack.get("EnableTerminationProtection"):
            kept.append(
                Kept(
                    f"stack {name} (termination protection on)",
                    (
                        f"aws cloudformation update-termination-protection --no-enable-termination-protection "
                        f"--stack-name {name}",
                        f"aws cloudformation delete-stack --stack-name {name}  # its RETAIN resources below stay",
                    ),
                )
            )
        resources = _template(cloudformation, name).get("Resources", {})
        log_targets = {
            str(
                resource.get("Properties", {})
                .get("LoggingConfiguration", {})
                .get("DestinationBucketName", {})
                .get("Ref")
            )
            for resource in resources.values()
        }
        physical = {
            item.get("LogicalResourceId"): item.get("PhysicalResourceId", "")
            for item in cloudformation.describe_stack_resources(StackName=name)["StackResources"]
        }
        for logical_id, resource in resources.items():
            kind, physical_id = resource["Type"], physical.get(logical_id, "")
            if kind == "AWS::ElasticBeanstalk::Environment" and physical_id:
                kept += _beanstalk_log_groups(session, physical_id)
            if resource.get("DeletionPolicy") not in _RETAINED or not physical_id:
                continue
            if kind == "AWS::S3::Bucket":
                buckets.append(
                    (
                        logical_id in log_targets,
                        Kept(
                            f"bucket {physical_id} (RETAIN, versioned: every object version must go)",
                            (
                                _EMPTY_VERSIONED_BUCKET.format(name=physical_id) + "  # repeat while versions remain",
                                f"aws s3api delete-bucket --bucket {physical_id}",
                            ),
                        ),
                    )
                )
            elif kind == "AWS::KMS::Key":
                keys.append(
                    Kept(
                        f"KMS key {physical_id} (RETAIN; deletion waits {KEY_DELETION_WINDOW_DAYS}-30 days, and then "
                        f"whatever it encrypted is unreadable for good)",
                        (
                            f"aws kms schedule-key-deletion --key-id {physical_id} "
                            f"--pending-window-in-days {KEY_DELETION_WINDOW_DAYS}",
                        ),
                    )
                )
            elif kind == "AWS::DynamoDB::Table":
                kept.append(
                    Kept(
                        f"DynamoDB table {physical_id} (RETAIN: live state's encrypted Alexa tokens; "
                        f"without them each user links again to get ChangeReports)",
                        (f"aws dynamodb delete-table --table-name {physical_id}",),
                    )
                )
            elif kind == "AWS::Logs::LogGroup":
                kept.append(
                    Kept(
                        f"log group {physical_id} (RETAIN)",
                        (f"aws logs delete-log-group --log-group-name {physical_id}",),
                    )
                )
            else:
                kept.append(Kept(f"{kind} {physical_id} (RETAIN)", ("delete it in the AWS console",)))
    kept += [item for _, item in sorted(buckets, key=lambda pair: pair[0])]
    return kept + keys


def describe_kept(kept: Sequence[Kept]) -> str:
    """The kept list as printed: each item, its commands in order, then what lives outside AWS."""
    lines = ["destroy keeps (remove them yourself, in this order, once you are sure):"]
    for item in kept:
        lines.append(f"  - {item.what}")
        lines += [f"      {command}" for command in item.commands]
    lines += [
        "  - outside AWS: the Google OAuth client (Google Cloud console > APIs & Services > Credentials) and the "
        "Device Access project (console.nest.google.com/device-access)",
        "  - the CDK bootstrap stack CDKToolkit, shared by every CDK app in this account and region",
    ]
    return "\n".join(lines)


def _stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise DestroyError(f"cannot read stack {name}: {error}") from None
    except BotoCoreError as error:
        raise DestroyError(f"cannot reach CloudFormation: {error}") from None
    return None if stack["StackStatus"] == "DELETE_COMPLETE" else stack


def _template(cloudformation: Any, name: str) -> dict[str, Any]:
    body = cloudformation.get_template(StackName=name)["TemplateBody"]
    return body if isinstance(body, dict) else json.loads(body)


def _beanstalk_log_groups(session: boto3.Session, environment: str) -> list[Kept]:
    """Elastic Beanstalk streams instance logs to groups it creates itself, which outlive the environment."""
    pages = (
        session.client("logs")
        .get_paginator("describe_log_groups")
        .paginate(logGroupNamePrefix=f"/aws/elasticbeanstalk/{environment}/")
    )
    return [
        Kept(
            f"log group {group['logGroupName']} (created by Elastic Beanstalk)",
            (f"aws logs delete-log-group --log-group-name {group['logGroupName']}",),
        )
        for page in pages
        for group in page.get("logGroups", [])
    ]
