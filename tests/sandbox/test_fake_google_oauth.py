"""The fake's Partner Connections page, token and revoke endpoints answer as Google's do."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.fake_google import TOKEN_MISBEHAVIOURS, TRICKLING_MODES, trickling_token_endpoint
from tests.sandbox.google_fixture import CLIENT_ID, CLIENT_SECRET, OTHER_REDIRECT, REDIRECT, SDM_SCOPE


def test_authorization_page_approves_at_once_and_redirects_with_code_state_and_scope(client):
    response = client.authorize()

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["state-123"]
    assert query["scope"] == [SDM_SCOPE]
    assert query["code"][0]


def test_redirect_keeps_a_query_the_registered_uri_already_has(fake, client):
    fake.redirect_uris += ("https://bridge.example/callback?flow=implicit",)

    response = client.authorize(redirect_uri="https://bridge.example/callback?flow=implicit")

    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["flow"] == ["implicit"] and query["code"]


@pytest.mark.parametrize(
    "overrides, status, title",
    [
        ({"client_id": "someone-else.apps.example"}, 401, "Error 401: invalid_client"),
        ({"redirect_uri": "https://evil.example/steal"}, 400, "Error 400: redirect_uri_mismatch"),
        ({"response_type": "token"}, 400, "Error 400: unsupported_response_type"),
        ({"scope": ""}, 400, "Error 400: invalid_request"),
    ],
)
def test_authorization_page_shows_googles_error_and_never_redirects(client, overrides, status, title):
    response = client.authorize(**overrides)

    assert response.status_code == status
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert title in response.text


def test_authorization_page_for_another_project_is_not_found(client):
    assert client.authorize(project="not-my-project").status_code == 404


def test_code_exchange_returns_googles_token_response(client):
    response = client.exchange(client.code())

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "refresh_token", "scope", "token_type"}
    assert body["expires_in"] == 3599 and body["token_type"] == "Bearer" and body["scope"] == SDM_SCOPE
    assert not body["access_token"].startswith("ya29.") and not body["refresh_token"].startswith("1//")


def test_no_refresh_token_unless_offline_access_was_asked(client):
    body = client.exchange(client.code(access_type="online")).json()

    assert "access_token" in body and "refresh_token" not in body


def test_code_works_once(client):
    code = client.code()
    assert client.exchange(code).status_code == 200

    again = client.exchange(code)

    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "Bad Request"}


def test_code_expires_after_ten_minutes(client, clock):
    code = client.code()
    clock.advance(600)

    assert client.exchange(code).json()["error"] == "invalid_grant"


def test_unknown_code_is_an_invalid_grant(client):
    response = client.exchange("fake-code-never-issued")

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_code_must_be_exchanged_with_the_redirect_uri_it_was_issued_for(client):
    response = client.exchange(client.code(), redirect_uri=OTHER_REDIRECT)

    assert response.status_code == 400
    assert response.json() == {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}


@pytest.mark.parametrize("overrides", [{"client_secret": "wrong"}, {"client_id": "someone-else.apps.example"}])
def test_wrong_client_credentials_are_unauthorized(client, overrides):
    response = client.exchange(client.code(), **overrides)

    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Unauthorized"}


def test_client_credentials_may_come_as_http_basic(client):
    form = {"grant_type": "authorization_code", "code": client.code(), "redirect_uri": REDIRECT}

    assert client.token(form, auth=(CLIENT_ID, CLIENT_SECRET)).status_code == 200
    assert client.token({**form, "code": client.code()}, auth=(CLIENT_ID, "wrong")).status_code == 401


def test_token_request_in_the_query_string_as_the_sdm_quick_start_sends_it(client):
    query = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": client.code(),
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
    }

    response = client.http.post(f"{client.base_url}/oauth2/v4/token", params=query, timeout=5)

    assert response.status_code == 200 and response.json()["access_token"]


def test_generic_token_path_is_served_too(client):
    form = {
        "grant_type": "authorization_code",
        "code": client.code(),
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    assert client.http.post(f"{client.base_url}/token", data=form, timeout=5).status_code == 200


@pytest.mark.parametrize(
    "form, error",
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "redirect_uri": REDIRECT}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
    ],
)
def test_malformed_token_requests_are_rejected(client, form, error):
    response = client.token({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form})

    assert response.status_code == 400 and response.json()["error"] == error


def test_refresh_token_gives_a_new_working_access_token(client):
    refresh_token = client.exchange(client.code()).json()["refresh_token"]

    response = client.refresh(refresh_token)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "scope", "token_type"}
    assert client.sdm("GET", "devices", body["access_token"]).status_code == 200


def test_unknown_refresh_token_is_an_invalid_grant(client):
    response = client.refresh("fake-refresh-never-issued")

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "Bad Request"}


def test_revoking_the_refresh_token_ends_the_whole_grant(client):
    tokens = client.exchange(client.code()).json()

    assert client.revoke(tokens["refresh_token"]).status_code == 200

    assert client.sdm("GET", "devices", tokens["access_token"]).status_code == 401
    refreshed = client.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 400
    assert refreshed.json() == {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}


def test_revoking_an_access_token_stops_it(client, token):
    assert client.sdm("GET", "devices", token).status_code == 200

    assert client.revoke(token).status_code == 200

    assert client.sdm("GET", "devices", token).status_code == 401


def test_revoking_an_unknown_or_revoked_token_is_an_invalid_token(client, token):
    client.revoke(token)

    for candidate in (token, "fake-access-never-issued"):
        response = client.revoke(candidate)
        assert response.status_code == 400 and response.json()["error"] == "invalid_token"


def test_access_token_expires_after_its_lifetime(client, clock, token):
    clock.advance(3598)
    assert client.sdm("GET", "devices", token).status_code == 200

    clock.advance(2)

    expired = client.sdm("GET", "devices", token)
    assert expired.status_code == 401
    assert [d["reason"] for d in expired.json()["error"]["details"]] == ["ACCESS_TOKEN_EXPIRED"]
    assert "details" not in client.sdm("GET", "devices", "fake-access-never-issued").json()["error"]


# -- the fake's own token misbehaviours (the bridge's failure paths) ---------------------------------


@pytest.mark.parametrize("mode", list(TOKEN_MISBEHAVIOURS))
def test_a_token_misbehaviour_answers_as_set_and_spends_the_code(client, base_url, mode):
    code = client.code()
    set_mode = client.http.post(f"{base_url}/__fake/token-misbehaviour", params={"mode": mode}, timeout=5)
    assert set_mode.json() == {"token_misbehaviour": mode}
    status, content_type, body = TOKEN_MISBEHAVIOURS[mode]
    answer = client.exchange(code)
    assert (answer.status_code, answer.headers["Content-Type"], answer.content) == (status, content_type, body)
    client.http.post(f"{base_url}/__fake/token-misbehaviour", params={"mode": ""}, timeout=5).raise_for_status()
    assert client.exchange(code).json()["error"] == "invalid_grant"
    assert client.exchange(client.code()).json()["access_token"]


def test_an_unknown_misbehaviour_is_refused(client, base_url):
    answer = client.http.post(f"{base_url}/__fake/token-misbehaviour", params={"mode": "slow"}, timeout=5)
    assert answer.status_code == 400 and "unavailable" in answer.json()["error"]


@pytest.mark.parametrize("mode", TRICKLING_MODES)
def test_the_trickling_endpoint_sends_one_piece_per_interval(mode):
    """What the bridge's budget must cut: every read returns quickly, the whole takes steps x interval."""
    with trickling_token_endpoint(mode, interval_s=0.05, steps=10) as token_url:
        started = time.monotonic()
        answer = requests.post(token_url, data={"code": "c"}, timeout=2)
        elapsed = time.monotonic() - started
    assert answer.status_code == 200 and answer.text.strip() == "{}"
    assert 0.45 <= elapsed < 2.0
    assert answer.headers.get("Content-Length") is None and answer.raw.version == 10  # HTTP/1.0: no keep-alive
    if mode == "trickle_headers":
        assert len([name for name in answer.headers if name.startswith("X-Slow-")]) == 10


def test_the_trickling_endpoint_takes_only_its_own_modes():
    with pytest.raises(ValueError, match="trickle_headers"), trickling_token_endpoint("unavailable"):
        pass
