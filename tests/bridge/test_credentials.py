"""Reading the SSE-KMS properties object from S3 (moto), its cache, and every way it can be unusable."""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import boto3
import pytest
import requests
import responses
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.core import set_initial_no_auth_action_count

from oauth_bridge import app as bridge_app
from oauth_bridge import credentials as credentials_module
from oauth_bridge.app import build_bridge
from oauth_bridge.credentials import CACHE_TTL_S, FAILURE_TTL_S, Credentials, CredentialStore, CredentialsUnavailable
from sandbox.processes import free_port
from tests.bridge.helpers import (
    BUCKET,
    CLIENT_ID,
    CLIENT_SECRET,
    KEY,
    STATE_KEY,
    VENDOR,
    assert_back_to_alexa,
    get,
    make_config,
    start,
)
from tests.clock import Clock


@pytest.fixture
def store(secrets_bucket, monotonic) -> CredentialStore:
    return CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=monotonic)


def unavailable(store: CredentialStore, caplog: pytest.LogCaptureFixture) -> tuple[str, logging.LogRecord]:
    """The error code, and the one operator line logged for it."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="oauth_bridge"), pytest.raises(CredentialsUnavailable) as error:
        store.get()
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "credentials_unavailable"]
    return error.value.error_code, record


def test_reads_the_kms_encrypted_object(secrets_bucket, store):
    head = secrets_bucket.s3.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(secrets_bucket.kms_key_id)
    assert store.get() == Credentials(CLIENT_ID, CLIENT_SECRET, STATE_KEY)


def test_repr_hides_the_secrets(store):
    text = repr(store.get())
    assert CLIENT_SECRET not in text and STATE_KEY not in text


def test_warm_path_makes_no_s3_call_until_the_ttl_ends(secrets_bucket, store, monotonic):
    store.get()
    assert secrets_bucket.get_object_calls == 1
    monotonic.advance(CACHE_TTL_S - 1)
    for _ in range(50):
        store.get()
    assert secrets_bucket.get_object_calls == 1
    monotonic.advance(1)
    store.get()
    assert secrets_bucket.get_object_calls == 2


def test_a_rotated_secret_is_picked_up_after_the_ttl(secrets_bucket, store, monotonic):
    assert store.get().client_secret == CLIENT_SECRET
    secrets_bucket.write_credentials(client_secret="rotated-test-secret")
    monotonic.advance(CACHE_TTL_S / 2)
    assert store.get().client_secret == CLIENT_SECRET
    monotonic.advance(CACHE_TTL_S / 2)
    assert store.get().client_secret == "rotated-test-secret"


def test_a_failure_is_remembered_briefly(secrets_bucket, store, caplog, monotonic):
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    assert unavailable(store, caplog)[0] == "NoSuchKey"
    secrets_bucket.write_credentials()
    monotonic.advance(FAILURE_TTL_S - 1)
    with pytest.raises(CredentialsUnavailable, match="NoSuchKey"):
        store.get()
    assert secrets_bucket.get_object_calls == 1
    monotonic.advance(1)
    assert store.get().client_id == CLIENT_ID


def test_missing_object_logs_bucket_key_and_code(secrets_bucket, store, caplog):
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    code, record = unavailable(store, caplog)
    assert code == "NoSuchKey"
    assert record.levelno == logging.ERROR
    assert (record.bucket, record.object_key, record.error_code) == (BUCKET, KEY, "NoSuchKey")
    assert f"s3://{BUCKET}/{KEY}" in record.getMessage() and "NoSuchKey" in record.getMessage()


def test_missing_bucket(secrets_bucket, monotonic, caplog):
    assert (
        unavailable(CredentialStore(secrets_bucket.s3, "no-such-bucket-here", KEY, clock=monotonic), caplog)[0]
        == "NoSuchBucket"
    )


def test_access_denied_by_iam(secrets_bucket, monotonic, caplog):
    """moto evaluates IAM here: the bridge's identity may read another object, not this one."""
    iam = boto3.client("iam")

    @set_initial_no_auth_action_count(3)
    def read_as_a_role_without_access() -> str:
        iam.create_user(UserName="bridge")
        iam.put_user_policy(
            UserName="bridge",
            PolicyName="read-other",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{BUCKET}/other.properties",
                        }
                    ],
                }
            ),
        )
        access_key = iam.create_access_key(UserName="bridge")["AccessKey"]
        s3 = boto3.client(
            "s3", aws_access_key_id=access_key["AccessKeyId"], aws_secret_access_key=access_key["SecretAccessKey"]
        )
        return unavailable(CredentialStore(s3, BUCKET, KEY, clock=monotonic), caplog)[0]

    assert read_as_a_role_without_access() == "AccessDenied"


