from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qcertlib.errors import CsrError, WeakKeyError
from qcertlib.issuance import KeySpec, build_csr, generate_key, load_csr, verify_csr
from qcertlib.profiles import Citizen, get_profile
from tests.conftest import require_tool
from tests.issuance._helpers import run

HOLDER = Citizen(given_name="ANA", first_surname="GARCÍA", nif="12345678Z", email="a@example.com")


def test_built_csr_verifies_and_carries_the_profile_subject() -> None:
    key = generate_key(KeySpec.EC_P384)
    csr = build_csr(HOLDER, get_profile("citizen"), key)
    assert csr.subject == get_profile("citizen").subject_for(HOLDER)
    assert verify_csr(csr, HOLDER, get_profile("citizen")) == key.public_key()
    assert isinstance(csr.signature_hash_algorithm, hashes.SHA384)


def test_openssl_verifies_our_csr(tmp_path: Path) -> None:
    tools = require_tool("openssl")
    csr = build_csr(HOLDER, get_profile("citizen"), generate_key(KeySpec.RSA_2048))
    (tmp_path / "r.csr").write_bytes(csr.public_bytes(Encoding.PEM))
    result = run([tools["openssl"], "req", "-in", str(tmp_path / "r.csr"), "-verify", "-noout"])
    assert result.returncode == 0
    assert "verify OK" in result.stdout + result.stderr


def test_build_csr_refuses_a_weak_key() -> None:
    with pytest.raises(WeakKeyError):
        build_csr(HOLDER, get_profile("citizen"), ec.generate_private_key(ec.SECP192R1()))


def test_verify_without_profile_uses_the_generic_floor() -> None:
    weak = ec.generate_private_key(ec.SECP192R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(weak, hashes.SHA256())
    )
    with pytest.raises(WeakKeyError, match="secp192r1"):
        verify_csr(csr)


def test_holder_without_profile_is_a_usage_error() -> None:
    csr = build_csr(HOLDER, get_profile("citizen"), generate_key(KeySpec.EC_P256))
    with pytest.raises(ValueError, match="needs the profile"):
        verify_csr(csr, HOLDER)


def test_subject_mismatch_names_the_differences() -> None:
    key = generate_key(KeySpec.EC_P256)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SOMEONE ELSE")]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(CsrError, match=re.escape("unexpected: 2.5.4.3='SOMEONE ELSE'")):
        verify_csr(csr, HOLDER, get_profile("citizen"))


@pytest.mark.parametrize(
    "make",
    [lambda: dsa.generate_private_key(key_size=2048), ed25519.Ed25519PrivateKey.generate],
    ids=["dsa", "ed25519"],
)
def test_csr_with_an_unsupported_key_type(make: object) -> None:
    assert callable(make)
    key = make()
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key, algorithm)
    )
    with pytest.raises(CsrError, match="only RSA and EC keys"):
        verify_csr(csr.public_bytes(Encoding.DER))


def test_load_csr_rejects_garbage() -> None:
    with pytest.raises(CsrError):
        load_csr(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
