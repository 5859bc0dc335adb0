"""The OAuth client ID and secret and the state key, read from the SSE-KMS encrypted S3 object.

Cached per process for `ttl_s`, so the warm path makes no S3 call and a rotated secret is picked up
within one TTL. A read runs in its own thread and every request waits for it at most `wait_s`, holding
no lock meanwhile: while S3 hangs, concurrent requests all answer by then instead of queueing one read
timeout behind another. A failure (a timeout included) is remembered for `failure_ttl_s`, so the
requests after it answer at once instead of each waiting out a hanging S3. S3 decrypts SSE-KMS
objects for GetObject itself when the caller may use the key, so a KMS problem surfaces here as a
GetObject error code like any other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .properties import MalformedProperties, parse_properties

CACHE_TTL_S = 300.0
FAILURE_TTL_S = 10.0
WAIT_S = 2.0
MIN_STATE_KEY_CHARS = 32

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)
    state_key: str = field(repr=False)


class CredentialsUnavailable(Exception):
    """The secrets object cannot be used; the operator line is already logged."""

    def __init__(self, error_code: str) -> None:
        super().__init__(error_code)
        self.error_code = error_code


class CredentialStore:
    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        key: str,
        *,
        ttl_s: float = CACHE_TTL_S,
        failure_ttl_s: float = FAILURE_TTL_S,
        wait_s: float = WAIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._key = key
        self._ttl_s = ttl_s
        self._failure_ttl_s = failure_ttl_s
        self._wait_s = wait_s
        self._clock = clock
        self._lock = threading.Lock()  # guards the fields below; never held while S3 is read
        self._cached: Credentials | None = None
        self._expires_at: float  # set with _cached, read only once it is
        self._failure: CredentialsUnavailable | None = None
        self._failure_until: float  # set with _failure, read only once it is
        self._reading: Future[Credentials] | None = None

    def get(self) -> Credentials:
        """Cached credentials, or the outcome of one shared read, waited for at most `wait_s`.

        Raises CredentialsUnavailable (error code "Timeout" when the read outlasts the wait)."""
        with self._lock:
            now = self._clock()
            if self._cached is not None and now < self._expires_at:
                return self._cached
            if self._failure is not None and now < self._failure_until:
                raise self._failure
            if self._reading is None:
                self._reading = Future()
                threading.Thread(
                    target=self._read_into, args=(self._reading,), daemon=True, name="secrets-read"
                ).start()
            reading = self._reading
        try:
            return reading.result(timeout=self._wait_s)
        except FutureTimeout:
            with self._lock:
                if self._reading is reading and self._failure is None:
                    self._remember_failure(self._unavailable("Timeout"))
                failure = self._failure
            raise failure or CredentialsUnavailable("Timeout") from None

    def _read_into(self, reading: Future[Credentials]) -> None:
        try:
            credentials = self._read()
        except Exception as error:  # the waiting requests must learn of any end, not wait for a result forever
            failure = error if isinstance(error, CredentialsUnavailable) else self._unavailable(type(error).__name__)
            with self._lock:
                self._remember_failure(failure)
                self._reading = None
            reading.set_exception(failure)
            return
        with self._lock:
            self._cached, self._expires_at = credentials, self._clock() + self._ttl_s
            self._failure, self._reading = None, None
        reading.set_result(credentials)

    def _remember_failure(self, failure: CredentialsUnavailable) -> None:
        self._failure, self._failure_until = failure, self._clock() + self._failure_ttl_s

    def _read(self) -> Credentials:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=self._key)["Body"].read()
        except ClientError as error:
            raise self._unavailable(error.response.get("Error", {}).get("Code") or "UnknownClientError") from None
        except BotoCoreError as error:
            raise self._unavailable(type(error).__name__) from None
        try:
            values = parse_properties(body.decode())
        except UnicodeDecodeError:
            raise self._unavailable("MalformedProperties: not UTF-8 text") from None
        except MalformedProperties as error:
            raise self._unavailable(f"MalformedProperties: {error}") from None
        missing = [name for name in ("clientid", "clientsecret", "statekey") if not values.get(name)]
        if missing:
            raise self._unavailable(f"MalformedProperties: missing or empty {', '.join(missing)}")
        if len(values["statekey"]) < MIN_STATE_KEY_CHARS:
            raise self._unavailable(f"MalformedProperties: statekey shorter than {MIN_STATE_KEY_CHARS} characters")
        logger.info(
            "read secrets object s3://%s/%s",
            self._bucket,
            self._key,
            extra={"event": "credentials_loaded", "bucket": self._bucket, "object_key": self._key},
        )
        return Credentials(values["clientid"], values["clientsecret"], values["statekey"])

    def _unavailable(self, error_code: str) -> CredentialsUnavailable:
        logger.error(
            "cannot use secrets object s3://%s/%s: %s",
            self._bucket,
            self._key,
            error_code,
            extra={
                "event": "credentials_unavailable",
                "bucket": self._bucket,
                "object_key": self._key,
                "error_code": error_code,
            },
        )
        return CredentialsUnavailable(error_code)
