"""Alexa.Discovery: one endpoint per thermostat, described as Amazon documents it."""

from __future__ import annotations

import pytest

from sandbox import alexa
from tests.skill.conftest import LambdaContext
from tests.skill.sdm import (
    DEVICES_URL,
    PROJECT,
    STRUCTURES_URL,
    camera,
    command_url,
    device_list,
    error_body,
    structure,
    structure_list,
    thermostat,
)
from tests.smart_home.conftest import setup


def endpoints(reply):
    return {e["friendlyName"]: e for e in reply["event"]["payload"]["endpoints"]}


def capability(endpoint, interface):
    return next(c for c in endpoint["capabilities"] if c["interface"] == interface)


def test_each_thermostat_is_a_thermostat_endpoint_and_cameras_are_not(send, sdm_api):
    setup(sdm_api, thermostat("living", "Living Room"), thermostat("bed", "Bedroom", scale="CELSIUS"), camera())
    found = endpoints(send(alexa.discover()))
    assert set(found) == {"Living Room", "Bedroom"}
    living = found["Living Room"]
    assert living["endpointId"] == "living"
    assert living["displayCategories"] == ["THERMOSTAT"]
    assert living["manufacturerName"] == "Google Nest"
    assert [c["interface"] for c in living["capabilities"]] == [
        "Alexa",
        "Alexa.ThermostatController",
        "Alexa.TemperatureSensor",
        "Alexa.EndpointHealth",
    ]
    controller = capability(living, "Alexa.ThermostatController")
    assert controller["configuration"] == {
        "supportedModes": ["HEAT", "COOL", "AUTO", "OFF", "ECO"],
        "supportsScheduling": False,
    }
    assert [p["name"] for p in controller["properties"]["supported"]] == [
        "targetSetpoint",
        "lowerSetpoint",
        "upperSetpoint",
        "thermostatMode",
    ]
    for c in living["capabilities"][1:]:
        assert c["properties"]["retrievable"] is True and c["properties"]["proactivelyReported"] is False


def test_the_custom_name_is_the_friendly_name(send, sdm_api):
    setup(sdm_api, thermostat("hall", "Hallway", custom_name="Upstairs"))
    assert set(endpoints(send(alexa.discover()))) == {"Upstairs"}


def test_a_heat_only_thermostat_offers_heat_and_off_and_a_target_only(send, sdm_api):
    setup(sdm_api, thermostat("hall", "Hallway", available_modes=("HEAT", "OFF")))
    controller = capability(endpoints(send(alexa.discover()))["Hallway"], "Alexa.ThermostatController")
    assert controller["configuration"]["supportedModes"] == ["HEAT", "OFF", "ECO"]
    assert [p["name"] for p in controller["properties"]["supported"]] == ["targetSetpoint", "thermostatMode"]


def test_without_the_eco_trait_there_is_no_eco_mode(send, sdm_api):
    device = thermostat("hall", "Hallway")
    del device["traits"]["sdm.devices.traits.ThermostatEco"]
    setup(sdm_api, device)
    controller = capability(endpoints(send(alexa.discover()))["Hallway"], "Alexa.ThermostatController")
    assert "ECO" not in controller["configuration"]["supportedModes"]


@pytest.mark.parametrize(
    "custom_name, room, friendly",
    [
        ("Kids & Guests", "Den", "Kids Guests"),
        ("\U0001f525 Living Room \u2764\ufe0f", "Den", "Living Room"),
        ("Dad's Office", "Den", "Dad's Office"),
        ("Dad\u2019s Office", "Den", "Dad\u2019s Office"),
        ("Up-stairs", "Den", "Up-stairs"),
        ("B\u00fcro (oben) + Flur", "Den", "B\u00fcro oben Flur"),
        ("Room #2 \u2013 north", "Den", "Room 2 north"),
        ("1\ufe0f\u20e3 Floor", "Den", "1 Floor"),
        ("\u30ea\u30d3\u30f3\u30b0", "Den", "\u30ea\u30d3\u30f3\u30b0"),
        ("\U0001f525\U0001f525", "Den", "Den"),
        ("\U0001f44d\U0001f3fd", "\u2605", "thermostat"),
    ],
    ids=[
        "ampersand",
        "emoji",
        "apostrophe",
        "typographic-apostrophe",
        "hyphen",
        "brackets-plus",
        "hash-dash",
        "keycap",
        "japanese",
        "only-emoji-falls-back-to-room",
        "nothing-left",
    ],
)
def test_the_friendly_name_holds_letters_digits_spaces_apostrophes_and_hyphens(
    send, sdm_api, custom_name, room, friendly
):
    """Amazon's discovery objects: friendlyName is "alphanumeric characters and spaces"."""
    setup(sdm_api, thermostat("hall", room, custom_name=custom_name))
    [endpoint] = send(alexa.discover())["event"]["payload"]["endpoints"]
    assert endpoint["friendlyName"] == friendly