@pytest.mark.parametrize("kms_code", ["KMS.DisabledException", "KMS.KMSInvalidStateException", "KMS.NotFoundException"])
def test_kms_failures(secrets_bucket, store, caplog, kms_code):
    """S3 answers GetObject with these when the object's KMS key is disabled, pending deletion or gone.
    moto does not model key state in S3, so botocore's Stubber gives S3's answer."""
    with Stubber(secrets_bucket.s3) as stubber:
        stubber.add_client_error(
            "get_object", service_error_code=kms_code, http_status_code=400, service_message="KMS key unusable"
        )
        code, record = unavailable(store, caplog)
    assert code == kms_code == record.error_code


def test_unreachable_s3(monotonic, caplog):
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(connect_timeout=1, retries={"max_attempts": 1}),
    )
    assert unavailable(CredentialStore(s3, BUCKET, KEY, clock=monotonic), caplog)[0] == "EndpointConnectionError"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("clientid=a\nclientsecret=b\n", "missing or empty statekey"),
        (f"clientid=\nclientsecret=b\nstatekey={STATE_KEY}\n", "missing or empty clientid"),
        ("clientid=a\nclientsecret=b\nstatekey=short\n", "statekey shorter than 32"),
        (f"clientid=a\nthis line is wrong\nstatekey={STATE_KEY}\n", "line 2 is not"),
        (b"clientid=a\nclientsecret=\xff\xfe\n", "not UTF-8"),
    ],
)
def test_malformed_properties(secrets_bucket, store, caplog, body, expected):
    secrets_bucket.write(body)
    code, _ = unavailable(store, caplog)
    assert code.startswith("MalformedProperties") and expected in code


