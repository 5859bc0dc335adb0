"""Never change a thermostat the user didn't name. The same room in two homes is a
question naming the homes; a near-miss is a "Did you mean" acted on only after a yes."""

from __future__ import annotations

import pytest
import responses

from sandbox import alexa
from sandbox.alexa import ends_session, reprompt, spoken
from tests.skill.sdm import (
    DEVICES_URL,
    PROJECT,
    STRUCTURES_URL,
    command_url,
    device_list,
    sent_command,
    serve_devices,
    structure,
    structure_list,
    thermostat,
)

LAKE = thermostat("lake-living", room="Living Room", structure="lake", heat_c=19.0)
HOME = thermostat("home-living", room="Living Room", structure="main", heat_c=20.0)
HOME_BEDROOM = thermostat("home-bed", room="Bedroom", structure="main")
HOMES = structure_list(structure("lake", "Lake House"), structure("main", "Home"))


def setup(sdm_api, *devices, structures=HOMES):
    sdm_api.get(DEVICES_URL, json=device_list(*devices))
    sdm_api.get(STRUCTURES_URL, json=structures)
    for device in devices:
        sdm_api.post(command_url(device["name"].rsplit("/", 1)[-1]), json={})


def commands(sdm_api):
    return [(c.request.url, sent_command(c)) for c in sdm_api.calls if c.request.method == "POST"]


def answer(skill, reply, said):
    """The user's answer to a question: the model routes a bare name to SetTempIntent's thermostat slot."""
    return skill.lambda_handler(alexa.set_temp(None, said, attributes=reply["sessionAttributes"]), None)


def test_the_same_room_in_two_homes_is_a_question_naming_the_homes(skill, sdm_api):
    setup(sdm_api, LAKE, HOME)
    reply = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(reply) == "Which one: the Living Room at Lake House, or at Home?"
    assert reprompt(reply) == spoken(reply)
    assert not ends_session(reply)
    assert commands(sdm_api) == []


@pytest.mark.parametrize(
    "said, device, home",
    [
        ("lake house", "lake-living", "Lake House"),
        ("the lake house", "lake-living", "Lake House"),
        ("home", "home-living", "Home"),
        ("the first one", "lake-living", "Lake House"),
        ("second", "home-living", "Home"),
        ("the last one", "home-living", "Home"),
        ("at lake house", "lake-living", "Lake House"),
        ("the one at home", "home-living", "Home"),
        ("in the lake house", "lake-living", "Lake House"),
    ],
)
def test_the_next_turn_names_the_home_or_its_place_in_the_question(skill, sdm_api, said, device, home):
    setup(sdm_api, LAKE, HOME)
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    reply = answer(skill, question, said)
    assert spoken(reply) == f"OK, the Living Room at {home} is heating to 72."
    assert commands(sdm_api) == [
        (
            command_url(device),
            {
                "command": "sdm.devices.commands.ThermostatTemperatureSetpoint.SetHeat",
                "params": {"heatCelsius": 22.2222},
            },
        )
    ]
    assert reply["sessionAttributes"] == {}


def test_an_answer_naming_neither_home_asks_again_and_changes_nothing(skill, sdm_api):
    setup(sdm_api, LAKE, HOME)
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    again = answer(skill, question, "garage")
    assert spoken(again) == "Which one: the Living Room at Lake House, or at Home?"
    assert not ends_session(again)
    assert commands(sdm_api) == []
    assert spoken(answer(skill, again, "lake house")) == "OK, the Living Room at Lake House is heating to 72."


@pytest.mark.parametrize(
    "still_listed, asked",
    [
        ((HOME,), "Did you mean the Living Room?"),
        ((HOME, HOME_BEDROOM), "Did you mean the Living Room?"),
        ((), None),
    ],
)
def test_an_ordinal_never_points_at_another_thermostat_once_an_offered_one_is_gone(
    load_skill, sdm_api, still_listed, asked
):
    """ "The first one" meant the Lake House: with it gone (answered in a new container), the first of
    what is left would be Home's. Nothing is sent; the question is asked again about what is left."""
    setup(sdm_api, LAKE, HOME)
    question = load_skill().lambda_handler(alexa.set_temp("72", "living room"), None)
    sdm_api.replace(responses.GET, DEVICES_URL, json=device_list(*still_listed))
    reply = answer(load_skill(), question, "the first one")
    assert commands(sdm_api) == []
    if asked is None:
        assert ends_session(reply)
    else:
        assert spoken(reply) == asked and not ends_session(reply)
        confirmed = load_skill().lambda_handler(
            alexa.intent("AMAZON.YesIntent", attributes=reply["sessionAttributes"]), None
        )
        assert spoken(confirmed) == "OK, the Living Room is heating to 72."
        assert [url for url, _ in commands(sdm_api)] == [command_url("home-living")]


