"""A stand-in for Cloud Pub/Sub's authenticated push, on 127.0.0.1, so that the events function's real
verification code (google-auth) runs against keys it fetches as it would Google's:

- `FakePubSub` holds an RSA key (made at start, never written to disk) and serves its certificate the
  way Google serves its own (GET /oauth2/v1/certs: `{"<key id>": "<x509 PEM>"}` with a Cache-Control
  max-age, as https://www.googleapis.com/oauth2/v1/certs does); it counts the fetches.
- `token(kind)` makes the OIDC token Pub/Sub sends (RS256, `iss` https://accounts.google.com, `aud`,
  `email`, `email_verified`, `iat`, `exp`), or one of the tokens push authentication must refuse:
  forged (signed by another key under the same key id), expired, wrong audience, wrong email,
  unverified email, a foreign issuer, `alg: none`, HS256.
- `envelope(sdm_event)` wraps an SDM event as Pub/Sub's push body (`message.data` base64,
  `messageId`, `publishTime`, `subscription`); `function_url_request(...)` is the Lambda function
  URL event (payload format 2.0) that body arrives in; `push(url, ...)` POSTs it over HTTP.
- `function_url_app(handler)`: a WSGI app standing in for a Lambda function URL in front of a handler,
  so the demo and the benchmark push over loopback HTTP as Pub/Sub would.
- `sdm_event(...)`: SDM's event shapes (developers.google.com/nest/device-access/api/events):
  `resourceUpdate {name, traits}` and `relationUpdate {type, subject, object}`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sandbox.serving import running

AUDIENCE = "https://events.example.test/"
SERVICE_ACCOUNT = "nest-events-push@owner-project.iam.gserviceaccount.com"
SUBSCRIPTION = "projects/owner-project/subscriptions/nest-events"
CERTS_PATH = "/oauth2/v1/certs"
CERTS_MAX_AGE_S = 21600
TOKEN_KINDS = (
    "valid",
    "forged",
    "expired",
    "wrong-audience",
    "wrong-email",
    "unverified-email",
    "wrong-issuer",
    "alg-none",
    "hs256",
    "unknown-key",
)
_counter = itertools.count(1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _key_and_certificate() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-pubsub")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM).decode()


class FakePubSub:
    def __init__(self, audience: str = AUDIENCE, service_account: str = SERVICE_ACCOUNT):
        self.audience = audience
        self.service_account = service_account
        self._key, certificate = _key_and_certificate()
        self._forger, _ = _key_and_certificate()
        self.key_id = uuid.uuid4().hex
        self._certs = {self.key_id: certificate}
        self._lock = threading.Lock()
        self.cert_fetches = 0
        self.certs_status = 200

    # -- Google's certificates --------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO") != CERTS_PATH or environ.get("REQUEST_METHOD") != "GET":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b""]
        with self._lock:
            self.cert_fetches += 1
        if self.certs_status != 200:
            start_response(f"{self.certs_status} Unavailable", [("Content-Type", "text/plain")])
            return [b""]
        body = json.dumps(self._certs).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json; charset=UTF-8"),
                ("Cache-Control", f"public, max-age={CERTS_MAX_AGE_S}, must-revalidate"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    # -- tokens -----------------------------------------------------------------------------------

    def token(self, kind: str = "valid", now: float | None = None) -> str:
        if kind not in TOKEN_KINDS:
            raise ValueError(kind)
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "aud": self.audience,
            "azp": "113774264463038321964",
            "email": self.service_account,
            "email_verified": True,
            "iat": issued,
            "exp": issued + 3600,
            "iss": "https://accounts.google.com",
            "sub": "113774264463038321964",
        }
        header = {"alg": "RS256", "kid": self.key_id, "typ": "JWT"}
        key = self._key
        if kind == "forged":
            key = self._forger
        elif kind == "expired":
            claims["iat"], claims["exp"] = issued - 7200, issued - 3600
        elif kind == "wrong-audience":
            claims["aud"] = "https://someone-else.example.test/"
        elif kind == "wrong-email":
            claims["email"] = "attacker@other-project.iam.gserviceaccount.com"
        elif kind == "unverified-email":
            claims["email_verified"] = False
        elif kind == "wrong-issuer":
            claims["iss"] = "https://issuer.example.test"
        elif kind == "unknown-key":
            header["kid"] = uuid.uuid4().hex
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        if kind == "alg-none":
            return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{signing_input.split('.')[1]}."
        if kind == "hs256":
            import hmac

            hs_header = _b64(json.dumps({"alg": "HS256", "kid": self.key_id, "typ": "JWT"}).encode())
            hs_input = f"{hs_header}.{signing_input.split('.')[1]}"
            # The classic confusion attack: the public certificate used as an HMAC secret.
            mac = hmac.new(self._certs[self.key_id].encode(), hs_input.encode(), "sha256").digest()
            return f"{hs_input}.{_b64(mac)}"
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def authorization(self, kind: str = "valid") -> str:
        return f"Bearer {self.token(kind)}"


# -- push bodies ----------------------------------------------------------------------------------


def sdm_timestamp(moment: float) -> str:
    """RFC 3339 with microseconds, as SDM writes `timestamp`."""
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sdm_event(
    *,
    resource: str | None = None,
    traits: Mapping[str, Any] | None = None,
    relation: tuple[str, str, str] | None = None,
    at: float | None = None,
    event_id: str | None = None,
    user_id: str = "AVPHwEuBfnPOnTqzVFT4IONX2Qqhu9EJ4ubO-bNnQ-yi",
) -> dict:
    """An SDM event: a `resourceUpdate` of `resource` with `traits` (full trait names), or a
    `relationUpdate` (type, subject, object)."""
    document: dict[str, Any] = {
        "eventId": event_id or str(uuid.uuid4()),
        "timestamp": sdm_timestamp(time.time() if at is None else at),
        "userId": user_id,
    }
    if relation is not None:
        kind, subject, obj = relation
        document["relationUpdate"] = {"type": kind, "subject": subject, "object": obj}
    else:
        document["resourceUpdate"] = {"name": resource, "traits": dict(traits or {})}
        document["resourceGroup"] = [resource]
    return document


def envelope(event: Mapping[str, Any]) -> dict:
    """Pub/Sub's push body (cloud.google.com/pubsub/docs/push: "wrapped" payload)."""
    number = str(next(_counter))
    return {
        "message": {
            "data": base64.b64encode(json.dumps(event).encode()).decode(),
            "messageId": number,
            "message_id": number,
            "publishTime": sdm_timestamp(time.time()),
            "publish_time": sdm_timestamp(time.time()),
            "attributes": {},
        },
        "subscription": SUBSCRIPTION,
    }


