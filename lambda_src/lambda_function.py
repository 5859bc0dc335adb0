"""The skill's Lambda entry point: configuration from the environment, once per container, and the
two front doors over one SdmClient: Smart Home v3 directives (an event with a top-level
`directive`) to the smart_home dispatcher, everything else to the ask-sdk-core custom skill."""

import os

from ask_sdk_core.skill_builder import SkillBuilder

from nest_skill import handlers
from nest_skill.config import SkillConfig
from nest_skill.logs import RequestTimer, ResponseLogger
from nest_skill.sdm_client import SdmClient
from nest_skill.smart_home.dispatcher import SmartHome

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

custom_skill = skill_builder.lambda_handler()
smart_home = SmartHome(sdm)


def lambda_handler(event, context):
    if isinstance(event, dict) and "directive" in event:
        return smart_home.handle(event, context)
    return custom_skill(event, context)
