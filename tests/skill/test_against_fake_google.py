"""The skill end to end against the sandbox's fake Google SDM over real HTTP on loopback: the
client's requests and the fake's documented shapes must agree."""

from __future__ import annotations

import pytest

from sandbox import alexa
from sandbox.alexa import card_type, ends_session, spoken, valid_response
from sandbox.fake_devices import FakeThermostat, fahrenheit_to_celsius
from sandbox.fake_google import FakeGoogle
from sandbox.serving import running
from tests.skill import test_change_intents
from tests.skill.test_change_intents import adjust, eco_off, fan, humidity, set_mode
from tests.skill.test_sdm_errors import UNCONFIRMED

PROJECT = "fake-sdm-project"


@pytest.fixture
def fake():
    return FakeGoogle(
        PROJECT,
        "skill-test.apps.googleusercontent.com",
        "skill-test-secret",
        ["https://layla.amazon.com/api/skill/link/SKILLTEST"],
    )


@pytest.fixture
def sdm_url(fake):
    with running(fake) as url:
        yield f"{url}/v1"


@pytest.fixture
def skill(sdm_url, load_skill):
    return load_skill(nest_project_id=PROJECT, sdm_api_base_url=sdm_url)


def test_status_reads_every_default_thermostat(fake, skill):
    text = spoken(skill.lambda_handler(alexa.status(token=fake.grant_access_token()), None))
    assert text == (
        "The Living Room is 19.5 degrees, heating to 21, and heating right now. "
        "The Bedroom is 77 degrees, cooling to 74, and cooling right now. "
        "The Kitchen is 71 degrees, set to heat-cool between 68 and 76, not running right now. "
        "The Guest Room is 17 degrees, turned off. "
        "The Office is 16 degrees, in eco mode, between 15 and 27, not running right now."
    )


@pytest.mark.parametrize(
    "room, said, device, expected, heard",
    [
        ("living room", "21.5", "living-room-thermostat", {"heatCelsius": 21.5}, "heating to 21.5"),
        ("bedroom", "72", "bedroom-thermostat", {"coolCelsius": 22.2222}, "cooling to 72"),
        (
            "kitchen",
            "80",
            "kitchen-thermostat",
            {"heatCelsius": 24.4444, "coolCelsius": 28.8889},
            "set to heat-cool between 76 and 84",
        ),
    ],
)
def test_a_set_changes_the_thermostat(fake, skill, room, said, device, expected, heard):
    reply = skill.lambda_handler(alexa.set_temp(said, room, token=fake.grant_access_token()), None)
    assert spoken(reply) == f"OK, the {room.title()} is {heard}."
    setpoints = fake.device(device)["traits"]["sdm.devices.traits.ThermostatTemperatureSetpoint"]
    assert setpoints == pytest.approx(expected, abs=1e-4)
    assert fake.stats()["counts"]["devices.list"] == 1
    assert fake.stats()["counts"]["devices.executeCommand"] == 1


@pytest.mark.parametrize(
    "scale, said, heard",
    [
        (
            "FAHRENHEIT",
            ("50", "51", "70", "89", "90"),
            ("50 and 53", "50 and 53", "69 and 72", "87 and 90", "87 and 90"),
        ),
        (
            "CELSIUS",
            ("10", "21", "32", "31.5", "10.5"),
            ("10 and 12", "20 and 22", "30 and 32", "30 and 32", "10 and 12"),
        ),
    ],
)
def test_the_narrowest_heat_cool_range_is_accepted_at_every_limit(fake, skill, scale, said, heard):
    fake.replace_devices(
        [
            FakeThermostat(
                "narrow",
                "Kitchen",
                scale,
                "HEATCOOL",
                ambient_celsius=20.0,
                humidity_percent=40,
                heat_celsius=20.0,
                cool_celsius=20.5,
            )
        ]
    )
    token = fake.grant_access_token()
    replies = [spoken(skill.lambda_handler(alexa.set_temp(s, "kitchen", token=token), None)) for s in said]
    assert replies == [f"OK, the Kitchen is set to heat-cool between {h}." for h in heard]


