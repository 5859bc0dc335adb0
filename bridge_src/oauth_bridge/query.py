"""The request's query parameters (Werkzeug's `request.args`), with explicit checks refusing what no
legitimate caller sends: Werkzeug is lenient where the bridge is strict (it keeps the last of repeated
names, leaves undecodable bytes percent-encoded, and bounds neither count nor length)."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from werkzeug.wrappers import Request

MAX_VALUE_BYTES = 2048
MAX_FIELDS = 20
MAX_QUERY_CHARS = MAX_FIELDS * MAX_VALUE_BYTES
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadQuery(Exception):
    """`reason`: "malformed" (bad encoding, repeated or too many parameters), "too_long" or "control_chars"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def single_params(request: Request) -> dict[str, str]:
    """Each parameter once, UTF-8, at most MAX_VALUE_BYTES, no control characters; raises BadQuery."""
    raw = request.query_string
    if len(raw) > MAX_QUERY_CHARS:
        raise BadQuery("too_long")
    try:
        unquote_to_bytes(raw).decode()
    except UnicodeDecodeError:
        raise BadQuery("malformed") from None
    pairs = list(request.args.items(multi=True))
    if len(pairs) > MAX_FIELDS:
        raise BadQuery("malformed")
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise BadQuery("malformed")
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise BadQuery("too_long")
        if _CONTROL.search(name) or _CONTROL.search(value):
            raise BadQuery("control_chars")
        params[name] = value
    return params
