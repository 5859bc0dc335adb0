"""The custom skill in the household's language: each locale's request gets its language's catalog
(custom_skill/messages), every message the English skill can say exists in every language with the
same arguments, numbers read as the language reads them, names as the user wrote them, and the
conversations of the English tests, run through the Lambda in each locale, match their snapshots
(tests/skill/__snapshots__/test_languages.ambr; review the diff after
`pytest tests/skill/test_languages.py --snapshot-update`)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import requests
import responses

from nest_skill.controls import BeyondLimit, Fan
from nest_skill.custom_skill import catalog
from nest_skill.custom_skill.catalog import Catalog, CatalogError, parse
from nest_skill.custom_skill.speech import Speech
from nest_skill.sdm_errors import Failure
from nest_skill.thermostats import Thermostat, choose
from sandbox import alexa
from sandbox.alexa import card_type, ends_session, reprompt, spoken, valid_response
from tests.skill.sdm import DEVICES_URL, command_url, device_list, device_url, error_body, serve_devices, thermostat

MESSAGES = Path(catalog.MESSAGES_DIR)
SPEECH_SOURCE = Path(__file__).resolve().parents[2] / "lambda_src" / "nest_skill" / "custom_skill" / "speech.py"
LOCALES = ("en-US", "de-DE", "ja-JP", "fr-FR", "fr-CA", "es-ES", "es-MX", "es-US", "it-IT")
"""The locales whose conversations are snapshotted: English, each language the skill speaks, and each
locale with an overlay of its own (fr-CA, es-MX, es-US)."""
OPTIONAL_ARGUMENTS = catalog.CONTEXT_ARGUMENTS | {"by_room"}
"""Arguments a language may leave unused: the scale (for "Grad Fahrenheit"), and whether the name is a
room's (English says "the Bedroom" but "Dad's Office")."""


def messages(name: str) -> dict:
    return json.loads((MESSAGES / f"{name}.json").read_text(encoding="utf-8"))


def arguments(text: str) -> frozenset:
    return catalog.arguments(parse(text))


# --- the catalogs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", catalog.languages()[1:])
def test_every_english_message_exists_in_every_language_with_the_same_arguments(language):
    english, translated = messages("en"), messages(language)
    assert set(translated) == set(english)
    for key, text in english.items():
        assert arguments(translated[key]) - OPTIONAL_ARGUMENTS == arguments(text) - OPTIONAL_ARGUMENTS, key


@pytest.mark.parametrize("overlay", catalog.overlays())
def test_a_locale_overlay_changes_only_messages_its_language_has_with_the_same_arguments(overlay):
    english, changed = messages("en"), messages(overlay)
    assert changed and set(changed) <= set(english)
    for key, text in changed.items():
        assert arguments(text) - OPTIONAL_ARGUMENTS == arguments(english[key]) - OPTIONAL_ARGUMENTS, key


