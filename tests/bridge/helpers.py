"""Values and small helpers shared by the bridge tests. The secrets are fake and look it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from oauth_bridge.app import Bridge
from oauth_bridge.config import BridgeConfig
from oauth_bridge.http_messages import Request, Response

VENDOR = "TESTVENDOR01"
BUCKET = "nest-bridge-secrets-test"
KEY = "secrets/nest.properties"
CLIENT_ID = "1234567890-testclient.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret-not-real"
STATE_KEY = "test-state-key-" + "k" * 32
AUTH_URL = "https://nestservices.google.com/partnerconnections/00000000-0000-4000-8000-000000000000/auth"
TOKEN_URL = "https://www.googleapis.com/oauth2/v4/token"
PUBLIC_BASE = "https://bridge.example.com"
CALLBACK = f"{PUBLIC_BASE}/callback"
ALEXA_REDIRECT = f"https://layla.amazon.com/api/skill/link/{VENDOR}"
DEFAULT_ALEXA_REDIRECT = f"https://pitangui.amazon.com/api/skill/link/{VENDOR}"
ALEXA_STATE = "AlexaState-0123456789abcdef"
CODE = "test-auth-code-4/0AbCdEf"
ACCESS_TOKEN = "test-access-token-xyz"


def make_config(**overrides: Any) -> BridgeConfig:
    values = dict(secrets_bucket=BUCKET, secrets_key=KEY, alexa_vendor_id=VENDOR, authorization_url=AUTH_URL,
                  token_url=TOKEN_URL, public_base_url=PUBLIC_BASE)
    values.update(overrides)
    return BridgeConfig(**values)


def get(bridge: Bridge, path: str, params: Mapping[str, str] | str = "",
        headers: Mapping[str, str] | None = None, method: str = "GET") -> Response:
    query = params if isinstance(params, str) else urlencode(params)
    return bridge.handle(Request(method, path, query, dict(headers or {"host": "bridge.example.com"})))


@dataclass(frozen=True)
class Location:
    """A redirect's Location split into base URL, query and fragment parameters."""

    base: str
    query: dict[str, str]
    fragment: dict[str, str]


def location(response: Response) -> Location:
    assert response.status == 302, response.body
    url = response.headers["Location"]
    parts = urlsplit(url)
    return Location(base=f"{parts.scheme}://{parts.netloc}{parts.path}",
                    query=dict(parse_qsl(parts.query, keep_blank_values=True)),
                    fragment=dict(parse_qsl(parts.fragment, keep_blank_values=True)))


def authorize(bridge: Bridge, redirect_uri: str = ALEXA_REDIRECT, state: str = ALEXA_STATE) -> str:
    """Run /authorize as Alexa would; returns the sealed state the bridge gave Google."""
    response = get(bridge, "/authorize", {"client_id": "alexa-side-id", "response_type": "token", "state": state,
                                          "redirect_uri": redirect_uri, "scope": "sdm"})
    return location(response).query["state"]


def assert_refused(response: Response, status: int, *phrases: str) -> None:
    """An HTML error page, never a redirect, saying what went wrong."""
    assert response.status == status, response.body
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    for phrase in phrases:
        assert phrase in response.body
