"""The query checks every route makes before reading a parameter: each parameter once, decoded as UTF-8,
without control characters, at most 20 of them, 2,048 bytes a value and 40,960 characters in all, each refusal
with its reason; at the function and through the bridge."""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from oauth_bridge.query import BadQuery, single_params
from tests.bridge.helpers import ALEXA_REDIRECT, assert_refused, get


def params_of(raw: str) -> dict[str, str]:
    environ = EnvironBuilder(path="/authorize").get_environ()
    environ["QUERY_STRING"] = raw
    return single_params(Request(environ))


def twenty_fields_of(total_chars: int) -> str:
    """Twenty `x=vvv` fields (names a to t, each value at most 2048 bytes) joined by `&`, `total_chars` long."""
    values = 40_960 - 19 - 20 * 2
    sizes = [values // 20] * 20
    sizes[0] += values % 20 + total_chars - 40_960
    return "&".join(f"{chr(ord('a') + index)}={'v' * size}" for index, size in enumerate(sizes))


def test_each_parameter_once_decoded():
    assert params_of("") == {}
    assert params_of("a=1&b=x+y%20z&c=%C3%A9&d=") == {"a": "1", "b": "x y z", "c": "\u00e9", "d": ""}


def test_a_query_of_40960_characters_is_read_and_one_more_is_too_long():
    assert len(twenty_fields_of(40_960)) == 40_960
    assert len(params_of(twenty_fields_of(40_960))) == 20
    with pytest.raises(BadQuery, match=r"^too_long$"):
        params_of(twenty_fields_of(40_961))


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("state=%FF", "malformed"),
        ("state=%C3", "malformed"),
        ("state=a&state=a", "malformed"),
        ("&".join(f"x{index}=v" for index in range(21)), "malformed"),
        ("state=" + "%C3%A9" * 1025, "too_long"),
        ("a%0Ab=1", "control_chars"),
        ("state=a%7F", "control_chars"),
    ],
    ids=[
        "not UTF-8",
        "cut UTF-8",
        "repeated",
        "21 fields",
        "2050 bytes in 1025 characters",
        "in a name",
        "DEL in a value",
    ],
)
def test_what_no_legitimate_caller_sends_is_refused_with_its_reason(raw, reason):
    with pytest.raises(BadQuery) as bad:
        params_of(raw)
    assert (bad.value.reason, str(bad.value)) == (reason, reason)


def test_a_value_of_2048_bytes_in_1024_characters_passes():
    assert params_of("state=" + "%C3%A9" * 1024) == {"state": "\u00e9" * 1024}


def test_del_and_other_control_characters_are_refused(bridge):
    for raw in ("%7F", "%1F", "%00"):
        assert_refused(
            get(bridge, "/authorize", f"state=a{raw}b&response_type=token&redirect_uri={ALEXA_REDIRECT}"),
            400,
            "characters that do not belong",
        )


def body_of(response) -> str:
    return response.get_data(as_text=True)


def test_a_value_of_2048_bytes_passes_and_one_more_is_too_long(bridge):
    ok = get(
        bridge,
        "/authorize",
        {"state": "s" * 1024, "response_type": "token", "redirect_uri": ALEXA_REDIRECT, "pad": "p" * 2048},
    )
    assert ok.status_code == 302
    too_long = get(
        bridge,
        "/authorize",
        {"state": "s", "response_type": "token", "redirect_uri": ALEXA_REDIRECT, "pad": "p" * 2049},
    )
    assert_refused(too_long, 400)
    assert body_of(too_long) != body_of(get(bridge, "/authorize", "state=a&state=b"))


def test_twenty_parameters_pass_and_twenty_one_are_refused(bridge):
    base = {"state": "s", "response_type": "token", "redirect_uri": ALEXA_REDIRECT}
    twenty = {**base, **{f"x{i}": "v" for i in range(17)}}
    assert get(bridge, "/authorize", twenty).status_code == 302
    assert_refused(get(bridge, "/authorize", {**twenty, "x17": "v"}), 400)


def test_a_query_over_40960_characters_is_refused_before_parsing(bridge):
    query = "state=s&response_type=token&redirect_uri=" + ALEXA_REDIRECT + "&pad="
    assert_refused(get(bridge, "/authorize", query + "p" * (40961 - len(query))), 400)
