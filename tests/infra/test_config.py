"""The config object and what a user sees when a value is wrong: one line, no traceback."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.config import ALEXA_REGIONS, DEFAULT_LOCALES, PACKAGE_LOCALES, AppConfig, ConfigError, is_cdk_context_key
from tests.infra.conftest import BEANSTALK

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-000000000000"


def test_defaults_let_a_fresh_clone_synthesize():
    config = AppConfig()
    assert config.bridge_hosting == "lambda" and config.account_linking == "auth_code"
    assert config.secrets_object_key == "nest.properties"
    assert config.authorization_url == (
        "https://nestservices.google.com/partnerconnections/00000000-0000-4000-8000-000000000000/auth"
    )
    assert config.alexa_redirect_urls == (
        "https://pitangui.amazon.com/api/skill/link/EXAMPLEVENDORID",
        "https://layla.amazon.com/api/skill/link/EXAMPLEVENDORID",
        "https://alexa.amazon.co.jp/api/skill/link/EXAMPLEVENDORID",
    )


def test_context_overrides_defaults_and_ignores_the_cdks_own_keys():
    config = AppConfig.from_mapping(
        {
            "bridge_hosting": "beanstalk",
            "beanstalk_solution_stack": "64bit Amazon Linux 2023 v4.7.0 running Python 3.13",
            "skill_id": " amzn1.ask.skill.11111111-2222-4333-8444-555555555555 ",
            # what the CDK CLI, cdk.context.json and the feature flags put into the context
            "@aws-cdk/core:flag": True,
            "@aws-cdk-containers/ecs-service-extensions:enableDefaultLogDriver": True,
            "aws:cdk:enable-path-metadata": True,
            "aws:cdk:bundling-stacks": ["**"],
            "aws-cdk:enableDiffNoFail": True,
            "cdk-version": "2",
            "acknowledged-issue-numbers": [32775],
            "$dontSaveContext": True,
            "availability-zones:account=123456789012:region=us-east-1": ["us-east-1a"],
            "ssm:account=123456789012:parameterName=/x:region=us-east-1": "v",
        }
    )
    assert config.bridge_hosting == "beanstalk"
    assert config.skill_id == "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"


def test_the_tracked_cdk_json_holds_none_of_the_owners_keys():
    """cdk.json is the project's (the CDK's flags): an owner's values there would conflict with every
    update of it, so they live in the untracked nest-skill.json and the defaults in AppConfig."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert [key for key in context if not is_cdk_context_key(key)] == []
    assert AppConfig.from_mapping(context) == AppConfig()
    assert AppConfig().keys_with_example_values() == ("nest_project_id", "nest_client_id", "alexa_vendor_id")


def test_git_ignores_the_owners_settings_file_so_an_update_never_touches_it():
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "nest-skill.json"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert ignored.stdout.strip() == "nest-skill.json"


def test_the_settings_file_is_merged_over_the_defaults_and_under_the_context(tmp_path):
    settings = tmp_path / "nest-skill.json"
    settings.write_text(
        json.dumps(
            {
                "locales": ["en-GB", "en-IN"],
                "bridge_hosting": "beanstalk",
                "beanstalk_solution_stack": "64bit Amazon Linux 2023 v4.7.0 running Python 3.13",
            }
        )
    )
    context = {"@aws-cdk/core:flag": True, "bridge_hosting": "lambda", "beanstalk_solution_stack": ""}

    config = AppConfig.from_project(context, settings, tmp_path / "cdk.json")

    assert config.locales == ("en-GB", "en-IN")
    assert config.bridge_hosting == "lambda"  # -c (in the context the CDK passes) wins
    assert config.nest_project_id == AppConfig().nest_project_id


def test_a_key_in_both_the_settings_file_and_cdk_json_is_refused(tmp_path):
    """The CDK passes cdk.json's and -c's values as one mapping: which one the owner meant cannot be told."""
    (tmp_path / "cdk.json").write_text(json.dumps({"context": {"locales": ["en-US"]}}))
    (tmp_path / "nest-skill.json").write_text(json.dumps({"locales": ["en-GB"]}))

    with pytest.raises(ConfigError) as raised:
        AppConfig.from_project({"locales": ["en-US"]}, tmp_path / "nest-skill.json", tmp_path / "cdk.json")

    assert str(raised.value).startswith(
        "config key 'locales' is set both in cdk.json and in nest-skill.json: keep it in nest-skill.json only"
    )


