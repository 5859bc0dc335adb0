"""Shared pieces: SMAPI's own models as the schema, a config and a set of CDK outputs."""

import json
from pathlib import Path

import pytest
from ask_sdk_model_runtime.serializer import DefaultSerializer

from ops.outputs import Outputs
from sandbox.fake_smapi import MODELS as SMAPI_MODELS
from stacks.config import AppConfig


@pytest.fixture
def smapi_read_back():
    """Deserialize with ask-smapi-model and serialize again.

    The serializer keeps only the fields the model declares and raises on a bad enum value, so a
    document equal to its read-back has no misspelled key, no unknown field and no wrong type.
    """
    serializer = DefaultSerializer()

    def read_back(document: dict, kind: str) -> dict:
        return serializer.serialize(serializer.deserialize(json.dumps(document), SMAPI_MODELS[kind]))

    return read_back


@pytest.fixture
def config() -> AppConfig:
    return AppConfig(
        nest_project_id="3f1c2a4e-8b7d-4c6e-9a0b-1d2e3f405162",
        nest_client_id="123456789012-abcdefghijklmnop.apps.googleusercontent.com",
        alexa_vendor_id="M2EXAMPLEVNDR",
    )


@pytest.fixture
def outputs() -> Outputs:
    return Outputs(
        {
            "SkillFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:NestSkill-SkillFunction-x1y2z3",
            "BridgeAuthorizeUrl": "https://bridge.example.test/authorize",
            "BridgeBaseUrl": "https://bridge.example.test/",
        },
        Path("build/cdk-outputs.json"),
    )
