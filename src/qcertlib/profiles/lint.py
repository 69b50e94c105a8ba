"""The certificate linter: RFC 5280 basics, ETSI EN 319 412-1/-2/-3/-5, AAPP seals,
Spanish law and the profile's own rules.

:func:`lint` never raises on a non-conformant certificate: every problem is a
:class:`Finding` with a stable ``code`` that names the rule's source and clause
(``<source>.<clause>.<problem>``), a :class:`Severity`, the ``field`` concerned and a
message. Sources:

* ``der.*`` — the bytes cannot be decoded as the ASN.1 says (FATAL);
* ``rfc5280.*`` / ``rfc3739.*`` — IETF PKIX;
* ``etsi.en_319_412_N.*`` — ETSI EN 319 412 part N; the clause ids are those
  pkilint uses (e.g. ``nat-4.3.2-1``), and where pkilint has a code for the same
  rule we use the same words;
* ``etsi.ts_119_312.*`` — cryptographic suites;
* ``aapp.sello.*`` — the Spanish AAPP seal profile ("Perfiles de certificados");
* ``es.*`` — Spanish law and identifiers; ``cabf.*`` — CA/Browser Forum;
* ``profile.*`` — the rules of the profile linted against.

:data:`FINDING_CODES` lists every code with its severity and what it means.
"""

from __future__ import annotations

import enum
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from qcertlib import qcstatements as qcs
from qcertlib._certs import load_certificate
from qcertlib._compat import is_dsa_public_key
from qcertlib.errors import DecodingError, IdentifierError, QcertError, WeakKeyError
from qcertlib.identifiers import parse_etsi_identifier, parse_spanish_id
from qcertlib.oids import (
    AappOID,
    EkuOID,
    EtsiPolicyOID,
    NameAttributeOID,
    QcStatementOID,
    QcTypeOID,
    SemanticsOID,
    name_of,
)
from qcertlib.oids import ExtensionOID as QExtensionOID
from qcertlib.profiles.catalog import PROFILES, get_profile
from qcertlib.profiles.holders import HolderKind
from qcertlib.profiles.model import (
    MAX_LEGAL_VALIDITY_MONTHS,
    CertificateProfile,
    EtsiKeyUsageType,
    ValidityRule,
    key_usage_bits,
)

__all__ = [
    "FINDING_CODES",
    "GENERIC_PROFILE",
    "Finding",
    "FindingCode",
    "LintReport",
    "Severity",
    "detect_profile",
    "lint",
]

#: The profile name a report carries when no catalog profile fits the certificate.
GENERIC_PROFILE = "generic-qc"


