"""What a user can ask a thermostat to do, as SDM commands: front-door neutral (no speech, no
Alexa), so the custom skill and a smart-home front door share every rule.

An Action plans one Change for a thermostat's current state, or raises a CannotChange saying why
nothing should be sent. Actions round-trip through plain JSON (`to_json`/`action_from_json`) so a
conversation can keep a pending one in Alexa's session attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Mapping, Optional, Tuple, Type

from nest_skill import temperatures
from nest_skill.thermostats import Mode, Thermostat

_SETPOINT = "sdm.devices.commands.ThermostatTemperatureSetpoint."


class CannotChange(Exception):
    """Why nothing was sent: each case has its own answer, none is an error."""

    def __init__(self, thermostat: Thermostat):
        super().__init__(thermostat.name)
        self.thermostat = thermostat


class NotReporting(CannotChange):
    """SDM lists the thermostat without its traits (an outage): its state is unknown."""


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
    setpoints: Tuple[float, ...] = ()


class Action:
    """Something the user asked of one thermostat."""

    kind: ClassVar[str] = ""

    def plan(self, thermostat: Thermostat) -> Change:
        """The Change for `thermostat` as it is now; raises CannotChange when nothing should be sent."""
        raise NotImplementedError

    def to_json(self) -> Dict[str, Any]:
        return {"kind": self.kind, **self.__dict__}

    def valid(self) -> bool:
        """Whether the fields (perhaps read back from a session) make sense."""
        return True


def _usable(thermostat: Thermostat) -> None:
    if not thermostat.reporting:
        raise NotReporting(thermostat)
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
        if thermostat.mode is Mode.HEAT:
            return Change(thermostat, _SETPOINT + "SetHeat",
                          {"heatCelsius": temperatures.setpoint_celsius(target, scale)}, Mode.HEAT, (target,))
        if thermostat.mode is Mode.COOL:
            return Change(thermostat, _SETPOINT + "SetCool",
                          {"coolCelsius": temperatures.setpoint_celsius(target, scale)}, Mode.COOL, (target,))
        current = None
        if thermostat.heat_c is not None and thermostat.cool_c is not None:
            current = (thermostat.shown(thermostat.heat_c), thermostat.shown(thermostat.cool_c))
        low, high = temperatures.centred_range(target, current, scale)
        heat_c, cool_c = temperatures.range_celsius(low, high, scale)
        return Change(thermostat, _SETPOINT + "SetRange", {"heatCelsius": heat_c, "coolCelsius": cool_c},
                      Mode.HEATCOOL, (low, high))


_ACTIONS: Dict[str, Type[Action]] = {cls.kind: cls for cls in (SetTemperature,)}


def action_from_json(data: Any) -> Optional[Action]:
    """The Action `to_json` wrote, or None for anything else (session attributes come from outside)."""
    if not isinstance(data, Mapping) or data.get("kind") not in _ACTIONS:
        return None
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        action = _ACTIONS[data["kind"]](**fields)
    except TypeError:
        return None
    return action if action.valid() else None
