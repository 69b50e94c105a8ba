"""Pkcs11Backend on a real SoftHSM2 token, checked with cryptography, openssl and pkcs11-tool."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from qcertlib.errors import (
    TokenError,
    TokenKeyNotFoundError,
    TokenMechanismError,
    TokenNotPresentError,
    TokenPinIncorrectError,
)
from qcertlib.signing.backends import SignatureMechanism, SignerBackend
from qcertlib.signing.options import DigestAlgorithm
from qcertlib.tokens import Pkcs11Backend, TokenSession
from tests.tokens.conftest import MAIN, PIN, PINS, SPARE, Hsm, Issued


def _digests(n: int, alg: DigestAlgorithm = DigestAlgorithm.SHA256) -> list[bytes]:
    return [alg.digest(f"document {i}".encode()) for i in range(n)]


def _verify(
    cert: x509.Certificate, sig: bytes, digest: bytes, alg: DigestAlgorithm, pss: bool = False
) -> None:
    key = cert.public_key()
    pre = utils.Prehashed(alg.hash)
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(sig, digest, ec.ECDSA(pre))
    else:
        assert isinstance(key, rsa.RSAPublicKey)
        pad: padding.AsymmetricPadding = (
            padding.PSS(mgf=padding.MGF1(alg.hash), salt_length=alg.digest_size)
            if pss
            else padding.PKCS1v15()
        )
        key.verify(sig, digest, pad, pre)


def _openssl_verify(
    hsm: Hsm, tmp: Path, key_id: str, data: bytes, sig: bytes, *extra: str
) -> subprocess.CompletedProcess[str]:
    """Read the public key off the token with pkcs11-tool, verify with openssl dgst."""
    der = tmp / "pub.der"
    read = hsm.p11(
        MAIN, "--read-object", "--type", "pubkey", "--id", key_id, "-o", str(der), login=False
    )
    assert read.returncode == 0, read.stderr
    pem = tmp / "pub.pem"
    subprocess.run(
        [
            hsm.tools["openssl"],
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            str(der),
            "-out",
            str(pem),
        ],
        check=True,
        capture_output=True,
    )
    (tmp / "data").write_bytes(data)
    (tmp / "sig").write_bytes(sig)
    return subprocess.run(
        [
            hsm.tools["openssl"],
            "dgst",
            "-sha256",
            *extra,
            "-verify",
            str(pem),
            "-signature",
            str(tmp / "sig"),
            str(tmp / "data"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.oracle
@pytest.mark.parametrize("label", ["rsa", "ec"])
def test_sign_digests_verifies_with_cryptography_and_openssl(
    hsm: Hsm, issued: dict[str, Issued], tmp_path: Path, label: str
) -> None:
    data = b"contrato de prueba firmado en la tarjeta"
    alg = DigestAlgorithm.SHA256
    with Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label=label) as backend:
        assert isinstance(backend, SignerBackend)
        assert backend.certificate == issued[label].certificate
        sig = backend.sign_digests([alg.digest(data)], alg)[0]
    _verify(issued[label].certificate, sig, alg.digest(data), alg)
    result = _openssl_verify(hsm, tmp_path, issued[label].key.id_hex, data, sig)
    assert result.returncode == 0, result.stderr
    assert "Verified OK" in result.stdout
    tampered = _openssl_verify(hsm, tmp_path, issued[label].key.id_hex, data + b"!", sig)
    assert tampered.returncode == 1


@pytest.mark.oracle
def test_rsa_pss_verifies_with_openssl(hsm: Hsm, issued: dict[str, Issued], tmp_path: Path) -> None:
    data = b"pss"
    alg = DigestAlgorithm.SHA256
    with Pkcs11Backend.open(
        hsm.module, token_label=MAIN, pin=PIN, key_label="rsa", mechanism=SignatureMechanism.RSA_PSS
    ) as backend:
        assert backend.mechanism is SignatureMechanism.RSA_PSS
        sig = backend.sign_digests([alg.digest(data)], alg)[0]
    _verify(issued["rsa"].certificate, sig, alg.digest(data), alg, pss=True)
    result = _openssl_verify(
        hsm,
        tmp_path,
        issued["rsa"].key.id_hex,
        data,
        sig,
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:-1",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("alg", [DigestAlgorithm.SHA384, DigestAlgorithm.SHA512])
@pytest.mark.parametrize("label", ["rsa", "ec"])
def test_other_digest_algorithms(
    hsm: Hsm, issued: dict[str, Issued], label: str, alg: DigestAlgorithm
) -> None:
    digests = _digests(3, alg)
    with Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label=label) as backend:
        sigs = backend.sign_digests(digests, alg)
    for d, s in zip(digests, sigs, strict=True):
        _verify(issued[label].certificate, s, d, alg)


def test_batch_of_200_logs_in_exactly_once(hsm: Hsm, issued: dict[str, Issued]) -> None:
    digests = _digests(200)
    with Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="rsa") as backend:
        assert backend.login_count == 1
        sigs = backend.sign_digests(digests, DigestAlgorithm.SHA256)
        assert backend.login_count == 1
        assert backend.context_login_count == 0
    assert len(sigs) == 200
    for d, s in zip(digests, sigs, strict=True):
        _verify(issued["rsa"].certificate, s, d, DigestAlgorithm.SHA256)


def test_one_session_is_never_used_by_two_threads(hsm: Hsm, issued: dict[str, Issued]) -> None:
    results: dict[int, list[bytes]] = {}
    errors: list[BaseException] = []
    per_thread = {i: _digests(20 + i) for i in range(4)}
    with Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="ec") as backend:

        def work(i: int) -> None:
            try:
                results[i] = backend.sign_digests(per_thread[i], DigestAlgorithm.SHA256)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert backend.login_count == 1
    assert not errors
    for i, digests in per_thread.items():
        for d, s in zip(digests, results[i], strict=True):
            _verify(issued["ec"].certificate, s, d, DigestAlgorithm.SHA256)


def test_second_backend_shares_the_login(hsm: Hsm, issued: dict[str, Issued]) -> None:
    with Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="rsa") as first:
        with Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="ec") as second:
            assert first.login_count == 1
            assert second.login_count == 0
            d = _digests(1)
            _verify(
                issued["ec"].certificate,
                second.sign_digests(d, DigestAlgorithm.SHA256)[0],
                d[0],
                DigestAlgorithm.SHA256,
            )
        # closing the second did not log the first out
        d = _digests(1)
        _verify(
            issued["rsa"].certificate,
            first.sign_digests(d, DigestAlgorithm.SHA256)[0],
            d[0],
            DigestAlgorithm.SHA256,
        )


def test_wrong_pin(hsm: Hsm) -> None:
    with pytest.raises(TokenPinIncorrectError) as info:
        TokenSession.open(hsm.module, token_label=PINS, pin="9999")
    assert "9999" not in str(info.value)
    assert "9999" not in repr(info.value)
    assert info.value.tries_left is None  # SoftHSM2 never sets CKF_USER_PIN_FINAL_TRY


def test_wrong_pin_while_the_process_is_logged_in(hsm: Hsm, issued: dict[str, Issued]) -> None:
    with (
        Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="rsa"),
        pytest.raises(TokenPinIncorrectError),
    ):
        Pkcs11Backend.open(hsm.module, token_label=MAIN, pin="0000", key_label="rsa")


def test_wrong_token_label(hsm: Hsm) -> None:
    with pytest.raises(TokenNotPresentError) as info:
        Pkcs11Backend.open(hsm.module, token_label="no-such-card", pin=PIN, key_label="rsa")
    assert MAIN in str(info.value)  # lists the tokens present


def test_missing_key(hsm: Hsm, issued: dict[str, Issued]) -> None:
    with pytest.raises(TokenKeyNotFoundError) as info:
        Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="nope")
    assert "'rsa'" in str(info.value)


def test_key_without_certificate(hsm: Hsm) -> None:
    from qcertlib.issuance import KeySpec

    with TokenSession.open(hsm.module, token_label=SPARE, pin=PIN, rw=True) as session:
        session.generate_key(KeySpec.EC_P256, label="bare")
    with pytest.raises(TokenKeyNotFoundError, match="no certificate"):
        Pkcs11Backend.open(hsm.module, token_label=SPARE, pin=PIN, key_label="bare")


def test_mechanism_that_does_not_fit_the_key(hsm: Hsm, issued: dict[str, Issued]) -> None:
    with pytest.raises(TokenMechanismError):
        Pkcs11Backend.open(
            hsm.module,
            token_label=MAIN,
            pin=PIN,
            key_label="rsa",
            mechanism=SignatureMechanism.ECDSA,
        )


def test_digest_of_the_wrong_length(hsm: Hsm, issued: dict[str, Issued]) -> None:
    with (
        Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="ec") as backend,
        pytest.raises(ValueError, match="32"),
    ):
        backend.sign_digests([b"short"], DigestAlgorithm.SHA256)


def test_repr_names_token_and_key_but_never_the_pin(hsm: Hsm, issued: dict[str, Issued]) -> None:
    with Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="ec") as backend:
        text = repr(backend) + repr(backend.session)
    assert MAIN in text
    assert PIN not in text


def test_closed_session_refuses_to_sign(hsm: Hsm, issued: dict[str, Issued]) -> None:
    backend = Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_label="ec")
    backend.close()
    with pytest.raises(TokenError, match="closed"):
        backend.sign_digests(_digests(1), DigestAlgorithm.SHA256)


def test_open_by_token_serial_and_key_id(hsm: Hsm, issued: dict[str, Issued]) -> None:
    from qcertlib.tokens import list_tokens

    serial = next(t.serial for t in list_tokens(hsm.module) if t.label == MAIN)
    key_id = issued["ec"].key.id
    with Pkcs11Backend.open(hsm.module, token_serial=serial, pin=PIN, key_id=key_id) as backend:
        assert backend.key.label == "ec"
        assert backend.session.token_label == MAIN
        assert backend.certificate == issued["ec"].certificate
    with pytest.raises(TokenNotPresentError, match="serial"):
        Pkcs11Backend.open(hsm.module, token_serial="0000000000000000", pin=PIN, key_id=key_id)
    with pytest.raises(TokenKeyNotFoundError, match="id 00ff"):
        Pkcs11Backend.open(hsm.module, token_label=MAIN, pin=PIN, key_id=b"\x00\xff")
