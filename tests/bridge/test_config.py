"""The bridge's configuration from environment variables, as the CDK sets them."""

from __future__ import annotations

import pytest

from oauth_bridge.config import GOOGLE_TOKEN_URL, BridgeConfig, ConfigError
from tests.bridge.helpers import AUTH_URL, BUCKET, KEY, VENDOR

REQUIRED = {"SECRETS_BUCKET": BUCKET, "SECRETS_KEY": KEY, "ALEXA_VENDOR_ID": VENDOR,
            "OAUTH_AUTHORIZATION_URL": AUTH_URL}


def test_required_values_and_defaults():
    config = BridgeConfig.from_env(REQUIRED)
    assert config == BridgeConfig(secrets_bucket=BUCKET, secrets_key=KEY, alexa_vendor_id=VENDOR,
                                  authorization_url=AUTH_URL, token_url=GOOGLE_TOKEN_URL, public_base_url=None)


def test_optional_values():
    config = BridgeConfig.from_env({**REQUIRED, "OAUTH_TOKEN_URL": "http://127.0.0.1:8123/oauth2/v4/token",
                                    "PUBLIC_BASE_URL": "https://bridge.example.com/"})
    assert config.token_url == "http://127.0.0.1:8123/oauth2/v4/token"
    assert config.public_base_url == "https://bridge.example.com"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_required_variable_is_named_when_missing(name):
    with pytest.raises(ConfigError, match=f"environment variable {name} is missing"):
        BridgeConfig.from_env({**REQUIRED, name: " "})


@pytest.mark.parametrize("name, value", [
    ("SECRETS_BUCKET", "Bad_Bucket"),
    ("SECRETS_KEY", "/leading-slash"),
    ("ALEXA_VENDOR_ID", "vendor id"),
    ("OAUTH_AUTHORIZATION_URL", "http://nestservices.google.com/auth"),
    ("OAUTH_AUTHORIZATION_URL", "https://accounts.example.com/auth#frag"),
    ("OAUTH_TOKEN_URL", "https://oauth2.example.com/token?x=1"),
    ("OAUTH_TOKEN_URL", "ftp://oauth2.example.com/token"),
    ("PUBLIC_BASE_URL", "http://bridge.example.com"),
])
def test_unusable_values_are_refused_with_their_name(name, value):
    with pytest.raises(ConfigError, match=name):
        BridgeConfig.from_env({**REQUIRED, name: value})


def test_authorization_url_may_carry_a_query():
    url = AUTH_URL + "?hl=en"
    assert BridgeConfig.from_env({**REQUIRED, "OAUTH_AUTHORIZATION_URL": url}).authorization_url == url


@pytest.mark.parametrize("contact", ["privacy@example.org", "first.last+skill@mail.example.co.uk",
                                     "https://example.org/contact?topic=privacy"])
def test_the_privacy_contact_is_an_email_address_or_an_https_url(contact):
    assert BridgeConfig.from_env({**REQUIRED, "PRIVACY_CONTACT": f" {contact} "}).privacy_contact == contact
    assert BridgeConfig.from_env(REQUIRED).privacy_contact is None


@pytest.mark.parametrize("contact", ["not an address", "http://example.org/contact", "javascript:alert(1)",
                                     "https://user@example.org/", 'https://example.org/"><script>', "a@b"])
def test_a_privacy_contact_that_is_neither_is_refused_by_name(contact):
    with pytest.raises(ConfigError, match="PRIVACY_CONTACT"):
        BridgeConfig.from_env({**REQUIRED, "PRIVACY_CONTACT": contact})
