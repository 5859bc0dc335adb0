#!/usr/bin/env python3
"""CDK entry point: config from context (cdk.json, `-c key=value`), then the stacks."""

import sys

import aws_cdk as cdk

from stacks.config import AppConfig, ConfigError
from stacks.nest_skill_app import add_stacks

app = cdk.App()
try:
    config = AppConfig.from_mapping(app.node.get_all_context())
except ConfigError as error:
    sys.exit(f"error: {error}")
add_stacks(app, config)
app.synth()
