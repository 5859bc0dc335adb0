"""temperatures: Nest's rounding (whole degrees Fahrenheit, half degrees Celsius), conversions, SDM's limits,
and the ranges the skill sends (centred on a target, clear of SDM's minimum gap, within its limits)."""

from __future__ import annotations

import pytest

from nest_skill import temperatures
from nest_skill.temperatures import Scale

F, C = Scale.FAHRENHEIT, Scale.CELSIUS


@pytest.mark.parametrize(
    "value, scale, rounded",
    [
        (70.49, F, 70),
        (70.5, F, 71),
        (69.5, F, 70),
        (-0.5, F, 0),
        (21.24, C, 21.0),
        (21.25, C, 21.5),
        (21.74, C, 21.5),
        (21.75, C, 22.0),
    ],
)
def test_nest_rounding_is_whole_fahrenheit_and_half_celsius_halves_up(value, scale, rounded):
    assert temperatures.nest_round(value, scale) == rounded


def test_conversions_round_trip():
    for degrees_f in range(50, 91):
        assert temperatures.from_celsius(temperatures.to_celsius(degrees_f, F), F) == pytest.approx(degrees_f)
    assert temperatures.to_celsius(21.5, C) == 21.5


@pytest.mark.parametrize("scale", [F, C])
def test_every_range_the_skill_can_send_clears_sdms_minimum_and_limits(scale):
    low_limit, high_limit = temperatures.LIMITS[scale]
    step = 1.0 if scale is F else 0.5
    targets = [low_limit + i * step for i in range(int((high_limit - low_limit) / step) + 1)]
    for span in (0, step, 3 * step, 6 * step, 100):
        for target in targets:
            current = (low_limit + 5, low_limit + 5 + span)
            low, high = temperatures.centred_range(target, current, scale)
            assert low_limit <= low < high <= high_limit
            assert temperatures.nest_round(low, scale) == low and temperatures.nest_round(high, scale) == high
            heat_c, cool_c = temperatures.range_celsius(low, high, scale)
            assert cool_c - heat_c >= temperatures.MIN_RANGE_GAP_C
            assert heat_c >= 10.0 and cool_c <= 32.2223
            assert (temperatures.displayed(heat_c, scale), temperatures.displayed(cool_c, scale)) == (low, high)


@pytest.mark.parametrize(
    "low, high, scale, sent",
    [
        (51, 55, Scale.FAHRENHEIT, (10.5555, 12.7778)),
        (69, 72, Scale.FAHRENHEIT, (20.5555, 22.2223)),
        (50, 53, Scale.FAHRENHEIT, (10.0, 11.6668)),
        (20, 22, Scale.CELSIUS, (20.0, 22.0)),
        (10, 11.5, Scale.CELSIUS, (10.0, 11.6668)),
        (20, 21.5, Scale.CELSIUS, (19.8332, 21.5)),
    ],
)
def test_setrange_values_are_exact(low, high, scale, sent):
    assert temperatures.range_celsius(low, high, scale) == sent


@pytest.mark.parametrize(
    "value, scale, shown",
    [
        (70.5, Scale.FAHRENHEIT, 71.0),
        (69.49, Scale.FAHRENHEIT, 69.0),
        (21.25, Scale.CELSIUS, 21.5),
        (21.24, Scale.CELSIUS, 21.0),
    ],
)
def test_nest_rounding(value, scale, shown):
    assert temperatures.nest_round(value, scale) == shown


def test_limits_and_conversions():
    assert temperatures.LIMITS == {Scale.FAHRENHEIT: (50.0, 90.0), Scale.CELSIUS: (10.0, 32.0)}
    assert temperatures.MIN_RANGE_GAP_C == 1.6667
    assert temperatures.setpoint_celsius(70, Scale.FAHRENHEIT) == 21.1111
    assert temperatures.displayed(21.1111, Scale.FAHRENHEIT) == 70.0
    assert temperatures.displayed(None, Scale.FAHRENHEIT) is None
    assert temperatures.to_celsius(21.3, Scale.CELSIUS) == 21.3


@pytest.mark.parametrize("value", [True, "20", float("nan"), float("inf"), 10**400, None])
def test_what_is_no_temperature(value):
    assert temperatures.finite(value) is None


@pytest.mark.parametrize(
    "target, current, scale, expected",
    [
        (70, None, Scale.FAHRENHEIT, (69.0, 72.0)),
        (70, (60.0, 80.0), Scale.FAHRENHEIT, (60.0, 80.0)),
        (70, (50.0, 90.0), Scale.FAHRENHEIT, (50.0, 90.0)),
        (22, None, Scale.CELSIUS, (21.0, 23.0)),
        (22, (20.0, 23.5), Scale.CELSIUS, (20.5, 24.0)),
    ],
)
def test_centred_ranges(target, current, scale, expected):
    assert temperatures.centred_range(target, current, scale) == expected


def test_a_narrow_range_is_widened_downwards_while_the_heat_end_stays_at_10_c_or_above():
    """10.5 to 12 °C is 0.1668 short of SDM's minimum gap: 10.3332 °C is still above SDM's lowest
    setpoint (10 °C), so the heat end moves down rather than the cool end up."""
    assert temperatures.range_celsius(10.5, 12.0, Scale.CELSIUS) == (10.3332, 12.0)
