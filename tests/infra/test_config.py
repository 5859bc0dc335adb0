"""The config object and what a user sees when a value is wrong: one line, no traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.config import AppConfig, ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_let_a_fresh_clone_synthesize():
    config = AppConfig()
    assert config.bridge_hosting == "lambda" and config.account_linking == "auth_code"
    assert config.secrets_object_key == "nest.properties"
    assert config.authorization_url == (
        "https://nestservices.google.com/partnerconnections/00000000-0000-4000-8000-000000000000/auth")
    assert config.alexa_redirect_urls == (
        "https://pitangui.amazon.com/api/skill/link/EXAMPLEVENDORID",
        "https://layla.amazon.com/api/skill/link/EXAMPLEVENDORID",
        "https://alexa.amazon.co.jp/api/skill/link/EXAMPLEVENDORID",
    )


def test_context_overrides_defaults_and_ignores_unrelated_keys():
    config = AppConfig.from_mapping({"bridge_hosting": "beanstalk", "@aws-cdk/core:flag": True,
                                     "beanstalk_solution_stack": "64bit Amazon Linux 2023 v4.7.0 running Python 3.13",
                                     "skill_id": " amzn1.ask.skill.11111111-2222-4333-8444-555555555555 "})
    assert config.bridge_hosting == "beanstalk"
    assert config.skill_id == "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"


@pytest.mark.parametrize("key, value, allowed", [
    ("bridge_hosting", "ec2", "lambda or beanstalk"),
    ("account_linking", "password", "auth_code or implicit"),
    ("skill_id", "amzn1.ask.skill.123", "amzn1.ask.skill.<uuid>"),
    ("certificate_arn", "arn:aws:iam::123456789012:role/x", "ACM certificate ARN"),
    ("nest_project_id", "my-project", "UUID"),
    ("alexa_vendor_id", "m2bq", "uppercase"),
    ("secrets_object_key", "/etc/passwd", "S3 object key"),
    ("secrets_object_key", "a/../b", "S3 object key"),
    ("sdm_api_base_url", "http://example.com/v1", "https://"),
    ("oauth_token_url", "ftp://127.0.0.1/token", "https://"),
    ("beanstalk_solution_stack", "Python 3.13", "Elastic Beanstalk Python platform"),
    ("bridge_reserved_concurrency", "0", "whole number of concurrent bridge requests from 1 to 9999"),
    ("bridge_reserved_concurrency", "ten", "whole number"),
    ("bridge_reserved_concurrency", "10000", "whole number"),
])
def test_bad_value_names_key_value_and_what_is_allowed(key, value, allowed):
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({key: value})
    message = str(raised.value)
    assert f"'{key}'" in message and repr(value) in message and allowed in message
    assert "\n" not in message


def test_beanstalk_hosting_requires_a_platform_and_names_where_to_find_one():
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({"bridge_hosting": "beanstalk"})
    assert str(raised.value) == (
        "config key 'beanstalk_solution_stack' = '' is not allowed: expected a current Python platform name with "
        "bridge_hosting 'beanstalk' (pick one from `aws elasticbeanstalk list-available-solution-stacks`)")


def test_the_concurrency_cap_is_off_by_default_and_only_for_the_lambda_bridge():
    assert AppConfig().bridge_concurrency_cap is None
    assert AppConfig.from_mapping({"bridge_reserved_concurrency": "20"}).bridge_concurrency_cap == 20
    with pytest.raises(ConfigError, match="'bridge_reserved_concurrency' = '20' is not allowed: expected empty with "
                                          "bridge_hosting 'beanstalk'"):
        AppConfig.from_mapping({"bridge_hosting": "beanstalk", "bridge_reserved_concurrency": "20",
                                "beanstalk_solution_stack": "64bit Amazon Linux 2023 v4.7.0 running Python 3.13"})


def test_loopback_http_is_allowed_for_local_rehearsal():
    config = AppConfig.from_mapping({"sdm_api_base_url": "http://127.0.0.1:8080/v1",
                                     "oauth_token_url": "http://localhost:9/oauth2/v4/token"})
    assert config.sdm_api_base_url.startswith("http://127.0.0.1")


def test_non_string_value_is_refused():
    with pytest.raises(ConfigError, match="'skill_id' = 5: must be a string"):
        AppConfig.from_mapping({"skill_id": 5})


def run_app(context: dict) -> subprocess.CompletedProcess:
    """Runs app.py as the CDK CLI does: context arrives in CDK_CONTEXT_JSON."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/nonexistent-not-reached"}
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_synth_stops_with_one_line_and_no_traceback():
    result = run_app({"bridge_hosting": "kubernetes"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: config key 'bridge_hosting' = 'kubernetes' is not allowed: expected lambda or beanstalk")
    assert "Traceback" not in result.stdout + result.stderr
