"""The skill Lambda that Alexa invokes, with its Alexa Skills Kit trigger.

Its role can write its own logs and nothing else: the skill only ever sees the user's access token,
so it needs neither the credentials bucket nor its key.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.python_lambda import SKILL_SOURCE, PythonLambda
from stacks.config import SKILL_FUNCTION_OUTPUT, AppConfig

# Alexa waits about 8 s for a response; the handler bounds its SDM calls to answer by about 6 s.
SKILL_TIMEOUT = cdk.Duration.seconds(7)
# CPU scales with memory (1,769 MB = 1 vCPU) and the cold path is CPU-bound: at 1024 MB the measured
# cold start is about 0.3 s with bytecode shipped, 0.7 s without (docs: develop/benchmarks.md, memory sizes).
SKILL_MEMORY_MB = 1024


class SkillStack(cdk.Stack):
    """The skill function and its Alexa triggers: the custom skill's (`alexa-appkit.amazon.com`) and,
    once the skill ID is known, the smart home's (`alexa-connectedhome.amazon.com`, which Alexa
    requires to carry the skill ID as EventSourceToken). `output_name` keeps the outputs of the
    home and regional stacks apart in the one outputs file."""

    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig,
                 output_name: str = SKILL_FUNCTION_OUTPUT, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        role = iam.Role(self, "SkillRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description="Nest skill Lambda: writes its own logs, nothing else")
        self.function = PythonLambda(
            self, "Skill", source_dir=SKILL_SOURCE, role=role, timeout=SKILL_TIMEOUT, memory_size=SKILL_MEMORY_MB,
            description="Alexa skill for Nest thermostats (Google SDM API)",
            environment={
                "NEST_PROJECT_ID": config.nest_project_id,
                "SDM_API_BASE_URL": config.sdm_api_base_url,
                "SKILL_ID": config.skill_id,
            },
        ).function
        self.function.add_permission(
            "AlexaSkillsKitTrigger",
            principal=iam.ServicePrincipal("alexa-appkit.amazon.com"),
            action="lambda:InvokeFunction",
            event_source_token=config.skill_id or None,
        )

        if config.skill_id:
            self.function.add_permission(
                "AlexaSmartHomeTrigger",
                principal=iam.ServicePrincipal("alexa-connectedhome.amazon.com"),
                action="lambda:InvokeFunction",
                event_source_token=config.skill_id,
            )

        cdk.CfnOutput(self, output_name, value=self.function.function_arn,
                      description="The skill's endpoint in this region: apis.custom and apis.smartHome in skill.json")
