"""Google's Smart Device Management REST API, as the skill needs it: list devices and structures,
read one device, execute a command.

One `requests.Session` per warm container keeps the TLS connection to Google open between
invocations. Every call shares one deadline per Alexa request, so that even a hung API leaves time
to speak an answer within Alexa's ~8 s. SDM allows only 5 device or structure lists per minute per
user, so a warm container keeps each user's lists for a short while; the cache key is a hash, never
the token.

The deadline is a wall clock, not a per-read timeout: requests' timeouts restart with every socket
read, so a server trickling its headers or body a byte at a time would hold the request for as
long as it likes. Each exchange therefore runs under a watchdog (one thread per container) that,
when the deadline passes, shuts down the exchange's socket (`shutdown(2)` wakes the blocked read at once, whatever
it was reading), and the failure is reported as TimedOut. The per-read timeout is still set to the
time remaining, so a silent server ends the same way without the watchdog.

Every answer is read through the same bounds, whoever's it is: at most MAX_ANSWER_BYTES once decoded
(a gzip body inflating past it is cut off after MAX_ANSWER_BYTES, never held whole), JSON nested
past the parser's depth is not JSON, and the session keeps no cookies, so nothing one user's answer
sets goes out with another user's request.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.cookiejar
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from nest_skill.config import SkillConfig

log = logging.getLogger(__name__)

# Alexa waits about 8 s; answering by ~6 s leaves room for Alexa's own hops.
SDM_BUDGET_S = 5.5
# Stop SDM this long before Lambda itself would time out, to still return the apology.
LAMBDA_MARGIN_S = 0.5
CONNECT_TIMEOUT_S = 1.5
# Below this there is no point starting a request.
MIN_REQUEST_S = 0.1
DEVICE_CACHE_TTL_S = 30.0
DEVICE_CACHE_MAX_USERS = 64
# ErrorInfo reasons of a 403 that another linking can cure: the user's own grant is too narrow. Any
# other reason (SERVICE_DISABLED, BILLING_DISABLED, CONSUMER_INVALID, ...) is the operator's project.
USER_GRANT_REASONS = frozenset({"ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
# The most an SDM answer may hold once decoded. A thermostat with every trait is about 1.4 KB of SDM's
# indented JSON, a camera or doorbell about 3 KB, a structure or room a few hundred bytes: a device
# list of 300 devices (Alexa's own ceiling of endpoints per user) is under 1 MB. Parsed, 1 MiB of the
# densest JSON (empty objects) takes about 25 MB of the function's 1024 MB.
MAX_ANSWER_BYTES = 1024 * 1024
_READ_CHUNK_BYTES = 64 * 1024
# An access token that can be an HTTP header: printable ASCII, at most 4096 characters. Google's are
# up to 2048 bytes of RFC 6750's b64token characters (developers.google.com/identity/protocols/oauth2);
# anything else was not issued by Google, and a line break or a non-Latin-1 character would fail in
# http.client rather than get Google's 401.
_BEARER_TOKEN = re.compile(r"^[\x20-\x7e]{1,4096}\Z")


class Deadline:
    """When SDM must have answered for this Alexa request's reply to arrive in time."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._end = clock() + max(seconds, 0.0)

    @classmethod
    def for_request(cls, lambda_context: Any = None) -> Deadline:
        """SDM_BUDGET_S from now, shortened when the Lambda function itself has less time left."""
        budget = SDM_BUDGET_S
        remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
        if callable(remaining_ms):
            budget = min(budget, remaining_ms() / 1000.0 - LAMBDA_MARGIN_S)
        return cls(budget)

    def remaining(self) -> float:
        return max(self._end - self._clock(), 0.0)


EXECUTE_COMMAND = "devices.executeCommand"


class SdmError(Exception):
    """An SDM call that did not succeed. Messages hold no token and no response body."""

    def __init__(self, operation: str, status: int | None = None, detail: str = "", reason: str = ""):
        super().__init__(
            f"{operation}: {type(self).__name__} (HTTP {status})" if status else f"{operation}: {type(self).__name__}"
        )
        self.operation = operation
        self.status = status
        self.detail = detail
        self.reason = reason  # the first `error.details[]` ErrorInfo `reason`, when SDM gave one


