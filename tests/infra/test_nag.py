"""cdk-nag's AwsSolutions pack over every variant: no unacknowledged finding, every acknowledgment
listed here with its reason, and proof that the gate does fail on a new finding."""

import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from tests.infra.conftest import VARIANTS, build_app

# Every acknowledged finding in the app: adding one must be a reviewed change to this list.
EXPECTED_ACKNOWLEDGMENTS = {
    "lambda": {
        ("NestSkillSecrets/AccessLogs", "AwsSolutions-S1"),
    },
    "beanstalk": {
        ("NestSkillSecrets/AccessLogs", "AwsSolutions-S1"),
        (
            "NestSkillBridge/BridgeRole",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSElasticBeanstalkWebTier]",
        ),
        (
            "NestSkillBridge/Service/ServiceRole",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth]",
        ),
        (
            "NestSkillBridge/Service/ServiceRole",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy]",
        ),
        ("NestSkillBridge/Service/Environment", "AwsSolutions-EB1"),
    },
}


def acknowledgments(app):
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                for rule, reason in entry.data.items():
                    yield construct.node.path, rule.removeprefix("Annotation::"), reason


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_unacknowledged_aws_solutions_finding(synth, variant):
    report = AwsSolutionsChecks().validate_scope(synth(variant).app)
    findings = [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]
    assert report.success and not findings, findings


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_acknowledgment_is_expected_and_says_why(synth, variant):
    found = list(acknowledgments(synth(variant).app))
    assert {(path, rule) for path, rule, _ in found} == EXPECTED_ACKNOWLEDGMENTS[
        VARIANTS[variant].get("bridge_hosting", "lambda")
    ]
    for path, rule, reason in found:
        assert len(reason) >= 40 and "because <" not in reason, (path, rule, reason)


def test_a_new_finding_fails_synthesis(tmp_path):
    app, stacks = build_app({}, tmp_path)
    s3.Bucket(stacks.skill, "UnloggedBucket")
    report = AwsSolutionsChecks().validate_scope(app)
    assert {v.rule_name for v in report.violations} >= {"AwsSolutions-S1", "AwsSolutions-S10"}
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
