"""The fake SDM API's records: its thermostats (FakeThermostat), homes (FakeStructure) and the errors it
answers (FakeSdmError), with their state, documented JSON shape and command rules.

Every rule and message below comes from Google's Device Access docs or from errors users observed
on the real API: the fake must fail exactly where real Nest thermostats fail, or tests would pass
against a kinder API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

MODES = ("HEAT", "COOL", "HEATCOOL", "OFF")
ECO_MODES = ("MANUAL_ECO", "OFF")
SCALES = ("CELSIUS", "FAHRENHEIT")

# The bounds Google prints in its out-of-range error (50 °F and 90 °F), and the 3 °F minimum range.
MIN_SETPOINT_C = 10.0
MAX_SETPOINT_C = 32.222301
MIN_RANGE_C = 1.6667
# 3 °F is exactly 5/3 °C, a hair under 1.6667, and real thermostats accept it (70/73 °F works).
_RANGE_TOLERANCE_C = 1e-3

COMMAND_PREFIX = "sdm.devices.commands."
SET_HEAT = COMMAND_PREFIX + "ThermostatTemperatureSetpoint.SetHeat"
SET_COOL = COMMAND_PREFIX + "ThermostatTemperatureSetpoint.SetCool"
SET_RANGE = COMMAND_PREFIX + "ThermostatTemperatureSetpoint.SetRange"
SET_MODE = COMMAND_PREFIX + "ThermostatMode.SetMode"
SET_ECO = COMMAND_PREFIX + "ThermostatEco.SetMode"
SET_FAN_TIMER = COMMAND_PREFIX + "Fan.SetTimer"
# Fan.SetTimer's documented duration: "1s" to "43200s", default "900s".
FAN_MAX_SECONDS = 43200
FAN_DEFAULT_SECONDS = 900

DEFAULT_STRUCTURE_ID = "fake-structure-home"
_TRAIT = "sdm.devices.traits."


class FakeSdmError(Exception):
    """An SDM API error, rendered as Google's {"error": {"code", "message", "status", "details"}} body
    (google.rpc.Status; `details` only when Google sends some)."""

    def __init__(self, code: int, status: str, message: str, details: tuple = ()):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = list(self.details)
        return {"error": error}


def service_disabled(project_number: str) -> FakeSdmError:
    """What SDM answers every call when the Cloud project's SDM API is disabled (MatKlucznyk/GoogleNest#1):
    403 PERMISSION_DENIED with a Help link and an ErrorInfo whose reason is SERVICE_DISABLED."""
    url = (
        f"https://console.developers.google.com/apis/api/smartdevicemanagement.googleapis.com/overview"
        f"?project={project_number}"
    )
    return FakeSdmError(
        403,
        "PERMISSION_DENIED",
        f"Smart Device Management API has not been used in project {project_number} before or it is "
        f"disabled. Enable it by visiting {url} then retry. If you enabled this API recently, wait a "
        "few minutes for the action to propagate to our systems and retry.",
        (
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{"description": "Google developers console API activation", "url": url}],
            },
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {
                    "consumer": f"projects/{project_number}",
                    "service": "smartdevicemanagement.googleapis.com",
                },
            },
        ),
    )


REFUSALS: dict[str, tuple[int, str, str]] = {
    # name: (HTTP status, google.rpc status, message); "{scale}" is the device's temperatureScale.
    "offline": (400, "FAILED_PRECONDITION", "Device is offline."),
    "mode": (400, "FAILED_PRECONDITION", "Command not allowed in current thermostat mode."),
    "eco": (400, "FAILED_PRECONDITION", "Command not allowed when thermostat in MANUAL_ECO mode."),
    "precondition": (400, "FAILED_PRECONDITION", "Precondition check failed."),
    "out-of-range": (
        400,
        "INVALID_ARGUMENT",
        "Temperature setpoint is out of range [10.000000, 32.222301] in {scale}.",
    ),
    "range-too-narrow": (
        400,
        "INVALID_ARGUMENT",
        "Temperature setpoint range is smaller than minimum 1.666700 in {scale}.",
    ),
    "invalid": (400, "INVALID_ARGUMENT", "Contains invalid value."),
    "permission-denied": (403, "PERMISSION_DENIED", "The caller does not have permission"),
    "rate-limited": (429, "RESOURCE_EXHAUSTED", "Rate limited for the ExecuteDeviceCommand API for the user."),
    "internal": (500, "INTERNAL", "Internal error encountered."),
    "unknown": (500, "UNKNOWN", "Unknown error."),
    "deadline-exceeded": (504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
    "unavailable": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "unknown-command": (404, "NOT_FOUND", "No command provided."),
}
"""Answers the live API gave to executeCommand whatever the device's state said (home-assistant/core
#81388 and #88206: "Device is offline." while the device list says ONLINE; #88206 and the errors page:
the mode and eco refusals; #82172: "Precondition check failed."; #70013 and #47009: out of range and a
range too narrow; #49095 and #106745: the rate limit), and those Google's API documents for any call
(google.rpc.Code: 500 INTERNAL and UNKNOWN, 504 DEADLINE_EXCEEDED, 503 UNAVAILABLE; the errors page: 404
NOT_FOUND for an invalid command name, worded as this fake answers a command it does not know). A device
whose `refusal` names one answers every command with it: how the tests and the demo produce each kind of
SDM failure."""


@dataclass
class FakeStructure:
    """A home: `sdm.structures.traits.Info.customName` is the name the Google Home app shows."""

    structure_id: str
    name: str

    def to_sdm(self, project_id: str) -> dict:
        """The structure resource as GET enterprises/{p}/structures lists it."""
        return {
            "name": f"enterprises/{project_id}/structures/{self.structure_id}",
            "traits": {"sdm.structures.traits.Info": {"customName": self.name}},
        }


def fahrenheit_to_celsius(degrees_f: float) -> float:
    """Rounded to the 6 decimals Google prints in its messages, so fixtures read naturally."""
    return round((degrees_f - 32.0) * 5.0 / 9.0, 6)


def _invalid_value() -> FakeSdmError:
    return FakeSdmError(400, "INVALID_ARGUMENT", "Contains invalid value.")


def _number(params: dict, key: str) -> float:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _invalid_value()
    return float(value)


@dataclass
class FakeThermostat:
    """One thermostat. Both setpoints are kept in every mode, as the device remembers them;
    the JSON only shows the ones the current mode uses."""

    device_id: str
    room: str
    scale: str
    mode: str
    ambient_celsius: float
    humidity_percent: int
    heat_celsius: float
    cool_celsius: float
    eco_mode: str = "OFF"
    eco_heat_celsius: float = 15.5
    eco_cool_celsius: float = 26.5
    custom_name: str = ""
    online: bool = True
    structure_id: str = DEFAULT_STRUCTURE_ID
    reporting: bool = True
    """False: listed with `"traits": {}`, as Google does for a device whose traits it lost (an outage)."""
    available_modes: tuple = MODES
    has_fan: bool = False
    """With the Fan trait (a system whose fan Nest can run on its own)."""
    fan_until: float = 0.0
    """Wall-clock time (time.time()) the fan timer runs until; 0 when off."""
    eco_available_modes: tuple = ECO_MODES
    """`ThermostatEco.availableModes`: without MANUAL_ECO, eco cannot be turned on."""
    empty_traits: tuple = ()
    """Traits (short names, "Fan") listed as `{}`: SDM lists `"sdm.devices.traits.Fan": {}` for a
    thermostat without a fan (home-assistant/core's nest integration checks `timerMode` for this)."""
    listed_traits: tuple = ()
    """When set, only these traits (short names) are listed: ("Info", "Temperature", "Humidity") is
    a thermostat that reports a room temperature and nothing it can be commanded through."""
    refusal: str = ""
    """A REFUSALS name: every command is answered with it, whatever the listed state says."""

    def __post_init__(self) -> None:
        if (
            self.scale not in SCALES
            or self.mode not in self.available_modes
            or self.eco_mode not in ECO_MODES
            or not set(self.available_modes) <= set(MODES)
            or not set(self.eco_available_modes) <= set(ECO_MODES)
            or self.refusal not in ("", *REFUSALS)
        ):
            raise ValueError(
                f"invalid thermostat {self.device_id}: {self.scale}/{self.mode}/{self.eco_mode}/{self.refusal}"
            )

    @property
    def room_id(self) -> str:
        return "room-" + self.room.lower().replace(" ", "-")

    def name(self, project_id: str) -> str:
        return f"enterprises/{project_id}/devices/{self.device_id}"

    def hvac_status(self) -> str:
        """What the equipment does now, from the active setpoints and the room temperature."""
        heat: float | None
        cool: float | None
        if self.eco_mode == "MANUAL_ECO":
            heat, cool = self.eco_heat_celsius, self.eco_cool_celsius
        else:
            heat = self.heat_celsius if self.mode in ("HEAT", "HEATCOOL") else None
            cool = self.cool_celsius if self.mode in ("COOL", "HEATCOOL") else None
        if self.mode == "OFF":
            return "OFF"
        if heat is not None and self.ambient_celsius < heat:
            return "HEATING"
        if cool is not None and self.ambient_celsius > cool:
            return "COOLING"
        return "OFF"

    def setpoint_trait(self) -> dict:
        """Only the current mode's setpoints; none in OFF or MANUAL_ECO (documented)."""
        if self.eco_mode == "MANUAL_ECO" or self.mode == "OFF":
            return {}
        trait = {}
        if self.mode in ("HEAT", "HEATCOOL"):
            trait["heatCelsius"] = self.heat_celsius
        if self.mode in ("COOL", "HEATCOOL"):
            trait["coolCelsius"] = self.cool_celsius
        return trait

    def to_sdm(self, project_id: str) -> dict:
        """The device resource exactly as GET enterprises/{p}/devices/{d} returns it."""
        return {
            "name": self.name(project_id),
            "type": "sdm.devices.types.THERMOSTAT",
            "traits": self._traits() if self.reporting else {},
            "parentRelations": [
                {
                    "parent": f"enterprises/{project_id}/structures/{self.structure_id}/rooms/{self.room_id}",
                    "displayName": self.room,
                }
            ],
        }

    def _traits(self) -> dict:
        traits = self._thermostat_traits()
        if self.has_fan:
            traits[_TRAIT + "Fan"] = self.fan_trait()
        traits.update({_TRAIT + name: {} for name in self.empty_traits})
        if self.listed_traits:
            traits = {name: value for name, value in traits.items() if name[len(_TRAIT) :] in self.listed_traits}
        return traits

    def fan_trait(self) -> dict:
        """timerMode, and timerTimeout (RFC 3339) while the timer runs."""
        if self.fan_until <= time.time():
            return {"timerMode": "OFF"}
        until = datetime.fromtimestamp(self.fan_until, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"timerMode": "ON", "timerTimeout": until}

    def _thermostat_traits(self) -> dict:
        return {
            "sdm.devices.traits.Info": {"customName": self.custom_name},
            "sdm.devices.traits.Humidity": {"ambientHumidityPercent": self.humidity_percent},
            "sdm.devices.traits.Connectivity": {"status": "ONLINE" if self.online else "OFFLINE"},
            "sdm.devices.traits.ThermostatMode": {"mode": self.mode, "availableModes": list(self.available_modes)},
            "sdm.devices.traits.ThermostatEco": {
                "availableModes": list(self.eco_available_modes),
                "mode": self.eco_mode,
                "heatCelsius": self.eco_heat_celsius,
                "coolCelsius": self.eco_cool_celsius,
            },
            "sdm.devices.traits.ThermostatHvac": {"status": self.hvac_status()},
            "sdm.devices.traits.Settings": {"temperatureScale": self.scale},
            "sdm.devices.traits.ThermostatTemperatureSetpoint": self.setpoint_trait(),
            "sdm.devices.traits.Temperature": {"ambientTemperatureCelsius": self.ambient_celsius},
        }

    def execute(self, command: str, params: dict) -> None:
        """Apply one executeCommand, or raise the FakeSdmError the real API answers with."""
        handler = _HANDLERS.get(command)
        if handler is None:
            raise FakeSdmError(404, "NOT_FOUND", "No command provided.")
        if self.refusal:
            code, status, message = REFUSALS[self.refusal]
            raise FakeSdmError(code, status, message.format(scale=self.scale))
        trait = command[len(COMMAND_PREFIX) :].partition(".")[0]
        if (self.listed_traits and trait not in self.listed_traits) or trait in self.empty_traits:
            raise _invalid_value()  # a trait the device does not list; SDM documents no message for it
        if not self.online:
            raise FakeSdmError(400, "FAILED_PRECONDITION", "Device is offline.")
        if not isinstance(params, dict):
            raise _invalid_value()
        handler(self, command, params)

    def _check_setpoint_allowed(self, command: str, required_mode: str) -> None:
        if self.eco_mode == "MANUAL_ECO":
            raise FakeSdmError(400, "FAILED_PRECONDITION", "Command not allowed when thermostat in MANUAL_ECO mode.")
        if self.mode != required_mode:
            raise _not_allowed_in_mode(command)

    def _check_in_range(self, *values: float) -> None:
        if any(not MIN_SETPOINT_C <= value <= MAX_SETPOINT_C for value in values):
            raise FakeSdmError(
                400,
                "INVALID_ARGUMENT",
                f"Temperature setpoint is out of range [{MIN_SETPOINT_C:f}, {MAX_SETPOINT_C:f}] in {self.scale}.",
            )

    def _set_heat(self, command: str, params: dict) -> None:
        heat = _number(params, "heatCelsius")
        self._check_setpoint_allowed(command, "HEAT")
        self._check_in_range(heat)
        self.heat_celsius = heat

    def _set_cool(self, command: str, params: dict) -> None:
        cool = _number(params, "coolCelsius")
        self._check_setpoint_allowed(command, "COOL")
        self._check_in_range(cool)
        self.cool_celsius = cool

    def _set_range(self, command: str, params: dict) -> None:
        heat, cool = _number(params, "heatCelsius"), _number(params, "coolCelsius")
        self._check_setpoint_allowed(command, "HEATCOOL")
        self._check_in_range(heat, cool)
        if cool <= heat:
            raise FakeSdmError(400, "INVALID_ARGUMENT", "Cool value must be greater than heat value.")
        if cool - heat < MIN_RANGE_C - _RANGE_TOLERANCE_C:
            raise FakeSdmError(
                400,
                "INVALID_ARGUMENT",
                f"Temperature setpoint range is smaller than minimum {MIN_RANGE_C:f} in {self.scale}.",
            )
        self.heat_celsius, self.cool_celsius = heat, cool

    def _set_mode(self, command: str, params: dict) -> None:
        mode = params.get("mode")
        # A mode outside availableModes: SDM documents no error for it; the fake refuses it as an
        # invalid value rather than let a heat-only system "cool".
        if not isinstance(mode, str) or mode not in self.available_modes:
            raise _invalid_value()
        self.mode = mode

    def _set_fan_timer(self, command: str, params: dict) -> None:
        if not self.has_fan:
            raise FakeSdmError(400, "FAILED_PRECONDITION", "Thermostat fan unavailable.")
        timer_mode = params.get("timerMode")
        if timer_mode == "OFF":
            self.fan_until = 0.0
            return
        duration = params.get("duration", f"{FAN_DEFAULT_SECONDS}s")
        seconds = _seconds(duration)
        if timer_mode != "ON" or seconds is None or not 1 <= seconds <= FAN_MAX_SECONDS:
            raise _invalid_value()
        self.fan_until = time.time() + seconds

    def _set_eco(self, command: str, params: dict) -> None:
        mode = params.get("mode")
        if not isinstance(mode, str) or mode not in self.eco_available_modes:
            raise _invalid_value()
        # Documented: eco cannot change while the thermostat is OFF. Observed (home-assistant/core
        # #75438, #80929): asking for the eco mode already in force is refused the same way.
        if self.mode == "OFF" or mode == self.eco_mode:
            raise _not_allowed_in_mode(command)
        self.eco_mode = mode


def _not_allowed_in_mode(command: str) -> FakeSdmError:
    # The wording the live API returns (home-assistant/core#88206, #80693); the errors page
    # abbreviates it to "Command not allowed in current thermostat mode."
    return FakeSdmError(400, "FAILED_PRECONDITION", f"{command} command not allowed in current thermostat mode.")


_HANDLERS = {
    SET_HEAT: FakeThermostat._set_heat,
    SET_COOL: FakeThermostat._set_cool,
    SET_RANGE: FakeThermostat._set_range,
    SET_MODE: FakeThermostat._set_mode,
    SET_ECO: FakeThermostat._set_eco,
    SET_FAN_TIMER: FakeThermostat._set_fan_timer,
}


def _seconds(duration: object) -> int | None:
    """A google.protobuf.Duration in JSON ("3600s") as whole seconds, else None."""
    if not isinstance(duration, str) or not duration.endswith("s") or not duration[:-1].isdigit():
        return None
    return int(duration[:-1])


def default_devices() -> list[FakeThermostat]:
    """Five thermostats: one per mode (HEAT, COOL, HEATCOOL, OFF, and HEAT under MANUAL_ECO), both
    scales; the Living Room has a fan, the Guest Room is heat-only."""
    return [
        FakeThermostat(
            "living-room-thermostat",
            "Living Room",
            "CELSIUS",
            "HEAT",
            ambient_celsius=19.5,
            humidity_percent=45,
            heat_celsius=21.0,
            cool_celsius=25.0,
            has_fan=True,
        ),
        FakeThermostat(
            "bedroom-thermostat",
            "Bedroom",
            "FAHRENHEIT",
            "COOL",
            ambient_celsius=fahrenheit_to_celsius(77),
            humidity_percent=52,
            heat_celsius=fahrenheit_to_celsius(66),
            cool_celsius=fahrenheit_to_celsius(74),
        ),
        FakeThermostat(
            "kitchen-thermostat",
            "Kitchen",
            "FAHRENHEIT",
            "HEATCOOL",
            ambient_celsius=fahrenheit_to_celsius(71),
            humidity_percent=40,
            heat_celsius=fahrenheit_to_celsius(68),
            cool_celsius=fahrenheit_to_celsius(76),
        ),
        FakeThermostat(
            "guest-room-thermostat",
            "Guest Room",
            "CELSIUS",
            "OFF",
            ambient_celsius=17.0,
            humidity_percent=48,
            heat_celsius=19.0,
            cool_celsius=24.0,
            available_modes=("HEAT", "OFF"),
        ),
        FakeThermostat(
            "office-thermostat",
            "Office",
            "CELSIUS",
            "HEAT",
            eco_mode="MANUAL_ECO",
            ambient_celsius=16.0,
            humidity_percent=43,
            heat_celsius=20.0,
            cool_celsius=24.5,
            eco_heat_celsius=15.0,
            eco_cool_celsius=27.0,
        ),
    ]


def default_structures() -> list[FakeStructure]:
    return [FakeStructure(DEFAULT_STRUCTURE_ID, "Home")]


LAKE_HOUSE_STRUCTURE_ID = "fake-structure-lake-house"


def _two_homes() -> tuple[list[FakeThermostat], list[FakeStructure]]:
    """The default home plus a Lake House whose Living Room is heat-only and in eco: the same room
    name in two homes, and eco setpoints of which only the heat one is usable."""
    lake = FakeThermostat(
        "lake-living-room-thermostat",
        "Living Room",
        "FAHRENHEIT",
        "HEAT",
        eco_mode="MANUAL_ECO",
        ambient_celsius=fahrenheit_to_celsius(58),
        humidity_percent=55,
        heat_celsius=fahrenheit_to_celsius(66),
        cool_celsius=fahrenheit_to_celsius(78),
        eco_heat_celsius=15.5,
        eco_cool_celsius=29.0,
        available_modes=("HEAT", "OFF"),
        structure_id=LAKE_HOUSE_STRUCTURE_ID,
    )
    return [*default_devices(), lake], [*default_structures(), FakeStructure(LAKE_HOUSE_STRUCTURE_ID, "Lake House")]


def _outage() -> tuple[list[FakeThermostat], list[FakeStructure]]:
    """Google has dropped the Kitchen's traits: it is listed with `"traits": {}`."""
    devices = default_devices()
    next(d for d in devices if d.device_id == "kitchen-thermostat").reporting = False
    return devices, default_structures()


def _changed(device_id: str, **changes: Any) -> tuple[list[FakeThermostat], list[FakeStructure]]:
    devices = [replace(d, **changes) if d.device_id == device_id else d for d in default_devices()]
    return devices, default_structures()


def _sensor_only() -> tuple[list[FakeThermostat], list[FakeStructure]]:
    """A sixth thermostat, the Hallway, listing only Info, Temperature and Humidity: it reports a room
    temperature and takes no command."""
    hallway = FakeThermostat(
        "hallway-thermostat",
        "Hallway",
        "FAHRENHEIT",
        "HEAT",
        ambient_celsius=fahrenheit_to_celsius(68),
        humidity_percent=38,
        heat_celsius=fahrenheit_to_celsius(66),
        cool_celsius=fahrenheit_to_celsius(76),
        listed_traits=("Info", "Temperature", "Humidity"),
    )
    return [*default_devices(), hallway], default_structures()


HOSTILE_NAME = "Den\x00\x07\ud800 " + "Upstairs Den " * 23 + "Up"
"""A custom name of 308 characters holding NUL, BEL and a lone surrogate, as the Nest app lets through."""


def _hostile_names() -> tuple[list[FakeThermostat], list[FakeStructure]]:
    """The Office is custom-named HOSTILE_NAME; the Guest Room's custom name and its room's name are
    nothing but control and format characters; the home's name holds a line break and a bidi override."""
    devices = default_devices()
    next(d for d in devices if d.device_id == "office-thermostat").custom_name = HOSTILE_NAME
    guest = next(d for d in devices if d.device_id == "guest-room-thermostat")
    guest.custom_name, guest.room = "\x00\x1b\u200b", "\x07\u2028"
    return devices, [FakeStructure(DEFAULT_STRUCTURE_ID, "Home\n\u202eemoH")]


SCENARIOS = {
    "default": lambda: (default_devices(), default_structures()),
    "two-homes": _two_homes,
    "outage": _outage,
    "hostile-names": _hostile_names,
    # The Living Room is listed ONLINE and answers every command "Device is offline." (FAILED_PRECONDITION).
    "offline-on-command": lambda: _changed("living-room-thermostat", refusal="offline"),
    # The Bedroom (no fan) lists "sdm.devices.traits.Fan": {}.
    "empty-fan-trait": lambda: _changed("bedroom-thermostat", empty_traits=("Fan",)),
    # The Kitchen's ThermostatEco lists availableModes ["OFF"]: eco cannot be turned on.
    "no-manual-eco": lambda: _changed("kitchen-thermostat", eco_available_modes=("OFF",)),
    "sensor-only": _sensor_only,
}
"""Device sets the fake switches to by name (FakeGoogle.use_scenario, POST /__fake/scenario/{name}).
Any other kind of SDM failure on a command: a device's `refusal` (REFUSALS), set with update_device."""
