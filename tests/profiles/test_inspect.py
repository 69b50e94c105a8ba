"""inspect() on certificates issued from the catalog profiles (and tweaked ones)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from qcertlib.errors import DecodingError
from qcertlib.oids import ExtensionOID as QExt
from qcertlib.oids import QcStatementOID, QcTypeOID
from qcertlib.profiles import CertificateKind, detect_profile, inspect, lint

from .certgen import NOW, edit_statements, issue, leaf_key, oid, statement, tlv


def test_citizen_qscd_summary() -> None:
    s = inspect(issue("citizen-qscd"), at=NOW)
    assert (s.kind, s.qualified, s.qscd, s.qc_type, s.afirma_class) == (
        CertificateKind.CITIZEN,
        True,
        True,
        "esign",
        0,
    )
    assert (s.given_name, s.surnames, s.nif, s.email) == (
        "MARÍA JOSÉ",
        "GARCÍA PEÑA",
        "12345678Z",
        "maria.garcia@example.com",
    )
    assert s.policies[1] == "QCP-n-qscd"
    assert s.policies[0].startswith("ACCV ciudadano en dispositivo seguro")
    assert s.issuer == "QCERTLIB TEST CA"
    assert s.days_left == 1095
    assert not s.renewal_window_open


def test_seal_summary() -> None:
    s = inspect(issue("eorgan-seal"), at=NOW)
    assert (s.kind, s.qualified, s.qscd, s.qc_type, s.afirma_class) == (
        CertificateKind.SEAL,
        True,
        False,
        "eseal",
        8,
    )
    assert (s.entity_name, s.entity_nif, s.system_name, s.custodian_nif) == (
        "CONSELL INSULAR DE MENORCA",
        "S0733002J",
        "REGISTRE ELECTRÒNIC",
        "00000000T",
    )
    assert s.given_name is None
    assert s.nif is None


def test_non_qualified_seal_is_class_4() -> None:
    qc = edit_statements("eorgan-seal", drop=(QcStatementOID.QC_COMPLIANCE.dotted_string,))
    s = inspect(issue("eorgan-seal", replace={QExt.QC_STATEMENTS: qc}), at=NOW)
    assert (s.kind, s.qualified, s.afirma_class) == (CertificateKind.SEAL, False, 4)


def test_qualified_website_is_class_9() -> None:
    web = statement(
        QcStatementOID.QC_TYPE.dotted_string, tlv(0x30, oid(QcTypeOID.WEB.dotted_string))
    )
    qc = edit_statements("eorgan-seal", drop=(QcStatementOID.QC_TYPE.dotted_string,), add=[web])
    cert = issue(
        "eorgan-seal",
        replace={
            QExt.QC_STATEMENTS: qc,
            ExtensionOID.CERTIFICATE_POLICIES: (
                x509.CertificatePolicies(
                    [x509.PolicyInformation(x509.ObjectIdentifier("0.4.0.194112.1.4"), None)]
                ),
                False,
            ),
            ExtensionOID.EXTENDED_KEY_USAGE: (
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                False,
            ),
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME: (
                x509.SubjectAlternativeName([x509.DNSName("www.example.com")]),
                False,
            ),
        },
    )
    s = inspect(cert, at=NOW)
    assert (s.kind, s.afirma_class, s.qc_type) == (CertificateKind.OTHER, 9, "web")
    assert (s.entity_name, s.entity_nif) == ("CONSELL INSULAR DE MENORCA", "S0733002J")
    assert detect_profile(cert) is None
    assert lint(cert, at=NOW).profile == "generic-qc"


def test_key_descriptions() -> None:
    s = inspect(issue("citizen", key=leaf_key("p256")), at=NOW)
    assert (s.key_type, s.key_size, s.key_curve) == ("EC", 256, "secp256r1")
    ed = ed25519.Ed25519PrivateKey.generate()
    s = inspect(issue("citizen", spki=ed), at=NOW)
    assert (s.key_type, s.key_size) == ("Ed25519", 256)
    assert "profile.key_not_allowed" in lint(issue("citizen", spki=ed), "citizen", at=NOW).codes


def test_pseudonymous_public_employee_is_class_7() -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AYUNTAMIENTO"),
            x509.NameAttribute(x509.ObjectIdentifier("2.5.4.65"), "AGENTE 123"),
            x509.NameAttribute(NameOID.COMMON_NAME, "AGENTE 123"),
        ]
    )
    policies = x509.CertificatePolicies(
        [x509.PolicyInformation(x509.ObjectIdentifier("2.16.724.1.3.5.4.2"), None)]
    )
    cert = issue(
        "citizen",
        subject=subject,
        replace={ExtensionOID.CERTIFICATE_POLICIES: (policies, False)},
    )
    s = inspect(cert, at=NOW)
    assert (s.kind, s.afirma_class) == (CertificateKind.PUBLIC_EMPLOYEE, 7)


def test_inspect_refuses_non_certificates_and_naive_times() -> None:
    with pytest.raises(DecodingError):
        inspect(b"junk")
    with pytest.raises(ValueError, match="aware"):
        inspect(issue("citizen"), at=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        lint(issue("citizen"), at=dt.datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        lint("not bytes")  # type: ignore[arg-type]


def test_to_dict_is_json_ready() -> None:
    import json

    data = inspect(issue("eorgan-seal-qscd"), at=NOW).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["kind"] == "seal"
    assert data["qscd"] is True
    assert data["not_before"].endswith("Z")
