"""The skill Lambda that Alexa invokes, with its Alexa Skills Kit trigger.

Its role can write its own logs and nothing else: the skill only ever sees the user's access token,
so it needs neither the credentials bucket nor its key. With live state on it also reads its
messaging credentials object and makes its item operations on the token table, both in the home
region and named by their fixed names (secrets_stack.LiveStateHome), so a skill stack in another
region needs no reference to the secrets stack; its KMS use is granted by the keys' policies.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.python_lambda import SKILL_SOURCE, PythonLambda
from stacks.config import SKILL_FUNCTION_OUTPUT, AppConfig
from stacks.secrets_stack import LIVE_STATE_TABLE, MESSAGING_OBJECT_KEY, LiveStateHome, skill_role_name

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
                 output_name: str = SKILL_FUNCTION_OUTPUT, live_state: LiveStateHome | None = None,
                 **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        live = live_state is not None
        role = iam.Role(self, "SkillRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        **({"role_name": skill_role_name(self),
                            "description": "Nest skill Lambda: its logs, its messaging credentials, its token table"}
                           if live else {"description": "Nest skill Lambda: writes its own logs, nothing else"}))
        environment = {
            "NEST_PROJECT_ID": config.nest_project_id,
            "SDM_API_BASE_URL": config.sdm_api_base_url,
            "SKILL_ID": config.skill_id,
        }
        if live_state is not None:
            environment.update({
                "LIVE_STATE_TABLE": LIVE_STATE_TABLE,
                "LIVE_STATE_KEY": live_state.key_alias_arn(self),
                "LIVE_STATE_REGION": live_state.home(self),
                "MESSAGING_CREDENTIALS_BUCKET": live_state.bucket_name(self),
                "MESSAGING_CREDENTIALS_OBJECT": MESSAGING_OBJECT_KEY,
            })
            self._grant_live_state(role, live_state)
        self.function = PythonLambda(
            self, "Skill", source_dir=SKILL_SOURCE, role=role, timeout=SKILL_TIMEOUT, memory_size=SKILL_MEMORY_MB,
            description="Alexa skill for Nest thermostats (Google SDM API)",
            environment=environment,
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

    def _grant_live_state(self, role: iam.Role, home: LiveStateHome) -> None:
        """Exactly what live state needs from IAM: the item operations it makes on the token table
        and reading its own messaging credentials object. Sealing tokens, the table's encryption and
        the object's decryption through S3 are granted to this role by name in the home region's key
        policies (secrets_stack), which is why no key is named here."""
        iam.Policy(self, "LiveStatePolicy", roles=[role], statements=[
            iam.PolicyStatement(sid="TokenTableItems", actions=[
                "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"],
                resources=[home.table_arn(self)]),
            iam.PolicyStatement(sid="ReadMessagingCredentials", actions=["s3:GetObject"],
                                resources=[home.messaging_object_arn(self)]),
        ])
