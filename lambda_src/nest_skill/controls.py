"""What a user can ask a thermostat to do, as SDM commands: front-door neutral (no speech, no
Alexa), so the custom skill and a smart-home front door share every rule.

An Action plans one Change for a thermostat's current state, or raises a CannotChange saying why
nothing should be sent. Actions round-trip through plain JSON (`to_json`/`action_from_json`) so a
conversation can keep a pending one in Alexa's session attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nest_skill import temperatures
from nest_skill.thermostats import STANDARD_MODES, Mode, Thermostat

_COMMAND = "sdm.devices.commands."
_SETPOINT = _COMMAND + "ThermostatTemperatureSetpoint."
# Fan.SetTimer's duration range (developers.google.com/nest/device-access/traits/device/fan).
FAN_MAX_S = 43200
FAN_DEFAULT_S = 3600
"""One hour when no duration is said (SDM's own default, 900 s, is short for "run the fan")."""
ADJUST_STEP = 1.0
"""The step of "warmer"/"cooler" without an amount: one degree of the thermostat's own scale."""


class CannotChange(Exception):
    """Why nothing was sent: each case has its own answer, none is an error."""

    def __init__(self, thermostat: Thermostat):
        self.thermostat = thermostat


class NotReporting(CannotChange):
    """SDM lists the thermostat without its traits (an outage): its state is unknown."""


class NoControls(CannotChange):
    """SDM lists nothing that takes a command (no mode, eco or fan capability): the thermostat only
    reports its readings, such as one listing only Info, Temperature and Humidity."""


class Offline(CannotChange):
    pass


class TurnedOff(CannotChange):
    pass


class EcoOn(CannotChange):
    pass


class NoSetpoint(CannotChange):
    """The thermostat reports no mode that takes a setpoint (the trait is missing)."""


class OutOfRange(CannotChange):
    """The setpoint would leave the Nest app's limits (50–90 °F, 10–32 °C; SDM: 10–32.2 °C)."""

    def __init__(self, thermostat: Thermostat):
        super().__init__(thermostat)
        self.low, self.high = temperatures.LIMITS[thermostat.scale]


class BeyondLimit(OutOfRange):
    """Moving the setpoint(s) by the amount asked would pass the limit `limit` (own scale)."""

    def __init__(self, thermostat: Thermostat, limit: float, setpoints: tuple[float, ...]):
        super().__init__(thermostat)
        self.limit = limit
        self.setpoints = setpoints


class ModeUnavailable(CannotChange):
    """The mode is not in the thermostat's `availableModes`."""

    def __init__(self, thermostat: Thermostat, mode: Mode):
        super().__init__(thermostat)
        self.mode = mode


class SingleSetpoint(CannotChange):
    """A heat-cool range was asked while the mode takes one setpoint (heat or cool)."""


class RangeTooNarrow(CannotChange):
    """The range asked is narrower than SDM accepts (temperatures.min_span, in the thermostat's own scale)."""


class EcoWhileOff(CannotChange):
    """SDM refuses eco while the thermostat is OFF (ThermostatEco: FAILED_PRECONDITION)."""


class AlreadyInMode(CannotChange):
    """The thermostat is already in `mode`: nothing to send."""

    def __init__(self, thermostat: Thermostat, mode: Mode):
        super().__init__(thermostat)
        self.mode = mode


class NotInEco(CannotChange):
    """Eco off was asked while eco is not on: nothing to send."""


class FanAlreadyOff(CannotChange):
    """The fan was asked off while its timer is off: nothing to send."""


class NoFan(CannotChange):
    """The thermostat has no fan capability (no Fan trait, or one without a documented `timerMode`)."""


@dataclass(frozen=True)
class Change:
    """One SDM command and what it leaves, in the thermostat's own scale, to confirm.

    `setpoints` are the setpoints the thermostat will hold (one for heat or cool, two for
    heat-cool); `mode` the mode it will be in.
    """

    thermostat: Thermostat
    command: str
    params: Mapping[str, Any]
    mode: Mode
    setpoints: tuple[float, ...] = ()
    fan_seconds: int | None = None
    """Fan.SetTimer: how long the fan will run (0 when turned off); None for other commands."""
    capped: bool = False
    """The duration asked for was longer than SDM allows and was cut to FAN_MAX_S."""
    eco_off: bool = False
    """Eco was turned off: `mode` is the mode the thermostat returns to."""


class Action:
    """Something the user asked of one thermostat."""

    kind: ClassVar[str] = ""

    def plan(self, thermostat: Thermostat) -> Change:
        """The Change for `thermostat` as it is now; raises CannotChange when nothing should be sent."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.__dict__}

    def valid(self) -> bool:
        """Whether the fields (perhaps read back from a session) make sense."""
        return True


def _usable(thermostat: Thermostat) -> None:
    if not thermostat.reporting:
        raise NotReporting(thermostat)
    if not thermostat.capabilities.controls:
        raise NoControls(thermostat)
    if not thermostat.online:
        raise Offline(thermostat)


@dataclass(frozen=True)
class SetTemperature(Action):
    """Set `value` (in the thermostat's own scale) in its current mode, never changing the mode."""

    kind: ClassVar[str] = "set_temperature"
    value: float

    def valid(self) -> bool:
        return temperatures.finite(self.value) is not None

    def plan(self, thermostat: Thermostat) -> Change:
        """SetHeat, SetCool or SetRange (centred on the value, keeping the span) for the current mode.

        Raises TurnedOff, EcoOn, NoSetpoint (SDM refuses a setpoint while off or in eco, and the
        mode is the user's choice), OutOfRange, Offline, NotReporting.
        """
        _usable(thermostat)
        if thermostat.mode is Mode.OFF:
            raise TurnedOff(thermostat)
        if thermostat.mode is Mode.ECO:
            raise EcoOn(thermostat)
        if thermostat.mode is Mode.UNKNOWN:
            raise NoSetpoint(thermostat)
        scale = thermostat.scale
        target = temperatures.nest_round(self.value, scale)
        if not temperatures.within_limits(target, scale):
            raise OutOfRange(thermostat)
        if thermostat.mode in (Mode.HEAT, Mode.COOL):
            return _setpoint_change(thermostat, thermostat.mode, (target,))
        current = None
        if thermostat.heat_c is not None and thermostat.cool_c is not None:
            current = (thermostat.shown(thermostat.heat_c), thermostat.shown(thermostat.cool_c))
        return _setpoint_change(thermostat, Mode.HEATCOOL, temperatures.centred_range(target, current, scale))


def _setpoint_change(thermostat: Thermostat, mode: Mode, targets: tuple[float, ...]) -> Change:
    """The setpoint command for `mode` holding `targets` (own scale, already within limits)."""
    scale = thermostat.scale
    if mode is Mode.HEAT:
        return Change(
            thermostat,
            _SETPOINT + "SetHeat",
            {"heatCelsius": temperatures.setpoint_celsius(targets[0], scale)},
            mode,
            targets,
        )
    if mode is Mode.COOL:
        return Change(
            thermostat,
            _SETPOINT + "SetCool",
            {"coolCelsius": temperatures.setpoint_celsius(targets[0], scale)},
            mode,
            targets,
        )
    heat_c, cool_c = temperatures.range_celsius(targets[0], targets[1], scale)
    return Change(thermostat, _SETPOINT + "SetRange", {"heatCelsius": heat_c, "coolCelsius": cool_c}, mode, targets)


@dataclass(frozen=True)
class SetRange(Action):
    """Set the heat-cool range to `low`..`high` (own scale); an end left None keeps its current value."""

    kind: ClassVar[str] = "set_range"
    low: float | None = None
    high: float | None = None

    def valid(self) -> bool:
        values = [v for v in (self.low, self.high) if v is not None]
        return bool(values) and all(temperatures.finite(v) is not None for v in values)

    def plan(self, thermostat: Thermostat) -> Change:
        """SetRange in heat-cool. Raises TurnedOff, EcoOn, SingleSetpoint (heat or cool mode),
        NoSetpoint (an end left unsaid that SDM does not report), OutOfRange, RangeTooNarrow (under
        SDM's minimum gap, temperatures.min_span), Offline, NotReporting."""
        _usable(thermostat)
        if thermostat.mode is Mode.OFF:
            raise TurnedOff(thermostat)
        if thermostat.mode is Mode.ECO:
            raise EcoOn(thermostat)
        if thermostat.mode in (Mode.HEAT, Mode.COOL):
            raise SingleSetpoint(thermostat)
        if thermostat.mode is not Mode.HEATCOOL:
            raise NoSetpoint(thermostat)
        scale = thermostat.scale
        low_end = self.low if self.low is not None else thermostat.shown(thermostat.heat_c)
        high_end = self.high if self.high is not None else thermostat.shown(thermostat.cool_c)
        if low_end is None or high_end is None:
            raise NoSetpoint(thermostat)
        low, high = temperatures.nest_round(low_end, scale), temperatures.nest_round(high_end, scale)
        if not (temperatures.within_limits(low, scale) and temperatures.within_limits(high, scale)):
            raise OutOfRange(thermostat)
        if high - low < temperatures.min_span(scale):
            raise RangeTooNarrow(thermostat)
        return _setpoint_change(thermostat, Mode.HEATCOOL, (low, high))


@dataclass(frozen=True)
class SetMode(Action):
    """Switch to HEAT, COOL, HEATCOOL or OFF (`ThermostatMode.SetMode`), or to eco
    (`ThermostatEco.SetMode` MANUAL_ECO). `mode` is a Mode value ("HEAT", ..., "MANUAL_ECO")."""

    kind: ClassVar[str] = "set_mode"
    mode: str

    def valid(self) -> bool:
        return self.mode in {m.value for m in (*STANDARD_MODES, Mode.ECO)}

    def plan(self, thermostat: Thermostat) -> Change:
        """Raises AlreadyInMode (nothing to send), ModeUnavailable (not in availableModes), EcoOn (a
        standard mode asked while eco is on: eco must be turned off first), EcoWhileOff, Offline,
        NotReporting."""
        _usable(thermostat)
        wanted = Mode(self.mode)
        if thermostat.mode is wanted:
            raise AlreadyInMode(thermostat, wanted)
        if wanted is Mode.ECO:
            if not thermostat.can(Mode.ECO):
                raise ModeUnavailable(thermostat, wanted)
            if thermostat.mode is Mode.OFF:
                raise EcoWhileOff(thermostat)
            return Change(
                thermostat,
                _COMMAND + "ThermostatEco.SetMode",
                {"mode": "MANUAL_ECO"},
                Mode.ECO,
                tuple(
                    thermostat.shown(c)
                    for c in thermostat.usable_setpoints(thermostat.eco_heat_c, thermostat.eco_cool_c)
                    if c is not None
                ),
            )
        if not thermostat.can(wanted):
            raise ModeUnavailable(thermostat, wanted)
        if thermostat.mode is Mode.ECO:
            raise EcoOn(thermostat)
        return Change(thermostat, _COMMAND + "ThermostatMode.SetMode", {"mode": wanted.value}, wanted)


@dataclass(frozen=True)
class EcoOff(Action):
    """Leave eco (`ThermostatEco.SetMode` OFF): the thermostat returns to its last standard mode."""

    kind: ClassVar[str] = "eco_off"

    def plan(self, thermostat: Thermostat) -> Change:
        """Raises NotInEco when eco is not on, Offline, NotReporting."""
        _usable(thermostat)
        if thermostat.mode is not Mode.ECO:
            raise NotInEco(thermostat)
        return Change(
            thermostat, _COMMAND + "ThermostatEco.SetMode", {"mode": "OFF"}, thermostat.base_mode, eco_off=True
        )


@dataclass(frozen=True)
class Adjust(Action):
    """Warmer (`up`) or cooler by `amount` degrees of the thermostat's own scale (None: one degree).
    In heat or cool one setpoint moves; in heat-cool both ends move together."""

    kind: ClassVar[str] = "adjust"
    up: bool
    amount: float | None = None

    def valid(self) -> bool:
        amount = temperatures.finite(self.amount)
        return isinstance(self.up, bool) and (self.amount is None or (amount is not None and amount > 0))

    def plan(self, thermostat: Thermostat) -> Change:
        """Raises TurnedOff, EcoOn (nothing to move), NoSetpoint, BeyondLimit (a setpoint would pass
        50–90 °F / 10–32 °C: nothing is sent), Offline, NotReporting."""
        _usable(thermostat)
        if thermostat.mode is Mode.OFF:
            raise TurnedOff(thermostat)
        if thermostat.mode is Mode.ECO:
            raise EcoOn(thermostat)
        wanted = {
            Mode.HEAT: (thermostat.heat_c,),
            Mode.COOL: (thermostat.cool_c,),
            Mode.HEATCOOL: (thermostat.heat_c, thermostat.cool_c),
        }.get(thermostat.mode, ())
        current = tuple(thermostat.shown(c) for c in wanted if c is not None)
        if not wanted or len(current) < len(wanted):  # another mode, or a setpoint SDM does not report
            raise NoSetpoint(thermostat)
        scale = thermostat.scale
        step = ADJUST_STEP if self.amount is None else temperatures.nest_step(self.amount, scale)
        moved = tuple(temperatures.nest_round(c + (step if self.up else -step), scale) for c in current)
        low, high = temperatures.LIMITS[scale]
        if any(not temperatures.within_limits(value, scale) for value in moved):
            raise BeyondLimit(thermostat, high if self.up else low, current)
        return _setpoint_change(thermostat, thermostat.mode, moved)


@dataclass(frozen=True)
class Fan(Action):
    """Run the fan for `seconds` (None: FAN_DEFAULT_S; more than FAN_MAX_S is cut to it), or stop
    it (`on` False): `Fan.SetTimer` with `timerMode` ON and `duration` "Ns", or OFF."""

    kind: ClassVar[str] = "fan"
    on: bool
    seconds: int | None = None

    def valid(self) -> bool:
        return isinstance(self.on, bool) and (
            self.seconds is None
            or (isinstance(self.seconds, int) and not isinstance(self.seconds, bool) and self.seconds >= 1)
        )

    def plan(self, thermostat: Thermostat) -> Change:
        """Raises NoFan (no fan capability), FanAlreadyOff, Offline, NoControls, NotReporting."""
        _usable(thermostat)
        if thermostat.fan is None:
            raise NoFan(thermostat)
        if not self.on:
            if not thermostat.fan:
                raise FanAlreadyOff(thermostat)
            return Change(thermostat, _COMMAND + "Fan.SetTimer", {"timerMode": "OFF"}, thermostat.mode, fan_seconds=0)
        seconds = FAN_DEFAULT_S if self.seconds is None else self.seconds
        return Change(
            thermostat,
            _COMMAND + "Fan.SetTimer",
            {"timerMode": "ON", "duration": f"{min(seconds, FAN_MAX_S)}s"},
            thermostat.mode,
            fan_seconds=min(seconds, FAN_MAX_S),
            capped=seconds > FAN_MAX_S,
        )


_ACTIONS: dict[str, type[Action]] = {cls.kind: cls for cls in (SetTemperature, SetRange, SetMode, EcoOff, Adjust, Fan)}


def action_from_json(data: Any) -> Action | None:
    """The Action `to_json` wrote, or None for anything else (session attributes come from outside)."""
    if not isinstance(data, Mapping) or data.get("kind") not in _ACTIONS:
        return None
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        action = _ACTIONS[data["kind"]](**fields)
    except TypeError:
        return None
    return action if action.valid() else None
