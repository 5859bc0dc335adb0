"""Names from the home (a device's Info.customName, a room's displayName, a home's customName) are
cleaned once, where a Thermostat is read from SDM, and both front doors use what is left: readable
text (no control, format or surrogate characters), at most 128 characters as Alexa's endpoint object
takes them, and a readable fallback (the room, then "thermostat") when nothing readable is left."""

from __future__ import annotations

import pytest

from nest_skill.thermostats import Thermostat, structure_names
from sandbox import alexa
from sandbox.alexa import spoken, valid_response
from sandbox.fake_devices import HOSTILE_NAME
from tests.skill.sdm import DEVICES_URL, STRUCTURES_URL, device_list, structure, structure_list, thermostat

HOSTILE_NAME_CLEANED = "Den" + " Upstairs Den" * 9
"""sandbox.fake_devices.HOSTILE_NAME without its NUL, BEL and lone surrogate, cut at the last word within 128."""


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Den\x00Up", "Den Up"),
        ("Den\x07\x07Up", "Den Up"),
        ("Den\ud800Up", "Den Up"),
        ("Den\ufffeUp", "Den Up"),
        ("\tDen \n Up\r\n", "Den Up"),
        ("Den\u2028Up", "Den Up"),
        ("K\u00fc\u00adche", "K\u00fcche"),
        ("\u202eDen", "Den"),
        ("Dad's Office", "Dad's Office"),
        ("Kids & <Guests>", "Kids & <Guests>"),
        ("B\u00fcro", "B\u00fcro"),
        ("\x00\x1b\u200b", ""),
        (None, ""),
        (42, ""),
        (["Den"], ""),
    ],
)
def test_a_name_keeps_its_readable_text_and_nothing_else(raw, clean):
    from nest_skill.thermostats import clean_name

    assert clean_name(raw) == clean


def test_the_308_character_name_from_the_field_is_cut_at_a_word_within_128():
    assert len(HOSTILE_NAME) == 308
    thermostat_ = Thermostat.from_sdm(thermostat(custom_name=HOSTILE_NAME))
    assert thermostat_.name == HOSTILE_NAME_CLEANED and len(HOSTILE_NAME_CLEANED) == 120


@pytest.mark.parametrize(
    "name, kept",
    [
        ("a" * 100 + " " + "b" * 27, "a" * 100 + " " + "b" * 27),  # 128 characters: whole
        ("a" * 100 + " " + "b" * 27 + " tail", "a" * 100 + " " + "b" * 27),  # the word ending at 128 kept
        ("a" * 100 + " " + "b" * 28, "a" * 100),  # a word crossing 128 dropped
        ("a" * 64 + " " + "b" * 200, "a" * 64 + " " + "b" * 63),  # no word ends in the second half: cut at 128
    ],
    ids=["exactly 128", "a word ending at 128", "a word crossing 128", "no word ending in the second half"],
)
def test_a_long_name_is_cut_at_the_last_word_ending_within_128(name, kept):
    assert Thermostat.from_sdm(thermostat(custom_name=name)).name == kept


def test_a_name_without_spaces_is_cut_at_128():
    assert Thermostat.from_sdm(thermostat(custom_name="x" * 300)).name == "x" * 128


@pytest.mark.parametrize(
    "custom, room, name, by_room",
    [
        ("\x00\x1b\u200b", "Den", "Den", True),
        ("\x00", "\x07\u2028", "thermostat", False),
        ("Upstairs\x00", "Den", "Upstairs", False),
    ],
)
def test_when_nothing_readable_is_left_the_next_name_is_used(custom, room, name, by_room):
    thermostat_ = Thermostat.from_sdm(thermostat(custom_name=custom, room=room))
    assert (thermostat_.name, thermostat_.named_by_room) == (name, by_room)
    assert "\x00" not in "".join(thermostat_.aliases)


def test_a_homes_name_is_cleaned_and_an_unreadable_one_is_left_out():
    structures = [structure("home", "Home\n\u202eemoH"), structure("lake", "\x00\x07")]
    assert list(structure_names(structures).values()) == ["Home emoH"]


def test_the_custom_skill_says_the_cleaned_name(skill, sdm_api):
    sdm_api.get(DEVICES_URL, json=device_list(thermostat(custom_name=HOSTILE_NAME)))
    reply = skill.lambda_handler(alexa.status(), None)
    assert spoken(reply).startswith(HOSTILE_NAME_CLEANED + " is ")
    assert valid_response(reply)["card"]["content"].startswith(HOSTILE_NAME_CLEANED + " is ")


def test_the_custom_skill_asks_about_two_homes_by_their_cleaned_names(skill, sdm_api):
    sdm_api.get(
        DEVICES_URL,
        json=device_list(
            thermostat("a", "Living Room", structure="home"), thermostat("b", "Living Room", structure="lake")
        ),
    )
    sdm_api.get(STRUCTURES_URL, json=structure_list(structure("home", "Home\x00"), structure("lake", "Lake\x07House")))
    reply = skill.lambda_handler(alexa.set_temp("70", "living room"), None)
    assert spoken(reply) == "Which one: the Living Room at Home, or at Lake House?"
