"""`make rotate-secret` (`python -m ops credentials rotate`): a new Google OAuth client secret, put
everywhere the deployment uses it, in the order that never leaves users without a working secret.

Where the secret is used: the credentials object in the secrets bucket (the bridge exchanges codes
with it in `implicit` mode, and it is the deployment's record of the client), and in `auth_code`
mode Alexa's account-linking settings, given through SMAPI, with which Alexa refreshes every linked
user's token. Google keeps both secrets of a client valid until the operator disables one, so the
rotation runs while the old and the new secret both work:

1. everything it needs is checked first, changing nothing: the outputs, the stored credentials (this
   client's), ask-cli and the skill's current account linking (read through SMAPI), and the new
   secret itself at Google's token endpoint;
2. the new secret is stored in the bucket and read back (the object's tags, its current version and
   length: the operator may not read the object);
3. `auth_code`: it is handed to Alexa with the deploy's own account-linking request, and the
   settings are read back (SMAPI never returns the secret, so what it shows is compared);
4. only then does it say that the old secret may be disabled at Google.

A failure after the bucket changed says what holds which secret and how to finish; the old secret
still works at Google then, so users are unaffected. The new secret comes from NEST_CLIENT_SECRET or
an unechoed prompt, never argv; ask-cli gets it only in the removed 0600 file the deploy uses.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from json import JSONDecodeError, JSONDecoder
from pathlib import Path
from typing import Any

import requests

from oauth_bridge.credentials import CACHE_TTL_S
from ops.ask_project import AskProjectError, ask_cli_problems, read_skill_id
from ops.credentials import (
    CLIENT_SECRET_ENV,
    CredentialsError,
    CredentialsLocation,
    current_version,
    has_terminal,
    prompt_for_secret,
    stored_credentials,
    write_credentials,
)
from ops.deploy import DeployError, Operation
from ops.outputs import Outputs, OutputsError, load_outputs

# A refresh token Google cannot have issued: with it the token endpoint authenticates the client
# first (a wrong secret is `invalid_client`) and then refuses the grant (`invalid_grant`), so the
# answer proves the secret without needing, or touching, any user's token.
PROBE_REFRESH_TOKEN = "rotation-check-not-a-token"
GOOGLE_TIMEOUT_S = 10
CLIENT_REFUSED = ("invalid_client", "unauthorized_client", "deleted_client")
STAGE = "development"
# What finishing a failed rotation takes: the same command, with the same new secret.
AGAIN = "run `make rotate-secret` again with the same new secret (NEST_CLIENT_SECRET or the prompt)"
KEEP_OLD = "keep the old secret enabled at Google"

Reader = Callable[[Sequence[str], Path | None, Mapping[str, str]], tuple[int, str]]
Post = Callable[..., Any]


class RotationError(RuntimeError):
    """The rotation stopped; the message says what holds which secret and what to do."""


def capture_command(argv: Sequence[str], cwd: Path | None, env: Mapping[str, str]) -> tuple[int, str]:
    """Runs a CLI with exactly `env`, its stdout captured and its stderr on the terminal."""
    completed = subprocess.run(list(argv), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, text=True)
    return completed.returncode, completed.stdout


def google_refusal(token_url: str, client_id: str, client_secret: str, post: Post = requests.post) -> str | None:
    """None when Google's token endpoint authenticates the client with this secret, else why not."""
    try:
        response = post(
            token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": PROBE_REFRESH_TOKEN,
                "client_id": client_id,
                "client_secret": client_secret,
            },
            timeout=GOOGLE_TIMEOUT_S,
        )
    except requests.RequestException as error:
        return f"cannot reach {token_url} to check the new secret ({type(error).__name__}): try again"
    try:
        refusal = response.json().get("error")
    except (ValueError, AttributeError):
        refusal = None
    if refusal == "invalid_grant":
        return None
    if refusal in CLIENT_REFUSED:
        return (
            f"Google does not accept this secret for client {client_id} ({refusal}): copy the new secret of "
            f"this client again (Google Cloud console → Google Auth Platform → Clients)"
        )
    return (
        f"Google's token endpoint answered HTTP {response.status_code} {refusal or 'without an OAuth error'} "
        f"to the secret check: try again later"
    )


