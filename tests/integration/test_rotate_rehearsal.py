"""`make rotate-secret` (`python -m ops credentials rotate`) rehearsed on this machine: the real ask-cli
against the SMAPI stand-in, the secrets bucket in the AWS emulator, the new secret checked at the fake
Google's token endpoint. A skill as `make deploy` leaves it (auth_code linking with the old secret, the
old secret in the bucket) is rotated: first with a mistyped secret, then with SMAPI failing between
the bucket and Alexa, then to the end as the failure's message says."""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

from oauth_bridge.properties import parse_properties
from ops.ask_project import render_account_linking
from ops.credentials import CredentialsLocation, store_credentials
from ops.outputs import Outputs
from sandbox.demo import AWS_TEST_ENV, child_env
from sandbox.fake_google import FakeGoogle
from sandbox.processes import LOOPBACK, Service, free_port
from sandbox.serving import running
from sandbox.tls import loopback_tls
from stacks.config import AppConfig
from tests.ops.helpers import CLIENT_ID, PROJECT_ID, VENDOR_ID, create_secrets_bucket, stack_outputs

ROOT = Path(__file__).resolve().parents[2]
HTTP_TIMEOUT = 10
OLD_SECRET = "rehearsal-old-" + secrets.token_urlsafe(12)
NEW_SECRET = "rehearsal-new-" + secrets.token_urlsafe(12)
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "build",
    "cdk.out",
    "tests",
    "bench",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "docs",
)


@dataclass
class Stage:
    checkout: Path
    outputs_file: Path
    smapi_url: str
    google_url: str
    ca_file: Path
    refresh_token: str
    skill_id: str
    location: CredentialsLocation
    s3: object
    aws_env: dict[str, str]

    def rotate(self, secret: str) -> subprocess.CompletedProcess:
        context = [
            f"nest_project_id={PROJECT_ID}",
            f"nest_client_id={CLIENT_ID}",
            f"alexa_vendor_id={VENDOR_ID}",
            f"skill_id={self.skill_id}",
            f"oauth_token_url={self.google_url}/oauth2/v4/token",
        ]
        env = child_env(
            **self.aws_env,
            PYTHONPATH=str(self.checkout),
            ASK_SMAPI_SERVER_BASE_URL=self.smapi_url,
            ASK_LWA_TOKEN_HOST=self.smapi_url,
            ASK_REFRESH_TOKEN=self.refresh_token,
            ASK_VENDOR_ID=VENDOR_ID,
            ASK_SKIP_NEW_VERSION_REMINDER="true",
            NEST_CLIENT_SECRET=secret,
            REQUESTS_CA_BUNDLE=str(self.ca_file),
        )
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "ops",
                "credentials",
                "rotate",
                *(arg for pair in context for arg in ("-c", pair)),
                "--outputs",
                str(self.outputs_file),
            ],
            cwd=self.checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )

    def smapi(self) -> requests.Session:
        http = requests.Session()
        http.headers["Authorization"] = http.post(
            f"{self.smapi_url}/auth/o2/token",
            json={
                "grant_type": "refresh_token",
                "client_id": "ask-cli",
                "client_secret": "ask-cli-confirmation",
                "refresh_token": self.refresh_token,
            },
            timeout=HTTP_TIMEOUT,
        ).json()["access_token"]
        return http

    def alexa_secret(self) -> str:
        state = requests.get(f"{self.smapi_url}/__fake/state", timeout=HTTP_TIMEOUT).json()
        return state["skills"][self.skill_id]["accountLinking"]["development"]["clientSecret"]

    def bucket_secret(self) -> str:
        body = self.s3.get_object(Bucket=self.location.bucket, Key=self.location.key)["Body"].read().decode()
        return parse_properties(body)["clientsecret"]


