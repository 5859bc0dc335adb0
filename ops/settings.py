"""The owner's settings file (nest-skill.json), where the deploy keeps what it needs to find its own
resources again.

The file sits beside cdk.json, outside build/ (which `make clean` removes) and outside git (it is
ignored, so `git pull` never changes it). The deploy writes one key into it, `skill_id`, as soon as
ask-cli has created the skill: from then on every deploy updates that skill, whatever happened to
build/. Writes keep the owner's other keys and their order, and replace the file in one step.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ops import REPO_ROOT
from stacks.config import read_settings, settings_path

SETTINGS_FILE = settings_path(REPO_ROOT, os.environ)


def record_skill_id(path: Path, skill_id: str) -> None:
    """Set `skill_id` in the settings file, creating the file if there is none."""
    settings = read_settings(path)
    if settings.get("skill_id") != skill_id:
        _write(path, {**settings, "skill_id": skill_id})


def forget_skill_id(path: Path, skill_id: str) -> bool:
    """Remove `skill_id` from the settings file if it names that skill; True if it did."""
    settings = read_settings(path)
    if settings.get("skill_id") != skill_id:
        return False
    _write(path, {key: value for key, value in settings.items() if key != "skill_id"})
    return True


def _write(path: Path, settings: dict[str, Any]) -> None:
    """Write through a temporary file in the same directory, then rename: never a half-written file."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(settings, file, indent=2)
            file.write("\n")
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
