"""The custom skill's words per language: whole-sentence message catalogs, one JSON file per language
in `messages/` (en.json, de.json, fr.json, ...), with a locale's own file overlaying its language's
(fr-CA.json over fr.json, es-MX.json and es-US.json over es.json). A locale the skill has no catalog
for speaks English.

Each message is one or more whole sentences in a subset of ICU MessageFormat, so a translator sees
every variant of a sentence at once and words it as the language needs:

- `{name}`: an argument; numbers are written with the language's decimal mark (21,5 in German);
- `{name, select, key {text} ... other {text}}`: the variant for the argument's value;
- `{name, plural, one {# hour} other {# hours}}`: the language's plural category of a number, `#`
  being the number.

Apostrophes are plain text (ICU's quoting is not used). An argument that starts a sentence (the
message's start, or after ". ", "? ", "! ") is capitalized, so "the Living Room" opens a sentence
as "The Living Room"; names of rooms and homes are otherwise kept exactly as the user wrote them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Union

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"
BASE_LANGUAGE = "en"
CONTEXT_ARGUMENTS = frozenset({"scale"})
"""Arguments every message about temperatures receives, which a language may use or leave unused:
`scale` (CELSIUS or FAHRENHEIT, the thermostat's display scale) for its word for degrees."""

DECIMAL_MARKS = {"en": ".", "ja": ".", "de": ",", "fr": ",", "es": ",", "it": ","}
"""How each language writes a decimal (CLDR's decimal symbol): Alexa reads "21,5" in German as
"einundzwanzig Komma fünf"."""


def _plural_one(language: str, n: float) -> bool:
    """CLDR's cardinal category `one` for the integers the skill counts (hours, minutes, thermostats)."""
    if language == "ja":
        return False
    if language == "fr":
        return 0 <= n < 2
    return n == 1


Node = Union[str, "Argument", "Choice", "Hash"]


@dataclass(frozen=True)
class Argument:
    name: str


@dataclass(frozen=True)
class Hash:
    """`#` inside a plural variant: the number itself."""


@dataclass(frozen=True)
class Choice:
    name: str
    kind: str
    """"select" or "plural"."""
    variants: Mapping[str, tuple[Node, ...]]


class CatalogError(ValueError):
    """A message that does not parse: raised when the catalog loads, never while speaking."""


def parse(text: str) -> tuple[Node, ...]:
    nodes, end = _parse(text, 0, in_plural=False)
    if end != len(text):
        raise CatalogError(f"unmatched '}}' at {end} in {text!r}")
    return nodes


def _parse(text: str, pos: int, in_plural: bool) -> tuple[tuple[Node, ...], int]:
    nodes: list[Node] = []
    literal: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == "}":
            break
        if char == "#" and in_plural:
            nodes += ["".join(literal)] if literal else []
            literal = []
            nodes.append(Hash())
            pos += 1
            continue
        if char != "{":
            literal.append(char)
            pos += 1
            continue
        nodes += ["".join(literal)] if literal else []
        literal = []
        node, pos = _parse_placeholder(text, pos + 1)
        nodes.append(node)
    nodes += ["".join(literal)] if literal else []
    return tuple(nodes), pos


def _parse_placeholder(text: str, pos: int) -> tuple[Node, int]:
    close, comma = text.find("}", pos), text.find(",", pos)
    if close < 0:
        raise CatalogError(f"unclosed '{{' in {text!r}")
    if comma < 0 or close < comma:
        name = text[pos:close].strip()
        if not name.isidentifier():
            raise CatalogError(f"bad argument name {name!r} in {text!r}")
        return Argument(name), close + 1
    name = text[pos:comma].strip()
    kind_end = text.find(",", comma + 1)
    if kind_end < 0:
        raise CatalogError(f"'{{{name}, ...' has no variants in {text!r}")
    kind = text[comma + 1 : kind_end].strip()
    if kind not in ("select", "plural") or not name.isidentifier():
        raise CatalogError(f"'{{{name}, {kind}' is neither a select nor a plural in {text!r}")
    pos = kind_end + 1
    variants: dict[str, tuple[Node, ...]] = {}
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            raise CatalogError(f"unclosed '{{{name}, {kind}' in {text!r}")
        if text[pos] == "}":
            pos += 1
            break
        brace = text.find("{", pos)
        if brace < 0:
            raise CatalogError(f"variant without text in {text!r}")
        key = text[pos:brace].strip()
        if not key or key in variants:
            raise CatalogError(f"missing or repeated variant key {key!r} in {text!r}")
        body, pos = _parse(text, brace + 1, in_plural=kind == "plural")
        if pos >= len(text) or text[pos] != "}":
            raise CatalogError(f"unclosed variant {key!r} in {text!r}")
        variants[key] = body
        pos += 1
    if "other" not in variants:
        raise CatalogError(f"'{{{name}, {kind}' needs an 'other' variant in {text!r}")
    return Choice(name, kind, variants), pos


def arguments(nodes: tuple[Node, ...]) -> frozenset:
    """Every argument a message uses, in any variant."""
    found = set()
    for node in nodes:
        if isinstance(node, Argument):
            found.add(node.name)
        elif isinstance(node, Choice):
            found.add(node.name)
            for body in node.variants.values():
                found |= arguments(body)
    return frozenset(found)


_SENTENCE_ENDS = (". ", "? ", "! ")
PHRASES = frozenset(
    {
        "thermostat",
        "thermostat_at_home",
        "list_and",
        "list_or",
        "list_separator",
        "at_home",
        "ordinal",
        "hours",
        "minutes",
        "seconds",
        "duration",
        "setpoint",
        "sentence_separator",
    }
)
"""Messages that are parts of a sentence (a name, a list, a duration, a setpoint in a list) or what
goes between two sentences (a space, none in Japanese), filled into whole-sentence messages as
arguments or joined by the code: never capitalized on their own."""


class Catalog:
    """One locale's messages, parsed, and how its language writes numbers."""

    def __init__(self, language: str, messages: Mapping[str, str]):
        self.language = language
        self._decimal = DECIMAL_MARKS.get(language, ".")
        self._messages = {key: parse(text) for key, text in messages.items()}

    def keys(self) -> frozenset:
        return frozenset(self._messages)

    def number(self, value: float) -> str:
        return f"{value:g}".replace(".", self._decimal)

    def __call__(self, key: str, **args: Any) -> str:
        out: list[str] = []
        self._render(self._messages[key], args, out, None, key not in PHRASES)
        return "".join(out)

    def _render(
        self, nodes: tuple[Node, ...], args: Mapping[str, Any], out: list[str], count: Any, sentence: bool
    ) -> None:
        for node in nodes:
            if isinstance(node, str):
                out.append(node)
            elif isinstance(node, Hash):
                out.append(self._text(count))
            elif isinstance(node, Argument):
                text = self._text(args.get(node.name))
                so_far = "".join(out)
                if sentence and (not so_far or so_far.endswith(_SENTENCE_ENDS)):
                    text = text[:1].upper() + text[1:]
                out.append(text)
            else:
                value = args.get(node.name)
                if node.kind == "plural":
                    key = "one" if _plural_one(self.language, float(args[node.name])) else "other"
                    self._render(node.variants.get(key, node.variants["other"]), args, out, value, sentence)
                else:
                    key = value.value if isinstance(value, Enum) else str(value)
                    self._render(node.variants.get(key, node.variants["other"]), args, out, count, sentence)

    def _text(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.number(value)
        return str(value)


def _read(name: str) -> dict[str, str]:
    path = MESSAGES_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


@cache
def languages() -> tuple[str, ...]:
    """The languages with a full catalog (xx.json), English first."""
    names = sorted(p.stem for p in MESSAGES_DIR.glob("*.json") if "-" not in p.stem)
    return (BASE_LANGUAGE, *(n for n in names if n != BASE_LANGUAGE))


@cache
def overlays() -> tuple[str, ...]:
    """The locales with their own overlay (xx-YY.json)."""
    return tuple(sorted(p.stem for p in MESSAGES_DIR.glob("*.json") if "-" in p.stem))


def for_locale(locale: str) -> Catalog:
    """The catalog for an Alexa request's locale ("de-DE", "fr-CA"): English, overlaid by the
    language's catalog, overlaid by the locale's own; English for a language the skill lacks."""
    locale = locale if isinstance(locale, str) else ""
    language = locale.split("-")[0].lower()
    if language not in languages():
        return _catalog(BASE_LANGUAGE, None)
    return _catalog(language, locale if locale in overlays() else None)


@cache
def _catalog(language: str, overlay: str | None) -> Catalog:
    messages = _read(BASE_LANGUAGE)
    if language != BASE_LANGUAGE:
        messages.update(_read(language))
    if overlay:
        messages.update(_read(overlay))
    return Catalog(language, messages)
