"""Values and small helpers shared by the bridge tests. The secrets are fake and look it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from werkzeug.http import parse_cookie
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from oauth_bridge.app import Bridge
from oauth_bridge.config import BridgeConfig
from oauth_bridge.http_messages import FLOW_COOKIE

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
ALEXA_STATE = "AlexaState-0123456789abcdef"
CODE = "test-auth-code-4/0AbCdEf"
ACCESS_TOKEN = "test-access-token-xyz"
AUTHORIZE = {"response_type": "token", "state": ALEXA_STATE, "redirect_uri": ALEXA_REDIRECT}
"""What Alexa sends to /authorize to start linking."""
INCOMPRESSIBLE = base64.urlsafe_b64encode(b"".join(hashlib.sha256(bytes([n])).digest() for n in range(45))).decode()
"""1920 characters (under the 2 KB a parameter may have) that zlib shrinks little: over 2 KB once sealed."""


def make_config(**overrides: Any) -> BridgeConfig:
    values = dict(
        secrets_bucket=BUCKET,
        secrets_key=KEY,
        alexa_vendor_id=VENDOR,
        authorization_url=AUTH_URL,
        token_url=TOKEN_URL,
        public_base_url=PUBLIC_BASE,
    )
    values.update(overrides)
    return BridgeConfig(**values)


def get(
    bridge: Bridge,
    path: str,
    params: Mapping[str, str] | str = "",
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
    cookies: Mapping[str, str] | None = None,
) -> Response:
    """One request as a browser over https sends it; `headers` replaces the default Host."""
    query = params if isinstance(params, str) else urlencode(params)
    headers = dict(headers or {"host": "bridge.example.com"})
    environ = EnvironBuilder(path=path, method=method, base_url="https://bridge.example.com").get_environ()
    environ["QUERY_STRING"] = query
    environ.pop("HTTP_HOST", None)
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return bridge.handle(Request(environ))


def body(response: Response) -> str:
    return response.get_data(as_text=True)


@dataclass(frozen=True)
class Location:
    """A redirect's Location split into base URL, query and fragment parameters."""

    base: str
    query: dict[str, str]
    fragment: dict[str, str]


def location(response: Response) -> Location:
    assert response.status_code == 302, body(response)
    url = response.headers["Location"]
    parts = urlsplit(url)
    return Location(
        base=f"{parts.scheme}://{parts.netloc}{parts.path}",
        query=dict(parse_qsl(parts.query, keep_blank_values=True)),
        fragment=dict(parse_qsl(parts.fragment, keep_blank_values=True)),
    )


def set_cookies(response: Response) -> dict[str, str]:
    """Each Set-Cookie header as a name and its full attribute text."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


@dataclass(frozen=True)
class Flow:
    """What /authorize handed out: the sealed state (to Google) and the browser's flow cookie value."""

    state: str
    nonce: str

    @property
    def cookies(self) -> dict[str, str]:
        return {FLOW_COOKIE: self.nonce}


def start(bridge: Bridge, redirect_uri: str = ALEXA_REDIRECT, state: str = ALEXA_STATE) -> Flow:
    """Run /authorize as Alexa's browser would."""
    response = get(
        bridge,
        "/authorize",
        {
            "client_id": "alexa-side-id",
            "response_type": "token",
            "state": state,
            "redirect_uri": redirect_uri,
            "scope": "sdm",
        },
    )
    cookie = set_cookies(response)[FLOW_COOKIE]
    return Flow(location(response).query["state"], parse_cookie(cookie)[FLOW_COOKIE])


def callback(bridge: Bridge, flow: Flow, **params: str) -> Response:
    """Google's redirect to /callback in the browser that started `flow` (code=CODE unless given; None drops)."""
    query = {"state": flow.state, "code": CODE, **params}
    return get(
        bridge, "/callback", {name: value for name, value in query.items() if value is not None}, cookies=flow.cookies
    )


def assert_refused(response: Response, status: int, *phrases: str) -> None:
    """An HTML error page, never a redirect, saying what went wrong."""
    assert response.status_code == status, body(response)
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    for phrase in phrases:
        assert phrase in body(response)


def assert_back_to_alexa(
    response: Response, error: str, redirect_uri: str = ALEXA_REDIRECT, state: str = ALEXA_STATE
) -> None:
    """A redirect to Alexa's URL with exactly `error` and Alexa's state in the fragment: never a token."""
    back = location(response)
    assert response.headers["Location"].startswith(redirect_uri + "#")
    assert back.fragment == {"error": error, "state": state}
