"""The AWS region the operator CLI works in, read as the AWS CLI and the CDK CLI read it.

boto3 reads AWS_DEFAULT_REGION and the profile's `region`, but not AWS_REGION, which the AWS CLI v2
and the CDK CLI read first: without this the checks and the credentials commands could look at one
region while `cdk deploy` deploys to another.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import boto3

from stacks.config import ALEXA_API_REGIONS

# Alexa calls a custom skill's Lambda endpoint only in these regions (Alexa Skills Kit, "Host a custom
# skill as an AWS Lambda function"; the Alexa sample skills' setup instructions): the three it sends
# its locales' requests from, and ap-northeast-1.
ALEXA_LAMBDA_REGIONS = (*ALEXA_API_REGIONS, "ap-northeast-1")

Clients = Callable[[str], Any]


def aws_region(environ: Mapping[str, str]) -> tuple[str | None, str]:
    """(region, where it came from): AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if environ.get(name):
            return environ[name], name
    profile = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE") or "default"
    return boto3.Session().region_name, f"profile '{profile}'"


def aws_clients(environ: Mapping[str, str]) -> Clients:
    """A boto3 client factory for the region `aws_region` finds."""
    session = boto3.Session(region_name=aws_region(environ)[0])
    return session.client
