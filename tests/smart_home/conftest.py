"""Smart-home directives through the real lambda_handler: each test a fresh container, SDM mocked
with `responses` (the skill tests' fixtures), every reply checked by sandbox.alexa.valid_smart_home."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from sandbox import alexa
from tests.skill.conftest import LambdaContext, load_skill, sdm_api, skill  # noqa: F401  (fixtures shared with the custom skill)
from tests.skill.sdm import DEVICES_URL, command_url, device_list, device_url


def setup(api: responses.RequestsMock, *devices: dict[str, Any]) -> None:
    """SDM (the `sdm_api` fixture) lists `devices`, takes any command for them, and reads each back as listed."""
    api.get(DEVICES_URL, json=device_list(*devices))
    for device in devices:
        device_id = device["name"].rsplit("/", 1)[-1]
        api.post(command_url(device_id), json={})
        api.get(device_url(device_id), json=device)


@pytest.fixture
def send(skill):  # noqa: F811 - the custom skill's `skill` fixture, imported above, by name
    """Send a directive to the container; the reply is checked against the documented shapes."""

    def send(directive: dict[str, Any], context: Any = None) -> dict[str, Any]:
        reply = skill.lambda_handler(directive, context or LambdaContext(7000))
        alexa.valid_smart_home(reply, directive)
        return reply

    return send