def test_status_reads_both_each_with_its_home(skill, sdm_api):
    setup(sdm_api, LAKE, HOME, HOME_BEDROOM)
    named = spoken(skill.lambda_handler(alexa.status("living room"), None))
    assert named == (
        "The Living Room at Lake House is 71 degrees, heating to 66. "
        "The Living Room at Home is 71 degrees, heating to 68."
    )
    everything = spoken(skill.lambda_handler(alexa.status(), None))
    assert "The Bedroom at Home is 71 degrees" in everything


def test_homes_are_read_once_and_cached_like_the_device_list(skill, sdm_api):
    setup(sdm_api, LAKE, HOME)
    for _ in range(3):
        skill.lambda_handler(alexa.status(), None)
    assert [c.request.url for c in sdm_api.calls] == [DEVICES_URL, STRUCTURES_URL]


def test_a_single_home_costs_no_structures_call_and_no_home_names(skill, sdm_api):
    setup(sdm_api, HOME, HOME_BEDROOM)
    assert spoken(skill.lambda_handler(alexa.status("living room"), None)).startswith("The Living Room is")
    assert [c.request.url for c in sdm_api.calls] == [DEVICES_URL]


def test_two_thermostats_with_one_name_in_one_home_are_told_apart_by_order(skill, sdm_api):
    first = thermostat("hall-1", room="Hallway")
    second = thermostat("hall-2", room="Hallway")
    setup(sdm_api, first, second)
    question = skill.lambda_handler(alexa.set_temp("70", "hallway"), None)
    assert spoken(question) == "I found 2 called the Hallway. Which one: the first or the second?"
    reply = answer(skill, question, "the second one")
    assert spoken(reply) == "OK, the Hallway is heating to 70."
    assert [url for url, _ in commands(sdm_api)] == [command_url("hall-2")]


GUEST_BATHROOM = thermostat("bath", room="Guest Bathroom")
MASTER_BEDROOM = thermostat("master", room="Master Bedroom")


def test_a_similar_but_different_room_is_never_changed(skill, sdm_api):
    """ "guest bedroom" is one letter-pair from the Guest Bathroom, yet another room: nothing is changed."""
    setup(sdm_api, GUEST_BATHROOM, MASTER_BEDROOM)
    reply = skill.lambda_handler(alexa.set_temp("70", "guest bedroom"), None)
    assert spoken(reply).startswith("I couldn't find a thermostat called guest bedroom.")
    assert commands(sdm_api) == []


@pytest.mark.parametrize(
    "said, rooms",
    [
        ("dining room", ("Living Room",)),
        ("bedroom", ("Bathroom",)),
        ("upstairs", ("Downstairs",)),
        ("front door", ("Back Door",)),
        ("master bathroom", ("Master Bedroom",)),
        ("family room", ("Laundry Room",)),
    ],
)
def test_other_similar_rooms_are_not_found_rather_than_changed(skill, sdm_api, said, rooms):
    setup(
        sdm_api, *[thermostat(f"t{i}", room=room) for i, room in enumerate(rooms)], thermostat("other", room="Kitchen")
    )
    reply = skill.lambda_handler(alexa.set_temp("70", said), None)
    assert spoken(reply).startswith(f"I couldn't find a thermostat called {said}.")
    assert commands(sdm_api) == []


def test_a_room_named_in_part_is_confirmed_first(skill, sdm_api):
    setup(sdm_api, GUEST_BATHROOM, MASTER_BEDROOM)
    question = skill.lambda_handler(alexa.set_temp("70", "bedroom"), None)
    assert spoken(question) == "Did you mean the Master Bedroom?"
    assert commands(sdm_api) == []


def test_no_leaves_the_thermostat_alone(skill, sdm_api):
    setup(sdm_api, GUEST_BATHROOM, MASTER_BEDROOM)
    question = skill.lambda_handler(alexa.set_temp("70", "bedroom"), None)
    reply = skill.lambda_handler(alexa.intent("AMAZON.NoIntent", attributes=question["sessionAttributes"]), None)
    assert spoken(reply) == "OK, I didn't change anything."
    assert ends_session(reply)
    assert commands(sdm_api) == []


def test_a_new_number_instead_of_yes_does_not_count_as_yes(skill, sdm_api):
    setup(sdm_api, GUEST_BATHROOM, MASTER_BEDROOM)
    question = skill.lambda_handler(alexa.set_temp("70", "bedroom"), None)
    reply = skill.lambda_handler(alexa.set_temp("71", attributes=question["sessionAttributes"]), None)
    assert spoken(reply).startswith("Which thermostat should I set to 71")
    assert commands(sdm_api) == []


