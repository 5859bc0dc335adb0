"""`make deploy` (`python -m ops deploy`) rehearsed end to end on this machine: the real CDK CLI
against the AWS emulator, the real ask-cli against the SMAPI and LWA stand-in (sandbox.fake_smapi).

Each deploy runs in a fresh copy of the working tree, as a clone would be, because the deploy writes
its ASK project and account-linking file under the tree's own build/ and the skill ID into the
tree's nest-skill.json (ops has no option to move them), and this test must neither read nor
overwrite a developer's real state. The refusals at the end stop before any change, so they run
against the same emulator.
`CDK_METHOD=direct` is the CDK CLI's own environment form of `--method=direct` (it reads any option
from CDK_<OPTION>): moto's change sets lose cross-stack exports and outputs, its CreateStack does not.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from sandbox.demo import ACCOUNT, AWS_TEST_ENV, REGION, child_env
from sandbox.processes import LOOPBACK, Service, free_port
from stacks.config import ALEXA_REDIRECT_HOSTS, SKILL_STACK
from tests.make_env import make_env

ROOT = Path(__file__).resolve().parents[2]
VENDOR_ID = "REHEARSALVNDR1"
PROJECT_ID = str(uuid.uuid4())
CLIENT_ID = "123456789012-rehearsal.apps.googleusercontent.com"
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
SKILL_REGIONS = (REGION, "eu-west-1", "us-west-2")
CONTEXT = (
    "-c",
    f"nest_project_id={PROJECT_ID}",
    "-c",
    f"nest_client_id={CLIENT_ID}",
    "-c",
    f"alexa_vendor_id={VENDOR_ID}",
)
STEPS = [
    "Deploy the secrets stack",
    "Store the OAuth client credentials if missing",
    "Deploy the skill and bridge stacks",
    "Render the ASK project",
    "Deploy the skill package with ask-cli",
    "Read the skill ID",
    "Set account linking through SMAPI",
    "Bind the Alexa trigger to the skill",
    "Redirect URLs to register on the Google OAuth client",
]
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "build",
    "cdk.out",
    "cdk.context.json",
    "tests",
    "bench",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "nest-skill.json",
)
HTTP_TIMEOUT = 10
ICONS = ("assets/images/small-icon.png", "assets/images/large-icon.png")


@dataclass
class Deploy:
    """One `python -m ops deploy` run and what the stand-ins held right after it."""

    result: subprocess.CompletedProcess
    checkout: Path
    outputs_file: Path
    smapi_state: dict[str, Any]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr

    def outputs(self) -> dict[str, str]:
        return {
            name: value for stack in json.loads(self.outputs_file.read_text()).values() for name, value in stack.items()
        }


@dataclass
class Rehearsal:
    aws_endpoint: str
    smapi_url: str
    client_secret: str
    refresh_token: str
    deploy: Callable[..., Deploy]
    destroy: Callable[..., Deploy]
    first: Deploy
    tool_log: Path
    aws_env: dict[str, str]
    work: Path

    def aws(self, service: str, region: str = REGION):
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name=region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    @property
    def skill_id(self) -> str:
        (skill_id,) = self.first.smapi_state["skills"]
        return skill_id


def fresh_checkout(destination: Path) -> Path:
    """The working tree without build state, sharing the installed .venv and node_modules."""
    shutil.copytree(ROOT, destination, ignore=NOT_COPIED)
    for name in (".venv", "node_modules"):
        (destination / name).symlink_to(ROOT / name)
    return destination


def recording_shims(directory: Path, log: Path) -> Path:
    """`cdk` and `ask` that note whether NEST_CLIENT_SECRET reached them, then run the real CLI."""
    directory.mkdir()
    for tool in ("cdk", "ask"):
        shim = directory / tool
        shim.write_text(
            f'#!/bin/sh\nprintf "%s %s\\n" {tool} "${{NEST_CLIENT_SECRET:+secret}}" >> "{log}"\n'
            f'exec "{ROOT / "node_modules" / ".bin" / tool}" "$@"\n'
        )
        shim.chmod(0o755)
    return directory


def fake_smapi(port: int, refresh_token: str, log: Path) -> Service:
    return Service(
        "fake-smapi",
        [sys.executable, "-m", "sandbox.fake_smapi", "--port", str(port), "--vendor-id", VENDOR_ID],
        port,
        env=child_env(FAKE_SMAPI_REFRESH_TOKEN=refresh_token),
        log_path=log,
    )


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    """The emulator and the SMAPI stand-in, bootstrapped, and a first deploy from a workstation (no skill yet)."""
    work = tmp_path_factory.mktemp("rehearsal")
    home = work / "home"
    home.mkdir()
    refresh_token = "rehearsal-refresh-" + secrets.token_urlsafe(16)
    client_secret = "rehearsal-secret-" + secrets.token_urlsafe(16)
    aws_port, smapi_port = free_port(), free_port()
    # moto resolves CloudFormation's TemplateURL only when the host says "localhost" (sandbox/aws_emulator.py).
    aws_endpoint, smapi_url = f"http://localhost:{aws_port}", f"http://{LOOPBACK}:{smapi_port}"
    aws_env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": aws_endpoint, "HOME": str(home), "CDK_DISABLE_CLI_TELEMETRY": "true"}

    tool_log = work / "tools.log"
    shims = recording_shims(work / "shims", tool_log)

    def deploy(name: str, *args: str, again: Deploy | None = None, **env: str) -> Deploy:
        """A deploy from a fresh checkout, or `again` from an earlier deploy's checkout and outputs."""
        checkout = again.checkout if again else fresh_checkout(work / name)
        outputs_file = again.outputs_file if again else work / f"{name}-outputs.json"
        environment = child_env(**aws_env, PYTHONPATH=str(checkout))
        environment["PATH"] = os.pathsep.join([str(shims), environment["PATH"]])
        environment = {
            **environment,
            "CDK_METHOD": "direct",
            "ASK_SMAPI_SERVER_BASE_URL": smapi_url,
            "ASK_LWA_TOKEN_HOST": smapi_url,
            "ASK_REFRESH_TOKEN": refresh_token,
            "ASK_VENDOR_ID": VENDOR_ID,
            "ASK_SKIP_NEW_VERSION_REMINDER": "true",
            "NEST_CLIENT_SECRET": client_secret,
            **env,
        }
        # A None in `env` leaves the variable out.
        result = run(
            [sys.executable, "-m", "ops", "deploy", *CONTEXT, *args, "--outputs", str(outputs_file)],
            checkout,
            {name: value for name, value in environment.items() if value is not None},
        )
        state = requests.get(f"{smapi_url}/__fake/state", timeout=HTTP_TIMEOUT).json()
        return Deploy(result, checkout, outputs_file, state)

    def destroy(*args: str) -> Deploy:
        checkout = fresh_checkout(work / "destroy")
        outputs_file = work / "destroy-outputs.json"
        result = run(
            [sys.executable, "-m", "ops", "destroy", *CONTEXT, *args, "--outputs", str(outputs_file)],
            checkout,
            child_env(
                **aws_env,
                PYTHONPATH=str(checkout),
                ASK_SMAPI_SERVER_BASE_URL=smapi_url,
                ASK_LWA_TOKEN_HOST=smapi_url,
                ASK_REFRESH_TOKEN=refresh_token,
                ASK_VENDOR_ID=VENDOR_ID,
                ASK_SKIP_NEW_VERSION_REMINDER="true",
            ),
        )
        state = requests.get(f"{smapi_url}/__fake/state", timeout=HTTP_TIMEOUT).json()
        return Deploy(result, checkout, outputs_file, state)

    with contextlib.ExitStack() as services:
        services.enter_context(
            Service(
                "aws-emulator",
                [sys.executable, "-m", "sandbox.aws_emulator", "--port", str(aws_port)],
                aws_port,
                env=child_env(**AWS_TEST_ENV),
                log_path=work / "aws_emulator.log",
            )
        )
        services.enter_context(fake_smapi(smapi_port, refresh_token, work / "fake_smapi.log"))
        # The home region and the other Alexa regions the locales need (their NestSkill-<region> stacks).
        bootstrap = run(
            ["cdk", "bootstrap", *(f"aws://{ACCOUNT}/{region}" for region in SKILL_REGIONS), "--no-notices"],
            work,
            child_env(**aws_env),
        )
        assert bootstrap.returncode == 0, bootstrap.stderr[-3000:]
        yield Rehearsal(
            aws_endpoint,
            smapi_url,
            client_secret,
            refresh_token,
            deploy,
            destroy,
            deploy("first"),
            tool_log,
            aws_env,
            work,
        )


