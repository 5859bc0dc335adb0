"""The bridge itself: a Request -> Response function for /authorize, /callback and /health.

Every refusal is an HTML page with fixed wording; every redirect goes either to the configured
provider URL or to one of Alexa's redirect URLs for the vendor, and a redirect to Alexa that is not
an error always carries a non-empty access token.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import boto3
from botocore.config import Config as BotocoreConfig

from . import pages
from .alexa_redirects import allowed_redirect_urls, default_redirect_url, with_fragment
from .config import BridgeConfig
from .credentials import CredentialStore, Credentials, CredentialsUnavailable
from .http_messages import Request, Response, html_response, json_response, redirect
from .query import MAX_VALUE_BYTES, BadQuery, parse_query
from .sealed_state import AlexaReturn, StateRefused, StateSealer, is_sealed
from .token_exchange import OAUTH_ERROR_CODE, TokenClient, TokenExchangeError, TokenFailure

SDM_SCOPE = "https://www.googleapis.com/auth/sdm.service"
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?$")
_QUERY_PAGES = {"malformed": pages.MALFORMED_QUERY, "too_long": pages.PARAMETER_TOO_LONG,
                "control_chars": pages.CONTROL_CHARACTERS}
_STATE_PAGES = {"expired": pages.STATE_EXPIRED, "invalid": pages.STATE_INVALID}
_TOKEN_PAGES = {
    TokenFailure.GRANT_REFUSED: pages.GRANT_REFUSED,
    TokenFailure.REQUEST_REJECTED: pages.TOKEN_REQUEST_REJECTED,
    TokenFailure.PROVIDER_ERROR: pages.TOKEN_PROVIDER_ERROR,
    TokenFailure.TIMEOUT: pages.TOKEN_TIMEOUT,
    TokenFailure.UNREACHABLE: pages.TOKEN_UNREACHABLE,
    TokenFailure.NOT_JSON: pages.TOKEN_NOT_JSON,
    TokenFailure.NO_ACCESS_TOKEN: pages.TOKEN_MISSING,
}

logger = logging.getLogger(__name__)


class Refusal(Exception):
    """Ends a request with an error page; `outcome` and `log_fields` go to the request's log line."""

    def __init__(self, page: pages.ErrorPage, outcome: str, **log_fields: Any) -> None:
        super().__init__(outcome)
        self.page = page
        self.outcome = outcome
        self.log_fields = log_fields


