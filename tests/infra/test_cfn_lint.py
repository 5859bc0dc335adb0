"""cfn-lint over every synthesized template: no error and no warning.

Ignored: W3005 ("dependency already enforced by a GetAtt"). CDK adds an explicit DependsOn from
each Lambda to its role and the role's policy, so that the function is created only once its
permissions exist; the GetAtt covers the role but not the policy, and the redundancy is harmless.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import VARIANTS

IGNORED_RULES = ["W3005"]
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_templates_pass_cfn_lint(synth, variant, tmp_path):
    paths = []
    for name, template in synth(variant).templates.items():
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(template.to_json()))
        paths.append(str(path))
    result = subprocess.run(
        [str(CFN_LINT), "--ignore-checks", *IGNORED_RULES, "--", *paths], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
