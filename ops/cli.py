"""`python -m ops`: the operator commands behind `make credentials`, `make render`, `make deploy` and `make destroy`.

Config is the CDK app's own (the owner's nest-skill.json, cdk.json's context, `-c key=value`), so
these commands and `cdk` always agree. Every failure is one clear message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import ops.settings
from ops import REPO_ROOT
from ops.ask_project import AskProjectError, ask_cli_profile, render_account_linking, render_ask_project
from ops.aws import AwsSetupError, aws_clients
from ops.credentials import (
    CredentialsError,
    CredentialsLocation,
    describe_credentials,
    prompt_for_credentials,
    store_credentials,
    stored_credentials,
)
from ops.deploy import ENVIRONMENT, OUTPUTS_FILE, STEPS, Deployer, DeployError
from ops.destroy import Destroyer, DestroyError
from ops.outputs import OutputsError, load_outputs
from ops.rotate import RotationError, SecretRotation
from stacks.config import SETTINGS_FILE_NAME, AppConfig, ConfigError


def load_config(context_args: list[str], cdk_json: Path | None = None) -> AppConfig:
    """The config `cdk` builds: the owner's settings, cdk.json's context, then the `-c` pairs. The
    settings file is the project's (ops.settings.SETTINGS_FILE), or the one beside a `cdk_json` given."""
    settings_file = cdk_json.parent / SETTINGS_FILE_NAME if cdk_json else ops.settings.SETTINGS_FILE
    cdk_json = cdk_json or REPO_ROOT / "cdk.json"
    context = dict(json.loads(cdk_json.read_text()).get("context", {}))
    for pair in context_args:
        key, separator, value = pair.partition("=")
        if not separator:
            raise ConfigError(f"-c {pair!r}: expected key=value")
        context[key] = value
    return AppConfig.from_project(context, settings_file, cdk_json)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a cdk.json context value, as with cdk",
    )
    common.add_argument(
        "--outputs",
        type=Path,
        default=OUTPUTS_FILE,
        help=f"the `cdk deploy --outputs-file` to read (default {OUTPUTS_FILE.relative_to(REPO_ROOT)})",
    )
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    credentials = commands.add_parser("credentials", help="the OAuth client credentials in the secrets bucket")
    credentials_commands = credentials.add_subparsers(dest="action", required=True)
    store = credentials_commands.add_parser(
        "store",
        parents=[common],
        help="store NEST_CLIENT_ID / NEST_CLIENT_SECRET (or prompt) with a new state key for the bridge",
    )
    store.add_argument("--if-missing", action="store_true", help="leave complete stored credentials alone")
    credentials_commands.add_parser(
        "show",
        parents=[common],
        help="print what is stored (from the object's tags; the object itself is the bridge's to read)",
    )
    credentials_commands.add_parser(
        "rotate",
        parents=[common],
        help="put a new client secret (NEST_CLIENT_SECRET or prompt) in the bucket and, in auth_code mode, in "
        "Alexa's account linking; then say when the old one may be disabled",
    )
    commands.add_parser(
        "render",
        parents=[common],
        help="render build/ask-project and print the account-linking request (secret redacted)",
    )
    commands.add_parser(
        "deploy",
        parents=[common],
        help="the whole ordered deploy (see docs/deploy/deploy.md)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Checks every prerequisite first, then runs these steps; each is safe to repeat:\n"
        + "\n".join(f"  {number}. {name}" for number, (name, _) in enumerate(STEPS, start=1)),
        epilog="environment:\n" + "\n".join(f"  {name}\n      {meaning}" for name, meaning in ENVIRONMENT),
    )
    destroy = commands.add_parser(
        "destroy",
        parents=[common],
        help="remove the skill and bridge stacks and the Alexa skill; list what is kept and how to remove it",
    )
    destroy.add_argument("--yes", action="store_true", help="do not ask for confirmation (CI)")
    return parser


def run(args: argparse.Namespace) -> None:
    config = load_config(args.context)
    if args.command == "deploy":
        Deployer(config, args.context, outputs_file=args.outputs).deploy()
        return
    if args.command == "credentials" and args.action == "rotate":
        SecretRotation(config, args.context, outputs_file=args.outputs).rotate()
        return
    if args.command == "destroy":
        Destroyer(config, args.context, outputs_file=args.outputs).destroy(confirmed=args.yes)
        return
    outputs = load_outputs(args.outputs)
    if args.command == "render":
        if config.keys_with_example_values():
            print(
                f"warning: {', '.join(config.keys_with_example_values())} still hold the example values "
                "(set them in nest-skill.json): the rendered project cannot link a real account",
                file=sys.stderr,
            )
        path = render_ask_project(config, outputs, profile=ask_cli_profile(os.environ))
        request = render_account_linking(
            config, outputs, "<redacted>" if config.account_linking == "auth_code" else None
        )
        print(f"rendered {path}\naccount-linking request ({config.account_linking}):\n" + json.dumps(request, indent=2))
        return
    location = CredentialsLocation.from_outputs(outputs)
    s3 = aws_clients(os.environ)("s3")
    if args.action == "show":
        print(describe_credentials(location, s3))
        return
    stored = stored_credentials(location, s3)
    if args.if_missing and stored is not None and stored.is_complete:
        print(f"credentials already in {location}; left as they are")
        return
    client_id, client_secret = prompt_for_credentials(config.nest_client_id)
    print(store_credentials(location, client_id, client_secret, s3))


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except (
        ConfigError,
        OutputsError,
        CredentialsError,
        AskProjectError,
        DeployError,
        DestroyError,
        RotationError,
        AwsSetupError,
    ) as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        sys.exit("interrupted: nothing after the last finished step was changed")
