"""The skill's layers. Read from each module's import statements (ast, nothing executed): the domain
modules at nest_skill/ (thermostats, temperatures, controls, sdm_errors, sdm_client, account, config)
import neither front door, and neither door imports the other; data flows one way, doors use the
domain, never the reverse. Loaded in a fresh interpreter: the domain's rules load neither HTTP nor the
Alexa SDK, and the entry point loads no boto3, and of live state only what it needs at import; the
smart-home door loads at the first directive, and a language's message catalog at the first request
in it."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nest_skill.custom_skill.speech import Speech
from sandbox import alexa
from tests.conftest import ROOT

LAMBDA_SRC = Path(__file__).resolve().parents[2] / "lambda_src"
PACKAGE = LAMBDA_SRC / "nest_skill"
DOORS = ("nest_skill.custom_skill", "nest_skill.smart_home")
DOMAIN = sorted(path for path in PACKAGE.glob("*.py") if path.name != "__init__.py")


def imported(path: Path, root: Path = LAMBDA_SRC) -> set[str]:
    """Every module `path` imports, anywhere in it (functions included), relative imports resolved
    against its place under `root`; for `from package import name`, both the package and
    `package.name` (the name may be a module)."""
    parts = path.relative_to(root).with_suffix("").parts
    package = list(parts[:-1])
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            anchor = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*anchor, node.module] if node.module else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_relative_and_late_imports_are_seen(tmp_path):
    module = tmp_path / "nest_skill" / "thermostats.py"
    module.parent.mkdir()
    module.write_text(
        "from .custom_skill import speech\nfrom . import smart_home\n\n"
        "def late():\n    import nest_skill.smart_home.errors\n"
    )
    assert {"nest_skill.custom_skill.speech", "nest_skill.smart_home", "nest_skill.smart_home.errors"} <= imported(
        module, tmp_path
    )


def test_the_shared_domain_sits_beside_both_doors():
    assert {"thermostats", "temperatures", "controls", "sdm_errors", "sdm_client", "account", "config"} <= {
        path.stem for path in DOMAIN
    }
    for door in DOORS:
        assert (LAMBDA_SRC / door.replace(".", "/") / "__init__.py").is_file()


@pytest.mark.parametrize("path", DOMAIN, ids=lambda path: path.stem)
def test_a_domain_module_imports_neither_door(path):
    assert sorted(name for name in imported(path) if any(inside(name, door) for door in DOORS)) == []


@pytest.mark.parametrize("door", DOORS)
def test_a_door_imports_the_domain_but_never_the_other_door(door):
    [other] = [d for d in DOORS if d != door]
    modules = sorted((LAMBDA_SRC / door.replace(".", "/")).glob("*.py"))
    assert {path.name: sorted(name for name in imported(path) if inside(name, other)) for path in modules} == {
        path.name: [] for path in modules
    }
    domain = [f"nest_skill.{path.stem}" for path in DOMAIN]
    assert any(inside(name, module) for path in modules for name in imported(path) for module in domain)


def test_the_domain_layer_imports_neither_http_nor_the_alexa_sdk():
    code = (
        "import sys; import nest_skill.thermostats, nest_skill.temperatures, nest_skill.controls; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('requests', 'urllib3', 'ask_sdk_core', 'ask_sdk_model')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "lambda_src", capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


# Live state as the stacks configure it (the values are only read at import, never used).
LIVE_STATE_ON = {
    "LIVE_STATE_TABLE": "NestSkillSecrets-LiveStateTokens",
    "LIVE_STATE_KEY": "arn:aws:kms:us-east-1:123456789012:alias/NestSkill-live-state",
    "LIVE_STATE_REGION": "us-east-1",
    "MESSAGING_CREDENTIALS_BUCKET": "nestskillsecrets-credentials-123456789012-us-east-1",
    "MESSAGING_CREDENTIALS_OBJECT": "alexa-messaging-credentials.json",
    "AWS_REGION": "us-east-1",
}
HEAVY = ("boto3", "botocore", "uuid")
"""Never loaded by the entry point: AWS's SDK (live state's, at its first AWS call) and uuid (the
smart-home messageId's, at the first smart-home message)."""


def loaded_by_the_entry_point(env: dict[str, str]) -> set[str]:
    """The modules a fresh interpreter holds after `import lambda_function` with `env`."""
    code = "import json, sys, lambda_function; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "lambda_src",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"NEST_PROJECT_ID": "p", "PATH": "", **env},
    )
    return set(json.loads(result.stdout))