def package() -> bytes:
    """The committed skill package as SMAPI takes it without a smart-home endpoint (no skill ID yet)."""
    manifest = json.loads((ROOT / "skill_package" / "skill.json").read_text())
    del manifest["manifest"]["apis"]["smartHome"]
    manifest["manifest"]["apis"]["custom"]["endpoint"] = {"uri": "arn:aws:lambda:us-east-1:123456789012:function:F"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("skill.json", json.dumps(manifest))
        for path in (
            "interactionModels/custom/en-US.json",
            "assets/images/small-icon.png",
            "assets/images/large-icon.png",
        ):
            archive.writestr(path, (ROOT / "skill_package" / path).read_bytes())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    work = tmp_path_factory.mktemp("rotate")
    checkout = work / "checkout"
    shutil.copytree(ROOT, checkout, ignore=NOT_COPIED)
    (checkout / "node_modules").symlink_to(ROOT / "node_modules")
    home = work / "home"
    home.mkdir()
    refresh_token = "rehearsal-refresh-" + secrets.token_urlsafe(16)
    aws_port, smapi_port = free_port(), free_port()
    aws_env = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": f"http://localhost:{aws_port}", "HOME": str(home)}
    smapi_url = f"http://{LOOPBACK}:{smapi_port}"
    # The token URL goes to Alexa too, which takes https only: the fake Google serves HTTPS with a
    # throwaway CA that only the rotation's process is told to trust.
    (work / "tls").mkdir()
    tls = loopback_tls(work / "tls")
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
        services.enter_context(
            Service(
                "fake-smapi",
                [sys.executable, "-m", "sandbox.fake_smapi", "--port", str(smapi_port), "--vendor-id", VENDOR_ID],
                smapi_port,
                env=child_env(FAKE_SMAPI_REFRESH_TOKEN=refresh_token),
                log_path=work / "fake_smapi.log",
            )
        )
        # Google during a rotation: the client's new secret is the one this check must accept.
        google_url = services.enter_context(
            running(
                FakeGoogle(
                    PROJECT_ID, CLIENT_ID, NEW_SECRET, [f"https://pitangui.amazon.com/api/skill/link/{VENDOR_ID}"]
                ),
                tls=tls.server_context(),
            )
        )

        aws = {
            "endpoint_url": aws_env["AWS_ENDPOINT_URL"],
            "region_name": "us-east-1",
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        }
        s3 = boto3.client("s3", **aws)
        location = create_secrets_bucket(s3, boto3.client("kms", **aws))
        store_credentials(location, CLIENT_ID, OLD_SECRET, s3)
        outputs_file = work / "cdk-outputs.json"
        outputs_file.write_text(json.dumps(stack_outputs(location)))

        stage = Stage(
            checkout, outputs_file, smapi_url, google_url, tls.ca_file, refresh_token, "", location, s3, aws_env
        )
        http = stage.smapi()
        upload = http.post(f"{smapi_url}/v1/skills/uploads", timeout=HTTP_TIMEOUT).json()["uploadUrl"]
        requests.put(upload, data=package(), timeout=HTTP_TIMEOUT).raise_for_status()
        created = http.post(
            f"{smapi_url}/v1/skills/imports", json={"vendorId": VENDOR_ID, "location": upload}, timeout=HTTP_TIMEOUT
        )
        status = f"{smapi_url}{created.headers['Location']}"
        while (imported := http.get(status, timeout=HTTP_TIMEOUT).json())["status"] == "IN_PROGRESS":
            pass
        stage.skill_id = imported["skill"]["skillId"]
        config = AppConfig.from_mapping(
            {
                "nest_project_id": PROJECT_ID,
                "nest_client_id": CLIENT_ID,
                "alexa_vendor_id": VENDOR_ID,
                "oauth_token_url": f"{google_url}/oauth2/v4/token",
            }
        )
        deployed = render_account_linking(
            config, Outputs(stack_outputs(location)["NestSkillBridge"], outputs_file), OLD_SECRET
        )
        assert (
            http.put(
                f"{smapi_url}/v1/skills/{stage.skill_id}/stages/development/accountLinkingClient",
                json=deployed,
                timeout=HTTP_TIMEOUT,
            ).status_code
            == 204
        )
        yield stage


@pytest.mark.integration
def test_rotation_with_the_real_ask_cli_survives_a_failure_between_bucket_and_alexa(stage):
    mistyped = stage.rotate("rehearsal-mistyped-secret")
    assert mistyped.returncode != 0
    assert "error: nothing was changed: Google does not accept this secret" in mistyped.stderr
    assert stage.bucket_secret() == OLD_SECRET and stage.alexa_secret() == OLD_SECRET

    refused = stage.smapi().post(
        f"{stage.smapi_url}/__fake/refusals",
        timeout=HTTP_TIMEOUT,
        json={"method": "PUT", "path": "/accountLinkingClient$", "status": 503, "times": 1},
    )
    assert refused.status_code == 204
    halfway = stage.rotate(NEW_SECRET)
    assert halfway.returncode != 0
    assert "[1/3] Store the new secret in the secrets bucket" in halfway.stdout
    assert (
        "State: the bucket holds the new secret; Alexa's account linking was not updated, so Alexa refreshes "
        "users' tokens with the old secret, which Google still accepts: users are unaffected."
    ) in halfway.stderr
    assert "run `make rotate-secret` again with the same new secret" in halfway.stderr
    assert "may be disabled" not in halfway.stdout
    assert stage.bucket_secret() == NEW_SECRET and stage.alexa_secret() == OLD_SECRET

    finished = stage.rotate(NEW_SECRET)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert stage.bucket_secret() == NEW_SECRET and stage.alexa_secret() == NEW_SECRET
    assert "Command executed successfully!" in finished.stdout  # ask-cli's own line for the update
    assert f"skill {stage.skill_id} (development) accepted the new secret; read back:" in finished.stdout
    assert (
        finished.stdout.rstrip()
        .splitlines()[-1]
        .strip()
        .startswith(
            "the new secret is in the bucket and in Alexa's account linking, and Google accepts it: "
            "the old one may be disabled now."
        )
    )
    for run in (mistyped, halfway, finished):
        for secret in (OLD_SECRET, NEW_SECRET, "rehearsal-mistyped-secret", stage.refresh_token):
            assert secret not in run.stdout + run.stderr
    assert not (stage.checkout / "build" / "account-linking.json").exists()
