"""The skill's Lambda entry point: configuration from the environment, once per container, and the
ask-sdk-core skill wired from the nest_skill handlers."""

import os

from ask_sdk_core.skill_builder import SkillBuilder

from nest_skill import handlers
from nest_skill.config import SkillConfig
from nest_skill.logs import RequestTimer, ResponseLogger
from nest_skill.sdm_client import SdmClient

config = SkillConfig.from_mapping(os.environ)
sdm = SdmClient(config)

skill_builder = SkillBuilder()
skill_builder.skill_id = config.skill_id
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
skill_builder.add_global_response_interceptor(ResponseLogger())

lambda_handler = skill_builder.lambda_handler()
