"""The bridge's configuration from environment variables, as the CDK sets them."""

from __future__ import annotations

import pytest

from oauth_bridge.config import GOOGLE_TOKEN_URL, BridgeConfig, ConfigError
from tests.bridge.helpers import AUTH_URL, BUCKET, KEY, VENDOR

REQUIRED = {
    "SECRETS_BUCKET": BUCKET,
    "SECRETS_KEY": KEY,
    "ALEXA_VENDOR_ID": VENDOR,
    "OAUTH_AUTHORIZATION_URL": AUTH_URL,
}


def test_required_values_and_defaults():
    config = BridgeConfig.from_env(REQUIRED)
    assert config == BridgeConfig(
        secrets_bucket=BUCKET,
        secrets_key=KEY,
        alexa_vendor_id=VENDOR,
        authorization_url=AUTH_URL,
        token_url=GOOGLE_TOKEN_URL,
        public_base_url=None,
    )


def test_optional_values():
    config = BridgeConfig.from_env(
        {
            **REQUIRED,
            "OAUTH_TOKEN_URL": "http://127.0.0.1:8123/oauth2/v4/token",
            "PUBLIC_BASE_URL": "https://bridge.example.com/",
        }
    )
    assert config.token_url == "http://127.0.0.1:8123/oauth2/v4/token"
    assert config.public_base_url == "https://bridge.example.com"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_required_variable_is_named_when_missing(name):
    with pytest.raises(ConfigError, match=f"environment variable {name} is missing"):
        BridgeConfig.from_env({**REQUIRED, name: " "})


@pytest.mark.parametrize(
    "name, value",
    [
        ("SECRETS_BUCKET", "Bad_Bucket"),
        ("SECRETS_KEY", "/leading-slash"),
        ("ALEXA_VENDOR_ID", "vendor id"),
        ("OAUTH_AUTHORIZATION_URL", "http://nestservices.google.com/auth"),
        ("OAUTH_AUTHORIZATION_URL", "https://accounts.example.com/auth#frag"),
        ("OAUTH_TOKEN_URL", "https://oauth2.example.com/token?x=1"),
        ("OAUTH_TOKEN_URL", "ftp://oauth2.example.com/token"),
        ("PUBLIC_BASE_URL", "http://bridge.example.com"),
    ],
)
def test_unusable_values_are_refused_with_their_name(name, value):
    with pytest.raises(ConfigError, match=name):
        BridgeConfig.from_env({**REQUIRED, name: value})


def test_authorization_url_may_carry_a_query():
    url = AUTH_URL + "?hl=en"
    assert BridgeConfig.from_env({**REQUIRED, "OAUTH_AUTHORIZATION_URL": url}).authorization_url == url


@pytest.mark.parametrize(
    "contact",
    [
        "privacy@example.org",
        "first.last+skill@mail.example.co.uk",
        "https://example.org/contact?topic=privacy",
        "https://github.com/XavierM/home-thermostat/issues?q=Privacy+Request",
    ],
)
def test_the_privacy_contact_is_an_email_address_or_an_https_url(contact):
    assert BridgeConfig.from_env({**REQUIRED, "PRIVACY_CONTACT": f" {contact} "}).privacy_contact == contact
    assert BridgeConfig.from_env(REQUIRED).privacy_contact is None


@pytest.mark.parametrize(
    "contact",
    [
        "not an address",
        "http://example.org/contact",
        "javascript:alert(1)",
        "https://user@example.org/",
        'https://example.org/"><script>',
        "a@b",
    ],
)
def test_a_privacy_contact_that_is_neither_is_refused_by_name(contact):
    with pytest.raises(ConfigError, match="PRIVACY_CONTACT"):
        BridgeConfig.from_env({**REQUIRED, "PRIVACY_CONTACT": contact})


def test_live_state_is_on_only_when_the_stacks_say_so():
    assert BridgeConfig.from_env({**REQUIRED, "LIVE_STATE": "on"}).live_state is True
    assert BridgeConfig.from_env({**REQUIRED, "LIVE_STATE": " off "}).live_state is False
    assert BridgeConfig.from_env(REQUIRED).live_state is False


