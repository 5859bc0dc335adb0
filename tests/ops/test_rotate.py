"""`make rotate-secret` (`python -m ops credentials rotate`) against moto's bucket, the SMAPI stand-in and
the fake Google token endpoint, all in process: ask-cli's two account-linking commands are played by
a runner that sends them to the stand-in, so SMAPI's checks of the request and its read-back are real."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from werkzeug.test import Client

import ops.deploy
from oauth_bridge.properties import parse_properties
from ops.cli import load_config, main
from ops.credentials import store_credentials
from ops.rotate import RotationError, SecretRotation, google_refusal, linking_shown
from sandbox.fake_google import FakeGoogle
from sandbox.fake_smapi import FakeSmapi
from tests.ops.helpers import CLIENT_ID, CONTEXT_ARGS, PROJECT_ID, VENDOR_ID, Stdin, stack_outputs

SKILL_ID = "amzn1.ask.skill.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
OLD_SECRET = "test-old-client-secret"
NEW_SECRET = "test-new-client-secret"
REFRESH_TOKEN = "test-ask-refresh-token"
LINKING = f"/v1/skills/{SKILL_ID}/stages/development/accountLinkingClient"


@dataclass
class FakeAsk:
    """`ask smapi update-account-linking-info` and `get-account-linking-info` sent to the SMAPI stand-in;
    records each call's argv and environment, the request file it read, and every event in order."""

    smapi: FakeSmapi
    events: list[str]
    refresh_token: str = REFRESH_TOKEN
    calls: list[list[str]] = field(default_factory=list)
    environments: list[dict[str, str]] = field(default_factory=list)
    files: list[tuple[Path, int]] = field(default_factory=list)
    after_update: Any = None

    def __post_init__(self) -> None:
        self.http = Client(self.smapi)

    def _headers(self) -> dict[str, str]:
        token = (
            self.http.post(
                "/auth/o2/token",
                json={
                    "grant_type": "refresh_token",
                    "client_id": "ask-cli",
                    "client_secret": "ask-cli-confirmation",
                    "refresh_token": self.refresh_token,
                },
            )
            .get_json()
            .get("access_token", "")
        )
        return {"Authorization": f"Bearer {token}"}

    def run(self, argv: Sequence[str], cwd: Path | None, env: dict[str, str]) -> int:
        """The deploy's runner: exit code only, output on the terminal."""
        return self.read(argv, cwd, env)[0]

    def read(self, argv: Sequence[str], cwd: Path | None, env: dict[str, str]) -> tuple[int, str]:
        argv = list(argv)
        self.calls.append(argv)
        self.environments.append(dict(env))
        path = (
            f"/v1/skills/{argv[argv.index('--skill-id') + 1]}/stages/{argv[argv.index('--stage') + 1]}"
            f"/accountLinkingClient"
        )
        if argv[:3] == ["ask", "smapi", "update-account-linking-info"]:
            file = Path(argv[argv.index("--account-linking-request") + 1].removeprefix("file:"))
            self.files.append((file, stat.S_IMODE(file.stat().st_mode)))
            response = self.http.put(path, json=json.loads(file.read_text()), headers=self._headers())
            self.events.append(f"SMAPI PUT {response.status_code}")
            if self.after_update:
                self.after_update()
            return (0 if response.status_code < 300 else 1), ""
        if argv[:3] == ["ask", "smapi", "get-account-linking-info"]:
            response = self.http.get(path, headers=self._headers())
            self.events.append(f"SMAPI GET {response.status_code}")
            # ask-cli prints the body as indented JSON, or an error on stderr and exits 1.
            return (0, json.dumps(response.get_json(), indent=2)) if response.status_code == 200 else (1, "")
        raise AssertionError(f"unexpected command {argv}")

    def refuse(self, method: str, status: int, times: int = 1) -> None:
        assert (
            self.http.post(
                "/__fake/refusals", json={"method": method, "path": LINKING, "status": status, "times": times}
            ).status_code
            == 204
        )

    def linking(self) -> dict[str, Any]:
        return self.smapi.skills[SKILL_ID]["accountLinking"].get("development", {})


