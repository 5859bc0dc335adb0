"""The interaction models in languages other than English: the English model's intents, slots and slot
types with the same value ids (the handlers act on ids, never on words), a localized invocation name
that follows Amazon's rules for the language, samples in plain words, store texts whose example
phrases reach a sample, and a manifest that passes the certification checks in each locale; and, in
every locale English included, "stop the heating" never sets the heating mode."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from ops.ask_project import render_ask_project
from sandbox.fake_smapi import certification_problems, read_package
from stacks.config import ALEXA_API_REGIONS, ALEXA_REGIONS, PACKAGE_LOCALES

PACKAGE = Path(__file__).resolve().parents[2] / "skill_package"
MODELS = PACKAGE / "interactionModels" / "custom"
LANGUAGES = {
    "de-DE": "DE",
    "ja-JP": "JP",
    "fr-FR": "FR",
    "fr-CA": "CA",
    "es-ES": "ES",
    "es-MX": "MX",
    "es-US": "US",
    "it-IT": "IT",
}
"""Each non-English locale and the country it is published in."""
EXPECTED_REGIONS = {
    "de-DE": "EU",
    "ja-JP": "FE",
    "fr-FR": "EU",
    "es-ES": "EU",
    "it-IT": "EU",
    "fr-CA": "NA",
    "es-MX": "NA",
    "es-US": "NA",
}
"""Amazon's table (Develop Smart Home Skills for Multiple Languages): the Alexa region serving each locale."""
_FRENCH_LAUNCH = re.compile(r"^alexa, (?:ouvre|lance) (?P<invocation>.+)$")
_SPANISH_LAUNCH = re.compile(r"^alexa, (?:abre|inicia) (?P<invocation>.+)$")
LAUNCH = {
    "de-DE": re.compile(r"^alexa, (?:öffne|starte) (?P<invocation>.+)$"),
    "ja-JP": re.compile(r"^アレクサ、(?P<invocation>.+)を(?:開いて|起動して)$"),
    "fr-FR": _FRENCH_LAUNCH,
    "fr-CA": _FRENCH_LAUNCH,
    "es-ES": _SPANISH_LAUNCH,
    "es-MX": _SPANISH_LAUNCH,
    "es-US": _SPANISH_LAUNCH,
    "it-IT": re.compile(r"^alexa, (?:apri|avvia) (?P<invocation>.+)$"),
}
# French, Spanish and Italian ask with a preposition and an invocation of two or three words; a request
# follows as a question, or as "de ..."/"que ..."/"di ..." with the verb the sample then starts with.
_FRENCH_ASK = re.compile(r"^alexa, demande à (?P<invocation>\S+ \S+) (?:de |d')?(?P<utterance>.+)$")
_SPANISH_ASK = re.compile(
    r"^alexa, (?:pregunta|pide|pregúntale|pídele) a (?P<invocation>\S+ \S+ \S+) "
    r"(?:que )?(?P<utterance>.+)$"
)
ASK = {
    "de-DE": re.compile(r"^alexa, (?:frage|sage|bitte) (?P<invocation>\S+) (?P<utterance>.+)$"),
    "ja-JP": re.compile(r"^アレクサ、(?P<invocation>.+?)で(?P<utterance>.+)$"),
    "fr-FR": _FRENCH_ASK,
    "fr-CA": _FRENCH_ASK,
    "es-ES": _SPANISH_ASK,
    "es-MX": _SPANISH_ASK,
    "es-US": _SPANISH_ASK,
    "it-IT": re.compile(r"^alexa, (?:chiedi|domanda) a (?P<invocation>\S+ \S+ \S+) (?:di )?(?P<utterance>.+)$"),
}
NUMBER_WORDS = {
    "de-DE": r"(?:ein|eins|zwei|drei|vier|fünf|zehn|zwanzig|einundzwanzig|zweiundzwanzig|komma| )+",
    "ja-JP": r"[一二三四五六七八九十百]+",
    "fr-FR": r"(?:un|deux|trois|quatre|cinq|dix|vingt|et|soixante|virgule| )+",
    "es-ES": r"(?:uno|dos|tres|cuatro|cinco|diez|veinte|veintiún|veintiuno|veintidós|setenta|coma| )+",
    "it-IT": r"(?:uno|due|tre|quattro|cinque|dieci|venti|ventuno|ventidue|settanta|virgola| )+",
}
NUMBER_WORDS.update({"fr-CA": NUMBER_WORDS["fr-FR"], "es-MX": NUMBER_WORDS["es-ES"], "es-US": NUMBER_WORDS["es-ES"]})
SLOT = re.compile(r"\{(\w+)\}")


