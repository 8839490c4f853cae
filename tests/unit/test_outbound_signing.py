"""Standard Webhooks signatures: the spec's published test vector, verification, and the secret's form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from orderwire.integrations.standardwebhooks.signing import SignatureError, headers, sign, verify
from orderwire.settings import Settings

# From standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py (test_sign_function).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_PAYLOAD = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
AT = datetime.fromtimestamp(SPEC_TIMESTAMP, UTC)


def test_matches_the_spec_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD) == SPEC_SIGNATURE
    # The prefix is optional for the key, as in the reference libraries.
    assert (
        sign(SPEC_SECRET.removeprefix("whsec_"), SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD) == SPEC_SIGNATURE
    )


def test_verifies_its_own_headers_and_rejects_changes() -> None:
    signed = headers(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)
    assert signed == {
        "webhook-id": SPEC_MSG_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    verify(SPEC_SECRET, signed, SPEC_PAYLOAD, AT)
    with pytest.raises(SignatureError):
        verify(SPEC_SECRET, signed, SPEC_PAYLOAD + b" ", AT)  # one byte more
    with pytest.raises(SignatureError):
        verify(SPEC_SECRET, {**signed, "webhook-id": "msg_other"}, SPEC_PAYLOAD, AT)
    with pytest.raises(SignatureError):
        verify("whsec_" + "A" * 32, signed, SPEC_PAYLOAD, AT)  # another key
    with pytest.raises(SignatureError):
        verify(SPEC_SECRET, signed, SPEC_PAYLOAD, AT + timedelta(minutes=5, seconds=1))  # replayed late
    with pytest.raises(SignatureError):
        verify(SPEC_SECRET, {k: v for k, v in signed.items() if k != "webhook-id"}, SPEC_PAYLOAD, AT)


def test_any_v1_signature_of_a_rotation_list_may_match() -> None:
    signed = headers(SPEC_SECRET, SPEC_MSG_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)
    listed = f"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,AAAA {signed['webhook-signature']}"
    verify(SPEC_SECRET, {**signed, "webhook-signature": listed}, SPEC_PAYLOAD, AT)
    wrong_version = signed["webhook-signature"].replace("v1,", "v2,")
    with pytest.raises(SignatureError):
        verify(SPEC_SECRET, {**signed, "webhook-signature": wrong_version}, SPEC_PAYLOAD, AT)


def test_settings_take_only_a_whsec_secret_of_24_bytes_or_more() -> None:
    assert Settings(outbound_webhook_secret=SPEC_SECRET).outbound_webhook_secret is not None
    with pytest.raises(ValidationError):
        Settings(outbound_webhook_secret="whsec_not base64!")
    with pytest.raises(ValidationError):
        Settings(outbound_webhook_secret="whsec_c2hvcnQ=")  # "short"
    with pytest.raises(ValidationError):
        Settings(outbound_webhook_urls="https://crm.example/hook, ftp://files.example/x")
