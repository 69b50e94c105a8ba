"""Pure OCSP response verification: freshness, clock skew, maximum age, SHA-256."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes

from qcertlib.errors import RevocationResponseError
from qcertlib.revocation import NoncePolicy, OcspResponder, Status
from qcertlib.revocation.ocsp import (
    build_multi_request,
    build_request,
    verify_response,
    verify_responses,
)
from tests.revocation.pki import GeneratedPki


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
