"""`cdk synth` through the pinned CDK CLI, as a user runs it: the configurations the README names,
and what a bad value looks like there."""

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cdk(*args: str, outdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["cdk", "synth", "--quiet", "--no-notices", "--output", str(outdir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    "context, expected_type",
    [
        (
            [
                "-c",
                "bridge_hosting=beanstalk",
                "-c",
                "beanstalk_solution_stack=64bit Amazon Linux 2023 v4.7.0 running Python 3.13",
            ],
            "AWS::ElasticBeanstalk::Environment",
        ),
        (["-c", "account_linking=implicit"], "AWS::Lambda::Url"),
    ],
)
def test_cli_synthesizes_the_bridge_variants(tmp_path, context, expected_type):
    result = cdk("NestSkillBridge", "--exclusively", *context, outdir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((tmp_path / "NestSkillBridge.template.json").read_text())
    assert expected_type in {resource["Type"] for resource in template["Resources"].values()}
    validation = json.loads((tmp_path / "validation-report.json").read_text())
    assert all(report["conclusion"] == "success" for report in validation.get("pluginReports", []))


@pytest.mark.integration
@pytest.mark.parametrize(
    "pair, message",
    [
        (
            "skill_id=amzn1.ask.skill.bad",
            "error: config key 'skill_id' = 'amzn1.ask.skill.bad' is not allowed: "
            "expected empty or amzn1.ask.skill.<uuid>",
        ),
        # A misspelled key is refused: ignored, `-c bridge_hostng=beanstalk` would synthesize the Lambda bridge.
        (
            "bridge_hostng=beanstalk",
            "error: config key 'bridge_hostng' = 'beanstalk' is not allowed: expected a key this project knows: "
            "did you mean 'bridge_hosting'?",
        ),
    ],
    ids=["bad value", "misspelled key"],
)
def test_cli_reports_a_config_mistake_in_one_line(tmp_path, pair, message):
    result = cdk("-c", pair, outdir=tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert message in output
    assert "Traceback" not in output and "jsii" not in output
    assert not (tmp_path / "NestSkillBridge.template.json").exists()


@pytest.mark.integration
def test_cli_refuses_beanstalk_without_a_platform_in_one_line(tmp_path):
    result = cdk("-c", "bridge_hosting=beanstalk", outdir=tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert (
        "error: config key 'beanstalk_solution_stack' = '' is not allowed: expected a current Python platform "
        "name with bridge_hosting 'beanstalk' (pick one from `aws elasticbeanstalk "
        "list-available-solution-stacks`)"
    ) in output
    assert "Traceback" not in output and "jsii" not in output
