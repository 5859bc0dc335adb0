"""The account-linking bridge: its role, the read policy on the credentials object, and the service.

The role is the one thing allowed to read the credentials: `s3:GetObject` on that one object and
`kms:Decrypt` on the key only when S3 asks on its behalf for that bucket. The secrets stack's key
and bucket policies refuse everyone else, naming this role by its fixed name (see
stacks/secrets_stack.py). Where the service runs (Lambda or Elastic Beanstalk) is chosen by config;
both use this role.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.bridge_beanstalk import BridgeBeanstalk
from stacks.bridge_lambda import BridgeLambda
from stacks.config import AppConfig
from stacks.secrets_stack import SecretsStack, bridge_role_name

_SERVICE_PRINCIPALS = {"lambda": "lambda.amazonaws.com", "beanstalk": "ec2.amazonaws.com"}


class BridgeStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: AppConfig, secrets: SecretsStack, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        self.role = iam.Role(
            self,
            "BridgeRole",
            role_name=bridge_role_name(self),
            assumed_by=iam.ServicePrincipal(_SERVICE_PRINCIPALS[config.bridge_hosting]),
            description="Nest skill OAuth bridge: reads the OAuth client credentials object",
        )
        iam.Policy(
            self,
            "CredentialsReadPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="ReadCredentialsObject", actions=["s3:GetObject"], resources=[secrets.object_arn]
                ),
                iam.PolicyStatement(
                    sid="DecryptCredentialsThroughS3",
                    actions=["kms:Decrypt"],
                    resources=[secrets.key.key_arn],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": f"s3.{self.region}.amazonaws.com",
                            # With S3 Bucket Keys the encryption context is the bucket's ARN.
                            "kms:EncryptionContext:aws:s3:arn": secrets.bucket.bucket_arn,
                        }
                    },
                ),
            ],
        )

        environment = {
            "SECRETS_BUCKET": secrets.bucket.bucket_name,
            "SECRETS_KEY": secrets.object_key,
            "ALEXA_VENDOR_ID": config.alexa_vendor_id,
            "OAUTH_AUTHORIZATION_URL": config.authorization_url,
            "OAUTH_TOKEN_URL": config.oauth_token_url,
        }
        if config.bridge_public_base_url:
            environment["PUBLIC_BASE_URL"] = config.bridge_public_base_url.rstrip("/")
        if config.privacy_contact:
            environment["PRIVACY_CONTACT"] = config.privacy_contact
        if config.live_state_on:
            # /privacy then says what live state stores (bridge_src/oauth_bridge/legal.py). Set only then,
            # so a deployment without live state keeps the same template.
            environment["LIVE_STATE"] = "on"

        service: BridgeLambda | BridgeBeanstalk
        if config.bridge_hosting == "lambda":
            service = BridgeLambda(
                self,
                "Service",
                role=self.role,
                environment=environment,
                reserved_concurrency=config.bridge_concurrency_cap,
            )
        else:
            service = BridgeBeanstalk(
                self,
                "Service",
                role=self.role,
                environment=environment,
                solution_stack=config.beanstalk_solution_stack,
                certificate_arn=config.certificate_arn,
            )
        base_url = (
            (config.bridge_public_base_url.rstrip("/") + "/") if config.bridge_public_base_url else service.base_url
        )
        callback_url = cdk.Fn.join("", [base_url, "callback"])
        redirect_urls = [callback_url] if config.account_linking == "implicit" else list(config.alexa_redirect_urls)

        cdk.CfnOutput(self, "BridgeBaseUrl", value=base_url, description="The bridge's public base URL")
        cdk.CfnOutput(
            self,
            "BridgeAuthorizeUrl",
            value=cdk.Fn.join("", [base_url, "authorize"]),
            description="Authorization URL for Alexa in implicit-grant mode",
        )
        cdk.CfnOutput(
            self,
            "BridgeCallbackUrl",
            value=callback_url,
            description="Where Google returns to the bridge in implicit-grant mode",
        )
        cdk.CfnOutput(
            self,
            "OAuthRedirectUrls",
            value=cdk.Fn.join(",", redirect_urls),
            description=f"Authorized redirect URIs to register on the Google OAuth client "
            f"({config.account_linking} account linking)",
        )