def step_names(stdout: str) -> list[str]:
    return re.findall(r"^\[\d/9\] (.+)$", stdout, re.MULTILINE)


def smapi_calls(state: dict[str, Any]) -> list[str]:
    """The SMAPI calls in order (LWA token calls left out), IDs replaced by {id}."""
    return [
        f"{call['method']} {re.sub(r'[0-9a-f-]{36}', '{id}', call['path'])}"
        for call in state["requests"]
        if call["path"].lower() != "/auth/o2/token"
    ]


def deployed_trigger_token(rehearsal: Rehearsal) -> str | None:
    """EventSourceToken of the skill function's Alexa permission in the deployed template (moto keeps the
    permission but drops the token from the function's policy, so get_policy cannot show it)."""
    body = rehearsal.aws("cloudformation").get_template(StackName=SKILL_STACK)["TemplateBody"]
    template = body if isinstance(body, dict) else json.loads(body)
    (permission,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"]["Principal"] == "alexa-appkit.amazon.com"
    ]
    return permission.get("EventSourceToken")


@pytest.mark.integration
def test_first_deploy_creates_one_skill_from_the_rendered_package(rehearsal):
    state, outputs = rehearsal.first.smapi_state, rehearsal.first.outputs()
    (skill,) = state["skills"].values()
    assert skill["vendorId"] == VENDOR_ID
    assert skill["endpoint"] == outputs["SkillFunctionArn"]
    package, with_smart_home = skill["imports"]
    assert package["action"] == "CREATE" and package["warnings"] == []
    assert with_smart_home["action"] == "UPDATE" and with_smart_home["files"] == package["files"]
    # Without accountLinking.json: the Skill Package API ignores it, SMAPI takes it separately.
    assert package["files"] == sorted(
        ["skill.json", *ICONS, *(f"interactionModels/custom/{locale}.json" for locale in LOCALES)]
    )
    calls = smapi_calls(state)
    assert calls[:6] == [
        "POST /v1/skills/uploads",
        "PUT /__fake/uploads/{id}",
        "POST /v1/skills/imports",
        "GET /v1/skills/imports/{id}",
        "GET /v1/skills/imports/{id}",
        "PUT /v1/skills/amzn1.ask.skill.{id}/stages/development/accountLinkingClient",
    ]
    # After the bind, the package again with apis.smartHome (its trigger now names the skill).
    assert "POST /v1/skills/amzn1.ask.skill.{id}/imports" in calls[6:]
    assert all(call["status"] < 300 for call in state["requests"])
    assert f'new skill {rehearsal.skill_id}: recorded as "skill_id" in nest-skill.json' in rehearsal.first.result.stdout
    assert json.loads((rehearsal.first.checkout / "nest-skill.json").read_text()) == {"skill_id": rehearsal.skill_id}


