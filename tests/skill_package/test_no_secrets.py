"""No file git would commit holds a credential: the client secret and tokens live only in the
encrypted bucket, GitHub secrets and the git-ignored build directory."""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET_PATTERNS = {
    "Google OAuth client secret": re.compile(r"GOCSPX-[A-Za-z0-9_-]{20,}"),
    "Google access token": re.compile(r"ya29\.[A-Za-z0-9_-]{20,}"),
    "Google refresh token": re.compile(r"1//0[A-Za-z0-9_-]{20,}"),
    "Amazon access token": re.compile(r"Atza\|[A-Za-z0-9_-]{20,}"),
    "Login with Amazon client secret": re.compile(r"amzn1\.oa2-cs\.v1\.[0-9a-f]{64}"),
    "AWS access key ID": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
}


def secrets_in(text: str) -> list[str]:
    return [kind for kind, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def committable_files() -> list[Path]:
    """Tracked files plus untracked ones that .gitignore does not exclude: what `git add -A` would take."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.fail(f"cannot list the repository's files with git: {error}")
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def test_no_committable_file_holds_a_secret():
    files = committable_files()
    assert any(path.name == "accountLinking.json" for path in files)
    found = [
        f"{path.relative_to(ROOT)}: {kind}"
        for path in files
        for kind in secrets_in(path.read_bytes().decode("utf-8", errors="replace"))
    ]
    assert found == []


def test_build_directory_is_not_committable():
    assert (
        subprocess.run(
            ["git", "check-ignore", "-q", "build/ask-project/account-linking.json"], cwd=ROOT, check=False, timeout=60
        ).returncode
        == 0
    )


# The samples are assembled at run time so that this file itself holds nothing secret-looking.
@pytest.mark.parametrize(
    "kind, sample",
    [
        ("Google OAuth client secret", "GOCSPX" + "-" + "Ab1_" * 7),
        ("Google access token", "ya29" + "." + "a0Ab-" * 6),
        ("Google refresh token", "1//0" + "gAbC-" * 6),
        ("Amazon access token", "Atza" + "|" + "IwEB" * 6),
        ("Login with Amazon client secret", "amzn1.oa2-cs.v1." + "0f" * 32),
        ("AWS access key ID", "AKIA" + "Z7" * 8),
        ("AWS secret access key", "aws_secret_access_key = " + "Zx9/" * 10),
        ("private key", "-----BEGIN " + "RSA PRIVATE KEY-----"),
    ],
)
def test_each_kind_of_secret_is_recognised(kind, sample):
    assert secrets_in(f"config = {sample}\n") == [kind]


def test_fake_test_values_and_placeholders_are_not_taken_for_secrets():
    assert (
        secrets_in(
            "clientsecret=test-client-secret-not-real\nAccessToken: linked-test-token-0123\n"
            "scope https://www.googleapis.com/auth/sdm.service GOCSPX-short\n"
        )
        == []
    )
