"""Real-browser fixtures: headless Chromium (Debian's, through its chromedriver) linking an account through
the bridge and the fake Google, each on its own HTTPS host name mapped to 127.0.0.1, with the sandbox CA
trusted by the browser's own NSS database (sandbox.browser). The bridge runs in this process, so its wall
clock is the test's and the secrets object is moto's (the bridge tests' fixtures)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from oauth_bridge.app import Bridge
from oauth_bridge.credentials import CredentialStore
from oauth_bridge.token_exchange import TokenClient
from sandbox.browser import alexa_landing, chromium, chromium_missing
from sandbox.fake_google import FakeGoogle
from sandbox.serving import running
from sandbox.tls import LoopbackTls, loopback_tls
from tests.bridge.conftest import aws, monotonic, secrets_bucket, wall  # noqa: F401 - the bridge's fixtures
from tests.bridge.helpers import BUCKET, CLIENT_ID, CLIENT_SECRET, KEY, VENDOR, make_config
from tests.clock import Clock

BRIDGE_HOST, GOOGLE_HOST, ALEXA_HOST = "bridge.test", "accounts.google.test", "pitangui.amazon.com"
BRIDGE = f"https://{BRIDGE_HOST}"
ALEXA_REDIRECT = f"https://{ALEXA_HOST}/api/skill/link/{VENDOR}"
PROJECT = "00000000-0000-4000-8000-0000000000bb"
WAIT_S = 10


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (Debian's; `make chromium`)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = chromium_missing()
    for item in items:
        if Path(item.path).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"Chromium cannot run here: {reason}"))


@pytest.fixture(scope="session")
def browser_tls(tmp_path_factory: pytest.TempPathFactory) -> LoopbackTls:
    return loopback_tls(tmp_path_factory.mktemp("browser-tls"), [BRIDGE_HOST, GOOGLE_HOST, ALEXA_HOST])


@dataclass
class Linking:
    """The three parties on their HTTPS names, and a way to open fresh browsers on them."""

    google: FakeGoogle
    google_url: str
    """The fake Google at 127.0.0.1, for the test's own requests (its SDM API, with a linked token)."""
    wall: Clock
    ports: dict[str, int]
    directory: Path
    ca_file: Path
    browsers: int = 0

    def browser(
        self, trusted: bool = True, window: tuple[int, int] = (1280, 900)
    ) -> contextlib.AbstractContextManager[WebDriver]:
        """Another browser profile (its own cookies), trusting the sandbox CA unless told not to."""
        self.browsers += 1
        return chromium(
            self.directory / f"browser-{self.browsers}", self.ports, self.ca_file if trusted else None, window
        )

    @staticmethod
    def authorize_url(alexa_state: str) -> str:
        """What the Alexa app opens: the bridge's /authorize for this skill, implicit grant."""
        return f"{BRIDGE}/authorize?" + urlencode(
            {
                "client_id": "alexa-side-id",
                "response_type": "token",
                "state": alexa_state,
                "redirect_uri": ALEXA_REDIRECT,
            }
        )


def on_host(driver: WebDriver, host: str) -> bool:
    return urlsplit(driver.current_url).hostname == host


def start_linking(driver: WebDriver, alexa_state: str) -> None:
    """The Alexa app opens the bridge, which sends the browser on to Google's consent page."""
    driver.get(Linking.authorize_url(alexa_state))
    WebDriverWait(driver, WAIT_S).until(lambda d: on_host(d, GOOGLE_HOST))
    assert driver.title == "Sign in - Google Accounts", driver.page_source


def allow_at_google(driver: WebDriver) -> str:
    """Press Allow on the Google page the window shows; returns where the browser settles (Alexa or a page)."""
    driver.find_element(By.ID, "allow").click()
    WebDriverWait(driver, WAIT_S).until(
        lambda d: not on_host(d, GOOGLE_HOST) and d.execute_script("return document.readyState") == "complete"
    )
    return driver.current_url


def alexa_result(url: str) -> dict[str, str]:
    """What Alexa receives: the fragment of its redirect URL (asserting the browser is there)."""
    assert url.startswith(ALEXA_REDIRECT + "#"), url
    return dict(parse_qsl(urlsplit(url).fragment))


def flow_cookies(driver: WebDriver) -> list[dict]:
    """The bridge's flow cookies the browser holds (HttpOnly ones too, through the DevTools protocol)."""
    cookies = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    return [cookie for cookie in cookies if cookie["name"] == "__Host-linking"]


@pytest.fixture
def linking(secrets_bucket, monotonic, wall, browser_tls, tmp_path, monkeypatch) -> Iterator[Linking]:  # noqa: F811 - the bridge's fixtures, by name
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(browser_tls.ca_file))  # the bridge's token exchange, over HTTPS
    context = browser_tls.server_context()
    google = FakeGoogle(PROJECT, CLIENT_ID, CLIENT_SECRET, [], consent_screen=True)
    with contextlib.ExitStack() as servers:
        google_url = servers.enter_context(running(google, tls=context))
        alexa_url = servers.enter_context(running(alexa_landing, tls=context))
        # No PUBLIC_BASE_URL: the bridge names its callback from the Host the browser sends (bridge.test).
        config = make_config(
            authorization_url=f"https://{GOOGLE_HOST}/partnerconnections/{PROJECT}/auth",
            token_url=f"{google_url}/oauth2/v4/token",
            public_base_url=None,
        )
        bridge = Bridge(
            config,
            CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic),
            TokenClient(config.token_url),
            wall_clock=wall,
        )
        bridge_url = servers.enter_context(running(bridge, tls=context))
        google.redirect_uris = (f"{BRIDGE}/callback",)

        def port(url: str) -> int:
            return int(url.rsplit(":", 1)[1])

        yield Linking(
            google,
            google_url,
            wall,
            {BRIDGE_HOST: port(bridge_url), GOOGLE_HOST: port(google_url), ALEXA_HOST: port(alexa_url)},
            tmp_path,
            browser_tls.ca_file,
        )