def test_the_cdk_app_reads_the_settings_file_beside_it(tmp_path):
    """app.py, run as `cdk synth` runs it, refuses a bad value from nest-skill.json in one line."""
    shutil.copy(ROOT / "app.py", tmp_path / "app.py")
    shutil.copy(ROOT / "cdk.json", tmp_path / "cdk.json")
    (tmp_path / "nest-skill.json").write_text(json.dumps({"bridge_hosting": "ec2"}))
    result = subprocess.run(
        [sys.executable, str(tmp_path / "app.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CDK_OUTDIR": str(tmp_path / "out"),
            "CDK_CONTEXT_JSON": json.dumps(json.loads((ROOT / "cdk.json").read_text())["context"]),
        },
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: config key 'bridge_hosting' = 'ec2' is not allowed: expected lambda or beanstalk"
    )


def test_nest_skill_settings_names_another_settings_file_and_the_one_beside_it_is_not_read(tmp_path):
    """The local rehearsal names its own settings file, so an owner's nest-skill.json never reaches it."""
    shutil.copy(ROOT / "app.py", tmp_path / "app.py")
    shutil.copy(ROOT / "cdk.json", tmp_path / "cdk.json")
    (tmp_path / "nest-skill.json").write_text(json.dumps({"bridge_hosting": "ec2"}))
    named = tmp_path / "elsewhere.json"
    named.write_text(json.dumps({"account_linking": "password"}))
    result = subprocess.run(
        [sys.executable, str(tmp_path / "app.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CDK_OUTDIR": str(tmp_path / "out"),
            "NEST_SKILL_SETTINGS": str(named),
            "CDK_CONTEXT_JSON": json.dumps(json.loads((ROOT / "cdk.json").read_text())["context"]),
        },
    )
    assert result.stderr.strip() == (
        "error: config key 'account_linking' = 'password' is not allowed: expected auth_code or implicit"
    )


@pytest.mark.parametrize(
    "key, nearest",
    [
        ("bridge_hostng", "bridge_hosting"),
        ("acount_linking", "account_linking"),
        ("nest_projectid", "nest_project_id"),
        ("locale", "locales"),
        ("privacy_url", "privacy_policy_url"),
        ("@aws_cdk/core:flag", "account_linking"),
    ],
)
def test_misspelled_key_is_refused_naming_the_nearest_known_one(key, nearest):
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({key: "beanstalk"})
    assert str(raised.value) == (
        f"config key '{key}' = 'beanstalk' is not allowed: expected a key this project knows: did you mean '{nearest}'?"
    )


def test_locales_default_to_the_five_english_ones_and_the_package_models_them_and_more():
    assert AppConfig().locales == DEFAULT_LOCALES == ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
    assert set(DEFAULT_LOCALES) < set(PACKAGE_LOCALES)
    assert set(PACKAGE_LOCALES) <= set(ALEXA_REGIONS)


@pytest.mark.parametrize(
    "locales, regions",
    [
        ("de-DE", ("eu-west-1",)),
        ("ja-JP", ("us-west-2",)),
        ("en-US,de-DE,ja-JP", ("us-east-1", "eu-west-1", "us-west-2")),
    ],
)
def test_a_language_locale_is_served_from_its_alexa_region(locales, regions):
    assert AppConfig.from_mapping({"locales": locales}).skill_regions == regions


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("en-GB", ("en-GB",)),
        (" en-US , en-CA ", ("en-US", "en-CA")),
        (["en-AU", "en-IN"], ("en-AU", "en-IN")),
    ],
)
def test_locales_come_as_a_list_or_a_comma_separated_string(raw, expected):
    assert AppConfig.from_mapping({"locales": raw}).locales == expected


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("pt-BR", "'pt-BR'"),
        ("en-US,en-US", "'en-US,en-US'"),
        ("", "''"),
        ([], "''"),
        ("en_US", "'en_US'"),
    ],
)
def test_locales_without_an_interaction_model_are_refused(raw, shown):
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({"locales": raw})
    assert str(raised.value) == (
        f"config key 'locales' = {shown} is not allowed: expected one or more of "
        f"{', '.join(PACKAGE_LOCALES)} (the package's interaction models), each once"
    )


