"""The stateful part: the KMS key and the private bucket that hold the OAuth client credentials.

Kept in its own stack with termination protection and RETAIN, so redeploying or deleting the
stateless stacks can never take the credentials with them. The object itself is written by the
operator CLI (`make credentials`), never by CloudFormation: its value stays out of templates.

Only the bridge role reads it, and that is fenced by resource policies, not left to IAM grants:
the key policy lets the account administer the key and encrypt through S3 but gives `kms:Decrypt`
to the bridge role alone, and the bucket policy denies `s3:GetObject` to every other principal.
Both name the role by ARN in an `aws:PrincipalArn` condition: the role lives in the bridge stack,
which imports from this one, so a reference back would be a cycle, and KMS and S3 refuse a policy
whose Principal names a role that does not exist yet. The role's name is therefore fixed
(`bridge_role_name`) and its ARN is built here from it. The bucket's name is fixed for the same
reason: the key policy names the bucket (S3's encryption context), and the bucket names the key.

With live state on, the skill functions of every region the locales need (NestSkill-<region> roles,
fixed names) read the messaging credentials object and use the token table in this, the home,
region. Their parts here have fixed names too (`LiveStateHome`: the table, the token key's alias,
the bucket), so a skill stack in another region names them without a cross-region reference, and
the two keys' policies grant the skill roles their KMS use directly (a key policy statement that
allows a principal of the key's own account needs no IAM grant beside it): no skill role's IAM
policy names a key, and none names anything with a wildcard. Those statements' principal is `*`
narrowed to exactly the skill roles by `aws:PrincipalArn` and to this account by
`kms:CallerAccount`, because KMS refuses a key policy whose Principal names a role that does not
exist yet, and the regional roles are created after this stack.

The events function (Nest's events through Pub/Sub push, in the home region's skill stack) has a
role of its own with a fixed name too (`NestSkillEvents-<region>`): the same fences list it beside
the skill roles, so it uses the token table, seals and unseals tokens and reads the messaging
credentials object, and, like the skill, cannot read the Google client secret. The table's
`delete_after` attribute is its time-to-live: the events function's records of applied events
expire by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.config import BRIDGE_STACK, EVENTS_ROLE_PREFIX, SECRETS_STACK, SKILL_STACK

# Live state: the object holding the skill's Alexa Skill Messaging credentials (JSON clientId,
# clientSecret), written by the deploy from SMAPI, read by the skill alone.
MESSAGING_OBJECT_KEY = "alexa-messaging-credentials.json"
# Live state's token table and its key's alias: fixed names, so a skill stack in any region can name them.
LIVE_STATE_TABLE = f"{SECRETS_STACK}-LiveStateTokens"
LIVE_STATE_KEY_ALIAS = "alias/NestSkill-live-state"
# The token table's time-to-live attribute: the events function's records of applied SDM events
# (lambda_src/nest_skill/live_state/device_states.py TTL_ATTRIBUTE; never `expires_at`, the LWA
# token's expiry on a user's item).
LIVE_STATE_TTL_ATTRIBUTE = "delete_after"
# What DynamoDB does with the token table's key on the callers' behalf (AWS KMS developer guide, "How
# Amazon DynamoDB uses AWS KMS": the key policy of a customer managed key).
DYNAMODB_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
    "kms:CreateGrant",
)

# What DynamoDB does with the key on behalf of a caller reading and writing items (the CDK's table
# grants give a table's readers and writers the same).
DYNAMODB_ITEM_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")

# What the account's IAM identities may do to the key: manage it, never use it to decrypt. No
# kms:CreateGrant either, since a grant would hand out Decrypt around the key policy.
# Source: AWS KMS developer guide, "Default key policy" (key administrators) and "Grants in AWS KMS".
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)


def bridge_role_name(stack: cdk.Stack) -> str:
    """The bridge role's fixed name: per region, since IAM names are account-wide."""
    return f"{BRIDGE_STACK}-{stack.region}"


def bridge_role_arn(stack: cdk.Stack) -> str:
    return stack.format_arn(service="iam", region="", resource="role", resource_name=bridge_role_name(stack))


def skill_role_name(stack: cdk.Stack) -> str:
    """The skill role's fixed name with live state on (the fences name it, as the bridge's)."""
    return f"{SKILL_STACK}-{stack.region}"


def skill_role_arn(stack: cdk.Stack, region: str | None = None) -> str:
    """The ARN of the skill role serving `region` (default: `stack`'s own)."""
    name = f"{SKILL_STACK}-{region}" if region else skill_role_name(stack)
    return stack.format_arn(service="iam", region="", resource="role", resource_name=name)


def events_role_name(stack: cdk.Stack) -> str:
    """The events function's role: a fixed name, listed in the home region's fences like the skill's."""
    return f"{EVENTS_ROLE_PREFIX}-{stack.region}"


