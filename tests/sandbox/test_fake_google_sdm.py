"""The fake SDM API: documented device JSON, commands that change state, and Google's errors."""

from __future__ import annotations

import re
import time

import pytest
import requests

from sandbox.fake_devices import FakeThermostat, fahrenheit_to_celsius
from sandbox.fake_google import FakeGoogle, TricklingFront
from sandbox.serving import in_background, running
from tests.sandbox.google_fixture import CLIENT_ID, CLIENT_SECRET, PROJECT, REDIRECT, Client

SETPOINT = "sdm.devices.traits.ThermostatTemperatureSetpoint"
UNAUTHENTICATED = {
    "error": {
        "code": 401,
        "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
        "other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "status": "UNAUTHENTICATED",
    }
}


def error(code: int, status: str, message: str) -> dict:
    return {"error": {"code": code, "message": message, "status": status}}


def traits(client: Client, token: str, device_id: str) -> dict:
    response = client.sdm("GET", f"devices/{device_id}", token)
    assert response.status_code == 200, response.text
    return response.json()["traits"]


def test_list_returns_every_thermostat_in_the_documented_shape(client, token):
    response = client.sdm("GET", "devices", token)

    assert response.status_code == 200
    devices = response.json()["devices"]
    assert [device["parentRelations"][0]["displayName"] for device in devices] == [
        "Living Room",
        "Bedroom",
        "Kitchen",
        "Guest Room",
        "Office",
    ]
    living_room = devices[0]
    assert living_room == {
        "name": f"enterprises/{PROJECT}/devices/living-room-thermostat",
        "type": "sdm.devices.types.THERMOSTAT",
        "traits": {
            "sdm.devices.traits.Info": {"customName": ""},
            "sdm.devices.traits.Humidity": {"ambientHumidityPercent": 45},
            "sdm.devices.traits.Connectivity": {"status": "ONLINE"},
            "sdm.devices.traits.Fan": {"timerMode": "OFF"},
            "sdm.devices.traits.ThermostatMode": {
                "mode": "HEAT",
                "availableModes": ["HEAT", "COOL", "HEATCOOL", "OFF"],
            },
            "sdm.devices.traits.ThermostatEco": {
                "availableModes": ["MANUAL_ECO", "OFF"],
                "mode": "OFF",
                "heatCelsius": 15.5,
                "coolCelsius": 26.5,
            },
            "sdm.devices.traits.ThermostatHvac": {"status": "HEATING"},
            "sdm.devices.traits.Settings": {"temperatureScale": "CELSIUS"},
            SETPOINT: {"heatCelsius": 21.0},
            "sdm.devices.traits.Temperature": {"ambientTemperatureCelsius": 19.5},
        },
        "parentRelations": [
            {
                "parent": f"enterprises/{PROJECT}/structures/fake-structure-home/rooms/room-living-room",
                "displayName": "Living Room",
            }
        ],
    }


def test_defaults_cover_both_scales_and_every_mode_with_only_the_current_modes_setpoints(client, token):
    devices = {
        device["parentRelations"][0]["displayName"]: device["traits"]
        for device in client.sdm("GET", "devices", token).json()["devices"]
    }

    summary = {
        room: (
            t["sdm.devices.traits.Settings"]["temperatureScale"],
            t["sdm.devices.traits.ThermostatMode"]["mode"],
            t["sdm.devices.traits.ThermostatEco"]["mode"],
            sorted(t[SETPOINT]),
        )
        for room, t in devices.items()
    }
    assert summary == {
        "Living Room": ("CELSIUS", "HEAT", "OFF", ["heatCelsius"]),
        "Bedroom": ("FAHRENHEIT", "COOL", "OFF", ["coolCelsius"]),
        "Kitchen": ("FAHRENHEIT", "HEATCOOL", "OFF", ["coolCelsius", "heatCelsius"]),
        "Guest Room": ("CELSIUS", "OFF", "OFF", []),
        "Office": ("CELSIUS", "HEAT", "MANUAL_ECO", []),
    }


def test_get_one_device(client, token):
    response = client.sdm("GET", "devices/kitchen-thermostat", token)

    assert response.status_code == 200
    assert response.json()["traits"][SETPOINT] == {"heatCelsius": 20.0, "coolCelsius": fahrenheit_to_celsius(76)}


def test_unknown_device_is_not_found(client, token):
    for method, path in (("GET", "devices/nope"), ("POST", "devices/nope:executeCommand")):
        response = client.sdm(method, path, token, json={"command": "x"})
        assert response.status_code == 404
        assert response.json() == error(404, "NOT_FOUND", f"Device enterprises/{PROJECT}/devices/nope not found.")