def test_an_unknown_token_asks_to_link_again(skill):
    reply = skill.lambda_handler(alexa.status(token="not-a-token-the-fake-issued"), None)
    assert card_type(reply) == "LinkAccount"


def test_a_thermostat_gone_offline_since_the_list_was_cached_is_reported_offline(fake, skill):
    token = fake.grant_access_token()
    skill.lambda_handler(alexa.status(token=token), None)
    fake.set_online("living-room-thermostat", False)
    reply = skill.lambda_handler(alexa.set_temp("20", "living room", token=token), None)
    assert spoken(reply) == "The Living Room is offline, so I couldn't change it."


def test_nests_rate_limit_is_explained(fake, skill):
    token = fake.grant_access_token()
    replies = [spoken(skill.lambda_handler(alexa.set_temp("20", "living room", token=token), None)) for _ in range(6)]
    assert replies[:5] == ["OK, the Living Room is heating to 20."] * 5
    assert replies[5] == "Nest is limiting requests right now. Please try again in a minute."


# --- names, failures and fresh state, produced by the fake as the demo produces them ------------


def test_the_same_room_in_two_homes_is_asked_about_then_set_in_the_home_named(fake, skill):
    fake.use_scenario("two-homes")
    token = fake.grant_access_token()
    question = skill.lambda_handler(alexa.set_temp("21", "living room", token=token), None)
    assert spoken(question) == "Which one: the Living Room at Home, or at Lake House?"
    assert fake.stats()["counts"].get("devices.executeCommand", 0) == 0
    reply = skill.lambda_handler(
        alexa.set_temp(None, "home", token=token, attributes=question["sessionAttributes"]), None
    )
    assert spoken(reply) == "OK, the Living Room at Home is heating to 21."
    assert fake.device("living-room-thermostat")["traits"]["sdm.devices.traits.ThermostatTemperatureSetpoint"] == {
        "heatCelsius": 21.0
    }
    status = spoken(skill.lambda_handler(alexa.status("living room", token=token), None))
    assert status == (
        "The Living Room at Home is 19.5 degrees, heating to 21, and heating right now. "
        "The Living Room at Lake House is 58 degrees, in eco mode at 60, and heating right now."
    )
    assert fake.stats()["counts"]["structures.list"] == 1


def test_a_disabled_sdm_api_is_not_a_linking_problem(fake, skill):
    fake.use_scenario("service-disabled")
    reply = skill.lambda_handler(alexa.status(token=fake.grant_access_token()), None)
    assert spoken(reply) == "Sorry, Nest isn't available to this skill right now. Please try again later."
    assert card_type(reply) is None


def test_a_thermostat_without_traits_is_named_during_an_outage(fake, skill):
    fake.use_scenario("outage")
    token = fake.grant_access_token()
    assert "The Kitchen isn't reporting to Nest right now." in spoken(
        skill.lambda_handler(alexa.status(token=token), None)
    )
    reply = skill.lambda_handler(alexa.set_temp("70", "kitchen", token=token), None)
    assert spoken(reply).startswith("The Kitchen isn't reporting to Nest right now, so I couldn't change it.")
    assert card_type(reply) is None


def test_a_mode_changed_in_the_app_after_status_still_gets_the_temperature_set(fake, skill):
    token = fake.grant_access_token()
    skill.lambda_handler(alexa.status(token=token), None)
    fake.update_device("living-room-thermostat", mode="COOL")
    reply = skill.lambda_handler(alexa.set_temp("22", "living room", token=token), None)
    assert spoken(reply) == "OK, the Living Room is cooling to 22."
    assert fake.device("living-room-thermostat")["traits"]["sdm.devices.traits.ThermostatTemperatureSetpoint"] == {
        "coolCelsius": 22.0
    }
    assert fake.stats()["counts"] == {"devices.list": 1, "devices.get": 1, "devices.executeCommand": 2}


# --- mode, eco, warmer, fan and humidity against the fake's documented traits and errors --------


