"""Each promise the infrastructure makes, asserted on the synthesized templates."""

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.conftest import BEANSTALK, HOME_REGIONS, SKILL_ID, VARIANTS, build_app


def resources(template, type_):
    return template.find_resources(type_)


def only(template, type_, props=None):
    found = template.find_resources(type_, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {type_}, found {list(found)}"
    return next(iter(found.values()))


def allow_statements(synthesized):
    """Every Allow statement of every identity policy the app creates."""
    for template in synthesized.templates.values():
        for policy in resources(template, "AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    yield statement
        for role in resources(template, "AWS::IAM::Role").values():
            for policy in role["Properties"].get("Policies", []):
                yield from (s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow")


def as_list(value):
    return value if isinstance(value, list) else [value]


# Live state on adds the skill's own fence beside the bridge's (test_live_state_* below).
OFF_VARIANTS = sorted(v for v in VARIANTS if VARIANTS[v].get("live_state") != "on")
LIVE_VARIANTS = sorted(v for v in VARIANTS if VARIANTS[v].get("live_state") == "on")


def test_credentials_key_is_customer_managed_rotated_and_retained(synth):
    key = only(synth().secrets, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"


def test_credentials_bucket_is_kms_encrypted_private_versioned_logged_and_retained(synth):
    secrets = synth().secrets
    key_id = next(iter(resources(secrets, "AWS::KMS::Key")))
    buckets = resources(secrets, "AWS::S3::Bucket")
    credentials = next(
        b
        for b in buckets.values()
        if b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
        == "aws:kms"
    )
    props = credentials["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert rule["BucketKeyEnabled"] is True
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    log_bucket = props["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert log_bucket in buckets and buckets[log_bucket] is not credentials
    assert credentials["DeletionPolicy"] == "Retain"
    assert synth().stacks.secrets.termination_protection is True


def test_every_bucket_refuses_plain_http(synth):
    secrets = synth().secrets
    policies = resources(secrets, "AWS::S3::BucketPolicy")
    enforced = {
        p["Properties"]["Bucket"]["Ref"]
        for p in policies.values()
        if any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    }
    assert enforced == set(resources(secrets, "AWS::S3::Bucket"))


def test_no_credential_value_reaches_templates_or_assets(tmp_path, monkeypatch):
    """Even with the operator's secret in the environment (as in the deploy workflow), synthesis
    never carries it: the credentials object is written by the operator CLI, not by CloudFormation."""
    monkeypatch.setenv("NEST_CLIENT_SECRET", "sentinel-client-secret-value")
    app, _ = build_app({}, tmp_path / "out")
    assembly = app.synth()
    for path in Path(assembly.directory).rglob("*"):
        if path.is_file():
            assert b"sentinel-client-secret-value" not in path.read_bytes(), path


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_no_iam_wildcard_in_any_allow_statement(synth, variant):
    statements = list(allow_statements(synth(variant)))
    assert statements
    for statement in statements:
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement
        for resource in as_list(statement["Resource"]):
            assert "*" not in json.dumps(resource), statement
        assert "NotAction" not in statement and "NotResource" not in statement


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_bridge_role_reads_exactly_the_credentials_object(synth, variant):
    synthesized = synth(variant)
    read = only(synthesized.bridge, "AWS::IAM::Policy", {"PolicyName": Match.string_like_regexp("CredentialsRead")})
    statements = {s["Sid"]: s for s in read["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {"ReadCredentialsObject", "DecryptCredentialsThroughS3"}
    get = statements["ReadCredentialsObject"]
    assert get["Action"] == "s3:GetObject"
    assert get["Resource"]["Fn::Join"][1][-1] == "/nest.properties"
    decrypt = statements["DecryptCredentialsThroughS3"]
    assert decrypt["Action"] == "kms:Decrypt"
    assert set(decrypt["Condition"]["StringEquals"]) == {"kms:ViaService", "kms:EncryptionContext:aws:s3:arn"}
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }
    role_id = next(
        iter(
            resources(synthesized.bridge, "AWS::IAM::Role")
            if variant.startswith("lambda")
            else {k: v for k, v in resources(synthesized.bridge, "AWS::IAM::Role").items() if "BridgeRole" in k}
        )
    )
    assert read["Properties"]["Roles"] == [{"Ref": role_id}]


def test_bridge_reads_a_custom_object_key(tmp_path):
    _, stacks = build_app({"secrets_object_key": "alexa/nest.properties"}, tmp_path)
    policy = Template.from_stack(stacks.bridge).find_resources("AWS::IAM::Policy")
    text = json.dumps(policy)
    assert "/alexa/nest.properties" in text and '/nest.properties"' not in text.replace("/alexa/nest.properties", "")


@pytest.mark.parametrize("variant", OFF_VARIANTS)
def test_nothing_but_the_bridge_role_can_read_credentials(synth, variant):
    synthesized = synth(variant)
    skill_text = json.dumps(synthesized.skill.to_json())
    assert "s3:" not in skill_text and "kms:" not in skill_text
    grants = [
        s for s in allow_statements(synthesized) if any(a.startswith(("s3:", "kms:")) for a in as_list(s["Action"]))
    ]
    assert sorted(s["Sid"] for s in grants) == ["DecryptCredentialsThroughS3", "ReadCredentialsObject"]


def test_skill_lambda_runtime_architecture_timeout_logging(synth):
    function = only(synth().skill, "AWS::Lambda::Function")["Properties"]
    assert function["Runtime"] == "python3.14"
    assert function["Architectures"] == ["arm64"]
    assert function["Handler"] == "lambda_function.lambda_handler"
    assert 3 <= function["Timeout"] <= 7, "Alexa waits about 8 s"
    assert function["LoggingConfig"]["LogFormat"] == "JSON"
    assert set(function["Environment"]["Variables"]) == {"NEST_PROJECT_ID", "SDM_API_BASE_URL", "SKILL_ID"}
    assert function["Environment"]["Variables"]["SDM_API_BASE_URL"] == "https://smartdevicemanagement.googleapis.com/v1"
    log_group = only(synth().skill, "AWS::Logs::LogGroup")["Properties"]
    assert log_group["RetentionInDays"] == 30


def test_alexa_trigger_without_skill_id_has_no_token(synth):
    permission = only(synth().skill, "AWS::Lambda::Permission")["Properties"]
    assert permission["Principal"] == "alexa-appkit.amazon.com"
    assert permission["Action"] == "lambda:InvokeFunction"
    assert "EventSourceToken" not in permission


def test_alexa_triggers_are_bound_to_the_configured_skill(synth):
    """Both front doors: the custom skill's trigger and the smart home's, each only for this skill."""
    permissions = synth("with-skill-id").skill.find_resources("AWS::Lambda::Permission")
    by_principal = {p["Properties"]["Principal"]: p["Properties"] for p in permissions.values()}
    assert set(by_principal) == {"alexa-appkit.amazon.com", "alexa-connectedhome.amazon.com"}
    for permission in by_principal.values():
        assert permission["Action"] == "lambda:InvokeFunction"
        assert permission["EventSourceToken"] == SKILL_ID
    env = only(synth("with-skill-id").skill, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    assert env["SKILL_ID"] == SKILL_ID


def test_lambda_bridge_is_https_function_url_with_its_environment(synth):
    bridge = synth().bridge
    function = only(bridge, "AWS::Lambda::Function")["Properties"]
    assert function["Runtime"] == "python3.14" and function["Architectures"] == ["arm64"]
    assert set(function["Environment"]["Variables"]) == {
        "SECRETS_BUCKET",
        "SECRETS_KEY",
        "ALEXA_VENDOR_ID",
        "OAUTH_AUTHORIZATION_URL",
        "OAUTH_TOKEN_URL",
    }
    assert function["Environment"]["Variables"]["OAUTH_AUTHORIZATION_URL"] == (
        "https://nestservices.google.com/partnerconnections/00000000-0000-4000-8000-000000000000/auth"
    )
    url = only(bridge, "AWS::Lambda::Url")["Properties"]
    assert url["AuthType"] == "NONE"
    assert not resources(bridge, "AWS::ElasticBeanstalk::Environment")


def option_settings(template):
    env = only(template, "AWS::ElasticBeanstalk::Environment")["Properties"]
    return env, {(o["Namespace"], o["OptionName"]): o["Value"] for o in env["OptionSettings"]}


def test_beanstalk_bridge_platform_role_updates_and_logs(synth):
    bridge = synth("beanstalk-auth_code").bridge
    env, options = option_settings(bridge)
    assert env["SolutionStackName"] == "64bit Amazon Linux 2023 v4.7.0 running Python 3.13"
    profile = only(bridge, "AWS::IAM::InstanceProfile")["Properties"]
    assert profile["Roles"] == [{"Ref": next(k for k in resources(bridge, "AWS::IAM::Role") if "BridgeRole" in k)}]
    assert options[("aws:autoscaling:launchconfiguration", "IamInstanceProfile")] == {
        "Ref": next(iter(resources(bridge, "AWS::IAM::InstanceProfile")))
    }
    assert options[("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")] == "true"
    assert options[("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel")] == "minor"
    assert options[("aws:elasticbeanstalk:hostmanager", "LogPublicationControl")] == "true"
    assert options[("aws:elasticbeanstalk:environment", "EnvironmentType")] == "SingleInstance"
    assert ("aws:elbv2:listener:443", "Protocol") not in options
    assert {name for (namespace, name) in options if namespace == "aws:elasticbeanstalk:application:environment"} == {
        "SECRETS_BUCKET",
        "SECRETS_KEY",
        "ALEXA_VENDOR_ID",
        "OAUTH_AUTHORIZATION_URL",
        "OAUTH_TOKEN_URL",
    }
    assert only(bridge, "AWS::ElasticBeanstalk::ApplicationVersion")
    assert not resources(bridge, "AWS::Lambda::Function")


def test_beanstalk_bridge_with_certificate_serves_https_only(synth):
    _, options = option_settings(synth("beanstalk-https").bridge)
    assert options[("aws:elasticbeanstalk:environment", "EnvironmentType")] == "LoadBalanced"
    assert options[("aws:elbv2:listener:443", "Protocol")] == "HTTPS"
    assert options[("aws:elbv2:listener:443", "SSLCertificateArns")].startswith("arn:aws:acm:")
    assert options[("aws:elbv2:listener:default", "ListenerEnabled")] == "false"


def outputs(synthesized):
    merged = {}
    for template in synthesized.templates.values():
        merged.update(template.to_json().get("Outputs", {}))
    return merged


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_outputs_a_deploy_script_reads(synth, variant):
    assert {
        "SkillFunctionArn",
        "BridgeBaseUrl",
        "BridgeAuthorizeUrl",
        "BridgeCallbackUrl",
        "SecretsBucketName",
        "SecretsObjectKey",
        "SecretsKeyArn",
        "OAuthRedirectUrls",
    } <= set(outputs(synth(variant)))


def test_redirect_urls_follow_the_account_linking_mode(synth):
    auth_code = outputs(synth("lambda-auth_code"))["OAuthRedirectUrls"]["Value"]
    assert auth_code == ",".join(
        f"https://{host}/api/skill/link/EXAMPLEVENDORID"
        for host in ("pitangui.amazon.com", "layla.amazon.com", "alexa.amazon.co.jp")
    )
    implicit = json.dumps(outputs(synth("lambda-implicit"))["OAuthRedirectUrls"]["Value"])
    assert "callback" in implicit and "amazon.com" not in implicit


@pytest.mark.parametrize("hosting", [{}, BEANSTALK], ids=["lambda", "beanstalk"])
def test_a_public_base_url_reaches_the_bridge_and_its_outputs(tmp_path, hosting):
    _, stacks = build_app(
        {**hosting, "account_linking": "implicit", "bridge_public_base_url": "https://link.example.com/"}, tmp_path
    )
    template = Template.from_stack(stacks.bridge).to_json()
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert outputs["BridgeAuthorizeUrl"] == "https://link.example.com/authorize"
    assert outputs["OAuthRedirectUrls"] == "https://link.example.com/callback"
    assert '"PUBLIC_BASE_URL"' in json.dumps(template) and '"https://link.example.com"' in json.dumps(template)


@pytest.mark.parametrize("hosting", [{}, BEANSTALK], ids=["lambda", "beanstalk"])
@pytest.mark.parametrize("contact", ["privacy@example.org", "https://example.org/contact"])
def test_a_privacy_contact_reaches_the_bridges_privacy_page(tmp_path, hosting, contact):
    _, stacks = build_app({**hosting, "privacy_contact": contact}, tmp_path)
    template = json.dumps(Template.from_stack(stacks.bridge).to_json())
    assert '"PRIVACY_CONTACT"' in template and json.dumps(contact) in template


def test_no_privacy_contact_leaves_the_bridge_environment_as_it_is(synth):
    assert "PRIVACY_CONTACT" not in json.dumps(synth("lambda-auth_code").bridge.to_json())


def bridge_environment(template) -> dict:
    """The bridge's environment variables, whether it runs on Lambda or Elastic Beanstalk."""
    if resources(template, "AWS::ElasticBeanstalk::Environment"):
        return {
            name: value
            for (namespace, name), value in option_settings(template)[1].items()
            if namespace == "aws:elasticbeanstalk:application:environment"
        }
    return only(template, "AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize("variant", ["lambda-auth_code", "beanstalk-auth_code", "live-state", "live-state-beanstalk"])
def test_the_bridge_is_told_live_state_is_on_exactly_when_it_is(synth, variant):
    """LIVE_STATE=on makes /privacy say what live state stores; off, the bridge's template is as it was."""
    live = VARIANTS[variant].get("live_state") == "on"
    assert bridge_environment(synth(variant).bridge).get("LIVE_STATE") == ("on" if live else None)


ACCOUNT_ROOT = {
    "AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}
}


def home_role_arn(prefix: str) -> dict:
    """A role's ARN as the secrets stack's fences build it: the fixed name `<prefix><its own region>`."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                f":role/{prefix}",
                {"Ref": "AWS::Region"},
            ],
        ]
    }


BRIDGE_ROLE_ARN = home_role_arn("NestSkillBridge-")
BUCKET_NAME = {
    "Fn::Join": ["", ["nestskillsecrets-credentials-", {"Ref": "AWS::AccountId"}, "-", {"Ref": "AWS::Region"}]]
}
BUCKET_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":s3:::nestskillsecrets-credentials-",
            {"Ref": "AWS::AccountId"},
            "-",
            {"Ref": "AWS::Region"},
        ],
    ]
}
THROUGH_S3 = {
    "kms:ViaService": {"Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]},
    "kms:EncryptionContext:aws:s3:arn": BUCKET_ARN,
}
# What would let a principal other than the bridge get at the plaintext, directly or by a grant.
KEY_USE_ACTIONS = {
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:CreateGrant",
}


def key_policy(synthesized) -> dict[str, dict]:
    key = only(synthesized.secrets, "AWS::KMS::Key", {"Description": Match.string_like_regexp("OAuth client")})
    return {statement["Sid"]: statement for statement in key["Properties"]["KeyPolicy"]["Statement"]}


def credentials_bucket(secrets) -> tuple[str, dict]:
    return next(
        (logical_id, bucket)
        for logical_id, bucket in resources(secrets, "AWS::S3::Bucket").items()
        if "KMSMasterKeyID" in json.dumps(bucket)
    )


def credentials_bucket_policy(secrets) -> dict[str, dict]:
    bucket_id, _ = credentials_bucket(secrets)
    policy = next(
        p
        for p in resources(secrets, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    return {s.get("Sid", "EnforceSsl"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


@pytest.mark.parametrize("variant", OFF_VARIANTS)
def test_key_policy_lets_the_account_administer_the_key_but_only_the_bridge_decrypt(synth, variant):
    statements = key_policy(synth(variant))
    assert set(statements) == {
        "AdministerTheKeyFromTheAccount",
        "EncryptCredentialsThroughS3FromTheAccount",
        "DecryptCredentialsOnlyForTheBridge",
    }
    admin = statements["AdministerTheKeyFromTheAccount"]
    assert (admin["Effect"], admin["Principal"], admin["Resource"]) == ("Allow", ACCOUNT_ROOT, "*")
    assert "Condition" not in admin
    assert {"kms:PutKeyPolicy", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion"} <= set(
        admin["Action"]
    ), "the account must keep the key manageable (and recoverable through PutKeyPolicy)"
    assert not KEY_USE_ACTIONS & set(admin["Action"]) and not any("*" in action for action in admin["Action"])
    assert statements["EncryptCredentialsThroughS3FromTheAccount"] == {
        "Sid": "EncryptCredentialsThroughS3FromTheAccount",
        "Effect": "Allow",
        "Principal": ACCOUNT_ROOT,
        "Action": "kms:GenerateDataKey",
        "Resource": "*",
        "Condition": {"StringEquals": THROUGH_S3},
    }
    assert statements["DecryptCredentialsOnlyForTheBridge"] == {
        "Sid": "DecryptCredentialsOnlyForTheBridge",
        "Effect": "Allow",
        "Principal": ACCOUNT_ROOT,
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {**THROUGH_S3, "aws:PrincipalArn": BRIDGE_ROLE_ARN}},
    }


@pytest.mark.parametrize("variant", OFF_VARIANTS)
def test_bucket_policy_denies_reading_any_object_to_all_but_the_bridge(synth, variant):
    secrets = synth(variant).secrets
    bucket_id, _ = credentials_bucket(secrets)
    objects = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}
    assert credentials_bucket_policy(secrets)["DenyReadsExceptByTheBridge"] == {
        "Sid": "DenyReadsExceptByTheBridge",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": objects,
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": BRIDGE_ROLE_ARN}},
    }


@pytest.mark.parametrize("variant", OFF_VARIANTS)
def test_bucket_policy_refuses_uploads_encrypted_with_any_other_key(synth, variant):
    secrets = synth(variant).secrets
    bucket_id, _ = credentials_bucket(secrets)
    key_id = next(iter(resources(secrets, "AWS::KMS::Key")))
    statements = credentials_bucket_policy(secrets)
    assert statements["DenyUploadsWithAnotherKmsKey"] == {
        "Sid": "DenyUploadsWithAnotherKmsKey",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:PutObject",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]},
        # IfExists: an upload naming no key gets the bucket's default, which is this key.
        "Condition": {
            "StringNotEqualsIfExists": {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Fn::GetAtt": [key_id, "Arn"]}
            }
        },
    }
    assert statements["DenyUploadsNotEncryptedWithKms"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }
    assert set(statements) == {
        "EnforceSsl",
        "DenyUploadsNotEncryptedWithKms",
        "DenyUploadsWithAnotherKmsKey",
        "DenyReadsExceptByTheBridge",
    }


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_fences_name_the_role_and_bucket_the_stacks_create(synth, variant):
    """The secrets stack cannot reference the bridge role (a cycle), so both sides build the same name."""
    synthesized = synth(variant)
    role = next(
        r for logical_id, r in resources(synthesized.bridge, "AWS::IAM::Role").items() if "BridgeRole" in logical_id
    )["Properties"]
    assert role["RoleName"] == {"Fn::Join": ["", ["NestSkillBridge-", {"Ref": "AWS::Region"}]]}
    assert "Path" not in role  # aws:PrincipalArn includes the path; "/" is what the ARN above assumes
    assert BRIDGE_ROLE_ARN["Fn::Join"][1][-2:] == [
        ":role/" + role["RoleName"]["Fn::Join"][1][0],
        role["RoleName"]["Fn::Join"][1][1],
    ]
    _, bucket = credentials_bucket(synthesized.secrets)
    assert bucket["Properties"]["BucketName"] == BUCKET_NAME
    assert BUCKET_ARN["Fn::Join"][1][-4:] == [":s3:::" + BUCKET_NAME["Fn::Join"][1][0], *BUCKET_NAME["Fn::Join"][1][1:]]


def test_the_bridge_has_no_reserved_concurrency_by_default(synth):
    for variant in ("lambda-auth_code", "lambda-implicit"):
        function = only(synth(variant).bridge, "AWS::Lambda::Function")["Properties"]
        assert "ReservedConcurrentExecutions" not in function


def test_a_concurrency_cap_reserves_that_many_for_the_bridge_alone(tmp_path):
    _, stacks = build_app({"bridge_reserved_concurrency": "25"}, tmp_path)
    bridge = only(Template.from_stack(stacks.bridge), "AWS::Lambda::Function")["Properties"]
    skill = only(Template.from_stack(stacks.skill), "AWS::Lambda::Function")["Properties"]
    assert bridge["ReservedConcurrentExecutions"] == 25
    assert "ReservedConcurrentExecutions" not in skill


SKILL_ROLE_ARN = home_role_arn("NestSkill-")


def regional_role_arn(region: str) -> dict:
    return {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, f":role/NestSkill-{region}"],
        ]
    }


EVENTS_ROLE_ARN = home_role_arn("NestSkillEvents-")

# The roles of each live-state variant's skill functions: the home region's, then each other region's
# (conftest.VARIANTS), then the events function's (home region only).
SKILL_ROLES = {
    "live-state": [SKILL_ROLE_ARN, EVENTS_ROLE_ARN],
    "live-state-beanstalk": [SKILL_ROLE_ARN, EVENTS_ROLE_ARN],
    "live-state-multi-region": [
        SKILL_ROLE_ARN,
        regional_role_arn("eu-west-1"),
        regional_role_arn("us-west-2"),
        EVENTS_ROLE_ARN,
    ],
}
EVENTS_HANDLER = "events_function.lambda_handler"


def skill_function(template) -> dict:
    """The skill function of a skill stack (the home one holds the events function too with live state on)."""
    return only(template, "AWS::Lambda::Function", {"Handler": "lambda_function.lambda_handler"})


ANY_PRINCIPAL = {"AWS": "*"}
THIS_ACCOUNT = {"Ref": "AWS::AccountId"}


def live_state_policy(template) -> dict[str, dict]:
    policy = next(
        p for logical_id, p in resources(template, "AWS::IAM::Policy").items() if "LiveStatePolicy" in logical_id
    )
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def flat(value) -> str:
    """A template string value as one string: Fn::Join joined, a Ref as ${Name}."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    separator, parts = value["Fn::Join"]
    return separator.join(flat(part) for part in parts)


def skill_templates(synthesized, variant):
    """(partition, home region, own region, template) of every skill stack as its template names them:
    the home stack's are its own pseudo parameters, a regional stack's are literals."""
    yield "${AWS::Partition}", "${AWS::Region}", "${AWS::Region}", synthesized.skill
    for stack in synthesized.stacks.regional_skills:
        yield "aws", HOME_REGIONS[variant], stack.region, synthesized.templates[stack.stack_name]


def token_key_policy(synthesized) -> dict[str, dict]:
    key = only(synthesized.secrets, "AWS::KMS::Key", {"Description": Match.string_like_regexp("live-state")})
    return {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}


def test_live_state_variants_cover_one_region_and_the_default_three():
    assert set(SKILL_ROLES) == set(LIVE_VARIANTS)


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_token_table_is_on_demand_encrypted_recoverable_and_retained(synth, variant):
    secrets = synth(variant).secrets
    table_id, table = next(iter(resources(secrets, "AWS::DynamoDB::Table").items()))
    props = table["Properties"]
    assert props["TableName"] == "NestSkillSecrets-LiveStateTokens"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    key_id = next(
        k for k, v in resources(secrets, "AWS::KMS::Key").items() if "live-state" in v["Properties"]["Description"]
    )
    assert props["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    key = resources(secrets, "AWS::KMS::Key")[key_id]
    assert key["Properties"]["EnableKeyRotation"] and key["DeletionPolicy"] == "Retain"
    alias = only(secrets, "AWS::KMS::Alias")["Properties"]
    assert alias == {"AliasName": "alias/NestSkill-live-state", "TargetKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    assert table_id


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_token_key_is_used_by_exactly_this_deployments_skill_roles(synth, variant):
    """The key policy grants the skill roles (every region's) their use directly; no one else may
    seal or unseal tokens, and the account uses the key only through DynamoDB (as IAM allows)."""
    statements = token_key_policy(synth(variant))
    assert set(statements) == {
        "AdministerTheKeyFromTheAccount",
        "EncryptTheTableThroughDynamoDbFromTheAccount",
        "UseTheTableThroughDynamoDbForTheSkill",
        "SealTokensOnlyForTheSkill",
    }
    the_skill = {"kms:CallerAccount": THIS_ACCOUNT, "aws:PrincipalArn": SKILL_ROLES[variant]}
    through_dynamodb = {"Fn::Join": ["", ["dynamodb.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}
    assert statements["SealTokensOnlyForTheSkill"] == {
        "Sid": "SealTokensOnlyForTheSkill",
        "Effect": "Allow",
        "Principal": ANY_PRINCIPAL,
        "Action": ["kms:Decrypt", "kms:Encrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {**the_skill, "kms:EncryptionContext:table": "NestSkillSecrets-LiveStateTokens"}},
    }
    assert statements["UseTheTableThroughDynamoDbForTheSkill"] == {
        "Sid": "UseTheTableThroughDynamoDbForTheSkill",
        "Effect": "Allow",
        "Principal": ANY_PRINCIPAL,
        "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": through_dynamodb, **the_skill}},
    }
    account = statements["EncryptTheTableThroughDynamoDbFromTheAccount"]
    assert account["Principal"] == ACCOUNT_ROOT
    assert account["Condition"]["StringEquals"]["kms:ViaService"] == through_dynamodb
    admin = statements["AdministerTheKeyFromTheAccount"]
    assert admin["Principal"] == ACCOUNT_ROOT and not KEY_USE_ACTIONS & set(admin["Action"])
    # Every statement open to any principal is narrowed to this account's skill roles.
    for statement in statements.values():
        if statement["Principal"] == ANY_PRINCIPAL:
            assert statement["Condition"]["StringEquals"].items() >= the_skill.items(), statement


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_skill_roles_do_exactly_the_item_operations_and_the_read_they_need(synth, variant):
    """Each region's skill role: five item operations on the home region's table and a read of the
    messaging object, both named in full; no KMS key (the key policies grant that), no wildcard."""
    synthesized = synth(variant)
    templates = list(skill_templates(synthesized, variant))
    assert len(templates) == (3 if variant == "live-state-multi-region" else 1)
    for partition, home, region, template in templates:
        statements = live_state_policy(template)
        assert set(statements) == {"TokenTableItems", "ReadMessagingCredentials"}
        table, read = statements["TokenTableItems"], statements["ReadMessagingCredentials"]
        assert (table["Effect"], table["Action"]) == (
            "Allow",
            ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
        )
        assert flat(table["Resource"]) == (
            f"arn:{partition}:dynamodb:{home}:${{AWS::AccountId}}:table/NestSkillSecrets-LiveStateTokens"
        )
        assert (read["Effect"], read["Action"]) == ("Allow", "s3:GetObject")
        assert flat(read["Resource"]) == (
            f"arn:{partition}:s3:::nestskillsecrets-credentials-${{AWS::AccountId}}-"
            f"{home}/alexa-messaging-credentials.json"
        )
        assert "kms:" not in json.dumps([p["Properties"] for p in resources(template, "AWS::IAM::Policy").values()])
        assert "Fn::ImportValue" not in json.dumps(template.to_json())  # nothing from the secrets stack
        env = skill_function(template)["Properties"]["Environment"]["Variables"]
        assert {name: flat(value) for name, value in env.items() if name.startswith(("LIVE", "MESSAGING"))} == {
            "LIVE_STATE_TABLE": "NestSkillSecrets-LiveStateTokens",
            "LIVE_STATE_KEY": f"arn:{partition}:kms:{home}:${{AWS::AccountId}}:alias/NestSkill-live-state",
            "LIVE_STATE_REGION": home,
            "MESSAGING_CREDENTIALS_BUCKET": f"nestskillsecrets-credentials-${{AWS::AccountId}}-{home}",
            "MESSAGING_CREDENTIALS_OBJECT": "alexa-messaging-credentials.json",
        }
        role = next(r for logical_id, r in resources(template, "AWS::IAM::Role").items() if "SkillRole" in logical_id)[
            "Properties"
        ]
        # The name the home region's fences list: NestSkill-<the function's own region>.
        assert flat(role["RoleName"]) == f"NestSkill-{region}" and "Path" not in role


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_skill_stacks_deploy_after_the_secrets_stack(synth, variant):
    stacks = synth(variant).stacks
    for stack in (stacks.skill, *stacks.regional_skills):
        assert stacks.secrets in stack.dependencies


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_messaging_credentials_are_the_skills_alone_and_the_google_secret_the_bridges(synth, variant):
    synthesized = synth(variant)
    statements = credentials_bucket_policy(synthesized.secrets)
    bucket_id, _ = credentials_bucket(synthesized.secrets)
    messaging = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/alexa-messaging-credentials.json"]]}
    # Every object but the messaging credentials (the Google client secret among them): the bridge's alone.
    assert statements["DenyReadsExceptByTheBridge"] == {
        "Sid": "DenyReadsExceptByTheBridge",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "NotResource": messaging,
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": BRIDGE_ROLE_ARN}},
    }
    # The messaging credentials: the skill roles' alone, every region's (the bridge is refused them too).
    assert statements["DenyMessagingCredentialsReadsExceptByTheSkill"] == {
        "Sid": "DenyMessagingCredentialsReadsExceptByTheSkill",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
        "Resource": messaging,
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": SKILL_ROLES[variant]}},
    }
    keys = key_policy(synthesized)
    assert keys["DecryptMessagingCredentialsOnlyForTheSkill"] == {
        "Sid": "DecryptMessagingCredentialsOnlyForTheSkill",
        "Effect": "Allow",
        "Principal": ANY_PRINCIPAL,
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {
            "StringEquals": {**THROUGH_S3, "kms:CallerAccount": THIS_ACCOUNT, "aws:PrincipalArn": SKILL_ROLES[variant]}
        },
    }
    assert keys["DecryptCredentialsOnlyForTheBridge"]["Condition"]["StringEquals"] == {
        **THROUGH_S3,
        "aws:PrincipalArn": BRIDGE_ROLE_ARN,
    }
    # The bridge's grants are unchanged: it has no grant on the messaging object, the table or its key.
    bridge_text = json.dumps(synthesized.bridge.to_json())
    assert "alexa-messaging-credentials" not in bridge_text and "dynamodb" not in bridge_text
    assert "live-state" not in bridge_text and "NestSkill-live-state" not in bridge_text
    assert BRIDGE_ROLE_ARN not in as_list(SKILL_ROLES[variant])


def test_live_state_with_the_default_locales_serves_all_three_alexa_regions(synth):
    """The default locales need us-east-1, eu-west-1 and us-west-2: live state serves them all from
    one table in the home region, and the home region's fences name all three skill roles."""
    synthesized = synth("live-state-multi-region")
    assert {s.region for s in synthesized.stacks.regional_skills} == {"eu-west-1", "us-west-2"}
    for stack in synthesized.stacks.regional_skills:
        env = only(synthesized.templates[stack.stack_name], "AWS::Lambda::Function")["Properties"]["Environment"][
            "Variables"
        ]
        assert env["LIVE_STATE_REGION"] == "us-east-1"
    roles = {flat(arn) for arn in SKILL_ROLES["live-state-multi-region"]}
    assert roles == {
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/NestSkill-${AWS::Region}",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/NestSkill-eu-west-1",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/NestSkill-us-west-2",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/NestSkillEvents-${AWS::Region}",
    }


def events_function(template) -> dict:
    return only(template, "AWS::Lambda::Function", {"Handler": EVENTS_HANDLER})


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_events_function_is_the_skills_asset_behind_a_public_url_answering_within_the_ack_deadline(
    synth, variant
):
    """One events function, in the home region's skill stack: the skill's asset with its own entry, a
    function URL without IAM auth (the OIDC token Pub/Sub sends is the authentication), Lambda's
    timeout the subscription's acknowledgement deadline, and the URL as the stack's EventsUrl output."""
    synthesized = synth(variant)
    skill = synthesized.skill
    function_id = next(
        k for k, v in resources(skill, "AWS::Lambda::Function").items() if v["Properties"]["Handler"] == EVENTS_HANDLER
    )
    events = events_function(skill)["Properties"]
    assert events["Code"] == skill_function(skill)["Properties"]["Code"]  # the same asset
    assert events["Timeout"] == 10 and events["Runtime"] == skill_function(skill)["Properties"]["Runtime"]
    url = only(skill, "AWS::Lambda::Url")["Properties"]
    assert url == {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": [function_id, "Arn"]}}
    outputs = skill.find_outputs("EventsUrl")
    assert outputs["EventsUrl"]["Value"] == {
        "Fn::GetAtt": [next(iter(resources(skill, "AWS::Lambda::Url"))), "FunctionUrl"]
    }
    env = {name: flat(value) for name, value in events["Environment"]["Variables"].items()}
    assert env == {
        "LIVE_STATE_TABLE": "NestSkillSecrets-LiveStateTokens",
        "LIVE_STATE_KEY": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/NestSkill-live-state",
        "LIVE_STATE_REGION": "${AWS::Region}",
        "MESSAGING_CREDENTIALS_BUCKET": "nestskillsecrets-credentials-${AWS::AccountId}-${AWS::Region}",
        "MESSAGING_CREDENTIALS_OBJECT": "alexa-messaging-credentials.json",
        "PUSH_AUDIENCE": "nest-skill-events",
        "PUSH_SERVICE_ACCOUNT": "",
        "GOOGLE_CERTS_URL": "https://www.googleapis.com/oauth2/v1/certs",
        "ACK_DEADLINE_S": "10",
    }
    # Only the home region's stack: a regional skill stack has the skill function alone.
    for stack in synthesized.stacks.regional_skills:
        template = synthesized.templates[stack.stack_name]
        assert not template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": EVENTS_HANDLER}})
        assert not resources(template, "AWS::Lambda::Url")


def test_live_state_events_function_takes_the_owners_push_audience_and_service_account(tmp_path):
    account = "nest-push@my-home-4242.iam.gserviceaccount.com"
    _, stacks = build_app(
        {
            "live_state": "on",
            "skill_id": SKILL_ID,
            "events_push_audience": "my-thermostats",
            "events_service_account": account,
        },
        tmp_path,
    )
    env = events_function(Template.from_stack(stacks.skill))["Properties"]["Environment"]["Variables"]
    assert (env["PUSH_AUDIENCE"], env["PUSH_SERVICE_ACCOUNT"]) == ("my-thermostats", account)


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_events_role_does_exactly_the_item_operations_and_the_read_it_needs(synth, variant):
    """Its own role, by the fixed name the home region's fences list: the five item operations on the
    table and reading the messaging credentials object; no KMS key in IAM (the key policies grant its
    use), never the Google client secret (the bucket and its key keep that the bridge's alone)."""
    synthesized = synth(variant)
    skill = synthesized.skill
    events = events_function(skill)["Properties"]
    role_id = events["Role"]["Fn::GetAtt"][0]
    role = resources(skill, "AWS::IAM::Role")[role_id]["Properties"]
    assert flat(role["RoleName"]) == "NestSkillEvents-${AWS::Region}"
    policies = [
        p["Properties"]
        for p in resources(skill, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    statements = {s.get("Sid", "logs"): s for p in policies for s in p["PolicyDocument"]["Statement"]}
    assert set(statements) == {"TokenTableItems", "ReadMessagingCredentials", "logs"}
    assert statements["TokenTableItems"]["Action"] == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert flat(statements["TokenTableItems"]["Resource"]) == (
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/NestSkillSecrets-LiveStateTokens"
    )
    assert flat(statements["ReadMessagingCredentials"]["Resource"]) == (
        "arn:${AWS::Partition}:s3:::nestskillsecrets-credentials-${AWS::AccountId}-${AWS::Region}/"
        "alexa-messaging-credentials.json"
    )
    assert "kms:" not in json.dumps(policies)
    # The fences: the events role is listed where the skill roles are, never beside the bridge.
    bucket = credentials_bucket_policy(synthesized.secrets)
    assert (
        EVENTS_ROLE_ARN
        in bucket["DenyMessagingCredentialsReadsExceptByTheSkill"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    )
    assert bucket["DenyReadsExceptByTheBridge"]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": BRIDGE_ROLE_ARN}}
    assert (
        key_policy(synthesized)["DecryptCredentialsOnlyForTheBridge"]["Condition"]["StringEquals"]["aws:PrincipalArn"]
        == BRIDGE_ROLE_ARN
    )
    for statement in token_key_policy(synthesized).values():
        if statement["Principal"] == ANY_PRINCIPAL:
            assert EVENTS_ROLE_ARN in statement["Condition"]["StringEquals"]["aws:PrincipalArn"]


@pytest.mark.parametrize("variant", LIVE_VARIANTS)
def test_live_state_applied_events_expire_by_the_tables_time_to_live(synth, variant):
    """The events function's records of applied events carry `delete_after`; a user's LWA expiry
    (`expires_at`) is never the table's time-to-live."""
    table = next(iter(resources(synth(variant).secrets, "AWS::DynamoDB::Table").values()))["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "delete_after", "Enabled": True}


@pytest.mark.parametrize("variant", OFF_VARIANTS)
def test_live_state_off_deploys_no_events_function(synth, variant):
    for template in synth(variant).templates.values():
        text = json.dumps(template.to_json())
        assert EVENTS_HANDLER not in text and "NestSkillEvents" not in text and "EventsUrl" not in text
