"""The bridge on Elastic Beanstalk, as in the original design: the same WSGI app under gunicorn.

With `certificate_arn`, a load-balanced environment terminates HTTPS at its ALB and plain HTTP is
switched off. Without it, a single instance serves HTTP only, which Alexa and Google will not use
for account linking: it is for trying the platform out (docs: deploy/https.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_elasticbeanstalk as eb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.python_lambda import ASSET_EXCLUDES, BRIDGE_SOURCE

INSTANCE_TYPE = "t3.micro"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def _managed(name: str) -> iam.IManagedPolicy:
    return iam.ManagedPolicy.from_aws_managed_policy_name(name)


def _acknowledge_managed(role: iam.Role, names: list[str], reason: str) -> None:
    cdk.Validations.of(role).acknowledge(
        *(
            cdk.Acknowledgment(
                id=f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{name}]", reason=reason
            )
            for name in names
        )
    )


class BridgeBeanstalk(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: iam.Role,
        environment: Mapping[str, str],
        solution_stack: str,
        certificate_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)

        instance_policies = ["AWSElasticBeanstalkWebTier"]
        for name in instance_policies:
            role.add_managed_policy(_managed(name))
        _acknowledge_managed(
            role,
            instance_policies,
            "Elastic Beanstalk's own policy for publishing instance logs to its S3 bucket and "
            "CloudWatch Logs; AWS maintains it as the platform changes.",
        )
        profile = iam.InstanceProfile(self, "InstanceProfile", role=role)

        service_policies = ["AWSElasticBeanstalkEnhancedHealth", "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"]
        service_role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("elasticbeanstalk.amazonaws.com"),
            managed_policies=[_managed(f"service-role/{service_policies[0]}"), _managed(service_policies[1])],
        )
        cdk.Validations.of(service_role).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSElasticBeanstalkEnhancedHealth]",
                reason="Elastic Beanstalk's service policy for enhanced health, which managed updates require.",
            ),
            cdk.Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy]",
                reason="Elastic Beanstalk's service policy for managed platform updates; AWS keeps it in step "
                "with the platform.",
            ),
        )

        bundle = s3_assets.Asset(self, "Bundle", path=str(BRIDGE_SOURCE), exclude=ASSET_EXCLUDES)
        application = eb.CfnApplication(self, "Application", description="Nest skill OAuth bridge")
        version = eb.CfnApplicationVersion(
            self,
            "Version",
            application_name=application.ref,
            source_bundle=eb.CfnApplicationVersion.SourceBundleProperty(
                s3_bucket=bundle.s3_bucket_name, s3_key=bundle.s3_object_key
            ),
        )

        settings = {
            ("aws:autoscaling:launchconfiguration", "IamInstanceProfile"): profile.instance_profile_name,
            ("aws:autoscaling:launchconfiguration", "DisableIMDSv1"): "true",
            ("aws:ec2:instances", "InstanceTypes"): INSTANCE_TYPE,
            ("aws:elasticbeanstalk:environment", "ServiceRole"): service_role.role_arn,
            ("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath"): "/health",
            ("aws:elasticbeanstalk:healthreporting:system", "SystemType"): "enhanced",
            ("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled"): "true",
            ("aws:elasticbeanstalk:managedactions", "PreferredStartTime"): "Sun:03:00",
            ("aws:elasticbeanstalk:managedactions:platformupdate", "UpdateLevel"): "minor",
            ("aws:elasticbeanstalk:hostmanager", "LogPublicationControl"): "true",
            ("aws:elasticbeanstalk:cloudwatch:logs", "StreamLogs"): "true",
            ("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays"): "30",
        }
        if certificate_arn:
            settings.update(
                {
                    ("aws:elasticbeanstalk:environment", "EnvironmentType"): "LoadBalanced",
                    ("aws:elasticbeanstalk:environment", "LoadBalancerType"): "application",
                    ("aws:autoscaling:asg", "MinSize"): "1",
                    ("aws:autoscaling:asg", "MaxSize"): "2",
                    ("aws:elbv2:listener:default", "ListenerEnabled"): "false",
                    ("aws:elbv2:listener:443", "Protocol"): "HTTPS",
                    ("aws:elbv2:listener:443", "SSLCertificateArns"): certificate_arn,
                    ("aws:elbv2:listener:443", "SSLPolicy"): TLS_POLICY,
                }
            )
        else:
            settings[("aws:elasticbeanstalk:environment", "EnvironmentType")] = "SingleInstance"
        settings.update(
            {("aws:elasticbeanstalk:application:environment", name): value for name, value in environment.items()}
        )

        self.environment = eb.CfnEnvironment(
            self,
            "Environment",
            application_name=application.ref,
            solution_stack_name=solution_stack,
            version_label=version.ref,
            description="Nest skill OAuth bridge",
            option_settings=[
                eb.CfnEnvironment.OptionSettingProperty(namespace=namespace, option_name=option, value=value)
                for (namespace, option), value in settings.items()
            ],
        )
        cdk.Validations.of(self.environment).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions-EB1",
                reason="The bridge is a public web endpoint with no private resources to isolate; like the original "
                "design it runs in the account's default VPC rather than adding a VPC of its own.",
            )
        )
        scheme = "https" if certificate_arn else "http"
        self.base_url = cdk.Fn.join("", [f"{scheme}://", self.environment.attr_endpoint_url, "/"])
