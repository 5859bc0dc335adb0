"""skill_package/: valid for SMAPI, consistent across locales, and in step with the Lambda's handlers."""

import json
import re
from pathlib import Path

import pytest
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Intent, IntentRequest, RequestEnvelope
from ask_sdk_model_runtime.exceptions import SerializationException

from sandbox.entry_points import load_module
from sandbox.fake_smapi import ICON_SIZES, certification_problems
from stacks.config import GOOGLE_TOKEN_URL, SDM_SCOPE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "skill_package"
LOCALE_COUNTRIES = {"en-US": "US", "en-GB": "GB", "en-CA": "CA", "en-AU": "AU", "en-IN": "IN"}
MODEL_PATHS = {locale: PACKAGE / "interactionModels" / "custom" / f"{locale}.json" for locale in LOCALE_COUNTRIES}
# Every locale the package publishes: the English ones (checked word for word here) and the other
# languages (checked in test_language_models.py).
PUBLISHED_LOCALES = {
    **LOCALE_COUNTRIES,
    "de-DE": "DE",
    "ja-JP": "JP",
    "fr-FR": "FR",
    "fr-CA": "CA",
    "es-ES": "ES",
    "es-MX": "MX",
    "es-US": "US",
    "it-IT": "IT",
}
CUSTOM_INTENTS = {
    "StatusIntent": {"thermostat"},
    "SetTempIntent": {"temperature", "thermostat"},
    "SetModeIntent": {"thermostat", "mode"},
    "EcoOffIntent": {"thermostat"},
    "AdjustTempIntent": {"thermostat", "direction", "amount"},
    "HumidityIntent": {"thermostat"},
    "FanIntent": {"thermostat", "fan_state", "duration"},
}
# These names, types and value ids are fixed: other parts (the smart-home front door) rely on them.
SLOT_TYPES = {
    ("SetModeIntent", "mode"): "THERMOSTAT_MODE",
    ("AdjustTempIntent", "direction"): "DIRECTION",
    ("AdjustTempIntent", "amount"): "AMAZON.NUMBER",
    ("FanIntent", "fan_state"): "ON_OFF",
    ("FanIntent", "duration"): "AMAZON.DURATION",
}
TYPE_IDS = {
    "THERMOSTAT_MODE": {"HEAT", "COOL", "HEATCOOL", "OFF", "ECO"},
    "DIRECTION": {"UP", "DOWN"},
    "ON_OFF": {"ON", "OFF"},
}
BUILT_IN_INTENTS = {
    "AMAZON.HelpIntent",
    "AMAZON.StopIntent",
    "AMAZON.CancelIntent",
    "AMAZON.NavigateHomeIntent",
    "AMAZON.FallbackIntent",
    "AMAZON.YesIntent",
    "AMAZON.NoIntent",
}
# Words a user says to open a skill, and the connecting words Alexa drops before the utterance.
LAUNCH_PHRASE = re.compile(r"^alexa, (?:open|launch|start) (?P<invocation>.+)$")
ASK_PHRASE = re.compile(r"^alexa, (?:ask|tell) (?P<rest>.+)$")
CONNECTING_WORDS = ("to", "for", "about", "if", "whether", "and")
FORBIDDEN_INVOCATION_WORDS = {"alexa", "amazon", "echo", "computer", "skill", "app"}
LAUNCH_WORDS = {"ask", "open", "tell", "launch", "start", "begin", "load", "resume", "run", "use", "play"}
NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "point",
]
SPOKEN_NUMBER = rf"(?:{'|'.join(NUMBER_WORDS)})(?:[ -](?:{'|'.join(NUMBER_WORDS)}))*"
SPOKEN_DURATION = rf"(?:an?|half an|{SPOKEN_NUMBER}) (?:hours?|minutes?|seconds?)"
SLOT = re.compile(r"\{(\w+)\}")
ICONS = {"smallIconUri": "assets/images/small-icon.png", "largeIconUri": "assets/images/large-icon.png"}


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest_document() -> dict:
    return read_json(PACKAGE / "skill.json")


