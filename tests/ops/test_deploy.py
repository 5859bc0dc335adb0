"""`make deploy` end to end with cdk and ask-cli played by a fake that leaves behind what they would:
the outputs file, ask-cli's states file with the skill ID, and the account-linking request it read.
The fake also records the environment each tool was given. AWS is moto's, with CDK's bootstrap
parameter in each Alexa Lambda region (as `cdk bootstrap` leaves it) unless a test says otherwise."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import ops.deploy
from ops.ask_project import ASK_ENV_PROFILE, ask_cli_profile
from ops.aws import ALEXA_LAMBDA_REGIONS
from ops.cli import load_config
from ops.credentials import store_credentials
from ops.deploy import Deployer, DeployError, run_command
from ops.outputs import load_outputs
from stacks.config import ALEXA_REGIONS, PACKAGE_LOCALES
from tests.ops.helpers import (
    BRIDGE_AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    CONTEXT_ARGS,
    REDIRECT_URLS,
    SKILL_FUNCTION_ARN,
    VENDOR_ID,
    Stdin,
    stack_outputs,
)

SKILL_ID = "amzn1.ask.skill.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
STORED_SECRET = "test-secret-already-in-the-bucket"
OTHER_CLIENT_ID = "987654321098-otherclient.apps.googleusercontent.com"


@dataclass
class LinkingCall:
    path: Path
    mode: int
    request: dict


@dataclass
class FakeTools:
    """The `run` the deployer calls: records argv and cwd; `fail` is an argv prefix that exits 1."""

    outputs: dict
    secrets: object = None
    new_skill_id: str = SKILL_ID
    fail: Sequence[str] = ()
    crash: Sequence[str] = ()  # an argv prefix that does its work, then exits 1
    calls: list[tuple[list[str], Path | None]] = field(default_factory=list)
    environments: list[dict[str, str]] = field(default_factory=list)
    linking: list[LinkingCall] = field(default_factory=list)
    credentials_before_all: bool | None = None
    deployed_endpoint: str | None = None
    deployed_apis: list[set[str]] = field(default_factory=list)
    deployed_permissions: list[list[dict]] = field(default_factory=list)

    def __call__(self, argv: Sequence[str], cwd: Path | None, env: dict[str, str]) -> int:
        argv = list(argv)
        self.calls.append((argv, cwd))
        self.environments.append(dict(env))
        if argv[:3] == ["ask", "smapi", "update-account-linking-info"]:
            self._read_linking_request(argv)
        if self.fail and argv[: len(self.fail)] == list(self.fail):
            return 1
        if argv[:2] == ["cdk", "deploy"]:
            self._cdk_deploy(argv)
        elif argv[:2] == ["ask", "deploy"]:
            self._ask_deploy(cwd)
        return 1 if self.crash and argv[: len(self.crash)] == list(self.crash) else 0

    @property
    def commands(self) -> list[list[str]]:
        return [argv for argv, _ in self.calls]

    def _cdk_deploy(self, argv: list[str]) -> None:
        stacks = argv[2 : argv.index("--require-approval")]
        if stacks == ["--all"]:
            self.credentials_before_all = self.secrets.exists()
            stacks = list(self.outputs)
        outputs_file = Path(argv[argv.index("--outputs-file") + 1])
        outputs_file.write_text(json.dumps({stack: self.outputs[stack] for stack in stacks}))

    def _ask_deploy(self, project: Path) -> None:
        """Like ask-cli: deploys to the skill its states file names for the profile, else creates one."""
        (profile,) = json.loads((project / "ask-resources.json").read_text())["profiles"]
        manifest = json.loads((project / "skill-package" / "skill.json").read_text())
        self.deployed_endpoint = manifest["manifest"]["apis"]["custom"]["endpoint"]["uri"]
        self.deployed_apis.append(set(manifest["manifest"]["apis"]))
        self.deployed_permissions.append(manifest["manifest"].get("permissions", []))
        states_path = project / ".ask" / "ask-states.json"
        states = (
            json.loads(states_path.read_text())
            if states_path.exists()
            else {"askcliStatesVersion": "2020-03-31", "profiles": {}}
        )
        entry = states["profiles"].setdefault(profile, {})
        entry.setdefault("skillId", self.new_skill_id)
        entry["skillMetadata"] = {"lastDeployHash": "test-hash"}
        states_path.parent.mkdir(parents=True, exist_ok=True)
        states_path.write_text(json.dumps(states))

    def _read_linking_request(self, argv: list[str]) -> None:
        path = Path(argv[argv.index("--account-linking-request") + 1].removeprefix("file:"))
        self.linking.append(LinkingCall(path, stat.S_IMODE(path.stat().st_mode), json.loads(path.read_text())))


@dataclass
class Workspace:
    root: Path
    environ: dict[str, str]
    cdk_json: Path
    messages: list[str] = field(default_factory=list)

    @property
    def ask_project_dir(self) -> Path:
        return self.root / "build" / "ask-project"

    @property
    def outputs_file(self) -> Path:
        return self.root / "build" / "cdk-outputs.json"

    @property
    def settings_file(self) -> Path:
        return self.root / "nest-skill.json"

    def settings(self) -> dict:
        return json.loads(self.settings_file.read_text())

    def set_settings(self, **values: str) -> None:
        """The owner's nest-skill.json, with `values` set."""
        existing = self.settings() if self.settings_file.exists() else {}
        self.settings_file.write_text(json.dumps({**existing, **values}))

    def deployer(
        self, run, context_args: Sequence[str] = CONTEXT_ARGS, clients=None, **environ: str | None
    ) -> Deployer:
        merged = {name: value for name, value in {**self.environ, **environ}.items() if value is not None}
        return Deployer(
            load_config(list(context_args), self.cdk_json),
            list(context_args),
            environ=merged,
            run=run,
            outputs_file=self.outputs_file,
            ask_project_dir=self.ask_project_dir,
            settings_file=self.settings_file,
            aws=clients,
            say=self.messages.append,
        )

    @property
    def said(self) -> str:
        return "\n".join(self.messages)