@pytest.mark.integration
def test_first_deploy_sets_auth_code_linking_with_the_operators_secret(rehearsal):
    linking = rehearsal.first.smapi_state["skills"][rehearsal.skill_id]["accountLinking"]["development"]
    assert (linking["type"], linking["accessTokenScheme"]) == ("AUTH_CODE", "REQUEST_BODY_CREDENTIALS")
    assert (linking["clientId"], linking["clientSecret"]) == (CLIENT_ID, rehearsal.client_secret)
    assert linking["authorizationUrl"] == (
        f"https://nestservices.google.com/partnerconnections/{PROJECT_ID}/auth?access_type=offline&prompt=consent"
    )
    assert linking["accessTokenUrl"] == "https://www.googleapis.com/oauth2/v4/token"
    assert linking["scopes"] == ["https://www.googleapis.com/auth/sdm.service"]


@pytest.mark.integration
def test_no_secret_is_printed_or_left_in_the_build_directory(rehearsal):
    for secret in (rehearsal.client_secret, rehearsal.refresh_token, "fake-lwa-access-"):
        assert secret not in rehearsal.first.output
    build = rehearsal.first.checkout / "build"
    assert not (build / "account-linking.json").exists()
    assert [
        path
        for path in build.rglob("*")
        if path.is_file() and rehearsal.client_secret in path.read_text(errors="replace")
    ] == []


