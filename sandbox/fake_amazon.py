"""Stand-ins for Amazon's side of live state, and Google's tokeninfo, on 127.0.0.1:

- `FakeLwa`: Login with Amazon's token endpoint (POST /auth/o2/token): AcceptGrant's authorization
  codes (issued by `issue_code`, one per Alexa customer) exchanged for a token pair with the skill's
  messaging client, refresh tokens refreshed, `revoke` making a customer's refresh token
  `invalid_grant`; it counts exchanges and refreshes per customer. Its tokeninfo
  (GET /auth/o2/tokeninfo?access_token=…) names the customer of an unexpired access token
  (`user_id`, `user_id_of(customer)`) and the client it was issued to (`aud`), else 400
  `invalid_token`; `tokeninfo_answer` replaces its answer (status, document).
- `FakeEventGateway`: the three regional gateways (NA, EU, FE: /v3/events on a port each), recording
  every event they receive; an event with an access token LWA did not issue, or that expired, is
  401 INVALID_ACCESS_TOKEN_EXCEPTION; `behave(region, ...)` makes a region answer 403
  SKILL_DISABLED_EXCEPTION or INSUFFICIENT_PERMISSION_EXCEPTION, 404, 429, 500, slowly, or never.
- `FakeTokenInfo`: Google's tokeninfo (POST /tokeninfo, form `access_token`), answering the `sub`
  registered for a token.

Usage (the demo): python -m sandbox.fake_amazon --port-lwa N --port-na N --port-eu N --port-fe N
    --client-id ID --client-secret SECRET; it serves until SIGTERM. Request logs carry paths only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs

from sandbox.serving import running

REGIONS = ("NA", "EU", "FE")
ACCESS_TTL_S = 3600
NEVER_S = 30.0
"""How long "never" holds a request: longer than any skill deadline, and bounded."""


def _answer(start_response: Callable, status: int, document: dict | None = None) -> list[bytes]:
    body = json.dumps(document).encode() if document is not None else b""
    reason = {
        200: "OK",
        202: "Accepted",
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        429: "Too Many Requests",
        500: "Internal Server Error",
    }.get(status, "Error")
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _form(environ: dict) -> dict[str, str]:
    size = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(min(size, 64 * 1024)).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw).items()}


@dataclass
class _Customer:
    name: str
    refresh_token: str = ""
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at (time.time())
    exchanges: int = 0
    refreshes: int = 0


class FakeLwa:
    """LWA's token endpoint for one skill's messaging client."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        access_ttl_s: int = ACCESS_TTL_S,
        clock: Callable[[], float] = time.time,
    ):
        self.client_id, self.client_secret = client_id, client_secret
        self.access_ttl_s = access_ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Customer] = {}
        self._customers: dict[str, _Customer] = {}
        self.failing_status: int | None = None
        self.tokeninfo_answer: tuple[int, dict] | None = None
        self.tokeninfo_asked = 0

    @staticmethod
    def user_id_of(customer: str) -> str:
        """The Alexa account ID tokeninfo gives for `customer` (LWA's shape: amzn1.account.<upper alnum>)."""
        return "amzn1.account." + hashlib.sha256(customer.encode()).hexdigest()[:28].upper()

    def issue_code(self, customer: str) -> str:
        """An authorization code as Alexa puts in AcceptGrant for `customer` (an Alexa account)."""
        with self._lock:
            record = self._customers.setdefault(customer, _Customer(customer))
            code = "ANcode" + secrets.token_urlsafe(12)
            self._codes[code] = record
            return code

    def revoke(self, customer: str) -> None:
        """The customer disabled the skill: their refresh and access tokens stop working."""
        with self._lock:
            record = self._customers[customer]
            record.refresh_token = ""
            record.access_tokens.clear()

    def expire_access(self, customer: str) -> None:
        """Every access token of `customer` expires now (LWA's, not the skill's, view)."""
        with self._lock:
            record = self._customers[customer]
            record.access_tokens = {t: 0.0 for t in record.access_tokens}

    def valid(self, access_token: str) -> str | None:
        """The customer an unexpired access token belongs to, else None."""
        now = self._clock()
        with self._lock:
            for record in self._customers.values():
                if record.access_tokens.get(access_token, 0.0) > now:
                    return record.name
        return None

    def stats(self, customer: str) -> dict[str, int]:
        with self._lock:
            record = self._customers[customer]
            return {"exchanges": record.exchanges, "refreshes": record.refreshes}

    def tokeninfo(self, environ: dict, start_response: Callable) -> list[bytes]:
        with self._lock:
            self.tokeninfo_asked += 1
        if self.tokeninfo_answer is not None:
            return _answer(start_response, *self.tokeninfo_answer)
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        token = query.get("access_token", "")
        customer = self.valid(token)
        if customer is None:
            return _answer(start_response, 400, {"error": "invalid_token", "error_description": "invalid token"})
        now = self._clock()
        with self._lock:
            expires_at = self._customers[customer].access_tokens[token]
        return _answer(
            start_response,
            200,
            {
                "iss": "https://www.amazon.com",
                "user_id": self.user_id_of(customer),
                "aud": self.client_id,
                "app_id": "amzn1.application.fake",
                "exp": int(expires_at - now),
                "iat": int(now),
            },
        )

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO") == "/auth/o2/tokeninfo" and environ.get("REQUEST_METHOD") == "GET":
            return self.tokeninfo(environ, start_response)
        if environ.get("PATH_INFO") != "/auth/o2/token" or environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 404, {"error": "not_found"})
        if self.failing_status is not None:
            return _answer(start_response, self.failing_status, {"error": "server_error"})
        form = _form(environ)
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return _answer(start_response, 401, {"error": "invalid_client"})
        with self._lock:
            if form.get("grant_type") == "authorization_code":
                record = self._codes.pop(form.get("code", ""), None)  # a code is used once
                if record is None:
                    return _answer(start_response, 400, {"error": "invalid_grant"})
                record.exchanges += 1
                record.refresh_token = "Atzr|" + secrets.token_urlsafe(24)
            elif form.get("grant_type") == "refresh_token":
                record = next(
                    (
                        r
                        for r in self._customers.values()
                        if r.refresh_token and r.refresh_token == form.get("refresh_token")
                    ),
                    None,
                )
                if record is None:
                    return _answer(start_response, 400, {"error": "invalid_grant"})
                record.refreshes += 1
            else:
                return _answer(start_response, 400, {"error": "unsupported_grant_type"})
            access = "Atza|" + secrets.token_urlsafe(24)
            record.access_tokens[access] = self._clock() + self.access_ttl_s
            return _answer(
                start_response,
                200,
                {
                    "access_token": access,
                    "refresh_token": record.refresh_token,
                    "token_type": "bearer",
                    "expires_in": self.access_ttl_s,
                },
            )


