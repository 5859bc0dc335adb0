"""Alexa's own redirect URLs for a vendor: the only places the bridge sends a user back to."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlencode

ALEXA_HOSTS = ("pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp")


def allowed_redirect_urls(vendor_id: str) -> frozenset[str]:
    """Exact URLs, https only: the current `/api/skill/link/` form and the older status page."""
    return frozenset(
        url
        for host in ALEXA_HOSTS
        for url in (
            f"https://{host}/api/skill/link/{vendor_id}",
            f"https://{host}/spa/skill/account-linking-status.html?vendorId={vendor_id}",
        )
    )


def with_fragment(url: str, pairs: Sequence[tuple[str, str]]) -> str:
    """`url#k=v&...` percent-encoded throughout (spaces as %20, not '+'), as implicit grant returns results."""
    return f"{url}#{urlencode(pairs, quote_via=quote)}"
