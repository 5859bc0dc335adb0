"""The stateful part: the KMS key and the private bucket that hold the OAuth client credentials.

Kept in its own stack with termination protection and RETAIN, so redeploying or deleting the
stateless stacks can never take the credentials with them. The object itself is written by the
operator CLI (`make credentials`), never by CloudFormation: its value stays out of templates.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam, aws_kms as kms, aws_s3 as s3
from constructs import Construct


class SecretsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, object_key: str, **kwargs) -> None:
        super().__init__(scope, construct_id, termination_protection=True, **kwargs)
        self.object_key = object_key

        self.key = kms.Key(
            self, "CredentialsKey",
            description="Encrypts the Nest skill's OAuth client credentials",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
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

        cdk.CfnOutput(self, "SecretsBucketName", value=self.bucket.bucket_name,
                      description="Bucket holding the OAuth client credentials object")
        cdk.CfnOutput(self, "SecretsObjectKey", value=object_key,
                      description="Key of the credentials object (Java properties: clientid, clientsecret, statekey)")
        cdk.CfnOutput(self, "SecretsKeyArn", value=self.key.key_arn,
                      description="KMS key that encrypts the credentials object")

    @property
    def object_arn(self) -> str:
        return self.bucket.arn_for_objects(self.object_key)