@dataclass
class Received:
    region: str
    customer: str | None
    event: dict[str, Any]


class FakeEventGateway:
    """The NA, EU and FE gateways: each region's WSGI app records what it receives and answers as
    `behave` says (default: 202, or 401 for a token `lwa` does not recognise)."""

    BEHAVIOURS: ClassVar[dict[str, tuple[int, str]]] = {
        "403 skill disabled": (403, "SKILL_DISABLED_EXCEPTION"),
        "403 insufficient permission": (403, "INSUFFICIENT_PERMISSION_EXCEPTION"),
        "404 account not found": (404, "ACCOUNT_NOT_FOUND_EXCEPTION"),
        "429": (429, "THROTTLING_EXCEPTION"),
        "500": (500, "INTERNAL_SERVICE_EXCEPTION"),
    }

    def __init__(self, lwa: FakeLwa):
        self._lwa = lwa
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self._behaviour: dict[str, str] = {region: "accept" for region in REGIONS}
        self._delay: dict[str, float] = {region: 0.0 for region in REGIONS}

    def behave(self, region: str, behaviour: str = "accept", delay_s: float = 0.0) -> None:
        """`behaviour`: "accept", one of BEHAVIOURS, or "never" (holds the request NEVER_S);
        `delay_s` delays any answer."""
        if behaviour not in ("accept", "never", *self.BEHAVIOURS):
            raise ValueError(behaviour)
        self._behaviour[region], self._delay[region] = behaviour, delay_s

    def app(self, region: str) -> Callable:
        def serve(environ: dict, start_response: Callable) -> list[bytes]:
            if environ.get("PATH_INFO") != "/v3/events" or environ.get("REQUEST_METHOD") != "POST":
                return _answer(start_response, 404, None)
            size = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                event = json.loads(environ["wsgi.input"].read(min(size, 1024 * 1024)))
            except ValueError:
                return _answer(start_response, 400, _error("INVALID_REQUEST_EXCEPTION"))
            token = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
            customer = self._lwa.valid(token)
            with self._lock:
                self.received.append(Received(region, customer, event))
            behaviour = self._behaviour[region]
            time.sleep(NEVER_S if behaviour == "never" else self._delay[region])
            if behaviour in self.BEHAVIOURS:
                status, code = self.BEHAVIOURS[behaviour]
                return _answer(start_response, status, _error(code))
            if customer is None:
                return _answer(start_response, 401, _error("INVALID_ACCESS_TOKEN_EXCEPTION"))
            return _answer(start_response, 202, None)

        return serve

    def events(self, region: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if region is None or r.region == region]


