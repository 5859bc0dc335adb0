"""The plain request and response the core works with; each adapter converts its own event to these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

SECURITY_HEADERS = {
    # Redirects carry codes, states and tokens: nothing may be cached, nor leak through Referer.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query_string: str
    """As received, still percent-encoded."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Lower-case names."""
    scheme: str = "https"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: str = ""


def redirect(location: str) -> Response:
    return Response(302, {"Location": location, **SECURITY_HEADERS})


def html_response(status: int, html: str, extra_headers: Mapping[str, str] | None = None) -> Response:
    return Response(status, {"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS, **(extra_headers or {})},
                    html)


def json_response(status: int, body: str) -> Response:
    return Response(status, {"Content-Type": "application/json", **SECURITY_HEADERS}, body)
