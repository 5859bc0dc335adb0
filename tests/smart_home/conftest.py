"""Smart-home directives through the real lambda_handler: each test a fresh container, SDM mocked
with `responses` (the skill tests' fixtures), every reply checked by sandbox.alexa.valid_smart_home."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from sandbox import alexa
from tests.skill.conftest import load_skill, sdm_api, skill  # noqa: F401  (fixtures shared with the custom skill)
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import DEVICES_URL, command_url, device_list, device_url


def setup(sdm_api, *devices: Dict[str, Any]) -> None:
    """SDM lists `devices`, takes any command for them, and reads each back as listed."""
    sdm_api.get(DEVICES_URL, json=device_list(*devices))
    for device in devices:
        device_id = device["name"].rsplit("/", 1)[-1]
        sdm_api.post(command_url(device_id), json={})
        sdm_api.get(device_url(device_id), json=device)


@pytest.fixture
def send(skill):
    """Send a directive to the container; the reply is checked against the documented shapes."""

    def send(directive: Dict[str, Any], context: Any = None) -> Dict[str, Any]:
        reply = skill.lambda_handler(directive, context or LambdaContext(7000))
        alexa.valid_smart_home(reply, directive)
        return reply

    return send