class Unauthenticated(SdmError):
    """401 UNAUTHENTICATED: the linked token was revoked or Alexa could not refresh it."""


class PermissionDenied(SdmError):
    """403 PERMISSION_DENIED about the user's own grant: a device or scope not shared when linking."""


class ProjectUnavailable(SdmError):
    """403 PERMISSION_DENIED for the operator's Device Access / Cloud project (ErrorInfo `reason`
    such as SERVICE_DISABLED): linking again cannot help, only the operator can."""


class NotFound(SdmError):
    """404 NOT_FOUND: the device (or the enterprise) is gone, or (on executeCommand) the command is
    one SDM does not know: its errors page documents 404 for an invalid command name too."""


class RateLimited(SdmError):
    """429 RESOURCE_EXHAUSTED: SDM's per-user, per-device quotas."""


class FailedPrecondition(SdmError):
    """400 FAILED_PRECONDITION: the thermostat's state does not allow the command; `detail` says why."""


class Rejected(SdmError):
    """Any other 4xx, such as INVALID_ARGUMENT."""


class UnknownCommand(Rejected):
    """404 NOT_FOUND on executeCommand for a device that a fresh `devices.get` still finds (raised
    by NestAccount.carry_out): what SDM did not find is the command, not the device."""


class Unavailable(SdmError):
    """5xx or an answer SDM never gives (a redirect, an unexpected status). 503 UNAVAILABLE: the
    service did not take the request."""


class ServerFailed(Unavailable):
    """500 INTERNAL or UNKNOWN, 504 DEADLINE_EXCEEDED (or those HTTP codes without a status): SDM took
    the request and failed while carrying it out, so a command may have run all the same. Google's
    google.rpc.Code: DEADLINE_EXCEEDED "may be returned even if the operation has completed
    successfully"; INTERNAL means "some invariants expected by the underlying system have been
    broken"; UNKNOWN is an error with no more information. None of them says nothing was done."""

    @property
    def command_may_have_run(self) -> bool:
        return self.operation == EXECUTE_COMMAND


class InvalidResponse(SdmError):
    """A success status whose body is not the documented JSON."""


class NoAnswer(SdmError):
    """SDM's answer never came. `sent`: a connection to SDM was open, so the request may have
    reached it: a command may have been carried out all the same."""

    def __init__(self, operation: str, sent: bool = False):
        super().__init__(operation)
        self.sent = sent

    @property
    def command_may_have_run(self) -> bool:
        return self.sent and self.operation == EXECUTE_COMMAND


class Unreachable(NoAnswer):
    """No connection to SDM, or the connection broke before the answer."""


class TimedOut(NoAnswer):
    """SDM did not answer before the request's deadline."""


# google.rpc.Code names (error.status) first, the HTTP code only when the body has none.
_BY_RPC_STATUS = {
    "UNAUTHENTICATED": Unauthenticated,
    "NOT_FOUND": NotFound,
    "RESOURCE_EXHAUSTED": RateLimited,
    "FAILED_PRECONDITION": FailedPrecondition,
    "INTERNAL": ServerFailed,
    "UNKNOWN": ServerFailed,
    "DEADLINE_EXCEEDED": ServerFailed,
    "UNAVAILABLE": Unavailable,
}
_BY_HTTP_STATUS = {401: Unauthenticated, 404: NotFound, 429: RateLimited, 500: ServerFailed, 504: ServerFailed}


def _no_cookies() -> http.cookiejar.CookiePolicy:
    """Accepts no cookie and sends none (an empty allow-list blocks every domain): SDM's API needs none,
    and a session is shared by every user of a warm container."""
    return http.cookiejar.DefaultCookiePolicy(allowed_domains=[])


_NOT_JSON = object()
"""What `_document` returns for a body that is not JSON, or nested too deep to parse."""


