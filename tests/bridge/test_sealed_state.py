"""The sealed state: Alexa's state, redirect URI and the flow nonce's hash, signed with the state key and
valid 10 minutes."""

from __future__ import annotations

import pytest

from oauth_bridge.sealed_state import (MAX_AGE_S, PREFIX, AlexaReturn, StateRefused, StateSealer, binding_of,
                                       new_nonce, unverified)
from tests.bridge.helpers import ALEXA_REDIRECT, ALEXA_STATE, STATE_KEY
from tests.clock import Clock

NONCE = new_nonce()
ALEXA = AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of(NONCE))


@pytest.fixture
def clock() -> Clock:
    return Clock(1_800_000_000.0)


@pytest.fixture
def sealer(clock) -> StateSealer:
    return StateSealer(STATE_KEY, clock)


def test_round_trip_within_ten_minutes(sealer, clock):
    sealed = sealer.seal(ALEXA)
    assert sealed.startswith(PREFIX)
    clock.advance(MAX_AGE_S)
    assert sealer.open(sealed) == ALEXA


def test_url_safe_and_does_not_show_the_redirect_in_clear_text(sealer):
    sealed = sealer.seal(ALEXA)
    assert all(char.isalnum() or char in "-_.~" for char in sealed)
    assert "amazon.com" not in sealed


def test_expired_after_ten_minutes(sealer, clock):
    sealed = sealer.seal(ALEXA)
    clock.advance(MAX_AGE_S + 1)
    with pytest.raises(StateRefused) as refused:
        sealer.open(sealed)
    assert refused.value.reason == "expired"


_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flipped(char: str) -> str:
    """Another character whose top bit differs: the last character of a base64 segment carries only its top
    bits, so "A" for "B" there may decode to the same bytes (a test that failed one run in four)."""
    return _BASE64URL[_BASE64URL.index(char) ^ 32] if char in _BASE64URL else "A"


def test_tampering_anywhere_is_refused(sealer):
    sealed = sealer.seal(ALEXA)
    for index in range(len(PREFIX), len(sealed)):
        flipped = sealed[:index] + _flipped(sealed[index]) + sealed[index + 1:]
        with pytest.raises(StateRefused) as refused:
            sealer.open(flipped)
        assert refused.value.reason == "invalid"


def test_another_key_cannot_open_it(sealer, clock):
    with pytest.raises(StateRefused, match="invalid"):
        StateSealer("another-state-key-" + "x" * 32, clock).open(sealer.seal(ALEXA))


def test_a_forged_payload_signed_with_another_key_is_refused(clock):
    forged = StateSealer("attacker-key-" + "y" * 32, clock).seal(AlexaReturn("s", "https://evil.example/", "b"))
    with pytest.raises(StateRefused, match="invalid"):
        StateSealer(STATE_KEY, clock).open(forged)


@pytest.mark.parametrize("state", [PREFIX, PREFIX + "garbage", PREFIX + "a.b.c", PREFIX + "e30.AAAAAA.sig"])
def test_garbage_after_the_prefix_is_refused(sealer, state):
    with pytest.raises(StateRefused, match="invalid"):
        sealer.open(state)


@pytest.mark.parametrize("state", [ALEXA_STATE, "A2SAAEAEJ8SL" + PREFIX, "sealed1~eyJzIjoicyJ9.abc.def"])
def test_a_state_without_the_prefix_is_unsealed(sealer, state):
    with pytest.raises(StateRefused, match="unsealed"):
        sealer.open(state)


def test_the_state_holds_the_nonce_hash_never_the_nonce(sealer):
    opened = sealer.open(sealer.seal(ALEXA))
    assert NONCE not in sealer.seal(ALEXA)
    assert opened.bound_to(NONCE)
    assert not opened.bound_to(None) and not opened.bound_to(new_nonce()) and not opened.bound_to("")


def test_unverified_reads_the_payload_without_the_key(sealer):
    assert unverified(sealer.seal(ALEXA)) == ALEXA
    for garbage in (ALEXA_STATE, PREFIX, PREFIX + "e30.AAAAAA.sig", PREFIX + "W1tbWw.x.y"):
        assert unverified(garbage) is None
