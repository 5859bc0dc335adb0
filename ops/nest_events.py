"""The owner's Google side of Nest events, as the deploy prints it with live state on: the `gcloud`
commands with the owner's values filled in, and the Device Access console step.

Nest publishes a Device Access project's events to a Pub/Sub topic in the owner's own Google Cloud
project (developers.google.com/nest/device-access/subscribe-to-events): the topic, Google's SDM
publisher group allowed to publish to it, a service account the push subscription signs its OIDC
tokens as, and a push subscription to the events function's URL (the EventsUrl output) that never
expires (a subscription without activity is otherwise deleted after 31 days). The topic keeps
Pub/Sub's default message retention: Pub/Sub takes 10 minutes to 31 days or none at all, and
refuses `0s`. Every value is one AppConfig has checked (stacks/config.py) or the stack's output;
each is still quoted for the shell.
"""

from __future__ import annotations

import shlex

from stacks.config import EVENTS_ACK_DEADLINE_S, AppConfig

SDM_PUBLISHER = "group:sdm-publisher@googlegroups.com"
SUBSCRIPTION_NAME = "nest-skill-events"
DEVICE_ACCESS_CONSOLE = "https://console.nest.google.com/device-access"


def _command(*parts: str) -> str:
    return " ".join(shlex.quote(part) for part in parts)


def gcloud_commands(config: AppConfig, events_url: str) -> list[str]:
    """The commands that connect the owner's Pub/Sub topic to the events function, in order."""
    project = config.events_project
    topic = config.events_topic.rsplit("/", 1)[-1]
    account = config.events_service_account
    account_name, _, account_domain = account.partition("@")
    account_project = account_domain.split(".", 1)[0]
    return [
        _command("gcloud", "pubsub", "topics", "create", topic, f"--project={project}"),
        _command(
            "gcloud",
            "pubsub",
            "topics",
            "add-iam-policy-binding",
            topic,
            f"--project={project}",
            f"--member={SDM_PUBLISHER}",
            "--role=roles/pubsub.publisher",
        ),
        _command(
            "gcloud",
            "iam",
            "service-accounts",
            "create",
            account_name,
            f"--project={account_project}",
            "--display-name=Nest events push",
        ),
        _command(
            "gcloud",
            "pubsub",
            "subscriptions",
            "create",
            SUBSCRIPTION_NAME,
            f"--project={project}",
            f"--topic={config.events_topic}",
            f"--push-endpoint={events_url}",
            f"--push-auth-service-account={account}",
            f"--push-auth-token-audience={config.events_push_audience}",
            f"--ack-deadline={EVENTS_ACK_DEADLINE_S}",
            "--expiration-period=never",
        ),
    ]


def setup_text(config: AppConfig, events_url: str) -> str:
    """What the deploy prints once the stacks are up with live state on (docs: operate/nest-events.md)."""
    commands = "\n".join(f"        {command}" for command in gcloud_commands(config, events_url))
    return (
        "Nest events: connect your Google Cloud project to the events function "
        "(docs: operate/nest-events.md). Each command is safe to skip once it has succeeded:\n"
        f"{commands}\n"
        f"      Then in the Device Access console ({DEVICE_ACCESS_CONSOLE}), open your project, "
        f"enable events and set its Pub/Sub topic to {config.events_topic}.\n"
        '      Events start once Alexa lists your thermostats again: say "Alexa, discover devices".'
    )
