"""The card issuance flow and token management on a real SoftHSM2 token."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib.errors import ProfileError, TokenError, TokenPinLockedError
from qcertlib.issuance import CertificateAuthority, KeySpec
from qcertlib.signing.options import DigestAlgorithm
from qcertlib.tokens import (
    Pkcs11Backend,
    TokenSession,
    build_token_csr,
    init_token,
    issue_on_token,
    list_tokens,
)
from tests.conftest import require_tool
from tests.tokens.conftest import (
    CITIZEN,
    LOCKS,
    LOCKS_SILENT,
    MAIN,
    PIN,
    PINS,
    SEAL,
    SO_PIN,
    SPARE,
    Hsm,
    Issued,
)


def _objects(hsm: Hsm, token: str) -> dict[tuple[str, str], str]:
    """Parse ``pkcs11-tool --list-objects``: (object kind, label) -> the block's text."""
    listed = hsm.p11(token, "--list-objects")
    assert listed.returncode == 0, listed.stderr
    blocks: dict[tuple[str, str], str] = {}
    for block in re.split(r"\n(?=\S)", listed.stdout):
        kind = block.split(";")[0].strip()
        label = re.search(r"label:\s+(.*)", block)
        if label:
            blocks[(kind, label.group(1).strip())] = block
    return blocks


@pytest.mark.oracle
@pytest.mark.parametrize("label", ["rsa", "ec"])
def test_key_generated_on_token_is_sensitive_and_never_extractable(
    hsm: Hsm, issued: dict[str, Issued], label: str
) -> None:
    block = _objects(hsm, MAIN)[("Private Key Object", label)]
    access = re.search(r"Access:\s+(.*)", block)
    assert access is not None
    flags = {f.strip() for f in access.group(1).split(",")}
    assert {"sensitive", "always sensitive", "never extractable", "local"} <= flags
    assert "extractable" not in flags
    key = issued[label].key
    assert key.sensitive
    assert not key.extractable
    assert key.local


