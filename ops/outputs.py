"""Reads `cdk deploy --outputs-file`: one flat map of output names to values across the stacks."""

from __future__ import annotations

import json
from pathlib import Path


class OutputsError(RuntimeError):
    """The outputs file is missing, unreadable or lacks a value the current step needs."""


class Outputs(dict):
    def __init__(self, values: dict[str, str], source: Path) -> None:
        super().__init__(values)
        self.source = source

    def require(self, name: str) -> str:
        if not self.get(name):
            raise OutputsError(f"{self.source} has no output '{name}': run the cdk deploy step first")
        return self[name]


def load_outputs(path: Path) -> Outputs:
    try:
        stacks = json.loads(path.read_text())
    except FileNotFoundError:
        raise OutputsError(
            f"no CDK outputs at {path}: run `make deploy` (or cdk deploy --outputs-file {path})"
        ) from None
    except json.JSONDecodeError as error:
        raise OutputsError(f"{path} is not JSON ({error})") from None
    return Outputs({name: value for outputs in stacks.values() for name, value in outputs.items()}, path)