def test_locales_of_the_wrong_type_are_refused():
    with pytest.raises(ConfigError, match="'locales' = 3: must be a list of locale names"):
        AppConfig.from_mapping({"locales": 3})


def test_privacy_and_terms_default_to_the_bridges_pages_unless_configured():
    base = "https://abc.lambda-url.us-east-1.on.aws/"
    assert AppConfig().page_url(base, "privacy") == "https://abc.lambda-url.us-east-1.on.aws/privacy"
    assert AppConfig().page_url(base, "terms") == "https://abc.lambda-url.us-east-1.on.aws/terms"
    config = AppConfig.from_mapping(
        {"privacy_policy_url": "https://example.org/privacy.html", "terms_of_use_url": "https://example.org/terms.html"}
    )
    assert config.page_url(base, "privacy") == "https://example.org/privacy.html"
    assert config.page_url(base, "terms") == "https://example.org/terms.html"


def test_certificate_with_lambda_hosting_is_refused():
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({"certificate_arn": CERTIFICATE_ARN})
    assert str(raised.value).startswith(
        f"config key 'certificate_arn' = '{CERTIFICATE_ARN}' is not allowed: expected empty with bridge_hosting lambda"
    )


def test_certificate_on_beanstalk_needs_the_public_base_url_it_covers():
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({**BEANSTALK, "certificate_arn": CERTIFICATE_ARN})
    assert str(raised.value) == (
        "config key 'bridge_public_base_url' = '' is not allowed: expected https://<a name the certificate covers> "
        "when certificate_arn is set (the environment's *.elasticbeanstalk.com name is not covered)"
    )
    config = AppConfig.from_mapping(
        {**BEANSTALK, "certificate_arn": CERTIFICATE_ARN, "bridge_public_base_url": "https://bridge.example.org"}
    )
    assert config.bridge_public_base_url == "https://bridge.example.org"


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("bridge_hosting", "ec2", "lambda or beanstalk"),
        ("account_linking", "password", "auth_code or implicit"),
        ("skill_id", "amzn1.ask.skill.123", "amzn1.ask.skill.<uuid>"),
        ("certificate_arn", "arn:aws:iam::123456789012:role/x", "ACM certificate ARN"),
        ("nest_project_id", "my-project", "UUID"),
        ("alexa_vendor_id", "m2bq", "uppercase"),
        ("secrets_object_key", "/etc/passwd", "S3 object key"),
        ("secrets_object_key", "a/../b", "S3 object key"),
        ("sdm_api_base_url", "http://example.com/v1", "https://"),
        ("privacy_policy_url", "http://example.com/privacy", "https://"),
        ("terms_of_use_url", "https://example.com/terms?x=1", "without query"),
        ("privacy_contact", "call me", "an email address or an https:// URL"),
        ("privacy_contact", "http://example.com/contact", "an email address or an https:// URL"),
        ("privacy_contact", "https://example.com/<script>", "an email address or an https:// URL"),
        ("oauth_token_url", "ftp://127.0.0.1/token", "https://"),
        ("beanstalk_solution_stack", "Python 3.13", "Elastic Beanstalk Python platform"),
        ("bridge_reserved_concurrency", "0", "whole number of concurrent bridge requests from 1 to 9999"),
        ("bridge_reserved_concurrency", "ten", "whole number"),
        ("bridge_reserved_concurrency", "10000", "whole number"),
        ("events_push_audience", "", "audience string"),
        ("events_push_audience", "my events", "letters, digits and ._:/-"),
        ("events_service_account", "nest-push@gmail.com", "name@project.iam.gserviceaccount.com"),
        ("events_service_account", "nest@my-home-4242.iam.gserviceaccount.com", "6-30 lowercase"),
        ("events_topic", "nest-events", "projects/<project id>/topics/<name>"),
        ("events_topic", "projects/my-home-4242/topics/goog-events", "not with 'goog'"),
        ("events_topic", "projects/my-home-4242/subscriptions/nest-events", "projects/<project id>/topics/<name>"),
    ],
)
def test_bad_value_names_key_value_and_what_is_allowed(key, value, allowed):
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({key: value})
    message = str(raised.value)
    assert f"'{key}'" in message and repr(value) in message and allowed in message
    assert "\n" not in message


