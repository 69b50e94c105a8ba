"""Pure OCSP response verification: freshness, clock skew, maximum age, SHA-256."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from qcertlib.errors import RevocationResponseError
from qcertlib.revocation import NoncePolicy, OcspResponder, Status
from qcertlib.revocation.ocsp import (
    build_multi_request,
    build_request,
    verify_response,
    verify_responses,
)
from tests.revocation.pki import GeneratedPki, make_ca


def _answer(responder: OcspResponder, pki: GeneratedPki, at: datetime) -> bytes:
    return responder.respond(build_request(pki.leaves[0], pki.ca, with_nonce=False).der, at=at)


def test_this_update_in_the_future_is_refused(pki: GeneratedPki, responder: OcspResponder) -> None:
    now = datetime.now(UTC)
    der = _answer(responder, pki, now + timedelta(hours=1))
    with pytest.raises(RevocationResponseError, match="in the future"):
        verify_response(der, pki.leaves[0], pki.ca, at=now)


def test_small_clock_skew_is_tolerated(pki: GeneratedPki, responder: OcspResponder) -> None:
    now = datetime.now(UTC)
    der = _answer(responder, pki, now + timedelta(minutes=2))
    assert verify_response(der, pki.leaves[0], pki.ca, at=now).status is Status.GOOD
    with pytest.raises(RevocationResponseError, match="in the future"):
        verify_response(der, pki.leaves[0], pki.ca, at=now, clock_skew=timedelta(seconds=10))


def test_max_age_bounds_an_unexpired_response(pki: GeneratedPki, responder: OcspResponder) -> None:
    now = datetime.now(UTC)
    der = _answer(responder, pki, now)
    later = now + timedelta(minutes=50)  # nextUpdate (1 h) not reached yet
    assert verify_response(der, pki.leaves[0], pki.ca, at=later).status is Status.GOOD
    with pytest.raises(RevocationResponseError, match="maximum age"):
        verify_response(der, pki.leaves[0], pki.ca, at=later, max_age=timedelta(minutes=30))


def test_next_update_passed_is_stale(pki: GeneratedPki, responder: OcspResponder) -> None:
    now = datetime.now(UTC)
    der = _answer(responder, pki, now)
    with pytest.raises(RevocationResponseError, match="nextUpdate"):
        verify_response(der, pki.leaves[0], pki.ca, at=now + timedelta(hours=2))


def test_sha256_request_and_verification(pki: GeneratedPki, responder: OcspResponder) -> None:
    request = build_request(pki.leaves[1], pki.ca, hash_algorithm=hashes.SHA256())
    assert request.cert_id.hash_name == "sha256"
    result = verify_response(
        responder.respond(request.der),
        pki.leaves[1],
        pki.ca,
        nonce=request.nonce,
        nonce_policy=NoncePolicy.REQUIRED,
    )
    assert result.status is Status.REVOKED


def test_multi_request_and_per_certificate_results(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    der, nonce = build_multi_request(pki.leaves[:3], pki.ca)
    answer = responder.respond(der)
    results = verify_responses(answer, [*pki.leaves[:3], pki.leaves[3]], pki.ca, nonce=nonce)
    statuses = [r.status if not isinstance(r, Exception) else None for r in results]
    assert statuses == [Status.GOOD, Status.REVOKED, Status.GOOD, None]
    assert isinstance(results[3], RevocationResponseError)
    with pytest.raises(ValueError, match="at least one"):
        build_multi_request([], pki.ca)


@pytest.mark.parametrize("algorithm", [hashes.SHA1(), hashes.SHA256(), hashes.SHA512()])  # noqa: S303 - RFC 5019 CertID
@pytest.mark.parametrize("nonce", [None, b"\x00" * 16, bytes(range(32))])
@pytest.mark.parametrize("serial", [1, 0x7F, 0x80, 0xFF00, 2**158 + 1])
def test_hand_encoded_request_is_what_cryptography_builds(
    pki: GeneratedPki, algorithm: hashes.HashAlgorithm, nonce: bytes | None, serial: int
) -> None:
    """build_request encodes the DER itself (a bulk check builds thousands); it must be
    byte-for-byte what cryptography's OCSPRequestBuilder makes (serial boundaries:
    INTEGER leading zero, long form lengths)."""
    leaf = (
        x509.CertificateBuilder()
        .subject_name(pki.leaves[0].subject)
        .issuer_name(pki.ca.subject)
        .public_key(pki.leaves[0].public_key())
        .serial_number(serial)
        .not_valid_before(pki.leaves[0].not_valid_before_utc)
        .not_valid_after(pki.leaves[0].not_valid_after_utc)
        .sign(pki.ca_key, hashes.SHA256())
    )
    ours = build_request(
        leaf, pki.ca, hash_algorithm=algorithm, nonce=nonce, with_nonce=nonce is not None
    )
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, pki.ca, algorithm)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    assert ours.der == builder.build().public_bytes(serialization.Encoding.DER)
    assert ours.nonce == nonce
    parsed = ocsp.load_der_ocsp_request(ours.der)
    assert parsed.serial_number == serial
    assert parsed.issuer_key_hash == ours.cert_id.issuer_key_hash


def test_build_request_refuses_an_unknown_certid_hash(pki: GeneratedPki) -> None:
    with pytest.raises(ValueError, match="unsupported CertID hash"):
        build_request(pki.leaves[0], pki.ca, hash_algorithm=hashes.MD5())  # noqa: S303 - refused


def test_a_checked_delegate_is_still_checked_for_validity_on_every_use(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    """The delegated responder's issuance and EKU are checked once per issuer; its
    validity period is checked at every use (the memo must not outlive it)."""
    request = build_request(pki.leaves[0], pki.ca)
    der = responder.respond(request.der)
    assert verify_response(der, pki.leaves[0], pki.ca, nonce=request.nonce).status is Status.GOOD
    later = pki.ocsp.not_valid_after_utc + timedelta(days=1)
    with pytest.raises(RevocationResponseError, match="not valid at the time"):
        verify_response(der, pki.leaves[0], pki.ca, nonce=request.nonce, at=later)
    # the same delegate presented for another issuer object with another key is refused
    # (same subject name as the real CA, so only the key tells them apart)
    other = make_ca("qcertlib Test Issuing CA", pki.root, pki.root_key)[0]
    with pytest.raises(RevocationResponseError, match="not authorized"):
        verify_response(der, pki.leaves[0], other, nonce=request.nonce)
