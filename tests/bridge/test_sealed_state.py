"""The sealed state: Alexa's state and redirect URI, signed with the state key and valid 10 minutes."""

from __future__ import annotations

import pytest

from oauth_bridge.sealed_state import MAX_AGE_S, PREFIX, AlexaReturn, StateRefused, StateSealer, is_sealed
from tests.bridge.helpers import ALEXA_REDIRECT, ALEXA_STATE, STATE_KEY
from tests.clock import Clock

ALEXA = AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT)


@pytest.fixture
def clock() -> Clock:
    return Clock(1_800_000_000.0)


@pytest.fixture
def sealer(clock) -> StateSealer:
    return StateSealer(STATE_KEY, clock)


def test_round_trip_within_ten_minutes(sealer, clock):
    sealed = sealer.seal(ALEXA)
    assert is_sealed(sealed) and sealed.startswith(PREFIX)
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


def test_tampering_anywhere_is_refused(sealer):
    sealed = sealer.seal(ALEXA)
    for index in range(len(PREFIX), len(sealed)):
        flipped = sealed[:index] + ("A" if sealed[index] != "A" else "B") + sealed[index + 1:]
        with pytest.raises(StateRefused) as refused:
            sealer.open(flipped)
        assert refused.value.reason == "invalid"


def test_another_key_cannot_open_it(sealer, clock):
    with pytest.raises(StateRefused, match="invalid"):
        StateSealer("another-state-key-" + "x" * 32, clock).open(sealer.seal(ALEXA))


def test_a_forged_payload_signed_with_another_key_is_refused(clock):
    forged = StateSealer("attacker-key-" + "y" * 32, clock).seal(AlexaReturn("s", "https://evil.example/"))
    with pytest.raises(StateRefused, match="invalid"):
        StateSealer(STATE_KEY, clock).open(forged)


@pytest.mark.parametrize("state", [PREFIX, PREFIX + "garbage", PREFIX + "a.b.c", PREFIX + "e30.AAAAAA.sig"])
def test_garbage_after_the_prefix_is_refused(sealer, state):
    with pytest.raises(StateRefused, match="invalid"):
        sealer.open(state)


def test_alexa_states_are_not_mistaken_for_sealed_ones():
    assert not is_sealed(ALEXA_STATE)
    assert not is_sealed("A2SAAEAEJ8SL" + PREFIX)
