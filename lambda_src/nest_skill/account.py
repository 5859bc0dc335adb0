"""One linked user's Nest account for the length of one Alexa request: their thermostats (with
their homes' names when they have several homes), and carrying out an Action on fresh state."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from nest_skill.controls import Action, Change
from nest_skill.sdm_client import (
    Deadline,
    FailedPrecondition,
    InvalidResponse,
    NotFound,
    RateLimited,
    Rejected,
    SdmClient,
    Unavailable,
    UnknownCommand,
    Unreachable,
)
from nest_skill.thermostats import Thermostat, structure_names, thermostats_in

log = logging.getLogger(__name__)


class NestAccount:
    def __init__(self, sdm: SdmClient, token: str, deadline: Deadline):
        self._sdm = sdm
        self._token = token
        self._deadline = deadline

    @property
    def deadline(self) -> Deadline:
        return self._deadline

    def devices(self) -> list[dict[str, Any]]:
        """The user's SDM device list, cameras too: as thermostats() read it while the warm cache holds it,
        else read again within this request's deadline."""
        return self._sdm.list_devices(self._token, self._deadline)

    def thermostats(self) -> list[Thermostat]:
        """Every thermostat; each carries its home's name when they are in more than one structure
        (one more SDM call, `structures.list`, cached like the device list). When only that call
        fails (its own quota is 5 a minute), the thermostats come without home names."""
        thermostats = thermostats_in(self._sdm.list_devices(self._token, self._deadline))
        if len({t.structure for t in thermostats}) < 2:
            return thermostats
        try:
            homes = structure_names(self._sdm.list_structures(self._token, self._deadline))
        except (RateLimited, Unavailable, InvalidResponse, Unreachable, Rejected):
            return thermostats  # unnamed homes: a question then asks for "the first or the second"
        return [dataclasses.replace(t, home=homes.get(t.structure, "")) for t in thermostats]

    def carry_out(self, thermostat: Thermostat, action: Action) -> Change:
        """Plan `action` for `thermostat` and send it. When SDM refuses in a way stale state explains
        (FAILED_PRECONDITION, NOT_FOUND), read the device again (`devices.get`) and, if its fresh
        state calls for a different command, send that one, once, within the same deadline.

        Raises CannotChange (nothing sent; after a refusal, the fresh state's reason) or SdmError
        (the refusal itself when the fresh state gives no other command; NotFound when the device is
        gone). A NOT_FOUND for a device the fresh read finds is UnknownCommand, logged as an error
        naming the command: SDM documents 404 for an invalid command name too, so the device is not
        said to be removed.
        """
        change = action.plan(thermostat)
        try:
            self._send(change)
            return change
        except (FailedPrecondition, NotFound) as refusal:
            fresh = self.refresh(thermostat)
            retry = action.plan(fresh)
            if (retry.command, dict(retry.params)) == (change.command, dict(change.params)):
                if isinstance(refusal, NotFound):
                    unknown = UnknownCommand(refusal.operation, refusal.status, refusal.detail, refusal.reason)
                    # This project's command or its parameters, not the user's device: a maintainer must hear of it.
                    log.error(
                        "sdm command unknown",
                        extra={
                            "sdm_operation": unknown.operation,
                            "sdm_command": change.command,
                            "sdm_status": unknown.status,
                            "sdm_reason": unknown.reason,
                        },
                    )
                    raise unknown from None
                raise refusal
        self._send(retry)
        return retry

    def refresh(self, thermostat: Thermostat) -> Thermostat:
        """The thermostat as SDM has it now, keeping the home name already known."""
        fresh = Thermostat.from_sdm(self._sdm.get_device(self._token, thermostat.device_name, self._deadline))
        return dataclasses.replace(fresh, home=thermostat.home)

    def _send(self, change: Change) -> None:
        self._sdm.execute_command(
            self._token, change.thermostat.device_name, change.command, change.params, self._deadline
        )