def google_post(google: FakeGoogle):
    """requests.post's part the rotation uses, answered by the fake Google in process."""
    client = Client(google)

    def post(url: str, data: dict[str, str], timeout: float) -> Any:
        response = client.post(urlsplit(url).path, data=data)
        return SimpleNamespace(status_code=response.status_code, json=lambda: json.loads(response.get_data()))

    return post


@dataclass
class Setup:
    secrets: Any
    ask: FakeAsk
    outputs_file: Path
    cdk_json: Path
    environ: dict[str, str]
    google: FakeGoogle
    events: list[str]
    messages: list[str] = field(default_factory=list)

    def rotation(self, context_args: Sequence[str] = CONTEXT_ARGS, **environ: str | None) -> SecretRotation:
        merged = {name: value for name, value in {**self.environ, **environ}.items() if value is not None}
        return SecretRotation(
            load_config([*context_args], self.cdk_json),
            list(context_args),
            environ=merged,
            run=self.ask.run,
            read=self.ask.read,
            outputs_file=self.outputs_file,
            ask_project_dir=self.outputs_file.parent / "ask-project",
            aws=lambda name: self.secrets.s3,
            say=self.messages.append,
            post=google_post(self.google),
            now=lambda: datetime(2025, 7, 1, 14, 0, tzinfo=UTC),
        )

    @property
    def said(self) -> str:
        return "\n".join(self.messages)

    def bucket_secret(self) -> str:
        return parse_properties(self.secrets.body())["clientsecret"]


@pytest.fixture
def setup(secrets, tmp_path, monkeypatch) -> Setup:
    """A deployed skill in auth_code mode: the old secret in the bucket and in Alexa's account linking."""
    monkeypatch.setattr(ops.deploy, "BUILD_DIR", tmp_path / "build")
    monkeypatch.setattr(sys, "stdin", Stdin(tty=False))
    events: list[str] = []
    secrets.s3.meta.events.register("before-call.s3.PutObject", lambda **_: events.append("S3 PutObject"))
    smapi = FakeSmapi(VENDOR_ID, REFRESH_TOKEN)
    smapi.skills[SKILL_ID] = {"vendorId": VENDOR_ID, "imports": [], "accountLinking": {}}
    ask = FakeAsk(smapi, events)
    outputs_file = tmp_path / "build" / "cdk-outputs.json"
    outputs_file.parent.mkdir(parents=True)
    outputs_file.write_text(json.dumps(stack_outputs(secrets.location)))
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"app": "python app.py", "context": {}}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ask").write_text("#!/bin/sh\nexit 97\n")
    (bin_dir / "ask").chmod(0o755)
    environ = {
        "PATH": str(bin_dir),
        "ASK_REFRESH_TOKEN": REFRESH_TOKEN,
        "ASK_VENDOR_ID": VENDOR_ID,
        "NEST_CLIENT_SECRET": NEW_SECRET,
    }
    google = FakeGoogle(PROJECT_ID, CLIENT_ID, NEW_SECRET, ["https://pitangui.amazon.com/api/skill/link/x"])
    result = Setup(secrets, ask, outputs_file, cdk_json, environ, google, events)
    store_credentials(secrets.location, CLIENT_ID, OLD_SECRET, secrets.s3)
    deployed = result.rotation((*CONTEXT_ARGS, f"skill_id={SKILL_ID}"))
    deployed.send_account_linking(deployed_outputs := ops.deploy.load_outputs(outputs_file), SKILL_ID, OLD_SECRET)
    assert deployed_outputs and ask.linking()["clientSecret"] == OLD_SECRET
    ask.calls.clear(), ask.environments.clear(), ask.files.clear(), events.clear()
    return result


AUTH_CODE = (*CONTEXT_ARGS, f"skill_id={SKILL_ID}")
IMPLICIT = (*CONTEXT_ARGS, "account_linking=implicit")


