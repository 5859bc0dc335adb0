"""Live state's configuration, from the skill's Lambda environment: None when live state is off.

LIVE_STATE_TABLE, LIVE_STATE_KEY (the token key, as its alias ARN: a skill function in another
region than the table's names it by its fixed alias), LIVE_STATE_REGION (the table's and the
credentials bucket's region: the home region), MESSAGING_CREDENTIALS_BUCKET and
MESSAGING_CREDENTIALS_OBJECT are set by the stacks when `live_state` is on. AWS_REGION (set by Lambda)
says which Alexa region this function serves, and so which event gateway its users' reports go to. LWA_TOKEN_URL and
EVENT_GATEWAY_URL_NA/_EU/_FE (and GOOGLE_TOKENINFO_URL) replace Amazon's (and Google's) hosts in the
sandbox only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from nest_skill.config import ConfigError
from nest_skill.live_state import TABLE_VARIABLE, live_state_on

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
GOOGLE_TOKENINFO_URL = "https://oauth2.googleapis.com/tokeninfo"
# developer.amazon.com/docs/smarthome/send-events.html, "Gateway endpoints".
GATEWAY_URLS = {
    "NA": "https://api.amazonalexa.com/v3/events",
    "EU": "https://api.eu.amazonalexa.com/v3/events",
    "FE": "https://api.fe.amazonalexa.com/v3/events",
}
# The Alexa region each AWS region's Lambda serves (stacks/config.py ALEXA_API_REGIONS).
ALEXA_REGION_OF = {"us-east-1": "NA", "eu-west-1": "EU", "us-west-2": "FE"}


@dataclass(frozen=True)
class LiveStateConfig:
    table: str
    key_id: str
    region: str
    credentials_bucket: str
    credentials_object: str
    alexa_region: str
    lwa_token_url: str = LWA_TOKEN_URL
    tokeninfo_url: str = GOOGLE_TOKENINFO_URL
    gateway_urls: dict[str, str] = field(default_factory=lambda: dict(GATEWAY_URLS))

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> LiveStateConfig | None:
        """None when LIVE_STATE_TABLE is unset or blank (live state off); ConfigError naming the
        variable when it is on but another value is missing or unusable."""
        if not live_state_on(env):
            return None
        table = env[TABLE_VARIABLE].strip()
        values = {}
        for name in (
            "LIVE_STATE_KEY",
            "LIVE_STATE_REGION",
            "MESSAGING_CREDENTIALS_BUCKET",
            "MESSAGING_CREDENTIALS_OBJECT",
            "AWS_REGION",
        ):
            values[name] = env.get(name, "").strip()
            if not values[name]:
                raise ConfigError(f"{name} is not set: live state needs it (LIVE_STATE_TABLE is set)")
        alexa_region = ALEXA_REGION_OF.get(values["AWS_REGION"])
        if alexa_region is None:
            raise ConfigError(
                f"AWS_REGION = {values['AWS_REGION']!r}: Alexa serves smart home from {', '.join(ALEXA_REGION_OF)} only"
            )
        urls = {region: _url(f"EVENT_GATEWAY_URL_{region}", env, default) for region, default in GATEWAY_URLS.items()}
        return cls(
            table=table,
            key_id=values["LIVE_STATE_KEY"],
            region=values["LIVE_STATE_REGION"],
            credentials_bucket=values["MESSAGING_CREDENTIALS_BUCKET"],
            credentials_object=values["MESSAGING_CREDENTIALS_OBJECT"],
            alexa_region=alexa_region,
            lwa_token_url=_url("LWA_TOKEN_URL", env, LWA_TOKEN_URL),
            gateway_urls=urls,
            tokeninfo_url=_url("GOOGLE_TOKENINFO_URL", env, GOOGLE_TOKENINFO_URL),
        )


def _url(name: str, env: Mapping[str, str], default: str) -> str:
    value = env.get(name, "").strip() or default
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{name} = {value!r}: expected an http(s) URL")
    return value
