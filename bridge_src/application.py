"""Elastic Beanstalk entry point: `application`, the WSGI callable the Python platform looks for.

Run by gunicorn (see Procfile). The bridge is built once per worker process, and logs go to stdout
as JSON lines. gunicorn's access log stays off: request lines carry authorization codes and states.
"""

from __future__ import annotations

import os

from oauth_bridge.app import build_bridge
from oauth_bridge.config import BridgeConfig
from oauth_bridge.logs import configure_json_logging

configure_json_logging()
application = build_bridge(BridgeConfig.from_env(os.environ))