def test_each_mode_eco_adjust_and_fan_command_changes_the_fake_thermostat(fake, skill):
    token = fake.grant_access_token()
    trait = "sdm.devices.traits."

    def say(event):
        return spoken(skill.lambda_handler(event, None))

    assert say(set_mode("cool", "COOL", "bedroom", token=token)) == "The Bedroom is already set to cool."
    assert say(set_mode("auto", "HEATCOOL", "bedroom", token=token)) == "OK, the Bedroom is set to heat-cool."
    assert fake.device("bedroom-thermostat")["traits"][trait + "ThermostatMode"]["mode"] == "HEATCOOL"
    assert (
        say(set_mode("eco", "ECO", "living room", token=token))
        == "OK, the Living Room is in eco mode, between 15.5 and 26.5."
    )
    assert fake.device("living-room-thermostat")["traits"][trait + "ThermostatEco"]["mode"] == "MANUAL_ECO"
    assert say(eco_off("living room", token=token)) == "OK, eco is off. The Living Room is set to heat."
    assert say(adjust("warmer", "UP", "2", "living room", token=token)) == "OK, the Living Room is heating to 23."
    assert fake.device("living-room-thermostat")["traits"][trait + "ThermostatTemperatureSetpoint"] == {
        "heatCelsius": 23.0
    }
    assert (
        say(fan("on", "ON", "PT2H", "living room", token=token))
        == "OK, the fan of the Living Room will run for 2 hours."
    )
    assert fake.device("living-room-thermostat")["traits"][trait + "Fan"]["timerMode"] == "ON"
    assert say(humidity("kitchen", token=token)) == "The humidity at the Kitchen is 40 percent."


@pytest.mark.parametrize(
    "event_args, expected",
    [
        (("set_mode", "cool", "COOL", "guest room"), "The Guest Room can't be set to cool, so I didn't change it."),
        (
            ("set_mode", "eco", "ECO", "guest room"),
            "The Guest Room is turned off, and Nest can't turn on eco while it's off. Switch it to heat or cool first.",
        ),
        (("fan", "on", "ON", None, "bedroom"), "The Bedroom has no fan that Nest can control."),
        (
            ("adjust", "warmer", "UP", None, "office"),
            "The Office is in eco mode, so I didn't change it. Say, turn off eco, first.",
        ),
    ],
    ids=["heat-only", "eco-while-off", "no-fan", "adjust-in-eco"],
)
def test_refusals_send_nothing_to_the_fake(fake, skill, event_args, expected):
    build, *args = event_args
    event = getattr(test_change_intents, build)(*args, token=fake.grant_access_token())
    assert spoken(skill.lambda_handler(event, None)) == expected
    assert fake.stats()["counts"].get("devices.executeCommand", 0) == 0


def test_eco_refused_by_the_fake_after_the_thermostat_was_turned_off_in_the_app(fake, skill):
    token = fake.grant_access_token()
    skill.lambda_handler(alexa.status(token=token), None)
    fake.update_device("kitchen-thermostat", mode="OFF")
    reply = skill.lambda_handler(set_mode("eco", "ECO", "kitchen", token=token), None)
    assert spoken(reply).startswith("The Kitchen is turned off, and Nest can't turn on eco while it's off.")
    assert fake.stats()["counts"] == {"devices.list": 1, "devices.executeCommand": 1, "devices.get": 1}


def test_nests_rate_limit_applies_to_fan_commands_too(fake, skill):
    token = fake.grant_access_token()
    replies = [
        spoken(
            skill.lambda_handler(
                fan("on" if n % 2 == 0 else "off", "ON" if n % 2 == 0 else "OFF", None, "living room", token=token),
                None,
            )
        )
        for n in range(6)
    ]
    assert replies[:5] == [
        "OK, the fan of the Living Room will run for 1 hour.",
        "OK, the fan of the Living Room is off.",
    ] * 2 + ["OK, the fan of the Living Room will run for 1 hour."]
    assert replies[5] == "Nest is limiting requests right now. Please try again in a minute."


# --- one reading of SDM and capabilities from documented fields, produced by the fake's scenarios -------


