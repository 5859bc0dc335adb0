"""One bounded HTTP exchange with Login with Amazon or the event gateway: the same wall-clock
watchdog, capped reads and cookie-less session as SDM's calls (sdm_client), so a host that trickles
its answer, or never answers, ends at the deadline like a silent one."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from nest_skill import sdm_client
from nest_skill.sdm_client import Deadline

log = logging.getLogger(__name__)


class _NoQueryInRequestLines(logging.Filter):
    """urllib3 logs each request line, query included, at DEBUG ('%s://%s:%s "%s %s %s" %s %s'): a
    query may carry a token (LWA's tokeninfo), so every argument's query is replaced by `?…`.
    (urllib3.util.retry logs URLs too, but only when it retries, and these sessions never do.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.split("?", 1)[0] + "?…" if isinstance(arg, str) and "?" in arg else arg for arg in record.args
            )
        return True


_URLLIB3_POOL_LOG = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _NoQueryInRequestLines) for f in _URLLIB3_POOL_LOG.filters):
    _URLLIB3_POOL_LOG.addFilter(_NoQueryInRequestLines())


class NoAnswer(Exception):
    """No answer before the deadline, or no connection. The message names the operation only."""


@dataclass(frozen=True)
class Answer:
    status: int
    document: Any
    """The body as JSON, or None when it is not JSON (or over sdm_client.MAX_ANSWER_BYTES)."""


class BoundedHttp:
    """One per warm container: a kept-alive session to LWA and the gateway."""

    def __init__(self) -> None:
        session = requests.Session()
        session.trust_env = False
        session.cookies.set_policy(sdm_client._no_cookies())
        for scheme in ("http://", "https://"):
            session.mount(scheme, sdm_client._WatchedAdapter())
        self._session = session
        self._watchdog = sdm_client._Watchdog()

    def post(
        self,
        operation: str,
        url: str,
        deadline: Deadline,
        *,
        form: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """POST within `deadline`; raises NoAnswer. Logs the operation, status and latency, never a body."""
        return self._send("POST", operation, url, deadline, form=form, json_body=json_body, headers=headers)

    def get(self, operation: str, url: str, deadline: Deadline, *, params: Mapping[str, str]) -> Answer:
        """GET within `deadline` with a query; raises NoAnswer. Logs the operation, status and latency,
        never the URL (its query may carry a token) or a body."""
        return self._send("GET", operation, url, deadline, params=params)

    def _send(
        self,
        method: str,
        operation: str,
        url: str,
        deadline: Deadline,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        remaining = deadline.remaining()
        if remaining < sdm_client.MIN_REQUEST_S:
            raise NoAnswer(f"{operation}: no time left")
        started = time.monotonic()
        with sdm_client._Exchange(self._watchdog, remaining) as exchange:
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=form,
                    json=json_body,
                    headers=headers or {},
                    timeout=(min(sdm_client.CONNECT_TIMEOUT_S, remaining), remaining),
                    allow_redirects=False,
                    stream=True,
                )
                body = sdm_client._read_capped(response)
            except requests.RequestException:
                log.warning(
                    "live state call failed",
                    extra={"operation": operation, "timed_out": exchange.expired, "latency_ms": _ms(started)},
                )
                raise NoAnswer(f"{operation}: no answer") from None
        if exchange.expired:
            log.warning(
                "live state call failed", extra={"operation": operation, "timed_out": True, "latency_ms": _ms(started)}
            )
            raise NoAnswer(f"{operation}: no answer")
        log.info(
            "live state call",
            extra={"operation": operation, "status": response.status_code, "latency_ms": _ms(started)},
        )
        document = sdm_client._document(body) if len(body) <= sdm_client.MAX_ANSWER_BYTES else None
        return Answer(response.status_code, None if document is sdm_client._NOT_JSON else document)


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000.0, 1)
