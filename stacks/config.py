"""The project's one typed configuration, built from CDK context (cdk.json plus `-c key=value`).

Both the CDK app and the operator CLI build it here, so a value means the same thing to each, and a
bad value stops them with one line naming the key, the value and what is allowed. This module
imports nothing from aws_cdk: the operator CLI uses it without loading the CDK.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

GOOGLE_PCM_AUTH_URL = "https://nestservices.google.com/partnerconnections/{project_id}/auth"
GOOGLE_TOKEN_URL = "https://www.googleapis.com/oauth2/v4/token"
SDM_API_BASE_URL = "https://smartdevicemanagement.googleapis.com/v1"
SDM_SCOPE = "https://www.googleapis.com/auth/sdm.service"
ALEXA_REDIRECT_HOSTS = ("pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp")
SECRETS_STACK = "NestSkillSecrets"
SKILL_STACK = "NestSkill"
BRIDGE_STACK = "NestSkillBridge"

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
    "certificate_arn": (
        re.compile(rf"^(|arn:aws(-[a-z]+)*:acm:[a-z]{{2}}(-[a-z]+)+-\d:\d{{12}}:certificate/{_UUID})$"),
        "empty or an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
    ),
}
_CHOICES = {
    "bridge_hosting": ("lambda", "beanstalk"),
    "account_linking": ("auth_code", "implicit"),
}
_URLS = ("sdm_api_base_url", "oauth_authorization_url", "oauth_token_url", "bridge_public_base_url")


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

    def __post_init__(self) -> None:
        for name, (pattern, allowed) in _PATTERNS.items():
            _check(name, getattr(self, name), pattern.match(getattr(self, name)) is not None, allowed)
        for name, choices in _CHOICES.items():
            _check(name, getattr(self, name), getattr(self, name) in choices, " or ".join(choices))
        for name in _URLS:
            value = getattr(self, name)
            if value or name not in ("oauth_authorization_url", "bridge_public_base_url"):
                _check(name, value, _is_service_url(value),
                       "an https:// URL (http:// only for 127.0.0.1 or localhost), without query or fragment")
        if self.bridge_hosting == "beanstalk":
            # No default: a pinned platform version is superseded within months, and Elastic Beanstalk
            # lets only accounts that used a superseded version in the last 30 days create environments on it.
            _check("beanstalk_solution_stack", self.beanstalk_solution_stack, bool(self.beanstalk_solution_stack),
                   "a current Python platform name with bridge_hosting 'beanstalk' (pick one from "
                   "`aws elasticbeanstalk list-available-solution-stacks`)")
            _check("bridge_reserved_concurrency", self.bridge_reserved_concurrency,
                   not self.bridge_reserved_concurrency, "empty with bridge_hosting 'beanstalk' (it caps the Lambda bridge)")

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> "AppConfig":
        """Build from a context lookup (`node.try_get_context` or a dict's `get`); unset keys keep defaults."""
        values = {}
        for field in fields(cls):
            raw = get(field.name)
            if raw is None:
                continue
            if not isinstance(raw, str):
                raise ConfigError(f"config key '{field.name}' = {raw!r}: must be a string")
            values[field.name] = raw.strip()
        return cls(**values)

    @classmethod
    def from_mapping(cls, context: Mapping[str, Any]) -> "AppConfig":
        return cls.from_context(context.get)

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


def _check(key: str, value: str, ok: bool, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"config key '{key}' = {value!r} is not allowed: expected {allowed}")


def _is_service_url(value: str) -> bool:
    parts = urlsplit(value)
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and _is_loopback(parts.hostname)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