@pytest.mark.integration
def test_first_deploy_runs_every_step_and_binds_the_trigger_to_the_new_skill(rehearsal):
    result = rehearsal.first.result
    assert result.returncode == 0, rehearsal.first.output[-5000:]
    assert step_names(result.stdout) == STEPS
    assert deployed_trigger_token(rehearsal) == rehearsal.skill_id
    function = rehearsal.aws("lambda").get_function_configuration(
        FunctionName=rehearsal.first.outputs()["SkillFunctionArn"]
    )
    assert function["Environment"]["Variables"]["SKILL_ID"] == rehearsal.skill_id
    urls = re.findall(r"^\s+(https://\S+)$", result.stdout.split("[9/9]")[1], re.MULTILINE)
    assert urls == [f"https://{host}/api/skill/link/{VENDOR_ID}" for host in ALEXA_REDIRECT_HOSTS]


@pytest.mark.integration
def test_first_deploy_serves_smart_home_from_each_locales_alexa_region(rehearsal):
    """NestSkill-eu-west-1 and NestSkill-us-west-2 beside the home stack, each function bound to the
    skill, and the manifest's apis.smartHome naming each region's own function."""
    assert rehearsal.first.result.returncode == 0, "the first deploy failed"
    outputs = rehearsal.first.outputs()
    arns = {"NA": outputs["SkillFunctionArn"], "EU": outputs["SkillFunctionArnEU"], "FE": outputs["SkillFunctionArnFE"]}
    for code, region in zip(arns, SKILL_REGIONS, strict=True):
        assert arns[code].split(":")[3] == region
        function = rehearsal.aws("lambda", region).get_function_configuration(FunctionName=arns[code])
        assert function["Environment"]["Variables"]["SKILL_ID"] == rehearsal.skill_id
    (skill,) = rehearsal.first.smapi_state["skills"].values()
    assert skill["manifest"]["manifest"]["apis"]["smartHome"] == {
        "endpoint": {"uri": arns["NA"]},
        "protocolVersion": "3",
        "regions": {code: {"endpoint": {"uri": arn}} for code, arn in arns.items()},
    }
    assert "NestSkill-eu-west-1, NestSkill-us-west-2" in rehearsal.first.result.stdout
    assert "warning: no skill function serves" not in rehearsal.first.result.stdout


@pytest.mark.integration
def test_each_step_line_comes_before_that_steps_own_output(rehearsal):
    stdout = rehearsal.first.result.stdout
    for step, its_output in (
        ("[1/9] Deploy the secrets stack", "arn:aws:cloudformation:"),
        ("[5/9] Deploy the skill package with ask-cli", "Deploy configuration loaded from"),
        ("[7/9] Set account linking through SMAPI", "Command executed successfully!"),
    ):
        assert its_output in stdout
        assert stdout.index(step) < stdout.index(its_output)


@pytest.mark.integration
def test_second_deploy_from_a_fresh_clone_updates_the_same_skill(rehearsal):
    """As CI runs it: a fresh clone, with the first deploy's skill ID in config."""
    assert rehearsal.first.result.returncode == 0, "the first deploy failed"
    second = rehearsal.deploy("second", "-c", f"skill_id={rehearsal.skill_id}", CI="true")
    assert second.result.returncode == 0, second.output[-5000:]
    assert step_names(second.result.stdout) == STEPS
    assert "credentials already in" in second.result.stdout
    assert f"the triggers were bound to {rehearsal.skill_id} in step 3" in second.result.stdout
    assert rehearsal.client_secret not in second.output and rehearsal.refresh_token not in second.output
    state = second.smapi_state
    assert list(state["skills"]) == [rehearsal.skill_id]
    skill = state["skills"][rehearsal.skill_id]
    assert [package["action"] for package in skill["imports"]] == ["CREATE", "UPDATE", "UPDATE"]
    assert skill["accountLinking"]["development"]["clientSecret"] == rehearsal.client_secret
    assert [call for call in smapi_calls(state) if call.startswith("POST") and call.endswith("/imports")] == [
        "POST /v1/skills/imports",
        "POST /v1/skills/amzn1.ask.skill.{id}/imports",
        "POST /v1/skills/amzn1.ask.skill.{id}/imports",
    ]
    assert deployed_trigger_token(rehearsal) == rehearsal.skill_id