def tool_stubs(directory: Path, *names: str) -> Path:
    """Executables named like the CLIs, only for the PATH check: the fake `run` stands in for them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        stub = directory / name
        stub.write_text("#!/bin/sh\nexit 97\n")
        stub.chmod(0o755)
    return directory


BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"


def bootstrap(*regions: str, version: str = "29") -> None:
    """What `cdk bootstrap aws://<account>/<region>` leaves for the deploy to read: its version parameter."""
    for region in regions:
        boto3.client("ssm", region_name=region).put_parameter(
            Name=BOOTSTRAP_PARAMETER, Value=version, Type="String", Overwrite=True
        )


def unbootstrap(*regions: str) -> None:
    for region in regions:
        boto3.client("ssm", region_name=region).delete_parameter(Name=BOOTSTRAP_PARAMETER)


@pytest.fixture
def workspace(aws_env, tmp_path, monkeypatch) -> Workspace:
    monkeypatch.setattr(ops.deploy, "BUILD_DIR", tmp_path / "build")
    monkeypatch.setattr(sys, "stdin", Stdin(tty=False))
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"app": "python app.py", "context": {}}))
    environ = {
        "PATH": str(tool_stubs(tmp_path / "bin", "cdk", "ask")),
        "ASK_REFRESH_TOKEN": "test-ask-refresh-token",
        "ASK_VENDOR_ID": VENDOR_ID,
        "NEST_CLIENT_SECRET": CLIENT_SECRET,
    }
    with mock_aws():
        bootstrap(*ALEXA_LAMBDA_REGIONS)
        yield Workspace(tmp_path, environ, cdk_json)


@pytest.fixture
def tools(secrets) -> FakeTools:
    return FakeTools(stack_outputs(secrets.location), secrets)


def context_pairs(argv: list[str]) -> list[str]:
    return [argv[index + 1] for index, arg in enumerate(argv) if arg == "-c"]


def test_a_first_deploy_runs_every_step_in_order(workspace, tools):
    workspace.deployer(tools).deploy()

    *steps, bind, smart_home = tools.commands
    assert [argv[:3] for argv in steps] == [
        ["cdk", "deploy", "NestSkillSecrets"],
        ["cdk", "deploy", "--all"],
        ["ask", "deploy", "--target"],
        ["ask", "smapi", "update-account-linking-info"],
    ]
    assert bind[:2] == ["cdk", "deploy"] and ("NestSkill" in bind or "--all" in bind)
    # SMAPI takes apis.smartHome only once the smart-home trigger names the skill: after the bind.
    assert smart_home[:3] == ["ask", "deploy", "--target"]
    assert tools.deployed_apis == [{"custom"}, {"custom", "smartHome"}]
    assert context_pairs(bind)[-1] == f"skill_id={SKILL_ID}"
    assert tools.credentials_before_all is True
    assert tools.calls[2] == (["ask", "deploy", "--target", "skill-metadata"], workspace.ask_project_dir)
    assert tools.deployed_endpoint == SKILL_FUNCTION_ARN
    smapi = tools.commands[3]
    assert smapi[smapi.index("--skill-id") + 1] == SKILL_ID
    assert smapi[smapi.index("--stage") + 1] == "development"
    for argv in tools.commands:
        if argv[0] == "cdk":
            assert context_pairs(argv)[: len(CONTEXT_ARGS)] == list(CONTEXT_ARGS)
            assert argv[argv.index("--require-approval") + 1] == "never"


def test_each_step_says_what_it_did_and_the_last_lists_the_redirect_urls(workspace, tools):
    workspace.deployer(tools).deploy()

    for number in range(1, 10):
        assert f"[{number}/9]" in workspace.said
    assert "with a new state key" in workspace.said
    assert workspace.messages[-1].splitlines()[1:] == [f"        {url}" for url in REDIRECT_URLS]


def test_a_new_skill_id_is_recorded_in_the_owners_settings_beside_their_own_keys(workspace, tools):
    workspace.set_settings(privacy_contact="owner@example.com")

    workspace.deployer(tools).deploy()

    assert workspace.settings() == {"privacy_contact": "owner@example.com", "skill_id": SKILL_ID}
    assert f'new skill {SKILL_ID}: recorded as "skill_id" in nest-skill.json' in workspace.said
    assert "git add -f nest-skill.json" in workspace.said


def test_after_make_clean_the_next_deploy_updates_the_same_skill(workspace, tools, secrets):
    """`make clean` removes build/, ask-cli's own record of the skill; nest-skill.json keeps the ID."""
    workspace.deployer(tools).deploy()
    shutil.rmtree(workspace.root / "build")
    again = FakeTools(
        stack_outputs(secrets.location), secrets, new_skill_id="amzn1.ask.skill.99999999-9999-4999-8999-999999999999"
    )
    workspace.messages.clear()

    workspace.deployer(again).deploy()

    deploys = [cwd for argv, cwd in again.calls if argv[:2] == ["ask", "deploy"]]
    states = json.loads((deploys[0] / ".ask" / "ask-states.json").read_text())
    assert states["profiles"]["__ENVIRONMENT_ASK_PROFILE__"]["skillId"] == SKILL_ID
    smapi = next(argv for argv in again.commands if argv[:2] == ["ask", "smapi"])
    assert smapi[smapi.index("--skill-id") + 1] == SKILL_ID
    assert "new skill" not in workspace.said and workspace.settings() == {"skill_id": SKILL_ID}


def test_a_skill_ask_cli_created_before_its_import_failed_is_recorded(workspace, tools):
    """ask-cli writes the new skill's ID, then the import fails: the ID must outlive `make clean` too."""
    tools.crash = ["ask", "deploy"]

    with pytest.raises(DeployError, match="step 5"):
        workspace.deployer(tools).deploy()

    assert workspace.settings() == {"skill_id": SKILL_ID}


def test_a_second_deploy_with_the_skill_id_configured_changes_nothing_more(workspace, tools, secrets):
    workspace.deployer(tools).deploy()
    stored = secrets.body()
    assert workspace.settings()["skill_id"] == SKILL_ID
    again = FakeTools(
        stack_outputs(secrets.location), secrets, new_skill_id="amzn1.ask.skill.99999999-9999-4999-8999-999999999999"
    )
    workspace.messages.clear()

    workspace.deployer(again).deploy()

    assert [argv[:3] for argv in again.commands] == [
        ["cdk", "deploy", "NestSkillSecrets"],
        ["cdk", "deploy", "--all"],
        ["ask", "deploy", "--target"],
        ["ask", "smapi", "update-account-linking-info"],
    ]
    smapi = again.commands[3]
    assert smapi[smapi.index("--skill-id") + 1] == SKILL_ID
    assert secrets.body() == stored
    assert secrets.versions() == 1
    assert "credentials already in" in workspace.said
    assert "new skill" not in workspace.said


def test_after_a_deploy_the_outputs_file_still_serves_the_other_commands(workspace, tools):
    workspace.deployer(tools).deploy()

    outputs = load_outputs(workspace.outputs_file)
    for name in ("SecretsBucketName", "SkillFunctionArn", "OAuthRedirectUrls"):
        assert outputs.require(name)


