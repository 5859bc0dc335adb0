"""The project's Python Lambdas: one runtime, architecture and logging setup, bundled without Docker.

`PythonFunction` needs Docker; `PipBundler` installs the wheels of the source's lock file
(`requirements.txt`: every package pinned with its hashes, from `make lock`) for the Lambda runtime's
Python version and architecture with `pip --target`, copies the sources beside them, and ships
bytecode when an interpreter of the runtime's version is at hand.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parents[1]
SKILL_SOURCE = REPO_ROOT / "lambda_src"
BRIDGE_SOURCE = REPO_ROOT / "bridge_src"
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
RUNTIME_PYTHON = LAMBDA_RUNTIME.name.removeprefix("python")  # "3.14": the wheels and bytecode must match it
LAMBDA_TASK_ROOT = "/var/task"  # where Lambda unpacks the code: the file names tracebacks show
_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
ASSET_EXCLUDES = ["__pycache__", "*.pyc", ".pytest_cache"]
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


@dataclass(frozen=True)
class Bytecode:
    """Which interpreter compiles the asset's bytecode for Lambda's Python `version` ("3.14"), if any.

    `cache_tag` is the name Python gives its bytecode (`__pycache__/x.cpython-314.pyc`): only a
    CPython of the runtime's major.minor writes pycs that the runtime loads.
    """

    version: str
    interpreter: str | None

    @property
    def cache_tag(self) -> str:
        return _cache_tag(self.version)

    @property
    def hash_key(self) -> str:
        """Part of the asset hash: the same sources with and without bytecode are different assets."""
        return self.cache_tag if self.interpreter else "none"

    @property
    def notice(self) -> str:
        return (
            f"Lambda bundling: no python{self.version} found (this is Python "
            f"{sys.version_info.major}.{sys.version_info.minor}), so the assets ship without bytecode and "
            f"Lambda compiles every module on each cold start. Put python{self.version} on PATH to ship it."
        )


def _cache_tag(version: str) -> str:
    return "cpython-" + version.replace(".", "")


def bytecode_for(version: str) -> Bytecode:
    """The compiler for `version`: this interpreter if it is CPython `version`, else `python<version>`
    on PATH if it is one, else none (stale bytecode is worse than none: Lambda would ignore it)."""
    cache_tag = _cache_tag(version)
    if sys.implementation.cache_tag == cache_tag:
        return Bytecode(version, sys.executable)
    return _probe(version, shutil.which(f"python{version}"))


@functools.cache
def _probe(version: str, candidate: str | None) -> Bytecode:
    """Whether `candidate` is CPython `version`: one subprocess per interpreter and synth, not per asset."""
    cache_tag = _cache_tag(version)
    if candidate:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.implementation.cache_tag)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.returncode == 0 and probe.stdout.strip() == cache_tag:
            return Bytecode(version, candidate)
    return Bytecode(version, None)


@functools.cache
def _announce_no_bytecode(bytecode: Bytecode) -> None:
    """Once per synth, not once per asset."""
    print(bytecode.notice, file=sys.stderr)


def compile_bytecode(interpreter: str, directory: str) -> None:
    """Writes `__pycache__/<module>.<cache tag>.pyc` beside every module under `directory`, as
    unchecked-hash pycs (PEP 552): the runtime loads them without comparing them with the source's
    mtime (which a zip keeps only to 2 s, without a time zone), so it never recompiles them in
    Lambda's read-only code directory. Tracebacks name /var/task paths. Raises RuntimeError if a
    module does not compile."""
    compiled = subprocess.run(
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-d",
            LAMBDA_TASK_ROOT,
            directory,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if compiled.returncode != 0:
        raise RuntimeError(f"{interpreter} could not compile {directory}:\n{compiled.stdout.strip()}")


@jsii.implements(cdk.ILocalBundling)
class PipBundler:
    """Installs the lock `requirements.txt` for Lambda's Python `python_version` on arm64, copies the
    sources, then compiles bytecode if `bytecode_for(python_version)` found a compiler.

    pip runs in hash-checking mode: a requirement without a pin and a hash, or a file whose hash the
    lock does not list, fails the bundle. `--no-deps`: the lock is already the whole resolution for
    every platform, so the asset holds exactly its packages, and pip never evaluates dependency
    markers for the bundling machine's Python instead of Lambda's. `--only-binary=:all:`: wheels
    are unpacked, never built, so no package's code runs here.
    """

    def __init__(self, source_dir: Path, python_version: str = RUNTIME_PYTHON) -> None:
        self._source_dir = source_dir
        self._python_version = python_version
        self.bytecode = bytecode_for(python_version)

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage | None, **_options: object) -> bool:
        """Bundles locally, so `image` (the CDK's Docker fallback) is unused: callers outside the CDK pass None."""
        platforms = [arg for platform in _PLATFORMS for arg in ("--platform", platform)]
        pip = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--require-hashes",
                "--no-deps",
                "--only-binary=:all:",
                "--implementation",
                "cp",
                "--python-version",
                self._python_version,
                *platforms,
                "--target",
                output_dir,
                "--requirement",
                str(self._source_dir / "requirements.txt"),
            ],
            capture_output=True,
            text=True,
        )
        if pip.returncode != 0:
            raise RuntimeError(
                f"pip could not bundle {self._source_dir.name} for Lambda "
                f"(Python {self._python_version}, arm64):\n{pip.stderr.strip()}"
            )
        shutil.copytree(
            self._source_dir, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*ASSET_EXCLUDES)
        )
        if self.bytecode.interpreter:
            compile_bytecode(self.bytecode.interpreter, output_dir)
        else:
            _announce_no_bytecode(self.bytecode)
        return True


class PythonLambda(Construct):
    """A function from `source_dir` (handler `lambda_function.lambda_handler` unless another is
    named, deps in its `requirements.txt`) with its own log group, which `role` may write to and
    nothing more."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source_dir: Path,
        role: iam.IRole,
        description: str,
        timeout: cdk.Duration,
        memory_size: int,
        environment: Mapping[str, str],
        reserved_concurrent_executions: int | None = None,
        handler: str = "lambda_function.lambda_handler",
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY)
        log_group.grant_write(role)
        bundler = PipBundler(source_dir)
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(
                str(source_dir),
                exclude=ASSET_EXCLUDES,
                # The bundling options are part of the asset hash, so shipping bytecode changes the asset.
                bundling=cdk.BundlingOptions(
                    image=LAMBDA_RUNTIME.bundling_image,
                    local=bundler,
                    environment={"BYTECODE": bundler.bytecode.hash_key},
                ),
            ),
            role=role,
            memory_size=memory_size,
            timeout=timeout,
            reserved_concurrent_executions=reserved_concurrent_executions,
            log_group=log_group,
            # Lambda's native JSON logs: `logger.info(msg, extra={...})` becomes JSON fields with the request id.
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            environment=dict(environment),
        )