def _document(body: bytes) -> Any:
    """The body as JSON, else _NOT_JSON: not UTF-8 JSON, or nested deeper than the parser recurses
    (a device list nested 100,000 deep raises RecursionError, not ValueError)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return _NOT_JSON


class _TtlCache:
    """One SDM list per user for a short TTL, keyed by a hash of the access token."""

    def __init__(self, ttl_s: float, max_users: int, clock: Callable[[], float]):
        self._ttl_s = ttl_s
        self._max_users = max_users
        self._clock = clock
        self._entries: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, key: str) -> list[dict[str, Any]] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: str, items: list[dict[str, Any]]) -> None:
        """Only after get() missed, so `key` is not in the cache."""
        if len(self._entries) >= self._max_users:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (self._clock() + self._ttl_s, items)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)


_current = threading.local()


class _Exchange:
    """One SDM exchange's wall-clock end and the sockets it has used so far."""

    def __init__(self, watchdog: _Watchdog, seconds: float):
        self.end = time.monotonic() + seconds
        self.sockets: list[socket.socket] = []
        self.expired = False
        self._watchdog = watchdog

    def watch(self, sock: socket.socket | None) -> None:
        if sock is not None:
            self._watchdog.watch(self, sock)

    def __enter__(self) -> _Exchange:
        _current.exchange = self
        self._watchdog.start(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _current.exchange = None
        self._watchdog.finish(self)


class _Watchdog:
    """One daemon thread per container that severs the sockets of every exchange past its end.
    Starting a thread per exchange, or waking it for each, would cost more than a loopback
    exchange itself: it is woken only when an exchange ends before the time it sleeps until."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._running: list[_Exchange] = []
        self._thread: threading.Thread | None = None
        self._wakes_at = float("inf")

    def start(self, exchange: _Exchange) -> None:
        with self._condition:
            self._running.append(exchange)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sdm-deadline", daemon=True)
                self._thread.start()
            if exchange.end < self._wakes_at:
                self._condition.notify()

    def finish(self, exchange: _Exchange) -> None:
        with self._condition:
            if exchange in self._running:
                self._running.remove(exchange)

    def watch(self, exchange: _Exchange, sock: socket.socket) -> None:
        with self._condition:
            exchange.sockets.append(sock)
            if exchange.expired:
                _sever(sock)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for exchange in [e for e in self._running if e.end <= now]:
                    exchange.expired = True
                    for sock in exchange.sockets:
                        _sever(sock)
                    self._running.remove(exchange)
                self._wakes_at = min((e.end for e in self._running), default=float("inf"))
                self._condition.wait(None if self._running == [] else self._wakes_at - now)


def _watch(sock: socket.socket | None) -> None:
    """Every request on the session runs inside an _Exchange (SdmClient._call), on this thread."""
    _current.exchange.watch(sock)


def _sever(sock: socket.socket) -> None:
    """Shut the socket down under any TLS layer, so a read blocked in another thread returns at once.
    (The response, not the connection, holds the socket once the server says it will close.)"""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _WatchedConnection(HTTPConnection):
    """Shows the running exchange's watchdog a new socket as soon as it is connected (over HTTPS: once
    TLS has wrapped it)."""

    def connect(self) -> None:
        super().connect()
        _watch(self.sock)


class _WatchedPool(HTTPConnectionPool):
    """Shows the running exchange's watchdog a kept-alive socket when the pool hands it out (a new
    connection has none yet: it is shown on connect)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)
        _watch(getattr(connection, "sock", None))  # urllib3 types the pool's connections without their socket
        return connection


