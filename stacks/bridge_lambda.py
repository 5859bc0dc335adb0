"""The bridge on Lambda behind a function URL: HTTPS for free, nothing running between logins.

The URL is public, so a flood of requests to it draws on the account's Lambda concurrency, which the
skill shares. `reserved_concurrency` (config `bridge_reserved_concurrency`) caps the bridge at that
many concurrent requests and sets them aside from the account's pool; off by default, because an
account must keep 100 unreserved and new accounts start with a quota of 10 (docs: deploy/configuration.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.python_lambda import BRIDGE_SOURCE, PythonLambda

# A cold S3 read with its one retry (about 6 s) plus the token exchange (bounded at 4 s) fit in this.
BRIDGE_TIMEOUT = cdk.Duration.seconds(15)
# Its cold start (boto3 and the S3 client) is CPU-bound: at 1024 MB (0.58 vCPU) about 0.5 s with bytecode
# shipped, 1.1 s without (docs: develop/benchmarks.md, memory sizes).
BRIDGE_MEMORY_MB = 1024


class BridgeLambda(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: iam.IRole,
        environment: Mapping[str, str],
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = PythonLambda(
            self,
            "Bridge",
            source_dir=BRIDGE_SOURCE,
            role=role,
            timeout=BRIDGE_TIMEOUT,
            memory_size=BRIDGE_MEMORY_MB,
            environment=environment,
            description="Nest skill OAuth bridge: /authorize, /callback, /health",
            reserved_concurrent_executions=reserved_concurrency,
        ).function
        # Public by design: browsers arrive here from Alexa and Google during account linking.
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self.base_url = self.url.url
