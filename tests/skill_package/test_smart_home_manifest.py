"""`apis.smartHome` as the deploy renders it: the home function as default endpoint, each locale's
Alexa region (NA, EU, FE) mapped to the function deployed there, none in implicit mode or before
the skill ID (which the smart-home trigger must name) is known."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace

import pytest

from ops.ask_project import AskProjectError, locales_without_endpoint, render_ask_project, smart_home_api
from ops.outputs import Outputs
from sandbox.fake_smapi import PackageError, read_package

SKILL_ID = "amzn1.ask.skill.6b1c0d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"
HOME = "arn:aws:lambda:us-east-1:123456789012:function:NestSkill-SkillFunction-a1"
EU = "arn:aws:lambda:eu-west-1:123456789012:function:NestSkill-eu-west-1-SkillFunction-b2"
FE = "arn:aws:lambda:us-west-2:123456789012:function:NestSkill-us-west-2-SkillFunction-c3"


@pytest.fixture
def regional_outputs(outputs) -> Outputs:
    return Outputs(
        {**outputs, "SkillFunctionArn": HOME, "SkillFunctionArnEU": EU, "SkillFunctionArnFE": FE}, outputs.source
    )


def rendered_apis(tmp_path, config, outputs, **kwargs):
    project = render_ask_project(config, outputs, tmp_path / "ask-project", **kwargs)
    return json.loads((project / "skill-package" / "skill.json").read_text())["manifest"]["apis"]


def test_every_locales_region_gets_its_own_function(tmp_path, config, regional_outputs, smapi_read_back):
    project = render_ask_project(replace(config, skill_id=SKILL_ID), regional_outputs, tmp_path / "p")
    manifest = json.loads((project / "skill-package" / "skill.json").read_text())
    assert manifest["manifest"]["apis"] == {
        "custom": {"endpoint": {"uri": HOME}},
        "smartHome": {
            "endpoint": {"uri": HOME},
            "protocolVersion": "3",
            "regions": {
                "NA": {"endpoint": {"uri": HOME}},
                "EU": {"endpoint": {"uri": EU}},
                "FE": {"endpoint": {"uri": FE}},
            },
        },
    }
    assert smapi_read_back(manifest, "manifest") == manifest
    assert locales_without_endpoint(config, regional_outputs) == []


def test_only_the_configured_locales_regions_are_listed(tmp_path, config, regional_outputs):
    apis = rendered_apis(tmp_path, replace(config, skill_id=SKILL_ID, locales=("en-GB", "en-IN")), regional_outputs)
    assert apis["smartHome"]["regions"] == {"EU": {"endpoint": {"uri": EU}}}


def test_a_locale_whose_region_has_no_function_is_named(config, regional_outputs):
    partial = Outputs({k: v for k, v in regional_outputs.items() if k != "SkillFunctionArnFE"}, regional_outputs.source)
    assert locales_without_endpoint(config, partial) == ["en-AU (us-west-2)"]
    assert "FE" not in smart_home_api(config, partial, SKILL_ID)["regions"]


def test_implicit_linking_has_no_smart_home(tmp_path, config, regional_outputs):
    """Smart home requires the authorization-code grant."""
    apis = rendered_apis(tmp_path, replace(config, skill_id=SKILL_ID, account_linking="implicit"), regional_outputs)
    assert set(apis) == {"custom"}


def test_smart_home_waits_for_the_skill_id(tmp_path, config, regional_outputs):
    assert set(rendered_apis(tmp_path, config, regional_outputs)) == {"custom"}
    assert set(rendered_apis(tmp_path, config, regional_outputs, skill_id=SKILL_ID)) == {"custom", "smartHome"}


def test_a_regional_output_that_is_not_a_lambda_arn_stops_the_render(tmp_path, config, regional_outputs):
    bad = Outputs({**regional_outputs, "SkillFunctionArnEU": "${Token[TOKEN.1]}"}, regional_outputs.source)
    with pytest.raises(AskProjectError, match=r"'SkillFunctionArnEU'.*not a Lambda ARN"):
        render_ask_project(replace(config, skill_id=SKILL_ID), bad, tmp_path / "p")


def zipped(directory) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in directory.rglob("*"):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def test_the_smapi_stand_in_takes_the_rendered_smart_home_api(tmp_path, config, regional_outputs):
    project = render_ask_project(replace(config, skill_id=SKILL_ID), regional_outputs, tmp_path / "p")
    assert set(read_package(zipped(project / "skill-package")).manifest["manifest"]["apis"]) == {"custom", "smartHome"}


def test_the_smapi_stand_in_refuses_a_region_served_from_the_wrong_aws_region(tmp_path, config, regional_outputs):
    """The mismatch Alexa users see as "no new devices found", refused at deploy time instead."""
    project = tmp_path / "p"
    render_ask_project(replace(config, skill_id=SKILL_ID), regional_outputs, project)
    manifest_path = project / "skill-package" / "skill.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["manifest"]["apis"]["smartHome"]["regions"]["EU"]["endpoint"]["uri"] = FE
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(PackageError, match=r"regions\.EU\.endpoint\.uri .* is not a Lambda in eu-west-1"):
        read_package(zipped(project / "skill-package"))


TOKYO = "arn:aws:lambda:ap-northeast-1:123456789012:function:NestSkill-SkillFunction-d4"


def test_a_home_region_alexa_sends_no_directives_to_is_never_the_smart_home_endpoint(config, outputs):
    """A custom skill may live in ap-northeast-1; smart-home directives come only from NA, EU and FE."""
    tokyo_only = Outputs({**outputs, "SkillFunctionArn": TOKYO}, outputs.source)
    assert smart_home_api(config, tokyo_only, SKILL_ID) is None
    with_na = Outputs({**outputs, "SkillFunctionArn": TOKYO, "SkillFunctionArnNA": HOME}, outputs.source)
    api = smart_home_api(replace(config, locales=("en-US",)), with_na, SKILL_ID)
    assert api == {"endpoint": {"uri": HOME}, "regions": {"NA": {"endpoint": {"uri": HOME}}}, "protocolVersion": "3"}


def rendered_manifest(tmp_path, config, outputs, **kwargs) -> dict:
    project = render_ask_project(config, outputs, tmp_path / "ask-project", **kwargs)
    return json.loads((project / "skill-package" / "skill.json").read_text())


def test_live_state_asks_for_the_send_alexa_events_permission(tmp_path, config, regional_outputs, smapi_read_back):
    live = replace(config, skill_id=SKILL_ID, live_state="on", locales=("en-US", "en-CA"))
    manifest = rendered_manifest(tmp_path, live, regional_outputs)
    assert manifest["manifest"]["permissions"] == [{"name": "alexa::async_event:write"}]
    assert smapi_read_back(manifest, "manifest") == manifest
    assert "permissions" in read_package(zipped(tmp_path / "ask-project" / "skill-package")).manifest["manifest"]


@pytest.mark.parametrize(
    "change",
    [
        {"live_state": "off"},  # today's manifest exactly
        {"live_state": "on", "account_linking": "implicit"},  # no smart-home endpoints to report on
        {"live_state": "on", "skill_id": ""},  # no smart-home API yet: the permission comes with it
    ],
)
def test_no_permission_without_live_state_and_a_smart_home_api(tmp_path, config, regional_outputs, change):
    settings = replace(config, **{"skill_id": SKILL_ID, "locales": ("en-US",), **change})
    assert "permissions" not in rendered_manifest(tmp_path, settings, regional_outputs)["manifest"]


def test_the_permission_waits_until_the_deploy_says_accept_grant_can_be_answered(tmp_path, config, regional_outputs):
    """Alexa sends AcceptGrant to every linked user once the permission appears: the deploy renders
    it only after the stacks and the messaging credentials are in place."""
    live = replace(config, skill_id=SKILL_ID, live_state="on", locales=("en-US",))
    assert "permissions" not in rendered_manifest(tmp_path, live, regional_outputs, events_ready=False)["manifest"]
    assert "permissions" in rendered_manifest(tmp_path, live, regional_outputs, events_ready=True)["manifest"]
