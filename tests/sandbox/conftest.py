"""Fixtures for the fake Google: one in-memory app with a hand-driven clock, served from a thread."""

from __future__ import annotations

import pytest
import requests

from sandbox.fake_google import FakeGoogle
from sandbox.serving import running
from tests.clock import Clock
from tests.sandbox.google_fixture import CLIENT_ID, CLIENT_SECRET, OTHER_REDIRECT, PROJECT, REDIRECT, Client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeGoogle:
    return FakeGoogle(PROJECT, CLIENT_ID, CLIENT_SECRET, [REDIRECT, OTHER_REDIRECT], clock=clock)


@pytest.fixture
def base_url(fake: FakeGoogle):
    with running(fake) as url:
        yield url


@pytest.fixture
def client(base_url: str):
    with requests.Session() as session:
        yield Client(session, base_url)


@pytest.fixture
def token(fake: FakeGoogle) -> str:
    return fake.grant_access_token()
