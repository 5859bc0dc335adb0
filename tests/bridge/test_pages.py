"""What a person reads at the bridge: every error page and the privacy policy, as served."""

from __future__ import annotations

import datetime
import html
import re

import pytest

from oauth_bridge import legal, pages
from oauth_bridge.app import Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.token_exchange import TokenClient
from tests.bridge.helpers import (
    BUCKET,
    KEY,
    TOKEN_URL,
    VENDOR,
    Flow,
    assert_refused,
    body,
    callback,
    get,
    make_config,
    start,
)

DEVELOPER_TERMS = re.compile(
    r"\b(state|parameters?|cookies?|oauth|headers?|query|redirects?|tokens?|nonce|https?|"
    r"callback|uri|url|bridge|endpoint|scope|client|host|[45]\d\d)\b",
    re.IGNORECASE,
)
"""Words a person linking their thermostat should never have to read."""


def visible_text(page: str) -> str:
    """The text a browser shows: the title and the body without tags or the style sheet."""
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    shown = re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[1])
    return html.unescape(f"{title} {shown}")


def test_every_error_page_is_listed():
    assert set(pages.PAGES) == {value for value in vars(pages).values() if isinstance(value, pages.ErrorPage)}


@pytest.mark.parametrize("page", pages.PAGES, ids=lambda page: f"{page.status}-{page.title}")
def test_each_page_names_the_skill_says_the_window_can_be_closed_and_speaks_plainly(page):
    text = visible_text(pages.render(page))
    assert "Home Thermostat" in text and "You can close this window." in text
    assert DEVELOPER_TERMS.findall(text) == [], text
    assert re.search(r"\bGET\b", text) is None


def test_the_developer_terms_check_catches_the_words_it_lists():
    assert DEVELOPER_TERMS.findall("The link has no state parameter; the Host header; the OAuth cookie; 400") == [
        "state",
        "parameter",
        "Host",
        "header",
        "OAuth",
        "cookie",
        "400",
    ]


@pytest.fixture
def served(secrets_bucket, monotonic, wall):
    def privacy(contact: str | None = None, live_state: bool = False) -> str:
        bridge = Bridge(
            make_config(privacy_contact=contact, live_state=live_state),
            CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
            TokenClient(TOKEN_URL),
            wall_clock=wall,
        )
        response = get(bridge, "/privacy")
        assert response.status_code == 200
        return body(response)

    return privacy


def test_the_privacy_policy_and_terms_carry_the_date_of_their_wording(served, bridge):
    assert datetime.date.today() >= legal.UPDATED
    dated = f"Last updated: {legal.UPDATED.day} {legal.UPDATED:%B %Y}."
    assert dated in visible_text(served()) and dated in visible_text(body(get(bridge, "/terms")))


def test_without_a_configured_contact_the_policy_says_who_to_ask(served):
    assert legal.NO_CONTACT in visible_text(served())


@pytest.mark.parametrize(
    "contact, link",
    [
        ("privacy@example.org", '<a href="mailto:privacy@example.org">privacy@example.org</a>'),
        (
            "https://example.org/contact?topic=privacy&x=1",
            '<a href="https://example.org/contact?topic=privacy&amp;x=1">https://example.org/contact?topic=privacy&amp;x=1</a>',
        ),
    ],
)
def test_a_configured_contact_is_a_link_on_the_privacy_policy(served, contact, link):
    page = served(contact)
    assert link in page and legal.NO_CONTACT not in visible_text(page)


def test_with_live_state_on_the_policy_says_what_is_stored_for_each_user_and_until_when(served):
    """lambda_src/nest_skill/live_state/store.py: per user, the LWA token pair sealed with the KMS key,
    the Alexa region and the endpoint IDs, under a hash of the Google account; a refused report deletes
    the tokens and the endpoints, leaving the hash, the region and relink_needed."""
    off, on = visible_text(served()), visible_text(served(live_state=True))
    assert "Changes shown in the Alexa app" not in off and "DynamoDB" not in off
    assert "Nothing about you is stored by the skill, except a list of your thermostats" in off
    assert "It does not poll or read anything otherwise." in off
    section = on[on.index("Changes shown in the Alexa app") : on.index("Logs")]
    for stated in (
        "Login with Amazon access token and refresh token",
        "encrypted with a key in the operator's AWS Key Management Service",
        "the Alexa region that serves you",
        "the identifiers of the thermostats you see",
        "one-way hash of your Google account's identifier",
        "until you disable the skill or unlink your account",
        "deletes your credentials and your list of thermostats",
    ):
        assert stated in " ".join(section.split()), stated
    # Nothing on the page still says that nothing is stored or read beyond the request.
    assert "Nothing about you is stored by the skill" not in on and "read anything otherwise" not in on


def test_with_live_state_on_its_section_comes_before_logs_and_the_policy_reads_the_same_from_there(served):
    off, on = served(), served(live_state=True)
    headings = [
        "Who is responsible",
        "What data is involved, and where it goes",
        "What is stored",
        "Logs",
        "Sharing",
        "Unlinking and revoking access",
        "Contact and changes",
    ]
    assert re.findall(r"<h2>(.*?)</h2>", off) == headings
    assert re.findall(r"<h2>(.*?)</h2>", on) == [*headings[:3], "Changes shown in the Alexa app", *headings[3:]]
    assert on[on.index("<h2>Logs</h2>") :] == off[off.index("<h2>Logs</h2>") :]


@pytest.mark.parametrize(
    "path, title", [("/privacy", "Home Thermostat: privacy policy"), ("/terms", "Home Thermostat: terms of use")]
)
def test_the_legal_pages_are_titled(bridge, path, title):
    text = body(get(bridge, path))
    assert f"<title>{title}</title>" in text and f"<h1>{title}</h1>" in text


def test_a_refusal_page_says_how_to_start_again_and_what_the_owner_checks(secrets_bucket, monotonic, wall):
    bridge = Bridge(
        make_config(public_base_url=None),
        CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
        TokenClient(TOKEN_URL),
        wall_clock=wall,
    )
    flow = start(bridge)
    tampered = Flow(flow.state[:-3] + ("AAA" if not flow.state.endswith("AAA") else "BBB"), flow.nonce)
    assert_refused(
        callback(bridge, tampered),
        400,
        "<p>To try again, start linking in the Alexa app: Skills, then "
        "Home Thermostat, then Link account.</p>\n"
        "<p>You can close this window.</p>",
    )
    bad_host = get(
        bridge,
        "/authorize",
        {
            "client_id": "x",
            "response_type": "token",
            "state": "s",
            "redirect_uri": f"https://layla.amazon.com/api/skill/link/{VENDOR}",
        },
        {"host": "a b"},
    )
    assert_refused(
        bad_host,
        400,
        "<p>If this keeps happening, the person who set up Home Thermostat needs to check its linking service.</p>",
    )


def test_a_page_without_advice_in_full(bridge):
    response = get(bridge, "/admin")
    assert "Allow" not in response.headers
    assert body(response) == (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Page not found - Home Thermostat</title>\n"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5;overflow-wrap:anywhere}</style>\n</head>\n<body>\n"
        "<p>Home Thermostat: linking your Google account</p>\n<h1>Page not found</h1>\n"
        "<p>There is no page at this address of Home Thermostat&#x27;s linking service.</p>\n"
        "<p>You can close this window.</p>\n</body>\n</html>\n"
    )
