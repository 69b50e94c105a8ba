"""Helpers for the issuance tests: a cheap CA and raw (profile-less) leaves."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qcertlib.issuance import CertificateAuthority, KeySpec, generate_key
from qcertlib.issuance.keys import PrivateKey

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def make_ca(directory: Path, *, at: datetime = T0) -> CertificateAuthority:
    """A test PKI with EC P-256 keys (fast)."""
    return CertificateAuthority.init(directory, name="Test PKI", key_spec=KeySpec.EC_P256, at=at)


def raw_leaf(
    ca: CertificateAuthority, *, at: datetime = T0, nif: str = "12345678Z", record: bool = True
) -> tuple[x509.Certificate, PrivateKey]:
    """A minimal leaf (no profile, no lint) signed by *ca* and recorded in its registry."""
    key = generate_key(KeySpec.EC_P256)
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = ca.sign_leaf(
        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"raw {nif}")]),
        public_key=key.public_key(),
        not_before=at,
        not_after=at + timedelta(days=365),
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False),
        ],
        serial=ca._new_serial(),
    )
    if record:
        ca.registry.add_certificate(
            cert, profile="raw", holder={"kind": "raw", "nif": nif}, issued_at=at
        )
    return cert, key


def write_pem(path: Path, *items: x509.Certificate | x509.CertificateRevocationList) -> Path:
    path.write_bytes(b"".join(item.public_bytes(Encoding.PEM) for item in items))
    return path


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))
