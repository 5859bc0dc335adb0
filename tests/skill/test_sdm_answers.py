"""Every SDM answer is read within bounds, whoever asked: at most MAX_ANSWER_BYTES once decoded (a gzip
bomb is cut off, never inflated whole), JSON nested past the parser's depth is an InvalidResponse like
any unreadable answer, and both front doors give their documented answer to it: Discover the empty
list Alexa asks for, the custom skill its apology."""

from __future__ import annotations

import json
import logging
import tracemalloc

import pytest

from nest_skill.sdm_client import Deadline, InvalidResponse, RateLimited
from sandbox import alexa
from sandbox.alexa import spoken
from sandbox.fake_google import DEEP_NESTING, GZIP_BOMB_INFLATED_BYTES, gzip_bomb
from tests.skill.sdm import DEVICES_URL, device_list, device_url, thermostat

MAX_ANSWER_BYTES = 1024 * 1024
"""sdm_client's cap on a decoded SDM answer: a device list of Alexa's 300 endpoints is under 1 MB."""
DEEP = b'{"devices": ' + b"[" * DEEP_NESTING + b"]" * DEEP_NESTING + b"}"


def padded_device_list(size: int) -> bytes:
    """A valid device list of exactly `size` bytes (one thermostat, then spaces)."""
    start = json.dumps(device_list(thermostat())).encode()[:-1]
    return start + b" " * (size - len(start) - 1) + b"}"


def test_a_gzip_bomb_is_refused_without_being_inflated(client, sdm_api):
    """About 150 KB of gzip that inflates to 150 MB of valid JSON: the client reads no more than
    its cap, so the skill's memory grows by a few megabytes, not hundreds."""
    bomb = gzip_bomb()
    assert len(bomb) < 200_000 and GZIP_BOMB_INFLATED_BYTES == 150 * 1024 * 1024
    sdm_api.get(DEVICES_URL, body=bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    tracemalloc.start()
    try:
        with pytest.raises(InvalidResponse):
            client.list_devices("token", Deadline(5))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_ANSWER_BYTES


@pytest.mark.parametrize("size, accepted", [(MAX_ANSWER_BYTES, True), (MAX_ANSWER_BYTES + 1, False)])
def test_the_cap_is_on_the_decoded_answer_whatever_its_encoding(client, sdm_api, size, accepted):
    body = padded_device_list(size)
    sdm_api.get(DEVICES_URL, body=body, content_type="application/json")
    if accepted:
        assert [d["name"] for d in client.list_devices("token", Deadline(5))] == [thermostat()["name"]]
    else:
        with pytest.raises(InvalidResponse):
            client.list_devices("token", Deadline(5))


@pytest.mark.parametrize("read", ["list", "get"])
def test_json_nested_past_the_parsers_depth_is_an_invalid_response(client, sdm_api, read):
    sdm_api.get(DEVICES_URL, body=DEEP, content_type="application/json")
    sdm_api.get(device_url("living"), body=DEEP, content_type="application/json")
    with pytest.raises(InvalidResponse):
        if read == "list":
            client.list_devices("token", Deadline(5))
        else:
            client.get_device("token", thermostat()["name"], Deadline(5))


def test_an_error_answer_nested_too_deep_is_classified_by_its_status(client, sdm_api):
    sdm_api.get(DEVICES_URL, status=429, body=DEEP, content_type="application/json")
    with pytest.raises(RateLimited):
        client.list_devices("token", Deadline(5))


def test_an_unreadable_answer_is_one_warning_naming_its_size_never_its_body(client, sdm_api, caplog):
    caplog.set_level(logging.INFO)
    sdm_api.get(DEVICES_URL, body=DEEP, content_type="application/json")
    with pytest.raises(InvalidResponse):
        client.list_devices("token", Deadline(5))
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert (warning.getMessage(), warning.sdm_operation, warning.sdm_status, warning.sdm_answer_bytes) == (
        "sdm answer unreadable",
        "devices.list",
        200,
        len(DEEP),
    )
    assert "[[[" not in caplog.text


@pytest.mark.parametrize(
    "answer",
    [
        dict(body=DEEP, content_type="application/json"),
        dict(body=gzip_bomb(), headers={"Content-Encoding": "gzip"}, content_type="application/json"),
    ],
    ids=["deep", "gzip-bomb"],
)
def test_discovery_of_an_unreadable_device_list_is_the_empty_list_alexa_asks_for(skill, sdm_api, answer, caplog):
    sdm_api.get(DEVICES_URL, **answer)
    directive = alexa.discover()
    tracemalloc.start()
    try:
        reply = skill.lambda_handler(directive, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_ANSWER_BYTES
    alexa.valid_smart_home(reply, directive)
    assert reply["event"]["payload"] == {"endpoints": []}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "answer",
    [
        dict(body=DEEP, content_type="application/json"),
        dict(body=gzip_bomb(), headers={"Content-Encoding": "gzip"}, content_type="application/json"),
    ],
    ids=["deep", "gzip-bomb"],
)
def test_the_custom_skill_apologises_for_an_unreadable_device_list_as_for_any(skill, sdm_api, answer):
    """The same words as for a device list that is not JSON at all."""
    sdm_api.get(DEVICES_URL, body="<html>not json</html>", content_type="text/html")
    sdm_api.get(DEVICES_URL, **answer)
    not_json = spoken(skill.lambda_handler(alexa.status(), None))
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply) == not_json
    assert reply["response"]["shouldEndSession"] is True
