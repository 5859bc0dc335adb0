"""The AWS account and region the operator CLI works in, read as the AWS CLI and the CDK CLI read them.

boto3 reads AWS_DEFAULT_REGION and the profile's `region`, but not AWS_REGION, which the AWS CLI v2
and the CDK CLI read first: without this the checks and the credentials commands could look at one
region while `cdk deploy` deploys to another. A profile that does not exist, credentials STS
refuses and an expired SSO session are each one line (AwsSetupError), never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from stacks.config import ALEXA_API_REGIONS

# Alexa calls a custom skill's Lambda endpoint only in these regions (Alexa Skills Kit, "Host a custom
# skill as an AWS Lambda function"; the Alexa sample skills' setup instructions): the three it sends
# its locales' requests from, and ap-northeast-1.
ALEXA_LAMBDA_REGIONS = (*ALEXA_API_REGIONS, "ap-northeast-1")

# CDK's default bootstrap qualifier (`cdk bootstrap --qualifier`; the `@aws-cdk/core:bootstrapQualifier`
# context key), and the oldest bootstrap version the synthesized templates accept: their
# CheckBootstrapVersion rule refuses 1-5 ("requires bootstrap stack version >= 6").
BOOTSTRAP_QUALIFIER = "hnb659fds"
BOOTSTRAP_MIN_VERSION = 6
# STS error codes for credentials that exist but are not (or no longer) valid.
_REFUSED_CREDENTIALS = (
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
)

Clients = Callable[..., Any]


class AwsSetupError(RuntimeError):
    """The AWS profile, credentials or region cannot be used; the message is one line saying what to do."""


@dataclass(frozen=True)
class Identity:
    """Who STS says the credentials are."""

    account: str
    arn: str


def profile_name(environ: Mapping[str, str]) -> str:
    return environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"


def aws_session(region: str | None = None) -> boto3.Session:
    """boto3's session for the environment, or AwsSetupError when its profile does not exist."""
    try:
        return boto3.Session(region_name=region)
    except ProfileNotFound as error:
        raise AwsSetupError(
            f"{error.kwargs.get('profile')!r} is not an AWS profile (AWS_PROFILE or "
            f"AWS_DEFAULT_PROFILE): check the name against `aws configure list-profiles`"
        ) from None


def aws_region(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(region, where it came from): AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(name):
            return environ[name], name
    return aws_session().region_name, f"profile '{profile_name(environ)}'"


def aws_clients(environ: Mapping[str, str]) -> Clients:
    """A boto3 client factory for the region `aws_region` finds (`region_name=` for another region),
    made on first use, so that a bad profile is reported where it is used."""
    sessions: list[boto3.Session] = []

    def client(service: str, **kwargs: Any) -> Any:
        if not sessions:
            sessions.append(aws_session(aws_region(environ)[0]))
        return sessions[0].client(service, **kwargs)

    return client


def caller_identity(clients: Clients, environ: Mapping[str, str], region: str | None) -> Identity:
    """STS GetCallerIdentity, once: the account the credentials belong to, or AwsSetupError saying
    why they cannot be used (none, refused, expired, SSO session over, STS unreachable). Asked in
    `region` (us-east-1 when there is none: the missing region is a problem of its own)."""
    profile = profile_name(environ)
    try:
        answer = clients("sts", region_name=region or "us-east-1").get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise AwsSetupError(
            "no AWS credentials: configure a profile (AWS_PROFILE, `aws configure sso`) or, in CI, the OIDC role"
        ) from None
    except (SSOError, TokenRetrievalError):
        raise AwsSetupError(
            f"the SSO session of AWS profile '{profile}' has expired or was never started: "
            f"run `aws sso login --profile {profile}`"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _REFUSED_CREDENTIALS:
            raise AwsSetupError(
                f"STS refused the AWS credentials ({code}: "
                f"{error.response['Error'].get('Message', '').rstrip('.')}): they are wrong or "
                f"expired; renew them ({_credentials_source(environ)})"
            ) from None
        raise AwsSetupError(f"STS GetCallerIdentity failed: {code or error}") from None
    except EndpointConnectionError as error:
        raise AwsSetupError(
            f"cannot reach AWS STS ({error.kwargs.get('endpoint_url')}): check the network and the region"
        ) from None
    except BotoCoreError as error:
        raise AwsSetupError(f"the AWS credentials cannot be used: {error}") from None
    return Identity(answer["Account"], answer["Arn"])


def _credentials_source(environ: Mapping[str, str]) -> str:
    if environ.get("AWS_ACCESS_KEY_ID"):
        return "they come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"
    return f"they come from AWS profile '{profile_name(environ)}'"


@dataclass(frozen=True)
class Bootstrap:
    """What one region's CDK bootstrap parameter says: its version (None: not bootstrapped), or
    `denied`, the IAM action the credentials lack to read it."""

    region: str
    version: int | None = None
    denied: str = ""

    @property
    def ready(self) -> bool:
        return not self.denied and self.version is not None and self.version >= BOOTSTRAP_MIN_VERSION


def bootstrap_state(clients: Clients, region: str, qualifier: str = BOOTSTRAP_QUALIFIER) -> Bootstrap:
    """The region's `/cdk-bootstrap/<qualifier>/version` SSM parameter, which `cdk bootstrap` writes
    and every deploy of a synthesized template reads."""
    try:
        value = clients("ssm", region_name=region).get_parameter(Name=bootstrap_parameter(qualifier))["Parameter"][
            "Value"
        ]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
            return Bootstrap(region)
        if is_access_denied(error):
            return Bootstrap(region, denied="ssm:GetParameter")
        raise
    return Bootstrap(region, int(value) if value.isdigit() else 0)


def bootstrap_parameter(qualifier: str = BOOTSTRAP_QUALIFIER) -> str:
    return f"/cdk-bootstrap/{qualifier}/version"


def is_access_denied(error: ClientError) -> bool:
    """AccessDenied in any service's spelling (AccessDenied, AccessDeniedException, a bare 403)."""
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code.startswith("AccessDenied") or code == "403" or status == 403