def directive(skill, event):
    reply = skill.lambda_handler(event, None)
    alexa.valid_smart_home(reply, event)
    return reply


def test_a_thermostat_listed_online_that_answers_offline_is_offline_at_both_doors(fake, skill):
    """The field's case: the device list says ONLINE, executeCommand answers FAILED_PRECONDITION
    "Device is offline." (scenario offline-on-command)."""
    fake.use_scenario("offline-on-command")
    token = fake.grant_access_token()
    reply = skill.lambda_handler(alexa.set_temp("20", "living room", token=token), None)
    assert spoken(reply) == "The Living Room is offline, so I couldn't change it."
    answer = directive(skill, alexa.set_target("living-room-thermostat", 20, "CELSIUS", token=token))
    assert (alexa.error_type(answer), answer["event"]["header"]["namespace"]) == ("ENDPOINT_UNREACHABLE", "Alexa")
    assert fake.device("living-room-thermostat")["traits"]["sdm.devices.traits.ThermostatTemperatureSetpoint"] == {
        "heatCelsius": 21.0
    }


@pytest.mark.parametrize(
    "refusal, said, alexa_error",
    [
        (
            "mode",
            "The Living Room isn't in a mode that allows that right now, so nothing changed. "
            "Check its mode in the Nest app.",
            "NOT_SUPPORTED_IN_CURRENT_MODE",
        ),
        (
            "eco",
            "The Living Room is in eco mode, so I didn't change it. Say, turn off eco, first.",
            "NOT_SUPPORTED_IN_CURRENT_MODE",
        ),
        (
            "precondition",
            "Nest refused that change to the Living Room just now, so nothing changed. Check it in the Nest app.",
            "NOT_SUPPORTED_IN_CURRENT_MODE",
        ),
        (
            "out-of-range",
            "The Living Room can be set between 10 and 32 degrees, so nothing changed.",
            "TEMPERATURE_VALUE_OUT_OF_RANGE",
        ),
        (
            "range-too-narrow",
            "Nest needs the heat and cool setpoints of the Living Room at least 2 degrees apart, so nothing changed.",
            "REQUESTED_SETPOINTS_TOO_CLOSE",
        ),
        ("invalid", "Sorry, Nest didn't accept that change.", "INVALID_VALUE"),
        (
            "permission-denied",
            "Your linked Nest account doesn't give me access to that thermostat. To share it, link "
            "your account again in the Alexa app. I've sent a card there.",
            "INVALID_AUTHORIZATION_CREDENTIAL",
        ),
        ("rate-limited", "Nest is limiting requests right now. Please try again in a minute.", "RATE_LIMIT_EXCEEDED"),
        ("internal", UNCONFIRMED, "INTERNAL_ERROR"),
        ("unknown", UNCONFIRMED, "INTERNAL_ERROR"),
        ("deadline-exceeded", UNCONFIRMED, "INTERNAL_ERROR"),
        ("unavailable", "Sorry, I couldn't reach Nest just now. Please try again later.", "INTERNAL_ERROR"),
        ("unknown-command", "Sorry, Nest didn't accept that change.", "INVALID_VALUE"),
    ],
)
def test_each_refusal_the_fake_gives_is_read_once_for_both_doors(fake, skill, refusal, said, alexa_error):
    fake.update_device("living-room-thermostat", refusal=refusal)
    token = fake.grant_access_token()
    assert spoken(skill.lambda_handler(alexa.set_temp("20", "living room", token=token), None)) == said
    answer = directive(skill, alexa.set_target("living-room-thermostat", 20, "CELSIUS", token=token))
    assert alexa.error_type(answer) == alexa_error


