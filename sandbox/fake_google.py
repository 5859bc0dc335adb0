"""A faithful local stand-in for Google's OAuth (Partner Connections, token, revoke) and the Nest SDM API.

Paths mirror Google's, so a client only swaps base URLs:
  nestservices.google.com             -> GET  /partnerconnections/{project}/auth
  www.googleapis.com/oauth2/v4/token  -> POST /oauth2/v4/token   (oauth2.googleapis.com/token -> POST /token)
  oauth2.googleapis.com/revoke        -> POST /revoke
  smartdevicemanagement.googleapis.com/v1 -> /v1/...
Routes under /__fake/ and the Python test hooks are the fake's own, not Google's.

Run: FAKE_GOOGLE_CLIENT_SECRET=... python -m sandbox.fake_google --port N --project-id P --client-id C
     --redirect-uri URI [--redirect-uri URI ...]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import contextlib
import hashlib
import html
import http.client
import http.server
import json
import os
import re
import secrets
import socketserver
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from sandbox.fake_devices import (
    SCENARIOS,
    FakeSdmError,
    FakeStructure,
    FakeThermostat,
    default_devices,
    default_structures,
    service_disabled,
)
from sandbox.processes import LOOPBACK
from sandbox.serving import ServesTls, in_background, serve

SDM_SCOPE = "https://www.googleapis.com/auth/sdm.service"
ACCESS_TOKEN_LIFETIME_S = 3599
CODE_LIFETIME_S = 600
# Sandbox limits (developers.google.com/nest/device-access/project/limits): 5 commands a minute per
# device (trait-command and THERMOSTAT device-instance levels) and 100 an hour per thermostat.
SANDBOX_COMMAND_LIMITS: tuple[tuple[int, float], ...] = ((5, 60.0), (100, 3600.0))

UNAUTHENTICATED = FakeSdmError(
    401,
    "UNAUTHENTICATED",
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
    "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
)
RATE_LIMITED = FakeSdmError(429, "RESOURCE_EXHAUSTED", "Rate limited for the ExecuteDeviceCommand API for the user.")
TOKEN_EXPIRED = FakeSdmError(
    401,
    "UNAUTHENTICATED",
    UNAUTHENTICATED.message,
    (
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ACCESS_TOKEN_EXPIRED",
            "domain": "googleapis.com",
            "metadata": {"service": "smartdevicemanagement.googleapis.com"},
        },
    ),
)
"""Google's 401 for a token it issued whose hour is over: the same message, with ErrorInfo reason
ACCESS_TOKEN_EXPIRED (google.rpc.ErrorInfo, as Google APIs add to UNAUTHENTICATED)."""


class OAuthError(Exception):
    """A token/revoke endpoint error: Google's {"error", "error_description"} body."""

    def __init__(self, code: int, error: str, description: str):
        super().__init__(description)
        self.code, self.error, self.description = code, error, description


class PageError(Exception):
    """An error page the browser shows on the authorization screen (no redirect)."""

    def __init__(self, code: int, title: str, detail: str = ""):
        super().__init__(title)
        self.code, self.title, self.detail = code, title, detail


def _invalid_grant(description: str = "Bad Request") -> OAuthError:
    return OAuthError(400, "invalid_grant", description)


def _missing(name: str) -> OAuthError:
    return OAuthError(400, "invalid_request", f"Missing required parameter: {name}")


@dataclass
class _Grant:
    """One user consent; revoking any token issued under it ends them all (Google's behaviour).
    `shared`: the device IDs ticked on Partner Connections at consent; SDM shows this grant's tokens
    (its access tokens and every refresh of them) only these."""

    scope: str
    shared: set[str]
    revoked: bool = False


@dataclass
class _Code:
    grant: _Grant
    redirect_uri: str
    offline: bool
    expires_at: float


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    authorization: str
    body: bytes
    cookie: str = ""

    def form(self) -> dict[str, str]:
        """Query and urlencoded body merged: Google's quick start sends the token request in the query."""
        merged = dict(self.query)
        merged.update(_first_values(self.body.decode("utf-8", "replace")))
        return merged


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _first_values(query: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}


def _json(status: int, payload: object) -> _Response:
    return _Response(status, json.dumps(payload).encode())


def _page(status: int, title: str, detail: str = "") -> _Response:
    text = (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p></body></html>"
    )
    return _Response(status, text.encode(), "text/html; charset=utf-8")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# -- misbehaving token endpoint (the fake's own modes, for the bridge's failure paths) ---------------

