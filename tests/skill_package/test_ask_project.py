"""ops/ask_project.py: the account-linking request for each mode and the ASK project `ask deploy` runs in."""

import io
import json
import stat
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from ops.ask_project import (
    ASK_ENV_PROFILE,
    AskProjectError,
    _with_query,
    account_linking_file,
    ask_cli_profile,
    read_skill_id,
    render_account_linking,
    render_ask_project,
    write_account_linking,
)
from ops.outputs import Outputs, OutputsError
from sandbox.fake_smapi import PackageError, certification_problems, read_package
from stacks.config import GOOGLE_TOKEN_URL, SDM_SCOPE
from tests.ci.node import run_node_json

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "skill_package"
SKILL_ID = "amzn1.ask.skill.6b1c0d2e-3f4a-4b5c-8d6e-7f8091a2b3c4"
OTHER_SKILL_ID = "amzn1.ask.skill.0a1b2c3d-4e5f-4a6b-9c7d-8e9f00112233"
CLIENT_SECRET = "test-client-secret-not-real"
ASK_CLI_READER = Path(__file__).with_name("ask_cli_reads.cjs")
OUTPUTS_FILE = Path("build/cdk-outputs.json")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --- account linking ----------------------------------------------------------------------------


def test_auth_code_request_signs_in_at_partner_connections_and_sends_body_credentials(config, outputs, smapi_read_back):
    rendered = render_account_linking(config, outputs, CLIENT_SECRET)
    assert rendered == {
        "accountLinkingRequest": {
            "type": "AUTH_CODE",
            "authorizationUrl": "https://nestservices.google.com/partnerconnections/"
            "3f1c2a4e-8b7d-4c6e-9a0b-1d2e3f405162/auth?access_type=offline&prompt=consent",
            "accessTokenUrl": GOOGLE_TOKEN_URL,
            "accessTokenScheme": "REQUEST_BODY_CREDENTIALS",
            "clientId": "123456789012-abcdefghijklmnop.apps.googleusercontent.com",
            "clientSecret": CLIENT_SECRET,
            "scopes": [SDM_SCOPE],
            "domains": read_json(PACKAGE / "accountLinking.json")["accountLinkingRequest"]["domains"],
            "defaultTokenExpirationInSeconds": 3600,
            "skipOnEnablement": False,
        }
    }
    assert smapi_read_back(rendered, "account linking") == rendered


def test_auth_code_request_follows_configured_oauth_endpoints(config, outputs):
    local = replace(
        config, oauth_authorization_url="http://127.0.0.1:8765/auth", oauth_token_url="http://127.0.0.1:8765/token"
    )
    request = render_account_linking(local, outputs, CLIENT_SECRET)["accountLinkingRequest"]
    assert request["authorizationUrl"] == "http://127.0.0.1:8765/auth?access_type=offline&prompt=consent"
    assert request["accessTokenUrl"] == "http://127.0.0.1:8765/token"


def test_offline_consent_is_merged_into_an_existing_query():
    url = _with_query(
        "https://accounts.example.test/auth?hd=example.test&prompt=none",
        {"access_type": "offline", "prompt": "consent"},
    )
    assert parse_qs(urlsplit(url).query) == {"hd": ["example.test"], "prompt": ["consent"], "access_type": ["offline"]}


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_auth_code_request_without_a_client_secret_is_refused(config, outputs, secret):
    with pytest.raises(AskProjectError, match="client secret"):
        render_account_linking(config, outputs, secret)


def test_implicit_request_opens_the_bridge_and_carries_no_secret(config, outputs, smapi_read_back):
    rendered = render_account_linking(replace(config, account_linking="implicit"), outputs, CLIENT_SECRET)
    assert rendered == {
        "accountLinkingRequest": {
            "type": "IMPLICIT",
            "authorizationUrl": "https://bridge.example.test/authorize",
            "clientId": "123456789012-abcdefghijklmnop.apps.googleusercontent.com",
            "scopes": [SDM_SCOPE],
            "domains": read_json(PACKAGE / "accountLinking.json")["accountLinkingRequest"]["domains"],
            "skipOnEnablement": False,
        }
    }
    assert CLIENT_SECRET not in json.dumps(rendered)
    assert smapi_read_back(rendered, "account linking") == rendered


def test_implicit_request_without_the_bridge_output_names_the_key_and_the_file(config):
    outputs = Outputs({"SkillFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:f"}, OUTPUTS_FILE)
    with pytest.raises(OutputsError) as error:
        render_account_linking(replace(config, account_linking="implicit"), outputs, None)
    assert "'BridgeAuthorizeUrl'" in str(error.value) and "build/cdk-outputs.json" in str(error.value)


