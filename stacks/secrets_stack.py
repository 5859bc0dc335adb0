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
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam, aws_kms as kms, aws_s3 as s3
from constructs import Construct

from stacks.config import BRIDGE_STACK

# What the account's IAM identities may do to the key: manage it, never use it to decrypt. No
# kms:CreateGrant either, since a grant would hand out Decrypt around the key policy.
# Source: AWS KMS developer guide, "Default key policy" (key administrators) and "Grants in AWS KMS".
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
    "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations",
    "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)


def bridge_role_name(stack: cdk.Stack) -> str:
    """The bridge role's fixed name: per region, since IAM names are account-wide."""
    return f"{BRIDGE_STACK}-{stack.region}"


def bridge_role_arn(stack: cdk.Stack) -> str:
    return stack.format_arn(service="iam", region="", resource="role", resource_name=bridge_role_name(stack))


class SecretsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, object_key: str, **kwargs) -> None:
        super().__init__(scope, construct_id, termination_protection=True, **kwargs)
        self.object_key = object_key
        bucket_name = f"{construct_id.lower()}-credentials-{self.account}-{self.region}"
        bucket_arn = self.format_arn(service="s3", region="", account="", resource=bucket_name)
        bridge_role = bridge_role_arn(self)
        through_s3 = {"kms:ViaService": f"s3.{self.region}.amazonaws.com",
                      # With S3 Bucket Keys the encryption context is the bucket's ARN.
                      "kms:EncryptionContext:aws:s3:arn": bucket_arn}

        account = iam.AccountRootPrincipal()
        self.key = kms.Key(
            self, "CredentialsKey",
            description="Encrypts the Nest skill's OAuth client credentials",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            # Replaces CDK's default policy, which gives the account kms:* (Decrypt included).
            policy=iam.PolicyDocument(statements=[
                iam.PolicyStatement(sid="AdministerTheKeyFromTheAccount", principals=[account],
                                    actions=list(KEY_ADMIN_ACTIONS), resources=["*"]),
                iam.PolicyStatement(sid="EncryptCredentialsThroughS3FromTheAccount", principals=[account],
                                    actions=["kms:GenerateDataKey"], resources=["*"],
                                    conditions={"StringEquals": through_s3}),
                iam.PolicyStatement(sid="DecryptCredentialsOnlyForTheBridge", principals=[account],
                                    actions=["kms:Decrypt"], resources=["*"],
                                    conditions={"StringEquals": {**through_s3, "aws:PrincipalArn": bridge_role}}),
            ]),
        )
        access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # S3 server access logs cannot be delivered to SSE-KMS buckets
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(365),
                                              noncurrent_version_expiration=cdk.Duration.days(30))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.Validations.of(access_logs).acknowledge(cdk.Acknowledgment(
            id="AwsSolutions-S1",
            reason="This is the access-log destination of the credentials bucket; logging it into itself would loop.",
        ))
        self.bucket = s3.Bucket(
            self, "Credentials",
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
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="DenyUploadsNotEncryptedWithKms",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects("*")],
            conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        ))
        # `--sse aws:kms` without a key ID would encrypt with the account's aws/s3 key, which anyone in
        # the account may use; an upload that names no key gets the bucket default, this key.
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="DenyUploadsWithAnotherKmsKey",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"],
            resources=[self.bucket.arn_for_objects("*")],
            conditions={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id":
                                                    self.key.key_arn}},
        ))
        # Whatever IAM grants elsewhere, no one else reads any object (or older version) here.
        self.bucket.add_to_resource_policy(iam.PolicyStatement(
            sid="DenyReadsExceptByTheBridge",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[self.bucket.arn_for_objects("*")],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": bridge_role}},
        ))

        cdk.CfnOutput(self, "SecretsBucketName", value=self.bucket.bucket_name,
                      description="Bucket holding the OAuth client credentials object")
        cdk.CfnOutput(self, "SecretsObjectKey", value=object_key,
                      description="Key of the credentials object (Java properties: clientid, clientsecret, statekey)")
        cdk.CfnOutput(self, "SecretsKeyArn", value=self.key.key_arn,
                      description="KMS key that encrypts the credentials object")

    @property
    def object_arn(self) -> str:
        return self.bucket.arn_for_objects(self.object_key)