def test_every_english_message_is_one_the_skill_can_say():
    """Each message id is named in speech.py, as a string or as one of Speech's upper-case attributes
    (a message no code path asks for would go untranslated unnoticed); a message asked for but missing
    fails every conversation test with a KeyError."""
    tree = ast.parse(SPEECH_SOURCE.read_text(encoding="utf-8"))
    named = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    named |= {
        node.target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    named |= {name.lower() for name in named if name.isupper()} | {"list_and", "list_or"}
    assert set(messages("en")) <= named, set(messages("en")) - named


@pytest.mark.parametrize("text", ["{name", "{a, select, x {y}}", "{a, plural, one {#}", "{a, choose, other {b}}", "}"])
def test_a_message_that_does_not_parse_is_refused_when_the_catalog_loads(text):
    with pytest.raises(CatalogError):
        Catalog("en", {"broken": text})


@pytest.mark.parametrize("locale", [*catalog.languages(), *catalog.overlays()])
def test_every_catalog_loads_with_every_message_the_skill_can_say(locale):
    """Each language's and locale's catalog, as the first request in it loads it: every message parses
    (a malformed one fails here, before it ships) and every English message is there."""
    words = catalog.for_locale(locale)
    assert words.language == locale.split("-")[0]
    assert words.keys() == set(messages("en"))


@pytest.fixture
def messages_dir(tmp_path, monkeypatch):
    """An empty messages/ in place of the skill's, with no catalog loaded from either before or after."""
    cached = (catalog.languages, catalog.overlays, catalog._catalog)
    for function in cached:
        function.cache_clear()
    monkeypatch.setattr(catalog, "MESSAGES_DIR", tmp_path)
    yield tmp_path
    for function in cached:
        function.cache_clear()


def test_a_malformed_catalog_fails_loudly_at_the_first_request_in_its_language(messages_dir):
    (messages_dir / "en.json").write_text(json.dumps(messages("en")), encoding="utf-8")
    (messages_dir / "de.json").write_text(json.dumps({**messages("de"), "welcome": "Willkommen {name"}), "utf-8")
    welcome = Speech.for_locale("en-US").WELCOME  # another language loads as ever
    assert welcome == Catalog("en", messages("en"))("welcome")
    with pytest.raises(CatalogError, match="Willkommen"):
        Speech.for_locale("de-DE")


# --- choosing the language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "locale, language",
    [
        ("de-DE", "de"),
        ("de-AT", "de"),
        ("ja-JP", "ja"),
        ("fr-FR", "fr"),
        ("fr-CA", "fr"),
        ("es-ES", "es"),
        ("es-MX", "es"),
        ("es-US", "es"),
        ("it-IT", "it"),
        ("en-GB", "en"),
        ("pt-BR", "en"),
        ("", "en"),
        (None, "en"),
        ("../../etc", "en"),
    ],
)
def test_the_request_locale_chooses_its_language_and_an_unknown_one_speaks_english(locale, language):
    assert Speech.for_locale(locale).language == language


def test_a_request_in_a_language_the_skill_lacks_is_answered_in_english(skill):
    reply = skill.lambda_handler(alexa.launch(locale="pt-BR", token=None), None)
    assert spoken(reply).startswith("To control your thermostats, please link your Nest account")


# --- numbers and names --------------------------------------------------------------------------------


def status_line(locale: str, **kwargs) -> str:
    return Speech.for_locale(locale).status([Thermostat.from_sdm(thermostat(**kwargs))])


@pytest.mark.parametrize(
    "locale, heard",
    [
        ("en-US", "The Living Room is 21.5 degrees, heating to 22."),
        ("de-DE", "Living Room: 21,5 Grad, heizt auf 22 Grad."),
        ("ja-JP", "Living Roomは21.5度で、暖房で22度に設定されています。"),
        ("fr-FR", "Le thermostat Living Room indique 21,5 degrés, en mode chauffage à 22 degrés."),
        ("es-ES", "El termostato Living Room marca 21,5 grados, en modo calefacción a 22 grados."),
        ("it-IT", "Il termostato Living Room segna 21,5 gradi, in riscaldamento a 22 gradi."),
    ],
)
def test_a_celsius_thermostat_is_read_with_the_languages_decimal_mark(locale, heard):
    assert status_line(locale, scale="CELSIUS", ambient_c=21.26, heat_c=22.0) == heard


@pytest.mark.parametrize(
    "locale, heard",
    [
        ("de-DE", "Schlafzimmer: 71 Grad Fahrenheit, kühlt auf 75 Grad Fahrenheit."),
        ("ja-JP", "Schlafzimmerは華氏71度で、冷房で華氏75度に設定されています。"),
        (
            "fr-CA",
            "Le thermostat Schlafzimmer indique 71 degrés Fahrenheit, en mode climatisation à 75 degrés Fahrenheit.",
        ),
        (
            "es-MX",
            "El termostato Schlafzimmer marca 71 grados Fahrenheit, en modo refrigeración a 75 grados Fahrenheit.",
        ),
        ("it-IT", "Il termostato Schlafzimmer segna 71 gradi Fahrenheit, in raffrescamento a 75 gradi Fahrenheit."),
    ],
)
def test_a_thermostat_the_nest_app_shows_in_fahrenheit_says_so_outside_english(locale, heard):
    assert status_line(locale, room="Schlafzimmer", mode="COOL", cool_c=24.0) == heard