@pytest.mark.integration
def test_no_cdk_or_ask_process_is_given_the_client_secret(rehearsal):
    """The real CLIs, through shims that note what reached them: the secret went only into the bucket
    (step 2, in-process) and into the account-linking file (step 7)."""
    assert rehearsal.first.result.returncode == 0, "the first deploy failed"
    first_run = rehearsal.tool_log.read_text().splitlines()[:6]
    assert first_run == ["cdk ", "cdk ", "ask ", "ask ", "cdk ", "ask "]


@pytest.mark.integration
def test_the_deployed_fences_name_the_deployed_bridge_role_and_bucket(rehearsal):
    """moto 5.2.5 evaluates neither of these policies (its S3 has no AWS::S3::BucketPolicy in CloudFormation
    and ignores principals and most condition operators; its KMS honours only unconditional Deny), so what
    is proved here is that the fixed names resolve to the role and bucket CloudFormation created; the
    statements themselves are asserted exactly in tests/infra/test_security.py."""
    role_arn = rehearsal.aws("iam").get_role(RoleName=f"NestSkillBridge-{REGION}")["Role"]["Arn"]
    assert role_arn == f"arn:aws:iam::{ACCOUNT}:role/NestSkillBridge-{REGION}"
    bridge = rehearsal.aws("cloudformation").describe_stack_resources(StackName="NestSkillBridge")["StackResources"]
    assert f"NestSkillBridge-{REGION}" in {
        r.get("PhysicalResourceId") for r in bridge if r.get("ResourceType") == "AWS::IAM::Role"
    }
    outputs = rehearsal.first.outputs()
    assert outputs["SecretsBucketName"] == f"nestskillsecrets-credentials-{ACCOUNT}-{REGION}"
    kms = rehearsal.aws("kms")
    policy = kms.get_key_policy(KeyId=outputs["SecretsKeyArn"], PolicyName="default")["Policy"]
    policy = policy if isinstance(policy, dict) else json.loads(policy)  # moto returns the template's object
    (decrypt,) = [s for s in policy["Statement"] if "kms:Decrypt" in s["Action"]]
    assert decrypt["Condition"]["StringEquals"] == {
        "kms:ViaService": f"s3.{REGION}.amazonaws.com",
        "aws:PrincipalArn": role_arn,
        "kms:EncryptionContext:aws:s3:arn": f"arn:aws:s3:::{outputs['SecretsBucketName']}",
    }
    tags = rehearsal.aws("s3").get_object_tagging(Bucket=outputs["SecretsBucketName"], Key=outputs["SecretsObjectKey"])[
        "TagSet"
    ]
    assert {tag["Key"]: tag["Value"] for tag in tags} == {
        "clientid": CLIENT_ID,
        "properties": "clientid clientsecret statekey",
    }


@pytest.mark.integration
def test_a_second_deploy_before_skill_id_is_committed_keeps_the_trigger_bound(rehearsal):
    """`make deploy` again in the same checkout, the skill ID only in the nest-skill.json the first deploy
    wrote: the trigger stays bound."""
    assert rehearsal.first.result.returncode == 0, "the first deploy failed"
    before = len(rehearsal.tool_log.read_text().splitlines())
    again = rehearsal.deploy("again", again=rehearsal.first)
    assert again.result.returncode == 0, again.output[-5000:]
    assert f"the triggers were bound to {rehearsal.skill_id} in step 3" in again.result.stdout
    assert deployed_trigger_token(rehearsal) == rehearsal.skill_id
    assert rehearsal.tool_log.read_text().splitlines()[before:] == ["cdk ", "cdk ", "ask ", "ask "]


@pytest.mark.integration
def test_a_region_alexa_cannot_call_stops_the_deploy_before_its_first_change(rehearsal):
    refused = rehearsal.deploy("us-east-2", AWS_REGION="us-east-2")
    assert refused.result.returncode != 0
    assert "AWS region us-east-2 (from AWS_REGION) cannot host the skill" in refused.output
    assert "[1/9]" not in refused.result.stdout and "Traceback" not in refused.output
    assert rehearsal.aws("cloudformation", "us-east-2").describe_stacks()["Stacks"] == []


