#!/usr/bin/env python3
"""CDK entry point: config from the owner's nest-skill.json and context (cdk.json, `-c key=value`), then the stacks."""

import os
import sys
from pathlib import Path

import aws_cdk as cdk

from stacks.config import AppConfig, ConfigError, settings_path
from stacks.nest_skill_app import add_stacks

app = cdk.App()
try:
    project = Path(__file__).resolve().parent
    config = AppConfig.from_project(
        app.node.get_all_context(), settings_path(project, os.environ), project / "cdk.json"
    )
except ConfigError as error:
    sys.exit(f"error: {error}")
# The CDK CLI passes the region it deploys to; the skill stacks of the locales' other regions are added beside it.
add_stacks(app, config, home_region=os.environ.get("CDK_DEFAULT_REGION"))
app.synth()