def test_a_fahrenheit_reading_in_an_unknown_mode_and_nests_refusals_name_the_scale_outside_english():
    assert status_line("de-DE", room="Schlafzimmer", mode="SOME_FUTURE_MODE", ambient_c=21.1111) == (
        "Schlafzimmer: 70 Grad Fahrenheit."
    )
    out_of_range = Speech.for_locale("de-DE").failure(
        Failure.OUT_OF_RANGE, Thermostat.from_sdm(thermostat(room="Schlafzimmer"))
    )
    assert out_of_range == (
        "Schlafzimmer lässt sich nur zwischen 50 und 90 Grad Fahrenheit einstellen, deshalb wurde nichts geändert."
    )
    too_narrow = Speech.for_locale("de-DE").failure(
        Failure.RANGE_TOO_NARROW, Thermostat.from_sdm(thermostat(room="Schlafzimmer"))
    )
    assert too_narrow == (
        "Nest braucht bei Schlafzimmer mindestens 3 Grad Fahrenheit Abstand zwischen Heiz- und Kühltemperatur, "
        "deshalb wurde nichts geändert."
    )


def test_a_us_spanish_household_hears_fahrenheit_as_plain_degrees_and_celsius_named():
    """es-US: a US thermostat reads Fahrenheit, so "grados" is enough; a Celsius one says so."""
    assert status_line("es-US", room="Sala", mode="COOL", cool_c=24.0) == (
        "El termostato Sala marca 71 grados, en modo refrigeración a 75 grados."
    )
    assert status_line("es-US", room="Sala", scale="CELSIUS", ambient_c=21.26, heat_c=22.0) == (
        "El termostato Sala marca 21,5 grados Celsius, en modo calefacción a 22 grados Celsius."
    )


@pytest.mark.parametrize(
    "locale, heard",
    [
        ("fr-FR", "Le thermostat Garage indique 1,5 degré, en mode chauffage à 10 degrés."),
        ("es-ES", "El termostato Garage marca 1 grado, en modo calefacción a 10 grados."),
        ("it-IT", "Il termostato Garage segna 1 grado, in riscaldamento a 10 gradi."),
    ],
)
def test_one_degree_is_singular_as_the_language_counts(locale, heard):
    """French counts below 2 as singular ("1,5 degré"); Spanish and Italian only 1 ("1 grado")."""
    ambient = 1.5 if locale == "fr-FR" else 1.0
    assert status_line(locale, room="Garage", scale="CELSIUS", ambient_c=ambient, heat_c=10.0) == heard


def test_quebec_french_says_presentement_where_france_says_en_ce_moment():
    france = status_line("fr-FR", room="Salon", scale="CELSIUS", ambient_c=20.0, heat_c=21.0, hvac="HEATING")
    quebec = status_line("fr-CA", room="Salon", scale="CELSIUS", ambient_c=20.0, heat_c=21.0, hvac="HEATING")
    assert france.endswith("et il chauffe en ce moment.") and quebec.endswith("et il chauffe présentement.")


def test_mexican_and_us_spanish_use_the_preterite_where_spain_uses_the_present_perfect():
    assert Speech.for_locale("es-ES").NOT_CHANGED == "De acuerdo, no he cambiado nada."
    assert (
        Speech.for_locale("es-MX").NOT_CHANGED
        == Speech.for_locale("es-US").NOT_CHANGED
        == ("De acuerdo, no cambié nada.")
    )


@pytest.mark.parametrize("name", ["Büro von Papa", "dad's OFFICE", "子供部屋"])
@pytest.mark.parametrize("locale", LOCALES)
def test_names_are_kept_as_the_user_wrote_them(locale, name):
    text = status_line(locale, custom_name=name, scale="CELSIUS", ambient_c=20.0, heat_c=21.0)
    assert name in text or name[:1].upper() + name[1:] in text


# --- sentences, durations and setpoints, as each language puts them together ----------------------------


def two_thermostats() -> list:
    return [
        Thermostat.from_sdm(thermostat("a", room="Bad", scale="CELSIUS", ambient_c=20.0, heat_c=21.0)),
        Thermostat.from_sdm(thermostat("b", room="Flur", scale="CELSIUS", ambient_c=19.0, heat_c=20.0)),
    ]