@pytest.mark.parametrize("value", ["ON", "true", "1", "yes"])
def test_a_live_state_switch_that_is_not_on_or_off_is_refused_by_name(value):
    """Read as off, a typo would make /privacy leave out what live state stores."""
    with pytest.raises(ConfigError, match="LIVE_STATE"):
        BridgeConfig.from_env({**REQUIRED, "LIVE_STATE": value})


def config_with(**values: str) -> BridgeConfig:
    return BridgeConfig.from_env({**REQUIRED, **values})


def test_without_a_token_url_the_bridge_exchanges_codes_at_googles():
    assert config_with().token_url == "https://www.googleapis.com/oauth2/v4/token"


@pytest.mark.parametrize(
    "name, longest, shortest",
    [
        ("SECRETS_BUCKET", "b" * 63, "bkt"),
        ("SECRETS_KEY", "k" * 512, "k"),
        ("ALEXA_VENDOR_ID", "V" * 20, "V" * 8),
    ],
)
def test_the_longest_and_shortest_values_s3_and_alexa_allow_and_one_past_them(name, longest, shortest):
    """S3: bucket names of 3 to 63 characters, object keys up to 1,024 bytes (the bridge takes 512 plain
    characters); Alexa vendor IDs are 8 to 20 upper-case letters and digits (14 in practice)."""
    for value in (longest, shortest):
        assert getattr(config_with(**{name: value}), name.lower()) == value
    for value in (longest + longest[-1], shortest[:-1]):
        with pytest.raises(ConfigError, match=name):
            config_with(**{name: value})


def config_error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as error:
        BridgeConfig.from_env(env)
    return str(error.value)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_an_absent_required_variable_is_named_as_missing(name):
    env = {other: value for other, value in REQUIRED.items() if other != name}
    assert config_error(env) == f"environment variable {name} is missing or empty"


_NOT_A_URL = "no fragment; http:// only for 127.0.0.1 or localhost)"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("SECRETS_BUCKET", "Bad_Bucket", "environment variable SECRETS_BUCKET='Bad_Bucket' is not an S3 bucket name"),
        ("SECRETS_KEY", "/leading-slash", "environment variable SECRETS_KEY='/leading-slash' is not an S3 object key"),
        (
            "ALEXA_VENDOR_ID",
            "vendor id",
            "environment variable ALEXA_VENDOR_ID='vendor id' is not an Alexa vendor ID (8-20 A-Z/0-9)",
        ),
        (
            "OAUTH_AUTHORIZATION_URL",
            "http://nestservices.google.com/auth",
            "environment variable OAUTH_AUTHORIZATION_URL='http://nestservices.google.com/auth' is not an https:// URL "
            f"(a query is allowed, {_NOT_A_URL}",
        ),
        (
            "OAUTH_TOKEN_URL",
            "https://oauth2.example.com/token?x=1",
            "environment variable OAUTH_TOKEN_URL='https://oauth2.example.com/token?x=1' "
            "is not an https:// URL (no query, "
            f"{_NOT_A_URL}",
        ),
        (
            "PUBLIC_BASE_URL",
            "https:///callback",
            f"environment variable PUBLIC_BASE_URL='https:///callback' is not an https:// URL (no query, {_NOT_A_URL}",
        ),
    ],
)
def test_what_the_operator_reads_for_an_unusable_value(name, value, message):
    assert config_error({**REQUIRED, name: value}) == message


def test_only_the_trailing_slashes_of_the_public_base_url_go():
    config = BridgeConfig.from_env({**REQUIRED, "PUBLIC_BASE_URL": "https://home.example.com/ALEXA-X//"})
    assert config.public_base_url == "https://home.example.com/ALEXA-X"


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8123/oauth2/v4/token",
        "http://LOCALHOST:8123/token",
        "http://127.0.0.1:8123/token",
        "http://127.8.9.10/token",
        "http://[::1]:8123/token",
    ],
)
def test_plain_http_is_accepted_only_on_the_loopback(url):
    assert BridgeConfig.from_env({**REQUIRED, "OAUTH_TOKEN_URL": url}).token_url == url


@pytest.mark.parametrize(
    "url",
    ["http://localhost.example.com/token", "http://mylocalhost/token", "http://10.0.0.1/token", "http://[::2]/token"],
)
def test_plain_http_elsewhere_is_refused(url):
    with pytest.raises(ConfigError, match="OAUTH_TOKEN_URL"):
        BridgeConfig.from_env({**REQUIRED, "OAUTH_TOKEN_URL": url})
