"""`python -m ops`: config from the owner's nest-skill.json, cdk.json and `-c`, one-line errors, and what
`render` prints."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest

import ops.cli
import ops.deploy
from ops import REPO_ROOT
from ops.cli import load_config, main
from ops.credentials import CredentialsLocation
from stacks.config import ConfigError
from tests.ops.helpers import (
    BRIDGE_AUTHORIZE_URL,
    CLIENT_ID,
    CONTEXT_ARGS,
    PROJECT_ID,
    SKILL_FUNCTION_ARN,
    stack_outputs,
)

LOCATION = CredentialsLocation(
    "nestskillsecrets-secretsbucket-test",
    "nest.properties",
    "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-4333-8444-555555555555",
)


def run_ops(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, starts_with: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(starts_with), result.stderr


@pytest.fixture
def cdk_json(tmp_path):
    path = tmp_path / "cdk.json"
    path.write_text(
        json.dumps(
            {
                "app": "python app.py",
                "context": {
                    "@aws-cdk/core:enablePartitionLiterals": True,
                    "nest_project_id": PROJECT_ID,
                    "account_linking": "auth_code",
                    "skill_id": "",
                },
            }
        )
    )
    return path


@pytest.fixture
def outputs_file(tmp_path):
    path = tmp_path / "cdk-outputs.json"
    path.write_text(json.dumps(stack_outputs(LOCATION)))
    return path


def test_context_arguments_override_cdk_json(cdk_json):
    skill_id = "amzn1.ask.skill.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"

    config = load_config(["account_linking=implicit", f"skill_id={skill_id}", f"nest_client_id={CLIENT_ID}"], cdk_json)

    assert config.account_linking == "implicit"
    assert config.skill_id == skill_id
    assert config.nest_client_id == CLIENT_ID
    assert config.nest_project_id == PROJECT_ID


def test_cdk_json_alone_gives_its_values(cdk_json):
    config = load_config([], cdk_json)

    assert config.nest_project_id == PROJECT_ID
    assert config.account_linking == "auth_code"


def test_the_owners_settings_file_overrides_cdk_json_and_c_overrides_both(tmp_path):
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"@aws-cdk/core:enablePartitionLiterals": True}}))
    (tmp_path / "nest-skill.json").write_text(
        json.dumps(
            {
                "nest_project_id": PROJECT_ID,
                "nest_client_id": CLIENT_ID,
                "locales": ["en-GB"],
                "account_linking": "implicit",
            }
        )
    )

    config = load_config(["account_linking=auth_code"], cdk_json)

    assert (config.nest_project_id, config.nest_client_id, config.locales) == (PROJECT_ID, CLIENT_ID, ("en-GB",))
    assert config.account_linking == "auth_code"
    assert config.alexa_vendor_id == "EXAMPLEVENDORID"  # neither file sets it: the default


def test_without_a_settings_file_the_cli_reads_the_projects_own(settings_file):
    """`python -m ops` with no cdk.json argument: the settings file beside the project's cdk.json."""
    settings_file.write_text(json.dumps({"nest_project_id": PROJECT_ID}))

    assert load_config([]).nest_project_id == PROJECT_ID


def test_an_owner_who_kept_settings_in_cdk_json_still_deploys_them(cdk_json):
    """cdk.json's context is still read: settings there before the move keep working."""
    assert load_config([], cdk_json).nest_project_id == PROJECT_ID


@pytest.mark.parametrize(
    "settings, message",
    [
        ('{"nest_project_id": ', "nest-skill.json is not valid JSON"),
        ('["nest_project_id"]', "nest-skill.json must hold one JSON object of config keys"),
        (
            '{"@aws-cdk/core:enablePartitionLiterals": true}',
            "config key '@aws-cdk/core:enablePartitionLiterals' in nest-skill.json: "
            "the CDK's own keys belong in cdk.json",
        ),
        (
            '{"acount_linking": "implicit"}',
            "config key 'acount_linking' = 'implicit' is not allowed: expected a key this project knows: did you mean "
            "'account_linking'?",
        ),
        (
            '{"bridge_hosting": "ec2"}',
            "config key 'bridge_hosting' = 'ec2' is not allowed: expected lambda or beanstalk",
        ),
        (
            '{"nest_project_id": "3f1c2a4e-8b7d-4c6e-9a0b-1d2e3f405162"}',
            "config key 'nest_project_id' is set both in cdk.json and in nest-skill.json: "
            "keep it in nest-skill.json only",
        ),
    ],
    ids=["not JSON", "not an object", "a CDK key", "misspelled key", "value not allowed", "in both files"],
)
def test_a_settings_file_mistake_is_one_line_naming_the_key(cdk_json, settings, message):
    (cdk_json.parent / "nest-skill.json").write_text(settings)

    with pytest.raises(ConfigError) as raised:
        load_config([], cdk_json)

    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_settings_file_mistake_stops_the_command_line_without_a_traceback(settings_file, outputs_file, capsys):
    settings_file.write_text('{"locales": ["en-XX"]}')

    with pytest.raises(SystemExit) as raised:
        main(["render", "--outputs", str(outputs_file)])

    assert str(raised.value.code).startswith(
        "error: config key 'locales' = 'en-XX' is not allowed: expected one or more of "
    )


@pytest.mark.parametrize(
    "pair, message",
    [
        ("account_linking", "expected key=value"),
        ("account_linking=sideways", "config key 'account_linking' = 'sideways'"),
    ],
    ids=["no equals sign", "value not allowed"],
)
def test_load_config_rejects_bad_context(cdk_json, pair, message):
    with pytest.raises(ConfigError, match=message):
        load_config([pair], cdk_json)


