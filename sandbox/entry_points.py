"""Loads a service's entry point by file path: the skill and the bridge both have a top-level
`lambda_function` module (as Lambda requires), so they cannot both be imported by name."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_module(relative_path: str, name: str) -> ModuleType:
    """Import a file as module `name` (cached, so each entry point is loaded once per process), with
    its directory importable as Lambda's task root is, so the entry point finds its own packages."""
    if name in sys.modules:
        return sys.modules[name]
    task_root = str((REPO_ROOT / relative_path).parent)
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / relative_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{relative_path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