def test_several_near_misses_are_a_question_answered_by_name(skill, sdm_api):
    setup(sdm_api, thermostat("up", room="Upstairs Hallway"), thermostat("down", room="Downstairs Hallway"))
    question = skill.lambda_handler(alexa.set_temp("70", "hallway"), None)
    assert spoken(question) == "Did you mean the Upstairs Hallway or the Downstairs Hallway?"
    reply = answer(skill, question, "downstairs hallway")
    assert spoken(reply) == "OK, the Downstairs Hallway is heating to 70."
    assert [url for url, _ in commands(sdm_api)] == [command_url("down")]


def test_yes_with_nothing_pending_changes_nothing(skill, sdm_api):
    reply = skill.lambda_handler(alexa.intent("AMAZON.YesIntent"), None)
    assert spoken(reply).startswith("Sorry, I wasn't waiting for a yes or no.")
    assert not ends_session(reply)
    assert len(sdm_api.calls) == 0


def test_yes_with_forged_attributes_changes_nothing(skill, sdm_api):
    setup(sdm_api, GUEST_BATHROOM)
    forged = {"pending_action": {"kind": "set_temperature", "value": "hot"}, "pending_device": "x"}
    reply = skill.lambda_handler(alexa.intent("AMAZON.YesIntent", attributes=forged), None)
    assert spoken(reply).startswith("Sorry, I wasn't waiting for a yes or no.")
    assert commands(sdm_api) == []


def test_status_may_read_a_near_miss_and_names_what_it_read(skill, sdm_api):
    setup(sdm_api, thermostat("living", room="Living Room"), thermostat("bed", room="Bedroom"))
    assert spoken(skill.lambda_handler(alexa.status("living rom"), None)) == (
        "The Living Room is 71 degrees, heating to 68."
    )


def test_when_only_the_homes_cannot_be_read_the_question_asks_by_order(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(LAKE, HOME))
    sdm_api.get(
        STRUCTURES_URL,
        status=429,
        json={
            "error": {
                "code": 429,
                "status": "RESOURCE_EXHAUSTED",
                "message": "Rate limited for the ListStructures API.",
            }
        },
    )
    sdm_api.post(command_url("home-living"), json={})
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(question) == "I found 2 called the Living Room. Which one: the first or the second?"
    reply = answer(skill, question, "the second one")
    assert spoken(reply) == "OK, the Living Room is heating to 72."
    assert [url for url, _ in commands(sdm_api)] == [command_url("home-living")]


def test_three_thermostats_with_one_name_are_offered_by_order(skill, sdm_api):
    setup(sdm_api, *[thermostat(f"hall-{n}", room="Hallway") for n in range(3)])
    question = skill.lambda_handler(alexa.set_temp("70", "hallway"), None)
    assert spoken(question) == "I found 3 called the Hallway. Which one: the first, the second or the third?"
    assert spoken(answer(skill, question, "third")) == "OK, the Hallway is heating to 70."
    assert [url for url, _ in commands(sdm_api)] == [command_url("hall-2")]


def hallway(device_id):
    return thermostat(device_id, room="Hallway")


GONE = f"enterprises/{PROJECT}/devices/gone"
LIVING = thermostat("living", room="Living Room")


def posts(sdm_api):
    return [(call.request.url, sent_command(call)) for call in sdm_api.calls if call.request.method == "POST"]


BEDROOM = thermostat("bed", room="Bedroom", heat_c=18.0)


def test_the_fifth_of_five_thermostats_of_one_name(skill, sdm_api):
    """Asked which of five Hallways, the question names the fifth, and "five" picks it."""
    setup(sdm_api, *(thermostat(f"hall-{n}", room="Hallway") for n in range(1, 6)))
    question = skill.lambda_handler(alexa.set_temp("70", "hallway"), None)
    assert spoken(question) == (
        "I found 5 called the Hallway. Which one: the first, the second, the third, the fourth or the fifth?"
    )
    assert reprompt(question) == "Which one: the first, the second, the third, the fourth or the fifth?"
    reply = answer(skill, question, "five")
    assert spoken(reply) == "OK, the Hallway is heating to 70."
    assert commands(sdm_api) == [
        (
            command_url("hall-5"),
            {
                "command": "sdm.devices.commands.ThermostatTemperatureSetpoint.SetHeat",
                "params": {"heatCelsius": 21.1111},
            },
        )
    ]


def test_a_home_named_with_an_x_is_picked_by_its_name(skill, sdm_api):
    setup(
        sdm_api,
        thermostat("lake-living", room="Living Room", structure="lake"),
        thermostat("cabin-living", room="Living Room", structure="cabin"),
        structures=structure_list(structure("lake", "Lake House"), structure("cabin", "Max's Cabin")),
    )
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    assert spoken(question) == "Which one: the Living Room at Lake House, or at Max's Cabin?"
    reply = answer(skill, question, "max's cabin")
    assert spoken(reply) == "OK, the Living Room at Max's Cabin is heating to 72."
    assert [url for url, _ in commands(sdm_api)] == [command_url("cabin-living")]


