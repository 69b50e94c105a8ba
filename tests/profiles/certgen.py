"""Test certificates: issue a leaf from a catalog profile with a throwaway CA, then tweak it.

``issue(profile)`` builds the leaf exactly as the profile says (subject, SAN,
extensions) with a test CA made here with cryptography (the real CA is another
module's job). Keyword arguments replace, drop or add single extensions, or change
the subject, validity, serial or signature hash. ``resign`` edits fields that
cryptography's builder refuses to produce (version 1, negative or over-long serial
numbers) by rewriting the TBSCertificate with asn1crypto and signing it again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from qcertlib.oids import NameAttributeOID
from qcertlib.profiles import (
    CertificateProfile,
    Citizen,
    Custodian,
    Holder,
    HolderKind,
    PkiUrls,
    PublicBody,
    get_profile,
)

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
URLS = PkiUrls(
    ca_issuers="http://pki.qcertlib-test.example.com/ca.crt",
    ocsp="http://pki.qcertlib-test.example.com/ocsp",
    crl="http://pki.qcertlib-test.example.com/ca.crl",
)


@dataclass(frozen=True)
class ThrowawayCA:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate


@cache
def throwaway_ca() -> ThrowawayCA:
    """A throwaway issuing CA (C, O, organizationIdentifier, CN as EN 319 412-2 wants)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "QCERTLIB PRUEBAS"),
            x509.NameAttribute(NameAttributeOID.ORGANIZATION_IDENTIFIER, "VATES-Q2826004J"),
            x509.NameAttribute(NameOID.COMMON_NAME, "QCERTLIB TEST CA"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x1001)
        .not_valid_before(NOW - dt.timedelta(days=365))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return ThrowawayCA(key, cert)