def model(locale: str) -> dict:
    return json.loads((MODELS / f"{locale}.json").read_text(encoding="utf-8"))["interactionModel"]["languageModel"]


def manifest() -> dict:
    return json.loads((PACKAGE / "skill.json").read_text(encoding="utf-8"))


def spoken(value: dict) -> list[str]:
    return [value["name"]["value"], *value["name"].get("synonyms", [])]


def test_the_package_models_exactly_these_languages_besides_english():
    assert {locale for locale in PACKAGE_LOCALES if not locale.startswith("en-")} == set(LANGUAGES)


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_alexa_region_of_each_locale_is_amazons(locale):
    assert ALEXA_API_REGIONS[ALEXA_REGIONS[locale]] == EXPECTED_REGIONS[locale]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_model_reads_back_unchanged_through_the_smapi_model(smapi_read_back, locale):
    document = json.loads((MODELS / f"{locale}.json").read_text(encoding="utf-8"))
    assert smapi_read_back(document, "interaction model") == document


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_model_has_the_english_intents_slots_types_and_value_ids(locale):
    english, translated = model("en-US"), model(locale)
    shape = {i["name"]: [(s["name"], s["type"]) for s in i.get("slots", [])] for i in english["intents"]}
    assert {i["name"]: [(s["name"], s["type"]) for s in i.get("slots", [])] for i in translated["intents"]} == shape
    ids = {t["name"]: [v["id"] for v in t["values"]] for t in english["types"]}
    assert {t["name"]: [v["id"] for v in t["values"]] for t in translated["types"]} == ids
    for slot_type in translated["types"]:
        words = [word for value in slot_type["values"] for word in spoken(value)]
        assert len(words) == len(set(words)), f"{slot_type['name']}: a word resolves to two ids"
    for intent in translated["intents"]:
        if not intent["name"].startswith("AMAZON."):
            assert len(intent["samples"]) >= 15, intent["name"]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_samples_use_declared_slots_and_plain_words_and_never_repeat(locale):
    seen: dict[str, str] = {}
    letters = r"[^\W\d_]+(?:[ '.][^\W\d_]+)*" if locale != "ja-JP" else r"[^\W\d_]+"
    if locale == "it-IT":  # Italian truncates with an apostrophe: "un po' la temperatura"
        letters = r"[^\W\d_]+'?(?:[ '.][^\W\d_]+'?)*"
    for intent in model(locale)["intents"]:
        declared = {slot["name"] for slot in intent.get("slots", [])}
        for sample in intent["samples"]:
            used = SLOT.findall(sample)
            assert set(used) <= declared and len(used) == len(set(used)), sample
            assert re.fullmatch(letters, SLOT.sub("x" if locale != "ja-JP" else "エ", sample)), sample
            assert sample == sample.lower(), sample
            assert sample not in seen, f"{sample!r} is in both {seen.get(sample)} and {intent['name']}"
            seen[sample] = intent["name"]


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_invocation_name_follows_the_rules_for_its_language(locale):
    """Lower case letters and spaces; German allows one compound word; Japanese is written in Japanese."""
    invocation = model(locale)["invocationName"]
    assert invocation != model("en-US")["invocationName"]
    assert not {"alexa", "amazon", "echo", "skill", "app", "アレクサ", "スキル"} & set(invocation.split())
    if locale == "ja-JP":
        assert re.fullmatch(r"[\u3040-\u30ff\u4e00-\u9fff]{2,}", invocation)
    else:
        assert re.fullmatch(r"[^\W\d_][^\W\d_ ']*(?: [^\W\d_']+)*", invocation) and invocation == invocation.lower()


