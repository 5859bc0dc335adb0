"""Google's Smart Device Management REST API, as the skill needs it: list devices, execute a command.

One `requests.Session` per warm container keeps the TLS connection to Google open between
invocations. Every call shares one deadline per Alexa request, so that even a hung API leaves time
to speak an answer within Alexa's ~8 s. SDM allows only 5 device lists per minute per user, so a
warm container keeps each user's list for a short while; the cache key is a hash, never the token.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import requests

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


class Deadline:
    """When SDM must have answered for this Alexa request's reply to arrive in time."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._end = clock() + max(seconds, 0.0)

    @classmethod
    def for_request(cls, lambda_context: Any = None) -> "Deadline":
        """SDM_BUDGET_S from now, shortened when the Lambda function itself has less time left."""
        budget = SDM_BUDGET_S
        remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
        if callable(remaining_ms):
            budget = min(budget, remaining_ms() / 1000.0 - LAMBDA_MARGIN_S)
        return cls(budget)

    def remaining(self) -> float:
        return max(self._end - self._clock(), 0.0)


class SdmError(Exception):
    """An SDM call that did not succeed. Messages hold no token and no response body."""

    def __init__(self, operation: str, status: Optional[int] = None, detail: str = ""):
        super().__init__(f"{operation}: {type(self).__name__} (HTTP {status})" if status else
                         f"{operation}: {type(self).__name__}")
        self.operation = operation
        self.status = status
        self.detail = detail


class Unauthenticated(SdmError):
    """401: the linked token was revoked or Alexa could not refresh it."""


class PermissionDenied(SdmError):
    """403: the user did not share this device (or project) when linking."""


class NotFound(SdmError):
    """404: the device is gone."""


class RateLimited(SdmError):
    """429 RESOURCE_EXHAUSTED: SDM's per-user, per-device quotas."""


class FailedPrecondition(SdmError):
    """400 FAILED_PRECONDITION: the thermostat's mode does not allow the command; `detail` says why."""


class Rejected(SdmError):
    """Any other 4xx, such as INVALID_ARGUMENT."""


class Unavailable(SdmError):
    """5xx or an answer SDM never gives (a redirect, an unexpected status)."""


class InvalidResponse(SdmError):
    """A success status whose body is not the documented JSON."""


class Unreachable(SdmError):
    """No connection to SDM."""


class TimedOut(SdmError):
    """SDM did not answer before the request's deadline."""


_BY_STATUS = {401: Unauthenticated, 403: PermissionDenied, 404: NotFound, 429: RateLimited}


class _DeviceListCache:
    """Device lists per user for a short TTL, keyed by a hash of the access token."""

    def __init__(self, ttl_s: float, max_users: int, clock: Callable[[], float]):
        self._ttl_s = ttl_s
        self._max_users = max_users
        self._clock = clock
        self._entries: Dict[str, Tuple[float, List[Dict[str, Any]]]] = {}

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, key: str) -> Optional[List[Dict[str, Any]]]:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: str, devices: List[Dict[str, Any]]) -> None:
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_users:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (self._clock() + self._ttl_s, devices)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)


class SdmClient:
    def __init__(self, config: SkillConfig, session: Optional[requests.Session] = None,
                 clock: Callable[[], float] = time.monotonic):
        self._base_url = config.sdm_api_base_url
        self._devices_url = f"{config.sdm_api_base_url}/enterprises/{config.nest_project_id}/devices"
        if session is None:
            session = requests.Session()
            # Lambda has no proxy or .netrc: skip looking them up on every call.
            session.trust_env = False
        self._session = session
        self._clock = clock
        self._devices = _DeviceListCache(DEVICE_CACHE_TTL_S, DEVICE_CACHE_MAX_USERS, clock)

    def list_devices(self, token: str, deadline: Deadline) -> List[Dict[str, Any]]:
        """The user's devices (SDM device JSON), from the warm cache when fresh."""
        key = _DeviceListCache.key(token)
        cached = self._devices.get(key)
        if cached is not None:
            log.info("sdm cache hit", extra={"sdm_operation": "devices.list"})
            return cached
        response = self._call("devices.list", "GET", self._devices_url, token, deadline)
        try:
            devices = response.json().get("devices", [])
        except (ValueError, AttributeError):
            raise InvalidResponse("devices.list", 200) from None
        if not isinstance(devices, list) or not all(isinstance(d, dict) for d in devices):
            raise InvalidResponse("devices.list", 200)
        self._devices.put(key, devices)
        return devices

    def execute_command(self, token: str, device_name: str, command: str, params: Mapping[str, Any],
                        deadline: Deadline) -> None:
        """Run one command. Whatever the outcome, the user's cached list is dropped: the device has
        changed, may have (a timeout), or was not in the state the cache said (a refusal)."""
        try:
            self._call("devices.executeCommand", "POST", f"{self._base_url}/{device_name}:executeCommand",
                       token, deadline, {"command": command, "params": dict(params)})
        finally:
            self._devices.drop(_DeviceListCache.key(token))

    def _call(self, operation: str, method: str, url: str, token: str, deadline: Deadline,
              payload: Optional[Mapping[str, Any]] = None) -> requests.Response:
        remaining = deadline.remaining()
        if remaining < MIN_REQUEST_S:
            raise TimedOut(operation)
        connect = min(CONNECT_TIMEOUT_S, remaining / 2)
        started = self._clock()
        try:
            response = self._session.request(
                method, url, json=payload, headers={"Authorization": f"Bearer {token}"},
                timeout=(connect, remaining - connect), allow_redirects=False,
            )
        except requests.Timeout:
            raise self._failed(TimedOut(operation), started) from None
        except requests.RequestException:
            raise self._failed(Unreachable(operation), started) from None
        log.info("sdm call", extra={"sdm_operation": operation, "sdm_status": response.status_code,
                                    "latency_ms": self._elapsed_ms(started)})
        if response.status_code != 200:
            raise _error_for(operation, response)
        return response

    def _failed(self, error: SdmError, started: float) -> SdmError:
        log.warning("sdm call failed", extra={"sdm_operation": error.operation, "sdm_error": type(error).__name__,
                                              "latency_ms": self._elapsed_ms(started)})
        return error

    def _elapsed_ms(self, started: float) -> float:
        return round((self._clock() - started) * 1000.0, 1)


def _error_for(operation: str, response: requests.Response) -> SdmError:
    """SDM's error from its documented body {"error": {"code", "status", "message"}}, else the status."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    status = response.status_code
    grpc_status = error.get("status")
    message = str(error.get("message") or "")
    if grpc_status == "FAILED_PRECONDITION":
        return FailedPrecondition(operation, status, message)
    if grpc_status == "RESOURCE_EXHAUSTED":
        return RateLimited(operation, status, message)
    if status in _BY_STATUS:
        return _BY_STATUS[status](operation, status, message)
    if 400 <= status < 500:
        return Rejected(operation, status, message)
    return Unavailable(operation, status, message)
