"""validate_cms: EN 319 102-1 verdicts on our CAdES and on openssl-made signatures."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from qcertlib.errors import ValidationInputError
from qcertlib.signing import SignatureLevel, SignatureOptions, SignaturePolicy
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.signing.cades import RevocationData, sign_cades
from qcertlib.signing.timestamps import TsaResponder
from qcertlib.validation import (
    Indication,
    RevocationStatus,
    SubIndication,
    ValidationPolicy,
    validate_cms,
)
from tests.conftest import require_tool
from tests.signing._pki import Pki, ocsp_response

DATA = b"contract text\r\n\x00binary\xff" * 20


@pytest.fixture(scope="module")
def tsa(pki: Pki) -> TsaResponder:
    return TsaResponder(
        pki.tsa_key, pki.tsa_cert, pki.chain, policy=x509.ObjectIdentifier("1.3.6.1.4.1.99999.4")
    )


@pytest.fixture(scope="module")
def trust(pki: Pki) -> ValidationPolicy:
    return ValidationPolicy(trust_roots=(pki.root,))


def _sign(
    pki: Pki,
    tsa: TsaResponder,
    level: SignatureLevel,
    *,
    revoked: bool = False,
    detached: bool = True,
    **kw: object,
) -> bytes:
    if revoked:
        backend = SoftwareKeyBackend(pki.revoked_key, pki.revoked_cert, pki.chain)
    else:
        backend = SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain)
    return sign_cades(
        DATA,
        backend,
        SignatureOptions(level=level, **kw),  # type: ignore[arg-type]
        detached=detached,
        timestamper=tsa,
        revocation=[RevocationData(crls=pki.crls_der)],
    )


def test_b_lt_passes_with_embedded_revocation(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_LT), DATA, trust)
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    sig = report.signatures[0]
    assert sig.level is SignatureLevel.B_LT
    assert sig.revocation_status is RevocationStatus.GOOD
    assert sig.timestamp_time is not None
    assert sig.signer_certificate == pki.ec_cert


@pytest.mark.parametrize("level", [SignatureLevel.B_B, SignatureLevel.B_T, SignatureLevel.B_LT])
def test_each_level_is_detected(pki: Pki, tsa: TsaResponder, level: SignatureLevel) -> None:
    policy = ValidationPolicy(trust_roots=(pki.root,), check_revocation=False)
    report = validate_cms(_sign(pki, tsa, level), DATA, policy)
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    assert report.signatures[0].level is level
    assert (report.signatures[0].timestamp_time is None) is (level is SignatureLevel.B_B)


def test_attached_content_is_used(pki: Pki, tsa: TsaResponder, trust: ValidationPolicy) -> None:
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_LT, detached=False), None, trust)
    assert report.indication is Indication.TOTAL_PASSED


def test_tampered_content_is_hash_failure(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_LT), DATA + b"!", trust)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.HASH_FAILURE


def test_altered_signature_value_is_sig_crypto_failure(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    info = cms.ContentInfo.load(_sign(pki, tsa, SignatureLevel.B_B))
    si = info["content"]["signer_infos"][0]
    value = bytearray(si["signature"].native)
    value[10] ^= 0x40
    si["signature"] = bytes(value)
    report = validate_cms(info.dump(force=True), DATA, trust)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.SIG_CRYPTO_FAILURE


def test_signer_revoked_before_signing_is_revoked(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_LT, revoked=True), DATA, trust)
    assert report.indication is Indication.TOTAL_FAILED
    assert report.subindication is SubIndication.REVOKED
    assert report.signatures[0].revocation_status is RevocationStatus.REVOKED


def test_revoked_by_embedded_ocsp(pki: Pki, tsa: TsaResponder, trust: ValidationPolicy) -> None:
    backend = SoftwareKeyBackend(pki.revoked_key, pki.revoked_cert, pki.chain)
    p7s = sign_cades(
        DATA,
        backend,
        SignatureOptions(level=SignatureLevel.B_LT),
        timestamper=tsa,
        revocation=[
            RevocationData(ocsp_response=ocsp_response(pki, pki.revoked_cert, revoked=True)),
            RevocationData(crls=pki.crls_der[1:]),
        ],
    )
    report = validate_cms(p7s, DATA, trust)
    assert report.subindication is SubIndication.REVOKED


def test_unknown_root_is_no_certificate_chain_found(pki: Pki, tsa: TsaResponder) -> None:
    other = ValidationPolicy(trust_roots=(pki.tsa_cert,))
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_LT), DATA, other)
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_no_revocation_data_is_try_later(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_T), DATA, trust)
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.TRY_LATER
    assert report.signatures[0].revocation_status is RevocationStatus.UNKNOWN


def test_detached_without_content(pki: Pki, tsa: TsaResponder, trust: ValidationPolicy) -> None:
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_B), None, trust)
    assert report.subindication is SubIndication.SIGNED_DATA_NOT_FOUND


def test_signer_summary_lint_epes_and_renderings(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    policy = SignaturePolicy(x509.ObjectIdentifier("2.16.724.1.3.1.1.2.1.9"), None, b"\x01" * 32)
    report = validate_cms(_sign(pki, tsa, SignatureLevel.B_LT, policy=policy), DATA, trust)
    sig = report.signatures[0]
    assert sig.signer is not None
    assert sig.signer.nif == "12345678Z"
    assert sig.lint is not None
    assert any("2.16.724.1.3.1.1.2.1.9" in m for m in sig.messages)
    data = json.loads(report.to_json())
    assert data["indication"] == "TOTAL_PASSED"
    assert data["signatures"][0]["signer"]["nif"] == "12345678Z"
    assert data["signatures"][0]["lint"]["ok"] in (True, False)
    text = report.to_text()
    assert "TOTAL_PASSED" in text
    assert "12345678Z" in text


def test_pem_armoured_signature_is_accepted(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    der = _sign(pki, tsa, SignatureLevel.B_LT)
    pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(der) + b"-----END PKCS7-----\n"
    assert validate_cms(pem, DATA, trust).indication is Indication.TOTAL_PASSED


@pytest.mark.parametrize("bad", [b"", b"   \n", b"garbage", b"\x30\x03\x02\x01\x01"])
def test_unreadable_input_is_typed(bad: bytes, trust: ValidationPolicy) -> None:
    with pytest.raises(ValidationInputError):
        validate_cms(bad, DATA, trust)


@pytest.mark.oracle
def test_openssl_made_cades_is_validated(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    pem = serialization.Encoding.PEM
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "signer.pem").write_bytes(pki.ec_cert.public_bytes(pem))
    (tmp_path / "signer.key").write_bytes(
        pki.ec_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (tmp_path / "ca.pem").write_bytes(pki.ca.public_bytes(pem))
    args = [openssl, "cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in", "data"]
    args += ["-signer", "signer.pem", "-inkey", "signer.key", "-certfile", "ca.pem"]
    args += ["-outform", "DER", "-out", "x.p7s"]
    subprocess.run(args, cwd=tmp_path, check=True, capture_output=True)
    policy = ValidationPolicy(trust_roots=(pki.root,), check_revocation=False)
    report = validate_cms((tmp_path / "x.p7s").read_bytes(), DATA, policy)
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    assert report.signatures[0].level is SignatureLevel.B_B
    tampered = validate_cms((tmp_path / "x.p7s").read_bytes(), DATA[:-1], policy)
    assert tampered.subindication is SubIndication.HASH_FAILURE


def _crl(issuer: x509.Certificate, key: object, serial: int, when: datetime) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(when - timedelta(hours=3))
        .next_update(when + timedelta(days=7))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def test_revoked_after_the_timestamp_still_passes(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    later = datetime.now(UTC) + timedelta(hours=2)
    crl = _crl(pki.ca, pki.base.ca.key, pki.ec_cert.serial_number, later)
    backend = SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain)
    p7s = sign_cades(
        DATA,
        backend,
        SignatureOptions(level=SignatureLevel.B_LT),
        timestamper=tsa,
        revocation=[RevocationData(crls=(crl, pki.crls_der[1]))],
    )
    report = validate_cms(p7s, DATA, trust)
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    sig = report.signatures[0]
    assert sig.revocation_status is RevocationStatus.REVOKED
    assert any("after the timestamped signing time" in m for m in sig.messages)


def test_revoked_issuing_ca(pki: Pki, tsa: TsaResponder, trust: ValidationPolicy) -> None:
    root_key = pki.base.ca.load_signer_key("root")
    root_crl = _crl(pki.root, root_key, pki.ca.serial_number, pki.base.at)
    p7s = sign_cades(
        DATA,
        SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain),
        SignatureOptions(level=SignatureLevel.B_LT),
        timestamper=tsa,
        revocation=[RevocationData(crls=(pki.crls_der[0], root_crl))],
    )
    report = validate_cms(p7s, DATA, trust)
    assert report.indication is Indication.INDETERMINATE
    assert report.subindication is SubIndication.REVOKED_CA_NO_POE


def test_timestamp_proves_existence_after_expiry(pki: Pki, tsa: TsaResponder) -> None:
    p7s = _sign(pki, tsa, SignatureLevel.B_LT)
    future = pki.ec_cert.not_valid_after_utc + timedelta(days=400)
    with_ts = validate_cms(p7s, DATA, ValidationPolicy(trust_roots=(pki.root,), at=future))
    assert with_ts.indication is Indication.TOTAL_PASSED, with_ts.to_text()
    without = validate_cms(
        _sign(pki, tsa, SignatureLevel.B_B),
        DATA,
        ValidationPolicy(trust_roots=(pki.root,), at=future, check_revocation=False),
    )
    assert without.indication is Indication.INDETERMINATE
    assert without.subindication is SubIndication.OUT_OF_BOUNDS_NO_POE


def _foreign_tsa() -> TsaResponder:
    """A TSA with a self-signed certificate (critical timeStamping EKU) nobody trusts."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign TSA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return TsaResponder(key, cert, policy=x509.ObjectIdentifier("1.2.3.4"))


