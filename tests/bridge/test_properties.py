"""The secrets object's format, shared with the operator CLI: what it writes must read back exactly."""

from __future__ import annotations

import secrets

import pytest

from oauth_bridge.properties import MalformedProperties, format_properties, parse_properties


def test_reads_key_value_lines_skipping_blanks_and_comments():
    text = (
        "# written by the operator CLI\r\n! old-style comment\n\n  clientid = abc.apps \nclientsecret=s3=cr=t\nempty=\n"
    )
    assert parse_properties(text) == {"clientid": "abc.apps", "clientsecret": "s3=cr=t", "empty": ""}


@pytest.mark.parametrize(
    "text, line",
    [
        ("clientid=a\njust words\n", 2),
        ("=value\n", 1),
        ("client id=x\n", 1),
        ("clientid: a\n", 1),
    ],
)
def test_refuses_lines_that_are_not_key_value(text, line):
    with pytest.raises(MalformedProperties, match=f"line {line} "):
        parse_properties(text)


def test_refuses_a_repeated_key():
    with pytest.raises(MalformedProperties, match="line 2 repeats key 'clientsecret'"):
        parse_properties("clientsecret=one\nclientsecret=two\n")


def test_error_messages_never_contain_values():
    secret = "do-not-print-" + secrets.token_urlsafe(8)
    with pytest.raises(MalformedProperties) as error:
        parse_properties(f"clientid=a\n{secret}\n")
    assert secret not in str(error.value)


def test_what_the_cli_writes_reads_back_unchanged():
    values = {
        "clientid": "1234-x.apps.googleusercontent.com",
        "clientsecret": "GOC-test_secret/with+chars=",
        "statekey": secrets.token_urlsafe(32),
    }
    text = format_properties(values)
    assert text == "".join(f"{key}={value}\n" for key, value in values.items())
    assert parse_properties(text) == values


@pytest.mark.parametrize(
    "values",
    [
        {"clientsecret": "line\nbreak"},
        {"clientsecret": "carriage\rreturn"},
        {"clientsecret": " padded"},
        {"client secret": "x"},
        {"": "x"},
    ],
)
def test_format_refuses_what_would_not_read_back(values):
    with pytest.raises(MalformedProperties):
        format_properties(values)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"client secret": "x"}, "key 'client secret' is not letters, digits, '_', '.' or '-'"),
        ({"clientsecret": "line\nbreak"}, "value of 'clientsecret' has surrounding whitespace or a line break"),
    ],
)
def test_what_the_operator_reads_when_values_cannot_be_written(values, message):
    with pytest.raises(MalformedProperties) as error:
        format_properties(values)
    assert str(error.value) == message
