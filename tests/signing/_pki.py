"""The signing/validation tests' view of :class:`qcertlib.testing.TestPKI`.

The shared test PKI (EC P-256) gives the root, the issuing CA, the OCSP and TSA
signers, the citizen (EC) and the revoked citizen; this module adds one RSA
citizen certificate issued by the same CA, the root's CRL (so B-LT signatures can
carry revocation data for the issuing CA too) and OCSP responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from qcertlib.issuance import KeySpec, generate_key
from qcertlib.testing import TEST_HOLDERS, TestPKI


@dataclass(frozen=True)
class Pki:
    """Names the tests use for the parts of the shared test PKI."""

    base: TestPKI
    rsa_key: Any
    rsa_cert: x509.Certificate
    root_crl: x509.CertificateRevocationList

    @property
    def root(self) -> x509.Certificate:
        return self.base.root

    @property
    def ca(self) -> x509.Certificate:
        return self.base.issuing_ca

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Issuer chain of every leaf (issuing CA, root)."""
        return (self.ca, self.root)

    @property
    def ec_key(self) -> Any:
        return self.base.citizen.private_key

    @property
    def ec_cert(self) -> x509.Certificate:
        return self.base.citizen.certificate

    @property
    def revoked_key(self) -> Any:
        return self.base.revoked.private_key

    @property
    def revoked_cert(self) -> x509.Certificate:
        return self.base.revoked.certificate

    @property
    def revoked_at(self) -> datetime:
        return self.base.at

    @property
    def tsa_key(self) -> Any:
        return self.base.tsa_key

    @property
    def tsa_cert(self) -> x509.Certificate:
        return self.base.tsa

    @property
    def ocsp_key(self) -> Any:
        return self.base.ocsp_key

    @property
    def ocsp_cert(self) -> x509.Certificate:
        return self.base.ocsp

    @property
    def crls_der(self) -> tuple[bytes, ...]:
        """The issuing CA's CRL (lists the revoked citizen) and the root's CRL."""
        der = serialization.Encoding.DER
        return (self.base.crl.public_bytes(der), self.root_crl.public_bytes(der))

    def write(self, directory: Path) -> None:
        """root.pem, ca.pem, chain.pem (issuing CA + root), tsa.pem and tsa.key for the oracles."""
        pem = serialization.Encoding.PEM
        files = {
            "root.pem": self.root.public_bytes(pem),
            "ca.pem": self.ca.public_bytes(pem),
            "chain.pem": self.ca.public_bytes(pem) + self.root.public_bytes(pem),
            "tsa.pem": self.tsa_cert.public_bytes(pem),
            "tsa.key": self.tsa_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        }
        for name, data in files.items():
            (directory / name).write_bytes(data)


def make_pki(base: TestPKI) -> Pki:
    """Extend the shared test PKI with an RSA citizen certificate and the root CRL."""
    rsa_key = generate_key(KeySpec.RSA_2048)
    rsa_cert = base.ca.issue("citizen", TEST_HOLDERS["citizen"], rsa_key.public_key(), at=base.at)
    root_crl = base.ca.build_root_crl(at=base.at, lifetime=timedelta(days=30))
    return Pki(base, rsa_key, rsa_cert, root_crl)


def ocsp_response(pki: Pki, cert: x509.Certificate, *, revoked: bool = False) -> bytes:
    """A signed OCSP response about ``cert`` (issued by the issuing CA) from the OCSP signer."""
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert,
        issuer=pki.ca,
        algorithm=hashes.SHA1(),  # noqa: S303 - CertID hash, as OCSP clients send
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=pki.base.at,
        next_update=pki.base.at + timedelta(days=1),
        revocation_time=pki.revoked_at if revoked else None,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
    )
    response = (
        builder.responder_id(ocsp.OCSPResponderEncoding.HASH, pki.ocsp_cert)
        .certificates([pki.ocsp_cert])
        .sign(pki.ocsp_key, hashes.SHA256())
    )
    return response.public_bytes(serialization.Encoding.DER)