def test_every_missing_prerequisite_is_named_at_once_before_anything_runs(workspace, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    tools = FakeTools({})
    deployer = workspace.deployer(
        tools,
        context_args=(),
        PATH=str(tmp_path / "nothing-here"),
        ASK_REFRESH_TOKEN=None,
        ASK_VENDOR_ID="OTHERVENDOR1",
        CI="true",
    )

    with pytest.raises(DeployError) as raised:
        deployer.deploy()

    message = str(raised.value)
    assert message.startswith("cannot deploy yet:")
    for expected in (
        "'nest_project_id'",
        "'nest_client_id'",
        "'alexa_vendor_id'",
        "'cdk' is not on PATH",
        "'ask' is not on PATH",
        "no AWS credentials",
        "no AWS region",
        "no ask-cli profile",
        "in CI, set 'skill_id'",
    ):
        assert expected in message
    assert message.count("\n  - ") == 9
    assert tools.calls == []
    assert workspace.messages == []


@pytest.mark.parametrize(
    "context_args, environ, unset, expected",
    [
        (CONTEXT_ARGS[1:], {}, (), "set 'nest_project_id' in nest-skill.json"),
        (CONTEXT_ARGS, {"PATH": "ask"}, (), "'cdk' is not on PATH"),
        (CONTEXT_ARGS, {"PATH": "cdk"}, (), "'ask' is not on PATH"),
        (CONTEXT_ARGS, {}, ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "no AWS credentials"),
        (CONTEXT_ARGS, {}, ("AWS_DEFAULT_REGION",), "no AWS region"),
        (CONTEXT_ARGS, {"ASK_REFRESH_TOKEN": None}, (), "no ask-cli profile"),
        (
            CONTEXT_ARGS,
            {"ASK_VENDOR_ID": "OTHERVENDOR1"},
            (),
            f"ASK_VENDOR_ID names vendor OTHERVENDOR1 but alexa_vendor_id is {VENDOR_ID}",
        ),
        (CONTEXT_ARGS, {"CI": "true"}, (), "in CI, set 'skill_id' in nest-skill.json (or -c skill_id=...)"),
    ],
    ids=[
        "example project id",
        "no cdk",
        "no ask",
        "no AWS credentials",
        "no region",
        "no ask profile",
        "other vendor",
        "CI without skill_id",
    ],
)
def test_one_missing_prerequisite_is_named_and_nothing_runs(
    workspace, monkeypatch, tmp_path, context_args, environ, unset, expected
):
    for name in unset:
        monkeypatch.delenv(name)
    if "PATH" in environ:
        environ = {**environ, "PATH": str(tool_stubs(tmp_path / "only", environ["PATH"]))}
    tools = FakeTools({})

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools, context_args, **environ).deploy()

    assert raised.value.args[0].count("\n  - ") == 1
    assert expected in str(raised.value)
    assert tools.calls == []


def ask_cli_config(tmp_path: Path, document: object) -> Path:
    """~/.ask/cli_config in the test's HOME, as `ask configure` writes it (or leaves it)."""
    path = tmp_path / "home" / ".ask" / "cli_config"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def configured_profile(vendor: str = VENDOR_ID) -> dict:
    return {
        "aws_profile": "default",
        "vendor_id": vendor,
        "token": {
            "access_token": "Atza|test",
            "refresh_token": "Atzr|test",
            "token_type": "bearer",
            "expires_in": 3600,
            "expires_at": "2026-01-01T00:00:00.000Z",
        },
    }


@pytest.mark.parametrize("profile_name", [None, "work"])
def test_a_workstation_ask_profile_is_enough(workspace, tmp_path, profile_name):
    ask_cli_config(tmp_path, {"profiles": {profile_name or "default": configured_profile()}})
    tools = FakeTools({})

    workspace.deployer(
        tools, ASK_REFRESH_TOKEN=None, ASK_VENDOR_ID=None, ASK_DEFAULT_PROFILE=profile_name
    ).check_prerequisites()


@pytest.mark.parametrize(
    "document, expected",
    [
        ({"profiles": {}}, "ask-cli has no profile 'default' in {path} (an interrupted `ask configure` leaves none)"),
        ({"profiles": {"other": configured_profile()}}, "ask-cli has no profile 'default' in {path}"),
        (
            {"profiles": {"default": {**configured_profile(), "token": {}}}},
            "ask-cli profile 'default' in {path} has no token",
        ),
        (
            {"profiles": {"default": {**configured_profile(), "vendor_id": ""}}},
            "ask-cli profile 'default' in {path} has no vendor ID",
        ),
        (
            {"profiles": {"default": configured_profile("OTHERVENDOR1")}},
            f"ask-cli profile 'default' names vendor OTHERVENDOR1 but alexa_vendor_id is {VENDOR_ID}",
        ),
        ("{", "{path} is not ask-cli's JSON configuration"),
    ],
    ids=["interrupted configure", "another profile only", "no token", "no vendor", "other vendor", "not JSON"],
)
def test_an_ask_cli_profile_ask_cli_cannot_use_is_one_line_before_anything_runs(
    workspace, tmp_path, document, expected
):
    path = ask_cli_config(tmp_path, document)
    tools = FakeTools({})

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools, ASK_REFRESH_TOKEN=None, ASK_VENDOR_ID=None).deploy()

    assert raised.value.args[0].count("\n  - ") == 1
    assert expected.format(path=path) in str(raised.value)
    assert 'make ask ARGS="configure --no-browser"' in str(raised.value) or "OTHERVENDOR1" in str(raised.value)
    assert tools.calls == []


def test_ask_cli_variables_beside_a_profile_with_aws_credentials_are_ignored_by_ask_cli_so_the_profile_is_read(
    workspace, tmp_path
):
    """ASK_VENDOR_ID without a token: ask-cli reads its profile, as the check does."""
    ask_cli_config(tmp_path, {"profiles": {}})

    with pytest.raises(DeployError, match="ask-cli has no profile 'default'"):
        workspace.deployer(FakeTools({}), ASK_REFRESH_TOKEN=None).check_prerequisites()


def test_ci_with_the_skill_id_configured_may_deploy(workspace):
    workspace.deployer(FakeTools({}), (*CONTEXT_ARGS, f"skill_id={SKILL_ID}"), CI="true").check_prerequisites()


def test_a_failing_step_stops_the_deploy_and_says_what_to_run_next(workspace, tools):
    tools.fail = ["ask", "deploy"]

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools).deploy()

    message = str(raised.value)
    assert "step 5 (Deploy the skill package with ask-cli) failed" in message
    assert "run `make deploy` again" in message
    assert tools.commands[-1][:2] == ["ask", "deploy"]
    assert "[6/9]" not in workspace.said


def test_auth_code_linking_sends_the_operators_secret_only_through_a_removed_file(workspace, tools, secrets):
    """Credentials already stored: the secret for Alexa comes from the operator, not from the bucket."""
    store_credentials(secrets.location, CLIENT_ID, STORED_SECRET, secrets.s3)

    workspace.deployer(tools).deploy()

    (linking,) = tools.linking
    request = linking.request["accountLinkingRequest"]
    assert request["type"] == "AUTH_CODE"
    assert request["accessTokenScheme"] == "REQUEST_BODY_CREDENTIALS"
    assert request["clientId"] == CLIENT_ID
    assert request["clientSecret"] == CLIENT_SECRET
    assert linking.mode == 0o600
    assert not linking.path.exists()
    for secret in (STORED_SECRET, CLIENT_SECRET):
        assert not any(secret in arg for argv in tools.commands for arg in argv)
        assert secret not in workspace.said


def test_the_account_linking_file_is_removed_when_smapi_fails(workspace, tools):
    tools.fail = ["ask", "smapi"]

    with pytest.raises(DeployError, match=r"step 7 \(Set account linking through SMAPI\)"):
        workspace.deployer(tools).deploy()

    (linking,) = tools.linking
    assert linking.request["accountLinkingRequest"]["clientSecret"] == CLIENT_SECRET
    assert not linking.path.exists()
    assert tools.commands[-1][:3] == ["ask", "smapi", "update-account-linking-info"]


