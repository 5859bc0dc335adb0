"""What the user reads when linking stops at the bridge: what went wrong and what to do next.

Only when the state itself is bad (missing, tampered, expired, not sealed by the bridge) or the request
is unreadable: then there is no trustworthy Alexa redirect URI. Every other failure goes back to Alexa
(RFC 6749 §4.2.2.1), which shows its own "try again". The wording is fixed text; nothing from the
request is ever placed in a page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

RETRY = "Please start linking again from the Alexa app (Skills, then this skill, then Link account)."
OWNER = "If this keeps happening, the skill's owner needs to check the bridge's logs and settings."


@dataclass(frozen=True)
class ErrorPage:
    status: int
    title: str
    detail: str
    advice: str = RETRY


NOT_FOUND = ErrorPage(404, "Not found", "There is nothing at this address.", "")
METHOD_NOT_ALLOWED = ErrorPage(405, "Method not allowed", "This address only answers GET requests.", "")
MALFORMED_QUERY = ErrorPage(400, "Bad request", "The link's parameters could not be read: bad encoding, "
                                                "a repeated parameter or too many parameters.")
PARAMETER_TOO_LONG = ErrorPage(400, "Bad request", "A parameter in the link is longer than 2 KB.")
CONTROL_CHARACTERS = ErrorPage(400, "Bad request", "A parameter in the link contains line breaks or other "
                                                   "control characters.")
BAD_HOST = ErrorPage(400, "Bad request", "The request's Host header is not a valid host name.", OWNER)
REDIRECT_NOT_ALLOWED = ErrorPage(400, "Unknown return address", "The address to return to is missing or is "
                                 "not one of Alexa's account-linking addresses for this skill.")
MISSING_STATE = ErrorPage(400, "Incomplete sign-in", "The link has no state parameter, so the sign-in cannot "
                                                     "be matched to your Alexa app.")
STATE_TOO_LONG = ErrorPage(400, "Bad request", "Alexa's state is too long to carry through the Google sign-in.")
STATE_EXPIRED = ErrorPage(400, "Sign-in took too long", "More than 10 minutes passed between starting and "
                                                        "finishing the Google sign-in.")
STATE_INVALID = ErrorPage(400, "Sign-in not recognised", "The sign-in answer could not be verified: it was "
                                                         "changed, or was not started by this service.")
LEGACY_STATE = ErrorPage(400, "Sign-in not recognised", "The sign-in answer was not started by this service: "
                                                        "linking always starts from the Alexa app.")
SECRETS_UNAVAILABLE = ErrorPage(503, "Temporarily unavailable", "This service cannot read its settings right now.",
                                f"{RETRY} {OWNER}")
INTERNAL_ERROR = ErrorPage(500, "Something went wrong", "This service hit an unexpected error.",
                           f"{RETRY} {OWNER}")


def render(page: ErrorPage) -> str:
    """A small, mobile-friendly page (Alexa's linking runs in the app's browser); no scripts."""
    title, detail, advice = (html.escape(text) for text in (page.title, page.detail, page.advice))
    advice_html = f"\n<p>{advice}</p>" if advice else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}</style>
</head>
<body>
<h1>{title}</h1>
<p>{detail}</p>{advice_html}
</body>
</html>
"""
