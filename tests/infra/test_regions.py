"""Smart-home directives reach only a Lambda in the Alexa region of the user's locale: the skill
function is deployed in each region the configured locales need, the rest stays home."""

from __future__ import annotations

import pytest

from stacks.config import AppConfig
from tests.infra.conftest import SKILL_ID


def test_each_other_region_the_locales_need_gets_its_own_skill_stack(synth):
    synthesized = synth("multi-region")
    regional = {stack.stack_name: stack.region for stack in synthesized.stacks.regional_skills}
    assert regional == {"NestSkill-eu-west-1": "eu-west-1", "NestSkill-us-west-2": "us-west-2"}
    assert set(synthesized.templates) == {
        "NestSkillSecrets",
        "NestSkill",
        "NestSkillBridge",
        "NestSkill-eu-west-1",
        "NestSkill-us-west-2",
    }


@pytest.mark.parametrize(
    "stack, output", [("NestSkill-eu-west-1", "SkillFunctionArnEU"), ("NestSkill-us-west-2", "SkillFunctionArnFE")]
)
def test_a_regional_stack_is_the_skill_function_with_both_triggers_and_its_own_output(synth, stack, output):
    template = synth("multi-region").templates[stack]
    assert set(template.find_outputs("*")) == {output}
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.resource_count_is("AWS::S3::Bucket", 0)
    permissions = template.find_resources("AWS::Lambda::Permission").values()
    assert {(p["Properties"]["Principal"], p["Properties"]["EventSourceToken"]) for p in permissions} == {
        ("alexa-appkit.amazon.com", SKILL_ID),
        ("alexa-connectedhome.amazon.com", SKILL_ID),
    }
    function = next(iter(template.find_resources("AWS::Lambda::Function").values()))
    env = function["Properties"]["Environment"]["Variables"]
    assert env["SKILL_ID"] == SKILL_ID and env["NEST_PROJECT_ID"] == AppConfig().nest_project_id


def test_without_a_skill_id_there_is_no_smart_home_trigger(synth):
    """Alexa requires the smart-home trigger to name the skill: it is added once the ID is known."""
    permissions = synth().skill.find_resources("AWS::Lambda::Permission").values()
    principals = {p["Properties"]["Principal"] for p in permissions}
    assert principals == {"alexa-appkit.amazon.com"}


@pytest.mark.parametrize(
    "locales, home, regional",
    [
        (("en-US", "en-CA"), "us-east-1", ()),
        (("en-GB",), "us-east-1", ("eu-west-1",)),
        (("en-GB", "en-IN", "en-AU"), "eu-west-1", ("us-west-2",)),
        (("en-US", "en-GB", "en-AU"), "ap-northeast-1", ("us-east-1", "eu-west-1", "us-west-2")),
        (("en-US", "en-GB"), None, ()),
    ],
)
def test_the_regions_follow_the_locales(locales, home, regional):
    assert AppConfig(locales=locales).regional_skill_regions(home) == regional