@cache
def leaf_key(kind: str = "rsa") -> Any:
    """A cached subject key: ``rsa`` (2048), ``rsa1024`` (weak), ``p256``, ``p192``."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(  # weak on purpose, for the weak-key finding
            public_exponent=65537,
            key_size=1024,  # noqa: S505
        )
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p521":
        return ec.generate_private_key(ec.SECP521R1())
    if kind == "p192":
        return ec.generate_private_key(ec.SECP192R1())
    raise ValueError(kind)


def citizen(**changes: Any) -> Citizen:
    data: dict[str, Any] = {
        "given_name": "María José",
        "first_surname": "García",
        "second_surname": "Peña",
        "nif": "12345678Z",
        "email": "maria.garcia@example.com",
    }
    data.update(changes)
    return Citizen(**data)


def public_body(*, custodian: bool = True, **changes: Any) -> PublicBody:
    data: dict[str, Any] = {
        "name": "Consell Insular de Menorca",
        "nif": "S0733002J",
        "system_name": "Registre electrònic",
        "unit": "L03070009",
        "email": "registre@example.org",
        "custodian": (
            Custodian(
                given_name="Joan", first_surname="Pons", second_surname="Mascaró", nif="00000000T"
            )
            if custodian
            else None
        ),
    }
    data.update(changes)
    return PublicBody(**data)


def holder_for(profile: CertificateProfile) -> Holder:
    return citizen() if profile.holder_kind is HolderKind.CITIZEN else public_body()


Tweak = tuple[x509.ExtensionType, bool] | None


def issue(
    profile: CertificateProfile | str,
    *,
    holder: Holder | None = None,
    key: Any = None,
    replace: Mapping[x509.ObjectIdentifier, Tweak] | None = None,
    add: Sequence[tuple[x509.ExtensionType, bool]] = (),
    subject: x509.Name | None = None,
    not_before: dt.datetime | None = None,
    validity: dt.timedelta | None = None,
    serial: int = 0x5A17E5,
    spki: Any = None,
    issuer: x509.Name | None = None,
) -> x509.Certificate:
    """Issue a leaf of *profile*; ``replace={oid: (value, critical) | None}`` edits it.

    *spki* puts another public key in the certificate after the extensions were built
    for *key* (to get keys the profile would refuse into a certificate).
    """
    prof = get_profile(profile)
    ca = throwaway_ca()
    holder = holder if holder is not None else holder_for(prof)
    key = key if key is not None else leaf_key()
    public = key.public_key()
    start = not_before if not_before is not None else NOW - dt.timedelta(days=1)
    length = validity if validity is not None else prof.validity_for()
    exts = prof.extensions_for(
        holder, subject_public_key=public, issuer_certificate=ca.cert, urls=URLS
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject if subject is not None else prof.subject_for(holder))
        .issuer_name(issuer if issuer is not None else ca.cert.subject)
        .public_key(spki.public_key() if spki is not None else public)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + length)
    )
    changes = dict(replace or {})
    for value, critical in exts:
        oid = value.oid
        if oid in changes:
            new = changes.pop(oid)
            if new is None:
                continue
            value, critical = new
        builder = builder.add_extension(value, critical=critical)
    for value, critical in [*changes.values(), *add]:  # type: ignore[misc]
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(ca.key, hashes.SHA256())


def resign(
    cert: x509.Certificate,
    mutate: Callable[[ax509.TbsCertificate], None] | None = None,
    *,
    sha1: bool = False,
) -> bytes:
    """DER of *cert* with its TBSCertificate changed by *mutate* and signed again.

    ``sha1=True`` signs with sha1WithRSAEncryption (cryptography's builder refuses).
    """
    ca = throwaway_ca()
    parsed = ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"]
    algorithm = parsed["signature_algorithm"]
    if sha1:
        algorithm = ax509.SignedDigestAlgorithm({"algorithm": "sha1_rsa"})
        tbs["signature"] = algorithm
    if mutate is not None:
        mutate(tbs)
    tbs_der = tbs.dump(force=True)
    digest: hashes.HashAlgorithm = hashes.SHA1() if sha1 else hashes.SHA256()  # noqa: S303
    signature = ca.key.sign(tbs_der, padding.PKCS1v15(), digest)
    new = ax509.Certificate(
        {
            "tbs_certificate": ax509.TbsCertificate.load(tbs_der),
            "signature_algorithm": algorithm,
            "signature_value": signature,
        }
    )
    return bytes(new.dump())


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# ----------------------------------------------------------------------------- DER


def tlv(tag: int, content: bytes) -> bytes:
    """A DER element."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def oid(dotted: str) -> bytes:
    from asn1crypto import core

    return bytes(core.ObjectIdentifier(dotted).dump())


def statement(statement_id: str, info: bytes | None = None) -> bytes:
    """One raw QCStatement (any OID, any statementInfo)."""
    return tlv(0x30, oid(statement_id) + (info or b""))


def profile_statements(profile: CertificateProfile | str) -> list[bytes]:
    """The profile's QC statements, each as raw DER, to edit one by one."""
    from qcertlib import _der

    der_value = get_profile(profile).qc_statements_der()
    return [child.raw for child in _der.parse_single(der_value).children()]


def statement_oid(raw: bytes) -> str:
    from qcertlib import _der

    return _der.decode_oid(_der.parse_single(raw).children()[0])


def qc_extension(
    statements: Sequence[bytes], critical: bool = False
) -> tuple[x509.ExtensionType, bool]:
    """A replacement ``(value, critical)`` for the qcStatements extension."""
    from qcertlib.oids import ExtensionOID as QExt

    return (
        x509.UnrecognizedExtension(QExt.QC_STATEMENTS, tlv(0x30, b"".join(statements))),
        critical,
    )


def edit_statements(
    profile: CertificateProfile | str,
    *,
    drop: Sequence[str] = (),
    add: Sequence[bytes] = (),
) -> tuple[x509.ExtensionType, bool]:
    """The profile's statements minus those with an OID in *drop*, plus *add*."""
    kept = [st for st in profile_statements(profile) if statement_oid(st) not in drop]
    return qc_extension([*kept, *add])
