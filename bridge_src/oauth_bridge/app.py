"""The bridge itself: a WSGI application (Werkzeug) routing /authorize, /callback, /health, /privacy
and /terms.

Every redirect goes either to the configured provider URL or to one of Alexa's redirect URLs for the
vendor, and a redirect to Alexa carries either a non-empty access token or an `error`. Once a request
carries a state the bridge sealed, every failure goes back to Alexa (RFC 6749 §4.2.2.1) with Alexa's
state, an expired one included; the bridge's own page (fixed wording) is only for requests whose state
is itself bad.

A browser holds one linking flow at a time: its flow cookie carries the nonce of the newest /authorize.
A /callback ends that flow (clears the cookie) only when its state is bound to that nonce, whatever the
outcome; a callback for an older flow, another browser's or a stray visit fails without touching it, so
a person who started linking again can still finish the newer sign-in.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import boto3
from botocore.config import Config as BotocoreConfig
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import legal, pages
from .alexa_redirects import allowed_redirect_urls, with_fragment
from .config import BridgeConfig
from .credentials import Credentials, CredentialStore, CredentialsUnavailable
from .http_messages import FLOW_COOKIE, clear_flow_cookie, html_response, json_ok, redirect, set_flow_cookie
from .query import MAX_VALUE_BYTES, BadQuery, single_params
from .sealed_state import MAX_AGE_S, AlexaReturn, StateRefused, StateSealer, binding_of, new_nonce, unverified
from .spent_states import SpentStates
from .token_exchange import AccessGrant, TokenClient, TokenExchangeError, TokenFailure

SDM_SCOPE = "https://www.googleapis.com/auth/sdm.service"
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?$")
_QUERY_PAGES = {
    "malformed": pages.MALFORMED_QUERY,
    "too_long": pages.PARAMETER_TOO_LONG,
    "control_chars": pages.CONTROL_CHARACTERS,
}
_STATE_PAGES = {"invalid": pages.STATE_INVALID, "unsealed": pages.LEGACY_STATE}
"""An expired state is authentic: it goes back to Alexa, never to a page."""
_ALEXA_ERRORS = {
    # RFC 6749 §4.2.2.1 codes Alexa gets back: access_denied when the user or the code is refused (the
    # user simply tries again), temporarily_unavailable when a retry soon can work, else server_error.
    TokenFailure.GRANT_REFUSED: "access_denied",
    TokenFailure.REQUEST_REJECTED: "server_error",
    TokenFailure.PROVIDER_ERROR: "server_error",  # but 502, 503 and 504 (_GATEWAY_BUSY) say a retry may work
    TokenFailure.TIMEOUT: "temporarily_unavailable",
    TokenFailure.UNREACHABLE: "temporarily_unavailable",
    TokenFailure.NOT_JSON: "server_error",
    TokenFailure.NO_ACCESS_TOKEN: "server_error",
    TokenFailure.MALFORMED: "server_error",
}
_GATEWAY_BUSY = frozenset({502, 503, 504})
_PASSED_ON_PROVIDER_ERRORS = frozenset({"access_denied", "temporarily_unavailable"})
"""Google's authorization errors that say the same to Alexa; any other means the bridge's own request
to Google was wrong (invalid_scope, unauthorized_client...), which to Alexa is a server_error."""

S3_CONFIG = BotocoreConfig(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "max_attempts": 2})
"""The secrets read's own bounds (about 6 s at most); requests wait for it at most credentials.WAIT_S."""

logger = logging.getLogger(__name__)
_Result = tuple[Response, str, dict[str, Any]]
"""A route's response, its outcome name and extra log fields."""


class Refusal(Exception):
    """Ends a request with an error page; `outcome` and `log_fields` go to the request's log line."""

    def __init__(self, page: pages.ErrorPage, outcome: str, **log_fields: Any) -> None:
        self.page = page
        self.outcome = outcome
        self.log_fields = log_fields


class _BackToAlexa(Exception):
    """Ends a /callback whose state is good: Alexa gets `error` (RFC 6749 §4.2.2.1) and its state."""

    def __init__(self, error: str, outcome: str, **log_fields: Any) -> None:
        self.error = error
        self.outcome = outcome
        self.log_fields = log_fields


