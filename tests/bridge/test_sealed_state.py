"""The sealed state: Alexa's state, redirect URI and the flow nonce's hash, signed with the state key and
valid 10 minutes."""

from __future__ import annotations

import hashlib
import re
import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from oauth_bridge.sealed_state import (
    MAX_AGE_S,
    PREFIX,
    AlexaReturn,
    StateRefused,
    StateSealer,
    binding_of,
    new_nonce,
    unverified,
)
from tests.bridge.helpers import ALEXA_REDIRECT, ALEXA_STATE, STATE_KEY
from tests.clock import Clock

NONCE = new_nonce()
ALEXA = AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of(NONCE))


@pytest.fixture
def clock() -> Clock:
    return Clock(1_800_000_000.0)


@pytest.fixture
def sealer(clock) -> StateSealer:
    return StateSealer(STATE_KEY, clock)


def test_round_trip_within_ten_minutes(sealer, clock):
    sealed = sealer.seal(ALEXA)
    assert sealed.startswith(PREFIX)
    clock.advance(MAX_AGE_S)
    assert sealer.open(sealed) == ALEXA


def test_url_safe_and_does_not_show_the_redirect_in_clear_text(sealer):
    sealed = sealer.seal(ALEXA)
    assert all(char.isalnum() or char in "-_.~" for char in sealed)
    assert "amazon.com" not in sealed


def test_expired_after_ten_minutes(sealer, clock):
    sealed = sealer.seal(ALEXA)
    clock.advance(MAX_AGE_S + 1)
    with pytest.raises(StateRefused) as refused:
        sealer.open(sealed)
    assert refused.value.reason == "expired"


_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _flipped(char: str) -> str:
    """Another character whose top bit differs: the last character of a base64 segment carries only its top
    bits, so "A" for "B" there may decode to the same bytes (a test that failed one run in four)."""
    return _BASE64URL[_BASE64URL.index(char) ^ 32] if char in _BASE64URL else "A"


def test_tampering_anywhere_is_refused(sealer):
    sealed = sealer.seal(ALEXA)
    for index in range(len(PREFIX), len(sealed)):
        flipped = sealed[:index] + _flipped(sealed[index]) + sealed[index + 1 :]
        with pytest.raises(StateRefused) as refused:
            sealer.open(flipped)
        assert refused.value.reason == "invalid"


def test_another_key_cannot_open_it(sealer, clock):
    with pytest.raises(StateRefused, match="invalid"):
        StateSealer("another-state-key-" + "x" * 32, clock).open(sealer.seal(ALEXA))


def test_a_forged_payload_signed_with_another_key_is_refused(clock):
    forged = StateSealer("attacker-key-" + "y" * 32, clock).seal(AlexaReturn("s", "https://evil.example/", "b"))
    with pytest.raises(StateRefused, match="invalid"):
        StateSealer(STATE_KEY, clock).open(forged)


@pytest.mark.parametrize("state", [PREFIX, PREFIX + "garbage", PREFIX + "a.b.c", PREFIX + "e30.AAAAAA.sig"])
def test_garbage_after_the_prefix_is_refused(sealer, state):
    with pytest.raises(StateRefused, match="invalid"):
        sealer.open(state)


@pytest.mark.parametrize("state", [ALEXA_STATE, "A2SAAEAEJ8SL" + PREFIX, "sealed1~eyJzIjoicyJ9.abc.def"])
def test_a_state_without_the_prefix_is_unsealed(sealer, state):
    with pytest.raises(StateRefused, match="unsealed"):
        sealer.open(state)


def test_the_state_holds_the_nonce_hash_never_the_nonce(sealer):
    opened = sealer.open(sealer.seal(ALEXA))
    assert NONCE not in sealer.seal(ALEXA)
    assert opened.bound_to(NONCE)
    assert not opened.bound_to(None) and not opened.bound_to(new_nonce()) and not opened.bound_to("")


def test_unverified_reads_the_payload_without_the_key(sealer):
    assert unverified(sealer.seal(ALEXA)) == ALEXA
    for garbage in (ALEXA_STATE, PREFIX, PREFIX + "e30.AAAAAA.sig", PREFIX + "W1tbWw.x.y"):
        assert unverified(garbage) is None


KNOWN_KEY = "known-state-key-" + "k" * 32
SEALED_AT = 1_800_000_000.0
KNOWN_RETURN = AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, "bInDiNg")
KNOWN_SEALED = (
    "sealed2~eyJzIjoiQWxleGFTdGF0ZS0wMTIzNDU2Nzg5YWJjZGVmIiwiciI6Imh0dHBzOi8vbGF5bGEuYW1hem9uLmNvbS9hcGkv"
    "c2tpbGwvbGluay9URVNUVkVORE9SMDEiLCJiIjoiYkluRGlOZyJ9.a0nSAA.9WMGvIh7edvs-ifoZvBYtSlAZ3osHQsGxYPGcuXeUrY"
)
"""KNOWN_RETURN sealed with KNOWN_KEY at SEALED_AT: the states in flight during a deploy were sealed by the
version before it, so a change of prefix, salt, digest or payload names would refuse every one of them."""


