"""`make deploy`: the ordered flow for a real AWS account and Alexa developer account.

Every step is safe to repeat: CloudFormation and ask-cli skip what is unchanged, stored credentials
are kept, and a skill ID that ask-cli recorded is reused. Prerequisites are all checked before the
first change; a failing step stops the flow with what failed and what to run next.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import boto3

from ops import BUILD_DIR
from ops.ask_project import (ASK_PROJECT_DIR, AskProjectError, account_linking_file, ask_cli_profile,
                             read_skill_id, render_account_linking, render_ask_project)
from ops.credentials import (CredentialsError, CredentialsLocation, is_complete, prompt_for_credentials,
                             read_credentials, store_credentials)
from ops.outputs import Outputs, OutputsError, load_outputs
from stacks.config import ALEXA_REGIONS, SECRETS_STACK, AppConfig

OUTPUTS_FILE = BUILD_DIR / "cdk-outputs.json"
Runner = Callable[[Sequence[str], Path | None], int]
# The deploy's steps in order: (what `[n/9]` prints, the Deployer method that does it).
STEPS = (
    ("Deploy the secrets stack", "deploy_secrets_stack"),
    ("Store the OAuth client credentials if missing", "store_credentials_if_missing"),
    ("Deploy the skill and bridge stacks", "deploy_all_stacks"),
    ("Render the ASK project", "render_ask_project"),
    ("Deploy the skill package with ask-cli", "deploy_skill_package"),
    ("Read the skill ID", "read_skill_id"),
    ("Set account linking through SMAPI", "update_account_linking"),
    ("Bind the Alexa trigger to the skill", "bind_trigger"),
    ("Redirect URLs to register on the Google OAuth client", "redirect_urls"),
)
# What the deploy reads from its environment, for `deploy --help`.
ENVIRONMENT = (
    ("NEST_CLIENT_SECRET", "the OAuth client secret, stored if the bucket holds none (else prompted for)"),
    ("NEST_CLIENT_ID", "the OAuth client ID to store (default: nest_client_id)"),
    ("AWS_PROFILE, AWS_REGION, AWS_*", "the AWS account and region, as for the AWS CLI"),
    ("ASK_REFRESH_TOKEN, ASK_VENDOR_ID", "ask-cli's credentials without a profile (CI); the vendor must be "
                                         "alexa_vendor_id"),
    ("ASK_ACCESS_TOKEN, ASK_DEFAULT_PROFILE", "the other ask-cli settings the rendered project follows"),
    ("CI", "'true' refuses to deploy without skill_id in cdk.json"),
    ("PATH", "where cdk and ask are found (make puts node_modules/.bin first)"),
)


class DeployError(RuntimeError):
    """The deploy cannot go on; the message says why and what to do."""


def missing_tools(environ: Mapping[str, str]) -> list[str]:
    """A problem line for each of the CLIs the deploy and destroy run that is not on PATH."""
    return [f"'{tool}' is not on PATH: run it through make, which installs node_modules"
            for tool in ("cdk", "ask") if not shutil.which(tool, path=environ.get("PATH"))]


def run_command(argv: Sequence[str], cwd: Path | None = None) -> int:
    """Runs a CLI with its output on the terminal; returns its exit code."""
    return subprocess.run(list(argv), cwd=cwd).returncode


@dataclass
class Operation:
    """What `make deploy` and `make destroy` share: config, the `-c` pairs to hand on to cdk, the
    environment, the runner of cdk and ask-cli, the files they keep under build/, and the output."""

    config: AppConfig
    context_args: Sequence[str] = ()
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    run: Runner = run_command
    outputs_file: Path = OUTPUTS_FILE
    ask_project_dir: Path = ASK_PROJECT_DIR
    # Flushed: on a pipe (CI) each step line must come out before the output of the tools it runs.
    say: Callable[[str], None] = functools.partial(print, flush=True)

    def context_argv(self, extra: Sequence[str] = ()) -> list[str]:
        """The `-c key=value` arguments for cdk, so it synthesizes the same config."""
        return [arg for pair in (*self.context_args, *extra) for arg in ("-c", pair)]


@dataclass
class Deployer(Operation):
    s3: object = None
    _skill_id: str = field(default="", init=False)

    def deploy(self) -> None:
        self.check_prerequisites()
        self.warn_about_region(boto3.Session().region_name)
        self._skill_id = self.config.skill_id
        for number, (name, method) in enumerate(STEPS, start=1):
            self.say(f"[{number}/{len(STEPS)}] {name}")
            try:
                done = getattr(self, method)()
            except (DeployError, CredentialsError, OutputsError, AskProjectError, OSError, ValueError) as error:
                raise DeployError(
                    f"step {number} ({name}) failed: {error}\n"
                    f"Fix that, then run `make deploy` again: the steps before it are safe to repeat.") from None
            self.say(f"      {done}")

    def check_prerequisites(self) -> None:
        """Everything missing, named at once, before anything changes."""
        problems = [f"set '{key}' in the context block of cdk.json (it still has the example value)"
                    for key in self.config.keys_with_example_values()]
        problems += missing_tools(self.environ)
        session = boto3.Session()
        if session.get_credentials() is None:
            problems.append("no AWS credentials: configure a profile (AWS_PROFILE, `aws configure sso`) "
                            "or, in CI, the OIDC role")
        elif not session.region_name:
            problems.append("no AWS region: set AWS_REGION (an Alexa-supported Lambda region: "
                            "us-east-1, eu-west-1 or us-west-2)")
        has_env_profile = self.environ.get("ASK_REFRESH_TOKEN") and self.environ.get("ASK_VENDOR_ID")
        if not has_env_profile and not (Path.home() / ".ask" / "cli_config").exists():
            problems.append("no ask-cli profile: run `npx ask configure --no-browser`, or set "
                            "ASK_REFRESH_TOKEN and ASK_VENDOR_ID")
        vendor = self.environ.get("ASK_VENDOR_ID")
        if vendor and vendor != self.config.alexa_vendor_id:
            problems.append(f"ASK_VENDOR_ID is {vendor} but cdk.json's alexa_vendor_id is "
                            f"{self.config.alexa_vendor_id}: they must be the same developer account")
        if self.environ.get("CI") == "true" and not self.config.skill_id:
            problems.append("in CI, set 'skill_id' in cdk.json: a fresh clone has no ask-cli state, so every "
                            "run would create a new skill (deploy once from a workstation to get the ID)")
        if problems:
            raise DeployError("cannot deploy yet:\n  - " + "\n  - ".join(problems))

    def warn_about_region(self, region: str) -> None:
        """Alexa calls the skill's Lambda from the Alexa region of the user's locale (North America
        us-east-1, Europe and India eu-west-1, Far East and Australia us-west-2); from elsewhere each
        request crosses an ocean or a continent, which eats into Alexa's 8 s."""
        far = {locale: ALEXA_REGIONS[locale] for locale in self.config.locales if ALEXA_REGIONS[locale] != region}
        if far:
            served = ", ".join(f"{locale} from {alexa_region}" for locale, alexa_region in far.items())
            self.say(f"warning: deploying to {region}, but Alexa serves {served}: their requests travel to {region}. "
                     f"Set 'locales' to your Echo's language and deploy in its region (README: Configuration)")

    def _cdk_deploy(self, *stacks: str, extra_context: Sequence[str] = ()) -> None:
        self.outputs_file.parent.mkdir(parents=True, exist_ok=True)
        argv = ["cdk", "deploy", *stacks, "--require-approval", "never", "--outputs-file",
                str(self.outputs_file), *self.context_argv(extra_context)]
        if self.run(argv, None) != 0:
            raise DeployError(f"`{' '.join(argv)}` failed (see its output above)")

    def _outputs(self) -> Outputs:
        return load_outputs(self.outputs_file)

    def deploy_secrets_stack(self) -> str:
        self._cdk_deploy(SECRETS_STACK)
        return f"{SECRETS_STACK} is up to date"

    def store_credentials_if_missing(self) -> str:
        location = CredentialsLocation.from_outputs(self._outputs())
        stored = read_credentials(location, self.s3)
        if is_complete(stored):
            if stored.get("clientid") != self.config.nest_client_id:
                raise DeployError(f"{location} holds client ID {stored.get('clientid')}, but cdk.json's "
                                  f"nest_client_id is {self.config.nest_client_id}: run `make credentials` "
                                  f"or fix cdk.json")
            return f"credentials already in {location} (`make credentials` replaces them)"
        client_id, client_secret = prompt_for_credentials(self.config.nest_client_id, self.environ)
        return store_credentials(location, client_id, client_secret, self.s3)

    def deploy_all_stacks(self) -> str:
        self._cdk_deploy("--all")
        return f"all stacks are up to date; outputs in {self.outputs_file}"

    def render_ask_project(self) -> str:
        path = render_ask_project(self.config, self._outputs(), self.ask_project_dir,
                                  profile=ask_cli_profile(self.environ))
        return f"rendered {path}"

    def deploy_skill_package(self) -> str:
        argv = ["ask", "deploy", "--target", "skill-metadata"]
        if self.run(argv, self.ask_project_dir) != 0:
            raise DeployError(f"`{' '.join(argv)}` in {self.ask_project_dir} failed (see its output above)")
        return "skill manifest and interaction models deployed"

    def read_skill_id(self) -> str:
        recorded = read_skill_id(self.ask_project_dir, ask_cli_profile(self.environ))
        if not recorded:
            raise DeployError(f"ask-cli recorded no skill ID in {self.ask_project_dir}/.ask/ask-states.json")
        if self.config.skill_id and recorded != self.config.skill_id:
            raise DeployError(f"ask-cli deployed skill {recorded}, but cdk.json's skill_id is {self.config.skill_id}")
        self._skill_id = recorded
        if self.config.skill_id:
            return f"skill {recorded}"
        return (f"new skill {recorded}: add \"skill_id\": \"{recorded}\" to the context block of cdk.json and "
                f"commit it, so later deploys (and CI) update this skill instead of creating another")

    def update_account_linking(self) -> str:
        outputs = self._outputs()
        secret = None
        if self.config.account_linking == "auth_code":
            stored = read_credentials(CredentialsLocation.from_outputs(outputs), self.s3) or {}
            secret = stored.get("clientsecret")
        request = render_account_linking(self.config, outputs, secret)
        with account_linking_file(request, BUILD_DIR) as path:
            argv = ["ask", "smapi", "update-account-linking-info", "--skill-id", self._skill_id, "--stage",
                    "development", "--account-linking-request", f"file:{path}"]
            if self.run(argv, None) != 0:
                raise DeployError("`ask smapi update-account-linking-info` failed (see its output above)")
        return f"{self.config.account_linking} account linking set on the development stage"

    def bind_trigger(self) -> str:
        if self.config.skill_id:
            return f"the trigger was bound to {self.config.skill_id} in step 3"
        # --all, not just the skill stack: cdk rewrites the outputs file with the stacks it deployed.
        self._cdk_deploy("--all", extra_context=[f"skill_id={self._skill_id}"])
        return f"the Alexa Skills Kit trigger now accepts only {self._skill_id}"

    def redirect_urls(self) -> str:
        urls = self._outputs().require("OAuthRedirectUrls").split(",")
        return "add these to the OAuth client's Authorized redirect URIs in Google Cloud:\n" + "\n".join(
            f"        {url}" for url in urls)

