"""The certificate inspector: what a person wants to know about a certificate.

:func:`inspect` never raises on an unusual certificate (only on bytes that are not
a certificate at all: :class:`~qcertlib.errors.DecodingError`). It says what kind of
certificate it is (citizen, seal, public employee, other), whether it is qualified
and in a QSCD, its QcType and @firma class, who it is for (names, NIF/NIE,
entity and its CIF, system), who issued it under which policies, its validity,
the days left and whether the renewal window is open, and the key and fingerprints.

@firma classes (``profiles.md`` §3.4, from GovernIB's validation plugin): 0 natural
person, 1 legal person (non-qualified), 2 non-qualified component, 3 sede, 4 seal
(non-qualified, Ley 40/2015), 5 public employee, 7 public employee with pseudonym,
8 qualified seal, 9 qualified website. CA certificates get ``None``.
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from qcertlib import qcstatements as qcs
from qcertlib._certs import load_certificate
from qcertlib._compat import is_dsa_public_key
from qcertlib.errors import DecodingError, QcertError
from qcertlib.oids import (
    AappOID,
    AccvPolicyOID,
    EtsiPolicyOID,
    FnmtOID,
    NameAttributeOID,
    QcTypeOID,
    name_of,
)

__all__ = ["RENEWAL_WINDOW", "CertificateKind", "CertificateSummary", "inspect"]

#: How long before expiry a holder may renew (ACCV: 70 days).
RENEWAL_WINDOW = timedelta(days=70)


class CertificateKind(enum.Enum):
    """What a certificate is for."""

    CITIZEN = "citizen"
    SEAL = "seal"
    PUBLIC_EMPLOYEE = "public-employee"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    """The summary of one certificate (see :meth:`to_dict` for the JSON contract)."""

    kind: CertificateKind
    is_ca: bool
    qualified: bool
    qscd: bool
    qc_type: str | None
    afirma_class: int | None
    given_name: str | None
    surnames: str | None
    nif: str | None
    email: str | None
    entity_name: str | None
    entity_nif: str | None
    system_name: str | None
    custodian_nif: str | None
    subject: str
    issuer: str
    issuer_dn: str
    serial_number: str
    policies: tuple[str, ...]
    policy_oids: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    days_left: int
    expired: bool
    renewal_window_open: bool
    key_type: str
    key_size: int
    key_curve: str | None
    sha256: str
    sha1: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: enums as their values, datetimes as ISO 8601 UTC strings."""
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, datetime):
                value = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attrs = name.get_attributes_for_oid(oid)
    if not attrs:
        return None
    value = attrs[0].value
    return value if isinstance(value, str) else value.decode("latin-1")


def _ext(cert: x509.Certificate, cls: type[Any]) -> Any:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except (x509.ExtensionNotFound, x509.DuplicateExtension, ValueError):
        return None