def test_written_request_is_owner_only_even_over_an_older_file(tmp_path, config, outputs):
    request = render_account_linking(config, outputs, CLIENT_SECRET)
    (tmp_path / "account-linking.json").write_text("{}", encoding="utf-8")
    (tmp_path / "account-linking.json").chmod(0o644)
    path = write_account_linking(request, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_json(path) == request


def test_request_file_is_removed_after_use_even_when_the_step_fails(tmp_path, config, outputs):
    request = render_account_linking(config, outputs, CLIENT_SECRET)
    with pytest.raises(RuntimeError), account_linking_file(request, tmp_path) as path:
        assert read_json(path) == request
        raise RuntimeError("ask smapi failed")
    assert not path.exists()


# --- ASK project --------------------------------------------------------------------------------


def test_project_deploys_the_package_without_account_linking_to_this_accounts_lambda(
    tmp_path, config, outputs, smapi_read_back
):
    project = render_ask_project(config, outputs, tmp_path / "ask-project")
    assert read_json(project / "ask-resources.json") == {
        "askcliResourcesVersion": "2020-03-31",
        "profiles": {"default": {"skillMetadata": {"src": "./skill-package"}}},
    }
    package = project / "skill-package"
    assert not (package / "accountLinking.json").exists()
    rendered = sorted(p.relative_to(package) for p in package.rglob("*") if p.is_file())
    source = sorted(
        p.relative_to(PACKAGE)
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.name != "accountLinking.json" and (p.parent.name != "custom" or p.stem in config.locales)
    )
    assert rendered == source
    for relative in rendered:
        if relative.name != "skill.json":
            assert (package / relative).read_bytes() == (PACKAGE / relative).read_bytes()
    manifest = read_json(package / "skill.json")
    assert manifest["manifest"]["apis"] == {"custom": {"endpoint": {"uri": outputs["SkillFunctionArn"]}}}
    assert smapi_read_back(manifest, "manifest") == manifest
    assert not (project / ".ask").exists()
    assert read_skill_id(project) is None


def test_configured_skill_id_is_written_for_ask_cli(tmp_path, config, outputs):
    project = render_ask_project(replace(config, skill_id=SKILL_ID), outputs, tmp_path)
    assert read_json(project / ".ask" / "ask-states.json") == {
        "askcliStatesVersion": "2020-03-31",
        "profiles": {"default": {"skillId": SKILL_ID}},
    }
    assert read_skill_id(project) == SKILL_ID


def states_of_a_previous_deploy(project: Path, skill_id: str) -> dict:
    states = {
        "askcliStatesVersion": "2020-03-31",
        "profiles": {
            "default": {
                "skillId": skill_id,
                "skillMetadata": {"lastDeployHash": "hash-of-the-last-package"},
                "deploymentStatus": "COMPLETE",
            }
        },
    }
    (project / ".ask").mkdir(parents=True)
    (project / ".ask" / "ask-states.json").write_text(json.dumps(states), encoding="utf-8")
    return states


@pytest.mark.parametrize("configured", ["", SKILL_ID])
def test_states_of_a_previous_deploy_to_the_same_skill_are_kept(tmp_path, config, outputs, configured):
    states = states_of_a_previous_deploy(tmp_path, SKILL_ID)
    render_ask_project(replace(config, skill_id=configured), outputs, tmp_path)
    assert read_json(tmp_path / ".ask" / "ask-states.json") == states
    assert read_skill_id(tmp_path) == SKILL_ID


def test_a_newly_configured_skill_replaces_the_state_of_another(tmp_path, config, outputs):
    states_of_a_previous_deploy(tmp_path, OTHER_SKILL_ID)
    render_ask_project(replace(config, skill_id=SKILL_ID), outputs, tmp_path)
    assert read_json(tmp_path / ".ask" / "ask-states.json")["profiles"]["default"] == {"skillId": SKILL_ID}


def test_rendering_again_drops_files_removed_from_the_package(tmp_path, config, outputs):
    render_ask_project(config, outputs, tmp_path)
    stale = tmp_path / "skill-package" / "interactionModels" / "custom" / "de-DE.json"
    stale.write_text("{}", encoding="utf-8")
    render_ask_project(config, outputs, tmp_path)
    assert not stale.exists()


def test_an_endpoint_that_is_not_a_lambda_arn_is_refused(tmp_path, config):
    outputs = Outputs({"SkillFunctionArn": "${Token[TOKEN.123]}"}, OUTPUTS_FILE)
    with pytest.raises(AskProjectError, match="not a Lambda ARN"):
        render_ask_project(config, outputs, tmp_path)
    with pytest.raises(OutputsError, match=r"build/cdk-outputs\.json has no output 'SkillFunctionArn'"):
        render_ask_project(config, Outputs({}, OUTPUTS_FILE), tmp_path)


def test_a_corrupt_states_file_is_named(tmp_path, config, outputs):
    (tmp_path / ".ask").mkdir()
    (tmp_path / ".ask" / "ask-states.json").write_text("{", encoding="utf-8")
    with pytest.raises(AskProjectError, match=r"ask-states\.json is not valid JSON"):
        render_ask_project(replace(config, skill_id=SKILL_ID), outputs, tmp_path)


@pytest.mark.parametrize(
    "env, profile",
    [
        ({}, "default"),
        ({"ASK_DEFAULT_PROFILE": "work"}, "work"),
        (
            {
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                "ASK_REFRESH_TOKEN": "test",
                "ASK_VENDOR_ID": "M2EXAMPLEVNDR",
            },
            ASK_ENV_PROFILE,
        ),
        ({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "ASK_REFRESH_TOKEN": "test"}, "default"),
    ],
)
def test_profile_is_the_one_ask_cli_picks_from_the_environment(env, profile):
    assert ask_cli_profile(env) == profile


@pytest.mark.parametrize("profile", ["default", ASK_ENV_PROFILE])
def test_ask_cli_reads_the_rendered_project_as_intended(tmp_path, config, outputs, profile):
    project = render_ask_project(replace(config, skill_id=SKILL_ID), outputs, tmp_path / "ask-project", profile)
    seen = run_node_json(ASK_CLI_READER, str(project), profile, needs="ask-cli")
    assert seen == {
        "profileDefined": True,
        "skillId": SKILL_ID,
        "skillMetadataSrc": "./skill-package",
        "skillMetadataSrcExists": True,
        "codeRegions": [],
        "endpoint": {"uri": outputs["SkillFunctionArn"]},
        "skillName": "Home Thermostat",
    }


# --- locales, privacy policy, certification --------------------------------------------------------


def zipped(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def test_rendered_package_passes_certification_with_the_bridges_privacy_and_terms_pages(tmp_path, config, outputs):
    package_dir = render_ask_project(config, outputs, tmp_path / "ask-project") / "skill-package"
    manifest = read_json(package_dir / "skill.json")["manifest"]
    assert manifest["privacyAndCompliance"]["locales"] == {
        locale: {
            "privacyPolicyUrl": "https://bridge.example.test/privacy",
            "termsOfUseUrl": "https://bridge.example.test/terms",
        }
        for locale in ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
    }
    package = read_package(zipped(package_dir))
    assert package.locales == ["en-AU", "en-CA", "en-GB", "en-IN", "en-US"]
    assert certification_problems(package.manifest, package.contents, package.locales, account_linking=True) == []


def test_configured_privacy_and_terms_urls_are_used_as_given(tmp_path, config, outputs):
    configured = replace(
        config, privacy_policy_url="https://example.org/privacy.html", terms_of_use_url="https://example.org/terms.html"
    )
    manifest = read_json(render_ask_project(configured, outputs, tmp_path) / "skill-package" / "skill.json")
    assert set(map(json.dumps, manifest["manifest"]["privacyAndCompliance"]["locales"].values())) == {
        json.dumps(
            {"privacyPolicyUrl": "https://example.org/privacy.html", "termsOfUseUrl": "https://example.org/terms.html"}
        )
    }


def test_only_the_configured_locales_are_rendered(tmp_path, config, outputs, smapi_read_back):
    package_dir = render_ask_project(replace(config, locales=("en-GB", "en-IN")), outputs, tmp_path) / "skill-package"
    manifest = read_json(package_dir / "skill.json")
    assert smapi_read_back(manifest, "manifest") == manifest
    body = manifest["manifest"]
    assert list(body["publishingInformation"]["locales"]) == ["en-GB", "en-IN"]
    assert body["publishingInformation"]["distributionCountries"] == ["GB", "IN"]
    assert list(body["privacyAndCompliance"]["locales"]) == ["en-GB", "en-IN"]
    assert sorted(path.name for path in (package_dir / "interactionModels" / "custom").iterdir()) == [
        "en-GB.json",
        "en-IN.json",
    ]
    assert read_package(zipped(package_dir)).locales == ["en-GB", "en-IN"]


def test_a_package_whose_icon_file_is_missing_is_not_imported(tmp_path, config, outputs):
    package_dir = render_ask_project(config, outputs, tmp_path) / "skill-package"
    (package_dir / "assets" / "images" / "large-icon.png").unlink()
    with pytest.raises(PackageError) as raised:
        read_package(zipped(package_dir))
    assert (
        "skill.json: publishingInformation.locales.en-US.largeIconUri names file://assets/images/large-icon.png, "
        "which is not in the skill package."
    ) in raised.value.args
