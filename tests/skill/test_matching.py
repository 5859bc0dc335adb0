"""Which thermostat a spoken name means (thermostats.closeness, match, choose): only exact names are acted on,
near misses are only candidates, no standard room is taken for another, and an answer to "which one?"
chooses by name, home or order."""

from __future__ import annotations

import pytest

from nest_skill.thermostats import Closeness, Thermostat, choose, closeness, match
from tests.skill.sdm import thermostat

THERMOSTATS = [
    Thermostat.from_sdm(d)
    for d in (
        thermostat("a", room="Upstairs Hallway"),
        thermostat("b", room="Downstairs Hallway"),
        thermostat("c", room="Bedroom", custom_name="Guest Suite"),
        thermostat("d", room="Living Room"),
    )
]


def ids(thermostats) -> tuple:
    return tuple(t.device_name.rsplit("/", 1)[-1] for t in thermostats)


# Google Home's standard room names (Home app, "Choose a room"): no two may be taken for each other.
STANDARD_ROOMS = [
    "Attic",
    "Back Door",
    "Backyard",
    "Basement",
    "Bathroom",
    "Bedroom",
    "Closet",
    "Deck",
    "Den",
    "Dining Room",
    "Downstairs",
    "Driveway",
    "Entryway",
    "Family Room",
    "Front Door",
    "Front Yard",
    "Garage",
    "Guest Bathroom",
    "Guest Bedroom",
    "Guest Room",
    "Gym",
    "Hall",
    "Hallway",
    "Kids Room",
    "Kitchen",
    "Landing",
    "Laundry Room",
    "Living Room",
    "Lounge",
    "Master Bathroom",
    "Master Bedroom",
    "Mudroom",
    "Nursery",
    "Office",
    "Outside",
    "Pantry",
    "Patio",
    "Playroom",
    "Porch",
    "Primary Bathroom",
    "Primary Bedroom",
    "Shed",
    "Side Door",
    "Study",
    "Sunroom",
    "Upstairs",
    "Utility Room",
    "Workshop",
]
ROOM_PAIRS = [(said, named) for said in STANDARD_ROOMS for named in STANDARD_ROOMS if said != named]


def t(**kwargs) -> Thermostat:
    return Thermostat.from_sdm(thermostat(**kwargs))


OFFICE = t(device_id="office", room="Office")
DEN = t(device_id="den", room="Den")
HALL = t(device_id="hall", room="Hall")
UPSTAIRS = t(device_id="up", room="Upstairs-Hallway")


@pytest.mark.parametrize(
    "said, exact, near",
    [
        ("upstairs hallway", "a", ""),
        ("the upstairs hallway thermostat", "a", ""),
        ("UPSTAIRS HALLWAY", "a", ""),
        ("guest suite", "c", ""),
        ("bedroom", "c", ""),
        ("bed room", "c", ""),
        ("Living Room's", "d", ""),
        ("Upstairs", "", "a"),
        ("downstairs", "", "b"),
        ("living groom", "", "d"),
        ("living rom", "", "d"),
        ("leaving room", "", "d"),
        ("hallway", "", "ab"),
        ("kitchen", "", ""),
        ("", "", ""),
        ("the", "", ""),
    ],
)
def test_only_exact_names_may_be_acted_on_near_misses_are_only_candidates(said, exact, near):
    found = match(THERMOSTATS, said)
    assert (ids(found.exact), ids(found.near)) == (tuple(exact), tuple(near))


def test_an_exact_match_on_what_was_heard_beats_entity_resolutions_value():
    family = [*THERMOSTATS, Thermostat.from_sdm(thermostat("f", room="Family Room"))]
    assert ids(match(family, "family room", "living room").exact) == ("f",)
    found_by_synonym = match(THERMOSTATS, "front room", "living room")
    assert ids(found_by_synonym.exact) == () and ids(found_by_synonym.near) == ("d",)


def test_the_same_room_in_two_homes_is_two_exact_matches():
    two = [
        Thermostat.from_sdm(thermostat("x", room="Living Room")),
        Thermostat.from_sdm(thermostat("y", room="Living Room")),
    ]
    assert ids(match(two, "living room").exact) == ("x", "y")


def test_no_standard_room_is_ever_taken_for_another():
    """A different room is never an exact match, and is not even a near-miss unless it was named in
    part ("Bedroom" said for the only "Guest Bedroom"), which is only ever asked about."""
    assert len(ROOM_PAIRS) > 2000
    for said, named in ROOM_PAIRS:
        found = closeness(said, named)
        assert found is not Closeness.EXACT, (said, named)
        assert found is Closeness.NONE or set(said.lower().split()) < set(named.lower().split()), (said, named)


