"""The rehearsal `make demo` runs, run by the test suite: deploy to the emulator, store credentials,
link through the bridge, converse, and stop everything."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.integration
def test_demo_rehearses_the_deployment_without_deviation():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    summary = re.search(
        r"^demo: (\d+) checks, (\d+) as expected, 0 deviations, \d+ s; every process it started is "
        r"stopped$",
        output,
        re.MULTILINE,
    )
    assert summary and int(summary.group(1)) >= 40 and summary.group(1) == summary.group(2), output[-2000:]
    for heard in (
        "LinkAccount",
        "heating to 22",
        "cooling to 72",
        "between 66 and 74",
        "turned off",
        "eco mode",
        "between 10 and 32",
        "Which thermostat",
    ):
        assert heard in output
    assert "Traceback" not in output
    ports = {int(port) for port in re.findall(r"http://(?:127\.0\.0\.1|localhost):(\d+)", output)}
    assert ports and not any(listening(port) for port in ports)


@pytest.mark.integration
def test_ctrl_c_says_interrupted_stops_everything_and_exits_130():
    """Ctrl-C as a terminal sends it: SIGINT to the whole process group, while cdk deploys."""
    demo = subprocess.Popen(
        [sys.executable, "-m", "sandbox.demo"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("== 1. "):
                break
        time.sleep(3)
        os.killpg(demo.pid, signal.SIGINT)
        rest, _ = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=10)
    output = "".join(lines) + rest
    assert demo.returncode == 130, output[-3000:]
    assert "interrupted: every process the demo started has been stopped" in output
    assert "DEVIATION" not in output and "Traceback" not in output
    ports = {int(port) for port in re.findall(r"http://(?:127\.0\.0\.1|localhost):(\d+)", output)}
    assert not any(listening(port) for port in ports)