def test_another_project_is_not_found(client, token):
    response = client.http.get(
        f"{client.base_url}/v1/enterprises/other-project/devices",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )

    assert response.status_code == 404
    assert response.json() == error(404, "NOT_FOUND", "Enterprise enterprises/other-project not found.")


@pytest.mark.parametrize("authorization", [None, "Bearer fake-access-never-issued", "Basic Zm9vOmJhcg=="])
def test_missing_or_unknown_bearer_token_is_unauthenticated(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    for method, path in (
        ("GET", "devices"),
        ("GET", "devices/living-room-thermostat"),
        ("POST", "devices/living-room-thermostat:executeCommand"),
    ):
        response = client.http.request(
            method, f"{client.base_url}/v1/enterprises/{PROJECT}/{path}", headers=headers, timeout=5
        )
        assert response.status_code == 401
        assert response.json() == UNAUTHENTICATED


def test_set_heat_changes_the_setpoint_and_what_the_heating_does(client, token):
    response = client.command(
        token, "living-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=18.5
    )

    assert response.status_code == 200 and response.json() == {}
    after = traits(client, token, "living-room-thermostat")
    assert after[SETPOINT] == {"heatCelsius": 18.5}
    assert after["sdm.devices.traits.ThermostatHvac"] == {"status": "OFF"}


def test_set_cool_in_cool_mode(client, token):
    cool = fahrenheit_to_celsius(72)

    assert (
        client.command(
            token, "bedroom-thermostat", "ThermostatTemperatureSetpoint.SetCool", coolCelsius=cool
        ).status_code
        == 200
    )

    assert traits(client, token, "bedroom-thermostat")[SETPOINT] == {"coolCelsius": cool}


def test_set_range_in_heatcool_accepts_exactly_three_fahrenheit_degrees(client, token):
    heat, cool = fahrenheit_to_celsius(70), fahrenheit_to_celsius(73)

    response = client.command(
        token, "kitchen-thermostat", "ThermostatTemperatureSetpoint.SetRange", heatCelsius=heat, coolCelsius=cool
    )

    assert response.status_code == 200
    assert traits(client, token, "kitchen-thermostat")[SETPOINT] == {"heatCelsius": heat, "coolCelsius": cool}


@pytest.mark.parametrize(
    "device_id, command, params",
    [
        ("living-room-thermostat", "ThermostatTemperatureSetpoint.SetCool", {"coolCelsius": 24.0}),
        ("bedroom-thermostat", "ThermostatTemperatureSetpoint.SetHeat", {"heatCelsius": 20.0}),
        (
            "living-room-thermostat",
            "ThermostatTemperatureSetpoint.SetRange",
            {"heatCelsius": 19.0, "coolCelsius": 24.0},
        ),
        ("guest-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", {"heatCelsius": 20.0}),
    ],
)
def test_setpoint_command_for_another_mode_is_a_failed_precondition(client, token, device_id, command, params):
    response = client.command(token, device_id, command, **params)

    assert response.status_code == 400
    assert response.json() == error(
        400, "FAILED_PRECONDITION", f"sdm.devices.commands.{command} command not allowed in current thermostat mode."
    )


def test_setpoint_command_in_manual_eco_is_refused(client, token):
    response = client.command(token, "office-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=21.0)

    assert response.status_code == 400
    assert response.json() == error(
        400, "FAILED_PRECONDITION", "Command not allowed when thermostat in MANUAL_ECO mode."
    )


@pytest.mark.parametrize("heat", [9.5, 32.5])
def test_setpoint_out_of_range_is_refused_and_names_the_devices_scale(client, token, heat):
    response = client.command(
        token, "living-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=heat
    )

    assert response.status_code == 400
    assert response.json() == error(
        400, "INVALID_ARGUMENT", "Temperature setpoint is out of range [10.000000, 32.222301] in CELSIUS."
    )
    assert traits(client, token, "living-room-thermostat")[SETPOINT] == {"heatCelsius": 21.0}


def test_fahrenheit_limits_50_and_90_are_accepted_and_91_is_not(client, token):
    for degrees_f, status in ((50, 200), (90, 200), (91, 400)):
        response = client.command(
            token,
            "bedroom-thermostat",
            "ThermostatTemperatureSetpoint.SetCool",
            coolCelsius=fahrenheit_to_celsius(degrees_f),
        )
        assert response.status_code == status, degrees_f
    assert "in FAHRENHEIT." in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "heat_f, cool_f, message",
    [
        (70, 72, "Temperature setpoint range is smaller than minimum 1.666700 in FAHRENHEIT."),
        (72, 70, "Cool value must be greater than heat value."),
    ],
)
def test_set_range_rejects_a_narrow_or_inverted_range(client, token, heat_f, cool_f, message):
    response = client.command(
        token,
        "kitchen-thermostat",
        "ThermostatTemperatureSetpoint.SetRange",
        heatCelsius=fahrenheit_to_celsius(heat_f),
        coolCelsius=fahrenheit_to_celsius(cool_f),
    )

    assert response.status_code == 400
    assert response.json() == error(400, "INVALID_ARGUMENT", message)


@pytest.mark.parametrize("params", [{}, {"heatCelsius": "warm"}, {"heatCelsius": True}])
def test_missing_or_non_numeric_setpoint_is_an_invalid_argument(client, token, params):
    response = client.command(token, "living-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", **params)

    assert response.status_code == 400
    assert response.json() == error(400, "INVALID_ARGUMENT", "Contains invalid value.")


def test_set_mode_switches_mode_and_the_setpoints_shown(client, token):
    assert client.command(token, "guest-room-thermostat", "ThermostatMode.SetMode", mode="HEAT").status_code == 200

    after = traits(client, token, "guest-room-thermostat")
    assert after["sdm.devices.traits.ThermostatMode"]["mode"] == "HEAT"
    assert after[SETPOINT] == {"heatCelsius": 19.0}
    assert after["sdm.devices.traits.ThermostatHvac"] == {"status": "HEATING"}

    assert client.command(token, "guest-room-thermostat", "ThermostatMode.SetMode", mode="OFF").status_code == 200
    assert traits(client, token, "guest-room-thermostat")[SETPOINT] == {}


def test_set_mode_rejects_an_unknown_mode(client, token):
    response = client.command(token, "guest-room-thermostat", "ThermostatMode.SetMode", mode="ECO")

    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_eco_off_restores_the_setpoints_and_eco_on_hides_them(client, token):
    assert client.command(token, "office-thermostat", "ThermostatEco.SetMode", mode="OFF").status_code == 200
    assert traits(client, token, "office-thermostat")[SETPOINT] == {"heatCelsius": 20.0}

    assert client.command(token, "office-thermostat", "ThermostatEco.SetMode", mode="MANUAL_ECO").status_code == 200
    after = traits(client, token, "office-thermostat")
    assert after[SETPOINT] == {}
    assert after["sdm.devices.traits.ThermostatEco"]["mode"] == "MANUAL_ECO"


@pytest.mark.parametrize("device_id", ["guest-room-thermostat", "office-thermostat"])
def test_eco_on_refused_when_thermostat_off_or_already_in_eco(client, token, device_id):
    response = client.command(token, device_id, "ThermostatEco.SetMode", mode="MANUAL_ECO")

    assert response.status_code == 400
    assert response.json() == error(
        400,
        "FAILED_PRECONDITION",
        "sdm.devices.commands.ThermostatEco.SetMode command not allowed in current thermostat mode.",
    )


@pytest.mark.parametrize("body", [{"command": "sdm.devices.commands.Fan.Explode", "params": {}}, {"params": {}}])
def test_unknown_or_missing_command_is_not_found(client, token, body):
    response = client.sdm("POST", "devices/living-room-thermostat:executeCommand", token, json=body)

    assert response.status_code == 404
    assert response.json() == error(404, "NOT_FOUND", "No command provided.")


def test_malformed_json_body_is_an_invalid_argument(client, token):
    response = client.sdm("POST", "devices/living-room-thermostat:executeCommand", token, data=b"{not json")

    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_offline_device_is_listed_as_offline_and_refuses_commands(fake, client, token):
    fake.set_online("living-room-thermostat", False)

    assert traits(client, token, "living-room-thermostat")["sdm.devices.traits.Connectivity"] == {"status": "OFFLINE"}
    response = client.command(
        token, "living-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=20.0
    )
    assert response.status_code == 400
    assert response.json() == error(400, "FAILED_PRECONDITION", "Device is offline.")


def test_sixth_command_in_a_minute_on_one_device_is_rate_limited(client, clock, token):
    def set_heat(device_id: str = "living-room-thermostat"):
        return client.command(token, device_id, "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=20.0)

    assert [set_heat().status_code for _ in range(5)] == [200] * 5
    limited = set_heat()
    assert limited.status_code == 429
    assert limited.json() == error(
        429, "RESOURCE_EXHAUSTED", "Rate limited for the ExecuteDeviceCommand API for the user."
    )
    assert client.command(token, "bedroom-thermostat", "ThermostatMode.SetMode", mode="HEAT").status_code == 200

    clock.advance(60)
    assert set_heat().status_code == 200


def test_rate_limit_is_configurable(clock):
    fake = FakeGoogle(PROJECT, CLIENT_ID, CLIENT_SECRET, [REDIRECT], command_limits=[(2, 10.0)], clock=clock)
    token = fake.grant_access_token()
    with running(fake) as url, requests.Session() as session:
        client = Client(session, url)
        statuses = [
            client.command(token, "guest-room-thermostat", "ThermostatMode.SetMode", mode="HEAT").status_code
            for _ in range(3)
        ]
    assert statuses == [200, 200, 429]


def test_replace_devices(fake, client, token):
    fake.replace_devices(
        [
            FakeThermostat(
                "hall",
                "Hallway",
                "CELSIUS",
                "COOL",
                ambient_celsius=26.0,
                humidity_percent=50,
                heat_celsius=18.0,
                cool_celsius=24.0,
            )
        ]
    )

    devices = client.sdm("GET", "devices", token).json()["devices"]

    assert [device["name"] for device in devices] == [f"enterprises/{PROJECT}/devices/hall"]
    assert devices[0]["traits"]["sdm.devices.traits.ThermostatHvac"] == {"status": "COOLING"}


def test_counts_per_route_are_kept_and_served(fake, client, token):
    client.sdm("GET", "devices", token)
    client.sdm("GET", "devices/kitchen-thermostat", token)
    client.command(token, "guest-room-thermostat", "ThermostatMode.SetMode", mode="COOL")

    stats = client.http.get(f"{client.base_url}/__fake/stats", timeout=5).json()

    expected = {"devices.list": 1, "devices.get": 1, "devices.executeCommand": 1}
    assert stats == {"counts": expected} == fake.stats()
    assert client.http.get(f"{client.base_url}/__fake/health", timeout=5).json() == {"status": "ok"}


def test_unknown_path_and_wrong_method(client, token):
    assert client.http.get(f"{client.base_url}/v2/whatever", timeout=5).status_code == 404
    assert client.sdm("DELETE", "devices", token).status_code == 405


# --- situations the skill must survive: homes, outages, a disabled API, changes in the app -----------


def test_structures_are_listed_with_their_names(fake, client, token):
    assert client.sdm("GET", "structures", token).json() == {
        "structures": [
            {
                "name": f"enterprises/{PROJECT}/structures/fake-structure-home",
                "traits": {"sdm.structures.traits.Info": {"customName": "Home"}},
            }
        ]
    }
    fake.use_scenario("two-homes")
    names = [
        s["traits"]["sdm.structures.traits.Info"]["customName"]
        for s in client.sdm("GET", "structures", token).json()["structures"]
    ]
    assert names == ["Home", "Lake House"]
    assert fake.stats()["counts"]["structures.list"] == 2


def test_two_homes_each_have_a_living_room_and_the_lake_house_one_is_heat_only_in_eco(fake, client, token):
    fake.use_scenario("two-homes")
    living = [
        d
        for d in client.sdm("GET", "devices", token).json()["devices"]
        if d["parentRelations"][0]["displayName"] == "Living Room"
    ]
    assert [d["parentRelations"][0]["parent"].split("/rooms/")[0].rsplit("/", 1)[-1] for d in living] == [
        "fake-structure-home",
        "fake-structure-lake-house",
    ]
    lake = living[1]["traits"]
    assert lake["sdm.devices.traits.ThermostatMode"]["availableModes"] == ["HEAT", "OFF"]
    assert lake["sdm.devices.traits.ThermostatEco"]["mode"] == "MANUAL_ECO"
    assert (
        lake["sdm.devices.traits.ThermostatEco"]["heatCelsius"],
        lake["sdm.devices.traits.ThermostatEco"]["coolCelsius"],
    ) == (15.5, 29.0)


def test_an_outage_lists_a_thermostat_with_empty_traits(fake, client, token):
    fake.use_scenario("outage")
    kitchen = client.sdm("GET", "devices/kitchen-thermostat", token).json()
    assert kitchen["traits"] == {}
    assert kitchen["type"] == "sdm.devices.types.THERMOSTAT"
    assert kitchen["parentRelations"][0]["displayName"] == "Kitchen"


def test_a_disabled_sdm_api_refuses_every_call_with_googles_error_info(fake, client, token):
    fake.use_scenario("service-disabled")
    for method, path in (
        ("GET", "devices"),
        ("GET", "structures"),
        ("GET", "devices/living-room-thermostat"),
        ("POST", "devices/living-room-thermostat:executeCommand"),
    ):
        response = client.sdm(method, path, token, json={})
        assert response.status_code == 403
        error_body = response.json()["error"]
        assert (error_body["code"], error_body["status"]) == (403, "PERMISSION_DENIED")
        assert error_body["message"].startswith("Smart Device Management API has not been used in project")
        info = [d for d in error_body["details"] if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"]
        assert [d["reason"] for d in info] == ["SERVICE_DISABLED"]
    assert client.sdm("GET", "devices", None).status_code == 401  # the token is still checked first
    fake.use_scenario("default")
    assert client.sdm("GET", "devices", token).status_code == 200


def test_the_owner_can_change_a_mode_between_calls_as_in_the_nest_app(fake, client, token):
    client.sdm("GET", "devices", token)
    fake.update_device("living-room-thermostat", mode="COOL")
    refused = client.command(token, "living-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=22.0)
    assert refused.status_code == 400
    assert refused.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert traits(client, token, "living-room-thermostat")["sdm.devices.traits.ThermostatMode"]["mode"] == "COOL"


def test_scenarios_and_device_changes_are_served_for_other_processes(client, token):
    assert client.http.post(f"{client.base_url}/__fake/scenario/two-homes", timeout=5).status_code == 200
    assert len(client.sdm("GET", "devices", token).json()["devices"]) == 6
    changed = client.http.post(f"{client.base_url}/__fake/devices/bedroom-thermostat", json={"mode": "HEAT"}, timeout=5)
    assert changed.json()["traits"]["sdm.devices.traits.ThermostatMode"]["mode"] == "HEAT"
    for body in ({"mode": "SIDEWAYS"}, {"online": "yes"}, {"room": "Attic"}):
        assert (
            client.http.post(f"{client.base_url}/__fake/devices/bedroom-thermostat", json=body, timeout=5).status_code
            == 400
        )
    assert traits(client, token, "bedroom-thermostat")["sdm.devices.traits.ThermostatMode"]["mode"] == "HEAT"
    assert client.http.post(f"{client.base_url}/__fake/scenario/nonsense", timeout=5).status_code == 404
    assert client.http.post(f"{client.base_url}/__fake/devices/nope", json={}, timeout=5).status_code == 404


def test_the_trickling_front_sends_headers_a_line_at_a_time_only_where_asked(base_url, token):
    headers = {"Authorization": f"Bearer {token}"}
    with in_background(TricklingFront(base_url, "headers", interval=0.05, only="/devices/office")) as front:
        started = time.monotonic()
        fast = requests.get(f"{front}/v1/enterprises/{PROJECT}/devices", headers=headers, timeout=5)
        fast_s = time.monotonic() - started
        started = time.monotonic()
        slow = requests.get(f"{front}/v1/enterprises/{PROJECT}/devices/office-thermostat", headers=headers, timeout=5)
        slow_s = time.monotonic() - started
    direct = requests.get(f"{base_url}/v1/enterprises/{PROJECT}/devices/office-thermostat", headers=headers, timeout=5)
    assert fast.status_code == slow.status_code == 200
    assert slow.json() == direct.json()
    assert fast_s < 0.2 and slow_s >= 0.05 * 5


def test_the_trickling_front_sends_a_body_a_byte_at_a_time(client, base_url, token):
    with in_background(TricklingFront(base_url, "body", interval=0.1)) as front:
        started = time.monotonic()
        answer = requests.post(
            f"{front}/v1/enterprises/{PROJECT}/devices/guest-room-thermostat:executeCommand",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
            json={"command": "sdm.devices.commands.ThermostatMode.SetMode", "params": {"mode": "HEAT"}},
        )
        elapsed = time.monotonic() - started
    assert (answer.status_code, answer.content) == (200, b"{}")
    assert elapsed >= 0.2
    assert traits(client, token, "guest-room-thermostat")["sdm.devices.traits.ThermostatMode"]["mode"] == "HEAT"


# --- the fan, the available modes, eco while off ------------------------------------------------


def test_only_the_living_room_has_a_fan_and_only_the_guest_room_is_heat_only(client, token):
    devices = {
        d["parentRelations"][0]["displayName"]: d["traits"]
        for d in client.sdm("GET", "devices", token).json()["devices"]
    }
    assert [room for room, t in devices.items() if "sdm.devices.traits.Fan" in t] == ["Living Room"]
    assert {
        room: t["sdm.devices.traits.ThermostatMode"]["availableModes"]
        for room, t in devices.items()
        if t["sdm.devices.traits.ThermostatMode"]["availableModes"] != ["HEAT", "COOL", "HEATCOOL", "OFF"]
    } == {"Guest Room": ["HEAT", "OFF"]}
    assert all("ambientHumidityPercent" in t["sdm.devices.traits.Humidity"] for t in devices.values())


def test_fan_set_timer_runs_the_fan_until_its_timeout_and_stops_it(client, token):
    started = client.command(token, "living-room-thermostat", "Fan.SetTimer", timerMode="ON", duration="3600s")
    assert (started.status_code, started.json()) == (200, {})
    fan = traits(client, token, "living-room-thermostat")["sdm.devices.traits.Fan"]
    assert fan["timerMode"] == "ON" and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fan["timerTimeout"])
    assert client.command(token, "living-room-thermostat", "Fan.SetTimer", timerMode="OFF").status_code == 200
    assert traits(client, token, "living-room-thermostat")["sdm.devices.traits.Fan"] == {"timerMode": "OFF"}


@pytest.mark.parametrize(
    "params",
    [
        {"timerMode": "ON", "duration": "43201s"},
        {"timerMode": "ON", "duration": "0s"},
        {"timerMode": "ON", "duration": "1h"},
        {"timerMode": "SIDEWAYS"},
    ],
)
def test_fan_durations_outside_one_second_to_twelve_hours_are_invalid(client, token, params):
    response = client.command(token, "living-room-thermostat", "Fan.SetTimer", **params)
    assert response.status_code == 400
    assert response.json() == error(400, "INVALID_ARGUMENT", "Contains invalid value.")


def test_a_thermostat_without_a_fan_refuses_the_fan_timer(client, token):
    response = client.command(token, "bedroom-thermostat", "Fan.SetTimer", timerMode="ON")
    assert response.status_code == 400
    assert response.json() == error(400, "FAILED_PRECONDITION", "Thermostat fan unavailable.")


def test_a_mode_outside_available_modes_is_refused(client, token):
    response = client.command(token, "guest-room-thermostat", "ThermostatMode.SetMode", mode="COOL")
    assert response.status_code == 400
    assert traits(client, token, "guest-room-thermostat")["sdm.devices.traits.ThermostatMode"]["mode"] == "OFF"


# --- situations for one reading of SDM and capabilities from documented fields ----------------------


def test_offline_on_command_is_listed_online_and_refuses_every_command_as_offline(fake, client, token):
    fake.use_scenario("offline-on-command")
    listed = traits(client, token, "living-room-thermostat")
    assert listed["sdm.devices.traits.Connectivity"] == {"status": "ONLINE"}
    for command, params in (
        ("ThermostatTemperatureSetpoint.SetHeat", {"heatCelsius": 20.0}),
        ("ThermostatMode.SetMode", {"mode": "OFF"}),
    ):
        refused = client.command(token, "living-room-thermostat", command, **params)
        assert (refused.status_code, refused.json()) == (400, error(400, "FAILED_PRECONDITION", "Device is offline."))
    assert traits(client, token, "living-room-thermostat") == listed


@pytest.mark.parametrize(
    "refusal, code, status, message",
    [
        ("eco", 400, "FAILED_PRECONDITION", "Command not allowed when thermostat in MANUAL_ECO mode."),
        (
            "out-of-range",
            400,
            "INVALID_ARGUMENT",
            "Temperature setpoint is out of range [10.000000, 32.222301] in CELSIUS.",
        ),
        ("rate-limited", 429, "RESOURCE_EXHAUSTED", "Rate limited for the ExecuteDeviceCommand API for the user."),
    ],
)
def test_a_device_can_be_made_to_refuse_commands_with_each_documented_answer(
    fake, client, token, refusal, code, status, message
):
    fake.update_device("living-room-thermostat", refusal=refusal)
    refused = client.command(token, "living-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=20.0)
    assert (refused.status_code, refused.json()) == (code, error(code, status, message))
    fake.update_device("living-room-thermostat", refusal="")
    assert (
        client.command(
            token, "living-room-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=20.0
        ).status_code
        == 200
    )
    with pytest.raises(ValueError):
        fake.update_device("living-room-thermostat", refusal="sideways")


def test_the_capability_scenarios_list_what_sdm_lists(fake, client, token):
    fake.use_scenario("empty-fan-trait")
    assert traits(client, token, "bedroom-thermostat")["sdm.devices.traits.Fan"] == {}
    fake.use_scenario("no-manual-eco")
    assert traits(client, token, "kitchen-thermostat")["sdm.devices.traits.ThermostatEco"]["availableModes"] == ["OFF"]
    refused = client.command(token, "kitchen-thermostat", "ThermostatEco.SetMode", mode="MANUAL_ECO")
    assert refused.status_code == 400
    fake.use_scenario("sensor-only")
    hallway = client.sdm("GET", "devices/hallway-thermostat", token).json()
    assert hallway["type"] == "sdm.devices.types.THERMOSTAT"
    assert sorted(hallway["traits"]) == [
        "sdm.devices.traits.Humidity",
        "sdm.devices.traits.Info",
        "sdm.devices.traits.Temperature",
    ]
    assert client.command(token, "hallway-thermostat", "ThermostatMode.SetMode", mode="HEAT").status_code == 400


# --- answers no client should trust, on any SDM client -------------------------------------------


def test_the_gzip_bomb_scenario_lists_devices_as_150_mb_of_valid_json_in_150_kb(fake, client, token):
    import zlib

    from sandbox.fake_google import GZIP_BOMB_INFLATED_BYTES

    fake.use_scenario("gzip-bomb")
    response = client.sdm("GET", "devices", token, stream=True)
    assert (response.status_code, response.headers["Content-Encoding"]) == (200, "gzip")
    compressed = response.raw.read(decode_content=False)
    assert len(compressed) < 200_000
    inflater, inflated, head = zlib.decompressobj(31), 0, b""
    pending = compressed
    while pending or not inflater.eof:
        piece = inflater.decompress(pending, 1024 * 1024)
        pending = inflater.unconsumed_tail
        head = head or piece[:13]
        inflated += len(piece)
        if not piece and not pending:
            break
    assert (head, inflated) == (b'{"devices": [', len(b'{"devices": [') + GZIP_BOMB_INFLATED_BYTES + len(b"]}"))
    assert client.sdm("GET", "structures", token).headers.get("Content-Encoding") is None


def test_the_deep_nesting_scenario_lists_devices_nested_100000_deep(fake, client, token):
    fake.use_scenario("deep-nesting")
    body = client.sdm("GET", "devices", token).content
    assert body.startswith(b'{"devices": ' + b"[" * 100_000 + b"]") and len(body) == 200_013


def test_the_set_cookie_scenario_sets_a_cookie_on_every_sdm_answer_and_keeps_what_came_back(fake, client, token):
    """A client that keeps cookies (as `client`'s session does) sends the first answer's back."""
    fake.use_scenario("set-cookie")
    answers = [
        client.sdm(method, path, token)
        for method, path in (("GET", "devices"), ("GET", "structures"), ("GET", "devices/living-room-thermostat"))
    ]
    cookies = [answer.headers["Set-Cookie"] for answer in answers]
    assert cookies[0].startswith("sdm_affinity=") and cookies == [cookies[0]] * 3
    assert fake.received_cookies()[-3:] == ["", cookies[0].split(";")[0], cookies[0].split(";")[0]]
    fake.use_scenario("default")
    assert "Set-Cookie" not in client.sdm("GET", "devices", token).headers


def test_the_hostile_names_scenario_names_a_thermostat_with_308_characters_and_control_characters(fake, client, token):
    fake.use_scenario("hostile-names")
    devices = {d["name"].rsplit("/", 1)[-1]: d for d in client.sdm("GET", "devices", token).json()["devices"]}
    name = devices["office-thermostat"]["traits"]["sdm.devices.traits.Info"]["customName"]
    assert len(name) == 308 and {"\x00", "\x07", "\ud800"} <= set(name)
    assert devices["guest-room-thermostat"]["parentRelations"][0]["displayName"] == "\x07\u2028"
    assert fake.stats()["counts"]["devices.list"] == 1


SUNROOM = FakeThermostat(
    "sunroom-thermostat",
    "Sunroom",
    "FAHRENHEIT",
    "HEAT",
    ambient_celsius=fahrenheit_to_celsius(64),
    humidity_percent=41,
    heat_celsius=fahrenheit_to_celsius(66),
    cool_celsius=fahrenheit_to_celsius(76),
)
DEFAULT_IDS = [
    "living-room-thermostat",
    "bedroom-thermostat",
    "kitchen-thermostat",
    "guest-room-thermostat",
    "office-thermostat",
]


def listed_ids(client: Client, token: str) -> list[str]:
    response = client.sdm("GET", "devices", token)
    assert response.status_code == 200, response.text
    return [device["name"].rsplit("/", 1)[-1] for device in response.json()["devices"]]


def linked(client: Client) -> dict:
    """Partner Connections consent and the code exchange, with a refresh token."""
    response = client.exchange(client.code())
    assert response.status_code == 200, response.text
    return response.json()


def test_a_thermostat_added_after_linking_is_invisible_to_the_grant_until_shared(fake, client):
    grant = linked(client)
    fake.add_device(SUNROOM)
    refreshed = client.refresh(grant["refresh_token"]).json()["access_token"]
    not_found = error(404, "NOT_FOUND", f"Device enterprises/{PROJECT}/devices/sunroom-thermostat not found.")

    for token in (grant["access_token"], refreshed):
        assert listed_ids(client, token) == DEFAULT_IDS
        assert client.sdm("GET", "devices/sunroom-thermostat", token).json() == not_found
        refused = client.command(token, "sunroom-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=21)
        assert (refused.status_code, refused.json()) == (404, not_found)
    assert fake.device("sunroom-thermostat")["traits"][SETPOINT] == {"heatCelsius": pytest.approx(18.8889, abs=1e-4)}

    fake.share_device("sunroom-thermostat", grant["refresh_token"])

    for token in (grant["access_token"], refreshed, client.refresh(grant["refresh_token"]).json()["access_token"]):
        assert listed_ids(client, token) == [*DEFAULT_IDS, "sunroom-thermostat"]
    done = client.command(refreshed, "sunroom-thermostat", "ThermostatTemperatureSetpoint.SetHeat", heatCelsius=21)
    assert done.status_code == 200, done.text
    assert traits(client, grant["access_token"], "sunroom-thermostat")[SETPOINT] == {"heatCelsius": 21}


def test_sharing_with_one_grant_leaves_another_users_grant_as_it_was(fake, client):
    first, second = linked(client), fake.grant_access_token()
    fake.add_device(SUNROOM)

    fake.share_device("sunroom-thermostat", second)

    assert listed_ids(client, first["access_token"]) == DEFAULT_IDS
    assert listed_ids(client, second) == [*DEFAULT_IDS, "sunroom-thermostat"]


def test_a_consent_given_after_the_device_was_added_shares_it(fake, client):
    code = client.code()  # consent before the thermostat was installed: shares only the five
    fake.add_device(SUNROOM)
    relinked = linked(client)

    assert listed_ids(client, client.exchange(code).json()["access_token"]) == DEFAULT_IDS
    assert listed_ids(client, relinked["access_token"]) == [*DEFAULT_IDS, "sunroom-thermostat"]


def test_a_scenario_is_the_home_as_linked_and_shares_every_device(fake, client, token):
    fake.add_device(SUNROOM)
    fake.use_scenario("sensor-only")

    assert listed_ids(client, token) == [*DEFAULT_IDS, "hallway-thermostat"]


def test_adding_a_device_already_in_the_home_or_in_no_home_is_refused(fake):
    with pytest.raises(ValueError, match="already in the home"):
        fake.add_device(FakeThermostat("bedroom-thermostat", "Bedroom", "CELSIUS", "HEAT", 20.0, 40, 20.0, 25.0))
    with pytest.raises(ValueError, match="no structure"):
        fake.add_device(
            FakeThermostat("attic", "Attic", "CELSIUS", "HEAT", 20.0, 40, 20.0, 25.0, structure_id="elsewhere")
        )


def test_sharing_needs_a_device_in_the_home_and_a_grant_in_force(fake, client, token):
    fake.add_device(SUNROOM)
    assert client.revoke(token).status_code == 200
    with pytest.raises(KeyError):
        fake.share_device("sunroom-thermostat", token)
    with pytest.raises(KeyError):
        fake.share_device("sunroom-thermostat", "fake-access-never-issued")
    with pytest.raises(KeyError):
        fake.share_device("no-such-thermostat")


def test_adding_and_sharing_a_device_are_served_for_other_processes(client, token):
    fields = {
        "device_id": "sunroom-thermostat",
        "room": "Sunroom",
        "scale": "CELSIUS",
        "mode": "HEAT",
        "ambient_celsius": 18.0,
        "humidity_percent": 41,
        "heat_celsius": 19.0,
        "cool_celsius": 24.0,
        "available_modes": ["HEAT", "OFF"],
    }
    added = client.http.post(f"{client.base_url}/__fake/devices", json=fields, timeout=5)
    assert added.status_code == 200, added.text
    assert added.json()["traits"]["sdm.devices.traits.ThermostatMode"]["availableModes"] == ["HEAT", "OFF"]
    assert "sunroom-thermostat" not in listed_ids(client, token)
    again = client.http.post(f"{client.base_url}/__fake/devices", json=fields, timeout=5)
    assert again.status_code == 400
    unknown_field = client.http.post(f"{client.base_url}/__fake/devices", json={"colour": "red"}, timeout=5)
    assert unknown_field.status_code == 400

    share = f"{client.base_url}/__fake/devices/sunroom-thermostat:share"
    assert client.http.post(share, json={"token": "fake-access-never-issued"}, timeout=5).status_code == 404
    assert client.http.post(share, json={"token": 7}, timeout=5).status_code == 400
    assert client.http.post(f"{client.base_url}/__fake/devices/nope:share", json={}, timeout=5).status_code == 404
    assert "sunroom-thermostat" not in listed_ids(client, token)
    assert client.http.post(share, json={"token": token}, timeout=5).json() == {"shared": "sunroom-thermostat"}
    assert listed_ids(client, token)[-1] == "sunroom-thermostat"
