"""Fixtures for the skill Lambda: each test gets a fresh container (its own HTTP session and device
cache) loaded from lambda_src/lambda_function.py, and SDM mocked with `responses`."""

from __future__ import annotations

import itertools

import pytest
import responses

from nest_skill.config import SkillConfig
from nest_skill.sdm_client import SdmClient
from sandbox.alexa import SKILL_ID
from sandbox.entry_points import load_module
from tests.clock import Clock
from tests.skill.sdm import PROJECT

_CONTAINERS = itertools.count()
_ENV = ("NEST_PROJECT_ID", "SDM_API_BASE_URL", "SKILL_ID")


class LambdaContext:
    """The part of Lambda's context object the skill reads."""

    def __init__(self, remaining_ms: int):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def load_skill(monkeypatch):
    """Cold-start a container with the given environment (None leaves a variable unset)."""

    def load(
        nest_project_id: str | None = PROJECT, sdm_api_base_url: str | None = None, skill_id: str | None = SKILL_ID
    ):
        for name in _ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in zip(_ENV, (nest_project_id, sdm_api_base_url, skill_id), strict=True):
            if value is not None:
                monkeypatch.setenv(name, value)
        return load_module("lambda_src/lambda_function.py", f"skill_lambda_function_{next(_CONTAINERS)}")

    return load


@pytest.fixture
def skill(load_skill):
    return load_skill()


@pytest.fixture
def sdm_api():
    """SDM mocked: unregistered URLs fail like a refused connection, so stray calls are visible."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def client(clock):
    """An SdmClient on the test clock, outside any Lambda container."""
    return SdmClient(SkillConfig(nest_project_id=PROJECT), clock=clock)
