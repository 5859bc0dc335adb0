"""Account linking in a real headless Chromium: Alexa's app opens the bridge, Google's consent page sends the
browser back across sites to /callback, and the bridge hands Alexa the token (or the failure) in the
fragment. These prove the requests-based imitation in tests/bridge right where only a browser decides:
which cookies it sends, and what a person sees."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
import requests
from selenium.webdriver.common.by import By

import oauth_bridge.app
from tests.browser.conftest import BRIDGE, PROJECT, alexa_result, allow_at_google, flow_cookies, start_linking


def sdm_devices(linking, token: str) -> requests.Response:
    return requests.get(
        f"{linking.google_url}/v1/enterprises/{PROJECT}/devices",
        timeout=5,
        headers={"Authorization": f"Bearer {token}"},
        verify=str(linking.ca_file),
    )


def consent_to_callback_url(driver, linking) -> str:
    """The /callback address Google's Allow leads to, fetched outside the browser from the consent page's own
    form (as a person who copies the link would have it)."""
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', driver.page_source))
    approved = requests.post(
        f"{linking.google_url}/partnerconnections/{PROJECT}/approve",
        timeout=5,
        data={name: html.unescape(value) for name, value in fields.items()},
        allow_redirects=False,
        verify=str(linking.ca_file),
    )
    assert approved.status_code == 302, approved.text
    return approved.headers["Location"]


def test_a_person_links_and_alexa_gets_a_token_that_works(linking):
    with linking.browser() as driver:
        start_linking(driver, "alexa-state-1")
        [cookie] = flow_cookies(driver)
        assert (cookie["domain"], cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (
            "bridge.test",
            True,
            True,
            "Lax",
        )
        result = alexa_result(allow_at_google(driver))
        assert result["state"] == "alexa-state-1" and result["token_type"] == "Bearer"
        assert flow_cookies(driver) == []
    assert sdm_devices(linking, result["access_token"]).json()["devices"]
    assert linking.google.stats()["counts"]["token"] == 1


def test_the_flow_cookie_rides_googles_cross_site_redirect_because_it_is_lax(linking, monkeypatch):
    """The control: the same flow with a Strict cookie, which the browser keeps off a navigation that comes
    from another site, ends at Alexa refused. So the linking above really got its cookie on that redirect."""
    original = oauth_bridge.app.set_flow_cookie

    def strict(response, nonce, max_age_s):
        original(response, nonce, max_age_s)
        header = response.headers["Set-Cookie"]
        response.headers["Set-Cookie"] = header.replace("SameSite=Lax", "SameSite=Strict")

    monkeypatch.setattr(oauth_bridge.app, "set_flow_cookie", strict)
    with linking.browser() as driver:
        start_linking(driver, "alexa-state-strict")
        assert [cookie["sameSite"] for cookie in flow_cookies(driver)] == ["Strict"]
        assert alexa_result(allow_at_google(driver)) == {"error": "access_denied", "state": "alexa-state-strict"}
    assert linking.google.stats()["counts"].get("token", 0) == 0


def test_a_callback_replayed_from_another_browser_profile_never_gets_a_token(linking):
    with linking.browser() as person, linking.browser() as other:
        start_linking(person, "alexa-state-own")
        callback_url = consent_to_callback_url(person, linking)
        other.get(callback_url)  # before the person: refused, and the person's flow is not spent
        assert alexa_result(other.current_url) == {"error": "access_denied", "state": "alexa-state-own"}
        person.get(callback_url)
        assert "access_token" in alexa_result(person.current_url)
        for browser in (other, person):  # after it: refused again, in either profile
            browser.get(callback_url)
            assert alexa_result(browser.current_url) == {"error": "access_denied", "state": "alexa-state-own"}
    assert linking.google.stats()["counts"]["token"] == 1


def test_a_person_who_starts_linking_again_finishes_the_newer_sign_in(linking):
    """Start (A), start again (B) in another tab before finishing A, then finish A's older Google page: A goes
    back to Alexa refused, and B still links."""
    with linking.browser() as driver:
        start_linking(driver, "alexa-state-a")
        first_tab = driver.current_window_handle
        driver.switch_to.new_window("tab")
        start_linking(driver, "alexa-state-b")
        second_tab = driver.current_window_handle
        driver.switch_to.window(first_tab)
        assert alexa_result(allow_at_google(driver)) == {"error": "access_denied", "state": "alexa-state-a"}
        assert len(flow_cookies(driver)) == 1
        driver.switch_to.window(second_tab)
        result = alexa_result(allow_at_google(driver))
        assert result["state"] == "alexa-state-b" and result["access_token"]
    assert sdm_devices(linking, result["access_token"]).status_code == 200


@pytest.mark.parametrize("stray", ["/callback", "/callback?state=made-up&code=c", "/callback?error=access_denied"])
def test_a_stray_visit_to_the_callback_shows_a_plain_page_and_the_linking_still_finishes(linking, stray):
    with linking.browser() as driver:
        start_linking(driver, "alexa-state-1")
        google_tab = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(BRIDGE + stray)
        text = driver.find_element(By.TAG_NAME, "body").text
        assert "Home Thermostat" in text and "You can close this window." in text
        driver.switch_to.window(google_tab)
        assert "access_token" in alexa_result(allow_at_google(driver))


def test_a_sign_in_finished_after_ten_minutes_goes_back_to_alexas_own_retry(linking):
    with linking.browser() as driver:
        start_linking(driver, "alexa-state-slow")
        linking.wall.advance(601)
        assert alexa_result(allow_at_google(driver)) == {"error": "access_denied", "state": "alexa-state-slow"}
    assert linking.google.stats()["counts"].get("token", 0) == 0


def test_a_browser_without_the_sandbox_ca_refuses_the_bridge(linking):
    """The CA is trusted, not certificate errors ignored: a profile without it gets Chromium's own error."""
    with linking.browser(trusted=False) as driver:
        driver.get(linking.authorize_url("alexa-state-1"))
        assert "ERR_CERT_AUTHORITY_INVALID" in driver.page_source
        assert "Home Thermostat" not in driver.page_source and flow_cookies(driver) == []


PHONE_PAGES = [
    "/privacy",
    "/terms",
    "/callback",
    "/nowhere",
    "/authorize?"
    + urlencode({"response_type": "token", "state": "s", "redirect_uri": "https://evil.example/api/skill/link/X"}),
    "/callback?" + urlencode({"state": "sealed2~" + "x" * 300, "code": "c"}),
]


def test_the_pages_fit_a_phone_and_stay_readable(linking, tmp_path):
    """At a phone's width (390 CSS pixels, as the Alexa app's browser on a phone): no sideways scrolling, text
    at least 16 px, and the page laid out for the phone's width rather than shrunk from a desktop's."""
    with linking.browser() as driver:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
        )
        for index, path in enumerate(PHONE_PAGES):
            driver.get(BRIDGE + path)
            metrics = driver.execute_script(
                "return [window.innerWidth, document.documentElement.scrollWidth,"
                " parseFloat(getComputedStyle(document.body).fontSize)]"
            )
            assert metrics[0] == 390 and metrics[1] <= 390 and metrics[2] >= 16, (path, metrics)
            assert "Home Thermostat" in driver.title, path
            driver.save_screenshot(str(tmp_path / f"phone-{index}.png"))
