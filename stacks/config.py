"""The project's one typed configuration, built from the owner's settings and CDK context.

The owner's values live in nest-skill.json beside cdk.json: a JSON object of the keys below, which
the repository never ships (it is git-ignored), so `git pull` never touches it and `make clean`
never removes it. cdk.json is the project's own file (the CDK's feature flags); `-c key=value`
overrides either for one run. Both the CDK app and the operator CLI build the config here
(AppConfig.from_project), so a value means the same thing to each, and a bad value stops them with
one line naming the key, the value and what is allowed. This module imports nothing from aws_cdk:
the operator CLI uses it without loading the CDK.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

GOOGLE_PCM_AUTH_URL = "https://nestservices.google.com/partnerconnections/{project_id}/auth"
GOOGLE_TOKEN_URL = "https://www.googleapis.com/oauth2/v4/token"
SDM_API_BASE_URL = "https://smartdevicemanagement.googleapis.com/v1"
SDM_SCOPE = "https://www.googleapis.com/auth/sdm.service"
ALEXA_REDIRECT_HOSTS = ("pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp")
# The owner's settings file, beside cdk.json; git-ignored, so an update never changes it.
SETTINGS_FILE_NAME = "nest-skill.json"
# An environment variable naming another settings file: the local rehearsal names its own, so an owner's
# nest-skill.json never reaches it.
SETTINGS_ENV = "NEST_SKILL_SETTINGS"
SECRETS_STACK = "NestSkillSecrets"
SKILL_STACK = "NestSkill"
BRIDGE_STACK = "NestSkillBridge"
# The skill stacks' output naming the skill function; a regional stack's adds its Alexa region code
# (SkillFunctionArnEU), so the one outputs file keeps them apart.
SKILL_FUNCTION_OUTPUT = "SkillFunctionArn"
# Live state's events function (Nest's events through the owner's Pub/Sub push subscription): its
# role's fixed name is NestSkillEvents-<region>; its function URL is the home skill stack's output
# EventsUrl, the subscription's push endpoint.
EVENTS_ROLE_PREFIX = "NestSkillEvents"
EVENTS_URL_OUTPUT = "EventsUrl"
# The push subscription's acknowledgement deadline, in seconds: the events function's timeout, and
# what `--ack-deadline` is set to (Pub/Sub's default; 10 to 600 may be set).
EVENTS_ACK_DEADLINE_S = 10
DEFAULT_EVENTS_AUDIENCE = "nest-skill-events"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_PATTERNS = {
    "nest_project_id": (re.compile(rf"^{_UUID}$"), "a Device Access project ID (a lowercase UUID)"),
    "nest_client_id": (
        re.compile(r"^[0-9]+-[0-9a-z]+\.apps\.googleusercontent\.com$"),
        "a Google OAuth client ID (<digits>-<id>.apps.googleusercontent.com)",
    ),
    "alexa_vendor_id": (re.compile(r"^[A-Z0-9]{8,20}$"), "an Alexa vendor ID (8-20 uppercase letters and digits)"),
    "skill_id": (re.compile(rf"^(|amzn1\.ask\.skill\.{_UUID})$"), "empty or amzn1.ask.skill.<uuid>"),
    "secrets_object_key": (
        re.compile(r"^(?!/)(?!.*\.\.)[A-Za-z0-9!_.*'()/-]{1,512}$"),
        "an S3 object key (letters, digits, !_.*'()/-; no leading '/', no '..')",
    ),
    "beanstalk_solution_stack": (
        re.compile(r"^(|64bit Amazon Linux 2023 v\d+\.\d+\.\d+ running Python 3\.\d+)$"),
        "empty or an Elastic Beanstalk Python platform name, e.g. '64bit Amazon Linux 2023 v4.7.0 running Python 3.13'",
    ),
    "bridge_reserved_concurrency": (
        re.compile(r"^(|[1-9][0-9]{0,3})$"),
        "empty (no cap) or a whole number of concurrent bridge requests from 1 to 9999",
    ),
    # The push subscription's `--push-auth-token-audience`: a string the owner chooses (the events
    # URL is only known after the deploy, and a fixed audience keeps the subscription valid when it changes).
    "events_push_audience": (
        re.compile(r"^[A-Za-z0-9._:/-]{1,200}$"),
        "an audience string of 1-200 letters, digits and ._:/- (default 'nest-skill-events')",
    ),
    "events_service_account": (
        re.compile(r"^(|[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com)$"),
        "empty or a service account email, name@project.iam.gserviceaccount.com (name and project: "
        "6-30 lowercase letters, digits and hyphens)",
    ),
    "events_topic": (
        re.compile(r"^(|projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/(?!goog)[A-Za-z][A-Za-z0-9._~+%-]{2,254})$"),
        "empty or a Pub/Sub topic, projects/<project id>/topics/<name> (the name: 3-255 characters, "
        "starting with a letter, not with 'goog')",
    ),
    "certificate_arn": (
        re.compile(rf"^(|arn:aws(-[a-z]+)*:acm:[a-z]{{2}}(-[a-z]+)+-\d:\d{{12}}:certificate/{_UUID})$"),
        "empty or an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
    ),
}
_CHOICES = {
    "bridge_hosting": ("lambda", "beanstalk"),
    "account_linking": ("auth_code", "implicit"),
    # Live state: ChangeReports to Alexa's event gateway, AcceptGrant, the token table
    # (docs: how-it-works/live-state.md).
    "live_state": ("off", "on"),
}
# An email address or an https URL, as the bridge reads PRIVACY_CONTACT (bridge_src/oauth_bridge/config.py).
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+$")
_URLS = (
    "sdm_api_base_url",
    "oauth_authorization_url",
    "oauth_token_url",
    "bridge_public_base_url",
    "privacy_policy_url",
    "terms_of_use_url",
)
_OPTIONAL_URLS = ("oauth_authorization_url", "bridge_public_base_url", "privacy_policy_url", "terms_of_use_url")

# The locales the skill package has an interaction model for: the only ones `locales` may name.
PACKAGE_LOCALES = tuple(
    sorted(
        path.stem
        for path in (Path(__file__).resolve().parents[1] / "skill_package" / "interactionModels" / "custom").glob(
            "*.json"
        )
    )
)
DEFAULT_LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
# The AWS region Alexa sends each locale's requests from ("Select the optimal region for your AWS
# Lambda function", developer.amazon.com/.../host-a-custom-skill-as-an-aws-lambda-function.html).
# North America (NA): the US, Canada and Mexico; Europe and India (EU); the Far East and Australia (FE).
ALEXA_REGIONS = {
    "en-US": "us-east-1",
    "en-CA": "us-east-1",
    "en-GB": "eu-west-1",
    "en-IN": "eu-west-1",
    "en-AU": "us-west-2",
    "fr-CA": "us-east-1",
    "es-MX": "us-east-1",
    "es-US": "us-east-1",
    "de-DE": "eu-west-1",
    "fr-FR": "eu-west-1",
    "es-ES": "eu-west-1",
    "it-IT": "eu-west-1",
    "ja-JP": "us-west-2",
}
# The manifest's region codes for those AWS regions (`apis.smartHome.regions`): smart-home directives
# reach only a Lambda in the region serving the user's locale (alexa-smart-home.md, section 2).
ALEXA_API_REGIONS = {"us-east-1": "NA", "eu-west-1": "EU", "us-west-2": "FE"}

# Context keys that belong to the CDK, not to this project: feature flags (`@aws-cdk/...`,
# `@aws-cdk-containers/...`), the CLI's own (`aws:cdk:enable-path-metadata`, `aws:cdk:bundling-stacks`,
# ...), the `cdk-...`/`aws-cdk:...` families, acknowledged notices, and context-provider lookups
# cached in cdk.context.json as `<provider>:account=...:region=...` (the ContextProvider values of
# the cloud assembly schema).
_CDK_KEY_PREFIXES = ("@aws-cdk", "aws:", "aws-cdk:", "cdk-")
_CDK_KEYS = ("acknowledged-issue-numbers", "$dontSaveContext")
_CDK_LOOKUP_PROVIDERS = (
    "ami",
    "availability-zones",
    "cc-api-provider",
    "endpoint-service-availability-zones",
    "hosted-zone",
    "key-provider",
    "load-balancer",
    "load-balancer-listener",
    "plugin",
    "security-group",
    "ssm",
    "vpc-provider",
)


class ConfigError(ValueError):
    """A configuration value that cannot be used; its message is the one line shown to the user."""


@dataclass(frozen=True)
class AppConfig:
    """Everything that varies between deployments. Defaults let `cdk synth` run on a fresh clone."""

    nest_project_id: str = "00000000-0000-4000-8000-000000000000"
    nest_client_id: str = "000000000000-example.apps.googleusercontent.com"
    alexa_vendor_id: str = "EXAMPLEVENDORID"
    skill_id: str = ""
    bridge_hosting: str = "lambda"
    account_linking: str = "auth_code"
    secrets_object_key: str = "nest.properties"
    beanstalk_solution_stack: str = ""
    certificate_arn: str = ""
    bridge_public_base_url: str = ""
    bridge_reserved_concurrency: str = ""
    sdm_api_base_url: str = SDM_API_BASE_URL
    oauth_authorization_url: str = ""
    oauth_token_url: str = GOOGLE_TOKEN_URL
    locales: tuple[str, ...] = DEFAULT_LOCALES
    privacy_policy_url: str = ""
    terms_of_use_url: str = ""
    privacy_contact: str = ""
    live_state: str = "off"
    events_push_audience: str = DEFAULT_EVENTS_AUDIENCE
    events_service_account: str = ""
    events_topic: str = ""

    def __post_init__(self) -> None:
        for name, (pattern, allowed) in _PATTERNS.items():
            _check(name, getattr(self, name), pattern.match(getattr(self, name)) is not None, allowed)
        for name, choices in _CHOICES.items():
            _check(name, getattr(self, name), getattr(self, name) in choices, " or ".join(choices))
        for name in _URLS:
            value = getattr(self, name)
            if value or name not in _OPTIONAL_URLS:
                _check(
                    name,
                    value,
                    _is_service_url(value),
                    "an https:// URL (http:// only for 127.0.0.1 or localhost), without query or fragment",
                )
        if self.privacy_contact:
            _check(
                "privacy_contact",
                self.privacy_contact,
                _EMAIL.match(self.privacy_contact) is not None or _is_contact_url(self.privacy_contact),
                "empty, an email address or an https:// URL where users reach you about their data",
            )
        locales = ",".join(self.locales)
        _check(
            "locales",
            locales,
            bool(self.locales)
            and set(self.locales) <= set(PACKAGE_LOCALES)
            and len(set(self.locales)) == len(self.locales),
            f"one or more of {', '.join(PACKAGE_LOCALES)} (the package's interaction models), each once",
        )
        if self.certificate_arn and self.bridge_hosting == "lambda":
            _check(
                "certificate_arn",
                self.certificate_arn,
                False,
                "empty with bridge_hosting lambda (the function URL has AWS's own certificate); "
                "it is for the beanstalk bridge's HTTPS listener",
            )
        if self.certificate_arn and not self.bridge_public_base_url:
            _check(
                "bridge_public_base_url",
                self.bridge_public_base_url,
                False,
                "https://<a name the certificate covers> when certificate_arn is set "
                "(the environment's *.elasticbeanstalk.com name is not covered)",
            )
        if self.bridge_hosting == "beanstalk":
            # No default: a pinned platform version is superseded within months, and Elastic Beanstalk
            # lets only accounts that used a superseded version in the last 30 days create environments on it.
            _check(
                "beanstalk_solution_stack",
                self.beanstalk_solution_stack,
                bool(self.beanstalk_solution_stack),
                "a current Python platform name with bridge_hosting 'beanstalk' (pick one from "
                "`aws elasticbeanstalk list-available-solution-stacks`)",
            )
            _check(
                "bridge_reserved_concurrency",
                self.bridge_reserved_concurrency,
                not self.bridge_reserved_concurrency,
                "empty with bridge_hosting 'beanstalk' (it caps the Lambda bridge)",
            )

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> AppConfig:
        """Build from CDK context (cdk.json's block, `-c`, or `node.get_all_context()`).

        Unset keys keep their defaults. A key that is neither the CDK's nor a field here raises
        ConfigError naming the nearest field, so a typo never deploys a default silently.
        """
        names = [field.name for field in fields(cls)]
        for key in context:
            if key not in names and not is_cdk_context_key(key):
                nearest = difflib.get_close_matches(key, names, n=1, cutoff=0.0)[0]
                _check(key, context[key], False, f"a key this project knows: did you mean '{nearest}'?")
        values: dict[str, Any] = {}
        for name in names:
            raw = context.get(name)
            if raw is None:
                continue
            if name == "locales":
                values[name] = _locales(raw)
            elif isinstance(raw, str):
                values[name] = raw.strip()
            else:
                shown = json.dumps(raw, default=repr)  # as the user wrote it in nest-skill.json or cdk.json
                if name in _CHOICES:
                    allowed = " or ".join(f'"{choice}"' for choice in _CHOICES[name])
                    raise ConfigError(f"config key '{name}' = {shown} is not allowed: expected the string {allowed}")
                raise ConfigError(f"config key '{name}' = {shown}: must be a string")
        return cls(**values)

    @classmethod
    def from_project(cls, context: Mapping[str, Any], settings_file: Path, cdk_json: Path) -> AppConfig:
        """Build from the owner's settings file with `context` over it.

        `context` is what the CDK passes the app (cdk.json's context, cdk.context.json and `-c`) or
        what the operator CLI reads (cdk.json's context and `-c`). A project key set both in the
        settings file and in cdk.json is refused: the CDK gives the app cdk.json's value and `-c`'s
        in one mapping, so the file could not tell them apart and would lose to an old cdk.json.
        """
        return cls.from_mapping(merged_context(context, read_settings(settings_file), cdk_json_context(cdk_json)))

    def keys_with_example_values(self) -> tuple[str, ...]:
        """The keys every deployment must set that still hold the example value cdk.json ships with."""
        return tuple(key for key in EXAMPLE_KEYS if getattr(self, key) == getattr(AppConfig, key))

    def page_url(self, bridge_base_url: str, page: str) -> str:
        """The privacy policy (`privacy`) or terms of use (`terms`) URL for the skill's manifest: the
        configured one, else the page the bridge serves at `<BridgeBaseUrl output>/<page>`."""
        configured = {"privacy": self.privacy_policy_url, "terms": self.terms_of_use_url}[page]
        return configured or f"{bridge_base_url.rstrip('/')}/{page}"

    @property
    def skill_regions(self) -> tuple[str, ...]:
        """The AWS regions Alexa serves the configured locales from, in locale order, each once."""
        return tuple(dict.fromkeys(ALEXA_REGIONS[locale] for locale in self.locales))

    def regional_skill_regions(self, home_region: str | None) -> tuple[str, ...]:
        """The skill regions besides `home_region` (where NestSkill, the secrets and the bridge
        live): each gets its own stack, regional_skill_stack(region). None (a synth with no AWS
        region) gives none."""
        return tuple(region for region in self.skill_regions if home_region and region != home_region)

    @property
    def live_state_on(self) -> bool:
        """Whether the skill reports changes to Alexa (AcceptGrant, the token table, ChangeReports)."""
        return self.live_state == "on"

    def events_problems(self, settings_name: str = SETTINGS_FILE_NAME) -> tuple[str, ...]:
        """With live state on, each key the Nest events set-up still needs, as a line naming it and
        what to set (empty with live state off, or with both set)."""
        if not self.live_state_on:
            return ()
        needed = {
            "events_service_account": "the service account Pub/Sub signs its pushes as, "
            "name@project.iam.gserviceaccount.com",
            "events_topic": "the Pub/Sub topic in your Google Cloud project that Nest publishes to, "
            "projects/<project id>/topics/<name>",
        }
        return tuple(
            f"set '{key}' in {settings_name} (live_state is on): {what}"
            for key, what in needed.items()
            if not getattr(self, key)
        )

    @property
    def events_project(self) -> str:
        """The Google Cloud project of `events_topic` (where the subscription goes too); empty without one."""
        return self.events_topic.split("/")[1] if self.events_topic else ""

    @property
    def bridge_concurrency_cap(self) -> int | None:
        """Reserved concurrency for the Lambda bridge, or None for no reservation (the default)."""
        return int(self.bridge_reserved_concurrency) if self.bridge_reserved_concurrency else None

    @property
    def authorization_url(self) -> str:
        """Where the user signs in: Google's Partner Connections page for the Device Access project."""
        return self.oauth_authorization_url or GOOGLE_PCM_AUTH_URL.format(project_id=self.nest_project_id)

    @property
    def alexa_redirect_urls(self) -> tuple[str, ...]:
        """Alexa's redirect URLs for this vendor: what Google must list in auth-code mode."""
        return tuple(f"https://{host}/api/skill/link/{self.alexa_vendor_id}" for host in ALEXA_REDIRECT_HOSTS)


def regional_skill_stack(region: str) -> str:
    """The name of the skill's stack in `region` outside the home region: NestSkill-<region>."""
    return f"{SKILL_STACK}-{region}"


EXAMPLE_KEYS = ("nest_project_id", "nest_client_id", "alexa_vendor_id")


def is_cdk_context_key(key: str) -> bool:
    """True for a context key the CDK itself defines or writes (see _CDK_KEY_PREFIXES)."""
    return (
        key.startswith(_CDK_KEY_PREFIXES)
        or key in _CDK_KEYS
        or (key.partition(":")[0] in _CDK_LOOKUP_PROVIDERS and ":" in key)
    )


def project_keys() -> tuple[str, ...]:
    """The keys this project defines (AppConfig's fields): the only ones the settings file may hold."""
    return tuple(field.name for field in fields(AppConfig))


def settings_path(project_dir: Path, environ: Mapping[str, str]) -> Path:
    """The owner's settings file: NEST_SKILL_SETTINGS when set, else nest-skill.json in `project_dir`."""
    named = environ.get(SETTINGS_ENV, "").strip()
    return Path(named) if named else project_dir / SETTINGS_FILE_NAME


def read_settings(path: Path) -> dict[str, Any]:
    """The owner's settings file as a mapping: empty when there is none; one-line ConfigError when
    it is not a JSON object of this project's keys."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"{path.name} is not valid JSON ({error}): fix it, or move it aside to start from the defaults"
        ) from None
    if not isinstance(settings, dict):
        raise ConfigError(f'{path.name} must hold one JSON object of config keys, e.g. {{"nest_project_id": "..."}}')
    for key in settings:
        if is_cdk_context_key(key):
            raise ConfigError(
                f"config key '{key}' in {path.name}: the CDK's own keys belong in cdk.json; "
                f"{path.name} holds this project's keys"
            )
    return settings


def cdk_json_context(path: Path) -> dict[str, Any]:
    """cdk.json's context block (empty when there is no cdk.json, as in a test's scratch directory)."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))
    except FileNotFoundError:
        return {}


def merged_context(
    context: Mapping[str, Any], settings: Mapping[str, Any], cdk_json: Mapping[str, Any]
) -> dict[str, Any]:
    """`settings` (the owner's file) with `context` over it; a key set in both the file and
    cdk.json is a ConfigError naming where to keep it."""
    for key in settings:
        if key in cdk_json and not is_cdk_context_key(key):
            raise ConfigError(
                f"config key '{key}' is set both in cdk.json and in {SETTINGS_FILE_NAME}: keep it "
                f"in {SETTINGS_FILE_NAME} only and restore cdk.json (`git checkout cdk.json`; "
                f"docs: operate/updating.md)"
            )
    return {**settings, **context}


def _locales(raw: Any) -> tuple[str, ...]:
    """`locales` as cdk.json holds it (a list) or as `-c locales=en-US,en-GB` passes it (a string)."""
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return tuple(item.strip() for item in raw)
    raise ConfigError(f"config key 'locales' = {raw!r}: must be a list of locale names or a comma-separated string")


def _check(key: str, value: Any, ok: bool, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"config key '{key}' = {value!r} is not allowed: expected {allowed}")


def _is_service_url(value: str) -> bool:
    parts = urlsplit(value)
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _is_loopback(parts.hostname)


def _is_contact_url(value: str) -> bool:
    parts = urlsplit(value)
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and not parts.username
        and not any(c in value for c in "<>\"' \\")
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
