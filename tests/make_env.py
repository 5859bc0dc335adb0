"""The environment a test's own `make` runs in: the caller's, less what a running `make` passes to its
children. A `make test PYTEST_ARGS=-x` hands its command-line variables down (in MAKEFLAGS and as
variables of their own), which would otherwise change the recipes the test reads or runs."""

from __future__ import annotations

import os
import re

_MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def make_env(**extra: str) -> dict[str, str]:
    """os.environ without make's own variables and the command-line variables of the make running us,
    with `extra` over it."""
    flags = os.environ.get("MAKEFLAGS", "")
    overrides = flags.split(" -- ", 1)[1] if " -- " in flags else ""
    passed_down = set(re.findall(r"(?:^|(?<=[^\\]) )([A-Za-z_][A-Za-z0-9_]*)=", overrides))
    dropped = {*_MAKE_VARIABLES, *passed_down}
    return {**{k: v for k, v in os.environ.items() if k not in dropped}, **extra}
