"""The project's Python Lambdas: one runtime, architecture and logging setup, bundled without Docker.

`PythonFunction` needs Docker; `PipBundler` installs the pinned wheels for the Lambda runtime's
Python version and architecture with `pip --target`, then copies the sources beside them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam, aws_lambda as lambda_, aws_logs as logs
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[1]
SKILL_SOURCE = REPO_ROOT / "lambda_src"
BRIDGE_SOURCE = REPO_ROOT / "bridge_src"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
_PYTHON_VERSION = LAMBDA_RUNTIME.name.removeprefix("python")  # the wheels must match the runtime
_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache"]
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


@jsii.implements(cdk.ILocalBundling)
class PipBundler:
    """Installs `requirements.txt` for Lambda's Python and platform, then copies the sources."""

    def __init__(self, source_dir: Path) -> None:
        self._source_dir = source_dir

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_options) -> bool:
        platforms = [arg for platform in _PLATFORMS for arg in ("--platform", platform)]
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
             "--only-binary=:all:", "--implementation", "cp", "--python-version", _PYTHON_VERSION, *platforms,
             "--target", output_dir, "--requirement", str(self._source_dir / "requirements.txt")],
            capture_output=True, text=True,
        )
        if pip.returncode != 0:
            raise RuntimeError(f"pip could not bundle {self._source_dir.name} for Lambda "
                               f"(Python {_PYTHON_VERSION}, arm64):\n{pip.stderr.strip()}")
        shutil.copytree(self._source_dir, output_dir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*ASSET_EXCLUDES))
        return True


class PythonLambda(Construct):
    """A function from `source_dir` (handler `lambda_function.lambda_handler`, deps in its
    `requirements.txt`) with its own log group, which `role` may write to and nothing more."""

    def __init__(self, scope: Construct, construct_id: str, *, source_dir: Path, role: iam.IRole, description: str,
                 timeout: cdk.Duration, environment: Mapping[str, str]) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY)
        log_group.grant_write(role)
        self.function = lambda_.Function(
            self, "Function",
            description=description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler="lambda_function.lambda_handler",
            code=lambda_.Code.from_asset(
                str(source_dir), exclude=ASSET_EXCLUDES,
                bundling=cdk.BundlingOptions(image=LAMBDA_RUNTIME.bundling_image, local=PipBundler(source_dir))),
            role=role,
            memory_size=256,
            timeout=timeout,
            log_group=log_group,
            # Lambda's native JSON logs: `logger.info(msg, extra={...})` becomes JSON fields with the request id.
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            environment=dict(environment),
        )