def package_files() -> dict[str, bytes]:
    return {path.relative_to(PACKAGE).as_posix(): path.read_bytes() for path in PACKAGE.rglob("*") if path.is_file()}


def manifest() -> dict:
    return read_json(PACKAGE / "skill.json")["manifest"]


def language_model(locale: str) -> dict:
    return read_json(MODEL_PATHS[locale])["interactionModel"]["languageModel"]


def normalized(sample: str) -> str:
    return " ".join(sample.lower().split())


@pytest.fixture(scope="module")
def skill_routes():
    """Which intent names reach a request handler in the Lambda as wired in lambda_function.py."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NEST_PROJECT_ID", "00000000-0000-4000-8000-000000000000")
        env.delenv("SDM_API_BASE_URL", raising=False)
        env.delenv("SKILL_ID", raising=False)
        entry_point = load_module("lambda_src/lambda_function.py", "skill_package_lambda_function")
    (mapper,) = entry_point.skill_builder.runtime_configuration_builder.get_runtime_configuration().request_mappers

    def routes(intent_name: str) -> bool:
        envelope = RequestEnvelope(request=IntentRequest(request_id="req", intent=Intent(name=intent_name)))
        return mapper.get_request_handler_chain(HandlerInput(request_envelope=envelope)) is not None

    return routes


def intent_names_in_skill_code() -> set[str]:
    """Every intent-like string in the Lambda's code: the candidates a handler might claim."""
    code = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "lambda_src").rglob("*.py"))
    return set(re.findall(r"[\"']((?:AMAZON\.)?[A-Z][A-Za-z]*Intent)[\"']", code))


def sample_pattern(sample: str, slot_patterns: dict[str, str]) -> re.Pattern:
    parts = SLOT.split(sample)
    return re.compile(
        "".join(f"(?:{slot_patterns[part]})" if index % 2 else re.escape(part) for index, part in enumerate(parts))
    )


def slot_patterns(model: dict, intent: dict) -> dict[str, str]:
    """What each slot of the intent can say in this locale: spoken numbers, or a type's values and synonyms."""
    types = {slot_type["name"]: slot_type for slot_type in model.get("types", [])}
    patterns = {}
    for slot in intent.get("slots", []):
        if slot["type"] == "AMAZON.NUMBER":
            patterns[slot["name"]] = SPOKEN_NUMBER
        elif slot["type"] == "AMAZON.DURATION":
            patterns[slot["name"]] = SPOKEN_DURATION
        else:
            names = [
                spoken
                for value in types[slot["type"]]["values"]
                for spoken in [value["name"]["value"], *value["name"].get("synonyms", [])]
            ]
            patterns[slot["name"]] = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return patterns


def matching_intents(model: dict, utterance: str) -> set[str]:
    matched = set()
    for intent in model["intents"]:
        patterns = slot_patterns(model, intent)
        if any(sample_pattern(sample, patterns).fullmatch(utterance) for sample in intent["samples"]):
            matched.add(intent["name"])
    return matched


# --- SMAPI schema -------------------------------------------------------------------------------


def test_manifest_reads_back_unchanged_through_the_smapi_model(smapi_read_back):
    document = read_json(PACKAGE / "skill.json")
    assert smapi_read_back(document, "manifest") == document


@pytest.mark.parametrize("locale", MODEL_PATHS)
def test_interaction_model_reads_back_unchanged_through_the_smapi_model(smapi_read_back, locale):
    document = read_json(MODEL_PATHS[locale])
    assert smapi_read_back(document, "interaction model") == document


def test_account_linking_settings_read_back_unchanged_through_the_smapi_model(smapi_read_back):
    document = read_json(PACKAGE / "accountLinking.json")
    assert smapi_read_back(document, "account linking") == document


