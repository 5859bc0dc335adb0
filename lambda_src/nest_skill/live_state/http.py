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
        session.cookies.set_policy(sdm_client._NoCookies())
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
        remaining = deadline.remaining()
        if remaining < sdm_client.MIN_REQUEST_S:
            raise NoAnswer(f"{operation}: no time left")
        started = time.monotonic()
        with sdm_client._Exchange(self._watchdog, remaining) as exchange:
            try:
                response = self._session.post(
                    url,
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
