"""The secrets object's format: a strict subset of Java properties (the original design's file).

Only `key=value` lines, blank lines and `#`/`!` comments; no escapes, `:` separators or continuation
lines, so what the operator CLI writes reads back byte for byte. Error messages name line numbers and
keys, never values: the values are secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")


class MalformedProperties(ValueError):
    """Text or values that are not in the accepted properties form."""


def parse_properties(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "!")):
            continue
        key, separator, value = stripped.partition("=")
        key = key.strip()
        if not separator or not _KEY.match(key):
            raise MalformedProperties(f"line {number} is not blank, a #/! comment or key=value")
        if key in values:
            raise MalformedProperties(f"line {number} repeats key {key!r}")
        values[key] = value.strip()
    return values


def format_properties(values: Mapping[str, str]) -> str:
    """One `key=value` line per entry, in order; refuses what `parse_properties` would not read back."""
    lines = []
    for key, value in values.items():
        if not _KEY.match(key):
            raise MalformedProperties(f"key {key!r} is not letters, digits, '_', '.' or '-'")
        if value != value.strip() or (value and value.splitlines() != [value]):
            raise MalformedProperties(f"value of {key!r} has surrounding whitespace or a line break")
        lines.append(f"{key}={value}\n")
    return "".join(lines)