_FAKE_ACCESS = "fake-access-misbehaving"
TOKEN_MISBEHAVIOURS: dict[str, tuple[int, str, bytes]] = {
    # mode: (status, content type, body), each sent after the code is spent, as a real failure would be.
    "unavailable": (
        503,
        "text/html; charset=UTF-8",
        b"<!DOCTYPE html><html><title>Error 503 (Service Unavailable)</title>"
        b"<p>The service is currently unavailable.</p></html>",
    ),
    "server_error": (
        500,
        "application/json; charset=utf-8",
        b'{"error": "internal_failure", "error_description": "Backend Error"}',
    ),
    "html": (200, "text/html; charset=UTF-8", b"<!DOCTYPE html><html><title>Sign in - Google Accounts</title></html>"),
    "no_access_token": (200, "application/json; charset=utf-8", b'{"token_type": "Bearer", "expires_in": 3599}'),
    "expires_in_superscript": (
        200,
        "application/json; charset=utf-8",
        b'{"access_token": "' + _FAKE_ACCESS.encode() + b'", "expires_in": "\xc2\xb2"}',
    ),
    "expires_in_5000_digits": (
        200,
        "application/json; charset=utf-8",
        b'{"access_token": "' + _FAKE_ACCESS.encode() + b'", "expires_in": ' + b"9" * 5000 + b"}",
    ),
    "deep_nesting": (200, "application/json; charset=utf-8", b"[" * 60_000),
}
"""Well-formed HTTP that no token client should turn into a 500: errors, HTML, no token, odd `expires_in`,
JSON nested past any parser's recursion."""

GZIP_BOMB_INFLATED_BYTES = 150 * 1024 * 1024
DEEP_NESTING = 100_000
_GZIP_BOMB: list[bytes] = []