class Severity(enum.IntEnum):
    """How bad a finding is, ordered: INFO < NOTICE < WARNING < ERROR < FATAL.

    ``str(severity)`` and the JSON form are the upper-case name (``"ERROR"``), as
    pkilint prints them. ERROR and FATAL make a report not ``ok``.
    """

    INFO = 1
    NOTICE = 2
    WARNING = 3
    ERROR = 4
    FATAL = 5

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, text: str) -> Severity:
        """The severity named *text* (case-insensitive); :class:`ValueError` otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}") from None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or remark) found in a certificate."""

    code: str
    severity: Severity
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """``{"code", "severity", "field", "message"}`` with the severity's name."""
        return {
            "code": self.code,
            "severity": str(self.severity),
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class LintReport:
    """The findings for one certificate and the profile it was linted against.

    ``profile`` is the profile's name, :data:`GENERIC_PROFILE` when none was given
    and none was detected, or ``None`` when the input was not a certificate and no
    profile was given (nothing could be detected).
    """

    profile: str | None
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """No ERROR and no FATAL finding."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The ERROR and FATAL findings."""
        return tuple(f for f in self.findings if f.severity >= Severity.ERROR)

    @property
    def codes(self) -> frozenset[str]:
        """The distinct codes found."""
        return frozenset(f.code for f in self.findings)

    def at_least(self, severity: Severity) -> tuple[Finding, ...]:
        """The findings of *severity* or worse."""
        return tuple(f for f in self.findings if f.severity >= severity)

    def to_dict(self) -> dict[str, Any]:
        """``{"profile", "ok", "findings": [{"code", "severity", "field", "message"}]}``."""
        return {
            "profile": self.profile,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class FindingCode:
    """A finding code: its fixed severity and what it means."""

    code: str
    severity: Severity
    description: str


_I, _N, _W, _E, _F = (
    Severity.INFO,
    Severity.NOTICE,
    Severity.WARNING,
    Severity.ERROR,
    Severity.FATAL,
)
_NAT = "etsi.en_319_412_2"
_LEG = "etsi.en_319_412_3"
_QCS = "etsi.en_319_412_5"
_ID = "etsi.en_319_412_1"

_CODE_TABLE: tuple[tuple[str, Severity, str], ...] = (
    # -- DER
    (
        "der.malformed",
        _F,
        "The input is not a DER/PEM X.509 certificate, or a field cannot be decoded.",
    ),
    (
        "der.extensions_malformed",
        _F,
        "The extensions cannot be decoded; extension checks were skipped.",
    ),
    (
        "der.qc_statements_malformed",
        _F,
        "qcStatements is not a SEQUENCE OF QCStatement (or an element is not one).",
    ),
    (
        "der.qc_statement_info_malformed",
        _F,
        "A known QC statement's statementInfo does not match its ASN.1 schema.",
    ),
    (
        "der.qc_sscd_statement_info_present",
        _F,
        "QcSSCD carries a statementInfo; its syntax has none (pkilint: itu.invalid_asn1_syntax).",
    ),
    (
        "der.qc_compliance_statement_info_present",
        _F,
        "QcCompliance carries a statementInfo; its syntax has none.",
    ),
    # -- RFC 5280 / 3739
    ("rfc5280.4.1.2.1.version_not_v3", _E, "The certificate is not version 3 (it has extensions)."),
    ("rfc5280.4.1.2.2.serial_not_positive", _E, "The serial number is zero or negative."),
    ("rfc5280.4.1.2.2.serial_too_long", _E, "The serial number is longer than 20 octets."),
    ("rfc5280.4.1.2.5.validity_inverted", _E, "notBefore is after notAfter."),
    (
        "rfc5280.4.1.2.5.outside_validity_period",
        _I,
        "The certificate is not valid at the lint time (expired or not yet valid).",
    ),
    ("rfc5280.4.2.duplicate_extension", _E, "An extension appears more than once."),
    (
        "rfc5280.4.2.unknown_critical_extension",
        _E,
        "A critical extension that relying parties cannot be expected to process.",
    ),
    (
        "rfc5280.4.2.1.1.authority_key_identifier_absent",
        _E,
        "No authorityKeyIdentifier (also EN 319 412-2 GEN-4.3.1-1).",
    ),
    (
        "rfc5280.4.2.1.2.subject_key_identifier_absent",
        _N,
        "No subjectKeyIdentifier (RFC 5280: SHOULD be present).",
    ),
    (
        "rfc5280.4.2.1.3.key_usage_not_critical",
        _W,
        "keyUsage is not marked critical (RFC 5280: SHOULD).",
    ),
    (
        "rfc5280.4.2.1.9.ca_true_on_end_entity",
        _E,
        "basicConstraints cA is TRUE on a certificate linted as a leaf.",
    ),
    (
        "rfc3739.pkix_qc_syntax_v1_present",
        _E,
        "id-qcs-pkixQCSyntax-v1 is present; RFC 3739 §3.2.6.1 forbids it (use v2).",
    ),
    # -- ETSI TS 119 312
    ("etsi.ts_119_312.weak_signature_algorithm", _E, "The signature uses MD5 or SHA-1."),
    ("etsi.ts_119_312.weak_public_key", _E, "RSA below 2048 bits, EC below 256 bits, or DSA."),
    # -- EN 319 412-1 (identifiers)
    (
        f"{_ID}.nat-5.1.3.identifier_syntax_invalid",
        _E,
        "semanticsId-Natural is claimed but serialNumber is not a valid natural-person identifier.",
    ),
    (
        f"{_ID}.nat-5.1.3.deprecated_identifier_scheme",
        _W,
        "The natural-person identifier uses the deprecated TAX scheme (use TIN).",
    ),
    (
        f"{_ID}.leg-5.1.4.identifier_syntax_invalid",
        _E,
        "SemanticsId-Legal is claimed but organizationIdentifier is not a valid "
        "legal-person identifier.",
    ),
    (
        f"{_ID}.semantics_identifier_mismatch",
        _E,
        "The semantics identifier is for the other kind of person.",
    ),
    (
        f"{_ID}.semantics_identifier_absent",
        _N,
        "The subject uses ETSI identifier syntax (IDCES-, VATES-) without the semantics "
        "identifier that announces it.",
    ),
    # -- EN 319 412-2 (natural persons; general rules reused by -3)
    (
        f"{_NAT}.gen-4.2.3.1-2.issuer_attribute_missing",
        _E,
        "The issuer field lacks countryName, organizationName or commonName.",
    ),
    (
        f"{_NAT}.gen-4.2.3.1-3.issuer_organization_identifier_equals_name",
        _E,
        "The issuer's organizationIdentifier equals its organizationName.",
    ),
    (
        f"{_NAT}.nat-4.2.4-1.required_attribute_missing",
        _E,
        "A natural person's subject lacks countryName, commonName or (givenName/surname "
        "or pseudonym).",
    ),
    (
        f"{_NAT}.nat-4.2.4-3.prohibited_duplicate_attribute_present",
        _E,
        "countryName, commonName or serialNumber appears more than once.",
    ),
    (
        f"{_NAT}.nat-4.2.4-4.mixed_pseudonym_and_name_attributes_present",
        _E,
        "pseudonym together with givenName or surname.",
    ),
    (f"{_NAT}.nat-4.3.2-1.key_usage_absent", _E, "No keyUsage extension."),
    (
        f"{_NAT}.nat-4.3.2-1.unknown_key_usage_setting",
        _E,
        "keyUsage matches none of the ETSI types A-F (e.g. dataEncipherment added).",
    ),
    (
        f"{_NAT}.nat-4.3.2-1.mixed_key_usage_setting",
        _W,
        "keyUsage type B, D or F (mixed usage); A, C or E should be used.",
    ),
    (
        f"{_NAT}.nat-4.3.2-2.content_commitment_not_set",
        _E,
        "A qualified e-signature/e-seal certificate whose keyUsage is not type A, B or F.",
    ),
    (f"{_NAT}.gen-4.3.3-2.certificate_policies_absent", _E, "No certificatePolicies extension."),
    (f"{_NAT}.gen-4.3.3-1.certificate_policies_critical", _E, "certificatePolicies is critical."),
    (f"{_NAT}.gen-4.3.5-1.san_critical", _E, "subjectAltName is critical."),
    (f"{_NAT}.gen-4.3.10-1.eku_critical", _E, "extendedKeyUsage is critical."),
    (
        f"{_NAT}.gen-4.3.11-2.revocation_pointer_absent",
        _E,
        "Neither an OCSP access method nor cRLDistributionPoints.",
    ),
    (
        f"{_NAT}.gen-4.3.11-4.crldp_uri_not_http_or_ldap",
        _E,
        "A CRL distribution point without an http or ldap URI.",
    ),
    (f"{_NAT}.gen-4.3.11-5.crldp_critical", _E, "cRLDistributionPoints is critical."),
    (
        f"{_NAT}.gen-4.3.1.prohibited_extension_present",
        _E,
        "policyMappings, nameConstraints, policyConstraints or inhibitAnyPolicy in a leaf.",
    ),
    (f"{_NAT}.gen-4.4.1-2.authority_info_access_absent", _E, "No authorityInfoAccess extension."),
    (f"{_NAT}.gen-4.4.1-3.ca_issuers_absent", _E, "authorityInfoAccess has no id-ad-caIssuers."),
    (
        f"{_NAT}.gen-4.4.1-4.ca_issuers_not_http",
        _E,
        "No caIssuers access location is an http(s) URI.",
    ),
    (
        f"{_NAT}.qcs-5.2-1.qcp_policy_missing",
        _W,
        "A qualified certificate without an EN 319 411-2 QCP policy.",
    ),
    (f"{_NAT}.qcs-5.2-1.multiple_qcp_policies", _W, "More than one EN 319 411-2 QCP policy."),
    (
        f"{_NAT}.qcs-5.2-2.mismatched_policy_identifier",
        _E,
        "The QCP policy contradicts the certificate (natural/legal person, QcSSCD).",
    ),
    # -- EN 319 412-3 (legal persons)
    (
        f"{_LEG}.leg-4.2.1-2.required_attribute_missing",
        _E,
        "A legal person's subject lacks countryName, organizationName, "
        "organizationIdentifier or commonName.",
    ),
    (
        f"{_LEG}.leg-4.2.1-3.prohibited_duplicate_attribute_present",
        _E,
        "countryName, organizationName, organizationIdentifier or commonName appears "
        "more than once.",
    ),
    (
        f"{_LEG}.leg-4.2.1-6.organization_identifier_equals_name",
        _E,
        "organizationIdentifier equals organizationName.",
    ),
    # -- EN 319 412-5 (QC statements)
    (f"{_QCS}.qcs-4.1-02.qc_statements_critical", _E, "qcStatements is critical."),
    (
        f"{_QCS}.qcs-4.1-02a.duplicate_statement",
        _E,
        "An ETSI QC statement (or the extension) appears more than once.",
    ),
    (
        f"{_QCS}.qcs-5.01.qc_statements_absent",
        _E,
        "The certificate claims to be qualified but has no qcStatements.",
    ),
    (f"{_QCS}.qcs-5.01.qc_compliance_absent", _E, "A qualified certificate without QcCompliance."),
    (f"{_QCS}.qcs-5.01.qc_sscd_absent", _E, "A QSCD policy or profile without QcSSCD."),
    (
        f"{_QCS}.qcs-5.01.qc_cc_legislation_present",
        _E,
        "QcCClegislation in an EU qualified certificate.",
    ),
    (f"{_QCS}.gen-4.2.3.qc_type_absent", _E, "A qualified certificate without QcType."),
    (
        f"{_QCS}.gen-4.2.3.qc_type_mismatch",
        _E,
        "QcType does not match the certificate (esign for natural persons, eseal for "
        "legal persons).",
    ),
    (
        f"{_QCS}.gen-4.2.3.qc_type_multiple",
        _E,
        "QcType lists more than one type (SIZE(1) since the 2023 editions).",
    ),
    (
        f"{_QCS}.qc_type_oid_as_statement_id",
        _E,
        "A QcType value (0.4.0.1862.1.6.x) is used as a statementId.",
    ),
    (
        f"{_QCS}.gen-4.3.3.retention_period_not_positive",
        _E,
        "QcRetentionPeriod is zero or negative.",
    ),
    (f"{_QCS}.gen-4.3.4.qc_pds_absent", _W, "A qualified certificate without QcPDS."),
    (f"{_QCS}.gen-4.3.4.qc_pds_url_not_https", _E, "A PDS URL is not https."),
    (f"{_QCS}.gen-4.3.4.qc_pds_english_absent", _E, "No PDS is in English."),
    (f"{_QCS}.gen-4.3.4.qc_pds_language_case", _W, "A PDS language code is not lower case."),
    # -- AAPP seals
    (
        "aapp.sello.san_dirname_absent",
        _E,
        "An AAPP seal without the SAN directory name of AAPP fields.",
    ),
    (
        "aapp.sello.san_field_missing",
        _E,
        "A mandatory AAPP seal SAN field (.1 type, .2 entity, .3 entity NIF) is missing.",
    ),
    (
        "aapp.sello.san_field_mismatch",
        _E,
        "SAN .2 differs from subject O, or SAN .3 from the subject's entity NIF.",
    ),
    ("aapp.sello.san_system_name_mismatch", _W, "SAN .5 (system name) differs from subject CN."),
    (
        "aapp.sello.san_level_mismatch",
        _E,
        "The SAN fields are under the other level's arc than the AAPP policy.",
    ),
    (
        "aapp.sello.level_mismatch",
        _E,
        "AAPP nivel alto without QSCD (QcSSCD / QCP-l-qscd), or nivel medio with it.",
    ),
    (
        "aapp.sello.entity_not_public_body",
        _E,
        "The entity NIF is a CIF but not of a public body (P, Q, S).",
    ),
    (
        "aapp.sello.custodian_in_subject",
        _N,
        "The custodian's givenName/surname are in the subject (ETSI tools then see a "
        "natural person).",
    ),
    # -- Spain / CABF
    (
        "es.ley6_2020.validity_over_5_years",
        _E,
        "A qualified certificate valid for more than 5 years (Ley 6/2020 art. 4.2).",
    ),
    (
        "es.nif_invalid",
        _E,
        "A Spanish NIF/NIE/CIF in the subject or SAN fails its check character or format.",
    ),
    (
        "cabf.smime.validity_over_825_days",
        _W,
        "emailProtection with a validity over 825 days (CA/B S/MIME BR, if publicly trusted).",
    ),
    # -- profile
    (
        "profile.holder_kind_mismatch",
        _E,
        "The certificate is for the other kind of holder than the profile.",
    ),
    (
        "profile.subject_attribute_missing",
        _E,
        "A subject attribute the profile requires is missing.",
    ),
    ("profile.san_email_missing", _E, "The profile requires an rfc822Name in the SAN."),
    (
        "profile.san_attribute_missing",
        _E,
        "A SAN directory-name attribute the profile requires is missing.",
    ),
    ("profile.key_not_allowed", _E, "The public key is not one the profile allows."),
    ("profile.key_usage_mismatch", _E, "keyUsage differs from the profile's."),
    ("profile.eku_mismatch", _W, "extendedKeyUsage differs from the profile's."),
    ("profile.policy_missing", _E, "A certificate policy of the profile is missing."),
    ("profile.qc_sscd_unexpected", _E, "QcSSCD in a certificate of a non-QSCD profile."),
    ("profile.qc_retention_mismatch", _W, "QcRetentionPeriod differs from the profile's."),
    (
        "profile.validity_exceeds_profile",
        _E,
        "The validity period is longer than the profile allows.",
    ),
)

#: Every finding code, with its fixed severity and meaning.
FINDING_CODES: Mapping[str, FindingCode] = MappingProxyType(
    {code: FindingCode(code, sev, desc) for code, sev, desc in _CODE_TABLE}
)

_QCP_NATURAL = {EtsiPolicyOID.QCP_N, EtsiPolicyOID.QCP_N_QSCD}
_QCP_LEGAL = {EtsiPolicyOID.QCP_L, EtsiPolicyOID.QCP_L_QSCD}
_QCP_QSCD = {EtsiPolicyOID.QCP_N_QSCD, EtsiPolicyOID.QCP_L_QSCD}
_QCP = _QCP_NATURAL | _QCP_LEGAL
_AAPP_SELLO = {AappOID.SELLO_ALTO, AappOID.SELLO_MEDIO}
_KNOWN_CRITICAL = {
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.POLICY_CONSTRAINTS,
    ExtensionOID.INHIBIT_ANY_POLICY,
    ExtensionOID.POLICY_MAPPINGS,
    QExtensionOID.QC_STATEMENTS,
}
_PROHIBITED_IN_LEAF = {
    ExtensionOID.POLICY_MAPPINGS: "policyMappings",
    ExtensionOID.NAME_CONSTRAINTS: "nameConstraints",
    ExtensionOID.POLICY_CONSTRAINTS: "policyConstraints",
    ExtensionOID.INHIBIT_ANY_POLICY: "inhibitAnyPolicy",
}
_WEAK_HASHES = ("md5", "sha1", "md2")
_ETSI_ID = re.compile(r"^[A-Z]{2}[A-Z:][A-Za-z]{2}-.+$")


# --------------------------------------------------------------------------- context


@dataclass
class _Ctx:
    cert: x509.Certificate
    at: datetime
    profile: CertificateProfile | None
    findings: list[Finding] = field(default_factory=list)
    exts: dict[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]] | None = None
    qc: qcs.QCStatements | None = None
    policies: tuple[x509.ObjectIdentifier, ...] = ()
    natural: bool = True

    def add(self, code: str, fld: str, message: str) -> None:
        severity = FINDING_CODES[code].severity
        finding = Finding(code, severity, fld, message)
        if finding not in self.findings:
            self.findings.append(finding)

    def ext(self, oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType] | None:
        return None if self.exts is None else self.exts.get(oid)

    def value(self, cls: type[Any]) -> Any:
        """The value of the extension of cryptography class *cls*, or None."""
        oid = getattr(cls, "oid", None)
        if oid is None:
            return None
        found = self.ext(oid)
        return None if found is None else found.value

    def subject(self, oid: x509.ObjectIdentifier) -> list[str]:
        return _attr_values(self.cert.subject, oid)

    @property
    def qc_statement_oids(self) -> set[str]:
        if self.qc is None:
            return set()
        return {st.oid.dotted_string for st in self.qc.statements}

    def has_statement(self, kind: type[Any], defect: qcs.DefectCode | None = None) -> bool:
        if self.qc is None:
            return False
        if self.qc.has(kind):
            return True
        return defect is not None and bool(self.qc.defects_of(defect))

    @property
    def has_compliance(self) -> bool:
        return self.has_statement(qcs.QcCompliance, qcs.DefectCode.QC_COMPLIANCE_HAS_VALUE)

    @property
    def has_sscd(self) -> bool:
        return self.has_statement(qcs.QcSSCD, qcs.DefectCode.QC_SSCD_HAS_VALUE)

    @property
    def claims_qualified(self) -> bool:
        return (
            self.profile is not None or self.has_compliance or any(p in _QCP for p in self.policies)
        )


def _attr_values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    out: list[str] = []
    for attr in name.get_attributes_for_oid(oid):
        value = attr.value
        out.append(value if isinstance(value, str) else value.decode("latin-1"))
    return out


# --------------------------------------------------------------------------- public API


def lint(
    cert: x509.Certificate | bytes,
    profile: CertificateProfile | str | None = None,
    *,
    at: datetime | None = None,
) -> LintReport:
    """Lint a leaf certificate against *profile* (detected when ``None`` or ``"auto"``).

    *cert* is a cryptography certificate or PEM/DER bytes. Never raises on a
    non-conformant or malformed certificate: undecodable input is a FATAL
    ``der.malformed`` finding. An unknown profile *name* raises
    :class:`~qcertlib.errors.ProfileError` (that is a usage error).
    *at* (aware, default now) is only used for the INFO finding on the validity period.
    """
    chosen: CertificateProfile | None = None
    if isinstance(profile, CertificateProfile):
        chosen = profile
    elif profile is not None and profile != "auto":
        chosen = get_profile(profile)
    if isinstance(cert, bytes | bytearray | memoryview):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cert = load_certificate(bytes(cert))
        except DecodingError as exc:
            name = chosen.name if chosen is not None else None
            return LintReport(
                name, (Finding("der.malformed", Severity.FATAL, "certificate", exc.message),)
            )
    if not isinstance(cert, x509.Certificate):
        raise TypeError("cert must be a cryptography Certificate or PEM/DER bytes")
    when = at if at is not None else datetime.now(UTC)
    if when.tzinfo is None:
        raise ValueError("at must be an aware datetime (UTC)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _lint(cert, chosen, profile is None or profile == "auto", when)


def detect_profile(cert: x509.Certificate) -> CertificateProfile | None:
    """The catalog profile *cert* claims, from its policies, QC statements and subject.

    A profile is a candidate when the certificate carries all its
    ``detect_policies`` (issuer policy OIDs, matched by prefix); among candidates the
    one whose QSCD-ness and holder kind match the certificate wins. ``None`` when no
    catalog profile fits (the linter then reports :data:`GENERIC_PROFILE`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            policies = _policy_oids(cert)
            qc = qcs.QCStatements.from_certificate(cert)
            natural = _is_natural(cert, policies, qc)
        except (ValueError, TypeError, QcertError, x509.DuplicateExtension):
            return None
    qscd = qc is not None and (qc.is_qscd or bool(qc.defects_of(qcs.DefectCode.QC_SSCD_HAS_VALUE)))
    qscd = qscd or any(p in _QCP_QSCD for p in policies)
    best: tuple[int, CertificateProfile] | None = None
    for candidate in PROFILES.values():
        if not candidate.detect_policies:
            continue
        if not all(any(_prefix(d, p) for p in policies) for d in candidate.detect_policies):
            continue
        score = (candidate.qscd == qscd) + (
            (candidate.holder_kind is HolderKind.CITIZEN) == natural
        )
        if best is None or score > best[0]:
            best = (score, candidate)
    return None if best is None else best[1]


def _prefix(wanted: x509.ObjectIdentifier, found: x509.ObjectIdentifier) -> bool:
    return found == wanted or found.dotted_string.startswith(wanted.dotted_string + ".")


def _policy_oids(cert: x509.Certificate) -> tuple[x509.ObjectIdentifier, ...]:
    try:
        cp = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(p.policy_identifier for p in cp)


def _is_natural(
    cert: x509.Certificate,
    policies: Iterable[x509.ObjectIdentifier],
    qc: qcs.QCStatements | None,
) -> bool:
    """Natural or legal person: AAPP seal policy / QcType first, then the subject, then QCP."""
    pols = set(policies)
    types = set(qc.qc_types) if qc is not None else set()
    if pols & _AAPP_SELLO or QcTypeOID.ESEAL in types:
        return False
    if QcTypeOID.ESIGN in types:
        return True
    subj = cert.subject
    if any(
        subj.get_attributes_for_oid(o)
        for o in (NameOID.GIVEN_NAME, NameOID.SURNAME, NameAttributeOID.PSEUDONYM)
    ):
        return True
    if subj.get_attributes_for_oid(NameAttributeOID.ORGANIZATION_IDENTIFIER):
        return False
    return not pols & _QCP_LEGAL


# --------------------------------------------------------------------------- driver


def _lint(
    cert: x509.Certificate, profile: CertificateProfile | None, auto: bool, at: datetime
) -> LintReport:
    if auto:
        profile = detect_profile(cert)
    ctx = _Ctx(cert=cert, at=at, profile=profile)
    checks: tuple[Callable[[_Ctx], None], ...] = (
        _check_decodable,
        _check_basics,
        _load_extensions,
        _check_rfc5280_extensions,
        _check_issuer,
        _check_subject,
        _check_identifiers,
        _check_key_usage,
        _check_policies,
        _check_access,
        _check_qc_statements,
        _check_validity_caps,
        _check_aapp_seal,
        _check_profile,
    )
    for check in checks:
        try:
            check(ctx)
        except Exception as exc:  # a malformed field we could not even read
            ctx.add(
                "der.malformed", check.__name__.removeprefix("_check_"), f"cannot decode: {exc}"
            )
    name = profile.name if profile is not None else GENERIC_PROFILE
    return LintReport(name, tuple(ctx.findings))


def _check_decodable(ctx: _Ctx) -> None:
    """The fields cryptography decodes lazily: a failure is a FATAL der.malformed."""
    cert = ctx.cert
    for what, read in (
        ("tbsCertificate.issuer", lambda: cert.issuer.rfc4514_string()),
        ("tbsCertificate.subject", lambda: cert.subject.rfc4514_string()),
        ("tbsCertificate.validity", lambda: cert.not_valid_after_utc),
        ("subjectPublicKeyInfo", cert.public_key),
        ("signatureAlgorithm", lambda: cert.signature_algorithm_oid),
    ):
        try:
            read()
        except Exception as exc:
            ctx.add("der.malformed", what, f"cannot decode: {exc}")


def _check_basics(ctx: _Ctx) -> None:
    cert = ctx.cert
    try:
        version = cert.version
    except x509.InvalidVersion as exc:
        ctx.add("rfc5280.4.1.2.1.version_not_v3", "tbsCertificate.version", str(exc))
    else:
        if version is not x509.Version.v3:
            ctx.add(
                "rfc5280.4.1.2.1.version_not_v3",
                "tbsCertificate.version",
                f"version is {version.name}, not v3",
            )
    serial = cert.serial_number
    if serial <= 0:
        ctx.add(
            "rfc5280.4.1.2.2.serial_not_positive",
            "tbsCertificate.serialNumber",
            f"serial number {serial} is not positive",
        )
    else:
        octets = serial.bit_length() // 8 + 1
        if octets > 20:
            ctx.add(
                "rfc5280.4.1.2.2.serial_too_long",
                "tbsCertificate.serialNumber",
                f"serial number takes {octets} octets (at most 20)",
            )
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    if nb > na:
        ctx.add(
            "rfc5280.4.1.2.5.validity_inverted",
            "tbsCertificate.validity",
            f"notBefore {nb.isoformat()} is after notAfter {na.isoformat()}",
        )
    elif not nb <= ctx.at <= na:
        ctx.add(
            "rfc5280.4.1.2.5.outside_validity_period",
            "tbsCertificate.validity",
            f"not valid at {ctx.at.isoformat()} (valid {nb.isoformat()} to {na.isoformat()})",
        )
    algo = cert.signature_hash_algorithm
    if algo is not None and algo.name in _WEAK_HASHES:
        ctx.add(
            "etsi.ts_119_312.weak_signature_algorithm",
            "signatureAlgorithm",
            f"signed with {algo.name.upper()}",
        )
    key = cert.public_key()
    weak = None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        weak = f"RSA {key.key_size} bits"
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 256:
        weak = f"EC {key.curve.name}"
    elif is_dsa_public_key(key):
        weak = "DSA"
    if weak:
        ctx.add("etsi.ts_119_312.weak_public_key", "subjectPublicKeyInfo", f"{weak} is too weak")
    if ctx.profile is not None:
        try:
            ctx.profile.check_key(key)
        except WeakKeyError as exc:
            ctx.add("profile.key_not_allowed", "subjectPublicKeyInfo", exc.message)


def _load_extensions(ctx: _Ctx) -> None:
    try:
        exts = ctx.cert.extensions
    except x509.DuplicateExtension as exc:
        ctx.add("rfc5280.4.2.duplicate_extension", f"extensions.{exc.oid.dotted_string}", str(exc))
        ctx.add("der.extensions_malformed", "extensions", "extension checks skipped")
    except ValueError as exc:
        ctx.add("der.extensions_malformed", "extensions", f"{exc}; extension checks skipped")
    else:
        ctx.exts = {e.oid: e for e in exts}
        ctx.policies = _policy_oids(ctx.cert)
    try:
        ctx.qc = qcs.QCStatements.from_certificate(ctx.cert)
    except QcertError as exc:
        ctx.add("der.qc_statements_malformed", "extensions.qcStatements", exc.message)
    ctx.natural = _is_natural(ctx.cert, ctx.policies, ctx.qc)


def _check_rfc5280_extensions(ctx: _Ctx) -> None:
    if ctx.exts is None:
        return
    if ctx.ext(ExtensionOID.AUTHORITY_KEY_IDENTIFIER) is None:
        ctx.add(
            "rfc5280.4.2.1.1.authority_key_identifier_absent",
            "extensions.authorityKeyIdentifier",
            "authorityKeyIdentifier is absent",
        )
    if ctx.ext(ExtensionOID.SUBJECT_KEY_IDENTIFIER) is None:
        ctx.add(
            "rfc5280.4.2.1.2.subject_key_identifier_absent",
            "extensions.subjectKeyIdentifier",
            "subjectKeyIdentifier is absent",
        )
    bc = ctx.value(x509.BasicConstraints)
    if bc is not None and bc.ca:
        ctx.add(
            "rfc5280.4.2.1.9.ca_true_on_end_entity",
            "extensions.basicConstraints",
            "cA is TRUE: this is a CA certificate, not a qualified leaf certificate",
        )
    for oid, ext in ctx.exts.items():
        if ext.critical and oid not in _KNOWN_CRITICAL:
            ctx.add(
                "rfc5280.4.2.unknown_critical_extension",
                f"extensions.{oid.dotted_string}",
                f"critical extension {oid.dotted_string} is not one relying parties process",
            )
        if oid in _PROHIBITED_IN_LEAF:
            ctx.add(
                f"{_NAT}.gen-4.3.1.prohibited_extension_present",
                f"extensions.{_PROHIBITED_IN_LEAF[oid]}",
                f"{_PROHIBITED_IN_LEAF[oid]} must not appear in an end-entity certificate",
            )
    for oid, code, what in (
        (
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
            f"{_NAT}.gen-4.3.5-1.san_critical",
            "subjectAltName",
        ),
        (ExtensionOID.EXTENDED_KEY_USAGE, f"{_NAT}.gen-4.3.10-1.eku_critical", "extendedKeyUsage"),
        (
            ExtensionOID.CRL_DISTRIBUTION_POINTS,
            f"{_NAT}.gen-4.3.11-5.crldp_critical",
            "cRLDistributionPoints",
        ),
        (QExtensionOID.QC_STATEMENTS, f"{_QCS}.qcs-4.1-02.qc_statements_critical", "qcStatements"),
        (
            ExtensionOID.CERTIFICATE_POLICIES,
            f"{_NAT}.gen-4.3.3-1.certificate_policies_critical",
            "certificatePolicies",
        ),
    ):
        found = ctx.ext(oid)
        if found is not None and found.critical:
            ctx.add(code, f"extensions.{what}", f"{what} must not be critical")


# --------------------------------------------------------------------------- subject


def _check_issuer(ctx: _Ctx) -> None:
    issuer = ctx.cert.issuer
    for what, oid in (
        ("countryName", NameOID.COUNTRY_NAME),
        ("organizationName", NameOID.ORGANIZATION_NAME),
        ("commonName", NameOID.COMMON_NAME),
    ):
        if not issuer.get_attributes_for_oid(oid):
            ctx.add(
                f"{_NAT}.gen-4.2.3.1-2.issuer_attribute_missing",
                f"issuer.{what}",
                f"the issuer (the CA) must have {what}",
            )
    org = _attr_values(issuer, NameOID.ORGANIZATION_NAME)
    org_id = _attr_values(issuer, NameAttributeOID.ORGANIZATION_IDENTIFIER)
    if org and org_id and org[0] == org_id[0]:
        ctx.add(
            f"{_NAT}.gen-4.2.3.1-3.issuer_organization_identifier_equals_name",
            "issuer.organizationIdentifier",
            "the issuer's organizationIdentifier equals its organizationName",
        )


def _check_subject(ctx: _Ctx) -> None:
    s = ctx.subject
    if ctx.natural:
        missing = [
            n
            for n, o in (("countryName", NameOID.COUNTRY_NAME), ("commonName", NameOID.COMMON_NAME))
            if not s(o)
        ]
        has_names = bool(s(NameOID.GIVEN_NAME) or s(NameOID.SURNAME))
        has_pseudonym = bool(s(NameAttributeOID.PSEUDONYM))
        if not (has_names or has_pseudonym):
            missing.append("givenName/surname or pseudonym")
        for what in missing:
            ctx.add(
                f"{_NAT}.nat-4.2.4-1.required_attribute_missing",
                f"subject.{what}",
                f"{what} is required for a natural person",
            )
        for what, oid in (
            ("countryName", NameOID.COUNTRY_NAME),
            ("commonName", NameOID.COMMON_NAME),
            ("serialNumber", NameOID.SERIAL_NUMBER),
        ):
            if len(s(oid)) > 1:
                ctx.add(
                    f"{_NAT}.nat-4.2.4-3.prohibited_duplicate_attribute_present",
                    f"subject.{what}",
                    f"{what} appears {len(s(oid))} times",
                )
        if has_names and has_pseudonym:
            ctx.add(
                f"{_NAT}.nat-4.2.4-4.mixed_pseudonym_and_name_attributes_present",
                "subject.pseudonym",
                "pseudonym must not be combined with givenName/surname",
            )
    else:
        required = (
            ("countryName", NameOID.COUNTRY_NAME),
            ("organizationName", NameOID.ORGANIZATION_NAME),
            ("organizationIdentifier", NameAttributeOID.ORGANIZATION_IDENTIFIER),
            ("commonName", NameOID.COMMON_NAME),
        )
        for what, oid in required:
            values = s(oid)
            if not values:
                ctx.add(
                    f"{_LEG}.leg-4.2.1-2.required_attribute_missing",
                    f"subject.{what}",
                    f"{what} is required for a legal person",
                )
            elif len(values) > 1:
                ctx.add(
                    f"{_LEG}.leg-4.2.1-3.prohibited_duplicate_attribute_present",
                    f"subject.{what}",
                    f"{what} appears {len(values)} times",
                )
        org, org_id = s(NameOID.ORGANIZATION_NAME), s(NameAttributeOID.ORGANIZATION_IDENTIFIER)
        if org and org_id and org[0] == org_id[0]:
            ctx.add(
                f"{_LEG}.leg-4.2.1-6.organization_identifier_equals_name",
                "subject.organizationIdentifier",
                "organizationIdentifier equals organizationName",
            )


def _check_identifiers(ctx: _Ctx) -> None:
    semantics = ctx.qc.semantics_identifier if ctx.qc is not None else None
    serials = ctx.subject(NameOID.SERIAL_NUMBER)
    org_ids = ctx.subject(NameAttributeOID.ORGANIZATION_IDENTIFIER)
    serial = serials[0] if serials else None
    org_id = org_ids[0] if org_ids else None
    natural_sem = {SemanticsOID.NATURAL, SemanticsOID.EIDAS_NATURAL}
    legal_sem = {SemanticsOID.LEGAL, SemanticsOID.EIDAS_LEGAL}
    if (semantics in natural_sem and not ctx.natural) or (semantics in legal_sem and ctx.natural):
        ctx.add(
            f"{_ID}.semantics_identifier_mismatch",
            "extensions.qcStatements.pkixQCSyntax-v2",
            f"semantics identifier {semantics.dotted_string if semantics else ''} does not fit "
            f"a {_person(ctx.natural)} person",
        )
    if semantics == SemanticsOID.NATURAL:
        try:
            if serial is None:
                raise IdentifierError("serialNumber is absent")
            parsed = parse_etsi_identifier(serial, legal=False)
            if parsed.deprecated:
                ctx.add(
                    f"{_ID}.nat-5.1.3.deprecated_identifier_scheme",
                    "subject.serialNumber",
                    f"{serial}: the TAX scheme is deprecated; use TIN",
                )
        except IdentifierError as exc:
            ctx.add(
                f"{_ID}.nat-5.1.3.identifier_syntax_invalid", "subject.serialNumber", exc.message
            )
    if semantics == SemanticsOID.LEGAL:
        try:
            if org_id is None:
                raise IdentifierError("organizationIdentifier is absent")
            parse_etsi_identifier(org_id, legal=True)
        except IdentifierError as exc:
            ctx.add(
                f"{_ID}.leg-5.1.4.identifier_syntax_invalid",
                "subject.organizationIdentifier",
                exc.message,
            )
    if semantics is None:
        for what, value in (("serialNumber", serial), ("organizationIdentifier", org_id)):
            if value is not None and _ETSI_ID.match(value):
                ctx.add(
                    f"{_ID}.semantics_identifier_absent",
                    f"subject.{what}",
                    f"{value} uses ETSI identifier syntax but no semantics identifier announces "
                    "it (pkixQCSyntax-v2)",
                )
    # Spanish identifiers: check characters, wherever they are.
    for what, value in (("serialNumber", serial), ("organizationIdentifier", org_id)):
        if value is None:
            continue
        ref = value
        if _ETSI_ID.match(value):
            if value[3:5] != "ES" or value[:3] not in ("IDC", "TIN", "TAX", "VAT"):
                continue
            ref = value[6:]
        elif what == "organizationIdentifier" or not _looks_spanish_id(value):
            continue
        try:
            parse_spanish_id(ref, allow_klm=True)
        except IdentifierError as exc:
            ctx.add("es.nif_invalid", f"subject.{what}", exc.message)


def _looks_spanish_id(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9A-Z]\d{6,8}[0-9A-Z]?", value.strip().upper()))


# --------------------------------------------------------------------------- extensions


def _check_key_usage(ctx: _Ctx) -> None:
    if ctx.exts is None:
        return
    ext = ctx.ext(ExtensionOID.KEY_USAGE)
    if ext is None:
        ctx.add(f"{_NAT}.nat-4.3.2-1.key_usage_absent", "extensions.keyUsage", "keyUsage is absent")
        return
    assert isinstance(ext.value, x509.KeyUsage)
    if not ext.critical:
        ctx.add(
            "rfc5280.4.2.1.3.key_usage_not_critical",
            "extensions.keyUsage",
            "keyUsage should be critical",
        )
    bits = key_usage_bits(ext.value)
    names = ", ".join(sorted(b.value for b in bits)) or "none"
    kind = EtsiKeyUsageType.classify(bits)
    if kind is None:
        ctx.add(
            f"{_NAT}.nat-4.3.2-1.unknown_key_usage_setting",
            "extensions.keyUsage",
            f"{names} is none of the ETSI types A-F",
        )
    else:
        if kind.mixed:
            ctx.add(
                f"{_NAT}.nat-4.3.2-1.mixed_key_usage_setting",
                "extensions.keyUsage",
                f"type {kind.value} ({names}) is mixed usage; A, C or E should be used",
            )
        if ctx.claims_qualified and not kind.content_commitment:
            ctx.add(
                f"{_NAT}.nat-4.3.2-2.content_commitment_not_set",
                "extensions.keyUsage",
                f"type {kind.value} ({names}) is not for content commitment (A, B or F)",
            )
    if ctx.profile is not None and bits != ctx.profile.key_usage.bits_for(ctx.cert.public_key()):
        want = ", ".join(sorted(b.value for b in ctx.profile.key_usage.bits))
        ctx.add(
            "profile.key_usage_mismatch",
            "extensions.keyUsage",
            f"{names}; profile {ctx.profile.name} has {want}",
        )


def _check_policies(ctx: _Ctx) -> None:
    if ctx.exts is None:
        return
    if ctx.ext(ExtensionOID.CERTIFICATE_POLICIES) is None:
        ctx.add(
            f"{_NAT}.gen-4.3.3-2.certificate_policies_absent",
            "extensions.certificatePolicies",
            "certificatePolicies is absent",
        )
    qcps = [p for p in ctx.policies if p in _QCP]
    if ctx.claims_qualified and not qcps:
        ctx.add(
            f"{_NAT}.qcs-5.2-1.qcp_policy_missing",
            "extensions.certificatePolicies",
            "no EN 319 411-2 QCP policy (QCP-n, QCP-l, QCP-n-qscd, QCP-l-qscd)",
        )
    if len(qcps) > 1:
        ctx.add(
            f"{_NAT}.qcs-5.2-1.multiple_qcp_policies",
            "extensions.certificatePolicies",
            f"{len(qcps)} QCP policies",
        )
    for p in qcps:
        if (p in _QCP_NATURAL) != ctx.natural:
            ctx.add(
                f"{_NAT}.qcs-5.2-2.mismatched_policy_identifier",
                "extensions.certificatePolicies",
                f"{name_of(p)} is for {_person(p in _QCP_NATURAL)} persons, the certificate "
                f"is for a {_person(ctx.natural)} person",
            )
        if ctx.has_sscd and p not in _QCP_QSCD and not any(q in _QCP_QSCD for q in qcps):
            ctx.add(
                f"{_NAT}.qcs-5.2-2.mismatched_policy_identifier",
                "extensions.certificatePolicies",
                f"QcSSCD is present but the policy is {name_of(p)}, not a -qscd policy",
            )


def _check_access(ctx: _Ctx) -> None:
    if ctx.exts is None:
        return
    aia = ctx.value(x509.AuthorityInformationAccess)
    has_ocsp = False
    if aia is None:
        ctx.add(
            f"{_NAT}.gen-4.4.1-2.authority_info_access_absent",
            "extensions.authorityInfoAccess",
            "authorityInfoAccess is absent",
        )
    else:
        issuers = [d for d in aia if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS]
        has_ocsp = any(d.access_method == AuthorityInformationAccessOID.OCSP for d in aia)
        if not issuers:
            ctx.add(
                f"{_NAT}.gen-4.4.1-3.ca_issuers_absent",
                "extensions.authorityInfoAccess",
                "no id-ad-caIssuers access description",
            )
        elif not any(
            isinstance(d.access_location, x509.UniformResourceIdentifier)
            and d.access_location.value.lower().startswith(("http://", "https://"))
            for d in issuers
        ):
            ctx.add(
                f"{_NAT}.gen-4.4.1-4.ca_issuers_not_http",
                "extensions.authorityInfoAccess",
                "no caIssuers location is an http(s) URI",
            )
    crldp = ctx.value(x509.CRLDistributionPoints)
    if crldp is None and not has_ocsp:
        ctx.add(
            f"{_NAT}.gen-4.3.11-2.revocation_pointer_absent",
            "extensions.cRLDistributionPoints",
            "neither OCSP nor a CRL distribution point",
        )
    if crldp is not None:
        for i, dp in enumerate(crldp):
            uris = [
                n.value
                for n in (dp.full_name or [])
                if isinstance(n, x509.UniformResourceIdentifier)
            ]
            if not any(u.lower().startswith(("http://", "https://", "ldap://")) for u in uris):
                ctx.add(
                    f"{_NAT}.gen-4.3.11-4.crldp_uri_not_http_or_ldap",
                    f"extensions.cRLDistributionPoints.{i}",
                    "distribution point without an http or ldap URI",
                )


# --------------------------------------------------------------------------- QC statements

_DEFECT_CODES: dict[qcs.DefectCode, str] = {
    qcs.DefectCode.PKIX_QC_SYNTAX_V1: "rfc3739.pkix_qc_syntax_v1_present",
    qcs.DefectCode.QC_SSCD_HAS_VALUE: "der.qc_sscd_statement_info_present",
    qcs.DefectCode.QC_COMPLIANCE_HAS_VALUE: "der.qc_compliance_statement_info_present",
    qcs.DefectCode.QC_TYPE_OID_AS_STATEMENT: f"{_QCS}.qc_type_oid_as_statement_id",
    qcs.DefectCode.MALFORMED_STATEMENT_INFO: "der.qc_statement_info_malformed",
    qcs.DefectCode.DUPLICATE_STATEMENT: f"{_QCS}.qcs-4.1-02a.duplicate_statement",
    qcs.DefectCode.MALFORMED_EXTENSION: "der.qc_statements_malformed",
    qcs.DefectCode.DUPLICATE_EXTENSION: f"{_QCS}.qcs-4.1-02a.duplicate_statement",
}


def _retention_not_positive(qc: qcs.QCStatements) -> int | None:
    for st in qc.statements:
        if (
            isinstance(st, qcs.UnknownStatement)
            and st.oid == QcStatementOID.QC_RETENTION_PERIOD
            and st.info_der
            and st.info_der[0] == 0x02
            and len(st.info_der) >= 3
        ):
            value = int.from_bytes(st.info_der[2:], "big", signed=True)
            if value <= 0:
                return value
    return None


def _check_qc_statements(ctx: _Ctx) -> None:
    qc = ctx.qc
    fld = "extensions.qcStatements"
    if qc is None:
        if ctx.claims_qualified:
            ctx.add(
                f"{_QCS}.qcs-5.01.qc_statements_absent",
                fld,
                "the certificate claims a QCP policy but has no qcStatements",
            )
        return
    retention_bad = _retention_not_positive(qc)
    for defect in qc.defects:
        code = _DEFECT_CODES[defect.code]
        where = fld
        if defect.statement_oid is not None:
            where = f"{fld}.{name_of(defect.statement_oid)}"
        if (
            retention_bad is not None
            and defect.code is qcs.DefectCode.MALFORMED_STATEMENT_INFO
            and defect.statement_oid == QcStatementOID.QC_RETENTION_PERIOD
        ):
            ctx.add(
                f"{_QCS}.gen-4.3.3.retention_period_not_positive",
                where,
                f"QcRetentionPeriod is {retention_bad}",
            )
            continue
        ctx.add(code, where, defect.message)
    if not ctx.claims_qualified:
        return
    if not ctx.has_compliance:
        ctx.add(
            f"{_QCS}.qcs-5.01.qc_compliance_absent", f"{fld}.QcCompliance", "QcCompliance is absent"
        )
    wants_sscd = any(p in _QCP_QSCD for p in ctx.policies) or (
        ctx.profile is not None and ctx.profile.qscd
    )
    if wants_sscd and not ctx.has_sscd:
        ctx.add(
            f"{_QCS}.qcs-5.01.qc_sscd_absent",
            f"{fld}.QcSSCD",
            "the policy/profile is for a QSCD but QcSSCD is absent",
        )
    if ctx.profile is not None and not ctx.profile.qscd and ctx.has_sscd:
        ctx.add(
            "profile.qc_sscd_unexpected",
            f"{fld}.QcSSCD",
            f"profile {ctx.profile.name} is not for a QSCD",
        )
    if qc.has(qcs.QcCClegislation):
        ctx.add(
            f"{_QCS}.qcs-5.01.qc_cc_legislation_present",
            f"{fld}.QcCClegislation",
            "QcCClegislation is only for non-EU qualified certificates",
        )
    types = qc.qc_types
    if not qc.has(qcs.QcType):
        ctx.add(f"{_QCS}.gen-4.2.3.qc_type_absent", f"{fld}.QcType", "QcType is absent")
    else:
        if len(types) > 1:
            ctx.add(
                f"{_QCS}.gen-4.2.3.qc_type_multiple",
                f"{fld}.QcType",
                f"{len(types)} types; exactly one is allowed",
            )
        expected = QcTypeOID.ESIGN if ctx.natural else QcTypeOID.ESEAL
        if ctx.profile is not None:
            expected = ctx.profile.qc.qc_type
        if expected not in types:
            found = ", ".join(name_of(t) for t in types)
            ctx.add(
                f"{_QCS}.gen-4.2.3.qc_type_mismatch",
                f"{fld}.QcType",
                f"{found}; expected {name_of(expected)}",
            )
    pds = qc.pds_locations
    if not qc.has(qcs.QcPDS):
        ctx.add(f"{_QCS}.gen-4.3.4.qc_pds_absent", f"{fld}.QcPDS", "QcPDS is absent")
    else:
        for loc in pds:
            if not loc.url.lower().startswith("https://"):
                ctx.add(
                    f"{_QCS}.gen-4.3.4.qc_pds_url_not_https",
                    f"{fld}.QcPDS",
                    f"{loc.url} is not https",
                )
            if loc.language != loc.language.lower():
                ctx.add(
                    f"{_QCS}.gen-4.3.4.qc_pds_language_case",
                    f"{fld}.QcPDS",
                    f"language {loc.language!r} should be lower case",
                )
        if not any(loc.language.lower() == "en" for loc in pds):
            ctx.add(f"{_QCS}.gen-4.3.4.qc_pds_english_absent", f"{fld}.QcPDS", "no PDS in English")
    if ctx.profile is not None and qc.retention_years != ctx.profile.qc.retention_years:
        ctx.add(
            "profile.qc_retention_mismatch",
            f"{fld}.QcRetentionPeriod",
            f"{qc.retention_years}; profile has {ctx.profile.qc.retention_years}",
        )


# --------------------------------------------------------------------------- validity


def _check_validity_caps(ctx: _Ctx) -> None:
    nb, na = ctx.cert.not_valid_before_utc, ctx.cert.not_valid_after_utc
    length = na - nb
    legal_max = ValidityRule.months_to_timedelta(MAX_LEGAL_VALIDITY_MONTHS) + timedelta(days=1)
    if ctx.claims_qualified and length > legal_max:
        ctx.add(
            "es.ley6_2020.validity_over_5_years",
            "tbsCertificate.validity",
            f"valid {length.days} days",
        )
    eku = ctx.value(x509.ExtendedKeyUsage)
    if eku is not None and EkuOID.EMAIL_PROTECTION in list(eku) and length > timedelta(days=825):
        ctx.add(
            "cabf.smime.validity_over_825_days",
            "tbsCertificate.validity",
            f"emailProtection and {length.days} days (S/MIME BR cap: 825)",
        )
    if ctx.profile is not None:
        allowed = ctx.profile.validity.max_duration + timedelta(days=1)
        if length > allowed:
            months = "/".join(str(m) for m in ctx.profile.validity.allowed_months)
            ctx.add(
                "profile.validity_exceeds_profile",
                "tbsCertificate.validity",
                f"valid {length.days} days; profile {ctx.profile.name} allows {months} months",
            )


# --------------------------------------------------------------------------- AAPP seals


def _san(ctx: _Ctx) -> x509.SubjectAlternativeName | None:
    value = ctx.value(x509.SubjectAlternativeName)
    return value if isinstance(value, x509.SubjectAlternativeName) else None


def aapp_sello_fields(
    san: x509.SubjectAlternativeName | None,
) -> tuple[x509.ObjectIdentifier | None, dict[int, str]]:
    """The AAPP seal SAN fields ``{n: value}`` and the arc they are under (6.1 / 6.2)."""
    if san is None:
        return None, {}
    for dn in san.get_values_for_type(x509.DirectoryName):
        for base in (AappOID.SELLO_ALTO, AappOID.SELLO_MEDIO, AappOID.LEGACY_SELLO):
            prefix = base.dotted_string + "."
            found: dict[int, str] = {}
            for attr in dn:
                dotted = attr.oid.dotted_string
                if dotted.startswith(prefix) and dotted[len(prefix) :].isdigit():
                    value = attr.value
                    found[int(dotted[len(prefix) :])] = (
                        value if isinstance(value, str) else value.decode("latin-1")
                    )
            if found:
                return base, found
    return None, {}


def _check_aapp_seal(ctx: _Ctx) -> None:
    level = next((p for p in ctx.policies if p in _AAPP_SELLO), None)
    if level is None and ctx.profile is not None:
        level = ctx.profile.aapp_sello_base
    if level is None or ctx.exts is None:
        return
    alto = level == AappOID.SELLO_ALTO
    qscd = ctx.has_sscd or any(p in _QCP_QSCD for p in ctx.policies)
    if alto != qscd:
        ctx.add(
            "aapp.sello.level_mismatch",
            "extensions.certificatePolicies",
            f"AAPP nivel {'alto' if alto else 'medio'} but the certificate "
            f"{'does not claim' if alto else 'claims'} a QSCD",
        )
    if ctx.subject(NameOID.GIVEN_NAME) or ctx.subject(NameOID.SURNAME):
        ctx.add(
            "aapp.sello.custodian_in_subject",
            "subject",
            "givenName/surname of the custodian in the subject: ETSI tools will take the "
            "seal for a natural-person certificate",
        )
    base, fields = aapp_sello_fields(_san(ctx))
    fld = "extensions.subjectAltName.directoryName"
    if base is None:
        ctx.add(
            "aapp.sello.san_dirname_absent",
            fld,
            f"no directory name with fields {level.dotted_string}.1-9",
        )
        return
    if base != level and base != AappOID.LEGACY_SELLO:
        ctx.add(
            "aapp.sello.san_level_mismatch",
            fld,
            f"fields under {base.dotted_string}, policy {level.dotted_string}",
        )
    for n in (1, 2, 3):
        if not fields.get(n):
            ctx.add(
                "aapp.sello.san_field_missing",
                f"{fld}.{n}",
                f"{AappOID.SELLO_FIELDS[n]} ({base.dotted_string}.{n}) is missing",
            )
    org = ctx.subject(NameOID.ORGANIZATION_NAME)
    if fields.get(2) and org and fields[2].strip() != org[0].strip():
        ctx.add(
            "aapp.sello.san_field_mismatch",
            f"{fld}.2",
            f"{fields[2]!r} differs from subject O {org[0]!r}",
        )
    nif = _entity_nif(ctx.cert)
    if fields.get(3) and nif and fields[3].strip().upper() != nif.upper():
        ctx.add(
            "aapp.sello.san_field_mismatch",
            f"{fld}.3",
            f"{fields[3]!r} differs from the subject's entity NIF {nif!r}",
        )
    cn = ctx.subject(NameOID.COMMON_NAME)
    if fields.get(5) and cn and fields[5].strip() != cn[0].strip():
        ctx.add(
            "aapp.sello.san_system_name_mismatch",
            f"{fld}.5",
            f"{fields[5]!r} differs from subject CN {cn[0]!r}",
        )
    entity = nif or fields.get(3)
    if entity:
        try:
            parsed = parse_spanish_id(entity)
        except IdentifierError as exc:
            ctx.add("es.nif_invalid", f"{fld}.3", exc.message)
        else:
            if not parsed.is_public_body:
                ctx.add(
                    "aapp.sello.entity_not_public_body",
                    f"{fld}.3",
                    f"{entity} is not the CIF of a public body (P, Q or S)",
                )


def _entity_nif(cert: x509.Certificate) -> str | None:
    """The entity's NIF: subject serialNumber (plain or VATES-), else organizationIdentifier."""
    for oid in (NameOID.SERIAL_NUMBER, NameAttributeOID.ORGANIZATION_IDENTIFIER):
        values = _attr_values(cert.subject, oid)
        if values:
            value = values[0].strip()
            if _ETSI_ID.match(value):
                return value[6:] if value[3:5] == "ES" else None
            return value
    return None


# --------------------------------------------------------------------------- profile


def _check_profile(ctx: _Ctx) -> None:
    p = ctx.profile
    if p is None or ctx.exts is None:
        return
    want_natural = p.holder_kind is HolderKind.CITIZEN
    if want_natural != ctx.natural:
        ctx.add(
            "profile.holder_kind_mismatch",
            "subject",
            f"profile {p.name} is for a {'citizen' if want_natural else 'public body'}; "
            f"the certificate is for a {_person(ctx.natural)} person",
        )
    for rule in p.subject:
        if rule.required and not ctx.subject(rule.oid):
            ctx.add(
                "profile.subject_attribute_missing",
                f"subject.{name_of(rule.oid)}",
                f"profile {p.name} requires {name_of(rule.oid)}",
            )
    san = _san(ctx)
    if p.san.email_required and (san is None or not san.get_values_for_type(x509.RFC822Name)):
        ctx.add(
            "profile.san_email_missing",
            "extensions.subjectAltName",
            f"profile {p.name} requires an e-mail address in the SAN",
        )
    present: set[x509.ObjectIdentifier] = set()
    if san is not None:
        for dn in san.get_values_for_type(x509.DirectoryName):
            present.update(a.oid for a in dn)
    for rule in p.san.directory_name:
        if rule.required and rule.oid not in present and not (p.aapp_sello_base is not None):
            ctx.add(
                "profile.san_attribute_missing",
                f"extensions.subjectAltName.{name_of(rule.oid)}",
                f"profile {p.name} requires {name_of(rule.oid)} in a SAN directory name",
            )
    eku = ctx.value(x509.ExtendedKeyUsage)
    found = set(eku) if eku is not None else set()
    wanted = set(p.eku.usages) if p.eku is not None else set()
    if found != wanted:
        ctx.add(
            "profile.eku_mismatch",
            "extensions.extendedKeyUsage",
            f"{_names(found)}; profile {p.name} has {_names(wanted)}",
        )
    for prule in p.policies:
        if not any(prule.matches(o) for o in ctx.policies):
            ctx.add(
                "profile.policy_missing",
                "extensions.certificatePolicies",
                f"profile {p.name} requires {name_of(prule.oid)}",
            )


def _person(natural: bool) -> str:
    return "natural" if natural else "legal"


def _names(oids: Iterable[x509.ObjectIdentifier]) -> str:
    return ", ".join(sorted(name_of(o) for o in oids)) or "none"