@pytest.mark.parametrize("locale", LOCALES)
def test_sentences_follow_each_other_as_the_language_writes_them(locale):
    """Japanese runs sentences on after "。" with no space (a card would show "。 "); the others leave one."""
    words = Speech.for_locale(locale)
    status, humidity = words.status(two_thermostats()), words.humidity(two_thermostats())
    unknown, question = words.unknown_thermostat("Garage", two_thermostats())
    if locale == "ja-JP":
        assert "。Flurは19度" in status and "。Flurの湿度" in humidity and unknown.endswith("。" + question)
        assert all(" " not in text for text in (status, humidity, unknown.replace("Partner Connections", "")))
    else:
        assert re.search(r"\. \S", status) and re.search(r"\. \S", humidity) and unknown.endswith(". " + question)
        assert "  " not in status + humidity + unknown


@pytest.mark.parametrize(
    "locale, seconds, heard",
    [
        ("ja-JP", 5400, "1時間30分"),
        ("ja-JP", 5430, "1時間30分30秒"),
        ("ja-JP", 90, "1分30秒"),
        ("ja-JP", 3600, "1時間"),
        ("de-DE", 5400, "eine Stunde und 30 Minuten"),
        ("de-DE", 5430, "eine Stunde, 30 Minuten und 30 Sekunden"),
        ("fr-FR", 3630, "une heure et 30 secondes"),
        ("es-ES", 90, "un minuto y 30 segundos"),
        ("it-IT", 7200, "2 ore"),
        ("it-IT", 5400, "un'ora e 30 minuti"),
    ],
)
def test_a_fan_duration_is_composed_as_the_language_says_it(locale, seconds, heard):
    """Japanese counts hours and minutes on without a conjunction (1時間30分, never 1時間と30分)."""
    said = Speech.for_locale(locale).changed(Fan(True, seconds).plan(Thermostat.from_sdm(thermostat())))
    assert heard in said
    if locale == "ja-JP":
        assert "と" not in said


@pytest.mark.parametrize(
    "locale, scale, heard",
    [
        ("ja-JP", "CELSIUS", "今の設定温度は10.5度と16度です。"),
        ("ja-JP", "FAHRENHEIT", "今の設定温度は華氏51度と華氏61度です。"),
        ("de-DE", "CELSIUS", "Gerade sind 10,5 und 16 Grad eingestellt."),
        ("fr-FR", "FAHRENHEIT", "Il est réglé sur 51 et 61 degrés Fahrenheit."),
        ("es-US", "CELSIUS", "Está ajustado a 10,5 y 16 grados Celsius."),
        ("it-IT", "CELSIUS", "È impostato a 10,5 e 16 gradi."),
    ],
)
def test_two_setpoints_carry_their_unit_where_the_language_puts_it(locale, scale, heard):
    """Japanese says the unit with each number (20度と24度, not 20と24度); German, French, Spanish and
    Italian say it once after the pair."""
    device = Thermostat.from_sdm(thermostat(mode="HEATCOOL", scale=scale, heat_c=10.5, cool_c=16.0))
    setpoints = tuple(device.shown(c) for c in (device.heat_c, device.cool_c))
    said = Speech.for_locale(locale).cannot_change(BeyondLimit(device, device.shown(10.0), setpoints))
    assert said.endswith(heard)


@pytest.mark.parametrize(
    "answer, index",
    [
        ("the first one", 0),
        ("das erste", 0),
        ("den zweiten", 1),
        ("le premier", 0),
        ("la deuxième", 1),
        ("el primero", 0),
        ("la segunda", 1),
        ("il primo", 0),
        ("la seconda", 1),
        ("1番目", 0),
        ("二番目", 1),
        ("最初の", 0),
        ("2つ目のほう", 1),
        ("die letzte", 1),
        ("最後", 1),
    ],
)
def test_which_one_answers_by_position_in_each_language(answer, index):
    candidates = [Thermostat.from_sdm(thermostat(f"t{i}", room="Wohnzimmer")) for i in range(2)]
    assert choose(candidates, answer) is candidates[index]


@pytest.mark.parametrize("answer", ["in Seehaus", "Seehaus", "湖の家のほう", "湖の家"])
def test_which_one_answers_by_home_in_each_language(answer):
    home = Thermostat.from_sdm(thermostat("a", room="Wohnzimmer"))
    lake = Thermostat.from_sdm(thermostat("b", room="Wohnzimmer", structure="lake"))
    from dataclasses import replace

    candidates = [replace(home, home="Zuhause"), replace(lake, home="Seehaus" if "Seehaus" in answer else "湖の家")]
    assert choose(candidates, answer) is candidates[1]