def test_implicit_linking_points_alexa_at_the_bridge_without_the_secret(workspace, tools):
    workspace.deployer(tools, (*CONTEXT_ARGS, "account_linking=implicit")).deploy()

    (linking,) = tools.linking
    request = linking.request["accountLinkingRequest"]
    assert request["type"] == "IMPLICIT"
    assert request["authorizationUrl"] == BRIDGE_AUTHORIZE_URL
    assert request["clientId"] == CLIENT_ID
    assert CLIENT_SECRET not in json.dumps(linking.request)
    assert "clientSecret" not in request


def test_stored_credentials_for_another_client_stop_the_deploy(workspace, tools, secrets):
    store_credentials(secrets.location, OTHER_CLIENT_ID, STORED_SECRET, secrets.s3)

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools).deploy()

    message = str(raised.value)
    assert "step 2" in message
    assert OTHER_CLIENT_ID in message and CLIENT_ID in message
    assert STORED_SECRET not in message
    assert [argv[:3] for argv in tools.commands] == [["cdk", "deploy", "NestSkillSecrets"]]
    assert secrets.versions() == 1


def test_an_unusable_cdk_output_stops_at_its_step_with_what_to_run_next(workspace, tools):
    tools.outputs["NestSkill"]["SkillFunctionArn"] = "not-a-lambda-arn"

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools).deploy()

    assert "step 4 (Render the ASK project) failed" in str(raised.value)
    assert "run `make deploy` again" in str(raised.value)


@pytest.mark.parametrize(
    "locales, region, warning",
    [
        ("en-US,en-CA", "us-east-1", None),
        ("en-GB,en-IN", "eu-west-1", None),
        ("en-AU", "us-west-2", None),
        ("en-GB", "us-east-1", "Alexa serves en-GB from eu-west-1: their requests travel to us-east-1"),
        (
            "en-US,en-GB,en-AU",
            "eu-west-1",
            "Alexa serves en-US from us-east-1, en-AU from us-west-2: their requests travel to eu-west-1",
        ),
        ("en-US", "ap-northeast-1", "Alexa serves en-US from us-east-1: their requests travel to ap-northeast-1"),
    ],
)
def test_deploy_warns_when_the_region_is_far_from_the_locales_alexa_region(workspace, locales, region, warning):
    deployer = workspace.deployer(FakeTools({}), context_args=(*CONTEXT_ARGS, f"locales={locales}"))
    deployer.warn_about_region(region)
    if warning is None:
        assert workspace.messages == []
    else:
        (said,) = workspace.messages
        assert said == (
            f"warning: deploying to {region}, but {warning}. Set 'locales' to your Echo's language and "
            f"deploy in its region (docs: deploy/configuration.md)"
        )


def test_every_package_locale_has_an_alexa_region():
    assert set(ALEXA_REGIONS) == set(PACKAGE_LOCALES)
    assert set(ALEXA_REGIONS.values()) == {"us-east-1", "eu-west-1", "us-west-2"}


def test_no_tool_is_given_the_client_secret(workspace, tools):
    """cdk, ask deploy and ask smapi all run with the operator's environment minus NEST_CLIENT_SECRET."""
    workspace.deployer(tools).deploy()

    assert len(tools.environments) == 6  # the first deploy adds apis.smartHome after the bind
    for env in tools.environments:
        assert "NEST_CLIENT_SECRET" not in env and CLIENT_SECRET not in env.values()
        assert env["ASK_REFRESH_TOKEN"] == "test-ask-refresh-token"
    assert tools.linking[0].request["accountLinkingRequest"]["clientSecret"] == CLIENT_SECRET


def test_run_command_gives_the_child_exactly_the_environment_it_is_passed(tmp_path, monkeypatch):
    monkeypatch.setenv("NEST_CLIENT_SECRET", "parent-only-secret")
    seen = tmp_path / "seen"
    script = "import os, sys; open(sys.argv[1], 'w').write(repr(sorted(os.environ)))"

    assert run_command([sys.executable, "-c", script, str(seen)], tmp_path, {"ONLY": "this"}) == 0

    assert "NEST_CLIENT_SECRET" not in seen.read_text() and "'ONLY'" in seen.read_text()


def test_auth_code_linking_without_a_secret_or_a_terminal_stops_before_anything_runs(workspace, tools, secrets):
    store_credentials(secrets.location, CLIENT_ID, STORED_SECRET, secrets.s3)

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools, NEST_CLIENT_SECRET=None).deploy()

    assert raised.value.args[0].count("\n  - ") == 1
    assert "set NEST_CLIENT_SECRET: auth_code account linking hands the client secret to Alexa" in str(raised.value)
    assert tools.calls == []


def test_on_a_terminal_the_secret_is_asked_once_before_the_first_change(workspace, tools, monkeypatch):
    asked = []

    def ask_secret(prompt: str) -> str:
        asked.append(len(tools.calls))
        return CLIENT_SECRET

    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))
    monkeypatch.setattr("getpass.getpass", ask_secret)
    monkeypatch.setattr("builtins.input", lambda prompt: "")

    workspace.deployer(tools, NEST_CLIENT_SECRET=None).deploy()

    assert asked == [0]  # once, before cdk ran, and reused by steps 2 and 7
    assert tools.linking[0].request["accountLinkingRequest"]["clientSecret"] == CLIENT_SECRET
    assert "with a new state key" in workspace.said


def test_implicit_linking_with_stored_credentials_needs_no_secret(workspace, tools, secrets):
    store_credentials(secrets.location, CLIENT_ID, STORED_SECRET, secrets.s3)

    workspace.deployer(tools, (*CONTEXT_ARGS, "account_linking=implicit"), NEST_CLIENT_SECRET=None).deploy()

    assert tools.linking[0].request["accountLinkingRequest"]["type"] == "IMPLICIT"


def test_a_skill_id_recorded_by_ask_cli_reaches_every_cdk_deploy(workspace, tools, secrets):
    """A checkout whose only record of the skill is ask-cli's (the settings file was moved aside, or
    predates it): every `cdk deploy` gets the ID with -c, and the settings file records it again."""
    workspace.deployer(tools).deploy()
    workspace.settings_file.unlink()
    again = FakeTools(stack_outputs(secrets.location), secrets)

    workspace.deployer(again).deploy()

    cdk_calls = [argv for argv in again.commands if argv[0] == "cdk"]
    assert [argv[2] for argv in cdk_calls] == ["NestSkillSecrets", "--all"]
    for argv in cdk_calls:
        assert context_pairs(argv)[-1] == f"skill_id={SKILL_ID}"
    assert f"the triggers were bound to {SKILL_ID} in step 3" in workspace.said
    assert workspace.settings() == {"skill_id": SKILL_ID}


