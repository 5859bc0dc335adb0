"""The habits of a kept project: `make help` describes every target, the changelog keeps an
"Unreleased" section in Keep a Changelog form, and the license is the one the decision records name."""

import re
import subprocess
from pathlib import Path

from tests.make_env import make_env

ROOT = Path(__file__).resolve().parents[2]


def test_make_help_describes_every_target():
    makefile = (ROOT / "Makefile").read_text()
    phony = {name for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE) for name in line.split()}
    targets = phony - {"FORCE"}
    listed = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        env=make_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    described = dict(re.findall(r"^  (\S+) +(.+)$", listed, re.MULTILINE))
    assert set(described) == targets
    assert all(description.rstrip().endswith((".", ")")) for description in described.values()), described
    assert "serve" in described["docs"].lower() and "--strict" in described["docs-build"]


def test_the_changelog_starts_with_unreleased_in_keep_a_changelog_form():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "[Keep a Changelog](https://keepachangelog.com/" in changelog
    headings = re.findall(r"^## (.+)$", changelog, re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    sections = re.findall(r"^### (.+)$", changelog, re.MULTILINE)
    assert set(sections) <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_license_is_apache_2_and_the_decision_says_why():
    assert "Apache License\n                           Version 2.0, January 2004" in (ROOT / "LICENSE").read_text()
    assert "## Apache License 2.0" in (ROOT / "docs" / "decisions" / "tooling.md").read_text()
