"""What the user reads when linking stops at the bridge: what happened, in plain words, and what to do next.

Only when the sign-in itself cannot be trusted (incomplete, changed, not started from the Alexa app) or the
request is unreadable: then there is no trustworthy Alexa redirect URI. Every other failure goes back to
Alexa (RFC 6749 §4.2.2.1), which shows its own "try again". Each page names the skill, says the window can
be closed, and uses no developer terms (tests/bridge/test_pages.py lists them). The wording is fixed text;
nothing from the request is ever placed in a page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

SKILL = "Home Thermostat"
RETRY = f"To try again, start linking in the Alexa app: Skills, then {SKILL}, then Link account."
OWNER = f"If this keeps happening, the person who set up {SKILL} needs to check its linking service."
CLOSE = "You can close this window."
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;overflow-wrap:anywhere}"
)


@dataclass(frozen=True)
class ErrorPage:
    status: int
    title: str
    detail: str
    advice: str = RETRY


NOT_FOUND = ErrorPage(404, "Page not found", f"There is no page at this address of {SKILL}'s linking service.", "")
METHOD_NOT_ALLOWED = ErrorPage(405, "Page not available", f"{SKILL}'s linking pages open only as ordinary links.", "")
MALFORMED_QUERY = ErrorPage(
    400,
    "This link does not work",
    f"The link to this page is damaged, so linking {SKILL} to your Google account cannot go on.",
)
PARAMETER_TOO_LONG = ErrorPage(
    400,
    "This link does not work",
    f"The link to this page is too long, so linking {SKILL} to your Google account cannot go on.",
)
CONTROL_CHARACTERS = ErrorPage(
    400,
    "This link does not work",
    f"The link to this page contains characters that do not belong in it, so linking {SKILL} cannot go on.",
)
BAD_HOST = ErrorPage(
    400,
    "This link does not work",
    f"This page was opened at an address {SKILL}'s linking service does not recognise.",
    OWNER,
)
REDIRECT_NOT_ALLOWED = ErrorPage(
    400,
    "This link does not work",
    f"The link does not lead back to the Alexa app's page for {SKILL}, so linking cannot go on here.",
)
MISSING_STATE = ErrorPage(
    400,
    "Linking cannot go on",
    f"The link is missing the part that ties it to your Alexa app, so {SKILL} cannot finish linking.",
)
STATE_TOO_LONG = ErrorPage(
    400,
    "Linking cannot go on",
    f"The Alexa app sent more than can be carried through the Google sign-in, so {SKILL} cannot finish linking.",
)
STATE_INVALID = ErrorPage(
    400,
    "Sign-in not recognised",
    f"This Google sign-in cannot be matched to a linking of "
    f"{SKILL} that you started: the link was changed, or did "
    "not come from this service.",
)
LEGACY_STATE = ErrorPage(
    400,
    "Sign-in not recognised",
    f"This Google sign-in was not started from the Alexa app for {SKILL}: linking always starts there.",
)
SECRETS_UNAVAILABLE = ErrorPage(
    503, "Temporarily unavailable", f"{SKILL}'s linking service cannot read its settings right now.", f"{RETRY} {OWNER}"
)
INTERNAL_ERROR = ErrorPage(
    500, "Something went wrong", f"{SKILL}'s linking service ran into an unexpected problem.", f"{RETRY} {OWNER}"
)
PAGES = (
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    MALFORMED_QUERY,
    PARAMETER_TOO_LONG,
    CONTROL_CHARACTERS,
    BAD_HOST,
    REDIRECT_NOT_ALLOWED,
    MISSING_STATE,
    STATE_TOO_LONG,
    STATE_INVALID,
    LEGACY_STATE,
    SECRETS_UNAVAILABLE,
    INTERNAL_ERROR,
)


def render(page: ErrorPage) -> str:
    """A small, mobile-friendly page (Alexa's linking runs in the app's browser); no scripts."""
    title, detail, advice = (html.escape(text) for text in (page.title, page.detail, page.advice))
    advice_html = f"\n<p>{advice}</p>" if advice else ""
    advice_html += f"\n<p>{html.escape(CLOSE)}</p>"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - {html.escape(SKILL)}</title>
<style>{_STYLE}</style>
</head>
<body>
<p>{html.escape(SKILL)}: linking your Google account</p>
<h1>{title}</h1>
<p>{detail}</p>{advice_html}
</body>
</html>
"""