def test_the_read_back_check_catches_a_misspelled_key_and_a_bad_enum(smapi_read_back):
    document = read_json(PACKAGE / "skill.json")
    document["manifest"]["publishingInformation"]["locales"]["en-US"]["examplePhrase"] = ["Alexa, open it"]
    assert smapi_read_back(document, "manifest") != document
    linking = read_json(PACKAGE / "accountLinking.json")
    linking["accountLinkingRequest"]["accessTokenScheme"] = "REQUEST_BODY"
    with pytest.raises(SerializationException):
        smapi_read_back(linking, "account linking")


def test_package_holds_exactly_the_manifest_the_models_the_icons_and_the_account_linking_settings():
    files = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*") if path.is_file()}
    assert files == {
        "skill.json",
        "accountLinking.json",
        *ICONS.values(),
        *(f"interactionModels/custom/{locale}.json" for locale in PUBLISHED_LOCALES),
    }


# --- icons and certification --------------------------------------------------------------------


@pytest.mark.parametrize("uri_name", ICONS)
def test_every_locale_has_the_icons_certification_requires(uri_name):
    for locale, info in manifest()["publishingInformation"]["locales"].items():
        assert info[uri_name] == f"file://{ICONS[uri_name]}", locale
    data = (PACKAGE / ICONS[uri_name]).read_bytes()
    size = ICON_SIZES[uri_name]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (size, size)
    assert certification_problems(manifest_document(), package_files(), ["en-US"], account_linking=False) == []


def test_the_certification_check_names_a_missing_or_wrong_icon_and_a_missing_privacy_policy():
    document = manifest_document()
    del document["manifest"]["publishingInformation"]["locales"]["en-GB"]["smallIconUri"]
    files = {**package_files(), ICONS["largeIconUri"]: (PACKAGE / ICONS["smallIconUri"]).read_bytes()}
    problems = certification_problems(document, files, ["en-GB"], account_linking=True)
    assert problems == [
        ("en-GB", "smallIconUri is not a 108x108 PNG", "The icon is missing."),
        ("en-GB", "largeIconUri is not a 512x512 PNG", "file://assets/images/large-icon.png is 108x108 pixels."),
        (
            "en-GB",
            "Privacy policy URL is missing",
            "A skill with account linking must link its privacy policy in every locale "
            "(privacyAndCompliance.locales.<locale>.privacyPolicyUrl).",
        ),
    ]


# --- manifest -----------------------------------------------------------------------------------


def test_manifest_publishes_each_modelled_locale_in_its_country_only():
    publishing = manifest()["publishingInformation"]
    assert set(publishing["locales"]) == set(PUBLISHED_LOCALES)
    assert publishing["isAvailableWorldwide"] is False
    assert sorted(publishing["distributionCountries"]) == sorted(set(PUBLISHED_LOCALES.values()))
    for locale, info in publishing["locales"].items():
        assert info["name"] and info["summary"] and info["description"] and info["keywords"], locale


def test_manifest_declares_privacy_and_compliance():
    assert manifest()["privacyAndCompliance"] == {
        "allowsPurchases": False,
        "usesPersonalInfo": False,
        "isChildDirected": False,
        "isExportCompliant": True,
        "containsAds": False,
    }


def test_manifest_leaves_the_endpoints_to_the_deploy():
    """One skill, two models: the custom skill and the Smart Home API v3 (a multi-capability skill)."""
    assert manifest()["apis"] == {"custom": {}, "smartHome": {"protocolVersion": "3"}}
    assert manifest()["manifestVersion"] == "1.0"