def function_url_request(
    body: str | bytes, authorization: str | None, method: str = "POST", base64_encoded: bool = False
) -> dict:
    """The event a Lambda function URL hands its function (payload format version 2.0)."""
    headers = {
        "content-type": "application/json",
        "user-agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
    }
    if authorization is not None:
        headers["authorization"] = authorization
    text = body.decode() if isinstance(body, bytes) else body
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {
                "method": method,
                "path": "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers["user-agent"],
            },
            "requestId": str(uuid.uuid4()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": text,
        "isBase64Encoded": base64_encoded,
    }


def push_request(pubsub: FakePubSub, event: Mapping[str, Any], kind: str = "valid") -> dict:
    """The function URL event of one authenticated push of `event`."""
    return function_url_request(json.dumps(envelope(event)), pubsub.authorization(kind))


def push(url: str, pubsub: FakePubSub, event: Mapping[str, Any], kind: str = "valid", timeout_s: float = 15.0) -> int:
    """POST one push of `event` to `url` as Pub/Sub does; the status it got."""
    answer = requests.post(
        url, json=envelope(event), headers={"Authorization": pubsub.authorization(kind)}, timeout=timeout_s
    )
    return answer.status_code


MAX_FORWARDED_BYTES = 6 * 1024 * 1024
"""Lambda's own limit on a synchronous invocation's request."""


def function_url_app(handler: Callable[[dict, Any], dict]) -> Callable:
    """A WSGI app in front of `handler` as a Lambda function URL is: the request as a 2.0 event, the
    handler's statusCode/headers/body as the answer."""

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(size, MAX_FORWARDED_BYTES)) if size else b""
        authorization = environ.get("HTTP_AUTHORIZATION")
        request = function_url_request(
            base64.b64encode(body).decode(),
            authorization,
            method=environ.get("REQUEST_METHOD", "GET"),
            base64_encoded=True,
        )
        answer = handler(request, None)
        status = int(answer.get("statusCode", 502))
        text = str(answer.get("body") or "").encode()
        start_response(
            f"{status} -",
            [*((str(k), str(v)) for k, v in (answer.get("headers") or {}).items()), ("Content-Length", str(len(text)))],
        )
        return [text]

    return app


@contextlib.contextmanager
def serving(audience: str = AUDIENCE, service_account: str = SERVICE_ACCOUNT) -> Iterator[tuple[FakePubSub, str]]:
    """The stand-in's certificates served from a background thread; yields it and its certs URL."""
    pubsub = FakePubSub(audience, service_account)
    with running(pubsub) as base:
        yield pubsub, base + CERTS_PATH