def test_a_second_deploy_reads_the_recorded_skill_id_as_the_cdk_app_does(workspace, tools, secrets):
    workspace.deployer(tools).deploy()
    again = FakeTools(stack_outputs(secrets.location), secrets)

    workspace.deployer(again).deploy()

    assert load_config(list(CONTEXT_ARGS), workspace.cdk_json).skill_id == SKILL_ID  # what app.py builds
    assert [argv[2] for argv in again.commands if argv[0] == "cdk"] == ["NestSkillSecrets", "--all"]
    assert f"the triggers were bound to {SKILL_ID} in step 3" in workspace.said


def test_a_deploy_that_failed_after_creating_the_skill_binds_the_trigger_on_the_next_run(workspace, tools, secrets):
    tools.fail = ["ask", "smapi"]
    with pytest.raises(DeployError, match="step 7"):
        workspace.deployer(tools).deploy()
    assert not any(f"skill_id={SKILL_ID}" in context_pairs(argv) for argv in tools.commands if argv[0] == "cdk")
    again = FakeTools(stack_outputs(secrets.location), secrets)

    workspace.deployer(again).deploy()

    # The settings file names the skill, so the cdk app binds the trigger to it from the first cdk deploy on.
    assert load_config(list(CONTEXT_ARGS), workspace.cdk_json).skill_id == SKILL_ID
    assert f"the triggers were bound to {SKILL_ID} in step 3" in workspace.said


