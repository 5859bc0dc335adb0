"""The bridge's `.platform/nginx` files in a real nginx (Debian's nginx-light), laid out as Elastic
Beanstalk's Amazon Linux 2/2023 platforms do it (docs: "Configuring the reverse proxy" and "Enhanced
health log format"): nginx.conf includes conf.d/*.conf at the http level and conf.d/elasticbeanstalk/*.conf
in the server block; healthd.conf there logs every request to
/var/log/nginx/healthd/application.log.YYYY-MM-DD-HH in the `healthd` format; 00_application.conf (the
default proxy location) is replaced by the bridge's. Paths move under a temporary prefix, and nginx
runs as a non-daemon child on 127.0.0.1, stopped by its PID."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from sandbox.processes import LOOPBACK, free_port
from sandbox.serving import running

pytestmark = pytest.mark.integration

PLATFORM = Path(__file__).resolve().parents[2] / "bridge_src" / ".platform" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WORKER_USER = " user root;" if os.geteuid() == 0 else ""
"""Workers open the log files named with variables: as root, they run as root so they can write under
pytest's private temporary directory (on the platform they run as `nginx`, which owns its log dirs)."""
SECRET_QUERY = "code=4%2F0AbCd-secret-code&state=sealed2~secret-state"

# The platform's own files (AL2023 Python platform), with /var/log/nginx kept as written: the test rewrites it.
PLATFORM_NGINX_CONF = """
worker_processes 1;
error_log /var/log/nginx/error.log warn;
pid /var/log/nginx/nginx.pid;
events { worker_connections 64; }
http {
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"';
    log_format healthd '$msec"$uri"$status"$request_time"$upstream_response_time"$http_x_forwarded_for';
    include conf.d/*.conf;
    map $http_upgrade $connection_upgrade { default "upgrade"; }
    server {
        listen LISTEN default_server;
        access_log /var/log/nginx/access.log main;
        client_header_timeout 60;
        client_body_timeout 60;
        keepalive_timeout 60;
        include conf.d/elasticbeanstalk/*.conf;
    }
}
"""
PLATFORM_HEALTHD_CONF = """
if ($time_iso8601 ~ "^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2})") {
    set $year $1;
    set $month $2;
    set $day $3;
    set $hour $4;
}
access_log /var/log/nginx/healthd/application.log.$year-$month-$day-$hour healthd;
"""


def ok_app(environ, start_response):
    start_response(
        "302 Found", [("Location", "https://layla.amazon.com/api/skill/link/X#access_token=t"), ("Content-Length", "0")]
    )
    return [b""]


def lay_out(prefix: Path, listen_port: int, upstream_port: int) -> Path:
    logs = prefix / "var" / "log" / "nginx"
    (logs / "healthd").mkdir(parents=True)
    (prefix / "html").mkdir()  # the default root: nginx writes a log named with variables only if it exists
    (prefix / "conf.d" / "elasticbeanstalk").mkdir(parents=True)

    def place(relative: str, text: str) -> None:
        text = text.replace("/var/log/nginx", str(logs)).replace("127.0.0.1:8000", f"{LOOPBACK}:{upstream_port}")
        (prefix / relative).write_text(text.replace("LISTEN", f"{LOOPBACK}:{listen_port}"))

    place("nginx.conf", PLATFORM_NGINX_CONF)
    place("conf.d/elasticbeanstalk/healthd.conf", PLATFORM_HEALTHD_CONF)
    for source in sorted(PLATFORM.rglob("*.conf")):
        place(str(source.relative_to(PLATFORM)), source.read_text())
    return logs


@pytest.fixture
def nginx(tmp_path):
    """nginx in the platform's layout; yields (base URL, logs directory, upstream port)."""
    if not Path(NGINX).exists():
        pytest.fail(
            "nginx is not installed: `make test` installs Debian's nginx-light (apt-get install -y nginx-light)"
        )
    listen_port, upstream_port = free_port(), free_port()
    logs = lay_out(tmp_path, listen_port, upstream_port)
    subprocess.run(
        [NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(logs / "startup.log")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    process = subprocess.Popen(
        [
            NGINX,
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(logs / "startup.log"),
            "-g",
            f"daemon off;{WORKER_USER}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://{LOOPBACK}:{listen_port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base_url}/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield base_url, logs, upstream_port
    finally:
        process.terminate()
        process.wait(timeout=10)


def all_logs(logs: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in sorted(logs.rglob("*")) if path.is_file())


def test_healthd_gets_every_request_and_no_log_holds_a_query(nginx):
    base_url, logs, upstream_port = nginx
    with running(ok_app, upstream_port):
        for path in ("/authorize", "/callback", "/health"):
            assert requests.get(f"{base_url}{path}?{SECRET_QUERY}", allow_redirects=False, timeout=5).status_code == 302
    time.sleep(0.2)
    [healthd] = list((logs / "healthd").glob("application.log.*"))
    assert healthd.name.startswith("application.log.") and len(healthd.name.split(".")[-1].split("-")) == 4
    lines = [line for line in healthd.read_text().splitlines() if line.split('"')[1] != "/"]  # not the start probe
    assert [line.split('"')[1:3] for line in lines] == [["/authorize", "302"], ["/callback", "302"], ["/health", "302"]]
    access = (logs / "access.log").read_text()
    assert '"GET /callback HTTP/1.1" 302' in access
    text = all_logs(logs)
    assert "secret" not in text and "code=" not in text and "?" not in access


def test_with_gunicorn_down_the_error_log_holds_no_query(nginx):
    base_url, logs, _ = nginx
    response = requests.get(f"{base_url}/callback?{SECRET_QUERY}", timeout=5)
    assert response.status_code == 502
    time.sleep(0.2)
    assert '"/callback"502"' in "".join(path.read_text() for path in (logs / "healthd").glob("application.log.*"))
    assert '"GET /callback HTTP/1.1" 502' in (logs / "access.log").read_text()
    assert "secret" not in all_logs(logs)
