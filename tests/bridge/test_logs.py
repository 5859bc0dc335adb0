"""The bridge's log format (`configure_json_logging`): INFO and above as one JSON line per record on stdout, with
the `extra=` fields; in this process and in a fresh one, as application.py sets it up before gunicorn serves."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from oauth_bridge.logs import configure_json_logging
from tests.conftest import ROOT


@contextmanager
def bare_root_logger() -> Iterator[None]:
    """The root logger as a fresh process has it (no handler, WARNING), restored afterwards: logging.basicConfig
    leaves a root logger that has handlers (pytest adds its own for the test's call) alone."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_configured_logging_writes_info_and_above_as_one_json_line_on_stdout(capsys):
    logger = logging.getLogger("oauth_bridge.app")
    with bare_root_logger():
        configure_json_logging()
        logger.debug("not kept")
        logger.info("GET /health -> 200 healthy", extra={"outcome": "healthy"})
    out, err = capsys.readouterr()
    assert err == ""
    [line] = out.splitlines()
    record = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", record.pop("timestamp"))
    assert record == {
        "level": "INFO",
        "name": "oauth_bridge.app",
        "message": "GET /health -> 200 healthy",
        "outcome": "healthy",
    }


def test_on_beanstalk_each_log_record_is_one_json_line_on_stdout():
    """What application.py sets up before gunicorn serves: INFO and above, as JSON with `level`, `name`,
    `message`, a timestamp and the `extra=` fields; nothing on stderr, nothing below INFO."""
    script = (
        "import logging\n"
        "from oauth_bridge.logs import configure_json_logging\n"
        "configure_json_logging()\n"
        "logger = logging.getLogger('oauth_bridge.app')\n"
        "logger.debug('not kept')\n"
        "logger.info('GET /health -> 200 healthy', extra={'outcome': 'healthy'})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT / "bridge_src",
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert (done.returncode, done.stderr) == (0, "")
    [line] = done.stdout.splitlines()
    record = json.loads(line)
    assert record.pop("timestamp").startswith("20")
    assert record == {
        "level": "INFO",
        "name": "oauth_bridge.app",
        "message": "GET /health -> 200 healthy",
        "outcome": "healthy",
    }
