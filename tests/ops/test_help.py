"""Every command line of the project describes itself in whole sentences under `--help`."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "command",
    [
        ["bench/skill_bench.py"],
        ["bench/bridge_bench.py"],
        ["-m", "ops"],
        ["-m", "sandbox.fake_smapi"],
        ["-m", "sandbox.fake_google"],
        ["-m", "sandbox.aws_emulator"],
    ],
    ids=lambda command: command[-1],
)
def test_help_description_is_whole_sentences(command):
    result = subprocess.run(
        [sys.executable, *command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    description = re.split(r"\n\n", result.stdout)[1]
    assert not description.startswith(("options:", "positional")), result.stdout
    assert description.rstrip().endswith((".", ")")), description