def _error(code: str) -> dict:
    return {"header": {"messageId": secrets.token_hex(8)}, "payload": {"code": code, "description": code}}


class FakeTokenInfo:
    """Google's tokeninfo for access tokens: the `sub` of a registered token, else 400. `asked`
    counts the requests."""

    def __init__(self) -> None:
        self._subs: dict[str, str] = {}
        self.default_sub: str | None = None
        self.asked = 0

    def register(self, access_token: str, sub: str) -> None:
        self._subs[access_token] = sub

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO") != "/tokeninfo":
            return _answer(start_response, 404, None)
        self.asked += 1
        sub = self._subs.get(_form(environ).get("access_token", ""), self.default_sub)
        if sub is None:
            return _answer(start_response, 400, {"error": "invalid_token"})
        return _answer(start_response, 200, {"sub": sub, "expires_in": 3599})


@dataclass
class AmazonStandIns:
    lwa: FakeLwa
    gateway: FakeEventGateway
    tokeninfo: FakeTokenInfo
    lwa_url: str
    gateway_urls: dict[str, str]
    tokeninfo_url: str


@contextlib.contextmanager
def serving(client_id: str, client_secret: str, clock: Callable[[], float] = time.time) -> Iterator[AmazonStandIns]:
    """Every stand-in served from background threads (tests, benchmarks)."""
    lwa = FakeLwa(client_id, client_secret, clock=clock)
    gateway = FakeEventGateway(lwa)
    tokeninfo = FakeTokenInfo()
    with contextlib.ExitStack() as stack:
        lwa_base = stack.enter_context(running(lwa))
        urls = {region: stack.enter_context(running(gateway.app(region))) + "/v3/events" for region in REGIONS}
        info_base = stack.enter_context(running(tokeninfo))
        yield AmazonStandIns(lwa, gateway, tokeninfo, lwa_base + "/auth/o2/token", urls, info_base + "/tokeninfo")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("lwa", "na", "eu", "fe", "tokeninfo"):
        parser.add_argument(f"--port-{name}", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True, help="a file holding the messaging client secret")
    parser.add_argument("--sub", default="demo-google-account", help="the sub tokeninfo gives every token")
    args = parser.parse_args(argv)
    with open(args.client_secret_file) as handle:
        secret = handle.read().strip()
    lwa = FakeLwa(args.client_id, secret)
    gateway = FakeEventGateway(lwa)
    tokeninfo = FakeTokenInfo()
    tokeninfo.default_sub = args.sub
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        stack.enter_context(running(lwa, args.port_lwa))
        for region in REGIONS:
            stack.enter_context(running(gateway.app(region), getattr(args, f"port_{region.lower()}")))
        stack.enter_context(running(tokeninfo, args.port_tokeninfo))
        print("amazon stand-ins listening", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