@pytest.mark.parametrize(
    "said, named",
    [
        ("Guest Bedroom", "Guest Bathroom"),
        ("Master Bedroom", "Master Bathroom"),
        ("Dining Room", "Living Room"),
        ("Bedroom", "Bathroom"),
        ("Upstairs", "Downstairs"),
        ("Front Door", "Back Door"),
        ("Front Yard", "Backyard"),
        ("Garage", "Garden"),
        ("Mudroom", "Bedroom"),
        ("Hall", "Hallway"),
        ("Kids Room", "Guest Room"),
    ],
)
def test_similar_rooms_are_different_rooms(said, named):
    assert closeness(said, named) is Closeness.NONE


def test_with_every_standard_room_present_each_name_finds_only_its_own_room():
    rooms = [Thermostat.from_sdm(thermostat(f"r{i}", room=room)) for i, room in enumerate(STANDARD_ROOMS)]
    for i, room in enumerate(STANDARD_ROOMS):
        assert ids(match(rooms, room).exact) == (f"r{i}",), room


def test_kitchen_thermostat_finds_nothing_when_there_is_only_an_office():
    found = match([OFFICE], "kitchen thermostat")
    assert (found.exact, found.near) == ((), ())


@pytest.mark.parametrize(
    "said, exact, near",
    [
        ("the den", ("Den",), ()),
        ("den thermostat", ("Den",), ()),
        ("the den thermostats", ("Den",), ()),
        ("upstairs", (), ("Upstairs-Hallway",)),
        ("upstairs hallway", ("Upstairs-Hallway",), ()),
        ("the hal", (), ("Hall",)),
        ("thermostat den", (), ()),
        ("hall den", (), ()),
    ],
)
def test_names_as_spoken(said, exact, near):
    found = match([OFFICE, DEN, HALL, UPSTAIRS], said)
    assert (tuple(x.name for x in found.exact), tuple(x.name for x in found.near)) == (exact, near)


def test_the_thermostat_names_the_only_one_and_none_of_two():
    assert match([OFFICE], "the thermostat").exact == (OFFICE,)
    assert match([OFFICE], "").exact == (OFFICE,)
    assert (match([OFFICE, DEN], "the thermostat").exact, match([OFFICE, DEN], "the thermostat").near) == ((), ())


@pytest.mark.parametrize(
    "spoken, name, expected",
    [
        ("Dad's Offices", "dads office", Closeness.EXACT),
        ("bed room", "Bedroom", Closeness.EXACT),
        ("the class", "Class", Closeness.EXACT),
        ("office", "Offices", Closeness.EXACT),
        ("bus", "Bu", Closeness.NEAR),
        ("bu", "Bus", Closeness.NEAR),
        ("living rom", "Living Room", Closeness.NEAR),
        ("leaving room", "Living Room", Closeness.NEAR),
        ("dining room", "Living Room", Closeness.NONE),
        ("guest bathroom", "Guest Bedroom", Closeness.NONE),
        ("living room", "living", Closeness.NONE),
        ("the", "Den", Closeness.NONE),
        # each rule at its edge
        ("Dad\u2019s Office", "Dads Office", Closeness.EXACT),
        ("dens", "Den", Closeness.EXACT),
        ("class", "Clas", Closeness.NEAR),
        ("boss", "Bos", Closeness.NEAR),
        ("room living", "Living Room", Closeness.NONE),
        ("halt", "Hall", Closeness.NEAR),
    ],
)
def test_closeness(spoken, name, expected):
    assert closeness(spoken, name) is expected


def test_only_what_was_heard_matches_exactly_and_a_resolution_is_near():
    family = t(device_id="family", room="Family Room")
    living = t(device_id="living", room="Living Room")
    assert match([family, living], "family room", "living room").exact == (family,)
    misheard = match([family, living], "famly room", "living room")
    assert misheard.exact == () and misheard.near == (family, living)


@pytest.mark.parametrize(
    "answer, chosen",
    [
        ("the first one", "Den"),
        ("second", "Hall"),
        ("3rd", "Office"),
        ("the last one", "Office"),
        ("fourth", None),
        ("hall", "Hall"),
        ("the one", "Den"),
        ("first hall", None),
    ],
)
def test_choosing_among_three(answer, chosen):
    picked = choose([DEN, HALL, OFFICE], answer)
    assert (picked.name if picked else None) == chosen


def test_a_near_answer_chooses_the_one_it_fits():
    assert choose([DEN, HALL], "hal") is HALL