def test_speech_keeps_the_name_as_the_nest_app_shows_it(skill, sdm_api):
    """Only the friendlyName loses its symbols: the custom skill names the thermostat as the user wrote it."""
    setup(sdm_api, thermostat("hall", "Den", custom_name="Kids & Guests"))
    assert alexa.spoken(skill.lambda_handler(alexa.status(), None)).startswith("Kids & Guests is ")


def test_an_sdm_device_id_alexa_would_refuse_gets_a_stable_hashed_endpoint_id(send, sdm_api):
    odd = thermostat("hall", "Hallway")
    odd["name"] = f"enterprises/{PROJECT}/devices/" + "x" * 300
    setup(sdm_api, odd)
    first = endpoints(send(alexa.discover()))["Hallway"]["endpointId"]
    assert first.startswith("sdm:") and len(first) <= 256
    assert endpoints(send(alexa.discover()))["Hallway"]["endpointId"] == first


def test_no_thermostats_is_an_empty_list(send, sdm_api):
    setup(sdm_api, camera())
    assert send(alexa.discover())["event"]["payload"]["endpoints"] == []


def test_an_sdm_failure_during_discovery_is_an_empty_list_not_an_error(send, sdm_api):
    """Alexa.Discovery: "return an empty endpoint array and not an error"."""
    sdm_api.get(DEVICES_URL, status=401, json=error_body(401, "UNAUTHENTICATED", "Request had invalid credentials."))
    reply = send(alexa.discover())
    assert reply["event"]["header"]["name"] == "Discover.Response"
    assert reply["event"]["payload"]["endpoints"] == []


def silent(device):
    """`device` as SDM lists it during an outage: `"traits": {}`."""
    return {**device, "traits": {}}


def known_after(known, reply):
    """The endpoints Alexa knows after a Discover.Response: each one listed replaces the one of the same
    endpointId, capabilities and all; an empty list, what a skill answers when its device cloud fails
    (Alexa.Discovery: "return an empty endpoint array and not an error"), changes nothing."""
    return {**known, **{e["endpointId"]: e for e in reply["event"]["payload"]["endpoints"]}}


def test_discovery_during_an_outage_leaves_alexa_its_endpoints_and_control_resumes_when_it_ends(
    load_skill, sdm_api, caplog
):
    """Each discovery by a fresh container (whose device list is not cached). During the outage
    SDM lists the thermostat with no traits: described from that, it would have no
    ThermostatController until the next discovery."""
    living = thermostat("living", "Living Room")
    sdm_api.post(command_url("living"), json={})
    known = {}
    for listed in (living, silent(living)):
        sdm_api.upsert("GET", DEVICES_URL, json=device_list(listed))
        directive = alexa.discover()
        reply = load_skill().lambda_handler(directive, LambdaContext(7000))
        alexa.valid_smart_home(reply, directive)
        known = known_after(known, reply)
    assert [c["interface"] for c in known["living"]["capabilities"]] == [
        "Alexa",
        "Alexa.ThermostatController",
        "Alexa.TemperatureSensor",
        "Alexa.EndpointHealth",
    ]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "discovery deferred: thermostats not reporting"
    ]

    sdm_api.upsert("GET", DEVICES_URL, json=device_list(living))  # the outage ends
    directive = alexa.set_target("living", 70)
    reply = load_skill().lambda_handler(directive, LambdaContext(7000))
    alexa.valid_smart_home(reply, directive)
    assert (reply["event"]["header"]["name"], alexa.properties(reply)["targetSetpoint"]) == (
        "Response",
        alexa.degrees(70.0),
    )


def test_one_thermostat_not_reporting_defers_the_whole_discovery(send, sdm_api):
    """Listing the others and leaving the silent one out would say it is gone: no endpoint is
    described until every thermostat reports."""
    setup(sdm_api, thermostat("living", "Living Room"), silent(thermostat("bed", "Bedroom")))
    assert send(alexa.discover())["event"]["payload"]["endpoints"] == []


def test_the_home_is_named_when_thermostats_span_two_homes(send, sdm_api):
    setup(sdm_api, thermostat("a", "Living Room", structure="home"), thermostat("b", "Living Room", structure="lake"))
    sdm_api.get(STRUCTURES_URL, json=structure_list(structure("home", "Home"), structure("lake", "Lake House")))
    descriptions = sorted(e["description"] for e in send(alexa.discover())["event"]["payload"]["endpoints"])
    assert descriptions == [
        "Nest thermostat in Home (through Home Thermostat)",
        "Nest thermostat in Lake House (through Home Thermostat)",
    ]