def gzip_bomb() -> bytes:
    """A device list of GZIP_BOMB_INFLATED_BYTES once inflated (about 150 KB of gzip): valid JSON,
    `{"devices": [` and 150 MB of spaces, so only a client that bounds what it inflates refuses it.
    Compressed a megabyte at a time, once per process."""
    if not _GZIP_BOMB:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
        chunk = b" " * (1024 * 1024)
        parts = [compressor.compress(b'{"devices": [')]
        parts += [compressor.compress(chunk) for _ in range(GZIP_BOMB_INFLATED_BYTES // len(chunk))]
        parts += [compressor.compress(b"]}"), compressor.flush()]
        _GZIP_BOMB.append(b"".join(parts))
    return _GZIP_BOMB[0]


ANSWER_SCENARIOS = ("gzip-bomb", "deep-nesting", "set-cookie")
"""Scenarios that change how SDM answers rather than which devices it lists: the device list as a
gzip bomb (gzip_bomb), or as JSON nested DEEP_NESTING deep; or every SDM answer setting a cookie
(`Set-Cookie: sdm_affinity=<the caller's grant>`), the Cookie headers SDM requests carry being kept
for received_cookies()."""
TRICKLING_MODES = ("trickle_headers", "trickle_body")
"""What a WSGI app cannot send: a header line every `interval_s`, or a close-delimited body a byte at a time."""


class _TricklingTokenHandler(ServesTls, http.server.BaseHTTPRequestHandler):
    """HTTP/1.0 (no keep-alive: the body ends when the connection closes). Bounded: `steps` writes."""

    mode = "trickle_headers"
    interval_s = 0.3
    steps = 40

    def do_POST(self):  # the stdlib's method name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n")
        try:
            if self.mode == "trickle_headers":
                for number in range(self.steps):
                    self.wfile.write(f"X-Slow-{number}: a\r\n".encode())
                    self.wfile.flush()
                    time.sleep(self.interval_s)
                self.wfile.write(b"\r\n{}")
            else:
                self.wfile.write(b"\r\n")
                for _ in range(self.steps):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(self.interval_s)
                self.wfile.write(b"{}")
        except OSError:  # the client gave up: what a client with a deadline does
            pass

    def log_message(self, format, *args):  # `format`: the stdlib's parameter name
        pass


class _TricklingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients at once (concurrency tests), not the default backlog of 5

    def __init__(self, handler: type, tls: ssl.SSLContext | None):
        super().__init__((LOOPBACK, 0), handler)
        self.tls = tls
        self.url_scheme = "http" if tls is None else "https"


@contextlib.contextmanager
def trickling_token_endpoint(
    mode: str, interval_s: float = 0.3, steps: int = 40, tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """A token endpoint on 127.0.0.1 that trickles per `mode` (TRICKLING_MODES), over HTTPS with `tls` (a
    server context, see sandbox.tls); yields its token URL."""
    if mode not in TRICKLING_MODES:
        raise ValueError(f"mode {mode!r} is not one of {', '.join(TRICKLING_MODES)}")
    handler = type(
        "TricklingTokenHandler", (_TricklingTokenHandler,), {"mode": mode, "interval_s": interval_s, "steps": steps}
    )
    with in_background(_TricklingServer(handler, tls)) as base_url:
        yield f"{base_url}/oauth2/v4/token"


_DEVICES = re.compile(r"^/v1/enterprises/(?P<project>[^/]+)/devices$")
_STRUCTURES = re.compile(r"^/v1/enterprises/(?P<project>[^/]+)/structures$")
_FAKE_SCENARIO = re.compile(r"^/__fake/scenario/(?P<name>[\w-]+)$")
_FAKE_DEVICE = re.compile(r"^/__fake/devices/(?P<device>[^/:]+)$")
_FAKE_SHARE = re.compile(r"^/__fake/devices/(?P<device>[^/:]+):share$")
_FAKE_NEST_APP = re.compile(r"^/__fake/nest-app/(?P<device>[^/:]+)$")
# What a test or the demo may change on a device through the fake's own hooks.
DEVICE_UPDATES = {"mode": str, "eco_mode": str, "online": bool, "reporting": bool, "refusal": str}
_DEVICE = re.compile(r"^/v1/enterprises/(?P<project>[^/]+)/devices/(?P<device>[^/:]+)$")
_EXECUTE = re.compile(r"^/v1/enterprises/(?P<project>[^/]+)/devices/(?P<device>[^/:]+):executeCommand$")
_AUTH = re.compile(r"^/partnerconnections/(?P<project>[^/]+)/auth$")
_APPROVE = re.compile(r"^/partnerconnections/(?P<project>[^/]+)/approve$")
_AUTHORIZATION_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "access_type", "prompt")
_SDM_ROUTES = ("devices.list", "structures.list", "devices.get", "devices.executeCommand")


class FakeGoogle:
    """WSGI app holding all state in memory; every public method and request is serialised by one lock."""

    def __init__(
        self,
        project_id: str,
        client_id: str,
        client_secret: str,
        redirect_uris: Sequence[str],
        devices: Iterable[FakeThermostat] | None = None,
        command_limits: Sequence[tuple[int, float]] = SANDBOX_COMMAND_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        consent_screen: bool = False,
    ):
        self.project_id = project_id
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uris = tuple(redirect_uris)
        self.command_limits = tuple(command_limits)
        self._clock = clock
        self._lock = threading.Lock()
        self._devices: dict[str, FakeThermostat] = {}
        self._structures: list[FakeStructure] = default_structures()
        self._project_disabled = False
        self._answer_scenario: str | None = None
        self._received_cookies: list[str] = []
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, tuple[_Grant, float]] = {}
        self._refresh: dict[str, _Grant] = {}
        self._command_times: dict[str, collections.deque[float]] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        self.token_misbehaviour: str | None = None
        """A TOKEN_MISBEHAVIOURS mode every code exchange answers with, until set back to None."""
        self.consent_screen = consent_screen
        """False: /auth approves at once. True: /auth shows a consent page whose Allow button posts to
        /approve, which redirects with the code, as Google's own page does; a browser can then stop at one
        sign-in's page, start another, and come back to the first (restarted linking)."""
        self.replace_devices(default_devices() if devices is None else devices)

    # -- test hooks (the fake's own) -------------------------------------------------------------

    def grant_access_token(self) -> str:
        """An access token as if the user had linked, without the browser round trip."""
        with self._lock:
            return self._issue_access(self._consent(SDM_SCOPE))

    def replace_devices(
        self, devices: Iterable[FakeThermostat], structures: Iterable[FakeStructure] | None = None
    ) -> None:
        with self._lock:
            self._replace(list(devices), list(default_structures() if structures is None else structures))

    def add_device(self, device: FakeThermostat) -> dict:
        """A thermostat installed (or a replacement, with its new ID) after the user linked: in the home,
        shared with no grant issued so far (SDM's devices.list, devices.get and executeCommand don't see
        it for their tokens) until `share_device`; a consent given later shares it. Returns its SDM JSON."""
        with self._lock:
            return self._add_device(device)

    def share_device(self, device_id: str, token: str | None = None) -> None:
        """The user ticks the device on Partner Connections (nestservices.google.com/partnerconnections):
        shared with the grant that issued `token` (an access or refresh token), or with every grant not
        revoked when `token` is None."""
        with self._lock:
            self._share_device(device_id, token)

    def use_scenario(self, name: str) -> None:
        """Switch to one of sandbox.fake_devices.SCENARIOS ("default", "two-homes", "outage",
        "hostile-names"), make every SDM call fail as when the project's SDM API is disabled
        ("service-disabled"), or answer as one of ANSWER_SCENARIOS does with the devices as they are;
        any other scenario enables the API again and answers normally."""
        with self._lock:
            self._use_scenario(name)

    def update_device(self, device_id: str, **changes: object) -> dict:
        """Change a device as its owner would in the Nest app (mode, eco_mode), as an outage does
        (online, reporting), or make SDM refuse its commands (refusal, a sandbox.fake_devices.REFUSALS
        name; "" to accept them again); see DEVICE_UPDATES. Returns the device's new SDM JSON."""
        with self._lock:
            return self._update_device(device_id, changes)

    def nest_app_change(
        self, device_id: str, publish: Callable[[dict], object] | None = None, **changes: object
    ) -> dict:
        """The owner changes a thermostat in the Nest app (`update_device`'s changes), and SDM publishes
        the event it causes: a `resourceUpdate` carrying only the changed fields of the changed traits,
        handed to `publish` (a sandbox.fake_pubsub push to the events function). Returns the event."""
        with self._lock:
            event = self._nest_app_change(device_id, changes)
        if publish is not None and event["resourceUpdate"]["traits"]:
            publish(event)
        return event

    def _nest_app_change(self, device_id: str, changes: dict) -> dict:
        """nest_app_change's change and event, with the lock held."""
        from sandbox.fake_pubsub import sdm_event

        before = self._devices[device_id].to_sdm(self.project_id)
        after = self._update_device(device_id, changes)
        traits: dict[str, dict] = {}
        for trait, fields in after.get("traits", {}).items():
            old = before.get("traits", {}).get(trait, {})
            changed = {name: value for name, value in fields.items() if old.get(name) != value}
            if changed:
                traits[trait] = changed
        return sdm_event(resource=after["name"], traits=traits)

    def _replace(self, devices: list[FakeThermostat], structures: list[FakeStructure]) -> None:
        """A home as it was when the user linked: every grant sees all its devices (`add_device` is the
        home changing after linking)."""
        self._devices = {device.device_id: device for device in devices}
        self._structures = structures
        self._command_times.clear()
        for grant in self._grants():
            grant.shared = set(self._devices)

    def _grants(self) -> list[_Grant]:
        """Every grant with a pending code or a token, each once."""
        found = [code.grant for code in self._codes.values()]
        found += [grant for grant, _ in self._access.values()] + list(self._refresh.values())
        return list({id(grant): grant for grant in found}.values())

    def _consent(self, scope: str) -> _Grant:
        """A consent on Partner Connections with every device in the home ticked (the page's default)."""
        return _Grant(scope, shared=set(self._devices))

    def _add_device(self, device: FakeThermostat) -> dict:
        if device.device_id in self._devices:
            raise ValueError(f"device {device.device_id} is already in the home")
        if device.structure_id not in {structure.structure_id for structure in self._structures}:
            raise ValueError(f"no structure {device.structure_id} in the home")
        self._devices[device.device_id] = device
        return device.to_sdm(self.project_id)

    def _share_device(self, device_id: str, token: str | None) -> None:
        if device_id not in self._devices:
            raise KeyError(f"unknown device {device_id}")
        if token is None:
            grants = [grant for grant in self._grants() if not grant.revoked]
        else:
            grant = self._refresh.get(token) or self._access.get(token, (None, 0.0))[0]
            if grant is None or grant.revoked:
                raise KeyError("not a token of a grant in force")
            grants = [grant]
        for grant in grants:
            grant.shared.add(device_id)

    def _use_scenario(self, name: str) -> None:
        if name == "service-disabled":
            self._project_disabled = True
            return
        if name in ANSWER_SCENARIOS:
            self._answer_scenario = name
            return
        self._replace(*SCENARIOS[name]())
        self._project_disabled = False
        self._answer_scenario = None

    def received_cookies(self) -> list[str]:
        """The Cookie header of every SDM request since the fake started ("" when it had none)."""
        with self._lock:
            return list(self._received_cookies)

    def _answer_as_scenario(self, name: str, request: _Request, response: _Response) -> _Response:
        """An SDM answer as the answer scenario in use changes it."""
        self._received_cookies.append(request.cookie)
        if self._answer_scenario == "set-cookie":
            affinity = hashlib.sha256(request.authorization.encode()).hexdigest()[:16]
            response.headers.append(("Set-Cookie", f"sdm_affinity={affinity}; Path=/; HttpOnly"))
        elif name == "devices.list" and response.status == 200 and self._answer_scenario == "gzip-bomb":
            return _Response(200, gzip_bomb(), headers=[("Content-Encoding", "gzip")])
        elif name == "devices.list" and response.status == 200 and self._answer_scenario == "deep-nesting":
            return _Response(200, b'{"devices": ' + b"[" * DEEP_NESTING + b"]" * DEEP_NESTING + b"}")
        return response

    def _update_device(self, device_id: str, changes: dict) -> dict:
        for name, value in changes.items():
            if not isinstance(value, DEVICE_UPDATES.get(name, type(None))):
                raise ValueError(f"{name}={value!r}: expected one of {sorted(DEVICE_UPDATES)} with its type")
        device = replace(self._devices[device_id], **changes)  # validated before it replaces
        self._devices[device_id] = device
        return device.to_sdm(self.project_id)

    def set_online(self, device_id: str, online: bool) -> None:
        self.update_device(device_id, online=online)

    def device(self, device_id: str) -> dict:
        """The device's current SDM JSON, read without a token or a counted request."""
        with self._lock:
            return self._devices[device_id].to_sdm(self.project_id)

    def stats(self) -> dict:
        """Requests per Google route (auth, token, revoke, devices.list, devices.get, devices.executeCommand)."""
        with self._lock:
            return self._stats_body()

    def _stats_body(self) -> dict:
        return {"counts": dict(self.counts)}

    # -- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = _Request(
            method=environ["REQUEST_METHOD"],
            path=environ.get("PATH_INFO") or "/",
            query=_first_values(environ.get("QUERY_STRING", "")),
            authorization=environ.get("HTTP_AUTHORIZATION", ""),
            body=environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)),
            cookie=environ.get("HTTP_COOKIE", ""),
        )
        response = self._dispatch(request)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            *response.headers,
        ]
        start_response(f"{response.status} {HTTPStatus(response.status).phrase}", headers)
        return [response.body]

    def _dispatch(self, request: _Request) -> _Response:
        route = self._route(request)
        if route is None:
            return _page(
                404, "Error 404 (Not Found)", f"The requested URL {request.path} was not found on this server."
            )
        name, method, handler, args = route
        if request.method != method:
            return _page(
                405, "Error 405 (Method Not Allowed)", f"The request method {request.method} is inappropriate."
            )
        with self._lock:
            if name:  # the fake's own routes are not counted
                self.counts[name] += 1
            try:
                response = handler(request, *args)
            except FakeSdmError as error:
                response = _json(error.code, error.body())
            except OAuthError as error:
                return _json(error.code, {"error": error.error, "error_description": error.description})
            except PageError as error:
                return _page(error.code, error.title, error.detail)
            return self._answer_as_scenario(name, request, response) if name in _SDM_ROUTES else response

    def _route(self, request: _Request):
        path = request.path
        fixed = {
            "/oauth2/v4/token": ("token", "POST", self._token),
            "/token": ("token", "POST", self._token),
            "/revoke": ("revoke", "POST", self._revoke),
            "/__fake/health": (None, "GET", self._health),
            "/__fake/stats": (None, "GET", self._stats),
            "/__fake/token-misbehaviour": (None, "POST", self._set_token_misbehaviour),
            "/__fake/devices": (None, "POST", self._fake_add_device),
        }
        for pattern, handler in (
            (_FAKE_SCENARIO, self._fake_scenario),
            (_FAKE_DEVICE, self._fake_device),
            (_FAKE_SHARE, self._fake_share),
            (_FAKE_NEST_APP, self._fake_nest_app),
        ):
            match = pattern.match(path)
            if match:
                return None, "POST", handler, tuple(match.groupdict().values())
        if path in fixed:
            return (*fixed[path], ())
        routes: tuple[tuple[str, str, re.Pattern[str], Callable[..., _Response]], ...] = (
            ("auth", "GET", _AUTH, self._authorize),
            ("auth.approve", "POST", _APPROVE, self._approve),
            ("devices.list", "GET", _DEVICES, self._list_devices),
            ("structures.list", "GET", _STRUCTURES, self._list_structures),
            ("devices.get", "GET", _DEVICE, self._get_device),
            ("devices.executeCommand", "POST", _EXECUTE, self._execute),
        )
        for name, method, pattern, handler in routes:
            match = pattern.match(path)
            if match:
                return name, method, handler, tuple(match.groupdict().values())
        return None

    # -- fake's own routes -------------------------------------------------------------------------

    def _health(self, request: _Request) -> _Response:
        return _json(200, {"status": "ok"})

    def _stats(self, request: _Request) -> _Response:
        return _json(200, self._stats_body())

    def _set_token_misbehaviour(self, request: _Request) -> _Response:
        """`?mode=<TOKEN_MISBEHAVIOURS key>`, or an empty mode to behave again (for a fake run as a process)."""
        mode = request.query.get("mode") or None
        if mode is not None and mode not in TOKEN_MISBEHAVIOURS:
            return _json(400, {"error": f"mode must be one of {', '.join(TOKEN_MISBEHAVIOURS)}"})
        self.token_misbehaviour = mode
        return _json(200, {"token_misbehaviour": mode})

    def _fake_scenario(self, request: _Request, name: str) -> _Response:
        if name not in SCENARIOS and name != "service-disabled" and name not in ANSWER_SCENARIOS:
            return _json(
                404,
                {"error": f"unknown scenario {name}", "scenarios": [*SCENARIOS, "service-disabled", *ANSWER_SCENARIOS]},
            )
        self._use_scenario(name)
        return _json(200, {"scenario": name})

    def _fake_device(self, request: _Request, device_id: str) -> _Response:
        if device_id not in self._devices:
            return _json(404, {"error": f"unknown device {device_id}"})
        try:
            changes = json.loads(request.body or b"{}")
            return _json(200, self._update_device(device_id, changes if isinstance(changes, dict) else {"?": 0}))
        except ValueError as error:
            return _json(400, {"error": str(error)})

    def _fake_add_device(self, request: _Request) -> _Response:
        """add_device for a fake run as a process: the body is a sandbox.fake_devices.FakeThermostat's
        fields (`available_modes` a list); answers the device's SDM JSON."""
        try:
            fields = json.loads(request.body or b"{}")
            if not isinstance(fields, dict):
                raise ValueError("expected an object of FakeThermostat fields")
            if "available_modes" in fields:
                fields["available_modes"] = tuple(fields["available_modes"])
            device = FakeThermostat(**fields)
            return _json(200, self._add_device(device))
        except (ValueError, TypeError) as error:
            return _json(400, {"error": str(error)})

    def _fake_share(self, request: _Request, device_id: str) -> _Response:
        """share_device for a fake run as a process: body `{"token": ...}` for one grant, `{}` for every
        grant in force (the token goes in the body, never in the URL)."""
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as error:
            return _json(400, {"error": str(error)})
        token = body.get("token") if isinstance(body, dict) else 0
        if token is not None and not isinstance(token, str):
            return _json(400, {"error": 'expected {"token": "<access or refresh token>"} or {}'})
        try:
            self._share_device(device_id, token)
        except KeyError as error:
            return _json(404, {"error": error.args[0]})
        return _json(200, {"shared": device_id})

    def _fake_nest_app(self, request: _Request, device_id: str) -> _Response:
        """nest_app_change for a fake run as a process: the change made, the SDM event it causes
        answered for the caller to publish (a sandbox.fake_pubsub push)."""
        if device_id not in self._devices:
            return _json(404, {"error": f"unknown device {device_id}"})
        try:
            changes = json.loads(request.body or b"{}")
            return _json(200, self._nest_app_change(device_id, changes if isinstance(changes, dict) else {"?": 0}))
        except ValueError as error:
            return _json(400, {"error": str(error)})

    # -- OAuth -------------------------------------------------------------------------------------

    def _authorize(self, request: _Request, project_id: str) -> _Response:
        """Partner Connections: approves at once (redirects with a code) or, with `consent_screen`, shows the
        consent page; Google's error page for a bad request."""
        params = self._checked_authorization(project_id, request.query)
        if not self.consent_screen:
            return self._redirect_with_code(params)
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
            for name in _AUTHORIZATION_FIELDS
            if name in params
        )
        text = (
            '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Sign in - Google Accounts</title></head><body><h1>Allow access to your Nest devices?</h1>"
            f'<form method="post" action="/partnerconnections/{html.escape(project_id)}/approve">{fields}'
            '<button type="submit" id="allow">Allow</button></form></body></html>'
        )
        return _Response(200, text.encode(), "text/html; charset=utf-8")

    def _approve(self, request: _Request, project_id: str) -> _Response:
        """The consent page's Allow: the same checks, then the redirect with a code."""
        return self._redirect_with_code(
            self._checked_authorization(project_id, _first_values(request.body.decode("utf-8", "replace")))
        )

    def _checked_authorization(self, project_id: str, params: dict[str, str]) -> dict[str, str]:
        if project_id != self.project_id:
            raise PageError(404, "Error 404 (Not Found)", "Project not found.")
        for name in ("client_id", "redirect_uri", "response_type", "scope"):
            if not params.get(name):
                raise PageError(400, "Error 400: invalid_request", f"Missing required parameter: {name}")
        if params["client_id"] != self.client_id:
            raise PageError(401, "Error 401: invalid_client", "The OAuth client was not found.")
        if params["redirect_uri"] not in self.redirect_uris:
            raise PageError(
                400,
                "Error 400: redirect_uri_mismatch",
                "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 "
                "policy. Register the redirect URI in the Google Cloud Console.",
            )
        if params["response_type"] != "code":
            raise PageError(
                400, "Error 400: unsupported_response_type", f"Invalid response_type: {params['response_type']}"
            )
        return params

    def _redirect_with_code(self, params: dict[str, str]) -> _Response:
        code = "fake-code-" + secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            self._consent(params["scope"]),
            params["redirect_uri"],
            offline=params.get("access_type") == "offline",
            expires_at=self._clock() + CODE_LIFETIME_S,
        )
        reply = {"code": code, "scope": params["scope"]}
        if "state" in params:
            reply = {"state": params["state"], **reply}
        return _Response(
            302, b"", "text/html; charset=utf-8", [("Location", _with_query(params["redirect_uri"], reply))]
        )

    def _client_credentials(self, request: _Request, form: dict[str, str]) -> tuple[str, str]:
        """HTTP Basic (what Alexa sends with HTTP_BASIC) or body credentials, as Google accepts both."""
        scheme, _, encoded = request.authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client", "Unauthorized") from None
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    def _token(self, request: _Request) -> _Response:
        form = request.form()
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "Required parameter is missing: grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        client_id, secret = self._client_credentials(request, form)
        if not client_id:
            raise OAuthError(400, "invalid_request", "Could not determine client ID from request.")
        if client_id != self.client_id or not secrets.compare_digest(secret, self._client_secret):
            raise OAuthError(401, "invalid_client", "Unauthorized")
        if grant_type == "authorization_code" and self.token_misbehaviour:
            self._codes.pop(form.get("code", ""), None)  # spent, as by a real exchange that then fails
            status, content_type, body = TOKEN_MISBEHAVIOURS[self.token_misbehaviour]
            return _Response(status, body, content_type)
        if grant_type == "authorization_code":
            return _json(200, self._exchange_code(form))
        return _json(200, self._refresh_access(form))

    def _exchange_code(self, form: dict[str, str]) -> dict:
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                raise _missing(name)
        code = self._codes.pop(form["code"], None)  # single use, even when the exchange then fails
        if code is None or code.expires_at <= self._clock():
            raise _invalid_grant()
        if form["redirect_uri"] != code.redirect_uri:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        reply = {
            "access_token": self._issue_access(code.grant),
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "scope": code.grant.scope,
            "token_type": "Bearer",
        }
        if code.offline:
            refresh = "fake-refresh-" + secrets.token_urlsafe(32)
            self._refresh[refresh] = code.grant
            reply["refresh_token"] = refresh
        return reply

    def _refresh_access(self, form: dict[str, str]) -> dict:
        token = form.get("refresh_token")
        if not token:
            raise _missing("refresh_token")
        grant = self._refresh.get(token)
        if grant is None:
            raise _invalid_grant()
        if grant.revoked:
            raise _invalid_grant("Token has been expired or revoked.")
        return {
            "access_token": self._issue_access(grant),
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "scope": grant.scope,
            "token_type": "Bearer",
        }

    def _issue_access(self, grant: _Grant) -> str:
        token = "fake-access-" + secrets.token_urlsafe(32)
        self._access[token] = (grant, self._clock() + ACCESS_TOKEN_LIFETIME_S)
        return token

    def _revoke(self, request: _Request) -> _Response:
        token = request.form().get("token")
        if not token:
            raise OAuthError(400, "invalid_request", "Bad Request")
        grant = self._refresh.get(token) or self._access.get(token, (None, 0.0))[0]
        if grant is None or grant.revoked:
            raise OAuthError(400, "invalid_token", "Token expired or revoked")
        grant.revoked = True
        return _json(200, {})

    # -- SDM ---------------------------------------------------------------------------------------

    def _authenticate(self, request: _Request, project_id: str) -> _Grant:
        scheme, _, token = request.authorization.partition(" ")
        grant, expires_at = self._access.get(token, (None, 0.0)) if scheme.lower() == "bearer" else (None, 0.0)
        if grant is not None and not grant.revoked and expires_at <= self._clock():
            raise TOKEN_EXPIRED
        if grant is None or grant.revoked:
            raise UNAUTHENTICATED
        if project_id != self.project_id:
            raise FakeSdmError(404, "NOT_FOUND", f"Enterprise enterprises/{project_id} not found.")
        if self._project_disabled:
            raise service_disabled("123456789012")
        return grant

    def _find(self, grant: _Grant, project_id: str, device_id: str) -> FakeThermostat:
        """The device, or SDM's 404 for an unknown ID, which is also its answer for a device not shared
        with the caller's grant."""
        device = self._devices.get(device_id)
        if device is None or device_id not in grant.shared:
            raise FakeSdmError(404, "NOT_FOUND", f"Device enterprises/{project_id}/devices/{device_id} not found.")
        return device

    def _list_devices(self, request: _Request, project_id: str) -> _Response:
        grant = self._authenticate(request, project_id)
        shared = [device for device in self._devices.values() if device.device_id in grant.shared]
        return _json(200, {"devices": [device.to_sdm(project_id) for device in shared]})

    def _list_structures(self, request: _Request, project_id: str) -> _Response:
        self._authenticate(request, project_id)
        return _json(200, {"structures": [structure.to_sdm(project_id) for structure in self._structures]})

    def _get_device(self, request: _Request, project_id: str, device_id: str) -> _Response:
        grant = self._authenticate(request, project_id)
        return _json(200, self._find(grant, project_id, device_id).to_sdm(project_id))

    def _execute(self, request: _Request, project_id: str, device_id: str) -> _Response:
        grant = self._authenticate(request, project_id)
        device = self._find(grant, project_id, device_id)
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            raise FakeSdmError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.") from None
        if not isinstance(payload, dict):
            raise FakeSdmError(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object.")
        self._count_command(device_id)
        device.execute(payload.get("command", ""), payload.get("params", {}))
        return _json(200, {})

    def _count_command(self, device_id: str) -> None:
        """Sliding windows per device; a refused command still counts, as Google's quota does."""
        now = self._clock()
        times = self._command_times.setdefault(device_id, collections.deque())
        longest = max((window for _, window in self.command_limits), default=0.0)
        while times and times[0] <= now - longest:
            times.popleft()
        for limit, window in self.command_limits:
            if sum(1 for moment in times if moment > now - window) >= limit:
                raise RATE_LIMITED
        times.append(now)


class TricklingFront(socketserver.ThreadingTCPServer):
    """A loopback stand-in in front of `upstream` (e.g. this fake) that sends each answer back slowly,
    as a struggling Google front end might: `part="headers"` sends the status line and headers one
    line every `interval` s, `part="body"` the body one byte every `interval` s; only for request
    targets containing `only` (every request when empty). Other requests pass at full speed on a
    kept-alive connection, as Google's front ends keep them, so a warm client's next request reuses
    the socket. Every trickle stops after `max_seconds` or when the client hangs up. With `tls` (a
    server context, see sandbox.tls) it speaks HTTPS, as Google does. Use with
    sandbox.serving.in_background."""

    daemon_threads = True
    allow_reuse_address = True
    max_requests_per_connection = 100

    def __init__(
        self,
        upstream: str,
        part: str,
        interval: float = 0.4,
        max_seconds: float = 30.0,
        only: str = "",
        tls: ssl.SSLContext | None = None,
    ):
        if part not in ("headers", "body"):
            raise ValueError(f"part must be 'headers' or 'body', not {part!r}")
        super().__init__((LOOPBACK, 0), _TrickleHandler)
        upstream_parts = urlsplit(upstream)
        if not upstream_parts.hostname:
            raise ValueError(f"upstream must be a URL with a host, not {upstream!r}")
        self.upstream: tuple[str, int | None] = (upstream_parts.hostname, upstream_parts.port)
        self.part, self.interval, self.max_seconds, self.only, self.tls = part, interval, max_seconds, only, tls
        self.url_scheme = "http" if tls is None else "https"
        self.connections = 0
        """Connections accepted so far: how a test sees that a client reused one."""


class _TrickleHandler(ServesTls, socketserver.StreamRequestHandler):
    server: TricklingFront

    def handle(self) -> None:
        self.server.connections += 1
        if self.handshake_failed:
            return
        try:
            for _ in range(self.server.max_requests_per_connection):
                if not self._answer_one():
                    return
        except (OSError, ssl.SSLError):
            return  # the client gave up: exactly what a deadline should make it do

    def _answer_one(self) -> bool:
        """Relay one request; True when the connection stays open for the next."""
        request_line = self.rfile.readline(65537).decode("latin-1").split()
        if len(request_line) != 3:
            return False
        method, target, _ = request_line
        headers = {}
        while line := self.rfile.readline(65537).decode("latin-1").strip():
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(*self.server.upstream, timeout=10)
        try:
            upstream.request(
                method,
                target,
                body=body,
                headers={k: v for k, v in headers.items() if k.lower() not in ("host", "connection")},
            )
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        trickled = self.server.only in target
        head = [f"HTTP/1.1 {answer.status} {answer.reason}"]
        head += [
            f"{k}: {v}"
            for k, v in answer.getheaders()
            if k.lower() not in ("connection", "content-length", "transfer-encoding")
        ]
        head += [f"Content-Length: {len(payload)}", "Connection: close" if trickled else "Connection: keep-alive", ""]
        if not trickled:
            self.wfile.write("\r\n".join(head).encode("latin-1") + b"\r\n" + payload)
            self.wfile.flush()
            return True
        if self.server.part == "headers":
            pieces = [(line + "\r\n").encode("latin-1") for line in head] + [payload]
        else:
            pieces = ["\r\n".join(head).encode("latin-1") + b"\r\n"] + [payload[i : i + 1] for i in range(len(payload))]
        deadline = time.monotonic() + self.server.max_seconds
        for index, piece in enumerate(pieces):
            if index and time.monotonic() + self.server.interval > deadline:
                return False
            if index:
                time.sleep(self.server.interval)
            self.wfile.write(piece)
            self.wfile.flush()
        return False


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.fake_google", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=LOOPBACK, help=f"must be {LOOPBACK}: the fake never listens elsewhere")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--project-id", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument(
        "--redirect-uri",
        action="append",
        required=True,
        dest="redirect_uris",
        help="an authorized redirect URI of the OAuth client (repeat for several)",
    )
    args = parser.parse_args(argv)
    if args.host != LOOPBACK:
        parser.error(f"--host must be {LOOPBACK}, not {args.host}")
    secret = os.environ.get("FAKE_GOOGLE_CLIENT_SECRET")
    if not secret:
        parser.error("set FAKE_GOOGLE_CLIENT_SECRET (the client secret never goes on the command line)")
    serve(FakeGoogle(args.project_id, args.client_id, secret, args.redirect_uris), args.port, "fake google")


if __name__ == "__main__":
    main()
