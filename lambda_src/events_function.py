"""The events function's Lambda entry point: the push endpoint (a Lambda function URL) of the owner's
Pub/Sub push subscription to their Device Access project's SDM events, deployed only with live state
on. Configuration from the environment, once per container (nest_events.EventsConfig); Google's keys,
the connections to LWA and the gateway, and the messaging credentials are kept across warm
invocations.

It shares the skill's asset (lambda_src) and its domain layer (thermostats, endpoints, the token
store, the gateway sender) but not its entry: nothing here imports ask-sdk, and the skill's entry
never imports google-auth, so neither function's cold start pays for the other's libraries.
"""

import os

from nest_skill.live_state.nest_events import EventsConfig, NestEvents

events = NestEvents(EventsConfig.from_mapping(os.environ))


def lambda_handler(event, context):
    return events.handle(event if isinstance(event, dict) else {}, context)