def test_a_hostile_nest_name_is_discovered_readable_and_within_alexas_limits(send, sdm_api):
    """A 308-character custom name with NUL, BEL and a lone surrogate; a room named only with control
    characters; a 128-character home name (which the description must also fit)."""
    from sandbox.fake_devices import HOSTILE_NAME

    setup(
        sdm_api,
        thermostat("a", "Den", custom_name=HOSTILE_NAME, structure="home"),
        thermostat("b", "\x07\u2028", custom_name="\x00\x1b", structure="lake"),
    )
    sdm_api.get(STRUCTURES_URL, json=structure_list(structure("home", "Home"), structure("lake", "Lake " * 40)))
    found = {e["endpointId"]: e for e in send(alexa.discover())["event"]["payload"]["endpoints"]}
    assert found["a"]["friendlyName"] == "Den" + " Upstairs Den" * 9
    assert found["b"]["friendlyName"] == "thermostat"
    assert len(found["b"]["description"]) <= 128
    assert found["b"]["description"].startswith("Nest thermostat in Lake Lake")
    assert found["b"]["description"].endswith("(through Home Thermostat)")


THERMOSTAT = "Alexa.ThermostatController"


def controller(reply):
    [endpoint] = reply["event"]["payload"]["endpoints"]
    return endpoint, next(c for c in endpoint["capabilities"] if c["interface"] == THERMOSTAT)


def test_an_sdm_device_id_of_256_characters_is_the_endpoint_id_and_one_of_257_is_hashed(send, sdm_api):
    """Alexa's endpointId: at most 256 characters (alexa-discovery.html)."""
    longest, too_long = thermostat("hall", "Hallway"), thermostat("den", "Den")
    longest["name"] = f"enterprises/{PROJECT}/devices/" + "a" * 256
    too_long["name"] = f"enterprises/{PROJECT}/devices/" + "b" * 257
    setup(sdm_api, longest, too_long)
    found = endpoints(send(alexa.discover()))
    assert (found["Hallway"]["endpointId"], found["Den"]["endpointId"]) == (
        "a" * 256,
        "sdm:d666836d4bf11a526ed749bd2369556d2c5182f2419d98a62274a8dee82cda06",
    )


@pytest.mark.parametrize(
    "available, eco, modes, properties",
    [
        (("HEATCOOL", "OFF"), True, ["AUTO", "OFF", "ECO"], ["lowerSetpoint", "upperSetpoint", "thermostatMode"]),
        (("HEATCOOL", "OFF"), False, ["AUTO", "OFF"], ["lowerSetpoint", "upperSetpoint", "thermostatMode"]),
        (
            ("HEAT", "COOL"),
            True,
            ["HEAT", "COOL", "ECO"],
            ["targetSetpoint", "lowerSetpoint", "upperSetpoint", "thermostatMode"],
        ),
        (("HEAT", "COOL"), False, ["HEAT", "COOL"], ["targetSetpoint", "thermostatMode"]),
        (("COOL", "OFF"), True, ["COOL", "OFF", "ECO"], ["targetSetpoint", "thermostatMode"]),
        (("OFF",), True, ["OFF", "ECO"], ["thermostatMode"]),
    ],
)
def test_the_setpoints_discovery_declares_for_the_modes_a_thermostat_has(
    send, sdm_api, available, eco, modes, properties
):
    device = thermostat("living", "Living Room", available_modes=available)
    if not eco:
        del device["traits"]["sdm.devices.traits.ThermostatEco"]
    setup(sdm_api, device)
    endpoint, capability = controller(send(alexa.discover()))
    assert capability["configuration"]["supportedModes"] == modes
    assert [p["name"] for p in capability["properties"]["supported"]] == properties
    assert endpoint["description"] == "Nest thermostat (through Home Thermostat)"


def test_discovery_answers_with_the_correlation_token_it_was_given(send, sdm_api):
    setup(sdm_api, thermostat())
    directive = alexa.directive("Alexa.Discovery", "Discover", correlation_token="dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8")
    assert send(directive)["event"]["header"]["correlationToken"] == "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8"


@pytest.mark.parametrize("outage", ["sdm failing", "thermostat not reporting"])
def test_an_empty_discovery_answers_with_the_correlation_token_it_was_given(send, sdm_api, outage):
    if outage == "sdm failing":
        sdm_api.get(
            DEVICES_URL, status=401, json=error_body(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        )
    else:
        setup(sdm_api, silent(thermostat("living", "Living Room")))
    directive = alexa.directive("Alexa.Discovery", "Discover", correlation_token="dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8")
    reply = send(directive)
    assert reply["event"]["payload"]["endpoints"] == []
    assert reply["event"]["header"]["correlationToken"] == "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8"


def test_a_deferred_discovery_logs_how_many_thermostats_are_not_reporting(send, sdm_api, caplog):
    setup(sdm_api, thermostat("living", "Living Room"), silent(thermostat("a", "Den")), silent(thermostat("b", "Hall")))
    send(alexa.discover())
    [deferred] = [r for r in caplog.records if r.getMessage() == "discovery deferred: thermostats not reporting"]
    assert (deferred.levelname, deferred.not_reporting) == ("WARNING", 2)
