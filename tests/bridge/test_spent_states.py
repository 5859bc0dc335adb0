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


def test_100000_states_in_flight_are_remembered_and_the_oldest_goes_first_past_them():
    spent = SpentStates(600.0, clock=lambda: 0.0)
    for n in range(100_000):
        assert spent.claim(f"binding-{n}")
    assert not spent.claim("binding-0")
    assert spent.claim("binding-100000")
    assert spent.claim("binding-0")  # the oldest was forgotten to make room
    assert not spent.claim("binding-2")


def test_a_binding_claimed_again_the_second_it_expires_is_the_newest_entry():
    """Claimed anew at 600 s, "a" lives until 1200 s: when the cache is full later, older entries go first."""
    clock = Clock(0.0)
    spent = SpentStates(600, clock, max_entries=3)
    assert spent.claim("a")
    clock.now = 1.0
    assert spent.claim("b")
    clock.now = 600.0
    assert spent.claim("a")
    clock.now = 601.0
    assert spent.claim("c")
    clock.now = 602.0
    assert spent.claim("d")
    assert not spent.claim("a")
