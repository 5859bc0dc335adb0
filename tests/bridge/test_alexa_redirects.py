"""Where the bridge may send a browser back to Alexa: the six redirect URLs of a vendor, and the fragment that
carries the token or the error."""

from __future__ import annotations

from oauth_bridge.alexa_redirects import allowed_redirect_urls, with_fragment


def test_the_alexa_redirect_allow_list_is_exactly_these_six_urls():
    assert allowed_redirect_urls("V1") == {
        "https://pitangui.amazon.com/api/skill/link/V1",
        "https://layla.amazon.com/api/skill/link/V1",
        "https://alexa.amazon.co.jp/api/skill/link/V1",
        "https://pitangui.amazon.com/spa/skill/account-linking-status.html?vendorId=V1",
        "https://layla.amazon.com/spa/skill/account-linking-status.html?vendorId=V1",
        "https://alexa.amazon.co.jp/spa/skill/account-linking-status.html?vendorId=V1",
    }


def test_fragments_are_percent_encoded_with_spaces_as_20():
    assert (
        with_fragment("https://a.example/x", [("state", "a b+c/d"), ("error", "access_denied")])
        == "https://a.example/x#state=a%20b%2Bc%2Fd&error=access_denied"
    )
