"""The pure OCSP responder core: statuses, CertIDs, nonces, errors, caching."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from qcertlib.revocation import InMemoryStatusSource, OcspResponder, Status
from qcertlib.revocation.ocsp import build_request, verify_response
from qcertlib.revocation.responder import MALFORMED_REQUEST, UNAUTHORIZED
from tests.revocation.pki import GeneratedPki, make_ca


def test_good_and_revoked_with_reason(pki: GeneratedPki, responder: OcspResponder) -> None:
    for index, expected in ((0, Status.GOOD), (1, Status.REVOKED)):
        request = build_request(pki.leaves[index], pki.ca)
        result = verify_response(
            responder.respond(request.der), pki.leaves[index], pki.ca, nonce=request.nonce
        )
        assert result.status is expected
    assert result.cert_status.reason is x509.ReasonFlags.key_compromise
    assert result.cert_status.revocation_time == pki.revoked[pki.leaves[1].serial_number][0]
    assert result.responder == pki.ocsp


def test_unknown_serial(pki: GeneratedPki, responder: OcspResponder) -> None:
    stranger = pki.leaves[0]
    source = InMemoryStatusSource()  # knows nothing
    lonely = OcspResponder(pki.ca, source, pki.ocsp_key, signer_cert=pki.ocsp)
    request = build_request(stranger, pki.ca)
    result = verify_response(lonely.respond(request.der), stranger, pki.ca, nonce=request.nonce)
    assert result.status is Status.UNKNOWN


def test_sha256_cert_id(pki: GeneratedPki, responder: OcspResponder) -> None:
    request = build_request(pki.leaves[1], pki.ca, hash_algorithm=hashes.SHA256())
    response = ocsp.load_der_ocsp_response(responder.respond(request.der))
    assert isinstance(response.hash_algorithm, hashes.SHA256)
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED


def _multi_request(pki: GeneratedPki) -> bytes:
    """An OCSPRequest with three Requests (cryptography builds only one: splice DER)."""
    from tests.revocation.pki import _tlv

    ids = []
    for index in (0, 1, 2):
        one = build_request(pki.leaves[index], pki.ca, with_nonce=False).der
        # OCSPRequest > TBSRequest > requestList > Request: peel three SEQUENCE headers
        body = one
        for _ in range(3):
            body = body[2 + (body[1] & 0x7F if body[1] & 0x80 else 0) :]
        ids.append(body)
    return _tlv(0x30, _tlv(0x30, _tlv(0x30, b"".join(ids))))


def test_several_requests_in_one(pki: GeneratedPki, responder: OcspResponder) -> None:
    response = ocsp.load_der_ocsp_response(responder.respond(_multi_request(pki)))
    statuses = {r.serial_number: r.certificate_status for r in response.responses}
    assert statuses == {
        pki.leaves[0].serial_number: ocsp.OCSPCertStatus.GOOD,
        pki.leaves[1].serial_number: ocsp.OCSPCertStatus.REVOKED,
        pki.leaves[2].serial_number: ocsp.OCSPCertStatus.GOOD,
    }


def test_nonce_is_echoed(pki: GeneratedPki, responder: OcspResponder) -> None:
    nonce = os.urandom(20)
    request = build_request(pki.leaves[0], pki.ca, nonce=nonce)
    response = ocsp.load_der_ocsp_response(responder.respond(request.der))
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce


def test_overlong_nonce_is_malformed(pki: GeneratedPki, responder: OcspResponder) -> None:
    request = build_request(pki.leaves[0], pki.ca, nonce=os.urandom(33))
    assert responder.respond(request.der) == MALFORMED_REQUEST


def test_garbage_and_truncated_requests_are_malformed(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    good = build_request(pki.leaves[0], pki.ca).der
    for bad in (b"", b"\x30\x00", b"hello", good[:-3], good + b"\x00", b"\x30\x03\x30\x01\x30"):
        assert responder.respond(bad) == MALFORMED_REQUEST
    parsed = ocsp.load_der_ocsp_response(MALFORMED_REQUEST)
    assert parsed.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_foreign_issuer_is_unauthorized(pki: GeneratedPki, responder: OcspResponder) -> None:
    other, _key = make_ca("Another CA", None, None)
    request = build_request(pki.leaves[0], other)
    assert responder.respond(request.der) == UNAUTHORIZED
    parsed = ocsp.load_der_ocsp_response(UNAUTHORIZED)
    assert parsed.response_status is ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_ca_signs_itself_without_delegate(pki: GeneratedPki) -> None:
    source = InMemoryStatusSource([pki.leaves[0].serial_number])
    direct = OcspResponder(pki.ca, source, pki.ca_key)
    request = build_request(pki.leaves[0], pki.ca)
    result = verify_response(
        direct.respond(request.der), pki.leaves[0], pki.ca, nonce=request.nonce
    )
    assert result.status is Status.GOOD
    assert result.responder == pki.ca
    assert not ocsp.load_der_ocsp_response(direct.respond(request.der)).certificates


def test_pre_produced_response_is_reused(pki: GeneratedPki, responder: OcspResponder) -> None:
    request = build_request(pki.leaves[0], pki.ca, with_nonce=False)
    at = datetime.now(UTC)
    first = responder.respond(request.der, at=at)
    again = responder.respond(request.der, at=at + timedelta(minutes=5))
    assert again == first  # byte for byte: served from the pre-produced cache
    later = responder.respond(request.der, at=at + timedelta(minutes=40))
    assert later != first  # refreshed after half the validity


def test_revocation_is_visible_in_the_next_response(pki: GeneratedPki) -> None:
    source = InMemoryStatusSource(leaf.serial_number for leaf in pki.leaves)
    live = OcspResponder(pki.ca, source, pki.ocsp_key, signer_cert=pki.ocsp)
    request = build_request(pki.leaves[3], pki.ca, with_nonce=False)
    before = verify_response(live.respond(request.der), pki.leaves[3], pki.ca)
    assert before.status is Status.GOOD
    source.revoke(pki.leaves[3].serial_number, datetime.now(UTC), x509.ReasonFlags.superseded)
    after = verify_response(live.respond(request.der), pki.leaves[3], pki.ca)
    assert after.status is Status.REVOKED
    assert after.cert_status.reason is x509.ReasonFlags.superseded


def test_index_file_change_is_visible_in_the_next_response(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    request = build_request(pki.leaves[2], pki.ca, with_nonce=False)
    assert (
        verify_response(responder.respond(request.der), pki.leaves[2], pki.ca).status is Status.GOOD
    )
    pki.revoke(2)
    assert (
        verify_response(responder.respond(request.der), pki.leaves[2], pki.ca).status
        is Status.REVOKED
    )


def test_signer_key_must_match_certificate(pki: GeneratedPki) -> None:
    import pytest

    with pytest.raises(ValueError, match="does not match"):
        OcspResponder(pki.ca, InMemoryStatusSource(), pki.ca_key, signer_cert=pki.ocsp)


def test_response_structure(pki: GeneratedPki, responder: OcspResponder) -> None:
    request = build_request(pki.leaves[0], pki.ca)
    response = ocsp.load_der_ocsp_response(responder.respond(request.der))
    assert response.responder_key_hash is not None
    assert response.certificates == [pki.ocsp]
    assert response.next_update_utc is not None
    assert response.next_update_utc - response.this_update_utc == timedelta(hours=1)
    assert response.certificates[0].public_bytes(serialization.Encoding.DER)
