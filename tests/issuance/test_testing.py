"""The reusable test PKI (qcertlib.testing) and its pytest fixture."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from qcertlib.issuance import CertificateStatus, RevocationReason
from qcertlib.profiles import lint
from qcertlib.testing import TestPKI
from tests.conftest import require_tool
from tests.issuance._helpers import run


def test_fixture_gives_every_part(qcert_pki: TestPKI) -> None:
    pki = qcert_pki
    assert [c.profile for c in pki.credentials] == [
        "citizen",
        "citizen-qscd",
        "eorgan-seal",
        "eorgan-seal-qscd",
        "citizen",
    ]
    assert pki.ocsp_key.public_key() == pki.ocsp.public_key()
    assert pki.tsa_key.public_key() == pki.tsa.public_key()
    for credential in pki.credentials:
        assert credential.private_key.public_key() == credential.certificate.public_key()
        assert credential.certificate.issuer == pki.issuing_ca.subject
        on_disk = load_pem_private_key(credential.key_path.read_bytes(), None)
        assert on_disk.public_key() == credential.certificate.public_key()


def test_every_leaf_conforms_to_its_profile(qcert_pki: TestPKI) -> None:
    for credential in qcert_pki.credentials:
        assert lint(credential.certificate, credential.profile, at=qcert_pki.at).ok


def test_one_certificate_is_revoked_and_listed_in_the_crl(qcert_pki: TestPKI) -> None:
    record = qcert_pki.ca.registry.get(qcert_pki.revoked.serial)
    assert record.status is CertificateStatus.REVOKED
    assert record.reason is RevocationReason.KEY_COMPROMISE
    listed = {entry.serial_number for entry in qcert_pki.crl}
    assert listed == {qcert_pki.revoked.serial}


def test_openssl_agrees_on_chain_and_revocation(qcert_pki: TestPKI) -> None:
    tools = require_tool("openssl")
    pki = qcert_pki
    base = [
        tools["openssl"],
        "verify",
        "-crl_check",
        "-CAfile",
        str(pki.directory / "root.pem"),
        "-untrusted",
        str(pki.directory / "ca.pem"),
        "-CRLfile",
        str(pki.crl_path),
    ]
    good = run([*base, *(str(c.cert_path) for c in pki.credentials[:4])])
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count(": OK") == 4
    bad = run([*base, str(pki.revoked.cert_path)])
    assert bad.returncode != 0
    assert "certificate revoked" in bad.stdout + bad.stderr


def test_credential_as_pkcs12(qcert_pki: TestPKI) -> None:
    key, cert, chain = pkcs12.load_key_and_certificates(qcert_pki.seal_alto.pkcs12("9876"), b"9876")
    assert cert == qcert_pki.seal_alto.certificate
    assert key is not None
    assert [c.subject for c in chain] == [qcert_pki.issuing_ca.subject, qcert_pki.root.subject]


def test_create_at_a_fixed_time(tmp_path: Path) -> None:
    at = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    pki = TestPKI.create(tmp_path / "pki", at=at)
    assert pki.at == at
    assert all(c.certificate.not_valid_before_utc == at for c in pki.credentials)
    assert pki.crl.last_update_utc == at