class Bridge:
    def __init__(self, config: BridgeConfig, credentials: CredentialStore, tokens: TokenClient, *,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self._credentials = credentials
        self._tokens = tokens
        self._wall_clock = wall_clock
        self._alexa_urls = allowed_redirect_urls(config.alexa_vendor_id)
        self._routes = {"/authorize": self._authorize, "/callback": self._callback, "/health": self._health}

    def handle(self, request: Request) -> Response:
        """Never raises: anything unexpected becomes a 500 page, with the traceback only in the log."""
        started = time.monotonic()
        route = self._routes.get(request.path)
        log_fields: dict[str, Any] = {}
        try:
            if route is None:
                raise Refusal(pages.NOT_FOUND, "not_found")
            if request.method != "GET":
                raise Refusal(pages.METHOD_NOT_ALLOWED, "method_not_allowed")
            response, outcome = route(request)
        except Refusal as refusal:
            headers = {"Allow": "GET"} if refusal.page is pages.METHOD_NOT_ALLOWED else None
            response = html_response(refusal.page.status, pages.render(refusal.page), headers)
            outcome, log_fields = refusal.outcome, refusal.log_fields
        except Exception:
            logger.exception("unexpected error", extra={"event": "internal_error", "route": request.path})
            response, outcome = html_response(500, pages.render(pages.INTERNAL_ERROR)), "internal_error"
        logger.info("%s %s -> %d %s", request.method[:16], request.path if route else "(unknown)",
                    response.status, outcome,
                    extra={"event": "request", "route": request.path if route else None, "status": response.status,
                           "outcome": outcome, "duration_ms": round((time.monotonic() - started) * 1000, 1),
                           **log_fields})
        return response

    def _health(self, request: Request) -> tuple[Response, str]:
        return json_response(200, '{"status": "ok"}'), "healthy"

    def _authorize(self, request: Request) -> tuple[Response, str]:
        """Alexa's authorization URL (implicit grant): on to Google with the bridge's own callback."""
        params = _params(request)
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self._alexa_urls:
            raise Refusal(pages.REDIRECT_NOT_ALLOWED, "redirect_uri_not_allowed")
        state = _required(params, "state", pages.MISSING_STATE)
        if params.get("response_type") != "token":
            # RFC 6749 §4.2.2.1: with a valid redirect URI, the error goes back to the client.
            return redirect(with_fragment(redirect_uri, [("error", "unsupported_response_type"),
                                                         ("state", state)])), "unsupported_response_type"
        callback_url = self._callback_url(request)
        credentials = self._read_credentials()
        sealed = StateSealer(credentials.state_key, self._wall_clock).seal(AlexaReturn(state, redirect_uri))
        if len(sealed) > MAX_VALUE_BYTES:
            raise Refusal(pages.STATE_TOO_LONG, "state_too_long")
        return redirect(_with_query(self._config.authorization_url, {
            "client_id": credentials.client_id,
            "redirect_uri": callback_url,
            "response_type": "code",
            "access_type": "offline",
            "prompt": "consent",
            "scope": SDM_SCOPE,
            "state": sealed,
        })), "sent_to_provider"

    def _callback(self, request: Request) -> tuple[Response, str]:
        """Google's redirect: exchange the code, hand the token to Alexa in the fragment."""
        params = _params(request)
        alexa = self._alexa_return(_required(params, "state", pages.MISSING_STATE))
        if "error" in params:
            error = params["error"] if OAUTH_ERROR_CODE.match(params["error"]) else "server_error"
            location = with_fragment(alexa.redirect_uri, [("error", error), ("state", alexa.state)])
            return redirect(location), f"provider_error:{error}"
        code = _required(params, "code", pages.MISSING_CODE)
        callback_url = self._callback_url(request)
        credentials = self._read_credentials()
        try:
            grant = self._tokens.exchange(code=code, client_id=credentials.client_id,
                                          client_secret=credentials.client_secret, redirect_uri=callback_url)
        except TokenExchangeError as failure:
            raise Refusal(_TOKEN_PAGES[failure.kind], f"token_{failure.kind.value}",
                          provider_status=failure.http_status, provider_error=failure.provider_error,
                          attempts=failure.attempts) from None
        fragment = [("state", alexa.state), ("access_token", grant.access_token), ("token_type", "Bearer")]
        if grant.expires_in is not None:
            fragment.append(("expires_in", str(grant.expires_in)))
        return redirect(with_fragment(alexa.redirect_uri, fragment)), "linked"

    def _alexa_return(self, state: str) -> AlexaReturn:
        """A sealed state opens to where the flow began; any other state is Alexa's own (the original design)."""
        if not is_sealed(state):
            return AlexaReturn(state, default_redirect_url(self._config.alexa_vendor_id))
        try:
            alexa = StateSealer(self._read_credentials().state_key, self._wall_clock).open(state)
        except StateRefused as refused:
            raise Refusal(_STATE_PAGES[refused.reason], f"state_{refused.reason}") from None
        if alexa.redirect_uri not in self._alexa_urls:
            raise Refusal(pages.STATE_INVALID, "state_redirect_not_allowed")
        return alexa

    def _read_credentials(self) -> Credentials:
        try:
            return self._credentials.get()
        except CredentialsUnavailable as error:
            raise Refusal(pages.SECRETS_UNAVAILABLE, "secrets_unavailable", error_code=error.error_code) from None

    def _callback_url(self, request: Request) -> str:
        """Under PUBLIC_BASE_URL, else at the address the request came to (behind a TLS proxy: X-Forwarded-Proto).

        Google must be given the same redirect URI at /authorize and at the token exchange."""
        if self._config.public_base_url:
            return self._config.public_base_url + "/callback"
        host = request.headers.get("host", "")
        if not _HOST.match(host):
            raise Refusal(pages.BAD_HOST, "bad_host")
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return f"{forwarded if forwarded in ('http', 'https') else request.scheme}://{host}/callback"


def build_bridge(config: BridgeConfig) -> Bridge:
    """The production wiring. Short S3 timeouts (at most about 6 s with the retry): a stuck read must end
    as a 503 page, not a hung browser; with the 4 s token budget a request stays within about 10 s."""
    s3 = boto3.client("s3", config=BotocoreConfig(connect_timeout=1, read_timeout=2,
                                                  retries={"mode": "standard", "max_attempts": 2}))
    return Bridge(config, CredentialStore(s3, config.secrets_bucket, config.secrets_key),
                  TokenClient(config.token_url))


def _params(request: Request) -> dict[str, str]:
    try:
        return parse_query(request.query_string)
    except BadQuery as bad:
        raise Refusal(_QUERY_PAGES[bad.reason], f"query_{bad.reason}") from None


def _required(params: dict[str, str], name: str, page: pages.ErrorPage) -> str:
    value = params.get(name, "")
    if not value.strip():
        raise Refusal(page, f"missing_{name}")
    return value


def _with_query(url: str, params: dict[str, str]) -> str:
    """The configured URL's own query is kept; a parameter the bridge sets replaces one of the same name."""
    parts = urlsplit(url)
    kept = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name not in params]
    return urlunsplit(parts._replace(query=urlencode([*kept, *params.items()], quote_via=quote)))