def linking_shown(stdout: str) -> dict[str, Any] | None:
    """The account-linking settings from `ask smapi get-account-linking-info`'s output, or None.

    SMAPI's REST reference wraps them in `accountLinkingResponse`; ask-smapi-sdk's model types the
    body without the wrapper: both are read."""
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        body, _ = JSONDecoder().raw_decode(stdout[start:])
    except JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    shown = body.get("accountLinkingResponse", body)
    return shown if isinstance(shown, dict) else None


@dataclass
class _Plan:
    outputs: Outputs
    location: CredentialsLocation
    version_before: str | None
    skill_id: str = ""


@dataclass
class SecretRotation(Operation):
    read: Reader = capture_command
    post: Post = requests.post
    ask_secret: Callable[[str], str] | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @property
    def auth_code(self) -> bool:
        return self.config.account_linking == "auth_code"

    def rotate(self) -> None:
        plan = self.check()
        secret = prompt_for_secret(self.environ, self.ask_secret)
        refusal = google_refusal(self.config.oauth_token_url, self.config.nest_client_id, secret, self.post)
        if refusal:
            raise RotationError(f"nothing was changed: {refusal}")
        steps = 3 if self.auth_code else 2
        self.say(f"[1/{steps}] Store the new secret in the secrets bucket")
        self.say(f"      {self.store(plan, secret)}")
        if self.auth_code:
            self.say(f"[2/{steps}] Hand the new secret to Alexa's account linking (SMAPI)")
            self.say(f"      {self.hand_to_alexa(plan, secret)}")
        self.say(f"[{steps}/{steps}] The old secret")
        self.say(f"      {self.when_old_may_go()}")

    def check(self) -> _Plan:
        """Everything the rotation needs, named at once, before anything changes."""
        problems = [
            f"set '{key}' in the context block of cdk.json (it still has the example value)"
            for key in self.config.keys_with_example_values()
        ]
        if not self.environ.get(CLIENT_SECRET_ENV, "").strip() and not has_terminal():
            problems.append(f"set {CLIENT_SECRET_ENV} to the new secret (no terminal to prompt for it)")
        plan = None
        try:
            outputs = load_outputs(self.outputs_file)
            location = CredentialsLocation.from_outputs(outputs)
        except OutputsError as error:
            problems.append(str(error))
        else:
            plan = _Plan(outputs, location, None)
            problems += self._stored_problems(plan)
        if self.auth_code:
            problems += self._alexa_problems(plan)
        if problems or plan is None:
            raise RotationError(
                "cannot rotate the client secret yet (nothing was changed):\n  - " + "\n  - ".join(problems)
            )
        return plan

    def _stored_problems(self, plan: _Plan) -> list[str]:
        try:
            stored = stored_credentials(plan.location, self.clients("s3"))
            version = current_version(plan.location, self.clients("s3")) if stored else None
        except CredentialsError as error:
            return [str(error)]
        if stored is None or not stored.is_complete:
            return [f"{plan.location} holds no complete credentials to rotate: run `make deploy` first"]
        if stored.client_id != self.config.nest_client_id:
            return [
                f"{plan.location} holds client ID {stored.client_id}, but cdk.json's nest_client_id is "
                f"{self.config.nest_client_id}: a secret belongs to one client; to change clients run "
                f"`make credentials` and `make deploy`"
            ]
        plan.version_before = version[0] if version else None
        return []

    def _alexa_problems(self, plan: _Plan | None) -> list[str]:
        problems = []
        if not shutil.which("ask", path=self.environ.get("PATH")):
            problems.append("'ask' is not on PATH: run it through make, which installs node_modules")
        problems += ask_cli_problems(self.ask_environ, self.config.alexa_vendor_id, Path.home())
        try:
            skill_id = self.config.skill_id or read_skill_id(self.ask_project_dir, self.ask_profile)
        except AskProjectError as error:
            return [*problems, str(error)]
        if not skill_id:
            return [*problems, "no skill ID: set 'skill_id' in cdk.json to the skill `make deploy` created"]
        if problems:
            return problems
        shown, problem = self._read_alexa_linking(skill_id)
        if problem:
            return [problem]
        if shown.get("type") != "AUTH_CODE" or shown.get("clientId") != self.config.nest_client_id:
            return [
                f"skill {skill_id}'s account linking is {shown.get('type')} with client {shown.get('clientId')}, "
                f"not AUTH_CODE with nest_client_id {self.config.nest_client_id}: run `make deploy` first"
            ]
        if plan is not None:
            plan.skill_id = skill_id
        return []

    def _read_alexa_linking(self, skill_id: str) -> tuple[dict[str, Any], str | None]:
        argv = ["ask", "smapi", "get-account-linking-info", "--skill-id", skill_id, "--stage", STAGE]
        code, stdout = self.read(argv, None, self.ask_environ)
        shown = linking_shown(stdout) if code == 0 else None
        if shown is None:
            return {}, (
                f"ask-cli could not read skill {skill_id}'s account linking (`{' '.join(argv)}`, its error "
                f"above): check its profile or ASK_REFRESH_TOKEN and ASK_VENDOR_ID, and that the skill exists"
            )
        return shown, None

    def store(self, plan: _Plan, secret: str) -> str:
        """Writes the new secret and reads back what the operator can see of the result."""
        s3 = self.clients("s3")
        try:
            written = write_credentials(plan.location, self.config.nest_client_id, secret, s3)
        except CredentialsError as error:
            raise RotationError(f"nothing was changed: {error}; {AGAIN}") from None
        try:
            stored = stored_credentials(plan.location, s3)
            version = current_version(plan.location, s3)
        except CredentialsError as error:
            raise RotationError(
                f"the new secret was written to {plan.location} but cannot be read back ({error}); "
                f"Alexa was not changed: {KEEP_OLD} and {AGAIN}"
            ) from None
        expected = (written.version_id, written.size)
        if (
            stored is None
            or not stored.is_complete
            or stored.client_id != self.config.nest_client_id
            or version != expected
            or (written.version_id and written.version_id == plan.version_before)
        ):
            raise RotationError(
                f"{plan.location} does not read back as written (version and length {version}, "
                f"expected {expected}; tags {stored}): something else wrote it. Alexa was not "
                f"changed: {KEEP_OLD} and {AGAIN}"
            )
        return (
            f"{written.message}\n      read back: client ID {stored.client_id}, "
            f"{' '.join(stored.properties)} set, version {written.version_id or 'unversioned'} "
            f"({written.size} bytes)"
        )

    def hand_to_alexa(self, plan: _Plan, secret: str) -> str:
        """The deploy's account-linking update with the new secret, then SMAPI's settings read back."""
        try:
            sent = self.send_account_linking(plan.outputs, plan.skill_id, secret)["accountLinkingRequest"]
        except (DeployError, AskProjectError, OSError) as error:
            raise RotationError(
                f"{error}\nState: the bucket holds the new secret; Alexa's account linking was not updated, so "
                f"Alexa refreshes users' tokens with the old secret, which Google still accepts: users are "
                f"unaffected. To finish: {KEEP_OLD}, fix the cause above, then {AGAIN}."
            ) from None
        shown, problem = self._read_alexa_linking(plan.skill_id)
        differ = sorted(name for name, value in sent.items() if name in shown and shown[name] != value)
        if problem or differ or shown.get("type") != sent["type"]:
            raise RotationError(
                f"{problem or 'Alexa shows ' + ', '.join(differ) + ' unlike what was sent'}\nState: the bucket "
                f"holds the new secret; Alexa accepted the update but its settings do not read back as sent. Both "
                f"secrets work at Google, so users are unaffected. To finish: {KEEP_OLD}, then {AGAIN}."
            )
        checked = ", ".join(sorted(name for name in sent if name in shown))
        return (
            f"skill {plan.skill_id} ({STAGE}) accepted the new secret; read back: {checked} as sent "
            f"(SMAPI never shows the secret itself)"
        )

    def when_old_may_go(self) -> str:
        google = (
            "Google Cloud console → Google Auth Platform → Clients → your client: disable the old secret, "
            "then delete it once nothing fails"
        )
        if self.auth_code:
            return (
                f"the new secret is in the bucket and in Alexa's account linking, and Google accepts it: "
                f"the old one may be disabled now. {google}"
            )
        after = (self.now() + timedelta(seconds=CACHE_TTL_S)).strftime("%H:%M UTC")
        return (
            f"the bridge reads the credentials at most {CACHE_TTL_S / 60:.0f} minutes old: disable the old secret "
            f"after {after}, not before. {google}"
        )
