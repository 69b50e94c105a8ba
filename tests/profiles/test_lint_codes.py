"""Every finding code: one certificate that triggers it and one that does not.

Each case builds a certificate from a catalog profile (``certgen.issue``) and
changes one thing. The "clean" certificate is the untouched certificate of the same
profile unless the case names another one. ``test_every_code_has_a_case`` keeps
this table and :data:`FINDING_CODES` in step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from qcertlib.oids import (
    AappOID,
    AccvPolicyOID,
    EkuOID,
    EtsiPolicyOID,
    FnmtOID,
    NameAttributeOID,
    QcStatementOID,
    QcTypeOID,
    SemanticsOID,
)
from qcertlib.oids import ExtensionOID as QExt
from qcertlib.profiles import FINDING_CODES, LintReport, Severity, get_profile, lint

from .certgen import (
    NOW,
    Tweak,
    citizen,
    edit_statements,
    issue,
    leaf_key,
    oid,
    profile_statements,
    public_body,
    qc_extension,
    resign,
    statement,
    tlv,
)

Cert = bytes | x509.Certificate


@dataclass(frozen=True)
class Case:
    code: str
    profile: str
    make: Callable[[], Cert]
    clean: Callable[[], Cert] | None = None
    lint_profile: str | None = "same"
    at: dt.datetime = NOW


def _ku(**bits: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: bits.get(n, False) for n in names})


_F = {"digital_signature": True, "content_commitment": True, "key_encipherment": True}
_CIT = "citizen"
_SEAL = "eorgan-seal"


def _subject(
    profile: str,
    *,
    drop: tuple[x509.ObjectIdentifier, ...] = (),
    add: Sequence[tuple[x509.ObjectIdentifier, str]] = (),
    change: Mapping[x509.ObjectIdentifier, str] | None = None,
) -> x509.Name:
    prof = get_profile(profile)
    holder = citizen() if profile.startswith("citizen") else public_body()
    attrs = [a for a in prof.subject_for(holder) if a.oid not in drop]
    if change:
        attrs = [x509.NameAttribute(a.oid, change.get(a.oid, str(a.value))) for a in attrs]
    attrs.extend(x509.NameAttribute(o, v) for o, v in add)
    return x509.Name(attrs)


def _with(profile: str, **kw: Any) -> Callable[[], Cert]:
    return lambda: issue(profile, **kw)


def _rep(profile: str, ext_oid: x509.ObjectIdentifier, value: Tweak) -> Callable[[], Cert]:
    return lambda: issue(profile, replace={ext_oid: value})


def _qc(profile: str, *, drop: Sequence[str] = (), add: Sequence[bytes] = ()) -> Callable[[], Cert]:
    return lambda: issue(
        profile,
        replace={QExt.QC_STATEMENTS: edit_statements(profile, drop=drop, add=add)},
    )


def _resign(profile: str, mutate: Callable[[ax509.TbsCertificate], None]) -> Callable[[], Cert]:
    return lambda: resign(issue(profile), mutate)


def _set_version(tbs: ax509.TbsCertificate) -> None:
    tbs["version"] = "v1"


def _negative_serial(tbs: ax509.TbsCertificate) -> None:
    tbs["serial_number"] = -5


def _long_serial(tbs: ax509.TbsCertificate) -> None:
    tbs["serial_number"] = 2**170


def _inverted(tbs: ax509.TbsCertificate) -> None:
    tbs["validity"] = ax509.Validity(
        {
            "not_before": ax509.Time({"utc_time": NOW}),
            "not_after": ax509.Time({"utc_time": NOW - dt.timedelta(days=10)}),
        }
    )


def _duplicate_ski(tbs: ax509.TbsCertificate) -> None:
    exts = list(tbs["extensions"])
    ski = next(e for e in exts if e["extn_id"].dotted == "2.5.29.14")
    exts.append(ax509.Extension.load(ski.dump()))
    tbs["extensions"] = ax509.Extensions(exts)


def _aia(*descriptions: x509.AccessDescription) -> tuple[x509.ExtensionType, bool]:
    return (x509.AuthorityInformationAccess(list(descriptions)), False)


_CA_ISSUERS = x509.AccessDescription(
    AuthorityInformationAccessOID.CA_ISSUERS,
    x509.UniformResourceIdentifier("http://a.example.com/ca.crt"),
)
_OCSP = x509.AccessDescription(
    AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://a.example.com/ocsp")
)


def _cp(*oids: x509.ObjectIdentifier, critical: bool = False) -> tuple[x509.ExtensionType, bool]:
    return (x509.CertificatePolicies([x509.PolicyInformation(o, None) for o in oids]), critical)


def _san(*names: x509.GeneralName, critical: bool = False) -> tuple[x509.ExtensionType, bool]:
    return (x509.SubjectAlternativeName(list(names)), critical)


def _seal_san(**fields: str) -> tuple[x509.ExtensionType, bool]:
    base = AappOID.SELLO_MEDIO
    values = {
        "1": "SELLO ELECTRONICO DE NIVEL MEDIO",
        "2": "CONSELL INSULAR DE MENORCA",
        "3": "S0733002J",
        "5": "REGISTRE ELECTRÒNIC",
    }
    values.update(fields)
    if "base" in values:
        base = x509.ObjectIdentifier(values.pop("base"))
    attrs = [
        x509.NameAttribute(AappOID.sello_field(base, int(n)), v) for n, v in values.items() if v
    ]
    return _san(x509.RFC822Name("registre@example.org"), x509.DirectoryName(x509.Name(attrs)))


def _pds(*entries: tuple[str, str]) -> bytes:
    locs = b"".join(
        tlv(0x30, tlv(0x16, u.encode()) + tlv(0x13, lang.encode())) for u, lang in entries
    )
    return statement(QcStatementOID.QC_PDS.dotted_string, tlv(0x30, locs))


def _qc_type(*types: x509.ObjectIdentifier) -> bytes:
    return statement(
        QcStatementOID.QC_TYPE.dotted_string,
        tlv(0x30, b"".join(oid(t.dotted_string) for t in types)),
    )


def _semantics(sem: x509.ObjectIdentifier) -> bytes:
    return statement(
        QcStatementOID.PKIX_QC_SYNTAX_V2.dotted_string, tlv(0x30, oid(sem.dotted_string))
    )


_Q = QcStatementOID
_PDS_DROP = (_Q.QC_PDS.dotted_string,)
_TYPE_DROP = (_Q.QC_TYPE.dotted_string,)
_SEM_DROP = (_Q.PKIX_QC_SYNTAX_V2.dotted_string,)

CASES: tuple[Case, ...] = (
    # ---- DER
    Case("der.malformed", _CIT, lambda: b"\x30\x03\x02\x01\x01"),
    Case(
        "der.extensions_malformed",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.KEY_USAGE,
            (x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x05\x00"), True),
        ),
    ),
    Case(
        "der.qc_statements_malformed",
        _CIT,
        _rep(
            _CIT,
            QExt.QC_STATEMENTS,
            (x509.UnrecognizedExtension(QExt.QC_STATEMENTS, b"\x04\x00"), False),
        ),
    ),
    Case(
        "der.qc_statement_info_malformed",
        _CIT,
        _qc(
            _CIT,
            drop=_PDS_DROP,
            add=[
                statement(_Q.QC_PDS.dotted_string, b"\x02\x01\x05"),
                _pds(("https://x.example.com/pds", "en")),
            ],
        ),
    ),
    Case(
        "der.qc_sscd_statement_info_present",
        "citizen-qscd",
        _qc(
            "citizen-qscd",
            drop=(_Q.QC_SSCD.dotted_string,),
            add=[statement(_Q.QC_SSCD.dotted_string, tlv(0x0C, b"QcSSCD"))],
        ),
    ),
    Case(
        "der.qc_compliance_statement_info_present",
        _CIT,
        _qc(
            _CIT,
            drop=(_Q.QC_COMPLIANCE.dotted_string,),
            add=[statement(_Q.QC_COMPLIANCE.dotted_string, b"\x05\x00")],
        ),
    ),
    # ---- RFC 5280 / 3739
    Case("rfc5280.4.1.2.1.version_not_v3", _CIT, _resign(_CIT, _set_version)),
    Case("rfc5280.4.1.2.2.serial_not_positive", _CIT, _resign(_CIT, _negative_serial)),
    Case("rfc5280.4.1.2.2.serial_too_long", _CIT, _resign(_CIT, _long_serial)),
    Case("rfc5280.4.1.2.5.validity_inverted", _CIT, _resign(_CIT, _inverted)),
    Case(
        "rfc5280.4.1.2.5.outside_validity_period",
        _CIT,
        _with(_CIT, not_before=NOW - dt.timedelta(days=2000)),
    ),
    Case("rfc5280.4.2.duplicate_extension", _CIT, _resign(_CIT, _duplicate_ski)),
    Case(
        "rfc5280.4.2.unknown_critical_extension",
        _CIT,
        _with(
            _CIT,
            add=[(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), True)],
        ),
    ),
    Case(
        "rfc5280.4.2.1.1.authority_key_identifier_absent",
        _CIT,
        _rep(_CIT, ExtensionOID.AUTHORITY_KEY_IDENTIFIER, None),
    ),
    Case(
        "rfc5280.4.2.1.2.subject_key_identifier_absent",
        _CIT,
        _rep(_CIT, ExtensionOID.SUBJECT_KEY_IDENTIFIER, None),
    ),
    Case(
        "rfc5280.4.2.1.3.key_usage_not_critical",
        _CIT,
        _rep(_CIT, ExtensionOID.KEY_USAGE, (_ku(**_F), False)),
    ),
    Case(
        "rfc5280.4.2.1.9.ca_true_on_end_entity",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.BASIC_CONSTRAINTS,
            (x509.BasicConstraints(ca=True, path_length=None), True),
        ),
    ),
    Case(
        "rfc3739.pkix_qc_syntax_v1_present",
        _SEAL,
        _qc(_SEAL, add=[statement(_Q.PKIX_QC_SYNTAX_V1.dotted_string)]),
    ),
    # ---- TS 119 312
    Case("etsi.ts_119_312.weak_signature_algorithm", _CIT, lambda: resign(issue(_CIT), sha1=True)),
    Case("etsi.ts_119_312.weak_public_key", _CIT, _with(_CIT, spki=leaf_key("rsa1024"))),
    # ---- EN 319 412-1
    Case(
        "etsi.en_319_412_1.nat-5.1.3.identifier_syntax_invalid",
        _CIT,
        _with(_CIT, subject=_subject(_CIT, change={NameOID.SERIAL_NUMBER: "12345678Z"})),
    ),
    Case(
        "etsi.en_319_412_1.nat-5.1.3.deprecated_identifier_scheme",
        _CIT,
        _with(_CIT, subject=_subject(_CIT, change={NameOID.SERIAL_NUMBER: "TAXES-12345678Z"})),
    ),
    Case(
        "etsi.en_319_412_1.leg-5.1.4.identifier_syntax_invalid",
        _SEAL,
        _with(
            _SEAL,
            subject=_subject(_SEAL, change={NameAttributeOID.ORGANIZATION_IDENTIFIER: "S0733002J"}),
        ),
    ),
    Case(
        "etsi.en_319_412_1.semantics_identifier_mismatch",
        _CIT,
        _qc(_CIT, drop=_SEM_DROP, add=[_semantics(SemanticsOID.LEGAL)]),
    ),
    Case("etsi.en_319_412_1.semantics_identifier_absent", _CIT, _qc(_CIT, drop=_SEM_DROP)),
    # ---- EN 319 412-2
    Case(
        "etsi.en_319_412_2.gen-4.2.3.1-2.issuer_attribute_missing",
        _CIT,
        _with(_CIT, issuer=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA")])),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.2.3.1-3.issuer_organization_identifier_equals_name",
        _CIT,
        _with(
            _CIT,
            issuer=x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VATES-Q2826004J"),
                    x509.NameAttribute(NameAttributeOID.ORGANIZATION_IDENTIFIER, "VATES-Q2826004J"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "CA"),
                ]
            ),
        ),
    ),
    Case(
        "etsi.en_319_412_2.nat-4.2.4-1.required_attribute_missing",
        _CIT,
        _with(_CIT, subject=_subject(_CIT, drop=(NameOID.COUNTRY_NAME,))),
    ),
    Case(
        "etsi.en_319_412_2.nat-4.2.4-3.prohibited_duplicate_attribute_present",
        _CIT,
        _with(_CIT, subject=_subject(_CIT, add=[(NameOID.COMMON_NAME, "OTRO")])),
    ),
    Case(
        "etsi.en_319_412_2.nat-4.2.4-4.mixed_pseudonym_and_name_attributes_present",
        _CIT,
        _with(_CIT, subject=_subject(_CIT, add=[(NameAttributeOID.PSEUDONYM, "MJ")])),
    ),
    Case(
        "etsi.en_319_412_2.nat-4.3.2-1.key_usage_absent",
        _CIT,
        _rep(_CIT, ExtensionOID.KEY_USAGE, None),
    ),
    Case(
        "etsi.en_319_412_2.nat-4.3.2-1.unknown_key_usage_setting",
        _CIT,
        _rep(_CIT, ExtensionOID.KEY_USAGE, (_ku(**_F, data_encipherment=True), True)),
    ),
    Case(
        "etsi.en_319_412_2.nat-4.3.2-1.mixed_key_usage_setting",
        _CIT,
        _with(_CIT),
        clean=_with("citizen-qscd"),
        lint_profile=None,
    ),
    Case(
        "etsi.en_319_412_2.nat-4.3.2-2.content_commitment_not_set",
        _CIT,
        _rep(_CIT, ExtensionOID.KEY_USAGE, (_ku(digital_signature=True), True)),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.3-2.certificate_policies_absent",
        _CIT,
        _rep(_CIT, ExtensionOID.CERTIFICATE_POLICIES, None),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.3-1.certificate_policies_critical",
        _CIT,
        lambda: issue(
            _CIT,
            replace={
                ExtensionOID.CERTIFICATE_POLICIES: (get_profile(_CIT).certificate_policies(), True)
            },
        ),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.5-1.san_critical",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
            _san(x509.RFC822Name("a@example.com"), critical=True),
        ),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.10-1.eku_critical",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.EXTENDED_KEY_USAGE,
            (x509.ExtendedKeyUsage([EkuOID.CLIENT_AUTH, EkuOID.ADOBE_AUTHENTIC_DOCUMENTS]), True),
        ),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.11-2.revocation_pointer_absent",
        _CIT,
        lambda: issue(
            _CIT,
            replace={
                ExtensionOID.AUTHORITY_INFORMATION_ACCESS: _aia(_CA_ISSUERS),
                ExtensionOID.CRL_DISTRIBUTION_POINTS: None,
            },
        ),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.11-4.crldp_uri_not_http_or_ldap",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.CRL_DISTRIBUTION_POINTS,
            (
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier("ftp://a.example.com/ca.crl")],
                            None,
                            None,
                            None,
                        )
                    ]
                ),
                False,
            ),
        ),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.11-5.crldp_critical",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.CRL_DISTRIBUTION_POINTS,
            (
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier("http://a.example.com/ca.crl")],
                            None,
                            None,
                            None,
                        )
                    ]
                ),
                True,
            ),
        ),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.3.1.prohibited_extension_present",
        _CIT,
        _with(_CIT, add=[(x509.InhibitAnyPolicy(0), False)]),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.4.1-2.authority_info_access_absent",
        _CIT,
        _rep(_CIT, ExtensionOID.AUTHORITY_INFORMATION_ACCESS, None),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.4.1-3.ca_issuers_absent",
        _CIT,
        _rep(_CIT, ExtensionOID.AUTHORITY_INFORMATION_ACCESS, _aia(_OCSP)),
    ),
    Case(
        "etsi.en_319_412_2.gen-4.4.1-4.ca_issuers_not_http",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
            _aia(
                x509.AccessDescription(
                    AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.UniformResourceIdentifier("ldap://a.example.com/ca"),
                ),
                _OCSP,
            ),
        ),
    ),
    Case(
        "etsi.en_319_412_2.qcs-5.2-1.qcp_policy_missing",
        _CIT,
        _rep(_CIT, ExtensionOID.CERTIFICATE_POLICIES, _cp(AccvPolicyOID.CIUDADANO_SOFTWARE_V)),
    ),
    Case(
        "etsi.en_319_412_2.qcs-5.2-1.multiple_qcp_policies",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.CERTIFICATE_POLICIES,
            _cp(AccvPolicyOID.CIUDADANO_SOFTWARE_V, EtsiPolicyOID.QCP_N, EtsiPolicyOID.QCP_N),
        ),
    ),
    Case(
        "etsi.en_319_412_2.qcs-5.2-2.mismatched_policy_identifier",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.CERTIFICATE_POLICIES,
            _cp(AccvPolicyOID.CIUDADANO_SOFTWARE_V, EtsiPolicyOID.QCP_L),
        ),
    ),
    # ---- EN 319 412-3
    Case(
        "etsi.en_319_412_3.leg-4.2.1-2.required_attribute_missing",
        _SEAL,
        _with(_SEAL, subject=_subject(_SEAL, drop=(NameOID.ORGANIZATION_NAME,))),
    ),
    Case(
        "etsi.en_319_412_3.leg-4.2.1-3.prohibited_duplicate_attribute_present",
        _SEAL,
        _with(_SEAL, subject=_subject(_SEAL, add=[(NameOID.ORGANIZATION_NAME, "OTRA")])),
    ),
    Case(
        "etsi.en_319_412_3.leg-4.2.1-6.organization_identifier_equals_name",
        _SEAL,
        _with(
            _SEAL, subject=_subject(_SEAL, change={NameOID.ORGANIZATION_NAME: "VATES-S0733002J"})
        ),
    ),
    # ---- EN 319 412-5
    Case(
        "etsi.en_319_412_5.qcs-4.1-02.qc_statements_critical",
        _CIT,
        _rep(_CIT, QExt.QC_STATEMENTS, qc_extension(profile_statements(_CIT), critical=True)),
    ),
    Case(
        "etsi.en_319_412_5.qcs-4.1-02a.duplicate_statement",
        _CIT,
        _qc(_CIT, add=[statement(_Q.QC_COMPLIANCE.dotted_string)]),
    ),
    Case(
        "etsi.en_319_412_5.qcs-5.01.qc_statements_absent",
        _CIT,
        _rep(_CIT, QExt.QC_STATEMENTS, None),
    ),
    Case(
        "etsi.en_319_412_5.qcs-5.01.qc_compliance_absent",
        _CIT,
        _qc(_CIT, drop=(_Q.QC_COMPLIANCE.dotted_string,)),
    ),
    Case(
        "etsi.en_319_412_5.qcs-5.01.qc_sscd_absent",
        "citizen-qscd",
        _qc("citizen-qscd", drop=(_Q.QC_SSCD.dotted_string,)),
    ),
    Case(
        "etsi.en_319_412_5.qcs-5.01.qc_cc_legislation_present",
        _CIT,
        _qc(_CIT, add=[statement(_Q.QC_CC_LEGISLATION.dotted_string, tlv(0x30, tlv(0x13, b"ES")))]),
    ),
    Case("etsi.en_319_412_5.gen-4.2.3.qc_type_absent", _CIT, _qc(_CIT, drop=_TYPE_DROP)),
    Case(
        "etsi.en_319_412_5.gen-4.2.3.qc_type_mismatch",
        _CIT,
        _qc(_CIT, drop=_TYPE_DROP, add=[_qc_type(QcTypeOID.WEB)]),
    ),
    Case(
        "etsi.en_319_412_5.gen-4.2.3.qc_type_multiple",
        _CIT,
        _qc(_CIT, drop=_TYPE_DROP, add=[_qc_type(QcTypeOID.ESIGN, QcTypeOID.WEB)]),
    ),
    Case(
        "etsi.en_319_412_5.qc_type_oid_as_statement_id",
        _SEAL,
        _qc(
            _SEAL,
            add=[statement(QcTypeOID.ESEAL.dotted_string, tlv(0x16, b"https://x.example.com/"))],
        ),
    ),
    Case(
        "etsi.en_319_412_5.gen-4.3.3.retention_period_not_positive",
        _CIT,
        _qc(
            _CIT,
            drop=(_Q.QC_RETENTION_PERIOD.dotted_string,),
            add=[statement(_Q.QC_RETENTION_PERIOD.dotted_string, b"\x02\x01\x00")],
        ),
    ),
    Case("etsi.en_319_412_5.gen-4.3.4.qc_pds_absent", _CIT, _qc(_CIT, drop=_PDS_DROP)),
    Case(
        "etsi.en_319_412_5.gen-4.3.4.qc_pds_url_not_https",
        _CIT,
        _qc(_CIT, drop=_PDS_DROP, add=[_pds(("http://x.example.com/pds", "en"))]),
    ),
    Case(
        "etsi.en_319_412_5.gen-4.3.4.qc_pds_english_absent",
        _CIT,
        _qc(_CIT, drop=_PDS_DROP, add=[_pds(("https://x.example.com/pds", "es"))]),
    ),
    Case(
        "etsi.en_319_412_5.gen-4.3.4.qc_pds_language_case",
        _CIT,
        _qc(_CIT, drop=_PDS_DROP, add=[_pds(("https://x.example.com/pds", "EN"))]),
    ),
    # ---- AAPP seals
    Case(
        "aapp.sello.san_dirname_absent",
        _SEAL,
        _rep(
            _SEAL,
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
            _san(x509.RFC822Name("registre@example.org")),
        ),
    ),
    Case(
        "aapp.sello.san_field_missing",
        _SEAL,
        _rep(_SEAL, ExtensionOID.SUBJECT_ALTERNATIVE_NAME, _seal_san(**{"3": ""})),
    ),
    Case(
        "aapp.sello.san_field_mismatch",
        _SEAL,
        _rep(_SEAL, ExtensionOID.SUBJECT_ALTERNATIVE_NAME, _seal_san(**{"2": "OTRO ORGANISMO"})),
    ),
    Case(
        "aapp.sello.san_system_name_mismatch",
        _SEAL,
        _rep(_SEAL, ExtensionOID.SUBJECT_ALTERNATIVE_NAME, _seal_san(**{"5": "OTRO SISTEMA"})),
    ),
    Case(
        "aapp.sello.san_level_mismatch",
        _SEAL,
        _rep(
            _SEAL,
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
            _seal_san(base=AappOID.SELLO_ALTO.dotted_string),
        ),
    ),
    Case("aapp.sello.level_mismatch", _SEAL, _qc(_SEAL, add=[statement(_Q.QC_SSCD.dotted_string)])),
    Case(
        "aapp.sello.entity_not_public_body",
        _SEAL,
        _with(
            _SEAL,
            subject=_subject(
                _SEAL,
                change={
                    NameOID.SERIAL_NUMBER: "A40573396",
                    NameAttributeOID.ORGANIZATION_IDENTIFIER: "VATES-A40573396",
                },
            ),
        ),
    ),
    Case(
        "aapp.sello.custodian_in_subject",
        _SEAL,
        _with(
            _SEAL,
            subject=_subject(_SEAL, add=[(NameOID.GIVEN_NAME, "JOAN"), (NameOID.SURNAME, "PONS")]),
        ),
    ),
    # ---- Spain / CABF
    Case("es.ley6_2020.validity_over_5_years", _CIT, _with(_CIT, validity=dt.timedelta(days=1900))),
    Case(
        "es.nif_invalid",
        _CIT,
        _with(_CIT, subject=_subject(_CIT, change={NameOID.SERIAL_NUMBER: "IDCES-12345678A"})),
    ),
    Case(
        "cabf.smime.validity_over_825_days",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.EXTENDED_KEY_USAGE,
            (x509.ExtendedKeyUsage([EkuOID.CLIENT_AUTH, EkuOID.EMAIL_PROTECTION]), False),
        ),
    ),
    # ---- profile
    Case("profile.holder_kind_mismatch", _CIT, _with(_SEAL), clean=_with(_CIT)),
    Case(
        "profile.subject_attribute_missing",
        _CIT,
        _with(_CIT, subject=_subject(_CIT, drop=(NameOID.SERIAL_NUMBER,))),
    ),
    Case(
        "profile.san_email_missing",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
            _san(
                x509.DirectoryName(
                    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MARÍA JOSÉ|GARCÍA|PEÑA")])
                )
            ),
        ),
    ),
    Case(
        "profile.san_attribute_missing",
        "citizen-fnmt",
        _rep(
            "citizen-fnmt",
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
            _san(
                x509.DirectoryName(
                    x509.Name([x509.NameAttribute(FnmtOID.SAN_NOMBRE, "MARÍA JOSÉ")])
                )
            ),
        ),
    ),
    Case("profile.key_not_allowed", _CIT, _with(_CIT, spki=leaf_key("p521"))),
    Case(
        "profile.key_usage_mismatch",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.KEY_USAGE,
            (_ku(digital_signature=True, content_commitment=True), True),
        ),
    ),
    Case(
        "profile.eku_mismatch",
        _CIT,
        _rep(
            _CIT,
            ExtensionOID.EXTENDED_KEY_USAGE,
            (x509.ExtendedKeyUsage([EkuOID.CLIENT_AUTH]), False),
        ),
    ),
    Case(
        "profile.policy_missing",
        _CIT,
        _rep(_CIT, ExtensionOID.CERTIFICATE_POLICIES, _cp(EtsiPolicyOID.QCP_N)),
    ),
    Case("profile.qc_sscd_unexpected", _CIT, _qc(_CIT, add=[statement(_Q.QC_SSCD.dotted_string)])),
    Case(
        "profile.qc_retention_mismatch",
        _CIT,
        _qc(
            _CIT,
            drop=(_Q.QC_RETENTION_PERIOD.dotted_string,),
            add=[statement(_Q.QC_RETENTION_PERIOD.dotted_string, b"\x02\x01\x0a")],
        ),
    ),
    Case("profile.validity_exceeds_profile", _CIT, _with(_CIT, validity=dt.timedelta(days=1461))),
)


def test_every_code_has_a_case() -> None:
    assert sorted(c.code for c in CASES) == sorted(FINDING_CODES)


def _lint(case: Case, cert: Cert) -> LintReport:
    profile = case.profile if case.lint_profile == "same" else case.lint_profile
    return lint(cert, profile, at=case.at)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_code_triggers(case: Case) -> None:
    report = _lint(case, case.make())
    found = [f for f in report.findings if f.code == case.code]
    assert found, f"{case.code} not reported; got {sorted(report.codes)}"
    assert all(f.severity is FINDING_CODES[case.code].severity for f in found)
    if FINDING_CODES[case.code].severity >= Severity.ERROR:
        assert not report.ok


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.code)
def test_code_absent_on_clean_certificate(case: Case) -> None:
    make = case.clean or (lambda: issue(case.profile))
    report = _lint(case, make())
    assert case.code not in report.codes


def test_clean_profile_certificates_have_no_error() -> None:
    for name in ("citizen", "citizen-qscd", "citizen-fnmt", "eorgan-seal", "eorgan-seal-qscd"):
        report = lint(issue(name), name, at=NOW)
        assert report.ok, (name, report.errors)
        assert report.profile == name


def test_docs_page_lists_every_code_with_its_severity() -> None:
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "guide" / "lint-inspect.rst").read_text()
    for code in FINDING_CODES.values():
        entry = f"   * - ``{code.code}``\n     - {code.severity}\n"
        assert entry in page, code.code
