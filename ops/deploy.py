"""`make deploy`: the ordered flow for a real AWS account and Alexa developer account.

Every step is safe to repeat: CloudFormation and ask-cli skip what is unchanged, stored credentials
are kept, and the skill ID ask-cli creates is written to the owner's settings file (nest-skill.json,
which neither `make clean` nor `git pull` touches) and passed to every `cdk deploy`, so later deploys
update that skill and its trigger never loses its binding. Prerequisites, including who the AWS
credentials are, each needed region's CDK bootstrap, ask-cli's credentials and what the account must
allow, are all checked before the first change; a failing step stops the flow with what failed and
what to run next. The CLIs it runs get its environment without NEST_CLIENT_SECRET: none of them
needs it (the account-linking update reads the secret from a file written for it).

With live state on, the skill's Alexa Skill Messaging credentials go from SMAPI to their object
(ops.messaging) once the stacks are deployed and the skill ID is known, and only then does the
manifest ask for the "Send Alexa Events" permission: Alexa sends AcceptGrant to every linked user
as soon as the permission appears, and the handler must be live and able to read its credentials.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

import ops.settings
from ops import BUILD_DIR
from ops.ask_project import (
    ASK_PROJECT_DIR,
    AskProjectError,
    account_linking_file,
    ask_cli_problems,
    ask_cli_profile,
    locales_without_endpoint,
    read_skill_id,
    render_account_linking,
    render_ask_project,
    sends_events,
    smart_home_api,
    wants_env_profile,
)
from ops.aws import (
    ALEXA_LAMBDA_REGIONS,
    BOOTSTRAP_MIN_VERSION,
    AwsSetupError,
    Clients,
    Identity,
    aws_clients,
    aws_region,
    aws_session,
    bootstrap_parameter,
    bootstrap_state,
    caller_identity,
    is_access_denied,
)
from ops.credentials import (
    CLIENT_SECRET_ENV,
    CredentialsError,
    CredentialsLocation,
    has_terminal,
    prompt_for_credentials,
    prompt_for_secret,
    store_credentials,
    stored_credentials,
)
from ops.messaging import Capture, MessagingError, capture_command, ensure_messaging_credentials
from ops.nest_events import setup_text
from ops.outputs import Outputs, OutputsError, load_outputs
from ops.settings import record_skill_id
from stacks.config import (
    ALEXA_REGIONS,
    BRIDGE_STACK,
    EVENTS_URL_OUTPUT,
    SECRETS_STACK,
    AppConfig,
    regional_skill_stack,
)

OUTPUTS_FILE = BUILD_DIR / "cdk-outputs.json"
# Reservations must leave this much of the account's concurrency unreserved (Lambda API reference,
# PutFunctionConcurrency); the quota itself is Service Quotas' L-B99A9384, "Concurrent executions".
LAMBDA_MIN_UNRESERVED = 100
Runner = Callable[[Sequence[str], Path | None, Mapping[str, str]], int]
# The IAM actions of the reads the prerequisite check makes, by API operation (docs/deploy/permissions.md).
_CHECK_ACTIONS = {
    "GetParameter": "ssm:GetParameter",
    "GetAccountSettings": "lambda:GetAccountSettings",
    "GetFunctionConcurrency": "lambda:GetFunctionConcurrency",
    "DescribeStackResources": "cloudformation:DescribeStackResources",
    "ListAvailableSolutionStacks": "elasticbeanstalk:ListAvailableSolutionStacks",
}
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
    (
        "NEST_CLIENT_SECRET",
        "the OAuth client secret (else prompted for): stored if the bucket holds none, and "
        "in auth_code mode handed to Alexa on every deploy",
    ),
    ("NEST_CLIENT_ID", "the OAuth client ID to store (default: nest_client_id)"),
    ("AWS_PROFILE, AWS_REGION, AWS_*", "the AWS account and region, as for the AWS CLI"),
    (
        "ASK_REFRESH_TOKEN, ASK_VENDOR_ID",
        "ask-cli's credentials without a profile (CI); the vendor must be "
        "alexa_vendor_id. ask-cli reads them only beside AWS keys in the "
        "environment: with a profile or SSO, the deploy hands ask-cli the "
        "profile's resolved keys",
    ),
    ("ASK_ACCESS_TOKEN, ASK_DEFAULT_PROFILE", "the other ask-cli settings the rendered project follows"),
    ("CI", "'true' refuses to deploy without skill_id in nest-skill.json or -c"),
    ("PATH", "where cdk and ask are found (make puts node_modules/.bin first)"),
)


class DeployError(RuntimeError):
    """The deploy cannot go on; the message says why and what to do."""


def missing_tools(environ: Mapping[str, str]) -> list[str]:
    """A problem line for each of the CLIs the deploy and destroy run that is not on PATH."""
    return [
        f"'{tool}' is not on PATH: run it through make, which installs node_modules"
        for tool in ("cdk", "ask")
        if not shutil.which(tool, path=environ.get("PATH"))
    ]


def run_command(argv: Sequence[str], cwd: Path | None, env: Mapping[str, str]) -> int:
    """Runs a CLI with exactly `env` and its output on the terminal; returns its exit code."""
    return subprocess.run(list(argv), cwd=cwd, env=dict(env)).returncode


def _say(line: str) -> None:
    """Flushed: on a pipe (CI) each step line must come out before the output of the tools it runs."""
    print(line, flush=True)


@dataclass
class Operation:
    """What `make deploy` and `make destroy` share: config, the `-c` pairs to hand on to cdk, the
    environment, the runner of cdk and ask-cli, the files they keep under build/, the owner's settings
    file, and the output."""

    config: AppConfig
    context_args: Sequence[str] = ()
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    run: Runner = run_command
    outputs_file: Path = OUTPUTS_FILE
    ask_project_dir: Path = ASK_PROJECT_DIR
    settings_file: Path = field(default_factory=lambda: ops.settings.SETTINGS_FILE)
    clients: Clients = field(init=False)
    say: Callable[[str], None] = _say
    aws: InitVar[Clients | None] = None
    """The boto3 client factory `clients` is (tests pass fakes or moto's); default: aws_clients(environ)."""

    def __post_init__(self, aws: Clients | None) -> None:
        self.clients = aws or aws_clients(self.environ)

    @property
    def child_environ(self) -> dict[str, str]:
        """What `cdk` runs with: this environment without the client secret (`ask` gets ask_environ)."""
        return {name: value for name, value in self.environ.items() if name != CLIENT_SECRET_ENV}

    @property
    def ask_environ(self) -> dict[str, str]:
        """What `ask` runs with: child_environ, and when the operator exported ASK_REFRESH_TOKEN (or
        ASK_ACCESS_TOKEN) and ASK_VENDOR_ID but the AWS credentials come from a profile or SSO, those
        credentials resolved into AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN: ask-cli
        ignores its variables without them (ops.ask_project.is_env_profile). Only ask gets them."""
        environ = self.child_environ
        if not wants_env_profile(environ) or (
            environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY")
        ):
            return environ
        try:
            credentials = aws_session().get_credentials()
            frozen = credentials.get_frozen_credentials() if credentials else None
        except (AwsSetupError, BotoCoreError):
            frozen = None
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            return environ
        environ.update(AWS_ACCESS_KEY_ID=frozen.access_key, AWS_SECRET_ACCESS_KEY=frozen.secret_key)
        if frozen.token:
            environ["AWS_SESSION_TOKEN"] = frozen.token
        return environ

    @property
    def ask_profile(self) -> str:
        """The ask-cli profile `ask` runs as, which the rendered project must define."""
        return ask_cli_profile(self.ask_environ)

    def context_argv(self, extra: Sequence[str] = ()) -> list[str]:
        """The `-c key=value` arguments for cdk, so it synthesizes the same config."""
        return [arg for pair in (*self.context_args, *extra) for arg in ("-c", pair)]

    def send_account_linking(self, outputs: Outputs, skill_id: str, client_secret: str | None) -> dict:
        """`ask smapi update-account-linking-info` for the development stage with this config's request;
        returns the request sent. The secret reaches ask-cli only in a file readable by the owner,
        removed afterwards (ops.ask_project.account_linking_file), never in its argv or environment."""
        request = render_account_linking(self.config, outputs, client_secret)
        with account_linking_file(request, BUILD_DIR) as path:
            argv = [
                "ask",
                "smapi",
                "update-account-linking-info",
                "--skill-id",
                skill_id,
                "--stage",
                "development",
                "--account-linking-request",
                f"file:{path}",
            ]
            if self.run(argv, None, self.ask_environ) != 0:
                raise DeployError("`ask smapi update-account-linking-info` failed (see its output above)")
        return request


@dataclass
class Deployer(Operation):
    _skill_id: str = field(default="", init=False)
    _bound_skill_id: str | None = field(default=None, init=False)
    _client_secret: str | None = field(default=None, init=False)
    _smart_home_rendered: bool = field(default=False, init=False)
    # Live state: the messaging credentials are stored (the manifest may ask for events), and whether it does.
    _events_ready: bool = field(default=False, init=False)
    _events_rendered: bool = field(default=False, init=False)
    # How `ask smapi get-skill-credentials` runs: its answer (the messaging secret) is read from a pipe.
    capture: Capture = capture_command

    def deploy(self) -> None:
        self.check_prerequisites()
        if self.config.account_linking == "auth_code":
            # Step 7 hands the secret to Alexa, and nobody but the bridge can read it back: ask now, not midway.
            self._client_secret = prompt_for_secret(self.environ)
        region = aws_region(self.environ)[0]
        if region:  # check_prerequisites stops a deploy without one
            self.warn_about_region(region)
        for number, (name, method) in enumerate(STEPS, start=1):
            self.say(f"[{number}/{len(STEPS)}] {name}")
            try:
                done = getattr(self, method)()
            except (
                DeployError,
                CredentialsError,
                MessagingError,
                OutputsError,
                AskProjectError,
                OSError,
                ValueError,
            ) as error:
                raise DeployError(
                    f"step {number} ({name}) failed: {error}\n"
                    f"Fix that, then run `make deploy` again: the steps before it are safe to repeat."
                ) from None
            self.say(f"      {done}")
        if self.config.live_state_on:
            self.say(self.nest_events_setup())

    def nest_events_setup(self) -> str:
        """Live state: the owner's Google side of Nest events, with their values and the EventsUrl output."""
        try:
            events_url = self._outputs().require(EVENTS_URL_OUTPUT)
        except OutputsError as error:
            raise DeployError(f"the Nest events set-up cannot be shown: {error}") from None
        return "      " + setup_text(self.config, events_url)

    def check_prerequisites(self) -> None:
        """Everything missing, named at once, before anything changes: config, tools, who the AWS
        credentials are (STS, once), the region, each needed region's CDK bootstrap, ask-cli's
        credentials as ask-cli reads them, and what the account must allow."""
        problems = [
            f"set '{key}' in {self.settings_file.name} (it still has the example value)"
            for key in self.config.keys_with_example_values()
        ]
        problems += self.config.events_problems(self.settings_file.name)
        problems += missing_tools(self.environ)
        identity = None
        try:
            region, source = aws_region(self.environ)
        except AwsSetupError as error:  # the profile does not exist: that is the one problem to name
            problems.append(str(error))
            region, source = None, ""
        else:
            try:
                identity = caller_identity(self.clients, self.environ, region)
            except AwsSetupError as error:
                problems.append(str(error))
        allowed = ", ".join(ALEXA_LAMBDA_REGIONS)
        if not source:
            pass
        elif not region:
            problems.append(f"no AWS region: set AWS_REGION to one where Alexa can call the skill's Lambda ({allowed})")
        elif region not in ALEXA_LAMBDA_REGIONS:
            problems.append(
                f"AWS region {region} (from {source}) cannot host the skill: Alexa calls custom-skill "
                f"Lambdas only in {allowed}; set AWS_REGION to one of them"
            )
        elif identity:
            problems.extend(self._bootstrap_problems(identity, region))
        problems += ask_cli_problems(self.ask_environ, self.config.alexa_vendor_id, Path.home())
        if (
            self.config.account_linking == "auth_code"
            and not self.environ.get(CLIENT_SECRET_ENV, "").strip()
            and not has_terminal()
        ):
            problems.append(
                f"set {CLIENT_SECRET_ENV}: auth_code account linking hands the client secret to Alexa "
                f"on every deploy, and there is no terminal to prompt for it"
            )
        if self.environ.get("CI") == "true" and not self.config.skill_id:
            problems.append(
                f"in CI, set 'skill_id' in {self.settings_file.name} (or -c skill_id=...): a fresh clone "
                f"has no record of the skill, so every run would create a new one (deploy once from "
                f"a workstation to get the ID)"
            )
        try:
            self._skill_id = self.config.skill_id or read_skill_id(self.ask_project_dir, self.ask_profile) or ""
        except AskProjectError as error:
            problems.append(str(error))
        if identity and region in ALEXA_LAMBDA_REGIONS:
            problems.extend(self._account_problems(region))
        if problems:
            raise DeployError("cannot deploy yet:\n  - " + "\n  - ".join(problems))

    def _bootstrap_problems(self, identity: Identity, home: str) -> list[str]:
        """Each region the stacks go to (home, and the locales' other Alexa regions) must have CDK's
        bootstrap: one line naming those without it, with the one command that bootstraps them all,
        and one line per region whose parameter the credentials may not read."""
        regions = (home, *self.config.regional_skill_regions(home))
        served = {
            region: [locale for locale in self.config.locales if ALEXA_REGIONS[locale] == region] for region in regions
        }
        states = []
        for region in regions:
            try:
                states.append(bootstrap_state(self.clients, region))
            except (ClientError, BotoCoreError) as error:
                return [f"cannot read CDK's bootstrap parameter in {region}: {_error_code(error)}"]
        problems = [
            f"cannot tell whether CDK is bootstrapped in {state.region}: {identity.arn} may not "
            f"{state.denied} on {bootstrap_parameter()} (see docs/deploy/permissions.md)"
            for state in states
            if state.denied
        ]
        missing = [state for state in states if not state.denied and not state.ready]
        if missing:
            described = ", ".join(
                state.region
                + (
                    f" (version {state.version}, older than {BOOTSTRAP_MIN_VERSION})"
                    if state.version is not None
                    else ""
                )
                + (f" for {', '.join(served[state.region])}" if served[state.region] else " (home region)")
                for state in missing
            )
            command = " ".join(
                ["node_modules/.bin/cdk bootstrap", *(f"aws://{identity.account}/{state.region}" for state in missing)]
            )
            problems.append(f"CDK is not bootstrapped in {described}: run `{command}`")
        return problems

    def warn_about_region(self, region: str) -> None:
        """Alexa calls the skill's Lambda from the Alexa region of the user's locale (North America
        us-east-1, Europe and India eu-west-1, Far East and Australia us-west-2); from elsewhere each
        request crosses an ocean or a continent, which eats into Alexa's 8 s."""
        far = {locale: ALEXA_REGIONS[locale] for locale in self.config.locales if ALEXA_REGIONS[locale] != region}
        if far:
            served = ", ".join(f"{locale} from {alexa_region}" for locale, alexa_region in far.items())
            self.say(
                f"warning: deploying to {region}, but Alexa serves {served}: their requests travel to {region}. "
                f"Set 'locales' to your Echo's language and deploy in its region (docs: deploy/configuration.md)"
            )

    def _account_problems(self, region: str) -> list[str]:
        """What this account cannot do that the config asks for: read from its APIs, changing nothing."""
        problems = []
        try:
            if self.config.bridge_hosting == "beanstalk":
                available = self.clients("elasticbeanstalk").list_available_solution_stacks()["SolutionStacks"]
                if self.config.beanstalk_solution_stack not in available:
                    problems.append(
                        f"beanstalk_solution_stack '{self.config.beanstalk_solution_stack}' is not available "
                        f"in {region}: set a current one from `aws elasticbeanstalk list-available-solution-stacks`"
                    )
            cap = self.config.bridge_concurrency_cap
            if cap is not None:
                problems.extend(self._concurrency_problems(cap, region))
        except (ClientError, BotoCoreError) as error:
            problems.append(
                f"cannot read this account's settings in {region} to check the config: {_error_code(error)}"
            )
        return problems

    def _concurrency_problems(self, cap: int, region: str) -> list[str]:
        """Whether Lambda can reserve `cap` for the bridge and still leave the account its minimum."""
        limits = self.clients("lambda").get_account_settings()["AccountLimit"]
        quota, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
        reservable = unreserved + self._bridge_reservation() - LAMBDA_MIN_UNRESERVED
        if cap <= reservable:
            return []
        return [
            f"bridge_reserved_concurrency = {cap} cannot be applied in {region}: the account's Lambda "
            f"'Concurrent executions' quota (L-B99A9384) is {quota}, {unreserved} of it unreserved, and Lambda "
            f"keeps {LAMBDA_MIN_UNRESERVED} unreserved, so at most {max(reservable, 0)} can be reserved; "
            f"leave the key empty or raise the quota in Service Quotas"
        ]

    def _bridge_reservation(self) -> int:
        """What the deployed bridge function reserves now (0 if none): redeploying frees it first."""
        try:
            resources = self.clients("cloudformation").describe_stack_resources(StackName=BRIDGE_STACK)[
                "StackResources"
            ]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ValidationError":  # no such stack yet
                return 0
            raise
        function = next(
            (r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::Function"), None
        )
        if function is None:
            return 0
        return (
            self.clients("lambda")
            .get_function_concurrency(FunctionName=function)
            .get("ReservedConcurrentExecutions", 0)
        )

    def _cdk_deploy(self, *stacks: str) -> None:
        """`cdk deploy`, with the skill ID whenever one is known, so the trigger keeps its binding."""
        self.outputs_file.parent.mkdir(parents=True, exist_ok=True)
        extra = [f"skill_id={self._skill_id}"] if self._skill_id and not self.config.skill_id else []
        argv = [
            "cdk",
            "deploy",
            *stacks,
            "--require-approval",
            "never",
            "--outputs-file",
            str(self.outputs_file),
            *self.context_argv(extra),
        ]
        if self.run(argv, None, self.child_environ) != 0:
            raise DeployError(f"`{' '.join(argv)}` failed (see its output above)")
        if "--all" in stacks:
            self._bound_skill_id = self._skill_id

    def _outputs(self) -> Outputs:
        return load_outputs(self.outputs_file)

    def deploy_secrets_stack(self) -> str:
        self._cdk_deploy(SECRETS_STACK)
        return f"{SECRETS_STACK} is up to date"

    def store_credentials_if_missing(self) -> str:
        location = CredentialsLocation.from_outputs(self._outputs())
        stored = stored_credentials(location, self.clients("s3"))
        if stored is not None and stored.is_complete:
            if stored.client_id != self.config.nest_client_id:
                raise DeployError(
                    f"{location} holds client ID {stored.client_id}, but cdk.json's "
                    f"nest_client_id is {self.config.nest_client_id}: run `make credentials` "
                    f"or fix cdk.json"
                )
            return f"credentials already in {location} (`make credentials` replaces them)"
        environ = {**self.environ, CLIENT_SECRET_ENV: self._client_secret} if self._client_secret else self.environ
        client_id, self._client_secret = prompt_for_credentials(self.config.nest_client_id, environ)
        return store_credentials(location, client_id, self._client_secret, self.clients("s3"))

    def deploy_all_stacks(self) -> str:
        """`cdk deploy --all`; with live state on and the skill known, then its messaging credentials
        (the AcceptGrant handler is live from here on, so step 4 may ask for the permission)."""
        self._cdk_deploy("--all")
        regional = [regional_skill_stack(r) for r in self.config.regional_skill_regions(aws_region(self.environ)[0])]
        also = f" (with {', '.join(regional)} for the locales' other Alexa regions)" if regional else ""
        done = f"all stacks are up to date{also}; outputs in {self.outputs_file}"
        if self.config.live_state_on and self.config.skill_id:
            done += "\n      " + self._store_messaging_credentials(self.config.skill_id)
        return done

    def _store_messaging_credentials(self, skill_id: str) -> str:
        """Live state: the skill's messaging client from SMAPI into its object (ops.messaging)."""
        done = ensure_messaging_credentials(
            skill_id, self._outputs(), self.clients("s3"), self.ask_environ, self.capture
        )
        self._events_ready = True
        return done

    def render_ask_project(self) -> str:
        """The ASK project, with apis.smartHome when it can have one (ops.ask_project.smart_home_api);
        names each configured locale no deployed skill function serves."""
        outputs = self._outputs()
        path = render_ask_project(
            self.config,
            outputs,
            self.ask_project_dir,
            profile=self.ask_profile,
            skill_id=self._skill_id,
            events_ready=self._events_ready,
        )
        self._smart_home_rendered = smart_home_api(self.config, outputs, self._skill_id) is not None
        # What the manifest now says (render_ask_project also takes the configured skill ID).
        self._events_rendered = sends_events(
            self.config,
            smart_home_api(self.config, outputs, self._skill_id or self.config.skill_id),
            self._events_ready,
        )
        lines = [f"rendered {path}"]
        if self.config.account_linking != "auth_code":
            lines.append("no smart-home API: Alexa's smart home requires account_linking auth_code")
        elif not self._smart_home_rendered:
            lines.append("apis.smartHome is added in step 8, once the skill ID is known")
        else:
            lines += [
                f"warning: no skill function serves {locale}: Alexa finds no smart-home devices there; "
                f"deploy again from a region with credentials for it"
                for locale in locales_without_endpoint(self.config, outputs)
            ]
        return "\n      ".join(lines)

    def deploy_skill_package(self) -> str:
        argv = ["ask", "deploy", "--target", "skill-metadata"]
        code = self.run(argv, self.ask_project_dir, self.ask_environ)
        # ask-cli writes the new skill's ID before its import finishes: keep it even when the import failed.
        self._record_new_skill()
        if code != 0:
            raise DeployError(f"`{' '.join(argv)}` in {self.ask_project_dir} failed (see its output above)")
        return "skill manifest and interaction models deployed"

    def _record_new_skill(self) -> str | None:
        """The skill ID ask-cli recorded under build/, copied to the settings file when config has
        none, so `make clean` cannot make the next deploy create a second skill."""
        recorded = read_skill_id(self.ask_project_dir, self.ask_profile)
        if recorded and not self.config.skill_id:
            record_skill_id(self.settings_file, recorded)
        return recorded

    def read_skill_id(self) -> str:
        recorded = self._record_new_skill()
        if not recorded:
            raise DeployError(f"ask-cli recorded no skill ID in {self.ask_project_dir}/.ask/ask-states.json")
        if self.config.skill_id and recorded != self.config.skill_id:
            raise DeployError(
                f"ask-cli deployed skill {recorded}, but the configured skill_id is {self.config.skill_id}"
            )
        self._skill_id = recorded
        if self.config.skill_id:
            return f"skill {recorded}"
        return (
            f'new skill {recorded}: recorded as "skill_id" in {self.settings_file.name}, so later deploys '
            f"update this skill instead of creating another. Keep that file; for CI, commit it in your "
            f"fork (`git add -f {self.settings_file.name}`) or pass -c skill_id={recorded}"
        )

    def update_account_linking(self) -> str:
        secret = self._client_secret if self.config.account_linking == "auth_code" else None
        self.send_account_linking(self._outputs(), self._skill_id, secret)
        return f"{self.config.account_linking} account linking set on the development stage"

    def bind_trigger(self) -> str:
        """Bind the triggers to the skill ID; on a skill's first deploy this adds the smart-home
        trigger, and then the manifest's apis.smartHome (SMAPI refuses it before the trigger exists)."""
        if self._bound_skill_id == self._skill_id:
            done = f"the triggers were bound to {self._skill_id} in step 3"
        else:
            # --all, not just the skill stack: cdk rewrites the outputs file with the stacks it deployed.
            self._cdk_deploy("--all")
            done = f"the Alexa triggers now accept only {self._skill_id}"
        events_missing = self.config.live_state_on and not self._events_rendered
        if self.config.account_linking == "auth_code" and (not self._smart_home_rendered or events_missing):
            added = [] if self._smart_home_rendered else ["apis.smartHome"]
            if events_missing:
                # The triggers name the skill now: its AcceptGrant handler can be reached and answer.
                if not self._events_ready:
                    done += "\n      " + self._store_messaging_credentials(self._skill_id)
                added.append("the Send Alexa Events permission")
            rendered = self.render_ask_project()
            self.deploy_skill_package()
            done += f"; {' and '.join(added)} added to the skill manifest\n      {rendered}"
        return done

    def redirect_urls(self) -> str:
        urls = self._outputs().require("OAuthRedirectUrls").split(",")
        return "add these to the OAuth client's Authorized redirect URIs in Google Cloud:\n" + "\n".join(
            f"        {url}" for url in urls
        )


def _error_code(error: Exception) -> str:
    """A boto error as one line: its code, and for AccessDenied the IAM action that was refused."""
    if not isinstance(error, ClientError):
        return type(error).__name__
    if is_access_denied(error):
        action = _CHECK_ACTIONS.get(error.operation_name, error.operation_name)
        return f"AccessDenied: the credentials may not {action} (see docs/deploy/permissions.md)"
    return error.response.get("Error", {}).get("Code", "") or str(error)