def test_one_known_sealed_string_for_a_fixed_key_clock_and_state():
    assert StateSealer(KNOWN_KEY, Clock(SEALED_AT)).seal(KNOWN_RETURN) == KNOWN_SEALED
    assert StateSealer(KNOWN_KEY, Clock(SEALED_AT + 10)).open(KNOWN_SEALED) == KNOWN_RETURN


def test_a_state_opens_at_600_s_and_has_expired_at_601_s():
    wall = Clock(SEALED_AT + 600)
    assert StateSealer(KNOWN_KEY, wall).open(KNOWN_SEALED) == KNOWN_RETURN
    wall.now = SEALED_AT + 601
    with pytest.raises(StateRefused) as refused:
        StateSealer(KNOWN_KEY, wall).open(KNOWN_SEALED)
    assert refused.value.reason == "expired"


def test_another_key_or_a_sealed1_state_is_refused():
    with pytest.raises(StateRefused) as refused:
        StateSealer("another-key-" + "k" * 32, Clock(SEALED_AT)).open(KNOWN_SEALED)
    assert refused.value.reason == "invalid"
    with pytest.raises(StateRefused) as refused:
        StateSealer(KNOWN_KEY, Clock(SEALED_AT)).open("sealed1~" + KNOWN_SEALED.removeprefix("sealed2~"))
    assert refused.value.reason == "unsealed"


def _signed(payload: object) -> str:
    """A payload signed with the right key, salt and digest: only its shape is wrong."""
    serializer = URLSafeTimedSerializer(
        KNOWN_KEY, salt="oauth-bridge/alexa-state", signer_kwargs={"digest_method": hashlib.sha256}
    )
    return "sealed2~" + serializer.dumps(payload)


def test_the_salt_and_digest_are_the_published_ones():
    sealed = _signed({"s": ALEXA_STATE, "r": ALEXA_REDIRECT, "b": "bInDiNg"})
    assert StateSealer(KNOWN_KEY).open(sealed) == KNOWN_RETURN


@pytest.mark.parametrize(
    "payload",
    [
        ["AlexaState", ALEXA_REDIRECT, "b"],
        {"s": ALEXA_STATE, "r": ALEXA_REDIRECT},
        {"s": 5, "r": ALEXA_REDIRECT, "b": "bInDiNg"},
        {"s": ALEXA_STATE, "r": None, "b": "bInDiNg"},
        {"s": ALEXA_STATE, "r": ALEXA_REDIRECT, "b": ["bInDiNg"]},
        "just a string",
    ],
)
def test_a_rightly_signed_payload_of_the_wrong_shape_is_refused_not_a_crash(payload):
    with pytest.raises(StateRefused) as refused:
        StateSealer(KNOWN_KEY).open(_signed(payload))
    assert refused.value.reason == "invalid"
    assert unverified(_signed(payload)) is None


def _signed_bytes(signed: bytes) -> str:
    """Bytes signed with the right key, salt and digest that are no serialized payload at all."""
    serializer = URLSafeTimedSerializer(
        KNOWN_KEY, salt="oauth-bridge/alexa-state", signer_kwargs={"digest_method": hashlib.sha256}
    )
    return "sealed2~" + serializer.make_signer().sign(signed).decode()


@pytest.mark.parametrize(
    "sealed",
    [
        lambda: _signed({"s": ALEXA_STATE, "r": ALEXA_REDIRECT}),
        lambda: _signed("just a string"),
        lambda: _signed_bytes(b"bm90IGpzb24"),  # base64 of "not json"
        lambda: _signed_bytes(b".AAAA"),  # marked compressed, but no zlib stream
    ],
    ids=["wrong shape", "not a dict", "not json", "not zlib"],
)
def test_an_expired_state_that_carries_no_alexa_return_is_invalid_with_no_flow(sealed):
    """Past its age, only a state carrying Alexa's return is "expired" (and goes back to Alexa); a rightly
    signed state without one is refused as "invalid", with no flow to send anywhere."""
    with pytest.raises(StateRefused) as refused:
        StateSealer(KNOWN_KEY, Clock(time.time() + MAX_AGE_S + 60)).open(sealed())
    assert (refused.value.reason, refused.value.expired_flow) == ("invalid", None)


def test_unverified_reads_the_payload_of_a_sealed2_state_only():
    assert unverified(KNOWN_SEALED) == KNOWN_RETURN
    assert unverified(KNOWN_SEALED.removeprefix("sealed2~")) is None
    assert unverified("sealed2~not base64 at all") is None


def test_the_browser_binding_is_the_unpadded_urlsafe_sha256_of_the_nonce():
    assert binding_of("nonce") == "eDd7UldXtJRCf4kBT5fXmSjzk40U61HiD7XeyYNOswQ"
    assert AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of("nonce")).bound_to("nonce")
    assert not AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of("nonce")).bound_to("nonce2")
    assert not AlexaReturn(ALEXA_STATE, ALEXA_REDIRECT, binding_of("nonce")).bound_to(None)


def test_a_flow_nonce_is_128_random_bits_in_22_url_safe_characters():
    nonces = {new_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", nonce) for nonce in nonces)
