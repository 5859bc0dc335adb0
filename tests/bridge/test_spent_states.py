"""The per-process replay cache behind "a state yields a token at most once"."""

from __future__ import annotations

from oauth_bridge.spent_states import SpentStates
from tests.clock import Clock


def test_a_binding_is_claimed_once_within_its_lifetime():
    clock = Clock(0.0)
    spent = SpentStates(600, clock)
    assert spent.claim("a") and spent.claim("b")
    clock.advance(599)
    assert not spent.claim("a") and not spent.claim("b")


def test_an_expired_binding_is_forgotten():
    clock = Clock(0.0)
    spent = SpentStates(600, clock)
    spent.claim("a")
    clock.advance(600)
    assert spent.claim("a")


def test_the_cache_is_bounded_and_drops_the_oldest_first():
    clock = Clock(0.0)
    spent = SpentStates(600, clock, max_entries=3)
    for name in "abc":
        spent.claim(name)
        clock.advance(1)
    assert spent.claim("d")
    assert spent.claim("a"), "the oldest entry made room"
    assert not spent.claim("c") and not spent.claim("d")