def test_auth_code_rotation_stores_then_hands_to_alexa_then_frees_the_old_secret(setup):
    setup.rotation(AUTH_CODE).rotate()

    assert setup.bucket_secret() == NEW_SECRET
    linking = setup.ask.linking()
    assert linking["clientSecret"] == NEW_SECRET and linking["clientId"] == CLIENT_ID
    assert linking["type"] == "AUTH_CODE"
    # Read first (changing nothing), then the bucket, then Alexa, then Alexa read back.
    assert setup.events == ["SMAPI GET 200", "S3 PutObject", "SMAPI PUT 204", "SMAPI GET 200"]
    said = setup.said
    assert (
        said.index("[1/3] Store the new secret")
        < said.index("[2/3] Hand the new secret to Alexa")
        < said.index("[3/3] The old secret")
    )
    assert "read back: client ID " + CLIENT_ID in said and "clientid clientsecret statekey set" in said
    assert f"skill {SKILL_ID} (development) accepted the new secret" in said
    assert "SMAPI never shows the secret itself" in said
    assert setup.messages[-1].strip().startswith("the new secret is in the bucket and in Alexa's account linking")
    assert "the old one may be disabled now" in setup.messages[-1]


def test_the_secret_reaches_no_argv_output_or_child_environment(setup):
    setup.rotation(AUTH_CODE).rotate()

    for secret in (NEW_SECRET, OLD_SECRET):
        assert not any(secret in arg for argv in setup.ask.calls for arg in argv)
        assert not any(secret in value for env in setup.ask.environments for value in env.values())
        assert secret not in setup.said
    assert all("NEST_CLIENT_SECRET" not in env for env in setup.ask.environments)
    ((file, mode),) = setup.ask.files
    assert mode == 0o600 and not file.exists()


def test_smapi_refusing_after_the_bucket_changed_leaves_users_on_the_old_secret_and_says_how_to_finish(setup):
    setup.ask.refuse("PUT", 503)

    with pytest.raises(RotationError) as raised:
        setup.rotation(AUTH_CODE).rotate()

    message = str(raised.value)
    assert "`ask smapi update-account-linking-info` failed" in message
    assert "the bucket holds the new secret; Alexa's account linking was not updated" in message
    assert "the old secret, which Google still accepts: users are unaffected" in message
    assert "keep the old secret enabled at Google" in message
    assert "run `make rotate-secret` again with the same new secret" in message
    assert setup.bucket_secret() == NEW_SECRET
    assert setup.ask.linking()["clientSecret"] == OLD_SECRET
    assert "may be disabled" not in setup.said and "[3/3]" not in setup.said
    assert NEW_SECRET not in message and OLD_SECRET not in message

    setup.rotation(AUTH_CODE).rotate()  # what the message says to do

    assert setup.ask.linking()["clientSecret"] == NEW_SECRET
    assert "the old one may be disabled now" in setup.messages[-1]


def test_alexa_not_reading_back_after_the_update_keeps_the_old_secret_in_service(setup):
    setup.ask.after_update = lambda: setup.ask.refuse("GET", 500)

    with pytest.raises(RotationError) as raised:
        setup.rotation(AUTH_CODE).rotate()

    message = str(raised.value)
    assert f"ask-cli could not read skill {SKILL_ID}'s account linking" in message
    assert "Alexa accepted the update but its settings do not read back as sent" in message
    assert "keep the old secret enabled at Google" in message and "users are unaffected" in message
    assert "may be disabled" not in setup.said


def test_another_write_between_store_and_read_back_stops_before_alexa(setup):
    """A `make credentials` running at the same time: the current version is not the one written."""

    def concurrent_store(**_: Any) -> None:
        setup.secrets.s3.meta.events.unregister("after-call.s3.PutObject", concurrent_store)
        store_credentials(setup.secrets.location, CLIENT_ID, "test-someone-elses-secret", setup.secrets.s3)

    setup.secrets.s3.meta.events.register("after-call.s3.PutObject", concurrent_store)

    with pytest.raises(RotationError, match="does not read back as written") as raised:
        setup.rotation(AUTH_CODE).rotate()

    assert "Alexa was not changed: keep the old secret enabled at Google" in str(raised.value)
    assert setup.ask.linking()["clientSecret"] == OLD_SECRET
    assert "SMAPI PUT 204" not in setup.events


