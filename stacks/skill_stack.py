"""The skill Lambda that Alexa invokes, with its Alexa Skills Kit trigger.

Its role can write its own logs and nothing else: the skill only ever sees the user's access token,
so it needs neither the credentials bucket nor its key. With live state on it also reads its
messaging credentials object and makes its item operations on the token table, both in the home
region and named by their fixed names (secrets_stack.LiveStateHome), so a skill stack in another
region needs no reference to the secrets stack; its KMS use is granted by the keys' policies.

With live state on, the home region's skill stack also holds the events function: Nest's events
through the owner's Pub/Sub push subscription, at its own public function URL (output EventsUrl).
It is the same asset as the skill (lambda_src) with its own entry (events_function.lambda_handler)
and its own role (fixed name NestSkillEvents-<region>, listed in the home region's fences): its
logs, the item operations it makes on the token table, and reading the messaging credentials object.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import EVENTS_ACK_DEADLINE_S, EVENTS_URL_OUTPUT, SKILL_FUNCTION_OUTPUT, AppConfig
from stacks.python_lambda import SKILL_SOURCE, PythonLambda
from stacks.secrets_stack import (
    LIVE_STATE_TABLE,
    MESSAGING_OBJECT_KEY,
    LiveStateHome,
    events_role_name,
    skill_role_name,
)

# Alexa waits about 8 s for a response; the handler bounds its SDM calls to answer by about 6 s.
SKILL_TIMEOUT = cdk.Duration.seconds(7)
# CPU scales with memory (1,769 MB = 1 vCPU) and the cold path is CPU-bound: at 1024 MB the measured
# cold start is about 0.3 s with bytecode shipped, 0.7 s without (docs: develop/benchmarks.md, memory sizes).
SKILL_MEMORY_MB = 1024
# The events function answers Pub/Sub within the subscription's acknowledgement deadline: its handler
# stops a second before it (nest_events.DEADLINE_MARGIN_S), and Lambda stops it at the deadline.
EVENTS_TIMEOUT = cdk.Duration.seconds(EVENTS_ACK_DEADLINE_S)
# Its cold start imports google-auth and boto3's clients: CPU-bound like the skill's.
EVENTS_MEMORY_MB = 1024
EVENTS_HANDLER = "events_function.lambda_handler"
# Google's signing certificates for the OIDC tokens Pub/Sub push sends (x509 PEM by key id).
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
# The item operations live state makes on the token table (store.py, device_states.py). IAM authorizes
# TransactWriteItems (store.TokenStore link, forget and reconcile, device_states.DeviceStates.seed) as
# the Put, Update and Delete it holds; none holds a ConditionCheck (each condition is on the user's own
# Put or Update), so no dynamodb:ConditionCheckItem.
TABLE_ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)


class SkillStack(cdk.Stack):
    """The skill function and its Alexa triggers: the custom skill's (`alexa-appkit.amazon.com`) and,
    once the skill ID is known, the smart home's (`alexa-connectedhome.amazon.com`, which Alexa
    requires to carry the skill ID as EventSourceToken). `output_name` keeps the outputs of the
    home and regional stacks apart in the one outputs file."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        output_name: str = SKILL_FUNCTION_OUTPUT,
        live_state: LiveStateHome | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        live = live_state is not None
        role = iam.Role(
            self,
            "SkillRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            role_name=skill_role_name(self) if live else None,
            description=(
                "Nest skill Lambda: its logs, its messaging credentials, its token table"
                if live
                else "Nest skill Lambda: writes its own logs, nothing else"
            ),
        )
        environment = {
            "NEST_PROJECT_ID": config.nest_project_id,
            "SDM_API_BASE_URL": config.sdm_api_base_url,
            "SKILL_ID": config.skill_id,
        }
        if live_state is not None:
            environment.update(
                {
                    "LIVE_STATE_TABLE": LIVE_STATE_TABLE,
                    "LIVE_STATE_KEY": live_state.key_alias_arn(self),
                    "LIVE_STATE_REGION": live_state.home(self),
                    "MESSAGING_CREDENTIALS_BUCKET": live_state.bucket_name(self),
                    "MESSAGING_CREDENTIALS_OBJECT": MESSAGING_OBJECT_KEY,
                }
            )
            self._grant_live_state(role, live_state)
        live_environment = {
            name: value for name, value in environment.items() if name.startswith(("LIVE_STATE_", "MESSAGING_"))
        }
        self.function = PythonLambda(
            self,
            "Skill",
            source_dir=SKILL_SOURCE,
            role=role,
            timeout=SKILL_TIMEOUT,
            memory_size=SKILL_MEMORY_MB,
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

        cdk.CfnOutput(
            self,
            output_name,
            value=self.function.function_arn,
            description="The skill's endpoint in this region: apis.custom and apis.smartHome in skill.json",
        )

        self.events_function: lambda_.Function | None = None
        if live_state is not None and live_state.region is None:  # the home region's stack
            self._add_events_function(config, live_state, live_environment)

    def _add_events_function(self, config: AppConfig, home: LiveStateHome, live_environment: dict[str, str]) -> None:
        """The push endpoint of the owner's Pub/Sub subscription to their Device Access project's events."""
        role = iam.Role(
            self,
            "EventsRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            role_name=events_role_name(self),
            description="Nest events function: its logs, its messaging credentials, its token table",
        )
        self._live_state_policy("EventsPolicy", role, home)
        self.events_function = PythonLambda(
            self,
            "Events",
            source_dir=SKILL_SOURCE,
            handler=EVENTS_HANDLER,
            role=role,
            timeout=EVENTS_TIMEOUT,
            memory_size=EVENTS_MEMORY_MB,
            description="Nest events (Pub/Sub push) as Alexa ChangeReports and discovery updates",
            environment={
                **live_environment,
                "PUSH_AUDIENCE": config.events_push_audience,
                "PUSH_SERVICE_ACCOUNT": config.events_service_account,
                "GOOGLE_CERTS_URL": GOOGLE_CERTS_URL,
                "ACK_DEADLINE_S": str(EVENTS_ACK_DEADLINE_S),
            },
        ).function
        # Public by necessity: Pub/Sub cannot sign AWS requests. The OIDC token each push carries is the
        # authentication (signature, issuer, audience, service account, expiry: live_state/push_auth.py).
        url = self.events_function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        cdk.CfnOutput(
            self,
            EVENTS_URL_OUTPUT,
            value=url.url,
            description="The Nest events push endpoint: the Pub/Sub subscription's --push-endpoint",
        )

    def _grant_live_state(self, role: iam.Role, home: LiveStateHome) -> None:
        """Exactly what live state needs from IAM: the item operations it makes on the token table
        and reading its own messaging credentials object. Sealing tokens, the table's encryption and
        the object's decryption through S3 are granted to this role by name in the home region's key
        policies (secrets_stack), which is why no key is named here."""
        self._live_state_policy("LiveStatePolicy", role, home)

    def _live_state_policy(self, construct_id: str, role: iam.Role, home: LiveStateHome) -> None:
        """The skill's and the events function's IAM grants are the same: both make these item
        operations (the skill's AcceptGrant, reports and listings; the events function's events, token
        refreshes and discovery updates) and read the messaging credentials to refresh LWA tokens."""
        iam.Policy(
            self,
            construct_id,
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="TokenTableItems",
                    actions=list(TABLE_ITEM_ACTIONS),
                    resources=[home.table_arn(self)],
                ),
                iam.PolicyStatement(
                    sid="ReadMessagingCredentials",
                    actions=["s3:GetObject"],
                    resources=[home.messaging_object_arn(self)],
                ),
            ],
        )
