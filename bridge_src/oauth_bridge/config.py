"""The bridge's one typed configuration, built from environment variables by each entry point."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

GOOGLE_TOKEN_URL = "https://www.googleapis.com/oauth2/v4/token"

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_OBJECT_KEY = re.compile(r"^(?!/)[A-Za-z0-9!_.*'()/-]{1,512}$")
_VENDOR_ID = re.compile(r"^[A-Z0-9]{8,20}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+$")


class ConfigError(ValueError):
    """An environment variable that is missing or unusable; the message names it."""


@dataclass(frozen=True)
class BridgeConfig:
    secrets_bucket: str
    secrets_key: str
    alexa_vendor_id: str
    authorization_url: str
    token_url: str = GOOGLE_TOKEN_URL
    public_base_url: str | None = None
    """Set when the bridge's public address differs from what requests carry (custom domain, TLS proxy)."""
    privacy_contact: str | None = None
    """PRIVACY_CONTACT: where users reach the operator about their data, an email address or an https URL,
    shown on /privacy. Unset, the page sends them to the person who set the skill up (legal.py)."""
    live_state: bool = False
    """LIVE_STATE "on": the skill keeps each linked user's Alexa event credentials so that the Alexa app
    shows changes (the stacks set it only then); /privacy then says what that stores."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BridgeConfig:
        return cls(
            secrets_bucket=_matching(env, "SECRETS_BUCKET", _BUCKET, "an S3 bucket name"),
            secrets_key=_matching(env, "SECRETS_KEY", _OBJECT_KEY, "an S3 object key"),
            alexa_vendor_id=_matching(env, "ALEXA_VENDOR_ID", _VENDOR_ID, "an Alexa vendor ID (8-20 A-Z/0-9)"),
            authorization_url=_url(env, "OAUTH_AUTHORIZATION_URL", required=True, query_allowed=True),
            token_url=_url(env, "OAUTH_TOKEN_URL", default=GOOGLE_TOKEN_URL),
            public_base_url=_url(env, "PUBLIC_BASE_URL").rstrip("/") or None,
            privacy_contact=_contact(env, "PRIVACY_CONTACT"),
            live_state=_switch(env, "LIVE_STATE"),
        )


def _matching(env: Mapping[str, str], name: str, pattern: re.Pattern[str], expected: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is missing or empty")
    if not pattern.match(value):
        raise ConfigError(f"environment variable {name}={value!r} is not {expected}")
    return value


def _url(
    env: Mapping[str, str], name: str, *, required: bool = False, default: str = "", query_allowed: bool = False
) -> str:
    """An https URL (plain http only on loopback, for local runs): Google and Alexa require TLS."""
    value = env.get(name, "").strip() or default
    if not value:
        if required:
            raise ConfigError(f"environment variable {name} is missing or empty")
        return value
    parts = urlsplit(value)
    host = parts.hostname or ""
    secure = parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host))
    if not host or not secure or parts.fragment or parts.username or (parts.query and not query_allowed):
        query = "a query is allowed" if query_allowed else "no query"
        raise ConfigError(
            f"environment variable {name}={value!r} is not an https:// URL ({query}, no fragment; "
            "http:// only for 127.0.0.1 or localhost)"
        )
    return value


def _contact(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if _EMAIL.match(value):
        return value
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.username or any(c in value for c in "<>\"' \\"):
        raise ConfigError(f"environment variable {name}={value!r} is not an email address or an https:// URL")
    return value


def _switch(env: Mapping[str, str], name: str) -> bool:
    """ "on" or "off" (unset: off). Anything else is refused: a typo must not make /privacy say less."""
    value = env.get(name, "").strip()
    if value not in ("", "on", "off"):
        raise ConfigError(f"environment variable {name}={value!r} is not on or off")
    return value == "on"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
