"""The operator CLI (`python -m ops`, behind the Makefile targets): credentials, rendering, deploy.

The credentials object's format belongs to the bridge, which reads it; the CLI writes and reads it
with the bridge's own code, so the two can never disagree.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / "build"
sys.path.insert(0, str(REPO_ROOT / "bridge_src"))