def test_nest_events_keys_default_to_a_fixed_audience_and_are_needed_only_with_live_state_on():
    """The events URL is known only after a deploy, so the push audience is a string the owner
    chooses (default 'nest-skill-events'); the service account and the topic have no default, and
    with live state on each missing one is a line of its own."""
    assert AppConfig().events_push_audience == "nest-skill-events"
    assert AppConfig().events_problems() == ()
    assert AppConfig(live_state="on").events_problems() == (
        "set 'events_service_account' in nest-skill.json (live_state is on): the service account Pub/Sub signs "
        "its pushes as, name@project.iam.gserviceaccount.com",
        "set 'events_topic' in nest-skill.json (live_state is on): the Pub/Sub topic in your Google Cloud "
        "project that Nest publishes to, projects/<project id>/topics/<name>",
    )
    config = AppConfig.from_mapping(
        {
            "live_state": "on",
            "events_service_account": "nest-push@my-home-4242.iam.gserviceaccount.com",
            "events_topic": "projects/my-home-4242/topics/nest-events",
            "events_push_audience": "https://events.example.org/nest",
        }
    )
    assert config.events_problems() == () and config.events_project == "my-home-4242"


def test_beanstalk_hosting_requires_a_platform_and_names_where_to_find_one():
    with pytest.raises(ConfigError) as raised:
        AppConfig.from_mapping({"bridge_hosting": "beanstalk"})
    assert str(raised.value) == (
        "config key 'beanstalk_solution_stack' = '' is not allowed: expected a current Python platform name with "
        "bridge_hosting 'beanstalk' (pick one from `aws elasticbeanstalk list-available-solution-stacks`)"
    )


def test_the_concurrency_cap_is_off_by_default_and_only_for_the_lambda_bridge():
    assert AppConfig().bridge_concurrency_cap is None
    assert AppConfig.from_mapping({"bridge_reserved_concurrency": "20"}).bridge_concurrency_cap == 20
    with pytest.raises(
        ConfigError,
        match="'bridge_reserved_concurrency' = '20' is not allowed: expected empty with bridge_hosting 'beanstalk'",
    ):
        AppConfig.from_mapping(
            {
                "bridge_hosting": "beanstalk",
                "bridge_reserved_concurrency": "20",
                "beanstalk_solution_stack": "64bit Amazon Linux 2023 v4.7.0 running Python 3.13",
            }
        )


def test_loopback_http_is_allowed_for_local_rehearsal():
    config = AppConfig.from_mapping(
        {"sdm_api_base_url": "http://127.0.0.1:8080/v1", "oauth_token_url": "http://localhost:9/oauth2/v4/token"}
    )
    assert config.sdm_api_base_url.startswith("http://127.0.0.1")


def test_non_string_value_is_refused():
    with pytest.raises(ConfigError, match="'skill_id' = 5: must be a string"):
        AppConfig.from_mapping({"skill_id": 5})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("live_state", True, '\'live_state\' = true is not allowed: expected the string "off" or "on"'),
        ("live_state", False, '\'live_state\' = false is not allowed: expected the string "off" or "on"'),
        ("account_linking", 1, '= 1 is not allowed: expected the string "auth_code" or "implicit"'),
        ("bridge_hosting", ["lambda"], '= ["lambda"] is not allowed: expected the string "lambda" or "beanstalk"'),
    ],
)
def test_a_choice_written_as_json_true_or_a_number_names_the_strings_allowed(key, value, message):
    with pytest.raises(ConfigError) as refused:
        AppConfig.from_mapping({key: value})
    assert message in str(refused.value)


def run_app(context: dict) -> subprocess.CompletedProcess:
    """Runs app.py as the CDK CLI does: context arrives in CDK_CONTEXT_JSON."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/nonexistent-not-reached"}
    return subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_synth_stops_with_one_line_and_no_traceback():
    result = run_app({"bridge_hosting": "kubernetes"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: config key 'bridge_hosting' = 'kubernetes' is not allowed: expected lambda or beanstalk"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_synth_refuses_a_misspelled_key_in_one_line():
    result = run_app({"bridge_hostng": "beanstalk"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: config key 'bridge_hostng' = 'beanstalk' is not allowed: expected a key "
        "this project knows: did you mean 'bridge_hosting'?"
    )
