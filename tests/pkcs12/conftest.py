"""Fixtures for the PKCS#12 tests: a tiny PKI made with cryptography, and helpers."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import NameOID

from qcertlib import _pkcs12_der as asn1
from qcertlib.pkcs12 import KeyEntry, KeyStore

#: A PIN that appears nowhere else; tests look for it in messages and reprs.
DISTINCTIVE_PIN = "Zq9#ñandú-77"

FNMT_SINGLE = "fnmt-test-99999999R-2020.p12"
FNMT_SINGLE_PIN = "1234"
FNMT_DOUBLE = "fnmt-test-empleado-publico-00000000T-and-99999999R.p12"
FNMT_DOUBLE_PIN = "123456"


@dataclass(frozen=True)
class Pki:
    root_key: rsa.RSAPrivateKey
    root: x509.Certificate
    leaf_key: rsa.RSAPrivateKey
    leaf: x509.Certificate
    ec_key: ec.EllipticCurvePrivateKey
    ec_leaf: x509.Certificate

    def store(self, name: str | None = "alice") -> KeyStore:
        return KeyStore.single(self.leaf_key, self.leaf, chain=(self.root,), friendly_name=name)

    def two_key_store(self) -> KeyStore:
        return KeyStore(
            keys=(
                KeyEntry(self.leaf_key, self.leaf, "alice", None),
                KeyEntry(self.ec_key, self.ec_leaf, "bob", None),
            ),
            certificates=(self.root,),
            friendly_names=("Test Root",),
        )


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qcertlib tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _cert(
    subject: str,
    issuer: str,
    public_key: PrivateKeyTypes,
    signer: CertificateIssuerPrivateKeyTypes,
    issuer_public: PrivateKeyTypes,
    *,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    pub = public_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(pub)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(pub),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_public.public_key()  # type: ignore[arg-type]
            ),
            critical=False,
        )
    )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="session")
def pki() -> Pki:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _cert("Test Root CA", "Test Root CA", root_key, root_key, root_key, ca=True)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = _cert("Alice Test", "Test Root CA", leaf_key, root_key, root_key, ca=False)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_leaf = _cert("Bob Test", "Test Root CA", ec_key, root_key, root_key, ca=False)
    return Pki(root_key, root, leaf_key, leaf, ec_key, ec_leaf)


def write_pem_files(pki: Pki, directory: Path) -> dict[str, Path]:
    """key.pem (unencrypted), cert.pem, chain.pem in *directory*."""
    paths = {
        "key": directory / "key.pem",
        "cert": directory / "cert.pem",
        "chain": directory / "chain.pem",
    }
    paths["key"].write_bytes(
        pki.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths["cert"].write_bytes(pki.leaf.public_bytes(serialization.Encoding.PEM))
    paths["chain"].write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    return paths


def run(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a third-party tool, capturing text output, without raising on failure."""
    return subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=120, env=env, cwd=cwd
    )


def to_ber(element: asn1.Tlv) -> bytes:
    """Re-encode as Windows and FNMT do: constructed elements with indefinite lengths,
    OCTET STRINGs (and the [0] IMPLICIT encrypted content) over 64 bytes in pieces."""
    head = element.raw[: element.content_start - element.start]
    ident = head[:1]
    if element.constructed:
        body = b"".join(to_ber(child) for child in element.children())
        return ident + b"\x80" + body + b"\x00\x00"
    chunked = element.is_universal(asn1.OCTET_STRING) or element.is_context(0)
    if chunked and len(element.content) > 64:
        content = element.content
        pieces = [content[i : i + 64] for i in range(0, len(content), 64)]
        constructed_ident = bytes([ident[0] | 0x20])
        body = b"".join(asn1.octet_string(p) for p in pieces)
        return constructed_ident + b"\x80" + body + b"\x00\x00"
    return element.raw
