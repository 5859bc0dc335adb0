"""A hand-driven clock for the code that takes one (`clock=`, `wall_clock=`): time moves only when a
test says so, so expiry and cache lifetimes are tested without waiting or racing the real clock."""

from __future__ import annotations


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
