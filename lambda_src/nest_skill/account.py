"""One linked user's Nest account for the length of one Alexa request."""

from __future__ import annotations

from typing import List

from nest_skill.sdm_client import Deadline, SdmClient
from nest_skill.thermostats import SetpointChange, Thermostat, thermostats_in


class NestAccount:
    def __init__(self, sdm: SdmClient, token: str, deadline: Deadline):
        self._sdm = sdm
        self._token = token
        self._deadline = deadline

    def thermostats(self) -> List[Thermostat]:
        return thermostats_in(self._sdm.list_devices(self._token, self._deadline))

    def apply(self, change: SetpointChange) -> None:
        self._sdm.execute_command(self._token, change.thermostat.device_name, change.command, change.params,
                                  self._deadline)
