"""Reading the SSE-KMS properties object from S3 (moto), its cache, and every way it can be unusable."""

from __future__ import annotations

import concurrent.futures
import json
import logging
import threading
import time

import boto3
import pytest
import requests
import responses
from botocore.config import Config
from botocore.stub import Stubber
from moto.core import set_initial_no_auth_action_count

from oauth_bridge.credentials import (CACHE_TTL_S, FAILURE_TTL_S, CredentialStore, Credentials,
                                      CredentialsUnavailable)
from sandbox.processes import free_port
from tests.bridge.helpers import BUCKET, CLIENT_ID, CLIENT_SECRET, KEY, STATE_KEY
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
    assert unavailable(CredentialStore(secrets_bucket.s3, "no-such-bucket-here", KEY, clock=monotonic),
                       caplog)[0] == "NoSuchBucket"


def test_access_denied_by_iam(secrets_bucket, monotonic, caplog):
    """moto evaluates IAM here: the bridge's identity may read another object, not this one."""
    iam = boto3.client("iam")

    @set_initial_no_auth_action_count(3)
    def read_as_a_role_without_access() -> str:
        iam.create_user(UserName="bridge")
        iam.put_user_policy(UserName="bridge", PolicyName="read-other", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                           "Resource": f"arn:aws:s3:::{BUCKET}/other.properties"}]}))
        access_key = iam.create_access_key(UserName="bridge")["AccessKey"]
        s3 = boto3.client("s3", aws_access_key_id=access_key["AccessKeyId"],
                          aws_secret_access_key=access_key["SecretAccessKey"])
        return unavailable(CredentialStore(s3, BUCKET, KEY, clock=monotonic), caplog)[0]

    assert read_as_a_role_without_access() == "AccessDenied"


@pytest.mark.parametrize("kms_code", ["KMS.DisabledException", "KMS.KMSInvalidStateException",
                                      "KMS.NotFoundException"])
def test_kms_failures(secrets_bucket, store, caplog, kms_code):
    """S3 answers GetObject with these when the object's KMS key is disabled, pending deletion or gone.
    moto does not model key state in S3, so botocore's Stubber gives S3's answer."""
    with Stubber(secrets_bucket.s3) as stubber:
        stubber.add_client_error("get_object", service_error_code=kms_code, http_status_code=400,
                                 service_message="KMS key unusable")
        code, record = unavailable(store, caplog)
    assert code == kms_code == record.error_code


def test_unreachable_s3(monotonic, caplog):
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(connect_timeout=1, retries={"max_attempts": 1}))
    assert unavailable(CredentialStore(s3, BUCKET, KEY, clock=monotonic), caplog)[0] == "EndpointConnectionError"


@pytest.mark.parametrize("body, expected", [
    ("clientid=a\nclientsecret=b\n", "missing or empty statekey"),
    (f"clientid=\nclientsecret=b\nstatekey={STATE_KEY}\n", "missing or empty clientid"),
    ("clientid=a\nclientsecret=b\nstatekey=short\n", "statekey shorter than 32"),
    (f"clientid=a\nthis line is wrong\nstatekey={STATE_KEY}\n", "line 2 is not"),
    (b"clientid=a\nclientsecret=\xff\xfe\n", "not UTF-8"),
])
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
    """Issue 10 point 6: four requests were answered after 6, 12, 18 and 24 s, queued behind a lock."""
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
        f"cannot use secrets object s3://{BUCKET}/{key}: Timeout"]
    readers = [thread for thread in threading.enumerate() if thread.name == "secrets-read"]
    assert readers and all(reader.daemon for reader in readers)