# --- conversations, end to end, per locale ------------------------------------------------------------

ROOMS = {
    "en": ("Living Room", "Bedroom"),
    "de": ("Wohnzimmer", "Schlafzimmer"),
    "ja": ("リビング", "寝室"),
    "fr": ("Salon", "Chambre"),
    "es": ("Salón", "Dormitorio"),
    "es-MX": ("Sala", "Recámara"),
    "es-US": ("Sala", "Recámara"),
    "it": ("Soggiorno", "Camera da letto"),
}
"""The rooms as a household names them in Google Home, by language or, where it differs, by locale."""
HEARD = {  # what Alexa hears for: the living room misheard, the first one, an unknown room
    "en": ("livin room", "the first one", "garage"),
    "de": ("wohnzimmr", "das erste", "garage"),
    "ja": ("リビンク", "1番目", "ガレージ"),
    "fr": ("salan", "le premier", "garage"),
    "es": ("salon", "el primero", "garaje"),
    "es-MX": ("zala", "el primero", "cochera"),
    "es-US": ("zala", "el primero", "garaje"),
    "it": ("sogiorno", "il primo", "garage"),
}


def slots(locale: str, **values) -> dict:
    return {
        name: (alexa.resolved_slot(name, *value) if isinstance(value, tuple) else alexa.slot(name, value))
        for name, value in values.items()
    }


def conversation(load_skill, sdm_api, locale: str) -> list:
    """The English tests' conversations in `locale`: what Alexa says, asks again and shows, turn by turn."""
    language = locale.split("-")[0]
    living, bedroom = ROOMS.get(locale, ROOMS[language])
    misheard, first, unknown = HEARD.get(locale, HEARD[language])
    devices = (
        thermostat("living", room=living, scale="CELSIUS", ambient_c=21.26, heat_c=21.0, hvac="HEATING"),
        thermostat(
            "bed",
            room=bedroom,
            scale="FAHRENHEIT" if language == "en" else "CELSIUS",
            mode="COOL",
            cool_c=24.0,
            ambient_c=24.6,
            hvac="OFF",
            fan=None,
        ),
    )
    serve_devices(sdm_api, *devices)
    skill = load_skill()
    turns = []

    def say(label: str, event: dict, container=None) -> dict:
        reply = (container or skill).lambda_handler(event, None)
        response = valid_response(reply)
        card = response.get("card") or {}
        turns.append(
            {
                "turn": label,
                "says": spoken(reply),
                "asks": reprompt(reply) if not ends_session(reply) else None,
                "card": card_type(reply),
                "card_text": card.get("content"),
            }
        )
        return reply

    def intent(name: str, attributes=None, **values) -> dict:
        return alexa.intent(name, slots(locale, **values), locale=locale, attributes=attributes)

    say("launch, not linked", alexa.launch(locale=locale, token=None))
    say("launch", alexa.launch(locale=locale))
    say("status", intent("StatusIntent", thermostat=None))
    say("status of one", intent("StatusIntent", thermostat=living))
    say("set a room", intent("SetTempIntent", thermostat=living, temperature="22.5"))
    asked = say("set without a room", intent("SetTempIntent", thermostat=None, temperature="21"))
    say("which one: a room", intent("SetTempIntent", asked["sessionAttributes"], thermostat=bedroom, temperature=None))
    asked = say("did you mean", intent("SetTempIntent", thermostat=misheard, temperature="20"))
    say("yes", alexa.intent("AMAZON.YesIntent", locale=locale, attributes=asked["sessionAttributes"]))
    say("out of range", intent("SetTempIntent", thermostat=living, temperature="40"))
    say("unknown room", intent("SetTempIntent", thermostat=unknown, temperature="20"))
    say("mode: cool", intent("SetModeIntent", thermostat=living, mode=("cool", "THERMOSTAT_MODE", "COOL")))
    say("mode: eco", intent("SetModeIntent", thermostat=living, mode=("eco", "THERMOSTAT_MODE", "ECO")))
    say("mode: missing", intent("SetModeIntent", thermostat=living, mode=None))
    say("eco off, not in eco", intent("EcoOffIntent", thermostat=living))
    say("warmer", intent("AdjustTempIntent", thermostat=living, direction=("warmer", "DIRECTION", "UP"), amount=None))
    say(
        "cooler by 2",
        intent("AdjustTempIntent", thermostat=bedroom, direction=("cooler", "DIRECTION", "DOWN"), amount="2"),
    )
    say("fan for 90 minutes", intent("FanIntent", thermostat=living, fan_state=None, duration="PT1H30M"))
    say("fan off, no fan", intent("FanIntent", thermostat=bedroom, fan_state=("off", "ON_OFF", "OFF"), duration=None))
    say("humidity", intent("HumidityIntent", thermostat=None))
    say("help", alexa.intent("AMAZON.HelpIntent", locale=locale))
    say("fallback", alexa.intent("AMAZON.FallbackIntent", locale=locale))
    say("no", alexa.intent("AMAZON.NoIntent", locale=locale))
    say("stop", alexa.intent("AMAZON.StopIntent", locale=locale))
    twins = (thermostat("twin-a", room=living, scale="CELSIUS"), thermostat("twin-b", room=living, scale="CELSIUS"))
    serve_devices(sdm_api, *twins)
    sdm_api.replace(responses.GET, DEVICES_URL, json=device_list(*twins))
    other_home = load_skill()  # a household with two thermostats of the same name
    asked = say("two of the same name", intent("SetTempIntent", thermostat=living, temperature="19"), other_home)
    say(
        "which one: the first",
        intent("SetTempIntent", asked["sessionAttributes"], thermostat=first, temperature=None),
        other_home,
    )
    sdm_api.replace(
        responses.POST, command_url("living"), status=429, json=error_body(429, "RESOURCE_EXHAUSTED", "Rate limited")
    )
    say("rate limited", intent("SetTempIntent", thermostat=living, temperature="21"))
    sdm_api.replace(responses.GET, DEVICES_URL, status=401, json=error_body(401, "UNAUTHENTICATED", "expired"))
    say("token no longer valid", intent("StatusIntent", thermostat=None))
    return turns