def test_a_secret_google_does_not_accept_changes_nothing(setup):
    with pytest.raises(RotationError) as raised:
        setup.rotation(AUTH_CODE, NEST_CLIENT_SECRET="test-mistyped-secret").rotate()

    message = str(raised.value)
    assert message.startswith("nothing was changed: Google does not accept this secret for client " + CLIENT_ID)
    assert "invalid_client" in message and "test-mistyped-secret" not in message
    assert setup.bucket_secret() == OLD_SECRET and setup.secrets.versions() == 1
    assert setup.ask.linking()["clientSecret"] == OLD_SECRET
    assert "S3 PutObject" not in setup.events


def test_the_secret_check_at_google_reads_its_documented_answers():
    def answering(status: int, error: str | None):
        body = {"error": error} if error else {}
        return lambda *args, **kwargs: SimpleNamespace(status_code=status, json=lambda: body)

    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("no route")

    url = "https://www.googleapis.com/oauth2/v4/token"
    assert google_refusal(url, CLIENT_ID, NEW_SECRET, answering(400, "invalid_grant")) is None
    assert "deleted_client" in google_refusal(url, CLIENT_ID, NEW_SECRET, answering(401, "deleted_client"))
    assert "HTTP 503" in google_refusal(url, CLIENT_ID, NEW_SECRET, answering(503, None))
    assert "cannot reach" in google_refusal(url, CLIENT_ID, NEW_SECRET, unreachable)


def test_every_missing_need_is_named_at_once_and_nothing_changes(setup, tmp_path):
    setup.outputs_file.unlink()

    with pytest.raises(RotationError) as raised:
        setup.rotation(CONTEXT_ARGS, NEST_CLIENT_SECRET=None, PATH=str(tmp_path / "empty")).rotate()

    lines = str(raised.value).splitlines()
    assert lines[0] == "cannot rotate the client secret yet (nothing was changed):"
    assert len(lines) == 5
    for expected in ("NEST_CLIENT_SECRET", "no CDK outputs", "'ask' is not on PATH", "no skill ID"):
        assert sum(expected in line for line in lines[1:]) == 1, expected
    assert setup.events == [] and setup.bucket_secret() == OLD_SECRET


@pytest.mark.parametrize(
    "situation, expected",
    [
        (
            "another client stored",
            "holds client ID 987654321098-other.apps.googleusercontent.com, but cdk.json's "
            "nest_client_id is " + CLIENT_ID,
        ),
        ("nothing stored", "holds no complete credentials to rotate: run `make deploy` first"),
        ("ask-cli not signed in", f"ask-cli could not read skill {SKILL_ID}'s account linking"),
        ("implicit linking at Alexa", f"skill {SKILL_ID}'s account linking is IMPLICIT"),
        ("smapi throttling", f"ask-cli could not read skill {SKILL_ID}'s account linking"),
    ],
)
def test_one_missing_need_stops_the_rotation_before_any_change(setup, situation, expected):
    if situation == "another client stored":
        store_credentials(
            setup.secrets.location, "987654321098-other.apps.googleusercontent.com", OLD_SECRET, setup.secrets.s3
        )
    elif situation == "nothing stored":
        for version in setup.secrets.s3.list_object_versions(Bucket=setup.secrets.location.bucket)["Versions"]:
            setup.secrets.s3.delete_object(
                Bucket=setup.secrets.location.bucket, Key=version["Key"], VersionId=version["VersionId"]
            )
    elif situation == "ask-cli not signed in":
        setup.ask.refresh_token = "test-another-developers-token"
    elif situation == "implicit linking at Alexa":
        setup.rotation((*IMPLICIT, f"skill_id={SKILL_ID}")).send_account_linking(
            ops.deploy.load_outputs(setup.outputs_file), SKILL_ID, None
        )
    else:
        setup.ask.refuse("GET", 429)
    setup.events.clear()
    before = setup.secrets.versions()

    with pytest.raises(RotationError) as raised:
        setup.rotation(AUTH_CODE).rotate()

    message = str(raised.value)
    assert message.startswith("cannot rotate the client secret yet (nothing was changed):")
    assert expected in message and len(message.splitlines()) == 2
    assert setup.secrets.versions() == before
    assert [event for event in setup.events if not event.startswith("SMAPI GET")] == []


