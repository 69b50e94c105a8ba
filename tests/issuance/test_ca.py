from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from qcertlib.errors import IssuanceError, KeyFileError, ValidityError
from qcertlib.issuance import CertificateAuthority, KeySpec, random_serial
from tests.conftest import require_tool
from tests.issuance._helpers import T0, epoch, make_ca, raw_leaf, run

FILES = ("root", "ca", "ocsp", "tsa")


def test_init_writes_certificates_keys_registry_and_config(tmp_path: Path) -> None:
    make_ca(tmp_path / "pki")
    for stem in FILES:
        assert (tmp_path / "pki" / f"{stem}.pem").read_bytes().startswith(b"-----BEGIN CERT")
        key = tmp_path / "pki" / f"{stem}.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "pki" / "registry.sqlite").is_file()
    config = json.loads((tmp_path / "pki" / "config.json").read_text())
    assert config["name"] == "Test PKI"
    assert config["encrypted_keys"] is False


def test_init_refuses_an_existing_pki(tmp_path: Path) -> None:
    make_ca(tmp_path / "pki")
    with pytest.raises(IssuanceError, match="already holds a PKI"):
        make_ca(tmp_path / "pki")


def test_passphrase_encrypts_every_key_and_is_needed_to_open(tmp_path: Path) -> None:
    CertificateAuthority.init(
        tmp_path / "pki", key_spec=KeySpec.EC_P256, passphrase="pki pass", at=T0
    )
    for stem in FILES:
        assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "pki" / f"{stem}.key").read_bytes()
    with pytest.raises(KeyFileError, match="passphrase is required"):
        CertificateAuthority.open(tmp_path / "pki")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        CertificateAuthority.open(tmp_path / "pki", "not it")
    ca = CertificateAuthority.open(tmp_path / "pki", "pki pass")
    assert not ca.is_test_pki
    assert ca.load_signer_key("ocsp").public_key() == ca.ocsp_certificate.public_key()


def test_open_a_directory_without_pki(tmp_path: Path) -> None:
    with pytest.raises(IssuanceError, match="not a PKI directory"):
        CertificateAuthority.open(tmp_path)


def test_issuing_ca_is_a_ca_under_the_root(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    bc = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca
    assert bc.value.path_length == 0
    assert ca.certificate.issuer == ca.root.subject
    ca.certificate.verify_directly_issued_by(ca.root)
    assert ca.certificate.not_valid_after_utc < ca.root.not_valid_after_utc


def test_ocsp_signer_has_ocsp_signing_eku_and_nocheck(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    cert = ca.ocsp_certificate
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    assert cert.extensions.get_extension_for_class(x509.OCSPNoCheck)
    cert.verify_directly_issued_by(ca.certificate)


def test_tsa_signer_has_critical_timestamping_eku(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    eku = ca.tsa_certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]


def test_openssl_verifies_signers_for_their_purpose(tmp_path: Path) -> None:
    tools = require_tool("openssl")
    make_ca(tmp_path / "pki")
    pki = tmp_path / "pki"
    base = [
        tools["openssl"],
        "verify",
        "-attime",
        epoch(T0 + timedelta(days=1)),
        "-CAfile",
        str(pki / "root.pem"),
        "-untrusted",
        str(pki / "ca.pem"),
    ]
    tsa = run([*base, "-purpose", "timestampsign", str(pki / "tsa.pem")])
    assert tsa.returncode == 0, tsa.stdout + tsa.stderr
    assert tsa.stdout.strip().endswith(": OK")
    ocsp = run([*base, "-purpose", "ocsphelper", str(pki / "ocsp.pem")])
    assert ocsp.returncode == 0, ocsp.stdout + ocsp.stderr


def test_random_serials_are_positive_and_at_least_64_bits() -> None:
    serials = {random_serial() for _ in range(200)}
    assert len(serials) == 200
    assert all((1 << 64) <= s < (1 << 127) for s in serials)


def test_serial_collision_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qcertlib.issuance import ca as ca_module

    ca = make_ca(tmp_path / "pki")
    taken, _ = raw_leaf(ca)
    fresh = 0x1F2E3D4C5B6A79880123456789ABCDEF
    draws = iter([taken.serial_number, taken.serial_number, fresh])
    monkeypatch.setattr(ca_module, "random_serial", lambda: next(draws))
    assert ca._new_serial() == fresh


def test_validity_is_capped_at_the_ca_not_after(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    late = ca.certificate.not_valid_after_utc - timedelta(days=30)
    start, end = ca._validity(late, timedelta(days=3 * 365))
    assert end == ca.certificate.not_valid_after_utc
    assert start == late


def test_validity_over_five_years_is_refused(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    with pytest.raises(ValidityError, match="5-year"):
        ca._validity(T0, timedelta(days=6 * 365))


def test_issuing_before_the_ca_exists_is_refused(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    with pytest.raises(ValidityError, match="not valid at"):
        ca._validity(T0 - timedelta(days=10), timedelta(days=30))
