"""Reading a query string into single-valued parameters, refusing what no legitimate caller sends."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

MAX_VALUE_BYTES = 2048
MAX_FIELDS = 20
MAX_QUERY_CHARS = MAX_FIELDS * MAX_VALUE_BYTES
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadQuery(Exception):
    """`reason`: "malformed" (bad encoding, repeated or too many parameters), "too_long" or "control_chars"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_query(query_string: str) -> dict[str, str]:
    if len(query_string) > MAX_QUERY_CHARS:
        raise BadQuery("too_long")
    try:
        query_string.encode()  # a lone surrogate (possible in a JSON event) can never be sent on
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except ValueError:
        raise BadQuery("malformed") from None
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
