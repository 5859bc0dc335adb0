"""Composes the stacks for one configuration, with cdk-nag's AwsSolutions pack on the app: the
secrets, skill and bridge stacks in the home region, and a skill stack in each other region the
configured locales need (smart-home directives reach only a Lambda in the locale's Alexa region).

Used by `app.py` and by the tests, so what is tested is what is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.bridge_stack import BridgeStack
from stacks.config import (
    ALEXA_API_REGIONS,
    BRIDGE_STACK,
    SECRETS_STACK,
    SKILL_FUNCTION_OUTPUT,
    SKILL_STACK,
    AppConfig,
    regional_skill_stack,
)
from stacks.secrets_stack import LiveStateHome, SecretsStack
from stacks.skill_stack import SkillStack


@dataclass(frozen=True)
class NestSkillStacks:
    secrets: SecretsStack
    skill: SkillStack
    bridge: BridgeStack
    regional_skills: tuple[SkillStack, ...] = ()

    def all(self) -> tuple[cdk.Stack, ...]:
        return (self.secrets, self.skill, self.bridge, *self.regional_skills)


def add_stacks(app: cdk.App, config: AppConfig, home_region: str | None = None) -> NestSkillStacks:
    """Adds the stacks to `app`; any unacknowledged AwsSolutions finding then fails synthesis.

    `home_region` is where the CDK CLI deploys the environment-agnostic stacks (CDK_DEFAULT_REGION);
    each other region in config.skill_regions gets a NestSkill-<region> stack pinned to it."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    live = config.live_state_on
    regions = config.regional_skill_regions(home_region)
    secrets = SecretsStack(
        app,
        SECRETS_STACK,
        object_key=config.secrets_object_key,
        live_state=live,
        skill_regions=regions if live else (),
        description="Nest Alexa skill: encrypted OAuth client credentials (stateful)"
        + (" and live state's token table" if live else ""),
    )
    skill = SkillStack(
        app,
        SKILL_STACK,
        config=config,
        live_state=LiveStateHome() if live else None,
        description="Nest Alexa skill: the skill Lambda",
    )
    bridge = BridgeStack(
        app,
        BRIDGE_STACK,
        config=config,
        secrets=secrets,
        description=f"Nest Alexa skill: OAuth bridge on {config.bridge_hosting}",
    )
    regional = tuple(
        SkillStack(
            app,
            regional_skill_stack(region),
            config=config,
            env=cdk.Environment(region=region),
            output_name=SKILL_FUNCTION_OUTPUT + ALEXA_API_REGIONS[region],
            live_state=LiveStateHome(home_region) if live and home_region else None,
            description=f"Nest Alexa skill: the skill Lambda for Alexa's {ALEXA_API_REGIONS[region]} region",
        )
        for region in regions
    )
    if live:
        # The skill stacks name the table, key and bucket without referencing this stack: deploy it first.
        for stack in (skill, *regional):
            stack.add_dependency(secrets)
    return NestSkillStacks(secrets=secrets, skill=skill, bridge=bridge, regional_skills=regional)