@pytest.mark.integration
def test_after_make_clean_a_deploy_with_profile_credentials_updates_the_same_skill(rehearsal):
    """Day two: `make clean` removes build/ (ask-cli's own record of the skill), and this deploy's AWS
    credentials come from a profile while ASK_REFRESH_TOKEN and ASK_VENDOR_ID are exported, which the
    real ask-cli ignores unless it is handed AWS keys too."""
    assert rehearsal.first.result.returncode == 0, "the first deploy failed"
    cleaned = subprocess.run(
        ["make", "clean"], cwd=rehearsal.first.checkout, env=make_env(), capture_output=True, text=True, timeout=60
    )
    assert cleaned.returncode == 0, cleaned.stderr
    assert not (rehearsal.first.checkout / "build").exists()
    credentials = rehearsal.work / "aws-credentials"
    credentials.write_text("[operator]\naws_access_key_id = test\naws_secret_access_key = test\n")

    again = rehearsal.deploy(
        "after-clean",
        again=rehearsal.first,
        AWS_ACCESS_KEY_ID=None,
        AWS_SECRET_ACCESS_KEY=None,
        AWS_PROFILE="operator",
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
    )

    assert again.result.returncode == 0, again.output[-5000:]
    assert list(again.smapi_state["skills"]) == [rehearsal.skill_id]
    assert f"      skill {rehearsal.skill_id}\n" in again.result.stdout and "new skill" not in again.result.stdout
    assert "ENVIRONMENT_ASK_PROFILE" in (again.checkout / "build" / "ask-project" / "ask-resources.json").read_text()


@pytest.mark.integration
def test_a_deploy_that_cannot_work_names_every_problem_before_its_first_change(rehearsal, tmp_path):
    """Not bootstrapped in the home region, and an interrupted `ask configure` with no ASK variables:
    one line each, nothing is created, and the printed command bootstraps exactly what was missing."""
    home = tmp_path / "home"
    (home / ".ask").mkdir(parents=True)
    (home / ".ask" / "cli_config").write_text('{"profiles": {}}')
    tokyo = {"AWS_REGION": "ap-northeast-1", "AWS_DEFAULT_REGION": "ap-northeast-1", "HOME": str(home)}
    refused = rehearsal.deploy("not-bootstrapped", **tokyo, ASK_REFRESH_TOKEN=None, ASK_VENDOR_ID=None)

    assert refused.result.returncode != 0 and "Traceback" not in refused.output
    assert "[1/9]" not in refused.result.stdout
    command = f"node_modules/.bin/cdk bootstrap aws://{ACCOUNT}/ap-northeast-1"
    assert [problem.strip() for problem in refused.result.stderr.split("\n  - ")[1:]] == [
        f"CDK is not bootstrapped in ap-northeast-1 (home region): run `{command}`",
        f"ask-cli has no profile 'default' in {home}/.ask/cli_config (an interrupted `ask configure` leaves none): "
        f'run `make ask ARGS="configure --no-browser"`, or export ASK_REFRESH_TOKEN and ASK_VENDOR_ID',
    ]
    assert rehearsal.aws("cloudformation", "ap-northeast-1").describe_stacks()["Stacks"] == []

    bootstrapped = run(command.split(), refused.checkout, child_env(**rehearsal.aws_env))
    assert bootstrapped.returncode == 0, bootstrapped.stderr[-3000:]
    again = rehearsal.deploy("bootstrapped", again=refused, **tokyo, NEST_CLIENT_SECRET=None)
    assert [problem.strip() for problem in again.result.stderr.split("\n  - ")[1:]] == [
        "set NEST_CLIENT_SECRET: auth_code account linking hands the client secret to Alexa on every deploy, and "
        "there is no terminal to prompt for it"
    ]


@pytest.mark.integration
def test_credentials_that_cannot_work_are_one_line_each(rehearsal, tmp_path):
    misspelled = rehearsal.deploy(
        "misspelled-profile",
        AWS_ACCESS_KEY_ID=None,
        AWS_SECRET_ACCESS_KEY=None,
        AWS_PROFILE="opertor",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )
    assert misspelled.result.returncode != 0 and "Traceback" not in misspelled.output
    assert [problem.strip() for problem in misspelled.result.stderr.split("\n  - ")[1:]] == [
        "'opertor' is not an AWS profile (AWS_PROFILE or AWS_DEFAULT_PROFILE): check the name against "
        "`aws configure list-profiles`"
    ]


def validate(http: requests.Session, url: str, skill_id: str, locales: list[str]) -> dict:
    """SMAPI's skill validation (the certification checks) for `locales`, started and read back."""
    started = http.post(
        f"{url}/v1/skills/{skill_id}/stages/development/validations", json={"locales": locales}, timeout=HTTP_TIMEOUT
    )
    assert started.status_code == 202, started.text
    return http.get(f"{url}{started.headers['Location']}", timeout=HTTP_TIMEOUT).json()