def test_an_expired_token_is_told_apart_from_an_invalid_one(load_skill):
    """Google's 401 for a token past its hour carries ErrorInfo reason ACCESS_TOKEN_EXPIRED."""
    clock = [0.0]
    fake = FakeGoogle(
        PROJECT,
        "skill-test.apps.googleusercontent.com",
        "skill-test-secret",
        ["https://layla.amazon.com/api/skill/link/SKILLTEST"],
        clock=lambda: clock[0],
    )
    token = fake.grant_access_token()
    clock[0] += 3600.0
    with running(fake) as url:
        skill = load_skill(nest_project_id=PROJECT, sdm_api_base_url=f"{url}/v1")
        assert card_type(skill.lambda_handler(alexa.status(token=token), None)) == "LinkAccount"
        expired = directive(skill, alexa.report_state("living-room-thermostat", token=token))
        invalid = directive(skill, alexa.report_state("living-room-thermostat", token="fake-access-never-issued"))
    assert (alexa.error_type(expired), alexa.error_type(invalid)) == (
        "EXPIRED_AUTHORIZATION_CREDENTIAL",
        "INVALID_AUTHORIZATION_CREDENTIAL",
    )


def test_an_empty_fan_trait_is_no_fan_at_either_door(fake, skill):
    fake.use_scenario("empty-fan-trait")
    token = fake.grant_access_token()
    assert fake.device("bedroom-thermostat")["traits"]["sdm.devices.traits.Fan"] == {}
    reply = skill.lambda_handler(fan("on", "ON", None, "bedroom", token=token), None)
    assert spoken(reply) == "The Bedroom has no fan that Nest can control."
    assert fake.stats()["counts"].get("devices.executeCommand", 0) == 0


def test_eco_without_manual_eco_is_not_offered_at_either_door(fake, skill):
    fake.use_scenario("no-manual-eco")
    token = fake.grant_access_token()
    found = directive(skill, alexa.discover(token=token))["event"]["payload"]["endpoints"]
    modes = {
        e["endpointId"]: next(
            c["configuration"]["supportedModes"]
            for c in e["capabilities"]
            if c["interface"] == "Alexa.ThermostatController"
        )
        for e in found
    }
    assert modes["kitchen-thermostat"] == ["HEAT", "COOL", "AUTO", "OFF"] and "ECO" in modes["bedroom-thermostat"]
    assert spoken(skill.lambda_handler(set_mode("eco", "ECO", "kitchen", token=token), None)) == (
        "The Kitchen can't be set to eco, so I didn't change it."
    )
    assert alexa.error_type(directive(skill, alexa.set_mode("kitchen-thermostat", "ECO", token=token))) == (
        "UNSUPPORTED_THERMOSTAT_MODE"
    )
    assert fake.stats()["counts"].get("devices.executeCommand", 0) == 0


def test_a_sensor_only_thermostat_is_discovered_as_a_sensor_and_reports_its_temperature(fake, skill):
    fake.use_scenario("sensor-only")
    token = fake.grant_access_token()
    found = directive(skill, alexa.discover(token=token))["event"]["payload"]["endpoints"]
    hallway = next(e for e in found if e["endpointId"] == "hallway-thermostat")
    assert hallway["displayCategories"] == ["TEMPERATURE_SENSOR"]
    assert [c["interface"] for c in hallway["capabilities"]] == ["Alexa", "Alexa.TemperatureSensor"]
    assert alexa.properties(directive(skill, alexa.report_state("hallway-thermostat", token=token))) == {
        "temperature": alexa.degrees(20.0, "CELSIUS")
    }
    assert "The Hallway is 20 degrees." in spoken(skill.lambda_handler(alexa.status(token=token), None))
    assert spoken(skill.lambda_handler(alexa.set_temp("70", "hallway", token=token), None)) == (
        "The Hallway only reports its readings to Nest, so I can't change it."
    )
    assert alexa.error_type(directive(skill, alexa.set_target("hallway-thermostat", 70, token=token))) == (
        "INVALID_DIRECTIVE"
    )
    assert fake.stats()["counts"].get("devices.executeCommand", 0) == 0


# --- answers no client should trust: the fake's answer scenarios and hostile names ---------------


