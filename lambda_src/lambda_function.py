"""The skill's Lambda entry point: configuration from the environment, once per container, and the
two front doors over one SdmClient: Smart Home v3 directives (an event with a top-level
`directive`) to the smart_home dispatcher, everything else to the ask-sdk-core custom skill
(custom_skill: its handlers and interceptors, registered here). The smart-home door loads at the
container's first directive: a custom-skill request never needs it."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from ask_sdk_core.skill_builder import SkillBuilder

from nest_skill.config import SkillConfig
from nest_skill.custom_skill import handlers
from nest_skill.custom_skill.interceptors import ChangeReporter, RequestTimer, ResponseLogger
from nest_skill.live_state import live_state_on
from nest_skill.sdm_client import SDM_BUDGET_S, SdmClient

if TYPE_CHECKING:
    from nest_skill.smart_home.dispatcher import SmartHome

config = SkillConfig.from_mapping(os.environ)
sdm = SdmClient(config)
# Live state (ChangeReports, AcceptGrant) only when the stacks configured it. Off: nothing more of it
# loads. On: its settings are read and checked here, its parts load at the first request needing them.
live_state = None
if live_state_on(os.environ):
    from nest_skill.live_state.on_first_use import LiveStateOnFirstUse

    live_state = LiveStateOnFirstUse.from_mapping(os.environ, sdm)

skill_builder = SkillBuilder()
skill_builder.skill_id = config.skill_id  # type: ignore[assignment]  # ask-sdk-core types it None; its docs set it
for handler in (
    handlers.LaunchRequestHandler(),
    handlers.PendingChoiceHandler(sdm),
    handlers.StatusIntentHandler(sdm),
    handlers.SetTempIntentHandler(sdm),
    handlers.SetModeIntentHandler(sdm),
    handlers.EcoOffIntentHandler(sdm),
    handlers.AdjustTempIntentHandler(sdm),
    handlers.HumidityIntentHandler(sdm),
    handlers.FanIntentHandler(sdm),
    handlers.YesIntentHandler(sdm),
    handlers.NoIntentHandler(),
    handlers.HelpIntentHandler(),
    handlers.StopIntentHandler(),
    handlers.CancelIntentHandler(),
    handlers.NavigateHomeIntentHandler(),
    handlers.FallbackIntentHandler(),
    handlers.SessionEndedRequestHandler(),
):
    skill_builder.add_request_handler(handler)
skill_builder.add_exception_handler(handlers.CatchAllExceptionHandler())
skill_builder.add_global_request_interceptor(RequestTimer())
if live_state is not None:
    skill_builder.add_global_response_interceptor(ChangeReporter(live_state, SDM_BUDGET_S))
skill_builder.add_global_response_interceptor(ResponseLogger())

custom_skill = skill_builder.lambda_handler()


@cache
def smart_home() -> SmartHome:
    """The smart-home door, one per container, made at its first directive."""
    from nest_skill.smart_home.dispatcher import SmartHome

    return SmartHome(sdm, live_state)


def lambda_handler(event, context):
    if isinstance(event, dict) and "directive" in event:
        return smart_home().handle(event, context)
    return custom_skill(event, context)
