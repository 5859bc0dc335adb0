"""The rehearsal the demo runs: the fake Nest app changes a thermostat, SDM's event goes through the
Pub/Sub push stand-in (signed with its own key) over loopback HTTP to the events function behind a
function URL stand-in, and the ChangeReport arrives at the gateway stand-in."""

from __future__ import annotations

from sandbox import fake_pubsub
from sandbox.fake_google import FakeGoogle
from sandbox.serving import running
from tests.live_state.conftest import home
from tests.live_state.events_support import seed
from tests.live_state.test_accept_grant import link
from tests.skill.sdm import PROJECT


def test_a_change_in_the_nest_app_reaches_the_gateway_as_a_change_report(door, amazon, sdm_api, events, pubsub):
    google = FakeGoogle(PROJECT, "client", "secret", ["https://example.test/cb"])
    living = google.device("living-room-thermostat")
    home(sdm_api, living)
    user = link(door, amazon, "ann", "google-sub-ann", "ya29.ann")
    seed(events.states, user, living, at=0.0)
    statuses = []
    with running(fake_pubsub.function_url_app(events.handle)) as url:
        event = google.nest_app_change(
            "living-room-thermostat", mode="COOL", publish=lambda e: statuses.append(fake_pubsub.push(url, pubsub, e))
        )
    # Only the changed fields of the changed traits, as SDM sends them.
    assert event["resourceUpdate"]["traits"] == {
        "sdm.devices.traits.ThermostatMode": {"mode": "COOL"},
        "sdm.devices.traits.ThermostatHvac": {"status": "OFF"},
        "sdm.devices.traits.ThermostatTemperatureSetpoint": {"coolCelsius": 25.0},
    }
    assert statuses == [204]
    [received] = amazon.gateway.events("NA")
    change = received.event["event"]["payload"]["change"]
    assert received.customer == "ann" and received.event["event"]["endpoint"]["endpointId"] == "living-room-thermostat"
    assert {p["name"]: p["value"] for p in change["properties"]} == {
        "thermostatMode": "COOL",
        "targetSetpoint": {"value": 25.0, "scale": "CELSIUS"},
    }


def test_a_forged_push_over_http_is_refused_with_an_empty_body(events, pubsub):
    import requests

    with running(fake_pubsub.function_url_app(events.handle)) as url:
        answer = requests.post(
            url,
            json=fake_pubsub.envelope({"eventId": "x"}),
            headers={"Authorization": pubsub.authorization("forged")},
            timeout=10,
        )
        assert (answer.status_code, answer.content) == (401, b"")
        answer = requests.get(url, timeout=10)
        assert (answer.status_code, answer.headers.get("allow")) == (405, "POST")
