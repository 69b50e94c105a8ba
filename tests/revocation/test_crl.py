"""CRL parsing, verification and lookup (pure), including a 100,000-entry CRL and deltas."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from qcertlib.errors import RevocationResponseError
from qcertlib.revocation import Status, load_crl
from qcertlib.revocation.crl import verify_crl
from tests.revocation.pki import NOW, GeneratedPki, big_crl, make_ca


def test_lookup_good_and_revoked(pki: GeneratedPki) -> None:
    crl = load_crl(pki.crl(number=42))
    verify_crl(crl, pki.ca)
    assert crl.number == 42
    assert not crl.is_delta
    assert len(crl) == 1
    assert crl.lookup(pki.leaves[0].serial_number).status is Status.GOOD
    revoked = crl.lookup(pki.leaves[1].serial_number)
    assert revoked.status is Status.REVOKED
    assert revoked.reason is x509.ReasonFlags.key_compromise
    assert revoked.revocation_time == pki.revoked[pki.leaves[1].serial_number][0]


def test_pem_input(pki: GeneratedPki) -> None:
    der = pki.crl()
    pem = x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)
    assert load_crl(pem).der == der


def test_malformed_crl_is_a_typed_error() -> None:
    with pytest.raises(RevocationResponseError, match="malformed"):
        load_crl(b"\x30\x03\x02\x01\x01")


def test_expired_crl_is_refused(pki: GeneratedPki) -> None:
    crl = load_crl(
        pki.crl(this_update=NOW - timedelta(days=3), next_update=NOW - timedelta(days=1))
    )
    with pytest.raises(RevocationResponseError, match="expired"):
        verify_crl(crl, pki.ca, at=NOW)


def test_future_crl_is_refused(pki: GeneratedPki) -> None:
    crl = load_crl(
        pki.crl(this_update=NOW + timedelta(days=1), next_update=NOW + timedelta(days=2))
    )
    with pytest.raises(RevocationResponseError, match="future"):
        verify_crl(crl, pki.ca, at=NOW)


def test_crl_of_another_ca_is_refused(pki: GeneratedPki) -> None:
    impostor, impostor_key = make_ca("qcertlib Test Issuing CA", None, None)
    with pytest.raises(RevocationResponseError, match="signature"):
        verify_crl(load_crl(pki.crl(signer=(impostor, impostor_key))), pki.ca)
    with pytest.raises(RevocationResponseError, match="issuer"):
        verify_crl(load_crl(pki.crl()), pki.root)


def test_large_crl_index(pki: GeneratedPki) -> None:
    rng = random.Random(7)
    serials = [rng.getrandbits(127) for _ in range(100_000)]
    crl = load_crl(big_crl(pki.ca, pki.ca_key, serials))
    verify_crl(crl, pki.ca)
    assert len(crl) == 100_000
    assert all(crl.lookup(s).status is Status.REVOKED for s in serials[::997])
    assert crl.lookup(serials[5]).reason is x509.ReasonFlags.key_compromise
    assert crl.lookup(pki.leaves[0].serial_number).status is Status.GOOD
    # serials with a high bit set (DER needs a leading zero octet) index correctly
    assert crl.lookup(serials[0]).status is Status.REVOKED


def test_delta_crl(pki: GeneratedPki) -> None:
    base = load_crl(pki.crl(number=10))
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.ca.subject)
        .last_update(NOW - timedelta(minutes=1))
        .next_update(NOW + timedelta(hours=1))
        .add_extension(x509.CRLNumber(11), critical=False)
        .add_extension(x509.DeltaCRLIndicator(10), critical=True)
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(pki.leaves[3].serial_number)
            .revocation_date(NOW - timedelta(minutes=5))
            .add_extension(x509.CRLReason(x509.ReasonFlags.superseded), critical=False)
            .build()
        )
    )
    delta = load_crl(
        builder.sign(pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    )
    verify_crl(delta, pki.ca)
    assert delta.is_delta
    assert delta.base_number == 10
    assert base.lookup(pki.leaves[3].serial_number).status is Status.GOOD
    late = base.lookup(pki.leaves[3].serial_number, delta=delta)
    assert late.status is Status.REVOKED
    assert late.reason is x509.ReasonFlags.superseded
    assert base.lookup(pki.leaves[1].serial_number, delta=delta).status is Status.REVOKED
