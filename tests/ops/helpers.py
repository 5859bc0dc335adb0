"""Values shared by the operator CLI tests: a valid non-example config and the secrets stack's shape."""

from __future__ import annotations

from typing import Any

from ops.credentials import CredentialsLocation

PROJECT_ID = "3f1c2a4e-8b7d-4c6e-9a0b-1d2e3f405162"
CLIENT_ID = "123456789012-abcdefghijklmnop.apps.googleusercontent.com"
VENDOR_ID = "M2EXAMPLEVNDR"
CLIENT_SECRET = "test-client-secret-for-ops"
CONTEXT_ARGS = (f"nest_project_id={PROJECT_ID}", f"nest_client_id={CLIENT_ID}", f"alexa_vendor_id={VENDOR_ID}")
SKILL_FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:x"
BRIDGE_AUTHORIZE_URL = "https://bridge.example.test/authorize"
REDIRECT_URLS = (
    "https://pitangui.amazon.com/api/skill/link/M2EXAMPLEVNDR",
    "https://layla.amazon.com/api/skill/link/M2EXAMPLEVNDR",
)
BUCKET = "nestskillsecrets-secretsbucket-test"
OBJECT_KEY = "nest.properties"


def create_secrets_bucket(s3: Any, kms: Any, bucket: str = BUCKET, key: str = OBJECT_KEY) -> CredentialsLocation:
    """What the secrets stack creates: a KMS key and a versioned bucket encrypted with it by default."""
    key_arn = kms.create_key(Description="nest skill secrets")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]
        },
    )
    return CredentialsLocation(bucket, key, key_arn)


def stack_outputs(location: CredentialsLocation) -> dict[str, dict[str, str]]:
    """A `cdk deploy --all --outputs-file` document for these stacks."""
    return {
        "NestSkillSecrets": {
            "SecretsBucketName": location.bucket,
            "SecretsObjectKey": location.key,
            "SecretsKeyArn": location.kms_key_arn,
        },
        "NestSkill": {"SkillFunctionArn": SKILL_FUNCTION_ARN},
        "NestSkillBridge": {
            "BridgeBaseUrl": "https://bridge.example.test/",
            "BridgeAuthorizeUrl": BRIDGE_AUTHORIZE_URL,
            "OAuthRedirectUrls": ",".join(REDIRECT_URLS),
        },
    }


class Stdin:
    """Stands in for sys.stdin where only `isatty()` matters."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty
