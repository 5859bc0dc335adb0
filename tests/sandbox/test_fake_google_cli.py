"""`python -m sandbox.fake_google` as the demo starts it: a separate process driven over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sandbox.processes import Service, free_port
from tests.sandbox.google_fixture import CLIENT_ID, CLIENT_SECRET, PROJECT, REDIRECT, Client

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def cli(*args: str, secret: str | None = CLIENT_SECRET) -> tuple[list[str], dict[str, str]]:
    env = {key: value for key, value in os.environ.items() if key != "FAKE_GOOGLE_CLIENT_SECRET"}
    env["PYTHONPATH"] = str(ROOT)
    if secret is not None:
        env["FAKE_GOOGLE_CLIENT_SECRET"] = secret
    return [sys.executable, "-m", "sandbox.fake_google", *args], env


def test_cli_serves_the_full_code_flow_and_the_sdm_api(tmp_path):
    port = free_port()
    argv, env = cli("--port", str(port), "--project-id", PROJECT, "--client-id", CLIENT_ID, "--redirect-uri", REDIRECT)
    log = tmp_path / "fake_google.log"

    with Service("fake google", argv, port, env=env, log_path=log) as service, requests.Session() as session:
        client = Client(session, service.base_url)
        tokens = client.exchange(client.code()).json()
        access = client.refresh(tokens["refresh_token"]).json()["access_token"]
        devices = client.sdm("GET", "devices", access).json()["devices"]
        command = client.command(access, "bedroom-thermostat", "ThermostatMode.SetMode", mode="HEAT")
        bedroom = client.sdm("GET", "devices/bedroom-thermostat", access).json()
        stats = session.get(f"{service.base_url}/__fake/stats", timeout=5).json()

    assert len(devices) == 5
    assert command.status_code == 200
    assert bedroom["traits"]["sdm.devices.traits.ThermostatMode"]["mode"] == "HEAT"
    assert stats["counts"] == {"auth": 1, "token": 2, "devices.list": 1, "devices.get": 1, "devices.executeCommand": 1}
    logged = log.read_text()
    assert logged.splitlines()[0] == f"fake google listening on http://127.0.0.1:{port}"
    assert f"fake google: GET /partnerconnections/{PROJECT}/auth 302" in logged
    assert "code=" not in logged and CLIENT_SECRET not in logged and tokens["access_token"] not in logged
    assert service.process.returncode == 0


def test_cli_refuses_a_non_loopback_host():
    argv, env = cli(
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--project-id",
        PROJECT,
        "--client-id",
        CLIENT_ID,
        "--redirect-uri",
        REDIRECT,
    )

    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)

    assert result.returncode == 2 and "--host must be 127.0.0.1" in result.stderr


def test_cli_requires_the_secret_from_the_environment():
    argv, env = cli(
        "--port", "0", "--project-id", PROJECT, "--client-id", CLIENT_ID, "--redirect-uri", REDIRECT, secret=None
    )

    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)

    assert result.returncode == 2 and "FAKE_GOOGLE_CLIENT_SECRET" in result.stderr
