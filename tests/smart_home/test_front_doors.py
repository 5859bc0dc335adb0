"""One Lambda, two front doors kept apart: directives never go through the ask-sdk, and the custom
skill's requests never reach the dispatcher."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ask_sdk_runtime.exceptions import AskSdkException

from sandbox import alexa
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import thermostat
from tests.smart_home.conftest import setup

ROOT = Path(__file__).resolve().parents[2]


def test_the_smart_home_front_door_does_not_load_the_alexa_sdk():
    code = (
        "import sys, nest_skill.smart_home.dispatcher; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ask_sdk_core', 'ask_sdk_model')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "lambda_src", capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_a_directive_reaches_the_dispatcher_and_a_skill_request_the_custom_skill(skill, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room"))
    directive = alexa.report_state("living")
    assert skill.lambda_handler(directive, LambdaContext(7000))["event"]["header"]["name"] == "StateReport"
    reply = skill.lambda_handler(alexa.status(), LambdaContext(7000))
    assert "Living Room" in alexa.spoken(reply)


def test_a_skill_request_from_another_skill_is_still_refused(skill, sdm_api):
    """The custom skill's applicationId check is untouched by the routing."""
    setup(sdm_api, thermostat("living", "Living Room"))
    other = alexa.status(application_id="amzn1.ask.skill.00000000-0000-4000-8000-0000000000ff")
    with pytest.raises(AskSdkException, match="Skill ID Verification failed"):
        skill.lambda_handler(other, LambdaContext(7000))
    assert len(sdm_api.calls) == 0
