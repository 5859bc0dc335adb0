"""The smart-home front door's module-level constants pinned by literal values (issue 16), for the survivors
of `python -m tests.mutation constants --service skill`: the longest SDM device id Alexa takes as is."""

from __future__ import annotations

from sandbox import alexa
from tests.skill.sdm import PROJECT, thermostat
from tests.smart_home.conftest import setup
from tests.smart_home.test_discovery import endpoints


def test_an_sdm_device_id_of_256_characters_is_the_endpoint_id_and_one_of_257_is_hashed(send, sdm_api):
    """Alexa's endpointId: at most 256 characters (alexa-discovery.html)."""
    longest, too_long = thermostat("hall", "Hallway"), thermostat("den", "Den")
    longest["name"] = f"enterprises/{PROJECT}/devices/" + "a" * 256
    too_long["name"] = f"enterprises/{PROJECT}/devices/" + "b" * 257
    setup(sdm_api, longest, too_long)
    found = endpoints(send(alexa.discover()))
    assert (found["Hallway"]["endpointId"], found["Den"]["endpointId"]) == (
        "a" * 256, "sdm:d666836d4bf11a526ed749bd2369556d2c5182f2419d98a62274a8dee82cda06")