def test_package_holds_no_account_specific_value():
    text = "\n".join(path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.json"))
    assert not re.search(r"arn:aws|amzn1\.|\d{12}|apps\.googleusercontent\.com|partnerconnections/", text)


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_example_phrases_open_the_skill_or_are_matched_by_a_sample(locale):
    model = language_model(locale)
    invocation = model["invocationName"]
    phrases = manifest()["publishingInformation"]["locales"][locale]["examplePhrases"]
    assert 1 <= len(phrases) <= 3
    assert LAUNCH_PHRASE.match(phrases[0].lower()), "the first example phrase must open the skill"
    for phrase in phrases:
        text = phrase.lower().rstrip(".?!")
        if launch := LAUNCH_PHRASE.match(text):
            assert launch["invocation"] == invocation, phrase
            continue
        ask = ASK_PHRASE.match(text)
        assert ask and ask["rest"].startswith(invocation + " "), f"{phrase!r} does not name {invocation!r}"
        rest = ask["rest"][len(invocation) + 1 :]
        candidates = [rest] + [rest[len(word) + 1 :] for word in CONNECTING_WORDS if rest.startswith(word + " ")]
        assert any(matching_intents(model, utterance) for utterance in candidates), f"no sample matches {phrase!r}"


def test_the_example_phrase_matcher_rejects_an_unmodelled_utterance():
    model = language_model("en-US")
    assert matching_intents(model, "set the bedroom to seventy degrees") == {"SetTempIntent"}
    assert matching_intents(model, "what is the garage set to") == {"StatusIntent"}
    assert matching_intents(model, "order a pizza") == set()
    assert matching_intents(model, "set the bedroom to hot degrees") == set()


# --- interaction models -------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_invocation_name_follows_the_rules(locale):
    invocation = language_model(locale)["invocationName"]
    words = invocation.split()
    assert re.fullmatch(r"[a-z][a-z' .]*[a-z]", invocation), "lowercase letters, spaces, apostrophes, periods"
    assert len(words) >= 2
    assert not FORBIDDEN_INVOCATION_WORDS & set(words)
    assert words[0] not in LAUNCH_WORDS


def test_invocation_name_matches_across_locales():
    assert len({language_model(locale)["invocationName"] for locale in LOCALE_COUNTRIES}) == 1


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_model_has_the_custom_and_built_in_intents_with_their_slots(locale):
    intents = {intent["name"]: intent for intent in language_model(locale)["intents"]}
    assert set(intents) == set(CUSTOM_INTENTS) | BUILT_IN_INTENTS
    for name, slots in CUSTOM_INTENTS.items():
        assert {slot["name"] for slot in intents[name]["slots"]} == slots
        assert len(intents[name]["samples"]) >= 15, name
    assert {slot["name"]: slot["type"] for slot in intents["SetTempIntent"]["slots"]}["temperature"] == "AMAZON.NUMBER"


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_every_model_intent_is_handled_by_the_lambda_and_vice_versa(skill_routes, locale):
    modelled = {intent["name"] for intent in language_model(locale)["intents"]}
    candidates = modelled | intent_names_in_skill_code() | {"NoSuchIntent"}
    assert {name for name in candidates if skill_routes(name)} == modelled


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_samples_use_only_declared_slots_and_plain_words(locale):
    model = language_model(locale)
    declared_types = {slot_type["name"] for slot_type in model["types"]}
    for intent in model["intents"]:
        slots = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        assert all(t.startswith("AMAZON.") or t in declared_types for t in slots.values()), intent["name"]
        for sample in intent["samples"]:
            assert set(SLOT.findall(sample)) <= set(slots), f"{intent['name']}: {sample!r} uses an undeclared slot"
            assert re.fullmatch(r"[a-z'.]+(?: [a-z'.]+)*", SLOT.sub("x", sample)), f"{sample!r}: letters only"
            assert len(SLOT.findall(sample)) == len(set(SLOT.findall(sample))), f"{sample!r} repeats a slot"


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_no_sample_repeats_within_or_across_intents(locale):
    seen: dict[str, str] = {}
    for intent in language_model(locale)["intents"]:
        for sample in intent["samples"]:
            key = normalized(sample)
            assert key not in seen, f"{sample!r} is in both {seen[key]} and {intent['name']}"
            seen[key] = intent["name"]


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_room_names_resolve_to_one_room_each(locale):
    (room_type,) = [t for t in language_model(locale)["types"] if t["name"] == "ROOM"]
    ids = [value["id"] for value in room_type["values"]]
    spoken = [
        name for value in room_type["values"] for name in [value["name"]["value"], *value["name"].get("synonyms", [])]
    ]
    assert len(ids) == len(set(ids))
    assert len(spoken) == len(set(spoken)), "a room name or synonym belongs to two rooms"
    assert len(ids) >= 10


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
def test_control_intents_use_the_fixed_slot_types_and_value_ids(locale):
    model = language_model(locale)
    intents = {intent["name"]: intent for intent in model["intents"]}
    for (intent, slot), slot_type in SLOT_TYPES.items():
        assert {s["name"]: s["type"] for s in intents[intent]["slots"]}[slot] == slot_type, (intent, slot)
    types = {t["name"]: t for t in model["types"]}
    for name, ids in TYPE_IDS.items():
        values = types[name]["values"]
        assert {value["id"] for value in values} == ids, name
        spoken = [n for value in values for n in [value["name"]["value"], *value["name"].get("synonyms", [])]]
        assert len(spoken) == len(set(spoken)), f"{name}: a word resolves to two ids"
    heatcool = next(v for v in types["THERMOSTAT_MODE"]["values"] if v["id"] == "HEATCOOL")
    assert {"auto", "heat and cool"} <= {heatcool["name"]["value"], *heatcool["name"]["synonyms"]}
    eco = next(v for v in types["THERMOSTAT_MODE"]["values"] if v["id"] == "ECO")
    assert "energy saving" in eco["name"]["synonyms"]


@pytest.mark.parametrize("locale", LOCALE_COUNTRIES)
@pytest.mark.parametrize(
    "utterance, intent",
    [
        ("set the bedroom to cool", "SetModeIntent"),
        ("turn on eco", "SetModeIntent"),
        ("turn the hallway off", "SetModeIntent"),
        ("switch to heat and cool", "SetModeIntent"),
        ("switch to auto", "SetModeIntent"),
        ("turn on energy saving mode", "SetModeIntent"),
        ("turn off eco mode", "EcoOffIntent"),
        ("make the living room warmer", "AdjustTempIntent"),
        ("turn the bedroom down by two degrees", "AdjustTempIntent"),
        ("make it cooler", "AdjustTempIntent"),
        ("what's the humidity", "HumidityIntent"),
        ("how humid is the kitchen", "HumidityIntent"),
        ("run the fan for an hour", "FanIntent"),
        ("turn the fan off", "FanIntent"),
        ("run the fan", "FanIntent"),
        ("is the heat on", "StatusIntent"),
        ("set the bedroom to seventy", "SetTempIntent"),
    ],
)
def test_the_issues_phrases_reach_exactly_their_intent(locale, utterance, intent):
    assert matching_intents(language_model(locale), utterance) == {intent}


def test_set_temp_samples_answer_which_thermostat_and_what_temperature():
    for locale in LOCALE_COUNTRIES:
        intent = next(i for i in language_model(locale)["intents"] if i["name"] == "SetTempIntent")
        assert {"{thermostat}", "the {thermostat}", "{temperature}", "{temperature} degrees"} <= set(intent["samples"])


# --- account-linking settings -------------------------------------------------------------------


def test_account_linking_settings_are_the_auth_code_grant_with_body_credentials_and_no_secret():
    request = read_json(PACKAGE / "accountLinking.json")["accountLinkingRequest"]
    assert request["type"] == "AUTH_CODE"
    assert request["accessTokenScheme"] == "REQUEST_BODY_CREDENTIALS"
    assert request["accessTokenUrl"] == GOOGLE_TOKEN_URL
    assert request["scopes"] == [SDM_SCOPE]
    assert request["skipOnEnablement"] is False
    assert 1 <= len(request["domains"]) <= 15
    assert not {"clientSecret", "clientId", "authorizationUrl"} & set(request)
