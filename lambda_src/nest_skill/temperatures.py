"""Temperature arithmetic as the Nest app does it.

People speak in their thermostat's own scale and the Nest app shows whole °F and half °C, while the
SDM API takes Celsius only. Setpoints sent to SDM are rounded to 4 decimals: close enough that the
thermostat shows exactly the number the user heard, short enough to read in a log or a test.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, overload


class Scale(StrEnum):
    """Values are SDM's `Settings.temperatureScale` strings."""

    CELSIUS = "CELSIUS"
    FAHRENHEIT = "FAHRENHEIT"


# The Nest app's setpoint limits, in each scale's own units.
LIMITS = {Scale.FAHRENHEIT: (50.0, 90.0), Scale.CELSIUS: (10.0, 32.0)}
_STEP = {Scale.FAHRENHEIT: 1.0, Scale.CELSIUS: 0.5}
# SDM rejects heat-cool ranges narrower than 1.6667 °C ("range is smaller than minimum 1.666700").
MIN_RANGE_GAP_C = 1.6667
# The narrowest range the app offers that still clears that gap: 3 °F, and 2 °C at half-degree steps.
_MIN_SPAN = {Scale.FAHRENHEIT: 3.0, Scale.CELSIUS: 2.0}
# SDM's lowest setpoint; a range at the bottom is widened upwards instead.
_SDM_MIN_C = 10.0
_PLACES = 4
_HAIR = 10.0**-_PLACES


def finite(value: Any) -> float | None:
    """A JSON number usable as a temperature, else None: Python's JSON parser lets NaN, Infinity and
    integers too big for a float through, and a bool is an int to isinstance."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def to_celsius(value: float, scale: Scale) -> float:
    return (value - 32.0) * 5.0 / 9.0 if scale is Scale.FAHRENHEIT else value


def from_celsius(celsius: float, scale: Scale) -> float:
    return celsius * 9.0 / 5.0 + 32.0 if scale is Scale.FAHRENHEIT else celsius


def nest_round(value: float, scale: Scale) -> float:
    """Whole °F or half °C, halves rounding up as people expect (not Python's banker's rounding)."""
    step = _STEP[scale]
    return math.floor(value / step + 0.5) * step


def nest_step(change: float, scale: Scale) -> float:
    """A positive change of `change` degrees as the Nest app can make it: rounded to whole °F or
    half °C, and at least one such step, so "a little warmer" never sends what is already set."""
    return max(nest_round(change, scale), _STEP[scale])


@overload
def displayed(celsius: float, scale: Scale) -> float: ...
@overload
def displayed(celsius: None, scale: Scale) -> None: ...
@overload
def displayed(celsius: float | None, scale: Scale) -> float | None: ...
def displayed(celsius: float | None, scale: Scale) -> float | None:
    """What the Nest app shows for an SDM Celsius reading (None: none reported)."""
    return None if celsius is None else nest_round(from_celsius(celsius, scale), scale)


def within_limits(value: float, scale: Scale) -> bool:
    low, high = LIMITS[scale]
    return low <= value <= high


def min_span(scale: Scale) -> float:
    """The narrowest heat-cool range SDM accepts, in `scale`'s own steps (3 °F, 2 °C)."""
    return _MIN_SPAN[scale]


def difference(delta: float, from_scale: Scale, to_scale: Scale) -> float:
    """A temperature difference (not a reading) in another scale: 2 °F is 1.111 °C, not -16.7 °C."""
    if from_scale is to_scale:
        return delta
    return delta * 5.0 / 9.0 if to_scale is Scale.CELSIUS else delta * 9.0 / 5.0


def setpoint_celsius(value: float, scale: Scale) -> float:
    return round(to_celsius(value, scale), _PLACES)


def centred_range(target: float, current: tuple[float, float] | None, scale: Scale) -> tuple[float, float]:
    """A heat-cool range around `target` keeping the current span (never narrower than SDM allows),
    shifted as a whole when one end would leave the app's limits."""
    low_limit, high_limit = LIMITS[scale]
    step = _STEP[scale]
    span = _MIN_SPAN[scale]
    if current is not None:
        span = max(span, nest_round(current[1] - current[0], scale))
    span = min(span, high_limit - low_limit)
    low = max(target - math.floor(span / 2 / step) * step, low_limit)
    high = min(low + span, high_limit)
    return high - span, high


def range_celsius(low: float, high: float, scale: Scale) -> tuple[float, float]:
    """SetRange parameters for a range in `scale`, guaranteed wider than SDM's minimum gap.

    3 °F is 1.66666 °C, a hair under SDM's minimum, so such a range is widened by that hair, away from
    SDM's lower limit; the thermostat still shows the same whole degrees.
    """
    heat = math.floor(round(to_celsius(low, scale) / _HAIR, 6)) * _HAIR
    cool = math.ceil(round(to_celsius(high, scale) / _HAIR, 6)) * _HAIR
    shortfall = MIN_RANGE_GAP_C + _HAIR - (cool - heat)
    if shortfall > 0:
        if heat - shortfall >= _SDM_MIN_C:
            heat -= shortfall
        else:
            cool += shortfall
    return round(heat, _PLACES), round(cool, _PLACES)
