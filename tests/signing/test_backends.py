"""Signer backends: software key, PKCS#12."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from cryptography.hazmat.primitives.serialization import pkcs12

from qcertlib.errors import Pkcs12CorruptError, Pkcs12PasswordError, SigningError
from qcertlib.signing import DigestAlgorithm
from qcertlib.signing.backends import (
    Pkcs12Backend,
    SignatureMechanism,
    SignerBackend,
    SoftwareKeyBackend,
)
from tests.signing._pki import Pki

_ALG = DigestAlgorithm.SHA256


def _p12(pki: Pki, pin: str) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"alice",
        pki.rsa_key,
        pki.rsa_cert,
        [pki.root, pki.ca],
        serialization.BestAvailableEncryption(pin.encode()),
    )


def test_rsa_pkcs1v15_signs_many_digests(pki: Pki) -> None:
    backend = SoftwareKeyBackend(pki.rsa_key, pki.rsa_cert, pki.chain)
    assert isinstance(backend, SignerBackend)
    assert backend.mechanism is SignatureMechanism.RSA_PKCS1V15
    digests = [_ALG.digest(bytes([i])) for i in range(3)]
    sigs = backend.sign_digests(digests, _ALG)
    assert len(sigs) == 3
    for d, s in zip(digests, sigs, strict=True):
        pki.rsa_key.public_key().verify(s, d, padding.PKCS1v15(), utils.Prehashed(_ALG.hash))


def test_rsa_pss(pki: Pki) -> None:
    backend = SoftwareKeyBackend(pki.rsa_key, pki.rsa_cert, mechanism=SignatureMechanism.RSA_PSS)
    d = DigestAlgorithm.SHA384.digest(b"x")
    (sig,) = backend.sign_digests([d], DigestAlgorithm.SHA384)
    pss = padding.PSS(mgf=padding.MGF1(DigestAlgorithm.SHA384.hash), salt_length=48)
    pki.rsa_key.public_key().verify(sig, d, pss, utils.Prehashed(DigestAlgorithm.SHA384.hash))


def test_ecdsa_signature_is_der(pki: Pki) -> None:
    backend = SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain)
    d = _ALG.digest(b"hello")
    (sig,) = backend.sign_digests([d], _ALG)
    utils.decode_dss_signature(sig)  # DER (r, s)
    pki.ec_key.public_key().verify(sig, d, ec.ECDSA(utils.Prehashed(_ALG.hash)))
    with pytest.raises(InvalidSignature):
        pki.ec_key.public_key().verify(
            sig, _ALG.digest(b"other"), ec.ECDSA(utils.Prehashed(_ALG.hash))
        )


def test_wrong_digest_length_is_value_error(pki: Pki) -> None:
    backend = SoftwareKeyBackend(pki.ec_key, pki.ec_cert)
    with pytest.raises(ValueError, match="needs 32"):
        backend.sign_digests([b"\x00" * 20], _ALG)


def test_key_must_match_certificate(pki: Pki) -> None:
    with pytest.raises(SigningError, match="does not match"):
        SoftwareKeyBackend(pki.ec_key, pki.rsa_cert)


def test_mechanism_must_fit_key(pki: Pki) -> None:
    with pytest.raises(SigningError, match="cannot be used"):
        SoftwareKeyBackend(pki.ec_key, pki.ec_cert, mechanism=SignatureMechanism.RSA_PSS)


def test_repr_shows_no_key(pki: Pki) -> None:
    backend = SoftwareKeyBackend(pki.rsa_key, pki.rsa_cert)
    text = repr(backend)
    assert "GARCÍA" in text
    assert "PRIVATE" not in text
    assert "_key" not in text


def test_pkcs12_backend_opens_with_pin_and_orders_chain(pki: Pki, tmp_path: object) -> None:
    backend = Pkcs12Backend.from_bytes(_p12(pki, "1234"), "1234")
    assert backend.certificate == pki.rsa_cert
    assert backend.chain == (pki.ca, pki.root)
    (sig,) = backend.sign_digests([_ALG.digest(b"a")], _ALG)
    assert len(sig) == 256


def test_pkcs12_wrong_pin_is_typed(pki: Pki) -> None:
    with pytest.raises(Pkcs12PasswordError) as info:
        Pkcs12Backend.from_bytes(_p12(pki, "1234"), "9999")
    assert "9999" not in str(info.value)


def test_pkcs12_garbage_is_typed() -> None:
    with pytest.raises(Pkcs12CorruptError):
        Pkcs12Backend.from_bytes(b"not a pkcs12 file", "1234")