def test_implicit_rotation_changes_only_the_bucket_and_waits_out_the_bridges_cache(setup):
    setup.rotation(IMPLICIT).rotate()

    assert setup.bucket_secret() == NEW_SECRET
    assert setup.ask.calls == [] and setup.ask.linking()["clientSecret"] == OLD_SECRET
    assert "[1/2] Store the new secret" in setup.said and "[2/2] The old secret" in setup.said
    assert "Alexa" not in setup.said
    assert (
        "the bridge reads the credentials at most 5 minutes old: disable the old secret after 14:05 UTC, "
        "not before" in setup.messages[-1]
    )


def test_implicit_rotation_needs_neither_ask_cli_nor_a_skill_id(setup, tmp_path):
    setup.rotation(IMPLICIT, PATH=str(tmp_path / "empty"), ASK_REFRESH_TOKEN=None).rotate()

    assert setup.bucket_secret() == NEW_SECRET


def test_on_a_terminal_the_new_secret_is_asked_for_unechoed(setup, monkeypatch):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=True))
    asked = []
    rotation = setup.rotation(AUTH_CODE, NEST_CLIENT_SECRET=None)
    rotation.ask_secret = lambda prompt: asked.append(prompt) or NEW_SECRET

    rotation.rotate()

    assert len(asked) == 1 and "secret" in asked[0]
    assert setup.ask.linking()["clientSecret"] == NEW_SECRET


@pytest.mark.parametrize(
    "printed",
    [
        '{\n  "accountLinkingResponse": {\n    "type": "AUTH_CODE"\n  }\n}',
        '{"type": "AUTH_CODE"}',
        'a notice first\n{"accountLinkingResponse": {"type": "AUTH_CODE"}}\n',
    ],
    ids=["REST reference wrapper", "SDK model, unwrapped", "after a notice line"],
)
def test_what_ask_cli_prints_of_the_settings_is_read(printed):
    assert linking_shown(printed) == {"type": "AUTH_CODE"}


def test_the_command_line_stops_in_one_line_per_need(aws_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sys, "stdin", Stdin(tty=False))

    with pytest.raises(SystemExit) as raised:
        main(
            [
                "credentials",
                "rotate",
                *(arg for pair in AUTH_CODE for arg in ("-c", pair)),
                "--outputs",
                str(tmp_path / "missing.json"),
            ]
        )

    message = str(raised.value)
    assert message.startswith("error: cannot rotate the client secret yet (nothing was changed):")
    assert "set NEST_CLIENT_SECRET to the new secret" in message and f"no CDK outputs at {tmp_path}" in message
    assert "Traceback" not in capsys.readouterr().err


def test_the_smapi_stand_in_shows_the_settings_as_smapi_does_never_the_secret(setup):
    code, printed = setup.ask.read(
        ["ask", "smapi", "get-account-linking-info", "--skill-id", SKILL_ID, "--stage", "development"], None, {}
    )

    body = json.loads(printed)
    shown = body["accountLinkingResponse"]
    assert code == 0 and set(body) == {"accountLinkingResponse"}
    assert "clientSecret" not in shown and OLD_SECRET not in printed
    assert (shown["type"], shown["clientId"], shown["accessTokenScheme"]) == (
        "AUTH_CODE",
        CLIENT_ID,
        "REQUEST_BODY_CREDENTIALS",
    )
    assert shown["redirectUrls"] == [
        f"https://{host}/api/skill/link/{VENDOR_ID}"
        for host in ("pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp")
    ]
