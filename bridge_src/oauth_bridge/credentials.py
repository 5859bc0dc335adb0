"""The OAuth client ID and secret and the state key, read from the SSE-KMS encrypted S3 object.

Cached per process for `ttl_s`, so the warm path makes no S3 call and a rotated secret is picked up
within one TTL. S3 decrypts SSE-KMS objects for GetObject itself when the caller may use the key, so a
KMS problem surfaces here as a GetObject error code like any other.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from .properties import MalformedProperties, parse_properties

CACHE_TTL_S = 300.0
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
    def __init__(self, s3_client: Any, bucket: str, key: str, *, ttl_s: float = CACHE_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._key = key
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: Credentials | None = None
        self._expires_at = 0.0

    def get(self) -> Credentials:
        """Cached credentials, or a fresh read; concurrent misses share one read (the lock)."""
        with self._lock:
            now = self._clock()
            if self._cached is None or now >= self._expires_at:
                self._cached = self._read()
                self._expires_at = now + self._ttl_s
            return self._cached

    def _read(self) -> Credentials:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=self._key)["Body"].read()
        except ClientError as error:
            raise self._unavailable(error.response.get("Error", {}).get("Code") or "UnknownClientError") from None
        except BotoCoreError as error:
            raise self._unavailable(type(error).__name__) from None
        try:
            values = parse_properties(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._unavailable("MalformedProperties: not UTF-8 text") from None
        except MalformedProperties as error:
            raise self._unavailable(f"MalformedProperties: {error}") from None
        missing = [name for name in ("clientid", "clientsecret", "statekey") if not values.get(name)]
        if missing:
            raise self._unavailable(f"MalformedProperties: missing or empty {', '.join(missing)}")
        if len(values["statekey"]) < MIN_STATE_KEY_CHARS:
            raise self._unavailable(f"MalformedProperties: statekey shorter than {MIN_STATE_KEY_CHARS} characters")
        logger.info("read secrets object s3://%s/%s", self._bucket, self._key,
                    extra={"event": "credentials_loaded", "bucket": self._bucket, "object_key": self._key})
        return Credentials(values["clientid"], values["clientsecret"], values["statekey"])

    def _unavailable(self, error_code: str) -> CredentialsUnavailable:
        logger.error("cannot use secrets object s3://%s/%s: %s", self._bucket, self._key, error_code,
                     extra={"event": "credentials_unavailable", "bucket": self._bucket,
                            "object_key": self._key, "error_code": error_code})
        return CredentialsUnavailable(error_code)
