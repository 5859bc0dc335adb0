"""Synthesizes the app once per configuration and hands the templates to the tests.

Bundling is skipped (context `aws:cdk:bundling-stacks`): assets are hashed from their sources,
and the snapshots mask those hashes, so editing Lambda code never churns a snapshot.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from stacks.config import AppConfig
from stacks.nest_skill_app import NestSkillStacks, add_stacks

ROOT = Path(__file__).resolve().parents[2]
CDK_CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"
SKILL_ID = "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"
BEANSTALK = {
    "bridge_hosting": "beanstalk",
    "beanstalk_solution_stack": "64bit Amazon Linux 2023 v4.7.0 running Python 3.13",
}

VARIANTS = {
    "lambda-auth_code": {},
    "lambda-implicit": {"account_linking": "implicit"},
    "beanstalk-auth_code": BEANSTALK,
    "beanstalk-implicit": {**BEANSTALK, "account_linking": "implicit"},
    "beanstalk-https": {
        **BEANSTALK,
        "certificate_arn": CERTIFICATE_ARN,
        "bridge_public_base_url": "https://thermostat-bridge.example.com",
    },
    "with-skill-id": {"skill_id": SKILL_ID},
    "multi-region": {"skill_id": SKILL_ID},
    "live-state": {"skill_id": SKILL_ID, "live_state": "on", "locales": ["en-US", "en-CA"]},
    "live-state-beanstalk": {**BEANSTALK, "skill_id": SKILL_ID, "live_state": "on", "locales": ["en-GB"]},
    # The default locales: Alexa's NA, EU and FE regions, skill functions in three AWS regions.
    "live-state-multi-region": {"skill_id": SKILL_ID, "live_state": "on"},
}
# The region the CDK CLI would deploy to (CDK_DEFAULT_REGION); other variants synthesize without one.
HOME_REGIONS = {"multi-region": "us-east-1", "live-state-multi-region": "us-east-1"}


class Synthesized:
    def __init__(self, app: cdk.App, stacks: NestSkillStacks) -> None:
        self.app = app
        self.stacks = stacks
        self.templates = {stack.stack_name: Template.from_stack(stack) for stack in stacks.all()}

    @property
    def secrets(self) -> Template:
        return self.templates[self.stacks.secrets.stack_name]

    @property
    def skill(self) -> Template:
        return self.templates[self.stacks.skill.stack_name]

    @property
    def bridge(self) -> Template:
        return self.templates[self.stacks.bridge.stack_name]


def build_app(overrides: dict, outdir: Path, home_region: str | None = None) -> tuple[cdk.App, NestSkillStacks]:
    context = {**CDK_CONTEXT, "aws:cdk:bundling-stacks": [], **overrides}
    app = cdk.App(context=context, outdir=str(outdir))
    return app, add_stacks(app, AppConfig.from_mapping(context), home_region)


@cache
def _synth(variant: str, outdir: str) -> Synthesized:
    return Synthesized(*build_app(VARIANTS[variant], Path(outdir) / variant, HOME_REGIONS.get(variant)))


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    outdir = str(tmp_path_factory.mktemp("cdk-out"))
    return lambda variant="lambda-auth_code": _synth(variant, outdir)