def events_role_arn(stack: cdk.Stack) -> str:
    return stack.format_arn(service="iam", region="", resource="role", resource_name=events_role_name(stack))


def credentials_bucket_name(account: str, home_region: str) -> str:
    return f"{SECRETS_STACK.lower()}-credentials-{account}-{home_region}"


@dataclass(frozen=True)
class LiveStateHome:
    """Live state's parts in the home region, by their fixed names, as a skill stack in any region
    names them. `region` is the home region's name, or None for the skill stack that is itself in
    the home region (it then uses its own AWS::Region)."""

    region: str | None = None

    def home(self, stack: cdk.Stack) -> str:
        return self.region or stack.region

    def table_arn(self, stack: cdk.Stack) -> str:
        return stack.format_arn(
            service="dynamodb", region=self.home(stack), resource="table", resource_name=LIVE_STATE_TABLE
        )

    def key_alias_arn(self, stack: cdk.Stack) -> str:
        """The token key by its alias: KMS's Encrypt and Decrypt take an alias ARN as KeyId."""
        return stack.format_arn(
            service="kms",
            region=self.home(stack),
            resource=LIVE_STATE_KEY_ALIAS,
            arn_format=cdk.ArnFormat.NO_RESOURCE_NAME,
        )

    def bucket_name(self, stack: cdk.Stack) -> str:
        return credentials_bucket_name(stack.account, self.home(stack))

    def messaging_object_arn(self, stack: cdk.Stack) -> str:
        return stack.format_arn(
            service="s3", region="", account="", resource=self.bucket_name(stack), resource_name=MESSAGING_OBJECT_KEY
        )


def _retained_key(
    scope: Construct, construct_id: str, description: str, use: list[iam.PolicyStatement], **kwargs: Any
) -> kms.Key:
    """A customer-managed key, rotated and kept when its stack is deleted, whose policy replaces CDK's
    default (which gives the account kms:*, Decrypt included): the account administers it, and `use`
    says who may use it and how."""
    administer = iam.PolicyStatement(
        sid="AdministerTheKeyFromTheAccount",
        principals=[iam.AccountRootPrincipal()],
        actions=list(KEY_ADMIN_ACTIONS),
        resources=["*"],
    )
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        policy=iam.PolicyDocument(statements=[administer, *use]),
        **kwargs,
    )