def test_untrusted_timestamp_is_ignored(pki: Pki) -> None:
    p7s = sign_cades(
        DATA,
        SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain),
        SignatureOptions(level=SignatureLevel.B_T),
        timestamper=_foreign_tsa(),
    )
    policy = ValidationPolicy(trust_roots=(pki.root,), check_revocation=False)
    report = validate_cms(p7s, DATA, policy)
    assert report.indication is Indication.TOTAL_PASSED
    sig = report.signatures[0]
    assert sig.level is SignatureLevel.B_B
    assert sig.timestamp_time is None
    assert any("timestamp ignored" in m and "does not chain" in m for m in sig.messages)


def test_mutated_signatures_give_reports_or_typed_errors(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    import random

    original = _sign(pki, tsa, SignatureLevel.B_LT)
    rng = random.Random(20261121)
    outcomes: set[str] = set()
    for _ in range(300):
        mutated = bytearray(original)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if rng.random() < 0.1:
            mutated = mutated[: rng.randrange(len(mutated))]
        try:
            report = validate_cms(bytes(mutated), DATA, trust)
        except ValidationInputError:
            outcomes.add("input")
        else:
            outcomes.add(report.indication.value)
    assert "input" in outcomes
    assert "TOTAL_FAILED" in outcomes or "INDETERMINATE" in outcomes


def test_timestamp_of_a_revoked_tsa_is_ignored(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy
) -> None:
    crl = _crl(pki.ca, pki.base.ca.key, pki.tsa_cert.serial_number, pki.base.at)
    p7s = sign_cades(
        DATA,
        SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain),
        SignatureOptions(level=SignatureLevel.B_LT),
        timestamper=tsa,
        revocation=[RevocationData(crls=(crl, pki.crls_der[1]))],
    )
    report = validate_cms(p7s, DATA, trust)
    sig = report.signatures[0]
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    assert sig.level is SignatureLevel.B_B
    assert sig.timestamp_time is None
    assert any("timestamp ignored" in m and "revoked" in m for m in sig.messages)


def test_detached_content_given_as_a_path(
    pki: Pki, tsa: TsaResponder, trust: ValidationPolicy, tmp_path: Path
) -> None:
    p7s = _sign(pki, tsa, SignatureLevel.B_LT)
    (tmp_path / "doc").write_bytes(DATA)
    assert validate_cms(p7s, tmp_path / "doc", trust).indication is Indication.TOTAL_PASSED
    (tmp_path / "doc").write_bytes(DATA + b".")
    assert validate_cms(p7s, str(tmp_path / "doc"), trust).subindication is (
        SubIndication.HASH_FAILURE
    )
    with pytest.raises(ValidationInputError, match="cannot read"):
        validate_cms(p7s, tmp_path / "missing", trust)
