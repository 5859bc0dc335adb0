"""Live state against its stand-ins: moto's DynamoDB, KMS and S3 in-process (mock_aws), the LWA,
event-gateway and tokeninfo stand-ins on loopback (sandbox.fake_amazon), SDM mocked with `responses`
(loopback passes through to the stand-ins)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
import responses
from moto import mock_aws

from nest_skill.config import SkillConfig
from nest_skill.live_state.config import LiveStateConfig
from nest_skill.live_state.reporter import LiveState
from nest_skill.sdm_client import SdmClient
from nest_skill.smart_home.dispatcher import SmartHome
from sandbox import fake_amazon
from tests.skill.sdm import (
    DEVICES_URL,
    PROJECT,
    command_url,
    device_list,
    device_url,
    thermostat,
)

REGION = "us-east-1"
TABLE = "NestSkillLiveState"
CLIENT_ID = "amzn1.application-oa2-client.messaging"
CLIENT_SECRET = "messaging-secret-for-tests"


@pytest.fixture
def aws():
    with mock_aws():
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "testing")
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        kms = boto3.client("kms", region_name=REGION)
        key_arn = kms.create_key(Description="tokens")["KeyMetadata"]["Arn"]
        # The stacks give the skill the key by its alias ARN (a regional skill cannot know the key's ID).
        kms.create_alias(AliasName="alias/NestSkill-live-state", TargetKeyId=key_arn)
        alias_arn = key_arn.split(":key/")[0] + ":alias/NestSkill-live-state"
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="secrets")
        s3.put_object(
            Bucket="secrets",
            Key="messaging.json",
            Body=json.dumps({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}).encode(),
        )
        yield {"dynamodb": dynamodb, "kms": kms, "key_id": alias_arn}


@pytest.fixture
def amazon():
    with fake_amazon.serving(CLIENT_ID, CLIENT_SECRET) as stand_ins:
        yield stand_ins


@pytest.fixture
def sdm_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        yield mock


def home(sdm_api, *devices: dict[str, Any]) -> None:
    sdm_api.get(DEVICES_URL, json=device_list(*devices))
    for device in devices:
        device_id = device["name"].rsplit("/", 1)[-1]
        sdm_api.post(command_url(device_id), json={})
        sdm_api.get(device_url(device_id), json=device)


def make_config(aws, amazon, aws_region: str = REGION) -> LiveStateConfig:
    return LiveStateConfig.from_mapping(
        {
            "LIVE_STATE_TABLE": TABLE,
            "LIVE_STATE_KEY": aws["key_id"],
            "LIVE_STATE_REGION": REGION,
            "MESSAGING_CREDENTIALS_BUCKET": "secrets",
            "MESSAGING_CREDENTIALS_OBJECT": "messaging.json",
            "AWS_REGION": aws_region,
            "LWA_TOKEN_URL": amazon.lwa_url,
            **{f"EVENT_GATEWAY_URL_{r}": url for r, url in amazon.gateway_urls.items()},
        }
    )


@pytest.fixture
def sdm():
    return SdmClient(SkillConfig(nest_project_id=PROJECT))


@pytest.fixture
def live(aws, amazon, sdm):
    """One container's LiveState (NA), and its smart-home door."""
    state = LiveState(make_config(aws, amazon), sdm, tokeninfo_url=amazon.tokeninfo_url)
    return state


@pytest.fixture
def door(live, sdm):
    return SmartHome(sdm, live)


@pytest.fixture
def pubsub():
    """The Pub/Sub push stand-in (sandbox.fake_pubsub) with its certificates served; `certs_url` set."""
    from sandbox import fake_pubsub

    with fake_pubsub.serving() as (stand_in, certs_url):
        stand_in.certs_url = certs_url
        yield stand_in


@pytest.fixture
def events(aws, amazon, pubsub):
    """One warm events function (nest_events.NestEvents) against the stand-ins."""
    from tests.live_state.events_support import make_events

    return make_events(aws, amazon, pubsub)


__all__ = ["home", "make_config", "thermostat"]