def smapi_session(rehearsal: Rehearsal) -> requests.Session:
    http = requests.Session()
    http.headers["Authorization"] = http.post(
        f"{rehearsal.smapi_url}/auth/o2/token",
        json={
            "grant_type": "refresh_token",
            "client_id": "ask-cli",
            "client_secret": "ask-cli-confirmation",
            "refresh_token": rehearsal.refresh_token,
        },
        timeout=HTTP_TIMEOUT,
    ).json()["access_token"]
    return http


@pytest.mark.integration
def test_the_deployed_skill_passes_the_certification_checks(rehearsal):
    """Icons uploaded by ask-cli from the package, privacy and terms URLs on the bridge, in every locale."""
    (skill,) = rehearsal.first.smapi_state["skills"].values()
    base = rehearsal.first.outputs()["BridgeBaseUrl"].rstrip("/")
    assert skill["manifest"]["manifest"]["privacyAndCompliance"]["locales"] == {
        locale: {"privacyPolicyUrl": f"{base}/privacy", "termsOfUseUrl": f"{base}/terms"} for locale in LOCALES
    }
    validation = validate(smapi_session(rehearsal), rehearsal.smapi_url, rehearsal.skill_id, list(LOCALES))
    assert validation["status"] == "SUCCESSFUL", validation


@pytest.mark.integration
def test_destroy_removes_the_skill_and_the_stateless_stacks_and_lists_the_rest(rehearsal):
    """`python -m ops destroy --yes` with the real cdk and ask-cli, after the deploys above."""
    assert rehearsal.first.result.returncode == 0, "the first deploy failed"
    destroyed = rehearsal.destroy("-c", f"skill_id={rehearsal.skill_id}", "--yes")
    assert destroyed.result.returncode == 0, destroyed.output[-5000:]
    assert destroyed.smapi_state["skills"] == {}
    assert "DELETE /v1/skills/amzn1.ask.skill.{id}" in smapi_calls(destroyed.smapi_state)
    cloudformation = rehearsal.aws("cloudformation")
    alive = {
        stack["StackName"]
        for stack in cloudformation.describe_stacks()["Stacks"]
        if stack["StackStatus"] != "DELETE_COMPLETE"
    }
    assert alive == {"CDKToolkit", "NestSkillSecrets"}
    for region in SKILL_REGIONS[1:]:
        assert {
            stack["StackName"]
            for stack in rehearsal.aws("cloudformation", region).describe_stacks()["Stacks"]
            if stack["StackStatus"] != "DELETE_COMPLETE"
        } == {"CDKToolkit"}
    outputs = rehearsal.first.outputs()
    stdout = destroyed.result.stdout
    for kept in (
        f"bucket {outputs['SecretsBucketName']} ",
        f"KMS key {outputs['SecretsKeyArn'].split('/')[-1]} ",
        "stack NestSkillSecrets (termination protection on)",
    ):
        assert kept in stdout
    assert rehearsal.aws("s3").head_bucket(Bucket=outputs["SecretsBucketName"])
    assert f'remove "skill_id": "{rehearsal.skill_id}" from where you set it (-c, or cdk.json)' in stdout


