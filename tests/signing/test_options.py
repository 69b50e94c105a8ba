"""SignatureOptions, levels, digest algorithms, policies."""

from __future__ import annotations

import hashlib
import pickle
from datetime import UTC, datetime

import pytest
from cryptography import x509

from qcertlib.signing import DigestAlgorithm, SignatureLevel, SignatureOptions, SignaturePolicy


def test_level_parse_accepts_common_spellings() -> None:
    assert SignatureLevel.parse("b-lt") is SignatureLevel.B_LT
    assert SignatureLevel.parse("B_T") is SignatureLevel.B_T
    assert SignatureLevel.parse("BB") is SignatureLevel.B_B
    with pytest.raises(ValueError, match="unknown signature level"):
        SignatureLevel.parse("B-X")


def test_level_ordering() -> None:
    assert SignatureLevel.B_LT.at_least(SignatureLevel.B_T)
    assert not SignatureLevel.B_B.at_least(SignatureLevel.B_T)


@pytest.mark.parametrize("alg", list(DigestAlgorithm))
def test_digest_matches_hashlib_and_oid_roundtrips(alg: DigestAlgorithm) -> None:
    assert alg.digest(b"abc") == hashlib.new(alg.value, b"abc").digest()
    assert DigestAlgorithm.from_oid(alg.oid) is alg
    assert DigestAlgorithm.from_name(alg.value.upper()) is alg


def test_unknown_digest_oid_is_value_error() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        DigestAlgorithm.from_oid("1.3.14.3.2.26")


def test_policy_digest_length_is_checked() -> None:
    with pytest.raises(ValueError, match="policy digest"):
        SignaturePolicy(x509.ObjectIdentifier("2.16.724.1.3.1.1.2.1.9"), None, b"short")


def test_options_are_frozen_picklable_and_need_aware_time() -> None:
    opts = SignatureOptions(level=SignatureLevel.B_T, signing_time=datetime(2026, 1, 1, tzinfo=UTC))
    assert pickle.loads(pickle.dumps(opts)) == opts  # noqa: S301 - our own bytes
    with pytest.raises(ValueError, match="aware"):
        SignatureOptions(signing_time=datetime(2026, 1, 1))