class _WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(_WatchedPool, HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class SdmClient:
    def __init__(self, config: SkillConfig, clock: Callable[[], float] = time.monotonic):
        self._base_url = config.sdm_api_base_url
        enterprise = f"{config.sdm_api_base_url}/enterprises/{config.nest_project_id}"
        self._devices_url = f"{enterprise}/devices"
        self._structures_url = f"{enterprise}/structures"
        session = requests.Session()
        # Lambda has no proxy or .netrc: skip looking them up on every call.
        session.trust_env = False
        session.cookies.set_policy(_no_cookies())
        for scheme in ("http://", "https://"):
            session.mount(scheme, _WatchedAdapter())
        self._session = session
        self._clock = clock
        self._watchdog = _Watchdog()
        self._devices = _TtlCache(DEVICE_CACHE_TTL_S, DEVICE_CACHE_MAX_USERS, clock)
        self._structures = _TtlCache(DEVICE_CACHE_TTL_S, DEVICE_CACHE_MAX_USERS, clock)

    def list_devices(self, token: str, deadline: Deadline) -> list[dict[str, Any]]:
        """The user's devices (SDM device JSON, enterprises.devices.list), from the warm cache when fresh."""
        return self._list("devices.list", self._devices_url, "devices", self._devices, token, deadline)

    def list_structures(self, token: str, deadline: Deadline) -> list[dict[str, Any]]:
        """The user's structures (homes; enterprises.structures.list), from the warm cache when fresh."""
        return self._list("structures.list", self._structures_url, "structures", self._structures, token, deadline)

    def get_device(self, token: str, device_name: str, deadline: Deadline) -> dict[str, Any]:
        """One device as SDM has it now (enterprises.devices.get); drops the user's cached list, which
        is then known to be stale."""
        _check_token("devices.get", token)
        self._devices.drop(_TtlCache.key(token))
        device = self._get_json("devices.get", f"{self._base_url}/{device_name}", token, deadline)
        if not isinstance(device, dict):
            raise InvalidResponse("devices.get", 200)
        return device

    def execute_command(
        self, token: str, device_name: str, command: str, params: Mapping[str, Any], deadline: Deadline
    ) -> None:
        """Run one command. Whatever the outcome, the user's cached list is dropped: the device has
        changed, may have (a timeout), or was not in the state the cache said (a refusal)."""
        _check_token(EXECUTE_COMMAND, token)
        try:
            self._call(
                EXECUTE_COMMAND,
                "POST",
                f"{self._base_url}/{device_name}:executeCommand",
                token,
                deadline,
                {"command": command, "params": dict(params)},
            )
        finally:
            self._devices.drop(_TtlCache.key(token))

    def _list(
        self, operation: str, url: str, field: str, cache: _TtlCache, token: str, deadline: Deadline
    ) -> list[dict[str, Any]]:
        _check_token(operation, token)
        key = _TtlCache.key(token)
        cached = cache.get(key)
        if cached is not None:
            log.info("sdm cache hit", extra={"sdm_operation": operation})
            return cached
        body = self._get_json(operation, url, token, deadline)
        items = body.get(field, []) if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise InvalidResponse(operation, 200)
        cache.put(key, items)
        return items

    def _get_json(self, operation: str, url: str, token: str, deadline: Deadline) -> Any:
        document = self._call(operation, "GET", url, token, deadline)
        if document is _NOT_JSON:
            raise InvalidResponse(operation, 200)
        return document

    def _call(
        self,
        operation: str,
        method: str,
        url: str,
        token: str,
        deadline: Deadline,
        payload: Mapping[str, Any] | None = None,
    ) -> Any:
        """The answer's JSON document (_NOT_JSON when it is not JSON or is over MAX_ANSWER_BYTES
        decoded); raises the SdmError of any other status, and NoAnswer."""
        remaining = deadline.remaining()
        if remaining < MIN_REQUEST_S:
            raise TimedOut(operation)
        connect = min(CONNECT_TIMEOUT_S, remaining)
        started = self._clock()
        with _Exchange(self._watchdog, remaining) as exchange:
            try:
                response = self._session.request(
                    method,
                    url,
                    json=payload,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=(connect, remaining),
                    allow_redirects=False,
                    stream=True,
                )
                body = _read_capped(response)
            except requests.RequestException as error:
                timed_out = exchange.expired or isinstance(error, requests.Timeout)
                # Connected (or waiting to read the answer): the request may have gone out.
                sent = bool(exchange.sockets) or isinstance(error, requests.ReadTimeout)
                raise self._failed((TimedOut if timed_out else Unreachable)(operation, sent), started) from None
        if exchange.expired:  # a severed read can pass for a short answer: headers cut off, an empty body
            raise self._failed(TimedOut(operation, sent=True), started)
        log.info(
            "sdm call",
            extra={
                "sdm_operation": operation,
                "sdm_status": response.status_code,
                "latency_ms": self._elapsed_ms(started),
            },
        )
        document = _document(body) if len(body) <= MAX_ANSWER_BYTES else _NOT_JSON
        if document is _NOT_JSON and (response.status_code == 200 or len(body) > MAX_ANSWER_BYTES):
            log.warning(
                "sdm answer unreadable",
                extra={"sdm_operation": operation, "sdm_status": response.status_code, "sdm_answer_bytes": len(body)},
            )
        if response.status_code != 200:
            # A body that did not parse (too deep, too long, not JSON) is classified by its HTTP status alone.
            refused = _error_for(operation, response.status_code, None if document is _NOT_JSON else document)
            if isinstance(refused, ProjectUnavailable):
                log.error("sdm project unavailable", extra={"sdm_operation": operation, "sdm_reason": refused.reason})
            raise refused
        return document

    def _failed(self, error: SdmError, started: float) -> SdmError:
        log.warning(
            "sdm call failed",
            extra={
                "sdm_operation": error.operation,
                "sdm_error": type(error).__name__,
                "latency_ms": self._elapsed_ms(started),
            },
        )
        return error

    def _elapsed_ms(self, started: float) -> float:
        return round((self._clock() - started) * 1000.0, 1)


def _check_token(operation: str, token: Any) -> None:
    """Unauthenticated, as Google answers a token it never issued, for one that cannot be an HTTP header
    (_BEARER_TOKEN): nothing is sent, cached or looked up."""
    if not (isinstance(token, str) and _BEARER_TOKEN.match(token)):
        raise Unauthenticated(operation)


def _read_capped(response: requests.Response) -> bytes:
    """The decoded body, cut off past MAX_ANSWER_BYTES: urllib3 inflates gzip or deflate a chunk at a
    time, so a small body that inflates to gigabytes costs at most this much. A body read to its end
    leaves the connection to the pool for the next request; one cut off, or broken, closes it. Read
    failures are requests' exceptions."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.raw.stream(_READ_CHUNK_BYTES, decode_content=True):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                response.close()
                break
    except urllib3.exceptions.ReadTimeoutError:
        response.close()
        raise requests.ReadTimeout("read timed out") from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        response.close()
        raise requests.ConnectionError(str(error)) from None
    return b"".join(chunks)


def _error_for(operation: str, status: int, document: Any) -> SdmError:
    """SDM's error from its documented body {"error": {"code", "status", "message", "details"}}
    (developers.google.com/nest/device-access/reference/errors/api; google.rpc.Status), already
    parsed as `document` (None when the body was not JSON), else the HTTP status. A 403 is the
    user's to fix (link again) unless its ErrorInfo reason names the project."""
    error = _rpc_status(document)
    rpc_status = error.get("status")
    message = str(error.get("message") or "")
    details = error.get("details")
    reason = next(
        (
            str(d.get("reason") or "")
            for d in (details if isinstance(details, list) else [])
            if isinstance(d, dict) and d.get("@type") == _ERROR_INFO
        ),
        "",
    )
    kind: type[SdmError]
    if rpc_status == "PERMISSION_DENIED" or (status == 403 and rpc_status is None):
        kind = ProjectUnavailable if reason and reason not in USER_GRANT_REASONS else PermissionDenied
    else:
        kind = (
            _BY_RPC_STATUS.get(str(rpc_status))
            or _BY_HTTP_STATUS.get(status)
            or (Rejected if 400 <= status < 500 else Unavailable)
        )
    return kind(operation, status, message, reason)


def _rpc_status(document: Any) -> dict[str, Any]:
    """The body's `error` object (google.rpc.Status as JSON); empty when the body has none (not
    JSON; no "error"; a list, string or null)."""
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) else {}