def test_operator_lines_never_contain_secret_values(secrets_bucket, store, caplog, monotonic):
    secrets_bucket.write(f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\n{STATE_KEY}\n")
    unavailable(store, caplog)
    secrets_bucket.write_credentials()
    monotonic.advance(FAILURE_TTL_S)
    with caplog.at_level(logging.INFO, logger="oauth_bridge"):
        store.get()
    logged = " ".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert "credentials_loaded" in logged
    assert CLIENT_SECRET not in logged and STATE_KEY not in logged


def test_s3_under_moto_is_untouched_by_a_requests_mock(secrets_bucket, store):
    with responses.RequestsMock() as mock:
        mock.post("https://oauth.example.com/token", json={"ok": True})
        assert store.get().client_id == CLIENT_ID
        assert requests.post("https://oauth.example.com/token", timeout=1).json() == {"ok": True}


def test_concurrent_misses_share_one_read(secrets_bucket):
    """gunicorn threads: a cold cache under load reads S3 once, not once per thread."""
    store = CredentialStore(secrets_bucket.s3, BUCKET, KEY, clock=Clock(0.0))
    threads = [threading.Thread(target=store.get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert secrets_bucket.get_object_calls == 1


def test_while_s3_hangs_concurrent_requests_answer_by_the_wait_not_one_after_another(hanging_s3):
    """Queued behind one lock, four requests would be answered after 6, 12, 18 and 24 s: each waits on its own."""
    store = CredentialStore(hanging_s3, BUCKET, KEY, wait_s=1.0)

    def one(_: int) -> tuple[str, float]:
        started = time.monotonic()
        with pytest.raises(CredentialsUnavailable) as error:
            store.get()
        return error.value.error_code, time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert {code for code, _ in results} == {"Timeout"}
    assert max(elapsed for _, elapsed in results) < 1.8
    started = time.monotonic()
    with pytest.raises(CredentialsUnavailable, match="Timeout"):
        store.get()
    assert time.monotonic() - started < 0.1, "a failed read is remembered: the next request does not wait again"


def test_a_read_that_outlasts_its_waiters_is_logged_once_by_a_daemon_reader(hanging_s3, caplog):
    """Four requests give up on the same hanging read: the operator sees one line, not one per request, and the
    reader (named in thread dumps) does not hold the process open when gunicorn or Lambda ends it."""
    key = "secrets/outlasted.properties"  # lines of other tests' readers, still ending, name their own key
    store = CredentialStore(hanging_s3, BUCKET, key, wait_s=0.5)

    def code(_: int) -> str:
        with pytest.raises(CredentialsUnavailable) as error:
            store.get()
        return error.value.error_code

    with caplog.at_level(logging.ERROR, logger="oauth_bridge"), concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(code, range(4))) == ["Timeout"] * 4
    assert [r.getMessage() for r in caplog.records if getattr(r, "object_key", None) == key] == [
        f"cannot use secrets object s3://{BUCKET}/{key}: Timeout"
    ]
    readers = [thread for thread in threading.enumerate() if thread.name == "secrets-read"]
    assert readers and all(reader.daemon for reader in readers)


def test_the_secrets_are_read_again_after_300_s_and_a_failed_read_after_10_s(bridge, secrets_bucket, monotonic):
    assert start(bridge) and secrets_bucket.get_object_calls == 1
    monotonic.advance(299.9)
    start(bridge)
    assert secrets_bucket.get_object_calls == 1
    monotonic.advance(0.1)
    secrets_bucket.s3.delete_object(Bucket=BUCKET, Key=KEY)
    response = get(
        bridge,
        "/authorize",
        {
            "client_id": "x",
            "response_type": "token",
            "state": "s",
            "redirect_uri": f"https://layla.amazon.com/api/skill/link/{VENDOR}",
        },
    )
    assert secrets_bucket.get_object_calls == 2
    assert_back_to_alexa(response, "temporarily_unavailable", state="s")
    secrets_bucket.write_credentials()
    monotonic.advance(9.9)
    with pytest.raises(CredentialsUnavailable):
        bridge._credentials.get()
    assert secrets_bucket.get_object_calls == 2
    monotonic.advance(0.1)
    assert bridge._credentials.get().client_id == CLIENT_ID
    assert secrets_bucket.get_object_calls == 3


def test_a_request_waits_2_s_for_a_hanging_secrets_read(hanging_s3):
    """The wall clock is the behaviour: the default wait of the production store, 2 s (plus scheduling)."""
    store = CredentialStore(hanging_s3, BUCKET, KEY)
    started = time.monotonic()
    with pytest.raises(CredentialsUnavailable) as error:
        store.get()
    assert error.value.error_code == "Timeout"
    assert 2.0 <= time.monotonic() - started < 2.15


class FakeS3:
    """GetObject answering with `body`, or raising `error`."""

    def __init__(self, body: bytes = b"", error: Exception | None = None) -> None:
        self.body, self.error = body, error

    def get_object(self, *, Bucket: str, Key: str) -> dict:
        assert (Bucket, Key) == (BUCKET, KEY)
        if self.error:
            raise self.error
        return {"Body": io.BytesIO(self.body)}


_FIELDS = ("event", "bucket", "object_key", "error_code")


def read(s3: FakeS3, caplog: pytest.LogCaptureFixture) -> tuple[Credentials | str, list[tuple]]:
    """The credentials (or the error code), and the operator lines logged meanwhile: level, message and the
    JSON fields they carry."""
    with caplog.at_level(logging.INFO, logger="oauth_bridge.credentials"):
        try:
            outcome: Credentials | str = CredentialStore(s3, BUCKET, KEY, clock=Clock(0.0)).get()
        except CredentialsUnavailable as error:
            outcome = error.error_code
    return outcome, [
        (
            record.levelname,
            record.getMessage(),
            {name: getattr(record, name) for name in _FIELDS if hasattr(record, name)},
        )
        for record in caplog.records
    ]


OBJECT = f"s3://{BUCKET}/{KEY}"


@pytest.mark.parametrize(
    "s3, code",
    [
        (FakeS3(error=ClientError({"Error": {"Code": "SlowDown"}}, "GetObject")), "SlowDown"),
        (FakeS3(error=ClientError({"Error": {"Code": ""}}, "GetObject")), "UnknownClientError"),
        (FakeS3(error=ClientError({}, "GetObject")), "UnknownClientError"),
        (FakeS3(error=ConnectionResetError(104, "Connection reset by peer")), "ConnectionResetError"),
        (FakeS3(b"statekey=" + b"k" * 32 + b"\n"), "MalformedProperties: missing or empty clientid, clientsecret"),
        (
            FakeS3(b"clientid=a\nclientsecret=b\nstatekey=" + b"k" * 31 + b"\n"),
            "MalformedProperties: statekey shorter than 32 characters",
        ),
    ],
    ids=[
        "S3's code",
        "a blank code",
        "no error at all",
        "any other exception",
        "two values missing",
        "a 31-character state key",
    ],
)
def test_what_the_operator_reads_for_an_unusable_secrets_object(caplog, s3, code):
    assert read(s3, caplog) == (
        code,
        [
            (
                "ERROR",
                f"cannot use secrets object {OBJECT}: {code}",
                {"event": "credentials_unavailable", "bucket": BUCKET, "object_key": KEY, "error_code": code},
            )
        ],
    )


def test_a_32_character_state_key_is_enough_and_the_read_is_logged(caplog):
    body = f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\nstatekey={'k' * 32}\n".encode()
    assert read(FakeS3(body), caplog) == (
        Credentials(CLIENT_ID, CLIENT_SECRET, "k" * 32),
        [
            (
                "INFO",
                f"read secrets object {OBJECT}",
                {"event": "credentials_loaded", "bucket": BUCKET, "object_key": KEY},
            )
        ],
    )


class EndsAsTheWaitExpires(Future):
    """A read whose end the request sees only just after its wait expired."""

    def result(self, timeout: float | None = None) -> Credentials:
        self.exception()
        raise FutureTimeout


@pytest.mark.parametrize(
    "s3, code",
    [
        (FakeS3(error=ClientError({"Error": {"Code": "NoSuchKey"}}, "GetObject")), "NoSuchKey"),
        (FakeS3(f"clientid={CLIENT_ID}\nclientsecret={CLIENT_SECRET}\nstatekey={'k' * 32}\n".encode()), "Timeout"),
    ],
    ids=["failed", "succeeded"],
)
def test_a_read_ending_as_the_wait_expires(monkeypatch, s3, code):
    """The request answers with the read's own failure, or, when it succeeded too late, with Timeout."""
    monkeypatch.setattr(credentials_module, "Future", EndsAsTheWaitExpires)
    with pytest.raises(CredentialsUnavailable) as error:
        CredentialStore(s3, BUCKET, KEY, clock=Clock(0.0)).get()
    assert error.value.error_code == code


def test_the_production_s3_client_bounds_each_read():
    """1 s to connect, 2 s per read, 3 attempts in all (botocore's max_attempts counts retries): about 6 s."""
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x", config=bridge_app.S3_CONFIG
    )
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (1, 2)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_the_production_bridge_reads_s3_with_its_own_bounds(aws):
    """1 s to connect, 2 s per read, 3 attempts: the background read ends within about 6 s."""
    config = build_bridge(make_config())._credentials._s3.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries) == (
        1,
        2,
        {"mode": "standard", "total_max_attempts": 3},
    )