def matches(language_model: dict, utterance: str, locale: str) -> bool:
    types = {t["name"]: t for t in language_model["types"]}
    for intent in language_model["intents"]:
        patterns = {}
        for slot in intent.get("slots", []):
            if slot["type"] == "AMAZON.NUMBER":
                patterns[slot["name"]] = NUMBER_WORDS[locale]
            elif slot["type"] in types:
                patterns[slot["name"]] = "|".join(
                    re.escape(w) for v in types[slot["type"]]["values"] for w in spoken(v)
                )
            else:
                patterns[slot["name"]] = ".+"
        for sample in intent["samples"]:
            parts = SLOT.split(sample)
            if len(parts) == 3 and not parts[0] + parts[2]:
                continue
            pattern = "".join(f"(?:{patterns[p]})" if i % 2 else re.escape(p) for i, p in enumerate(parts))
            if re.fullmatch(pattern, utterance):
                return True
    return False


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_store_texts_are_in_the_language_and_their_example_phrases_reach_a_sample(locale):
    info = manifest()["manifest"]["publishingInformation"]["locales"][locale]
    assert info["name"] and info["summary"] and info["description"] and info["keywords"]
    invocation = model(locale)["invocationName"]
    phrases = [p.lower() for p in info["examplePhrases"]]
    assert LAUNCH[locale].match(phrases[0])["invocation"] == invocation
    for phrase in phrases[1:]:
        asked = ASK[locale].match(phrase)
        assert asked and asked["invocation"] == invocation, phrase
        assert matches(model(locale), asked["utterance"], locale), f"no sample matches {phrase!r}"


def test_the_manifest_rendered_for_these_locales_passes_the_certification_checks(tmp_path, config, outputs):
    """Privacy policy and terms of use URLs in every locale, and both icons; the SMAPI stand-in reads the
    package back with each model."""
    locales = ("en-US", *LANGUAGES)
    project = render_ask_project(dataclasses.replace(config, locales=locales), outputs, tmp_path / "project")
    package = project / "skill-package"
    files = {p.relative_to(package).as_posix(): p.read_bytes() for p in package.rglob("*") if p.is_file()}
    rendered = json.loads(files["skill.json"])
    assert certification_problems(rendered, files, locales, account_linking=True) == []
    terms = rendered["manifest"]["privacyAndCompliance"]["locales"]
    assert all(terms[locale]["termsOfUseUrl"] and terms[locale]["privacyPolicyUrl"] for locale in locales)
    assert sorted(rendered["manifest"]["publishingInformation"]["distributionCountries"]) == sorted(
        {"US", *LANGUAGES.values()}
    )
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, content in files.items():
            zipped.writestr(name, content)
    assert sorted(read_package(archive.getvalue()).locales) == sorted(locales)


