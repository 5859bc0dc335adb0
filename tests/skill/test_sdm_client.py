"""The SDM client's warm-container cache: short-lived, per user, keyed without the token."""

from __future__ import annotations

import pytest

from nest_skill.sdm_client import DEVICE_CACHE_MAX_USERS, DEVICE_CACHE_TTL_S, Deadline
from tests.skill.sdm import DEVICES_URL, device_list, thermostat



def test_the_device_list_is_cached_for_at_most_a_minute(client, clock, sdm_api):
    assert DEVICE_CACHE_TTL_S <= 60
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    client.list_devices("token-a", Deadline(5))
    clock.advance(DEVICE_CACHE_TTL_S - 1)
    client.list_devices("token-a", Deadline(5))
    assert len(sdm_api.calls) == 1
    clock.advance(1)
    client.list_devices("token-a", Deadline(5))
    assert len(sdm_api.calls) == 2


def test_the_cache_is_bounded_and_keyed_by_a_hash_of_the_token(client, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat()))
    for n in range(DEVICE_CACHE_MAX_USERS + 5):
        client.list_devices(f"token-{n}", Deadline(5))
    entries = client._devices._entries
    assert len(entries) == DEVICE_CACHE_MAX_USERS
    assert not any("token-" in key for key in entries)
    client.list_devices(f"token-{DEVICE_CACHE_MAX_USERS + 4}", Deadline(5))
    assert len(sdm_api.calls) == DEVICE_CACHE_MAX_USERS + 5
