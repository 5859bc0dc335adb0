"""Elastic Beanstalk entry point: `application`, the WSGI callable the Python platform looks for.

Run by gunicorn (see Procfile). The bridge is built once per worker process, and logs go to stdout
as JSON lines. gunicorn's access log stays off: request lines carry authorization codes and states.
"""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import Any, Callable, Iterable, Mapping

from oauth_bridge.app import build_bridge
from oauth_bridge.config import BridgeConfig
from oauth_bridge.http_messages import Request
from oauth_bridge.logs import configure_json_logging

configure_json_logging()
BRIDGE = build_bridge(BridgeConfig.from_env(os.environ))


def to_request(environ: Mapping[str, Any]) -> Request:
    headers = {name[5:].replace("_", "-").lower(): value for name, value in environ.items() if name.startswith("HTTP_")}
    return Request(method=environ.get("REQUEST_METHOD", ""), path=environ.get("PATH_INFO", ""),
                   query_string=environ.get("QUERY_STRING", ""), headers=headers,
                   scheme=environ.get("wsgi.url_scheme", "http"))


def application(environ: Mapping[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    response = BRIDGE.handle(to_request(environ))
    body = response.body.encode()
    start_response(f"{response.status} {HTTPStatus(response.status).phrase}",
                   [*response.headers.items(), ("Content-Length", str(len(body)))])
    return [body]
