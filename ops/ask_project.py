"""What the deploy hands to ask-cli: the rendered ASK CLI v2 project and the account-linking request.

skill_package/ holds the skill's definition with no account-specific value. The deploy renders it,
with the Lambda ARN from the CDK outputs and the skill ID from config, into a git-ignored build
directory, because SMAPI takes two things the package cannot carry: the endpoint of this account's
Lambda, and the account-linking settings, which the Skill Package API does not accept at all (so
skill_package/accountLinking.json is left out of the rendered package and sent through
`ask smapi update-account-linking-info` instead).

accountLinking.json keeps the settings that are the same for every deployment. Its `domains` are
the hosts Google's sign-in pages load from, so the Alexa app keeps them inside its login view:
nestservices.google.com (the Partner Connections page), accounts.google.com (sign-in and consent),
google.com, googleapis.com and gstatic.com (scripts, styles and fonts), googleusercontent.com
(account pictures).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ops import BUILD_DIR, REPO_ROOT
from ops.outputs import Outputs
from stacks.config import ALEXA_API_REGIONS, ALEXA_REGIONS, PACKAGE_LOCALES, SKILL_FUNCTION_OUTPUT, AppConfig

SKILL_PACKAGE_DIR = REPO_ROOT / "skill_package"
ACCOUNT_LINKING_TEMPLATE = SKILL_PACKAGE_DIR / "accountLinking.json"
ASK_PROJECT_DIR = BUILD_DIR / "ask-project"
ACCOUNT_LINKING_FILE = "account-linking.json"

ASK_FILES_VERSION = "2020-03-31"
ASK_DEFAULT_PROFILE = "default"
# The profile ask-cli switches to when AWS keys, an ASK token and a vendor ID are all in the
# environment (CI): `profileHelper.runtimeProfile` in ask-cli 2.x.
ASK_ENV_PROFILE = "__ENVIRONMENT_ASK_PROFILE__"

# Google issues a refresh token only for offline access, and on a re-link only with a fresh consent.
GOOGLE_OFFLINE_CONSENT = {"access_type": "offline", "prompt": "consent"}

_LAMBDA_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$"
)


class AskProjectError(Exception):
    """Deploy input that cannot be rendered; the message is the one line shown to the operator."""


def ask_cli_profile(env: Mapping[str, str]) -> str:
    """The profile ask-cli uses when given no --profile, so the rendered project defines that one."""
    if is_env_profile(env):
        return ASK_ENV_PROFILE
    return env.get("ASK_DEFAULT_PROFILE") or ASK_DEFAULT_PROFILE


def wants_env_profile(env: Mapping[str, str]) -> bool:
    """The operator gave ask-cli its credentials in the environment (an ASK token and ASK_VENDOR_ID)."""
    return bool((env.get("ASK_REFRESH_TOKEN") or env.get("ASK_ACCESS_TOKEN")) and env.get("ASK_VENDOR_ID"))


def is_env_profile(env: Mapping[str, str]) -> bool:
    """ask-cli's own rule (`profileHelper.isEnvProfile`, ask-cli 2.x): it reads the ASK variables only
    when AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are exported too, and otherwise ignores them
    and reads ~/.ask/cli_config."""
    return bool(env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY") and wants_env_profile(env))


def ask_cli_problems(env: Mapping[str, str], vendor_id: str, home: Path) -> list[str]:
    """What stops ask-cli, run with `env`, from acting for `vendor_id`: read as ask-cli reads it
    (`profileHelper.runtimeProfile`, `AppConfig.getToken`/`getVendorId`). With the environment form
    the vendor is ASK_VENDOR_ID; otherwise the profile (ASK_DEFAULT_PROFILE, else `default`) must be
    in ~/.ask/cli_config with a token and a vendor ID, which an interrupted `ask configure` leaves out."""
    configure = 'run `make ask ARGS="configure --no-browser"`, or export ASK_REFRESH_TOKEN and ASK_VENDOR_ID'
    if wants_env_profile(env):
        vendor, source = env["ASK_VENDOR_ID"], "ASK_VENDOR_ID"
    else:
        profile = env.get("ASK_DEFAULT_PROFILE") or ASK_DEFAULT_PROFILE
        path = home / ".ask" / "cli_config"
        try:
            profiles = json.loads(path.read_text(encoding="utf-8")).get("profiles")
        except FileNotFoundError:
            return [f"no ask-cli profile ({path} does not exist): {configure}"]
        except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
            return [f"{path} is not ask-cli's JSON configuration: move it aside and {configure}"]
        entry = profiles.get(profile) if isinstance(profiles, dict) else None
        if not isinstance(entry, dict):
            return [
                f"ask-cli has no profile '{profile}' in {path} (an interrupted `ask configure` leaves none): "
                f"{configure}"
            ]
        token = entry.get("token")
        if not isinstance(token, dict) or not (token.get("refresh_token") or token.get("access_token")):
            return [f"ask-cli profile '{profile}' in {path} has no token: {configure}"]
        vendor, source = entry.get("vendor_id") or "", f"ask-cli profile '{profile}'"
        if not vendor:
            return [f"ask-cli profile '{profile}' in {path} has no vendor ID: {configure}"]
    if vendor != vendor_id:
        return [
            f"{source} names vendor {vendor} but alexa_vendor_id is {vendor_id}: they must be the same "
            f"developer account"
        ]
    return []


def render_account_linking(config: AppConfig, outputs: Outputs, client_secret: str | None) -> dict[str, Any]:
    """The body of `ask smapi update-account-linking-info` for config.account_linking.

    auth_code: Alexa signs the user in at Google and keeps the refresh token, so it needs the client
    secret. implicit: Alexa only opens the bridge's /authorize, and the bridge holds the secret.
    """
    template = json.loads(ACCOUNT_LINKING_TEMPLATE.read_text(encoding="utf-8"))["accountLinkingRequest"]
    if config.account_linking == "implicit":
        request = {
            "type": "IMPLICIT",
            "authorizationUrl": outputs.require("BridgeAuthorizeUrl"),
            "clientId": config.nest_client_id,
            "scopes": template["scopes"],
            "domains": template["domains"],
            "skipOnEnablement": template["skipOnEnablement"],
        }
    else:
        if not client_secret or not client_secret.strip():
            raise AskProjectError(
                "auth_code account linking needs the OAuth client secret: store the client credentials "
                "in the secrets bucket first"
            )
        request = {
            **template,
            "authorizationUrl": _with_query(config.authorization_url, GOOGLE_OFFLINE_CONSENT),
            "accessTokenUrl": config.oauth_token_url,
            "clientId": config.nest_client_id,
            "clientSecret": client_secret.strip(),
        }
    return {"accountLinkingRequest": request}


def write_account_linking(request: Mapping[str, Any], build_dir: Path = BUILD_DIR) -> Path:
    """Write the request for `--account-linking-request file:<path>`, readable by the owner only."""
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / ACCOUNT_LINKING_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)
        json.dump(request, file, indent=2)
    return path


@contextlib.contextmanager
def account_linking_file(request: Mapping[str, Any], build_dir: Path = BUILD_DIR) -> Iterator[Path]:
    """The written request for the length of the block; removed afterwards even if the block fails."""
    path = write_account_linking(request, build_dir)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def skill_endpoints(outputs: Outputs) -> dict[str, str]:
    """AWS region -> the skill function's ARN there, from every skill stack's output
    (SkillFunctionArn at home, SkillFunctionArn<code> in the other regions)."""
    endpoints = {}
    for name, arn in outputs.items():
        if name.startswith(SKILL_FUNCTION_OUTPUT):
            if not _LAMBDA_ARN.match(arn):
                raise AskProjectError(f"CDK output '{name}' in {outputs.source} is not a Lambda ARN: {arn!r}")
            endpoints[arn.split(":")[3]] = arn
    return endpoints


def locales_without_endpoint(config: AppConfig, outputs: Outputs) -> list[str]:
    """The configured locales whose Alexa region has no skill function in the outputs: their users'
    smart-home discovery would find no devices."""
    deployed = skill_endpoints(outputs)
    return [f"{locale} ({ALEXA_REGIONS[locale]})" for locale in config.locales if ALEXA_REGIONS[locale] not in deployed]


def smart_home_api(config: AppConfig, outputs: Outputs, skill_id: str) -> dict[str, Any] | None:
    """`apis.smartHome` for this deployment, or None when the skill cannot have one yet.

    None in implicit mode (Alexa's smart home accepts only the authorization-code grant) and while no
    skill ID is known: SMAPI checks that each smart-home endpoint's trigger names the skill, and the
    stacks add that trigger only with the ID. The default endpoint is the home function; `regions`
    maps each configured locale's Alexa region (NA, EU, FE) to the function deployed there.
    """
    if config.account_linking != "auth_code" or not skill_id:
        return None
    deployed = skill_endpoints(outputs)
    regions = {
        ALEXA_API_REGIONS[region]: {"endpoint": {"uri": deployed[region]}}
        for region in config.skill_regions
        if region in deployed
    }
    home = outputs.require(SKILL_FUNCTION_OUTPUT)
    if home.split(":")[3] not in ALEXA_API_REGIONS:
        # Smart-home directives come only from NA, EU and FE's regions (a custom skill may also be in
        # ap-northeast-1): the default endpoint is then one of the regional functions, if any.
        if not regions:
            return None
        home = next(iter(regions.values()))["endpoint"]["uri"]
    return {"endpoint": {"uri": home}, "regions": regions, "protocolVersion": "3"}


# The "Send Alexa Events" permission: Alexa then sends AcceptGrant to every linked user and the
# skill may post to the event gateway (developer.amazon.com/docs/smarthome/send-events-to-the-alexa-event-gateway.html).
SEND_EVENTS_PERMISSION = "alexa::async_event:write"


def sends_events(config: AppConfig, smart_home: dict[str, Any] | None, events_ready: bool = True) -> bool:
    """Whether the manifest asks for SEND_EVENTS_PERMISSION: live state on, a smart-home API (events
    are about its endpoints) and `events_ready`, which the deploy holds False until the AcceptGrant
    handler is deployed and can read its messaging credentials (Alexa sends AcceptGrant to
    already-linked users as soon as the permission appears)."""
    return config.live_state_on and smart_home is not None and events_ready


def render_ask_project(
    config: AppConfig,
    outputs: Outputs,
    build_dir: Path = ASK_PROJECT_DIR,
    profile: str = ASK_DEFAULT_PROFILE,
    skill_id: str = "",
    events_ready: bool = True,
) -> Path:
    """Render the project `ask deploy --target skill-metadata` runs in; returns its directory.

    The package is copied afresh (without accountLinking.json) and pointed at this account's Lambda.
    It keeps only config.locales (their interaction models, store texts and countries), and gives
    each locale the privacy policy and terms of use URLs (config, else the bridge's /privacy and
    /terms). The icons stay `file://assets/...` paths: ask-cli uploads them inside the package.
    .ask/ask-states.json is ask-cli's record of which skill the project deploys to: it is written
    when config names a skill, and otherwise left as a previous `ask deploy` wrote it, since it then
    holds the ID of the skill that deploy created. `apis.smartHome` is rendered by smart_home_api
    for `skill_id` (default: config.skill_id), or left out. `permissions` asks for sending Alexa
    events when sends_events says so, and is otherwise absent (live state off: today's manifest).
    """
    endpoint = outputs.require(SKILL_FUNCTION_OUTPUT)
    if not _LAMBDA_ARN.match(endpoint):
        raise AskProjectError(f"CDK output 'SkillFunctionArn' in {outputs.source} is not a Lambda ARN: {endpoint!r}")
    smart_home = smart_home_api(config, outputs, skill_id or config.skill_id)
    package_dir = build_dir / "skill-package"
    if package_dir.exists():
        shutil.rmtree(package_dir)
    unused_models = [f"{locale}.json" for locale in PACKAGE_LOCALES if locale not in config.locales]
    shutil.copytree(
        SKILL_PACKAGE_DIR, package_dir, ignore=shutil.ignore_patterns(ACCOUNT_LINKING_TEMPLATE.name, *unused_models)
    )
    manifest_path = package_dir / "skill.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))["manifest"]
    manifest["apis"]["custom"]["endpoint"] = {"uri": endpoint}
    if smart_home is None:
        del manifest["apis"]["smartHome"]
    else:
        manifest["apis"]["smartHome"] = smart_home
    if sends_events(config, smart_home, events_ready):
        manifest["permissions"] = [{"name": SEND_EVENTS_PERMISSION}]
    else:
        manifest.pop("permissions", None)
    publishing = manifest["publishingInformation"]
    publishing["locales"] = {locale: publishing["locales"][locale] for locale in config.locales}
    publishing["distributionCountries"] = list(dict.fromkeys(locale.split("-")[1] for locale in config.locales))
    base_url = outputs.require("BridgeBaseUrl")
    manifest["privacyAndCompliance"]["locales"] = {
        locale: {
            "privacyPolicyUrl": config.page_url(base_url, "privacy"),
            "termsOfUseUrl": config.page_url(base_url, "terms"),
        }
        for locale in config.locales
    }
    _write_json(manifest_path, {"manifest": manifest})
    _write_json(
        build_dir / "ask-resources.json",
        {
            "askcliResourcesVersion": ASK_FILES_VERSION,
            "profiles": {profile: {"skillMetadata": {"src": "./skill-package"}}},
        },
    )
    if config.skill_id:
        _pin_skill_id(build_dir, profile, config.skill_id)
    return build_dir


def read_skill_id(build_dir: Path = ASK_PROJECT_DIR, profile: str = ASK_DEFAULT_PROFILE) -> str | None:
    """The skill the project deploys to, as ask-cli recorded it; None before the first `ask deploy`."""
    states = _read_states(build_dir)
    skill_id = ((states or {}).get("profiles", {}).get(profile) or {}).get("skillId")
    return skill_id or None


def _pin_skill_id(build_dir: Path, profile: str, skill_id: str) -> None:
    """Point ask-cli at the configured skill, keeping its deploy hashes while it is the same skill."""
    states = _read_states(build_dir) or {"askcliStatesVersion": ASK_FILES_VERSION, "profiles": {}}
    profiles = states.setdefault("profiles", {})
    if (profiles.get(profile) or {}).get("skillId") != skill_id:
        profiles[profile] = {"skillId": skill_id}
        _write_json(_states_path(build_dir), states)


def _read_states(build_dir: Path) -> dict[str, Any] | None:
    path = _states_path(build_dir)
    try:
        states = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as error:
        raise AskProjectError(f"{path} is not valid JSON ({error}): delete it and set skill_id in config") from None
    if not isinstance(states, dict) or not isinstance(states.get("profiles", {}), dict):
        raise AskProjectError(f"{path} is not an ask-cli states file: delete it and set skill_id in config")
    return states


def _states_path(build_dir: Path) -> Path:
    return build_dir / ".ask" / "ask-states.json"


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))
