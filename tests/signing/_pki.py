"""A minimal test PKI for the signing and validation tests (until qcertlib.testing lands).

Root (RSA) -> issuing CA (EC P-256) -> RSA signer, EC signer, revoked signer,
TSA (critical EKU timeStamping), OCSP signer. One CRL per CA.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.now(UTC).replace(microsecond=0)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qcertlib test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(
    subject: str,
    key: Any,
    issuer: x509.Certificate | None,
    issuer_key: Any,
    *,
    ca: bool = False,
    eku: x509.ObjectIdentifier | None = None,
    serial: int,
) -> x509.Certificate:
    name = _name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - timedelta(days=2))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if ca:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        usage = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    builder = builder.add_extension(usage, critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([eku]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _crl(
    issuer: x509.Certificate, key: Any, revoked: list[tuple[int, datetime]], number: int
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(NOW - timedelta(hours=1))
        .next_update(NOW + timedelta(days=7))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    root_key: rsa.RSAPrivateKey
    root: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey
    ca: x509.Certificate
    rsa_key: rsa.RSAPrivateKey
    rsa_cert: x509.Certificate
    ec_key: ec.EllipticCurvePrivateKey
    ec_cert: x509.Certificate
    revoked_key: ec.EllipticCurvePrivateKey
    revoked_cert: x509.Certificate
    revoked_at: datetime
    tsa_key: rsa.RSAPrivateKey
    tsa_cert: x509.Certificate
    ocsp_key: ec.EllipticCurvePrivateKey
    ocsp_cert: x509.Certificate
    ca_crl: x509.CertificateRevocationList
    root_crl: x509.CertificateRevocationList

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """Issuer chain of every leaf (issuing CA, root)."""
        return (self.ca, self.root)

    @property
    def crls_der(self) -> tuple[bytes, ...]:
        return (
            self.ca_crl.public_bytes(serialization.Encoding.DER),
            self.root_crl.public_bytes(serialization.Encoding.DER),
        )

    def write(self, directory: Path) -> dict[str, Path]:
        """Write PEM files for the oracles: root.pem, chain.pem (ca + root), tsa.pem, keys."""
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
        out = {}
        for name, data in files.items():
            path = directory / name
            path.write_bytes(data)
            out[name] = path
        return out


def make_pki() -> Pki:
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _issue("Test Root", root_key, None, root_key, ca=True, serial=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Test Issuing CA", ca_key, root, root_key, ca=True, serial=2)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_cert = _issue("Alice RSA", rsa_key, ca, ca_key, serial=0x1001)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_cert = _issue("Bob EC", ec_key, ca, ca_key, serial=0x1002)
    revoked_key = ec.generate_private_key(ec.SECP256R1())
    revoked_cert = _issue("Mallory Revoked", revoked_key, ca, ca_key, serial=0x1003)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa_cert = _issue(
        "Test TSA", tsa_key, ca, ca_key, eku=ExtendedKeyUsageOID.TIME_STAMPING, serial=0x1004
    )
    ocsp_key = ec.generate_private_key(ec.SECP256R1())
    ocsp_cert = _issue(
        "Test OCSP", ocsp_key, ca, ca_key, eku=ExtendedKeyUsageOID.OCSP_SIGNING, serial=0x1005
    )
    revoked_at = NOW - timedelta(hours=2)
    return Pki(
        root_key=root_key,
        root=root,
        ca_key=ca_key,
        ca=ca,
        rsa_key=rsa_key,
        rsa_cert=rsa_cert,
        ec_key=ec_key,
        ec_cert=ec_cert,
        revoked_key=revoked_key,
        revoked_cert=revoked_cert,
        revoked_at=revoked_at,
        tsa_key=tsa_key,
        tsa_cert=tsa_cert,
        ocsp_key=ocsp_key,
        ocsp_cert=ocsp_cert,
        ca_crl=_crl(ca, ca_key, [(0x1003, revoked_at)], 1),
        root_crl=_crl(root, root_key, [], 1),
    )


def ocsp_response(pki: Pki, cert: x509.Certificate, *, revoked: bool = False) -> bytes:
    """A signed OCSP response about ``cert`` (issued by the issuing CA) from the OCSP signer."""
    from cryptography.x509 import ocsp

    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert,
        issuer=pki.ca,
        algorithm=hashes.SHA1(),  # noqa: S303 - CertID hash, as OCSP clients send
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD,
        this_update=NOW - timedelta(minutes=30),
        next_update=NOW + timedelta(days=1),
        revocation_time=pki.revoked_at if revoked else None,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
    )
    response = (
        builder.responder_id(ocsp.OCSPResponderEncoding.HASH, pki.ocsp_cert)
        .certificates([pki.ocsp_cert])
        .sign(pki.ocsp_key, hashes.SHA256())
    )
    return response.public_bytes(serialization.Encoding.DER)
