"""What an SDM failure means, decided once for both front doors: the custom skill turns a Failure
into speech (speech.failure), the smart-home door into an Alexa error type (smart_home/errors.py).

sdm_client sorts each answer by google.rpc status (its exception classes); here the class is read
together with what SDM documents beside it: the ErrorInfo `reason` (401, 403), the operation
(a 404 on a list is the project's enterprise, on a device the device; a 5xx on a command whether it
may have run), and, where SDM documents
nothing but text, the message (FAILED_PRECONDITION and INVALID_ARGUMENT on executeCommand).

Sources: developers.google.com/nest/device-access/reference/errors/api (the body, "Command not
allowed when thermostat in MANUAL_ECO mode.", "Command not allowed in current thermostat mode.");
the live API's wording reported in home-assistant/core#81388 and #88206 ("Device is offline." while
the device list says ONLINE), #88206 and #57584 ("<command> command not allowed in current
thermostat mode."), #70013 ("Temperature setpoint is out of range [...]"), #47009 ("Temperature
setpoint range is smaller than minimum 1.666700 ..."), #49095 and #106745 (429 RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

import re
from enum import Enum

from nest_skill.sdm_client import (
    EXECUTE_COMMAND,
    FailedPrecondition,
    NoAnswer,
    NotFound,
    PermissionDenied,
    ProjectUnavailable,
    RateLimited,
    Rejected,
    SdmError,
    ServerFailed,
    TimedOut,
    Unauthenticated,
    UnknownCommand,
)

# Google's ErrorInfo reason on a 401 for an access token past its lifetime.
EXPIRED_TOKEN_REASON = "ACCESS_TOKEN_EXPIRED"
DEVICE_OPERATIONS = frozenset({"devices.get", EXECUTE_COMMAND})
"""Operations on one device: their NOT_FOUND is that device's. A list's NOT_FOUND is the enterprise's."""


class Failure(Enum):
    """One kind of SDM failure, as both front doors need to know it."""

    OFFLINE = "offline"
    """FAILED_PRECONDITION "Device is offline.": the thermostat can't be reached, whatever the list said."""
    MODE_DISALLOWS = "mode disallows"
    """FAILED_PRECONDITION "... not allowed in current thermostat mode."."""
    ECO_DISALLOWS = "eco disallows"
    """FAILED_PRECONDITION "Command not allowed when thermostat in MANUAL_ECO mode."."""
    REFUSED = "refused"
    """Any other FAILED_PRECONDITION: the thermostat's state refused it, SDM's message names no cause we know."""
    OUT_OF_RANGE = "out of range"
    """INVALID_ARGUMENT "Temperature setpoint is out of range [...]"."""
    RANGE_TOO_NARROW = "range too narrow"
    """INVALID_ARGUMENT "Temperature setpoint range is smaller than minimum ..." (or cool not above heat)."""
    INVALID = "invalid"
    """Any other 4xx (INVALID_ARGUMENT about something else), or a command's 404 NOT_FOUND while the
    device is still there (a command SDM does not know): Nest did not accept the request."""
    RATE_LIMITED = "rate limited"
    """429 RESOURCE_EXHAUSTED: SDM's per-user, per-device quotas."""
    CREDENTIALS_EXPIRED = "credentials expired"
    """401 UNAUTHENTICATED with ErrorInfo reason ACCESS_TOKEN_EXPIRED."""
    CREDENTIALS_INVALID = "credentials invalid"
    """Any other 401: revoked, or not a token Google issued."""
    NOT_SHARED = "not shared"
    """403 PERMISSION_DENIED about the user's own grant (a device or scope not shared when linking)."""
    PROJECT_UNAVAILABLE = "project unavailable"
    """403 with a project ErrorInfo reason (SERVICE_DISABLED, ...), or 404 on a list (the enterprise)."""
    NOT_FOUND = "not found"
    """404 on one device that a fresh read does not find either: the device is gone."""
    TIMED_OUT = "timed out"
    """No answer before the request's deadline, and no command can have run."""
    UNCONFIRMED = "unconfirmed"
    """A command went out and its outcome is unknown: its answer never came, or SDM failed while
    carrying it out (500 INTERNAL or UNKNOWN, 504 DEADLINE_EXCEEDED): it may have been carried out."""
    UNAVAILABLE = "unavailable"
    """5xx (on a command, 503 UNAVAILABLE and those SDM does not document), no connection, a redirect,
    or a body that is not SDM's documented JSON."""

    @property
    def needs_linking(self) -> bool:
        """Linking the account again is what cures it (the custom skill sends the LinkAccount card)."""
        return self in (Failure.CREDENTIALS_EXPIRED, Failure.CREDENTIALS_INVALID, Failure.NOT_SHARED)


def classify(error: SdmError) -> Failure:
    """The one reading of an SDM failure."""
    if isinstance(error, NoAnswer):
        if error.command_may_have_run:
            return Failure.UNCONFIRMED
        return Failure.TIMED_OUT if isinstance(error, TimedOut) else Failure.UNAVAILABLE
    if isinstance(error, Unauthenticated):
        return Failure.CREDENTIALS_EXPIRED if error.reason == EXPIRED_TOKEN_REASON else Failure.CREDENTIALS_INVALID
    if isinstance(error, PermissionDenied):
        return Failure.NOT_SHARED
    if isinstance(error, ProjectUnavailable):
        return Failure.PROJECT_UNAVAILABLE
    if isinstance(error, RateLimited):
        return Failure.RATE_LIMITED
    if isinstance(error, NotFound):
        return Failure.NOT_FOUND if error.operation in DEVICE_OPERATIONS else Failure.PROJECT_UNAVAILABLE
    if isinstance(error, FailedPrecondition):
        return _precondition(error.detail)
    if isinstance(error, UnknownCommand):
        return Failure.INVALID
    if isinstance(error, Rejected):
        return _argument(error.detail)
    if isinstance(error, ServerFailed) and error.command_may_have_run:
        return Failure.UNCONFIRMED
    return Failure.UNAVAILABLE


def _words(message: str) -> set[str]:
    return set(re.split(r"[^A-Z]+", message.upper()))


def _precondition(message: str) -> Failure:
    """FAILED_PRECONDITION's cause, which SDM gives only in its message. A command's own name may
    appear in it ("sdm.devices.commands.Fan.SetTimer command not allowed in current thermostat
    mode."), so what is matched is the cause's wording, never a trait's name."""
    words = _words(message)
    if "OFFLINE" in words:
        return Failure.OFFLINE
    if ("MANUAL" in words and "ECO" in words) or re.search(r"\beco mode\b", message, re.IGNORECASE):
        return Failure.ECO_DISALLOWS
    if re.search(r"not allowed in (the )?current (thermostat )?mode", message, re.IGNORECASE):
        return Failure.MODE_DISALLOWS
    return Failure.REFUSED


def _argument(message: str) -> Failure:
    lowered = message.lower()
    if "range is smaller than minimum" in lowered or "must be greater than heat" in lowered:
        return Failure.RANGE_TOO_NARROW
    if "out of range" in lowered:
        return Failure.OUT_OF_RANGE
    return Failure.INVALID
