"""Responses the bridge sends (Werkzeug's), each with the same security headers, and the flow cookie."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.wrappers import Response

SECURITY_HEADERS = {
    # Redirects carry codes, states and tokens: nothing may be cached, nor leak through Referer.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}
FLOW_COOKIE = "__Host-linking"
"""The browser's half of a linking flow (its nonce). `__Host-`: Secure, Path=/ and no Domain, so no other
host, not even a sibling subdomain, can set or shadow it (the `__Host-` prefix of RFC 6265bis);
Path=/ covers /callback."""


def redirect(location: str) -> Response:
    return Response(status=302, headers={"Location": location, **SECURITY_HEADERS})


def html_response(status: int, html: str, extra_headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        html,
        status=status,
        content_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, **(extra_headers or {})},
    )


def json_ok(body: str) -> Response:
    return Response(body, content_type="application/json", headers=SECURITY_HEADERS)


def set_flow_cookie(response: Response, nonce: str, max_age_s: int) -> None:
    """SameSite=Lax: sent on Google's top-level GET redirect to /callback, never on cross-site subrequests."""
    response.set_cookie(FLOW_COOKIE, nonce, max_age=max_age_s, path="/", secure=True, httponly=True, samesite="Lax")


def clear_flow_cookie(response: Response) -> None:
    response.delete_cookie(FLOW_COOKIE, path="/", secure=True, httponly=True, samesite="Lax")