def package_zip(files: dict[str, object]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, document in files.items():
            archive.writestr(name, document if isinstance(document, bytes) else json.dumps(document))
    return buffer.getvalue()


@pytest.mark.integration
def test_the_smapi_stand_in_refuses_what_smapi_refuses(tmp_path):
    """The rehearsal's checks mean something only if the stand-in rejects what SMAPI rejects."""
    refresh_token = "rehearsal-refresh-" + secrets.token_urlsafe(16)
    port = free_port()
    with fake_smapi(port, refresh_token, tmp_path / "fake_smapi.log") as smapi:
        url = smapi.base_url
        http = requests.Session()
        lwa = {"grant_type": "refresh_token", "client_id": "ask-cli", "client_secret": "ask-cli-confirmation"}
        refused = http.post(f"{url}/auth/o2/token", json={**lwa, "refresh_token": "another"}, timeout=HTTP_TIMEOUT)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        assert (
            http.post(
                f"{url}/v1/skills/uploads", headers={"Authorization": "Bearer made-up"}, timeout=HTTP_TIMEOUT
            ).status_code
            == 401
        )
        token = http.post(
            f"{url}/auth/o2/token", json={**lwa, "refresh_token": refresh_token}, timeout=HTTP_TIMEOUT
        ).json()["access_token"]
        http.headers["Authorization"] = token

        def import_package(files: dict[str, object]) -> dict:
            upload = http.post(f"{url}/v1/skills/uploads", timeout=HTTP_TIMEOUT).json()["uploadUrl"]
            assert requests.put(upload, data=package_zip(files), timeout=HTTP_TIMEOUT).status_code == 200
            created = http.post(
                f"{url}/v1/skills/imports", json={"vendorId": VENDOR_ID, "location": upload}, timeout=HTTP_TIMEOUT
            )
            assert created.status_code == 202
            status = f"{url}{created.headers['Location']}"
            assert http.get(status, timeout=HTTP_TIMEOUT).json()["status"] == "IN_PROGRESS"
            return http.get(status, timeout=HTTP_TIMEOUT).json()

        manifest = json.loads((ROOT / "skill_package" / "skill.json").read_text())
        model = json.loads((ROOT / "skill_package" / "interactionModels" / "custom" / "en-US.json").read_text())
        linking = json.loads((ROOT / "skill_package" / "accountLinking.json").read_text())
        # The package's apis.smartHome has no endpoint: refused until the deploy renders one (or drops it).
        unrendered = import_package({"skill.json": manifest, "interactionModels/custom/en-US.json": model})
        assert unrendered["status"] == "FAILED" and "apis.smartHome.endpoint.uri" in unrendered["errors"][0]["message"]
        del manifest["manifest"]["apis"]["smartHome"]
        manifest["manifest"]["apis"]["custom"]["endpoint"] = {"uri": "http://plain.example/skill"}
        failed = import_package({"skill.json": manifest, "interactionModels/custom/en-US.json": model})
        assert failed["status"] == "FAILED" and "endpoint.uri" in failed["errors"][0]["message"]

        manifest["manifest"]["apis"]["custom"]["endpoint"] = {"uri": "arn:aws:lambda:us-east-1:123456789012:function:F"}
        without_icons = import_package({"skill.json": manifest, "interactionModels/custom/en-US.json": model})
        assert (
            without_icons["status"] == "FAILED"
            and "small-icon.png, which is not in the skill package" in without_icons["errors"][0]["message"]
        )
        icons = {f"skill-package/{name}": (ROOT / "skill_package" / name).read_bytes() for name in ICONS}
        warned = import_package(
            {
                "skill-package/skill.json": manifest,
                "skill-package/accountLinking.json": linking,
                "skill-package/interactionModels/custom/en-US.json": model,
                **icons,
            }
        )
        assert warned["status"] == "SUCCEEDED" and "account linking" in warned["warnings"][0]["message"]

        skill_linking = f"{url}/v1/skills/{warned['skill']['skillId']}/stages/development/accountLinkingClient"
        request = {
            **linking["accountLinkingRequest"],
            "authorizationUrl": "https://example.test/auth",
            "clientId": "client",
            "clientSecret": "fake",
        }
        without_secret = {key: value for key, value in request.items() if key != "clientSecret"}
        for body, status in (
            (request, 400),
            ({"accountLinkingRequest": without_secret}, 400),
            ({"accountLinkingRequest": {**request, "tokenScheme": "X"}}, 400),
            ({"accountLinkingRequest": request}, 204),
        ):
            assert http.put(skill_linking, json=body, timeout=HTTP_TIMEOUT).status_code == status, body
        assert (
            http.put(
                skill_linking.replace("/development/", "/live/"),
                json={"accountLinkingRequest": request},
                timeout=HTTP_TIMEOUT,
            ).status_code
            == 403
        )

        # The committed package has no privacy policy URL (the deploy renders it): certification refuses it.
        validation = validate(http, url, warned["skill"]["skillId"], ["en-US"])
        assert validation["status"] == "FAILED"
        assert [item["title"] for item in validation["result"]["validations"]] == ["Privacy policy URL is missing"]
        skill = f"{url}/v1/skills/{warned['skill']['skillId']}"
        assert http.delete(skill, timeout=HTTP_TIMEOUT).status_code == 204
        assert http.delete(skill, timeout=HTTP_TIMEOUT).status_code == 404