def test_with_live_state_off_the_entry_point_loads_nothing_of_it_but_its_on_off_check():
    modules = loaded_by_the_entry_point({})
    assert sorted(m for m in modules if inside(m, "nest_skill.live_state")) == ["nest_skill.live_state"]
    assert "nest_skill.live_state.reporter" not in modules
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


def test_with_live_state_on_the_entry_point_reads_its_settings_and_loads_none_of_its_parts():
    modules = loaded_by_the_entry_point(LIVE_STATE_ON)
    assert sorted(m for m in modules if inside(m, "nest_skill.live_state")) == [
        "nest_skill.live_state",
        "nest_skill.live_state.config",
        "nest_skill.live_state.on_first_use",
    ]
    assert sorted(m for m in modules if m.split(".")[0] in HEAVY) == []


# Runs in a fresh interpreter: imports the entry point, then hands it each event read from stdin, and
# prints after each step which message catalogs were opened since the last and whether the smart-home
# door is loaded (with the step's reply).
_CONTAINER = """
import json, sys
from pathlib import Path

opened = []
sys.addaudithook(lambda event, args: event == "open" and opened.append(str(args[0])))
import lambda_function

def step(reply=None):
    catalogs = sorted(Path(path).name for path in opened if Path(path).parent.name == "messages")
    opened.clear()
    return {"catalogs": catalogs, "door": "nest_skill.smart_home.dispatcher" in sys.modules, "reply": reply}

steps = [step()]
for event in json.loads(sys.stdin.read()):
    steps.append(step(lambda_function.lambda_handler(event, None)))
print(json.dumps(steps))
"""


def in_a_fresh_container(events: list[dict]) -> list[dict]:
    """The entry point's import, then each event: [{"catalogs", "door", "reply"}] (the import's first).
    SDM is a closed port: only events answered without it can be sent."""
    result = subprocess.run(
        [sys.executable, "-c", _CONTAINER],
        cwd=ROOT / "lambda_src",
        input=json.dumps(events),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={
            "NEST_PROJECT_ID": "p",
            "SDM_API_BASE_URL": "http://127.0.0.1:9/v1",
            "PATH": "",
            "PYTHONPATH": f"{ROOT / 'lambda_src'}:{ROOT}",
        },
    )
    return json.loads(result.stdout)


def test_the_entry_point_reads_no_catalog_and_a_request_reads_its_languages_at_the_first_one_in_it():
    import_, german, german_again, quebec, english = in_a_fresh_container(
        [alexa.launch("de-DE"), alexa.launch("de-AT"), alexa.launch("fr-CA"), alexa.launch("en-US")]
    )
    assert import_["catalogs"] == []
    assert german["catalogs"] == ["de.json", "en.json"]  # German overlays English (catalog.for_locale)
    assert german_again["catalogs"] == []
    assert quebec["catalogs"] == ["en.json", "fr-CA.json", "fr.json"]
    assert english["catalogs"] == ["en.json"]
    for step, locale in [(german, "de-DE"), (german_again, "de-AT"), (quebec, "fr-CA"), (english, "en-US")]:
        assert alexa.spoken(step["reply"]).startswith(Speech.for_locale(locale).WELCOME)


def test_the_smart_home_door_loads_at_the_first_directive_not_with_the_custom_skill():
    import_, launch, first, second = in_a_fresh_container(
        [alexa.launch(), alexa.report_state("x", token=None), alexa.report_state("x", token=None)]
    )
    assert [import_["door"], launch["door"], first["door"], second["door"]] == [False, False, True, True]
    assert alexa.spoken(launch["reply"]).startswith(Speech.for_locale("en-US").WELCOME)
    for step in (first, second):
        assert alexa.error_type(step["reply"]) == "INVALID_AUTHORIZATION_CREDENTIAL"