def _one_or_all(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


class SecretsStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        object_key: str,
        live_state: bool = False,
        skill_regions: Sequence[str] = (),
        **kwargs,
    ) -> None:
        """`skill_regions`: the regions besides this one whose skill functions use live state."""
        super().__init__(scope, construct_id, termination_protection=True, **kwargs)
        assert construct_id == SECRETS_STACK, "the skill stacks name this stack's parts by SECRETS_STACK"
        self.object_key = object_key
        self.live_state = live_state
        # Every role of this deployment's skill functions: the home region's, then each other region's,
        # then the events function's (home region only).
        skill_roles = _one_or_all(
            [skill_role_arn(self), *(skill_role_arn(self, r) for r in skill_regions), events_role_arn(self)]
        )
        bucket_name = credentials_bucket_name(self.account, self.region)
        bucket_arn = self.format_arn(service="s3", region="", account="", resource=bucket_name)
        bridge_role = bridge_role_arn(self)
        through_s3 = {
            "kms:ViaService": f"s3.{self.region}.amazonaws.com",
            # With S3 Bucket Keys the encryption context is the bucket's ARN.
            "kms:EncryptionContext:aws:s3:arn": bucket_arn,
        }

        account = iam.AccountRootPrincipal()
        self.key = _retained_key(
            self,
            "CredentialsKey",
            "Encrypts the Nest skill's OAuth client credentials",
            [
                iam.PolicyStatement(
                    sid="EncryptCredentialsThroughS3FromTheAccount",
                    principals=[account],
                    actions=["kms:GenerateDataKey"],
                    resources=["*"],
                    conditions={"StringEquals": through_s3},
                ),
                iam.PolicyStatement(
                    sid="DecryptCredentialsOnlyForTheBridge",
                    principals=[account],
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions={"StringEquals": {**through_s3, "aws:PrincipalArn": bridge_role}},
                ),
            ],
        )
        if live_state:
            # S3 Bucket Keys make the bucket, not the object, the encryption context: the key lets the
            # skill roles decrypt in this bucket, and the bucket policy below keeps them to their object.
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="DecryptMessagingCredentialsOnlyForTheSkill",
                    principals=[iam.AnyPrincipal()],
                    actions=["kms:Decrypt"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {
                            **through_s3,
                            "kms:CallerAccount": self.account,
                            "aws:PrincipalArn": skill_roles,
                        }
                    },
                )
            )
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # S3 server access logs cannot be delivered to SSE-KMS buckets
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(365), noncurrent_version_expiration=cdk.Duration.days(30))
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.Validations.of(access_logs).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-S1",
                reason=(
                    "This is the access-log destination of the credentials bucket; logging it into itself would loop."
                ),
            )
        )
        self.bucket = s3.Bucket(
            self,
            "Credentials",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="credentials-bucket/",
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyUploadsNotEncryptedWithKms",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
            )
        )
        # `--sse aws:kms` without a key ID would encrypt with the account's aws/s3 key, which anyone in
        # the account may use; an upload that names no key gets the bucket default, this key.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyUploadsWithAnotherKmsKey",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={
                    "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": self.key.key_arn}
                },
            )
        )
        # Whatever IAM grants elsewhere, no one else reads any object (or older version) here; with live
        # state, the messaging credentials object is the skill's alone, and the bridge cannot read it.
        messaging_object = self.bucket.arn_for_objects(MESSAGING_OBJECT_KEY)
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyReadsExceptByTheBridge",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                not_resources=[messaging_object] if live_state else None,
                resources=None if live_state else [self.bucket.arn_for_objects("*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": bridge_role}},
            )
        )
        if live_state:
            self.bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="DenyMessagingCredentialsReadsExceptByTheSkill",
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[messaging_object],
                    conditions={"ArnNotEquals": {"aws:PrincipalArn": skill_roles}},
                )
            )

        self.token_table: dynamodb.Table | None = None
        self.token_key: kms.Key | None = None
        if live_state:
            self._add_token_table(account, skill_roles)

        cdk.CfnOutput(
            self,
            "SecretsBucketName",
            value=self.bucket.bucket_name,
            description="Bucket holding the OAuth client credentials object",
        )
        cdk.CfnOutput(
            self,
            "SecretsObjectKey",
            value=object_key,
            description="Key of the credentials object (Java properties: clientid, clientsecret, statekey)",
        )
        cdk.CfnOutput(
            self, "SecretsKeyArn", value=self.key.key_arn, description="KMS key that encrypts the credentials object"
        )

    @property
    def object_arn(self) -> str:
        return self.bucket.arn_for_objects(self.object_key)

    @property
    def messaging_object_arn(self) -> str:
        return self.bucket.arn_for_objects(MESSAGING_OBJECT_KEY)

    def _add_token_table(self, account: iam.IPrincipal, skill_roles: str | list[str]) -> None:
        """Live state's token table: on demand, point-in-time recovery, retained, encrypted at rest with
        its own customer managed key, which also seals each user's tokens before they are written
        (kms:Encrypt/Decrypt directly, the skill roles only, the table's name in the encryption context).
        The account (CloudFormation creating the table, an administrator) uses the key through
        DynamoDB as IAM allows it; the skill roles are granted their use through DynamoDB here."""
        table_name = LIVE_STATE_TABLE
        the_skill = {"kms:CallerAccount": self.account, "aws:PrincipalArn": skill_roles}
        self.token_key = _retained_key(
            self,
            "LiveStateKey",
            "Encrypts the Nest skill's live-state token table and seals the tokens in it",
            [
                iam.PolicyStatement(
                    sid="EncryptTheTableThroughDynamoDbFromTheAccount",
                    principals=[account],
                    actions=list(DYNAMODB_KEY_ACTIONS),
                    resources=["*"],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": f"dynamodb.{self.region}.amazonaws.com",
                            "kms:CallerAccount": self.account,
                        }
                    },
                ),
                iam.PolicyStatement(
                    sid="UseTheTableThroughDynamoDbForTheSkill",
                    principals=[iam.AnyPrincipal()],
                    actions=list(DYNAMODB_ITEM_KEY_ACTIONS),
                    resources=["*"],
                    conditions={
                        "StringEquals": {"kms:ViaService": f"dynamodb.{self.region}.amazonaws.com", **the_skill}
                    },
                ),
                iam.PolicyStatement(
                    sid="SealTokensOnlyForTheSkill",
                    principals=[iam.AnyPrincipal()],
                    actions=["kms:Encrypt", "kms:Decrypt"],
                    resources=["*"],
                    conditions={"StringEquals": {**the_skill, "kms:EncryptionContext:table": table_name}},
                ),
            ],
            alias=LIVE_STATE_KEY_ALIAS,
        )
        self.token_table = dynamodb.Table(
            self,
            "LiveStateTokens",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.token_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=LIVE_STATE_TTL_ATTRIBUTE,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.CfnOutput(
            self,
            "LiveStateTableName",
            value=self.token_table.table_name,
            description="Live state's token table (kept by make destroy)",
        )
        cdk.CfnOutput(
            self,
            "MessagingCredentialsObjectKey",
            value=MESSAGING_OBJECT_KEY,
            description="Key of the Alexa Skill Messaging credentials object (JSON), read by the skill only",
        )
