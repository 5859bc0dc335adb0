"""Composes the three stacks for one configuration, with cdk-nag's AwsSolutions pack on the app.

Used by `app.py` and by the tests, so what is tested is what is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.bridge_stack import BridgeStack
from stacks.config import BRIDGE_STACK, SECRETS_STACK, SKILL_STACK, AppConfig
from stacks.secrets_stack import SecretsStack
from stacks.skill_stack import SkillStack


@dataclass(frozen=True)
class NestSkillStacks:
    secrets: SecretsStack
    skill: SkillStack
    bridge: BridgeStack

    def all(self) -> tuple[cdk.Stack, ...]:
        return (self.secrets, self.skill, self.bridge)


def add_stacks(app: cdk.App, config: AppConfig) -> NestSkillStacks:
    """Adds the stacks to `app`; any unacknowledged AwsSolutions finding then fails synthesis."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    secrets = SecretsStack(app, SECRETS_STACK, object_key=config.secrets_object_key,
                           description="Nest Alexa skill: encrypted OAuth client credentials (stateful)")
    skill = SkillStack(app, SKILL_STACK, config=config, description="Nest Alexa skill: the skill Lambda")
    bridge = BridgeStack(app, BRIDGE_STACK, config=config, secrets=secrets,
                         description=f"Nest Alexa skill: OAuth bridge on {config.bridge_hosting}")
    return NestSkillStacks(secrets=secrets, skill=skill, bridge=bridge)