@pytest.mark.parametrize("scenario", ["gzip-bomb", "deep-nesting"])
def test_an_unreadable_device_list_is_answered_as_documented_by_both_doors(fake, skill, scenario):
    fake.use_scenario(scenario)
    token = fake.grant_access_token()
    discover = alexa.discover(token=token)
    reply = skill.lambda_handler(discover, None)
    alexa.valid_smart_home(reply, discover)
    assert reply["event"]["payload"]["endpoints"] == []
    said = skill.lambda_handler(alexa.status(token=token), None)
    assert spoken(said) == "Sorry, I couldn't reach Nest just now. Please try again later."
    fake.use_scenario("default")
    assert len(skill.lambda_handler(discover, None)["event"]["payload"]["endpoints"]) == 5


def test_a_cookie_sdm_sets_for_one_user_goes_out_with_no_request(fake, skill):
    fake.use_scenario("set-cookie")
    first, second = fake.grant_access_token(), fake.grant_access_token()
    for token in (first, second, first, second):
        skill.lambda_handler(alexa.set_temp("21", "living room", token=token), None)
    assert fake.stats()["counts"]["devices.executeCommand"] == 4
    assert fake.received_cookies() == [""] * sum(fake.stats()["counts"].values())


def test_hostile_names_from_the_home_reach_neither_door(fake, skill):
    fake.use_scenario("hostile-names")
    token = fake.grant_access_token()
    discover = alexa.discover(token=token)
    reply = skill.lambda_handler(discover, None)
    alexa.valid_smart_home(reply, discover)
    names = {e["endpointId"]: e["friendlyName"] for e in reply["event"]["payload"]["endpoints"]}
    assert names["office-thermostat"] == "Den" + " Upstairs Den" * 9
    assert names["guest-room-thermostat"] == "thermostat"
    said = spoken(skill.lambda_handler(alexa.status(token=token), None))
    assert "Den" + " Upstairs Den" * 9 + " is 16 degrees" in said


def test_a_thermostat_added_after_linking_is_found_and_set_once_shared(fake, skill, sdm_url, load_skill):
    """Google shares with the skill only the devices ticked on Partner Connections when the user linked."""
    token = fake.grant_access_token()
    fake.add_device(
        FakeThermostat(
            "sunroom-thermostat",
            "Sunroom",
            "FAHRENHEIT",
            "HEAT",
            ambient_celsius=fahrenheit_to_celsius(64),
            humidity_percent=41,
            heat_celsius=fahrenheit_to_celsius(66),
            cool_celsius=fahrenheit_to_celsius(76),
        )
    )

    reply = skill.lambda_handler(alexa.set_temp("70", "sunroom", token=token), None)

    rooms = "the Living Room, the Bedroom, the Kitchen, the Guest Room"
    assert spoken(reply) == (
        f"I couldn't find a thermostat called sunroom. Your thermostats are {rooms} and the Office. "
        "If it's new or was replaced, it has to be shared with this skill on Google's Partner Connections page. "
        f"I've sent the steps to the Alexa app. Which one should I set: {rooms} or the Office?"
    )
    assert not ends_session(reply)
    card = valid_response(reply)["card"]
    assert card["type"] == "Simple"
    assert card["content"].startswith('No thermostat called "sunroom" is shared with this skill.')
    assert "nestservices.google.com/partnerconnections" in card["content"]
    assert fake.stats()["counts"].get("devices.executeCommand", 0) == 0
    assert fake.device("sunroom-thermostat")["traits"]["sdm.devices.traits.ThermostatTemperatureSetpoint"] == {
        "heatCelsius": pytest.approx(18.8889, abs=1e-4)
    }

    fake.share_device("sunroom-thermostat", token)  # ticked on Google's Partner Connections page
    # A later request, in a container without the first one's device list (kept 30 s per user).
    later = load_skill(nest_project_id=PROJECT, sdm_api_base_url=sdm_url)
    reply = later.lambda_handler(alexa.set_temp("70", "sunroom", token=token), None)

    assert spoken(reply) == "OK, the Sunroom is heating to 70."
    assert fake.device("sunroom-thermostat")["traits"]["sdm.devices.traits.ThermostatTemperatureSetpoint"] == {
        "heatCelsius": pytest.approx(21.1111, abs=1e-4)
    }
    assert fake.stats()["counts"]["devices.executeCommand"] == 1
