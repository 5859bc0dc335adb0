"""Structured logging. Log calls pass fields with `extra=`, which Lambda's JSON log format and
python-json-logger (used on Elastic Beanstalk) both turn into JSON keys.

What may be logged: routes, statuses, outcome names, error codes, bucket and object key, durations.
Never codes, tokens, states, secrets or raw query strings.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_json_logging(level: int = logging.INFO) -> None:
    """One JSON line per record on stdout (the web server's log on Beanstalk); keeps existing handlers."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter("{levelname}{name}{message}", style="{", timestamp=True, rename_fields={"levelname": "level"})
    )
    logging.basicConfig(level=level, handlers=[handler])