def test_an_unreadable_ask_cli_state_is_a_prerequisite_problem(workspace):
    states = workspace.ask_project_dir / ".ask" / "ask-states.json"
    states.parent.mkdir(parents=True)
    states.write_text("{not json")
    tools = FakeTools({})

    with pytest.raises(DeployError, match=r"ask-states\.json is not valid JSON"):
        workspace.deployer(tools).deploy()
    assert tools.calls == []


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({"AWS_REGION": "us-east-2"}, "AWS region us-east-2 (from AWS_REGION) cannot host the skill"),
        (
            {"AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-central-1"},
            "AWS region eu-central-1 (from AWS_DEFAULT_REGION) cannot host the skill",
        ),
        (
            {"AWS_REGION": "ap-southeast-2", "AWS_DEFAULT_REGION": "us-east-1"},
            "AWS region ap-southeast-2 (from AWS_REGION) cannot host the skill",
        ),
    ],
    ids=["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_REGION wins"],
)
def test_a_region_alexa_cannot_call_is_refused_before_anything_runs(workspace, monkeypatch, environ, expected):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    tools = FakeTools({})

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools, **environ).deploy()

    message = str(raised.value)
    assert expected in message
    assert "us-east-1, eu-west-1, us-west-2, ap-northeast-1" in message
    assert message.count("\n  - ") == 1
    assert tools.calls == []


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "us-west-2", "ap-northeast-1"])
def test_aws_region_alone_is_enough_as_for_the_aws_cli(workspace, monkeypatch, region):
    """A new user's set-up: AWS_REGION exported, no AWS_DEFAULT_REGION, no region in the profile."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", region)
    deployer = workspace.deployer(FakeTools({}), AWS_REGION=region)

    deployer.check_prerequisites()

    assert deployer.clients("s3").meta.region_name == region


def test_the_profiles_region_is_read_when_the_environment_has_none(workspace, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    config = tmp_path / "aws-config"
    config.write_text("[profile operator]\nregion = us-east-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "operator")

    with pytest.raises(DeployError, match=r"AWS region us-east-2 \(from profile 'operator'\) cannot host"):
        workspace.deployer(FakeTools({}), AWS_PROFILE="operator").deploy()


BEANSTALK = (*CONTEXT_ARGS, "bridge_hosting=beanstalk")


def test_a_beanstalk_platform_the_account_cannot_use_is_refused_before_anything_runs(workspace, secrets):
    tools = FakeTools({})
    deployer = workspace.deployer(
        tools, (*BEANSTALK, "beanstalk_solution_stack=64bit Amazon Linux 2023 v4.0.0 running Python 3.11")
    )

    with pytest.raises(DeployError) as raised:
        deployer.deploy()

    assert (
        "beanstalk_solution_stack '64bit Amazon Linux 2023 v4.0.0 running Python 3.11' is not available in us-east-1"
    ) in str(raised.value)
    assert "aws elasticbeanstalk list-available-solution-stacks" in str(raised.value)
    assert tools.calls == []


def test_a_listed_beanstalk_platform_passes_the_check(workspace, secrets):
    listed = next(
        name
        for name in boto3.client("elasticbeanstalk").list_available_solution_stacks()["SolutionStacks"]
        if name.startswith("64bit Amazon Linux 2023") and "running Python 3." in name
    )

    workspace.deployer(FakeTools({}), (*BEANSTALK, f"beanstalk_solution_stack={listed}")).check_prerequisites()


@dataclass
class FakeLambda:
    """GetAccountSettings and GetFunctionConcurrency, which moto does not implement."""

    quota: int
    unreserved: int
    reserved: dict[str, int] = field(default_factory=dict)

    def get_account_settings(self) -> dict:
        return {"AccountLimit": {"ConcurrentExecutions": self.quota, "UnreservedConcurrentExecutions": self.unreserved}}

    def get_function_concurrency(self, FunctionName: str) -> dict:
        return {"ReservedConcurrentExecutions": self.reserved[FunctionName]} if FunctionName in self.reserved else {}


@dataclass
class FakeCloudFormation:
    resources: list[dict] | None = None

    def describe_stack_resources(self, StackName: str) -> dict:
        if self.resources is None:
            raise ClientError(
                {"Error": {"Code": "ValidationError", "Message": f"Stack {StackName} does not exist"}},
                "DescribeStackResources",
            )
        return {"StackResources": self.resources}


def account(lambda_: FakeLambda, cloudformation: FakeCloudFormation | None = None):
    """These fakes for Lambda and CloudFormation (a fresh one unless given); moto for the rest (STS, the
    bootstrap parameters)."""
    fakes = {"lambda": lambda_, "cloudformation": cloudformation or FakeCloudFormation()}
    return lambda name, **kwargs: fakes.get(name) or boto3.client(name, **kwargs)


def test_a_concurrency_cap_a_new_account_cannot_reserve_is_refused_naming_the_quota(workspace):
    tools = FakeTools({})
    deployer = workspace.deployer(
        tools, (*CONTEXT_ARGS, "bridge_reserved_concurrency=10"), clients=account(FakeLambda(quota=10, unreserved=10))
    )

    with pytest.raises(DeployError) as raised:
        deployer.deploy()

    message = str(raised.value)
    assert "bridge_reserved_concurrency = 10 cannot be applied in us-east-1" in message
    assert "'Concurrent executions' quota (L-B99A9384) is 10, 10 of it unreserved" in message
    assert "at most 0 can be reserved" in message
    assert tools.calls == []


@pytest.mark.parametrize(
    "cap, unreserved, held, ok",
    [
        (50, 1000, 0, True),
        (900, 1000, 0, True),
        (901, 1000, 0, False),
        (50, 100, 50, True),  # a redeploy: the bridge's own reservation is freed and taken again
        (51, 100, 50, False),
    ],
    ids=["room", "exactly the limit", "one over", "redeploy same cap", "redeploy one over"],
)
def test_a_concurrency_cap_must_leave_the_account_its_unreserved_minimum(workspace, cap, unreserved, held, ok):
    function = "NestSkillBridge-ServiceBridgeFunction-abc"
    stack = FakeCloudFormation([{"ResourceType": "AWS::Lambda::Function", "PhysicalResourceId": function}])
    deployer = workspace.deployer(
        FakeTools({}),
        (*CONTEXT_ARGS, f"bridge_reserved_concurrency={cap}"),
        clients=account(FakeLambda(1000, unreserved, {function: held} if held else {}), stack),
    )
    if ok:
        deployer.check_prerequisites()
    else:
        with pytest.raises(DeployError, match=f"bridge_reserved_concurrency = {cap} cannot be applied"):
            deployer.check_prerequisites()


def test_without_a_cap_the_account_settings_are_not_read(workspace):
    def no_client(name: str, **kwargs):
        if name in ("sts", "ssm"):  # who the credentials are, and the bootstrap
            return boto3.client(name, **kwargs)
        raise AssertionError(f"asked for a {name} client")

    workspace.deployer(FakeTools({}), clients=no_client).check_prerequisites()


def test_the_deploy_names_each_locale_no_skill_function_serves(workspace, tools):
    """Only the home stack deployed (its outputs have no regional ARN): en-GB, en-IN and en-AU users
    would find no smart-home devices, and the deploy says so."""
    workspace.deployer(tools).deploy()
    for locale in ("en-GB (eu-west-1)", "en-IN (eu-west-1)", "en-AU (us-west-2)"):
        assert f"warning: no skill function serves {locale}" in workspace.said
    assert "serves en-US" not in workspace.said and "serves en-CA" not in workspace.said


def test_regional_outputs_serve_every_locale_and_the_deploy_lists_the_regional_stacks(workspace, tools):
    tools.outputs["NestSkill-eu-west-1"] = {"SkillFunctionArnEU": "arn:aws:lambda:eu-west-1:123456789012:function:e"}
    tools.outputs["NestSkill-us-west-2"] = {"SkillFunctionArnFE": "arn:aws:lambda:us-west-2:123456789012:function:f"}
    workspace.deployer(tools, AWS_REGION="us-east-1").deploy()
    assert "warning: no skill function serves" not in workspace.said
    assert "with NestSkill-eu-west-1, NestSkill-us-west-2 for the locales' other Alexa regions" in workspace.said


def test_implicit_linking_deploys_no_smart_home_and_says_why(workspace, tools):
    workspace.set_settings(account_linking="implicit")
    workspace.deployer(tools).deploy()
    assert tools.deployed_apis == [{"custom"}]
    assert "no smart-home API: Alexa's smart home requires account_linking auth_code" in workspace.said


ACCOUNT = "123456789012"  # moto's


def test_every_region_the_locales_need_must_be_bootstrapped_and_one_command_fixes_them_all(workspace):
    """The default locales deploy to us-east-1 (home), eu-west-1 and us-west-2: a home-only bootstrap is refused."""
    unbootstrap("eu-west-1", "us-west-2")
    tools = FakeTools({})

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools).deploy()

    problems = raised.value.args[0].split("\n  - ")[1:]
    assert problems == [
        "CDK is not bootstrapped in eu-west-1 for en-GB, en-IN, us-west-2 for en-AU: run "
        f"`node_modules/.bin/cdk bootstrap aws://{ACCOUNT}/eu-west-1 aws://{ACCOUNT}/us-west-2`"
    ]
    assert tools.calls == []


@pytest.mark.parametrize(
    "locales, region, bootstrapped, expected",
    [
        (
            "en-GB",
            "eu-west-1",
            (),
            f"eu-west-1 for en-GB: run `node_modules/.bin/cdk bootstrap aws://{ACCOUNT}/eu-west-1`",
        ),
        (
            "en-AU",
            "ap-northeast-1",
            ("us-west-2",),
            f"ap-northeast-1 (home region): run `node_modules/.bin/cdk bootstrap aws://{ACCOUNT}/ap-northeast-1`",
        ),
        (
            "en-US,en-AU",
            "us-east-1",
            ("us-east-1",),
            f"us-west-2 for en-AU: run `node_modules/.bin/cdk bootstrap aws://{ACCOUNT}/us-west-2`",
        ),
    ],
    ids=["home region", "home region serving no locale", "one other region"],
)
def test_each_unbootstrapped_region_is_named_with_what_it_serves(
    workspace, monkeypatch, locales, region, bootstrapped, expected
):
    unbootstrap(*ALEXA_LAMBDA_REGIONS)
    bootstrap(*bootstrapped)
    monkeypatch.setenv("AWS_REGION", region)

    with pytest.raises(DeployError) as raised:
        workspace.deployer(FakeTools({}), (*CONTEXT_ARGS, f"locales={locales}"), AWS_REGION=region).deploy()

    assert raised.value.args[0].split("\n  - ")[1:] == [f"CDK is not bootstrapped in {expected}"]


def test_a_bootstrap_older_than_the_templates_accept_is_refused_with_the_upgrade_command(workspace):
    bootstrap("eu-west-1", version="5")

    with pytest.raises(DeployError) as raised:
        workspace.deployer(FakeTools({})).check_prerequisites()

    assert (
        f"CDK is not bootstrapped in eu-west-1 (version 5, older than 6) for en-GB, en-IN: run "
        f"`node_modules/.bin/cdk bootstrap aws://{ACCOUNT}/eu-west-1`"
    ) in str(raised.value)


def test_a_bootstrap_parameter_the_operator_may_not_read_names_the_missing_permission(workspace, monkeypatch):
    from moto.core import set_initial_no_auth_action_count

    @set_initial_no_auth_action_count(3)
    def operator_without_ssm() -> str:
        iam = boto3.client("iam")
        iam.create_user(UserName="operator")
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        iam.put_user_policy(
            UserName="operator",
            PolicyName="deploy",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "cloudformation:DescribeStacks", "Resource": "*"}],
                }
            ),
        )
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        with pytest.raises(DeployError) as raised:
            workspace.deployer(FakeTools({})).check_prerequisites()
        return str(raised.value)

    problems = operator_without_ssm().split("\n  - ")[1:]
    assert problems == [
        f"cannot tell whether CDK is bootstrapped in {region}: arn:aws:iam::{ACCOUNT}:user/operator "
        f"may not ssm:GetParameter on /cdk-bootstrap/hnb659fds/version (see docs/deploy/permissions.md)"
        for region in ("us-east-1", "eu-west-1", "us-west-2")
    ]


def test_credentials_sts_refuses_are_one_line_before_anything_runs(workspace, monkeypatch):
    from moto.core import set_initial_no_auth_action_count

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "revoked-example-key-id")
    tools = FakeTools({})

    @set_initial_no_auth_action_count(0)
    def deploy() -> str:
        with pytest.raises(DeployError) as raised:
            workspace.deployer(tools).deploy()
        return str(raised.value)

    problems = deploy().split("\n  - ")[1:]
    assert problems == [
        "STS refused the AWS credentials (InvalidClientTokenId: The security token included in the "
        "request is invalid): they are wrong or expired; renew them (they come from AWS profile "
        "'default')"
    ]
    assert tools.calls == []


def test_a_misspelled_aws_profile_is_one_line_not_a_traceback(workspace, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_PROFILE", "opertor")
    tools = FakeTools({})

    with pytest.raises(DeployError) as raised:
        workspace.deployer(tools, AWS_PROFILE="opertor").deploy()

    assert raised.value.args[0].split("\n  - ")[1:] == [
        "'opertor' is not an AWS profile (AWS_PROFILE or AWS_DEFAULT_PROFILE): check the name against "
        "`aws configure list-profiles`"
    ]
    assert tools.calls == []


def test_a_misspelled_aws_profile_through_the_command_line_prints_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ops", "deploy", *(a for p in CONTEXT_ARGS for a in ("-c", p))],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "AWS_PROFILE": "opertor",
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        },
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "  - 'opertor' is not an AWS profile" in result.stderr


def test_an_expired_sso_session_is_one_line_naming_the_login_command(workspace, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile operator]\nsso_session = work\nsso_account_id = 123456789012\n"
        "sso_role_name = Deployer\nregion = us-east-1\n[sso-session work]\nsso_region = us-east-1\n"
        "sso_start_url = https://example.awsapps.com/start\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "operator")

    with pytest.raises(DeployError) as raised:
        workspace.deployer(FakeTools({}), AWS_PROFILE="operator").check_prerequisites()

    assert raised.value.args[0].split("\n  - ")[1:] == [
        "the SSO session of AWS profile 'operator' has expired or was never started: run "
        "`aws sso login --profile operator`"
    ]


def test_ask_cli_gets_the_profiles_aws_keys_so_it_reads_its_exported_variables(workspace, tools, monkeypatch, tmp_path):
    """The issue's case: AWS credentials from a profile, ASK_REFRESH_TOKEN and ASK_VENDOR_ID exported,
    no ~/.ask/cli_config. ask-cli reads the variables only beside AWS keys in its environment: the
    deploy hands it the profile's resolved keys, and only to ask."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "[operator]\naws_access_key_id = profile-example-key-id\n"
        "aws_secret_access_key = profile-secret\naws_session_token = profile-session\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "operator")

    workspace.deployer(tools, AWS_PROFILE="operator").deploy()

    for (argv, _), env in zip(tools.calls, tools.environments, strict=True):
        if argv[0] == "ask":
            assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]) == (
                "profile-example-key-id",
                "profile-secret",
                "profile-session",
            )
            assert ask_cli_profile(env) == ASK_ENV_PROFILE
        else:
            assert "AWS_ACCESS_KEY_ID" not in env and "AWS_SESSION_TOKEN" not in env
    resources = json.loads((workspace.ask_project_dir / "ask-resources.json").read_text())
    assert list(resources["profiles"]) == [ASK_ENV_PROFILE]
    assert workspace.settings() == {"skill_id": SKILL_ID}