def test_a_new_temperature_instead_of_an_answer_is_a_new_request(skill, sdm_api):
    """Asked "which one?", the user sets another thermostat to another temperature: that is done, and the
    pending 72 is dropped."""
    setup(sdm_api, LAKE, HOME, HOME_BEDROOM)
    question = skill.lambda_handler(alexa.set_temp("72", "living room"), None)
    reply = skill.lambda_handler(alexa.set_temp("68", "bedroom", attributes=question["sessionAttributes"]), None)
    assert spoken(reply) == "OK, the Bedroom at Home is heating to 68."
    assert [(c.request.url, sent_command(c)["params"]) for c in sdm_api.calls if c.request.method == "POST"] == [
        (command_url("home-bed"), {"heatCelsius": 20.0})
    ]


@pytest.mark.parametrize(
    "still_listed, asked, choices",
    [
        (
            (hallway("hall-2"), hallway("hall-3")),
            "I found 2 called the Hallway. Which one: the first or the second?",
            ["hall-2", "hall-3"],
        ),
        (
            (),
            "I couldn't find any thermostats on your linked Nest account. To share them, link your account again in "
            "the Alexa app.",
            None,
        ),
    ],
)
def test_an_offered_thermostat_gone_before_the_answer(load_skill, sdm_api, still_listed, asked, choices):
    """Three Hallways offered, answered in a new container that lists fewer: nothing is sent, and the
    question is asked again about those left (or, none left, the skill says it found none)."""
    setup(sdm_api, hallway("hall-1"), hallway("hall-2"), hallway("hall-3"))
    question = load_skill().lambda_handler(alexa.set_temp("70", "hallway"), None)
    assert spoken(question) == "I found 3 called the Hallway. Which one: the first, the second or the third?"
    sdm_api.replace(responses.GET, DEVICES_URL, json=device_list(*still_listed))
    reply = answer(load_skill(), question, "the first one")
    assert spoken(reply) == asked
    assert [c for c in sdm_api.calls if c.request.method == "POST"] == []
    if choices is None:
        assert ends_session(reply) and reply["sessionAttributes"] == {}
    else:
        assert not ends_session(reply)
        assert reply["sessionAttributes"] == {
            "pending_action": {"kind": "set_temperature", "value": 70.0},
            "pending_choices": [f"enterprises/project-under-test/devices/{d}" for d in choices],
        }


def test_a_thermostat_in_a_home_without_a_name_is_named_without_one(skill, sdm_api):
    setup(
        sdm_api,
        LAKE,
        thermostat("den", room="Den", structure="cabin"),
        structures=structure_list(structure("lake", "Lake House"), structure("cabin", " ")),
    )
    assert spoken(skill.lambda_handler(alexa.status(), None)) == (
        "The Living Room at Lake House is 71 degrees, heating to 66. The Den is 71 degrees, heating to 68."
    )


def test_yes_to_a_thermostat_that_is_gone(skill, sdm_api):
    serve_devices(sdm_api, LIVING)
    reply = skill.lambda_handler(
        alexa.intent(
            "AMAZON.YesIntent",
            attributes={"pending_device": GONE, "pending_action": {"kind": "set_temperature", "value": 70}},
        ),
        None,
    )
    assert spoken(reply).startswith("I couldn't find any thermostats on your linked Nest account.")
    assert ends_session(reply)
    assert posts(sdm_api) == []


def test_a_value_entity_resolution_did_not_match_is_never_acted_on(skill, sdm_api):
    """Alexa's ER_SUCCESS_NO_MATCH may still list values: a room or a mode it names was not what was said."""
    serve_devices(sdm_api, LIVING, BEDROOM)
    reply = skill.lambda_handler(
        alexa.set_temp("70", "kitchen", resolved="living room", er_status="ER_SUCCESS_NO_MATCH"), None
    )
    assert spoken(reply).startswith("I couldn't find a thermostat called kitchen.")
    mode = alexa.resolved_slot("mode", "hot", "THERMOSTAT_MODE", None)
    mode["resolutions"]["resolutionsPerAuthority"][0]["values"] = [{"value": {"name": "heat", "id": "HEAT"}}]
    asked = skill.lambda_handler(
        alexa.intent("SetModeIntent", {"thermostat": alexa.slot("thermostat", "bedroom"), "mode": mode}), None
    )
    assert spoken(asked) == "Which mode: heat, cool, heat and cool, eco, or off?"
    assert posts(sdm_api) == []
