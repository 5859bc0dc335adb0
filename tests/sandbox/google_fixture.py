"""Values and an HTTP client shared by the fake Google tests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

PROJECT = "fake-project-0001"
CLIENT_ID = "fake-client.apps.example"
CLIENT_SECRET = "fake-client-secret"
REDIRECT = "https://layla.amazon.com/api/skill/link/MFAKEVENDOR"
OTHER_REDIRECT = "https://pitangui.amazon.com/api/skill/link/MFAKEVENDOR"
SDM_SCOPE = "https://www.googleapis.com/auth/sdm.service"


class Client:
    """A browser/server stand-in speaking to the fake over real HTTP, as the bridge and skill will."""

    def __init__(self, session: requests.Session, base_url: str) -> None:
        self.http = session
        self.base_url = base_url

    def authorize(self, project: str = PROJECT, **overrides: str) -> requests.Response:
        params = {
            "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": SDM_SCOPE,
            "state": "state-123",
            "access_type": "offline",
            "prompt": "consent",
            **overrides,
        }
        return self.http.get(
            f"{self.base_url}/partnerconnections/{project}/auth", params=params, allow_redirects=False, timeout=5
        )

    def code(self, **overrides: str) -> str:
        response = self.authorize(**overrides)
        assert response.status_code == 302, response.text
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]

    def token(self, form: dict[str, str], **kwargs) -> requests.Response:
        return self.http.post(f"{self.base_url}/oauth2/v4/token", data=form, timeout=5, **kwargs)

    def exchange(self, code: str, **overrides: str) -> requests.Response:
        return self.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                **overrides,
            }
        )

    def refresh(self, refresh_token: str) -> requests.Response:
        return self.token(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        )

    def revoke(self, token: str) -> requests.Response:
        return self.http.post(f"{self.base_url}/revoke", params={"token": token}, timeout=5)

    def sdm(self, method: str, path: str, token: str | None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.http.request(
            method, f"{self.base_url}/v1/enterprises/{PROJECT}/{path}", headers=headers, timeout=5, **kwargs
        )

    def command(self, token: str, device_id: str, command: str, **params) -> requests.Response:
        return self.sdm(
            "POST",
            f"devices/{device_id}:executeCommand",
            token,
            json={"command": "sdm.devices.commands." + command, "params": params},
        )