ASK_CLI_PROFILE_HELPER = Path(__file__).resolve().parents[2] / "node_modules/ask-cli/dist/lib/utils/profile-helper.js"


@pytest.mark.skipif(not ASK_CLI_PROFILE_HELPER.exists(), reason="needs node_modules (make setup)")
@pytest.mark.parametrize(
    "environ",
    [
        {"ASK_REFRESH_TOKEN": "t", "ASK_VENDOR_ID": "V"},
        {"ASK_REFRESH_TOKEN": "t", "ASK_VENDOR_ID": "V", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"},
        {"ASK_ACCESS_TOKEN": "t", "ASK_VENDOR_ID": "V", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"},
        {"ASK_REFRESH_TOKEN": "t", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"},
        {"ASK_REFRESH_TOKEN": "t", "ASK_VENDOR_ID": "V", "AWS_ACCESS_KEY_ID": "k"},
        {"ASK_DEFAULT_PROFILE": "work"},
        {
            "ASK_DEFAULT_PROFILE": "work",
            "ASK_REFRESH_TOKEN": "t",
            "ASK_VENDOR_ID": "V",
            "AWS_ACCESS_KEY_ID": "k",
            "AWS_SECRET_ACCESS_KEY": "s",
        },
        {},
    ],
    ids=[
        "ask variables only",
        "all four",
        "access token",
        "no vendor",
        "no secret key",
        "named profile",
        "named profile and all four",
        "nothing",
    ],
)
def test_the_profile_is_the_one_the_pinned_ask_cli_picks(tmp_path, environ):
    """ask_cli_profile against ask-cli's own profileHelper.runtimeProfile, run by the project's Node."""
    ask_cli_config(tmp_path, {"profiles": {"default": configured_profile(), "work": configured_profile()}})
    script = f"const h = require({json.dumps(str(ASK_CLI_PROFILE_HELPER))}); process.stdout.write(h.runtimeProfile());"
    node = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "node"
    picked = subprocess.run(
        [str(node), "-e", script],
        env={"HOME": str(tmp_path / "home"), **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    assert ask_cli_profile(environ) == picked


MESSAGING_OBJECT = "alexa-messaging-credentials.json"
MESSAGING_SECRET = "amzn1.oa2-cs.v1.messaging-secret-for-deploy-tests"
SMAPI_CREDENTIALS = json.dumps(
    {
        "skillMessagingCredentials": {
            "clientId": "amzn1.application-oa2-client.deploytests",
            "clientSecret": MESSAGING_SECRET,
        }
    }
)
EVENTS_ACCOUNT = "nest-push@my-home-4242.iam.gserviceaccount.com"
EVENTS_TOPIC = "projects/my-home-4242/topics/nest-events"
EVENTS_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws/"
LIVE_STATE_ARGS = (
    *CONTEXT_ARGS,
    "live_state=on",
    f"events_service_account={EVENTS_ACCOUNT}",
    f"events_topic={EVENTS_TOPIC}",
)
SEND_EVENTS = [{"name": "alexa::async_event:write"}]


def live_deployer(workspace, tools, answer: tuple[int, str] = (0, SMAPI_CREDENTIALS)) -> Deployer:
    """A deployer with live state on; `ask smapi get-skill-credentials` answers `answer`, in order with
    the other tools' calls (tools.calls)."""
    tools.outputs["NestSkillSecrets"]["MessagingCredentialsObjectKey"] = MESSAGING_OBJECT
    tools.outputs["NestSkill"]["EventsUrl"] = EVENTS_URL
    deployer = workspace.deployer(tools, LIVE_STATE_ARGS)

    def capture(argv, env):
        tools.calls.append((list(argv), None))
        tools.environments.append(dict(env))
        return answer

    deployer.capture = capture
    return deployer


def messaging_object(secrets) -> dict:
    body = secrets.s3.get_object(Bucket=secrets.location.bucket, Key=MESSAGING_OBJECT)["Body"].read()
    return json.loads(body)


def test_a_first_live_state_deploy_asks_for_events_only_once_accept_grant_can_be_answered(workspace, tools, secrets):
    """The skill is created without the permission; the triggers are bound, the messaging credentials
    stored, and only then does the manifest (with apis.smartHome) ask for Send Alexa Events."""
    live_deployer(workspace, tools).deploy()

    order = [argv[:3] for argv in tools.commands]
    assert order == [
        ["cdk", "deploy", "NestSkillSecrets"],
        ["cdk", "deploy", "--all"],
        ["ask", "deploy", "--target"],
        ["ask", "smapi", "update-account-linking-info"],
        ["cdk", "deploy", "--all"],
        ["ask", "smapi", "get-skill-credentials"],
        ["ask", "deploy", "--target"],
    ]
    assert tools.commands[5] == ["ask", "smapi", "get-skill-credentials", "--skill-id", SKILL_ID]
    assert context_pairs(tools.commands[4])[-1] == f"skill_id={SKILL_ID}"  # the trigger names the skill first
    assert tools.deployed_apis == [{"custom"}, {"custom", "smartHome"}]
    assert tools.deployed_permissions == [[], SEND_EVENTS]
    assert messaging_object(secrets)["clientSecret"] == MESSAGING_SECRET
    head = secrets.s3.head_object(Bucket=secrets.location.bucket, Key=MESSAGING_OBJECT)
    assert head["SSEKMSKeyId"] == secrets.location.kms_key_arn
    assert MESSAGING_SECRET not in workspace.said
    assert "apis.smartHome and the Send Alexa Events permission added to the skill manifest" in workspace.said


def test_a_live_state_deploy_of_a_known_skill_stores_the_credentials_before_the_manifest(workspace, tools, secrets):
    """Turning live state on for a skill people use: Alexa sends AcceptGrant to every linked user as
    soon as the permission appears, so the stacks and the credentials come first."""
    workspace.set_settings(skill_id=SKILL_ID)
    live_deployer(workspace, tools).deploy()

    order = [argv[:3] for argv in tools.commands]
    assert order == [
        ["cdk", "deploy", "NestSkillSecrets"],
        ["cdk", "deploy", "--all"],
        ["ask", "smapi", "get-skill-credentials"],
        ["ask", "deploy", "--target"],
        ["ask", "smapi", "update-account-linking-info"],
    ]
    assert tools.deployed_permissions == [SEND_EVENTS]
    assert messaging_object(secrets)["clientId"] == "amzn1.application-oa2-client.deploytests"
    assert "[3/9]" in workspace.said and "stored the skill's Alexa Skill Messaging client" in workspace.said

    workspace.messages.clear()
    again = FakeTools(tools.outputs, secrets)
    live_deployer(workspace, again).deploy()
    assert again.deployed_permissions == [SEND_EVENTS]  # kept, never dropped and added again
    assert "is already in" in workspace.said
    versions = secrets.s3.list_object_versions(Bucket=secrets.location.bucket, Prefix=MESSAGING_OBJECT)["Versions"]
    assert len(versions) == 1


def test_without_messaging_credentials_the_manifest_never_asks_for_events(workspace, tools, secrets):
    workspace.set_settings(skill_id=SKILL_ID)
    with pytest.raises(DeployError, match=r"step 3 .* `ask smapi get-skill-credentials --skill-id .*` failed"):
        live_deployer(workspace, tools, answer=(1, SMAPI_CREDENTIALS)).deploy()
    assert tools.deployed_permissions == []
    assert ["ask", "deploy", "--target", "skill-metadata"] not in tools.commands
    assert MESSAGING_SECRET not in workspace.said


def test_live_state_without_the_events_keys_names_each_before_anything_runs(workspace, tools):
    """The Nest events set-up needs the owner's service account and topic: with live state on, each
    missing one is its own line among the prerequisites, and nothing runs."""
    deployer = workspace.deployer(tools, (*CONTEXT_ARGS, "live_state=on"), PATH=str(workspace.root / "nothing"))
    with pytest.raises(DeployError) as raised:
        deployer.deploy()
    problems = str(raised.value).split("\n  - ")[1:]
    assert [p for p in problems if "events_" in p] == [
        "set 'events_service_account' in nest-skill.json (live_state is on): the service account Pub/Sub signs "
        "its pushes as, name@project.iam.gserviceaccount.com",
        "set 'events_topic' in nest-skill.json (live_state is on): the Pub/Sub topic in your Google Cloud project "
        "that Nest publishes to, projects/<project id>/topics/<name>",
    ]
    assert any(p.startswith("'cdk' is not on PATH") for p in problems)  # listed with the others, at once
    assert tools.calls == []


def test_after_a_live_state_deploy_the_google_side_is_printed_with_the_owners_values(workspace, tools, secrets):
    """The last thing a live-state deploy says: the gcloud commands for the owner's topic, the SDM
    publisher binding, the service account and a push subscription to the EventsUrl output that
    never expires, then the Device Access console step."""
    workspace.set_settings(skill_id=SKILL_ID)
    live_deployer(workspace, tools).deploy()
    said = workspace.said
    tail = said[said.index("Nest events:") :]
    assert [line.strip() for line in tail.splitlines() if line.strip().startswith("gcloud")] == [
        "gcloud pubsub topics create nest-events --project=my-home-4242",
        "gcloud pubsub topics add-iam-policy-binding nest-events --project=my-home-4242 "
        "--member=group:sdm-publisher@googlegroups.com --role=roles/pubsub.publisher",
        "gcloud iam service-accounts create nest-push --project=my-home-4242 '--display-name=Nest events push'",
        "gcloud pubsub subscriptions create nest-skill-events --project=my-home-4242 "
        f"--topic={EVENTS_TOPIC} --push-endpoint={EVENTS_URL} --push-auth-service-account={EVENTS_ACCOUNT} "
        "--push-auth-token-audience=nest-skill-events --ack-deadline=10 --expiration-period=never",
    ]
    # Pub/Sub refuses a retention of 0s: the topic keeps its default.
    assert "retention" not in tail
    assert "Device Access console (https://console.nest.google.com/device-access)" in tail
    assert f"set its Pub/Sub topic to {EVENTS_TOPIC}" in tail
    assert said.rstrip().endswith('say "Alexa, discover devices".')


def test_a_live_state_deploy_without_the_events_url_output_says_what_to_run(workspace, tools, secrets):
    workspace.set_settings(skill_id=SKILL_ID)
    deployer = live_deployer(workspace, tools)
    del tools.outputs["NestSkill"]["EventsUrl"]
    with pytest.raises(DeployError, match=r"Nest events set-up cannot be shown: .* no output 'EventsUrl'"):
        deployer.deploy()


def test_with_live_state_off_the_messaging_credentials_are_never_asked_for(workspace, tools, secrets):
    workspace.set_settings(skill_id=SKILL_ID)
    deployer = workspace.deployer(tools)
    deployer.capture = lambda argv, env: pytest.fail(f"{argv} ran with live state off")
    deployer.deploy()
    assert tools.deployed_permissions == [[]]
    assert "gcloud" not in workspace.said and "Nest events" not in workspace.said
