"""Local servers for tests, benchmarks and the demo: loopback only, bounded waits, stopped by PID.

Each server runs in its own process group so that stopping it also stops its workers (gunicorn),
whatever happens to the parent (exception, Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
BRIDGE_SOURCE = Path(__file__).resolve().parents[1] / "bridge_src"


def bridge_procfile_argv(bind: str) -> list[str]:
    """The bridge's Procfile web command (what Elastic Beanstalk runs), bound to `bind` instead."""
    line = next(line for line in (BRIDGE_SOURCE / "Procfile").read_text().splitlines() if line.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:"))
    argv[argv.index("--bind") + 1] = bind
    return [str(Path(sys.executable).parent / argv[0]), *argv[1:], "--chdir", str(BRIDGE_SOURCE)]


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    """One server process listening on 127.0.0.1:`port`; use as a context manager."""

    name: str
    argv: Sequence[str]
    port: int
    env: Mapping[str, str] | None = None
    log_path: Path | None = None
    start_timeout_s: float = 30.0
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> Service:
        with contextlib.ExitStack() as files:
            log = files.enter_context(open(self.log_path, "wb")) if self.log_path else subprocess.DEVNULL
            self.process = process = subprocess.Popen(
                list(self.argv),
                env=dict(self.env) if self.env is not None else None,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_listening(process)
        return self

    def _wait_until_listening(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with code {process.returncode} before listening"
                    + (f" (log: {self.log_path})" if self.log_path else "")
                )
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen on {LOOPBACK}:{self.port} within {self.start_timeout_s:.0f} s")

    def stop(self) -> None:
        """SIGTERM the process group by PID, then SIGKILL after 5 s."""
        if self.process is None or self.process.poll() is not None:
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