def test_a_bad_config_value_is_one_line_without_traceback():
    result = run_ops("render", "-c", "account_linking=sideways")

    assert_one_line_error(result, "error: config key 'account_linking' = 'sideways'")


def test_a_malformed_context_argument_is_one_line_without_traceback():
    result = run_ops("render", "-c", "account_linking")

    assert_one_line_error(result, "error: -c 'account_linking': expected key=value")


def test_a_missing_outputs_file_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "never-deployed.json"

    result = run_ops("credentials", "show", "--outputs", str(missing))

    assert_one_line_error(result, "error: no CDK outputs at")
    assert str(missing) in result.stderr


def test_an_outputs_file_without_the_secrets_stack_names_the_missing_output(tmp_path):
    partial = tmp_path / "cdk-outputs.json"
    partial.write_text(json.dumps({"NestSkill": {"SkillFunctionArn": SKILL_FUNCTION_ARN}}))

    with pytest.raises(SystemExit) as exited:
        main(["credentials", "show", "--outputs", str(partial)])

    assert str(exited.value.code).startswith("error: ")
    assert "SecretsBucketName" in str(exited.value.code)


def rendered(monkeypatch, tmp_path, capsys, *args: str) -> tuple[str, dict]:
    """Runs `render` with the ASK project rendered under tmp_path; returns the text and the request."""
    monkeypatch.setattr(
        ops.cli, "render_ask_project", functools.partial(ops.cli.render_ask_project, build_dir=tmp_path / "ask-project")
    )
    main(["render", *args])
    out = capsys.readouterr().out
    return out, json.loads(out[out.index("{") :])


def test_render_prints_the_auth_code_request_with_the_secret_redacted(monkeypatch, tmp_path, capsys, outputs_file):
    out, request = rendered(
        monkeypatch,
        tmp_path,
        capsys,
        "--outputs",
        str(outputs_file),
        *(arg for pair in CONTEXT_ARGS for arg in ("-c", pair)),
    )

    linking = request["accountLinkingRequest"]
    assert linking["type"] == "AUTH_CODE"
    assert linking["clientId"] == CLIENT_ID
    assert linking["clientSecret"] == "<redacted>"
    assert PROJECT_ID in linking["authorizationUrl"]
    assert "account-linking request (auth_code)" in out
    manifest = json.loads((tmp_path / "ask-project" / "skill-package" / "skill.json").read_text())
    assert manifest["manifest"]["apis"]["custom"]["endpoint"]["uri"] == SKILL_FUNCTION_ARN


def test_render_in_implicit_mode_points_alexa_at_the_bridge(monkeypatch, tmp_path, capsys, outputs_file):
    _, request = rendered(
        monkeypatch, tmp_path, capsys, "--outputs", str(outputs_file), "-c", "account_linking=implicit"
    )

    linking = request["accountLinkingRequest"]
    assert linking["type"] == "IMPLICIT"
    assert linking["authorizationUrl"] == BRIDGE_AUTHORIZE_URL
    assert "clientSecret" not in linking


def test_render_warns_while_the_config_holds_the_example_values(monkeypatch, tmp_path, capsys, outputs_file):
    monkeypatch.setattr(
        ops.cli, "render_ask_project", functools.partial(ops.cli.render_ask_project, build_dir=tmp_path / "ask-project")
    )
    main(["render", "--outputs", str(outputs_file), "-c", f"nest_project_id={PROJECT_ID}"])
    assert capsys.readouterr().err == (
        "warning: nest_client_id, alexa_vendor_id still hold the example values (set "
        "them in nest-skill.json): the rendered project cannot link a real account\n"
    )
    main(["render", "--outputs", str(outputs_file), *(arg for pair in CONTEXT_ARGS for arg in ("-c", pair))])
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("where", ["-c", "cdk.json"])
def test_a_misspelled_key_stops_the_cli_in_one_line(tmp_path, where):
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"acount_linking": "implicit"} if where == "cdk.json" else {}}))
    with pytest.raises(ConfigError) as raised:
        load_config(["acount_linking=implicit"] if where == "-c" else [], cdk_json)
    assert str(raised.value) == (
        "config key 'acount_linking' = 'implicit' is not allowed: expected a key this "
        "project knows: did you mean 'account_linking'?"
    )


def test_misspelled_key_through_the_command_line(outputs_file):
    result = run_ops("render", "--outputs", str(outputs_file), "-c", "acount_linking=implicit")
    assert_one_line_error(
        result,
        "error: config key 'acount_linking' = 'implicit' is not allowed: expected a key "
        "this project knows: did you mean 'account_linking'?",
    )


def test_deploy_help_lists_its_steps_and_the_environment_it_reads():
    result = run_ops("deploy", "--help")
    assert result.returncode == 0
    for number, (name, method) in enumerate(ops.deploy.STEPS, start=1):
        assert f"  {number}. {name}\n" in result.stdout
        assert callable(getattr(ops.deploy.Deployer, method))
    for variable in (
        "NEST_CLIENT_SECRET",
        "NEST_CLIENT_ID",
        "AWS_PROFILE",
        "AWS_REGION",
        "ASK_REFRESH_TOKEN",
        "ASK_VENDOR_ID",
        "CI",
    ):
        assert variable in result.stdout.split("environment:")[1]


def test_destroy_is_a_command_with_a_yes_flag():
    result = run_ops("destroy", "--help")
    assert result.returncode == 0 and "--yes" in result.stdout