class _Expired(Exception):
    """A state the bridge sealed, to an allow-listed Alexa URL, that is past MAX_AGE_S."""

    def __init__(self, flow: AlexaReturn) -> None:
        self.flow = flow


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        credentials: CredentialStore,
        tokens: TokenClient,
        *,
        wall_clock: Callable[[], float] = time.time,
        spent: SpentStates | None = None,
    ) -> None:
        self._config = config
        self._credentials = credentials
        self._tokens = tokens
        self._wall_clock = wall_clock
        self._spent = spent or SpentStates(MAX_AGE_S)
        self._alexa_urls = allowed_redirect_urls(config.alexa_vendor_id)
        self._privacy_policy = legal.privacy_policy(config.privacy_contact, config.live_state)
        self._routes: dict[str, Callable[[Request], _Result]] = {
            "/authorize": self._authorize,
            "/callback": self._callback,
            "/health": self._health,
            "/privacy": self._privacy,
            "/terms": self._terms,
        }
        self._urls = Map(
            [Rule(path, endpoint=path, methods=["GET"]) for path in self._routes],
            merge_slashes=False,
            strict_slashes=False,
        ).bind("bridge")
        """Bound once: matching reads the map only, so threads share it."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI application (gunicorn on Elastic Beanstalk; the Lambda adapter builds an environ)."""
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        """Never raises: anything unexpected becomes a 500 page, with the traceback only in the log."""
        started = time.monotonic()
        route: str | None = None
        log_fields: dict[str, Any] = {}
        try:
            try:
                route, _ = self._urls.match(request.path, request.method)
            except MethodNotAllowed:
                raise Refusal(pages.METHOD_NOT_ALLOWED, "method_not_allowed") from None
            except HTTPException:
                raise Refusal(pages.NOT_FOUND, "not_found") from None
            response, outcome, log_fields = self._routes[route](request)
        except Refusal as refusal:
            headers = {"Allow": "GET, HEAD"} if refusal.page is pages.METHOD_NOT_ALLOWED else None
            response = html_response(refusal.page.status, pages.render(refusal.page), headers)
            outcome, log_fields = refusal.outcome, refusal.log_fields
        except Exception:
            logger.exception("unexpected error", extra={"event": "internal_error", "route": route})
            response, outcome = html_response(500, pages.render(pages.INTERNAL_ERROR)), "internal_error"
        logger.info(
            "%s %s -> %d %s",
            request.method[:16],
            route or "(unknown)",
            response.status_code,
            outcome,
            extra={
                "event": "request",
                "route": route,
                "status": response.status_code,
                "outcome": outcome,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                **log_fields,
            },
        )
        return response

    def _health(self, request: Request) -> _Result:
        return json_ok('{"status": "ok"}'), "healthy", {}

    def _privacy(self, request: Request) -> _Result:
        return html_response(200, self._privacy_policy), "privacy_policy", {}

    def _terms(self, request: Request) -> _Result:
        return html_response(200, legal.TERMS_OF_USE), "terms_of_use", {}

    def _authorize(self, request: Request) -> _Result:
        """Alexa's authorization URL (implicit grant): on to Google with the bridge's own callback, and a
        flow cookie whose nonce's hash is sealed into the state."""
        params = _params(request)
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self._alexa_urls:
            raise Refusal(pages.REDIRECT_NOT_ALLOWED, "redirect_uri_not_allowed")
        state = _required(params, "state", pages.MISSING_STATE)
        if params.get("response_type") != "token":
            # RFC 6749 §4.2.2.1: with a valid redirect URI, the error goes back to the client.
            return _error_to_alexa(redirect_uri, state, "unsupported_response_type"), "unsupported_response_type", {}
        callback_url = self._callback_url(request)
        try:
            credentials = self._credentials.get()
        except CredentialsUnavailable as error:
            return (
                _error_to_alexa(redirect_uri, state, "temporarily_unavailable"),
                "secrets_unavailable",
                {"error_code": error.error_code},
            )
        nonce = new_nonce()
        sealed = StateSealer(credentials.state_key, self._wall_clock).seal(
            AlexaReturn(state, redirect_uri, binding_of(nonce))
        )
        if len(sealed) > MAX_VALUE_BYTES:
            raise Refusal(pages.STATE_TOO_LONG, "state_too_long")
        response = redirect(
            _with_query(
                self._config.authorization_url,
                {
                    "client_id": credentials.client_id,
                    "redirect_uri": callback_url,
                    "response_type": "code",
                    "access_type": "offline",
                    "prompt": "consent",
                    "scope": SDM_SCOPE,
                    "state": sealed,
                },
            )
        )
        set_flow_cookie(response, nonce, MAX_AGE_S)
        return response, "sent_to_provider", {}

    def _callback(self, request: Request) -> _Result:
        """Google's redirect: check the state and this browser's cookie, exchange the code once, and hand the
        token (or the failure) to Alexa in the fragment. The cookie is cleared only for its own flow."""
        params = _params(request)
        sealed = _required(params, "state", pages.MISSING_STATE)
        nonce = request.cookies.get(FLOW_COOKIE)
        try:
            credentials = self._credentials.get()
        except CredentialsUnavailable as error:
            # The state cannot be verified without the key. An error (never a token) may still go to an
            # allow-listed Alexa URL, for the browser holding the flow's cookie.
            alexa = unverified(sealed)
            if alexa is None or alexa.redirect_uri not in self._alexa_urls or not alexa.bound_to(nonce):
                raise Refusal(pages.SECRETS_UNAVAILABLE, "secrets_unavailable", error_code=error.error_code) from None
            return (
                _ends_flow(_error_to_alexa(alexa.redirect_uri, alexa.state, "temporarily_unavailable")),
                "secrets_unavailable",
                {"error_code": error.error_code},
            )
        try:
            alexa = self._open(sealed, credentials.state_key)
        except _Expired as expired:
            # Authentic, so Alexa's own "try again" is where the user belongs (its cookie, if still held, goes).
            flow = expired.flow
            response = _error_to_alexa(flow.redirect_uri, flow.state, "access_denied")
            return (_ends_flow(response) if flow.bound_to(nonce) else response), "state_expired", {}
        try:
            grant = self._redeem(request, params, alexa, nonce, credentials)
        except _BackToAlexa as failure:
            response = _error_to_alexa(alexa.redirect_uri, alexa.state, failure.error)
            return (_ends_flow(response) if alexa.bound_to(nonce) else response), failure.outcome, failure.log_fields
        except Exception:
            logger.exception("unexpected error", extra={"event": "internal_error", "route": "/callback"})
            response = _error_to_alexa(alexa.redirect_uri, alexa.state, "server_error")
            return (_ends_flow(response) if alexa.bound_to(nonce) else response), "internal_error", {}
        fragment = [("state", alexa.state), ("access_token", grant.access_token), ("token_type", "Bearer")]
        if grant.expires_in is not None:
            fragment.append(("expires_in", str(grant.expires_in)))
        return _ends_flow(redirect(with_fragment(alexa.redirect_uri, fragment))), "linked", {}

    def _open(self, sealed: str, state_key: str) -> AlexaReturn:
        """The state's Alexa return; raises _Expired for an authentic expired state to an allow-listed
        Alexa URL, Refusal for anything else it cannot trust."""
        try:
            alexa = StateSealer(state_key, self._wall_clock).open(sealed)
        except StateRefused as refused:
            flow = refused.expired_flow
            if flow is None:
                raise Refusal(_STATE_PAGES[refused.reason], f"state_{refused.reason}") from None
            if flow.redirect_uri not in self._alexa_urls:
                raise Refusal(pages.STATE_INVALID, "state_redirect_not_allowed") from None
            raise _Expired(flow) from None
        if alexa.redirect_uri not in self._alexa_urls:
            raise Refusal(pages.STATE_INVALID, "state_redirect_not_allowed")
        return alexa

    def _redeem(
        self, request: Request, params: dict[str, str], alexa: AlexaReturn, nonce: str | None, credentials: Credentials
    ) -> AccessGrant:
        """The grant for this browser's flow, at most once; raises _BackToAlexa for every failure."""
        if not alexa.bound_to(nonce):
            raise _BackToAlexa("access_denied", "flow_cookie_missing" if nonce is None else "flow_cookie_mismatch")
        if not self._spent.claim(alexa.binding):
            raise _BackToAlexa("access_denied", "state_reused")
        if "error" in params:
            error = params["error"] if params["error"] in _PASSED_ON_PROVIDER_ERRORS else "server_error"
            raise _BackToAlexa(error, f"provider_error:{error}")
        code = params.get("code", "")
        if not code.strip():
            raise _BackToAlexa("server_error", "missing_code")
        try:
            callback_url = self._callback_url(request)
        except Refusal as refusal:
            raise _BackToAlexa("server_error", refusal.outcome) from None
        try:
            return self._tokens.exchange(
                code=code,
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
                redirect_uri=callback_url,
            )
        except TokenExchangeError as failure:
            busy = failure.kind is TokenFailure.PROVIDER_ERROR and failure.http_status in _GATEWAY_BUSY
            raise _BackToAlexa(
                "temporarily_unavailable" if busy else _ALEXA_ERRORS[failure.kind],
                f"token_{failure.kind.value}",
                provider_status=failure.http_status,
                provider_error=failure.provider_error,
                attempts=failure.attempts,
            ) from None

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
    """The production wiring. Short S3 timeouts (at most about 6 s with the retry) end the background read;
    requests wait for it at most credentials.WAIT_S, so with the 4 s token budget /callback answers within
    about 6 s whatever S3 and Google do."""
    s3 = boto3.client("s3", config=S3_CONFIG)
    return Bridge(config, CredentialStore(s3, config.secrets_bucket, config.secrets_key), TokenClient(config.token_url))


def _ends_flow(response: Response) -> Response:
    """The response to the callback of the browser's own flow: its flow cookie goes."""
    clear_flow_cookie(response)
    return response


def _error_to_alexa(redirect_uri: str, state: str, error: str) -> Response:
    """RFC 6749 §4.2.2.1: the error and Alexa's state in the fragment of an allow-listed Alexa URL."""
    return redirect(with_fragment(redirect_uri, [("error", error), ("state", state)]))


def _params(request: Request) -> dict[str, str]:
    try:
        return single_params(request)
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