@pytest.mark.oracle
def test_citizen_qscd_from_token_key_passes_pkilint(
    hsm: Hsm, issued: dict[str, Issued], tmp_path: Path
) -> None:
    tools = require_tool("lint_etsi_cert")
    for label, item in issued.items():
        pem = tmp_path / f"{label}.pem"
        pem.write_bytes(item.certificate.public_bytes(Encoding.PEM))
        linted = subprocess.run(
            [
                tools["lint_etsi_cert"],
                "lint",
                "-t",
                "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE",
                "-s",
                "ERROR",
                str(pem),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.oracle
def test_certificate_is_stored_on_the_token_next_to_its_key(
    hsm: Hsm, issued: dict[str, Issued], tmp_path: Path
) -> None:
    out = tmp_path / "cert.der"
    read = hsm.p11(
        MAIN, "--read-object", "--type", "cert", "--label", "rsa", "-o", str(out), login=False
    )
    assert read.returncode == 0, read.stderr
    assert x509.load_der_x509_certificate(out.read_bytes()) == issued["rsa"].certificate
    block = _objects(hsm, MAIN)[("Certificate Object", "rsa")]
    assert issued["rsa"].key.id_hex in block


@pytest.mark.oracle
def test_token_signed_csr_verifies_with_openssl(
    hsm: Hsm, issued: dict[str, Issued], tmp_path: Path
) -> None:
    with TokenSession.open(hsm.module, token_label=MAIN, pin=PIN) as session:
        key = session.find_key(label="ec")
        csr = build_token_csr(session, key, CITIZEN, "citizen-qscd")
    assert csr.is_signature_valid
    pem = tmp_path / "req.pem"
    pem.write_bytes(csr.public_bytes(Encoding.PEM))
    checked = subprocess.run(
        [hsm.tools["openssl"], "req", "-in", str(pem), "-verify", "-noout"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "verify OK" in checked.stdout + checked.stderr


@pytest.mark.oracle
def test_seal_qscd_on_a_p384_token_key(hsm: Hsm, ca: CertificateAuthority, tmp_path: Path) -> None:
    tools = require_tool("lint_etsi_cert")
    with TokenSession.open(hsm.module, token_label=SPARE, pin=PIN, rw=True) as session:
        result = issue_on_token(
            ca,
            "eorgan-seal-qscd",
            SEAL,
            session=session,
            key_label="sello",
            key_spec=KeySpec.EC_P384,
        )
        assert result.key.curve == "secp384r1"
        assert session.certificate(result.key) == result.certificate
    pem = tmp_path / "seal.pem"
    pem.write_bytes(result.certificate.public_bytes(Encoding.PEM))
    linted = subprocess.run(
        [
            tools["lint_etsi_cert"],
            "lint",
            "-t",
            "NCP-LEGAL-PERSON-CERTIFICATE",
            "-s",
            "ERROR",
            str(pem),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_reissue_reuses_the_key_and_replaces_the_certificate(
    hsm: Hsm, ca: CertificateAuthority
) -> None:
    with TokenSession.open(hsm.module, token_label=SPARE, pin=PIN, rw=True) as session:
        first = issue_on_token(ca, "citizen-qscd", CITIZEN, session=session, key_label="again")
        second = issue_on_token(ca, "citizen-qscd", CITIZEN, session=session, key_label="again")
        assert first.key_generated
        assert not second.key_generated
        assert first.key == second.key
        assert session.certificate(second.key) == second.certificate
        assert [c for _, i, c in session.certificates() if i == first.key.id] == [
            second.certificate
        ]


def test_non_qscd_profile_is_refused(hsm: Hsm, ca: CertificateAuthority) -> None:
    with (
        TokenSession.open(hsm.module, token_label=SPARE, pin=PIN, rw=True) as session,
        pytest.raises(ProfileError, match="QSCD"),
    ):
        issue_on_token(ca, "citizen", CITIZEN, session=session, key_label="plain")


@pytest.mark.oracle
def test_always_authenticate_key_gets_a_context_login_per_signature(
    hsm: Hsm, ca: CertificateAuthority
) -> None:
    with TokenSession.open(hsm.module, token_label=SPARE, pin=PIN, rw=True) as session:
        result = issue_on_token(
            ca,
            "citizen-qscd",
            CITIZEN,
            session=session,
            key_label="dnie",
            key_spec=KeySpec.RSA_2048,
            always_authenticate=True,
        )
        assert result.key.always_authenticate
    block = _objects(hsm, SPARE)[("Private Key Object", "dnie")]
    assert "always authenticate" in block
    digests = [DigestAlgorithm.SHA256.digest(bytes([i])) for i in range(5)]
    with Pkcs11Backend.open(hsm.module, token_label=SPARE, pin=PIN, key_label="dnie") as backend:
        sigs = backend.sign_digests(digests, DigestAlgorithm.SHA256)
        assert backend.login_count == 1
        assert backend.context_login_count == 5
    from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

    public = result.certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    for d, s in zip(digests, sigs, strict=True):
        public.verify(s, d, padding.PKCS1v15(), utils.Prehashed(DigestAlgorithm.SHA256.hash))


def test_init_token_through_pkcs11(hsm: Hsm) -> None:
    info = init_token(hsm.module, label="made-by-api", so_pin=SO_PIN, user_pin=PIN)
    assert info.initialized
    assert info.user_pin_initialized
    labels = [t.label for t in list_tokens(hsm.module) if t.initialized]
    assert {"made-by-api", MAIN, PINS, SPARE} <= set(labels)
    assert any(not t.initialized for t in list_tokens(hsm.module))  # SoftHSM2 keeps a free slot
    with TokenSession.open(hsm.module, token_label="made-by-api", pin=PIN) as session:
        assert session.list_keys() == []
    with pytest.raises(TokenError, match="already exists"):
        init_token(hsm.module, label="made-by-api", so_pin=SO_PIN, user_pin=PIN)


def test_softhsm2_never_locks_the_pin_but_reports_failed_tries(hsm: Hsm) -> None:
    """What SoftHSM2 2.6 does: unlimited tries; CKF_USER_PIN_COUNT_LOW after a failure,
    never CKF_USER_PIN_FINAL_TRY or CKF_USER_PIN_LOCKED. (The locked mapping is tested
    below on python-pkcs11's own CKR_PIN_LOCKED exception.)"""
    from qcertlib.errors import TokenPinIncorrectError

    for _ in range(12):
        with pytest.raises(TokenPinIncorrectError, match="earlier failed tries"):
            TokenSession.open(hsm.module, token_label=PINS, pin="0000")
    info = next(t for t in list_tokens(hsm.module) if t.label == PINS)
    assert info.pin_count_low
    assert not info.pin_final_try
    assert not info.pin_locked
    with TokenSession.open(hsm.module, token_label=PINS, pin=PIN) as session:
        assert session.login_count == 1


def test_ckr_pin_locked_maps_to_token_pin_locked_error() -> None:
    import pkcs11  # the extra is part of qcertlib[test]

    from qcertlib.tokens._p11 import token_error

    error = token_error(pkcs11.exceptions.PinLocked(), what="logging in")
    assert isinstance(error, TokenPinLockedError)
    assert "PUK" in str(error)


def test_pin_lockout_on_a_token_that_reports_its_pin_flags(
    hsm: Hsm, lockout_modules: dict[str, str]
) -> None:
    from qcertlib.errors import TokenPinIncorrectError

    module = lockout_modules["flags"]
    with pytest.raises(TokenPinIncorrectError) as first:
        TokenSession.open(module, token_label=LOCKS, pin="0000")
    assert first.value.tries_left is None
    assert "earlier failed tries" in str(first.value)
    with pytest.raises(TokenPinIncorrectError) as second:
        TokenSession.open(module, token_label=LOCKS, pin="0000")
    assert second.value.tries_left == 1
    with pytest.raises(TokenPinLockedError, match="now locked"):
        TokenSession.open(module, token_label=LOCKS, pin="0000")
    info = next(t for t in list_tokens(module) if t.label == LOCKS)
    assert info.pin_locked
    with pytest.raises(TokenPinLockedError, match="PUK"):  # even the right PIN
        TokenSession.open(module, token_label=LOCKS, pin=PIN)


def test_pin_lockout_on_a_token_that_only_answers_ckr_pin_locked(
    hsm: Hsm, lockout_modules: dict[str, str]
) -> None:
    from qcertlib.errors import TokenPinIncorrectError

    module = lockout_modules["silent"]
    for _ in range(3):
        with pytest.raises(TokenPinIncorrectError) as wrong:
            TokenSession.open(module, token_label=LOCKS_SILENT, pin="0000")
        assert wrong.value.tries_left is None
    with pytest.raises(TokenPinLockedError, match="PUK") as locked:
        TokenSession.open(module, token_label=LOCKS_SILENT, pin=PIN)
    assert PIN not in str(locked.value)