STOP_WORDS = {
    "en": re.compile(r"\b(?:stop|disable|(?:turn|switch|shut)\b.*\boff)\b"),
    "de": re.compile(r"\b(?:stopp|stoppe|beende|deaktiviere)\b|\b(?:aus|ab)$"),
    "ja": re.compile(r"(?:止めて|消して|切って|オフにして)$"),
    "fr": re.compile(r"\b(?:éteins|arrête|coupe|stoppe|désactive)\b"),
    "es": re.compile(r"\b(?:apaga|quita|detén|desactiva)\b"),
    "it": re.compile(r"\b(?:spegni|ferma|disattiva)\b"),
}
"""How each language says "stop" or "turn off" with a verb (or German's separable "aus"/"ab") of its
own: the mode word after it names what to stop, not what to set."""
STOPPING = {
    "en": (
        "turn off the heat",
        "turn the heat off",
        "turn off the heating",
        "turn off the ac",
        "turn off the air conditioning",
        "switch off the heating",
        "stop the heating",
    ),
    "de": (
        "schalte die heizung aus",
        "schalte die klimaanlage aus",
        "mach die heizung aus",
        "stell die klimaanlage ab",
        "stoppe die heizung",
    ),
    "ja": ("暖房を止めて", "冷房を消して", "エアコンを切って", "暖房をオフにして", "冷房をオフにして"),
    "fr": (
        "éteins le chauffage",
        "arrête le chauffage",
        "coupe la clim",
        "éteins la climatisation",
        "arrête la climatisation",
    ),
    "es": (
        "apaga la calefacción",
        "quita la calefacción",
        "apaga el aire acondicionado",
        "apaga el aire",
        "detén la calefacción",
    ),
    "it": (
        "spegni il riscaldamento",
        "ferma il riscaldamento",
        "disattiva il riscaldamento",
        "spegni l'aria condizionata",
        "spegni il condizionatore",
    ),
}
"""What a household says to stop heating or cooling, per language."""
ALL_LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN", *LANGUAGES)
OPEN_SLOT_TYPES = {"ROOM"}
"""Slot types read as any words (a room is named as the household named it); the others by their values."""


def readings(language_model: dict, utterance: str, locale: str) -> list[tuple[str, dict]]:
    """Each intent a sample reads the utterance as, word for word, with the value id of each slot of a
    closed type it fills; a number as the language's number words (digits in English). A sample that
    is one slot alone ("{thermostat}") answers Alexa's question for that slot, so it is left out: it
    reads anything."""
    types = {t["name"]: t for t in language_model["types"]}
    found = []
    for intent in language_model["intents"]:
        slot_types = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for sample in intent["samples"]:
            parts = SLOT.split(sample)
            if len(parts) == 3 and not parts[0] + parts[2]:
                continue

            def spoken_values(slot_type: str) -> str:
                return "|".join(re.escape(w) for v in types[slot_type]["values"] for w in spoken(v))

            pattern = "".join(
                re.escape(part)
                if i % 2 == 0
                else f"(?P<{part}>{spoken_values(slot_types[part])})"
                if slot_types[part] in types and slot_types[part] not in OPEN_SLOT_TYPES
                else f"(?P<{part}>{NUMBER_WORDS.get(locale, r'[0-9.]+')})"
                if slot_types[part] == "AMAZON.NUMBER"
                else f"(?P<{part}>.+)"
                for i, part in enumerate(parts)
            )
            heard = re.fullmatch(pattern, utterance)
            if heard:
                ids = {
                    name: next(v["id"] for v in types[slot_types[name]]["values"] if word in spoken(v))
                    for name, word in heard.groupdict().items()
                    if slot_types[name] in types and slot_types[name] not in OPEN_SLOT_TYPES
                }
                found.append((intent["name"], ids))
    return found


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_no_sample_with_a_stop_verb_has_a_mode_slot(locale):
    """ "turn off the {mode}" would read "turn off the heat" as mode HEAT: a sample that stops something
    names what it stops in its own words, without the mode slot."""
    stop = STOP_WORDS[locale.split("-")[0]]
    for intent in model(locale)["intents"]:
        for sample in intent["samples"]:
            assert not (stop.search(sample) and "{mode}" in sample), f"{intent['name']}: {sample!r}"


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_stopping_the_heating_or_cooling_never_sets_the_mode_it_names(locale):
    """ "暖房を止めて", "turn off the heat", "éteins le chauffage" each reach a sample of SetModeIntent of
    their own, which leaves the mode slot empty (the skill asks which mode) or, where the language
    says it with the word for off ("schalte die heizung aus"), fills it with OFF: never with the heating
    or cooling mode the words name, which would turn it on."""
    language_model = model(locale)
    for utterance in STOPPING[locale.split("-")[0]]:
        heard = readings(language_model, utterance, locale)
        assert heard and {intent for intent, _ in heard} == {"SetModeIntent"}, (utterance, heard)
        assert all(ids.get("mode") in (None, "OFF") for _, ids in heard), (utterance, heard)
