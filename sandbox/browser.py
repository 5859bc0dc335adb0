"""A requests session that keeps cookies as a browser does on the local stand-ins.

Browsers treat http://127.0.0.1 as a secure context and send `Secure` cookies to it; the standard
library's cookie jar sends them over https only (and requests rebuilds a default-policy jar for every
request, so a jar policy cannot change that). The bridge's flow cookie is `Secure`, so the demo, the
benchmark and the tests that drive the bridge over loopback HTTP use this session: it sends loopback
cookies over plain HTTP, exactly as a browser would, and nothing else changes.
"""

from __future__ import annotations

import requests

from sandbox.processes import LOOPBACK


class BrowserSession(requests.Session):
    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        for cookie in self.cookies:
            if cookie.domain == LOOPBACK:
                cookie.secure = False
        return super().prepare_request(request)
