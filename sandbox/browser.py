"""Browsers for the local stand-ins: a requests session that keeps cookies as a browser does, and a real
headless Chromium (chromium(), below) that the real-browser tests use to prove that imitation right.

Browsers treat http://127.0.0.1 as a secure context and send `Secure` cookies to it; the standard
library's cookie jar sends them over https only (and requests rebuilds a default-policy jar for every
request, so a jar policy cannot change that). The bridge's flow cookie is `Secure`, so the demo, the
benchmark and the tests that drive the bridge over loopback HTTP use this session: it sends loopback
cookies over plain HTTP, exactly as a browser would, and nothing else changes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from sandbox.processes import LOOPBACK

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


class BrowserSession(requests.Session):
    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        for cookie in self.cookies:
            if cookie.domain == LOOPBACK:
                cookie.secure = False
        return super().prepare_request(request)


# -- a real browser: Debian's headless Chromium through its chromedriver --------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CERTUTIL = "certutil"
"""Debian's chromium, chromium-driver and libnss3-tools (`make chromium` installs them)."""
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-default-browser-check",
)
"""No sandbox (root in CI), no GPU, and nothing the browser would fetch on its own (no network here)."""
PAGE_LOAD_TIMEOUT_S = 15


def chromium_missing() -> str | None:
    """Why a real browser cannot run here (what `make chromium` installs), or None."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if shutil.which(CERTUTIL) is None:
        missing.append(f"{CERTUTIL} (libnss3-tools)")
    return f"not installed: {', '.join(missing)} (make chromium installs them)" if missing else None


def trust_in_nss(home: Path, ca_file: Path) -> None:
    """Chromium on Linux takes locally trusted roots from the user's NSS database, $HOME/.pki/nssdb: the
    sandbox CA goes into a fresh one as a trusted issuer of server certificates ("C,,"), so the browser
    verifies the stand-ins' certificates as it would any other (no flag that ignores certificate errors)."""
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True)
    for argv in (["-N", "--empty-password"], ["-A", "-t", "C,,", "-n", "nest-skill sandbox CA", "-i", str(ca_file)]):
        subprocess.run([CERTUTIL, "-d", f"sql:{database}", *argv], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def chromium(
    directory: Path, hosts: Mapping[str, int], ca_file: Path | None = None, window: tuple[int, int] = (1280, 900)
) -> Iterator[WebDriver]:
    """A fresh headless Chromium profile in `directory` (its own HOME, NSS database and user data): each call
    is another browser, sharing no cookie with any other. `hosts` maps each host name to a port on 127.0.0.1
    (Chromium's --host-resolver-rules), so https://bridge.test/ reaches a loopback server with no DNS; any
    other name fails to resolve. With `ca_file`, that CA is trusted (trust_in_nss). Selenium is handed
    /usr/bin/chromedriver, so Selenium Manager never runs (nothing is downloaded); quitting stops the
    driver and its browser by PID."""
    from selenium import webdriver  # imported here: the demo and the benchmark use BrowserSession alone
    from selenium.webdriver.chrome.options import Options as ChromeOptions
    from selenium.webdriver.chrome.service import Service as ChromeService

    home = directory / "home"
    home.mkdir(parents=True)
    if ca_file is not None:
        trust_in_nss(home, ca_file)
    options = ChromeOptions()
    options.binary_location = str(CHROMIUM)
    rules = ", ".join(f"MAP {host} {LOOPBACK}:{port}" for host, port in hosts.items())
    for flag in (
        *CHROMIUM_FLAGS,
        f"--user-data-dir={directory / 'profile'}",
        f"--window-size={window[0]},{window[1]}",
        f"--host-resolver-rules={rules}, EXCLUDE localhost",
    ):
        options.add_argument(flag)
    service = ChromeService(
        str(CHROMEDRIVER), env={**os.environ, "HOME": str(home)}, log_output=str(directory / "chromedriver.log")
    )
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
        yield driver
    finally:
        driver.quit()


def alexa_landing(environ: dict, start_response: Callable) -> list[bytes]:
    """Alexa's redirect URL (pitangui.amazon.com/api/skill/link/...) as the browser meets it: a page, so the
    browser settles there; the result stays in the address's fragment, which no server sees."""
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")])
    return [b"<!DOCTYPE html><html><head><title>Alexa (sandbox)</title></head><body><h1>Alexa</h1></body></html>"]
