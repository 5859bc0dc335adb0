"""Snapshots of every synthesized template. Regenerate after an intended change with
`make test PYTEST_ARGS=--snapshot-update` and review the diff."""

import pytest
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.matchers import path_type

from tests.infra.conftest import VARIANTS

# Asset hashes change whenever Lambda or bridge code changes; what the template says about them must not.
ASSET_HASHES = path_type({r".*\.S3Key$": (str,), r".*SourceBundle\.S3Key$": (str,)}, regex=True)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("stack", ["secrets", "skill", "bridge"])
def test_template_matches_snapshot(synth, snapshot_json, variant, stack):
    assert getattr(synth(variant), stack).to_json() == snapshot_json(matcher=ASSET_HASHES)