@pytest.mark.parametrize("locale", LOCALES)
def test_the_conversations_in_each_language(load_skill, sdm_api, snapshot, locale):
    assert conversation(load_skill, sdm_api, locale) == snapshot


IN_TIME = {"en": "in time", "de": "rechtzeitig", "ja": "時間内", "fr": "à temps", "es": "a tiempo", "it": "in tempo"}
"""How each language says "in time": a claim an unconfirmed change must not make, since SDM may have
answered at once with a failure it may have carried out regardless."""
UNCONFIRMED_CAUSES = {
    "no answer by the deadline": dict(body=requests.ReadTimeout("read timed out")),
    "500 INTERNAL": dict(status=500, json=error_body(500, "INTERNAL", "Internal error encountered.")),
    "504 DEADLINE_EXCEEDED": dict(
        status=504, json=error_body(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete.")
    ),
}


@pytest.mark.parametrize("cause", UNCONFIRMED_CAUSES)
@pytest.mark.parametrize("locale", LOCALES)
def test_a_change_nest_did_not_confirm_may_or_may_not_have_been_made_whatever_the_cause(skill, sdm_api, locale, cause):
    """A command sent and not confirmed, whether its answer never came or SDM failed while carrying it
    out, is worded the same, and never as lateness."""
    language = locale.split("-")[0]
    living = ROOMS.get(locale, ROOMS[language])[0]
    device = thermostat("living", room=living, scale="CELSIUS")
    sdm_api.get(DEVICES_URL, json=device_list(device))
    sdm_api.get(device_url("living"), json=device)
    sdm_api.post(command_url("living"), **UNCONFIRMED_CAUSES[cause])
    reply = skill.lambda_handler(
        alexa.intent("SetTempIntent", slots(locale, thermostat=living, temperature="21"), locale=locale), None
    )
    assert spoken(reply) == Speech.for_locale(locale).unconfirmed(Thermostat.from_sdm(device))
    assert "Nest" in spoken(reply) and IN_TIME[language] not in spoken(reply)