def _strip_etsi(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > 6 and value[5] == "-" and value[:3].isalpha() and value[3:5] == "ES":
        return value[6:]
    return value


def _dirname_fields(san: x509.SubjectAlternativeName | None, prefix: str) -> dict[int, str]:
    found: dict[int, str] = {}
    if san is None:
        return found
    for dn in san.get_values_for_type(x509.DirectoryName):
        for attr in dn:
            dotted = attr.oid.dotted_string
            if dotted.startswith(prefix + ".") and dotted[len(prefix) + 1 :].isdigit():
                value = attr.value
                found[int(dotted[len(prefix) + 1 :])] = (
                    value if isinstance(value, str) else value.decode("latin-1")
                )
    return found


def _aapp_fields(
    san: x509.SubjectAlternativeName | None, bases: tuple[x509.ObjectIdentifier, ...]
) -> dict[int, str]:
    for base in bases:
        found = _dirname_fields(san, base.dotted_string)
        if found:
            return found
    return {}


def _prefixed(
    oids: tuple[x509.ObjectIdentifier, ...], prefixes: tuple[x509.ObjectIdentifier, ...]
) -> bool:
    return any(
        o == p or o.dotted_string.startswith(p.dotted_string + ".") for o in oids for p in prefixes
    )


_SEAL_POLICIES = (
    AappOID.SELLO_ALTO,
    AappOID.SELLO_MEDIO,
    AccvPolicyOID.SELLO_QSCD,
    AccvPolicyOID.SELLO_SOFTWARE,
)
_EMPLOYEE_POLICIES = (
    AappOID.EMPLEADO_ALTO,
    AappOID.EMPLEADO_MEDIO,
    AappOID.EMPLEADO_SEUDONIMO_ALTO,
    AappOID.EMPLEADO_SEUDONIMO_MEDIO,
    FnmtOID.EMPLEADO_PUBLICO,
    FnmtOID.EMPLEADO_CENTRALIZADO,
)
_QSCD_POLICIES = (EtsiPolicyOID.QCP_N_QSCD, EtsiPolicyOID.QCP_L_QSCD)
_QC_TYPE_NAMES = {QcTypeOID.ESIGN: "esign", QcTypeOID.ESEAL: "eseal", QcTypeOID.WEB: "web"}


def inspect(cert: x509.Certificate | bytes, *, at: datetime | None = None) -> CertificateSummary:
    """Summarise *cert* (a cryptography certificate or PEM/DER bytes) at time *at*.

    Raises :class:`~qcertlib.errors.DecodingError` when *cert* cannot be decoded (use
    :func:`~qcertlib.profiles.lint` to learn what is wrong with it).

    *at* (aware; default now) gives ``days_left`` (negative once expired) and
    ``renewal_window_open`` (from 70 days before notAfter until notAfter).
    """
    if isinstance(cert, bytes | bytearray | memoryview):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert = load_certificate(bytes(cert))
    if not isinstance(cert, x509.Certificate):
        raise TypeError("cert must be a cryptography Certificate or PEM/DER bytes")
    when = at if at is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("at must be an aware datetime (UTC)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _inspect(cert, when)
        except (ValueError, TypeError) as exc:  # a lazily decoded field is malformed
            raise DecodingError(f"the certificate cannot be decoded: {exc}") from None


def _inspect(cert: x509.Certificate, at: datetime) -> CertificateSummary:
    subject = cert.subject
    cp = _ext(cert, x509.CertificatePolicies)
    policy_oids: tuple[x509.ObjectIdentifier, ...] = (
        tuple(p.policy_identifier for p in cp) if cp is not None else ()
    )
    try:
        qc = qcs.QCStatements.from_certificate(cert)
    except (QcertError, x509.DuplicateExtension):
        qc = None
    bc = _ext(cert, x509.BasicConstraints)
    is_ca = bool(bc is not None and bc.ca)
    san = _ext(cert, x509.SubjectAlternativeName)
    eku = _ext(cert, x509.ExtendedKeyUsage)

    qualified = qc is not None and (
        qc.is_qualified or bool(qc.defects_of(qcs.DefectCode.QC_COMPLIANCE_HAS_VALUE))
    )
    qscd = (
        qc is not None and (qc.is_qscd or bool(qc.defects_of(qcs.DefectCode.QC_SSCD_HAS_VALUE)))
    ) or any(p in _QSCD_POLICIES for p in policy_oids)
    types = qc.qc_types if qc is not None else ()
    qc_type = _QC_TYPE_NAMES.get(types[0], types[0].dotted_string) if types else None

    gn = _attr(subject, NameOID.GIVEN_NAME)
    sn = _attr(subject, NameOID.SURNAME)
    pseudonym = _attr(subject, NameAttributeOID.PSEUDONYM)
    serial_attr = _attr(subject, NameOID.SERIAL_NUMBER)
    org = _attr(subject, NameOID.ORGANIZATION_NAME)
    org_id = _attr(subject, NameAttributeOID.ORGANIZATION_IDENTIFIER)
    cn = _attr(subject, NameOID.COMMON_NAME)

    seal_fields = _aapp_fields(san, (AappOID.SELLO_ALTO, AappOID.SELLO_MEDIO, AappOID.LEGACY_SELLO))
    emp_fields = _aapp_fields(
        san,
        (
            AappOID.EMPLEADO_ALTO,
            AappOID.EMPLEADO_MEDIO,
            AappOID.EMPLEADO_SEUDONIMO_ALTO,
            AappOID.EMPLEADO_SEUDONIMO_MEDIO,
            AappOID.LEGACY_EMPLEADO,
        ),
    )
    fnmt_fields = _dirname_fields(san, FnmtOID.ARC.dotted_string + ".1")

    if is_ca:
        kind = CertificateKind.OTHER
    elif _prefixed(policy_oids, _SEAL_POLICIES) or seal_fields or QcTypeOID.ESEAL in types:
        kind = CertificateKind.SEAL
    elif _prefixed(policy_oids, _EMPLOYEE_POLICIES) or emp_fields:
        kind = CertificateKind.PUBLIC_EMPLOYEE
    elif gn or sn or pseudonym or QcTypeOID.ESIGN in types:
        kind = CertificateKind.CITIZEN if not org_id else CertificateKind.OTHER
    else:
        kind = CertificateKind.OTHER

    email = None
    if san is not None:
        emails = san.get_values_for_type(x509.RFC822Name)
        email = emails[0] if emails else None
    email = (
        email
        or seal_fields.get(9)
        or emp_fields.get(9)
        or _attr(subject, NameAttributeOID.EMAIL_ADDRESS)
    )

    given_name = surnames = nif = entity_name = entity_nif = system_name = custodian_nif = None
    if kind in (CertificateKind.CITIZEN, CertificateKind.PUBLIC_EMPLOYEE):
        given_name = gn or fnmt_fields.get(1) or emp_fields.get(6)
        surnames = sn
        if surnames is None:
            parts = [
                fnmt_fields.get(2) or emp_fields.get(7),
                fnmt_fields.get(3) or emp_fields.get(8),
            ]
            surnames = " ".join(p for p in parts if p) or None
        nif = _strip_etsi(serial_attr) or fnmt_fields.get(4) or emp_fields.get(4)
    if kind is CertificateKind.PUBLIC_EMPLOYEE:
        entity_name = org or emp_fields.get(2)
        entity_nif = emp_fields.get(3)
    if kind is CertificateKind.SEAL:
        entity_name = org or seal_fields.get(2)
        entity_nif = _strip_etsi(serial_attr) or _strip_etsi(org_id) or seal_fields.get(3)
        system_name = cn or seal_fields.get(5)
        custodian_nif = seal_fields.get(4)
    if kind is CertificateKind.OTHER and not is_ca:
        entity_name = org
        entity_nif = _strip_etsi(org_id)

    afirma = _afirma_class(kind, is_ca, qualified, pseudonym is not None, types, eku, org_id)

    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    left = not_after - at
    days_left = int(left.total_seconds() // 86400)
    renewal_open = not_after - RENEWAL_WINDOW <= at < not_after

    try:
        key_type, key_size, curve = _key_info(cert.public_key())
    except UnsupportedAlgorithm:
        key_type, key_size, curve = "unknown", 0, None
    issuer_cn = _attr(cert.issuer, NameOID.COMMON_NAME) or _attr(
        cert.issuer, NameOID.ORGANIZATIONAL_UNIT_NAME
    )
    return CertificateSummary(
        kind=kind,
        is_ca=is_ca,
        qualified=qualified,
        qscd=qscd,
        qc_type=qc_type,
        afirma_class=afirma,
        given_name=given_name,
        surnames=surnames,
        nif=nif,
        email=email,
        entity_name=entity_name,
        entity_nif=entity_nif,
        system_name=system_name,
        custodian_nif=custodian_nif,
        subject=subject.rfc4514_string(),
        issuer=issuer_cn or cert.issuer.rfc4514_string(),
        issuer_dn=cert.issuer.rfc4514_string(),
        serial_number=f"{cert.serial_number:x}",
        policies=tuple(name_of(p) for p in policy_oids),
        policy_oids=tuple(p.dotted_string for p in policy_oids),
        not_before=not_before,
        not_after=not_after,
        days_left=days_left,
        expired=at >= not_after,
        renewal_window_open=renewal_open,
        key_type=key_type,
        key_size=key_size,
        key_curve=curve,
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        sha1=cert.fingerprint(hashes.SHA1()).hex(),  # noqa: S303 - a fingerprint, not security
    )


def _afirma_class(
    kind: CertificateKind,
    is_ca: bool,
    qualified: bool,
    pseudonym: bool,
    types: tuple[x509.ObjectIdentifier, ...],
    eku: x509.ExtendedKeyUsage | None,
    org_id: str | None,
) -> int | None:
    if is_ca:
        return None
    if kind is CertificateKind.CITIZEN:
        return 0
    if kind is CertificateKind.PUBLIC_EMPLOYEE:
        return 7 if pseudonym else 5
    if kind is CertificateKind.SEAL:
        return 8 if qualified else 4
    web = QcTypeOID.WEB in types or (
        eku is not None and ExtendedKeyUsageOID.SERVER_AUTH in list(eku)
    )
    if web:
        return 9 if qualified else 3
    return 1 if org_id else 2


def _key_info(key: object) -> tuple[str, int, str | None]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if is_dsa_public_key(key):
        return "DSA", getattr(key, "key_size", 0), None
    return type(key).__name__, 0, None
