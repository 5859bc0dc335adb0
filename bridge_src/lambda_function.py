"""Lambda entry point for function URL and API Gateway HTTP API (payload 2.0) events, which share a shape.

Each event becomes a WSGI environ for the bridge's Werkzeug application, and its response a result:
cookies arrive in the event's `cookies` list and leave in the result's `cookies` list, one Set-Cookie
value each (the payload 2.0 format). The bridge (config, S3 client, credentials cache) is built once per
container, at init. Logging is plain stdlib with `extra=` fields: the function uses Lambda's JSON log format.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from werkzeug.wrappers import Request, Response

from oauth_bridge.app import build_bridge
from oauth_bridge.config import BridgeConfig

BRIDGE = build_bridge(BridgeConfig.from_env(os.environ))


def _latin1(text: str) -> str:
    """WSGI carries bytes as latin-1 strings (PEP 3333). A lone surrogate (possible in a JSON event) is kept
    as its invalid UTF-8 bytes, so the bridge's own checks refuse it."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def to_environ(event: Mapping[str, Any]) -> dict[str, Any]:
    """GET only matters here, so the body (and isBase64Encoded) is never read."""
    http = (event.get("requestContext") or {}).get("http") or {}
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    cookies = event.get("cookies")
    if isinstance(cookies, list):
        headers["cookie"] = "; ".join(str(cookie) for cookie in cookies)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": str(http.get("method", "")).upper(),
        "SCRIPT_NAME": "",
        # surrogatepass: a lone surrogate (`/\ud800`) reaches the app as bytes it refuses, not a crash here.
        "PATH_INFO": unquote_to_bytes(str(event.get("rawPath", "")).encode("utf-8", "surrogatepass")).decode("latin-1"),
        "QUERY_STRING": _latin1(str(event.get("rawQueryString", ""))),
        "SERVER_NAME": headers.get("host", "lambda").split(":")[0],
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": str(http.get("protocol", "HTTP/1.1")),
        "REMOTE_ADDR": str(http.get("sourceIp", "")),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = "HTTP_" + key
        environ[key] = _latin1(value)
    return environ


def to_result(response: Response) -> dict[str, Any]:
    headers = {name: value for name, value in response.headers.items() if name.lower() != "set-cookie"}
    return {
        "statusCode": response.status_code,
        "headers": headers,
        "cookies": response.headers.getlist("Set-Cookie"),
        "body": response.get_data(as_text=True),
        "isBase64Encoded": False,
    }


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return to_result(BRIDGE.handle(Request(to_environ(event))))
