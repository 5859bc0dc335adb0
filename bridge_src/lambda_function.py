"""Lambda entry point for function URL and API Gateway HTTP API (payload 2.0) events, which share a shape.

The bridge (config, S3 client, HTTP session, credentials cache) is built once per container, at init.
Logging is plain stdlib with `extra=` fields: the function uses Lambda's JSON log format.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from oauth_bridge.app import build_bridge
from oauth_bridge.config import BridgeConfig
from oauth_bridge.http_messages import Request, Response

BRIDGE = build_bridge(BridgeConfig.from_env(os.environ))


def to_request(event: Mapping[str, Any]) -> Request:
    """GET only matters here, so the body (and isBase64Encoded) is never read."""
    http = (event.get("requestContext") or {}).get("http") or {}
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    return Request(method=str(http.get("method", "")), path=str(event.get("rawPath", "")),
                   query_string=str(event.get("rawQueryString", "")), headers=headers, scheme="https")


def to_result(response: Response) -> dict[str, Any]:
    return {"statusCode": response.status, "headers": dict(response.headers), "body": response.body,
            "isBase64Encoded": False}


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return to_result(BRIDGE.handle(to_request(event)))
