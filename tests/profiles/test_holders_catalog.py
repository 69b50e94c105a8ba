"""Holder validation and the profile catalog as data (subject, SAN, extensions, rules)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID

from qcertlib.errors import (
    HolderDataError,
    IdentifierError,
    ProfileError,
    ValidityError,
    WeakKeyError,
)
from qcertlib.oids import AappOID, AccvPolicyOID, EtsiPolicyOID, FnmtOID, NameAttributeOID
from qcertlib.profiles import (
    PROFILES,
    Citizen,
    Custodian,
    EtsiKeyUsageType,
    HolderKind,
    PdsEntry,
    PkiUrls,
    get_profile,
    lint,
)
from qcertlib.qcstatements import QcSSCD, QCStatements, SemanticsInformation

from .certgen import URLS, citizen, issue, leaf_key, public_body, throwaway_ca


def _attrs(name: x509.Name) -> list[tuple[str, str]]:
    return [(a.oid.dotted_string, str(a.value)) for a in name]


# ------------------------------------------------------------------ holders


def test_citizen_normalises_and_validates() -> None:
    c = Citizen(given_name="  Ana  María ", first_surname="Ruiz", nif="12345678-z", email="a@b.es")
    assert (c.given_name, c.nif, c.surnames) == ("Ana María", "12345678Z", "Ruiz")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"nif": "12345678A"}, IdentifierError),
        ({"nif": "S0733002J"}, IdentifierError),
        ({"email": "not-an-email"}, HolderDataError),
        ({"given_name": " "}, HolderDataError),
        ({"first_surname": "Ruiz|Pérez"}, HolderDataError),
    ],
)
def test_citizen_rejects_bad_data(changes: dict[str, str], error: type[Exception]) -> None:
    with pytest.raises(error):
        citizen(**changes)


@pytest.mark.parametrize("nif", ["A40573396", "B12345674", "12345678Z"])
def test_public_body_must_be_p_q_or_s(nif: str) -> None:
    with pytest.raises(ValueError, match=r"public body|natural person|CIF"):
        public_body(nif=nif)


@pytest.mark.parametrize("nif", ["S0733002J", "Q2826004J", "P0200001F"])
def test_public_body_accepts_public_cifs(nif: str) -> None:
    assert public_body(nif=nif).nif == nif


def test_custodian_nif_is_validated() -> None:
    with pytest.raises(IdentifierError):
        Custodian(given_name="A", first_surname="B", nif="00000000A")


# ------------------------------------------------------------------ catalog


def test_catalog_names_and_lookup() -> None:
    assert set(PROFILES) == {
        "citizen",
        "citizen-qscd",
        "citizen-fnmt",
        "eorgan-seal",
        "eorgan-seal-qscd",
    }
    with pytest.raises(ProfileError, match="unknown profile"):
        get_profile("nope")


@pytest.mark.parametrize(
    ("name", "qscd", "qcp", "tsp_prefix", "ku", "months", "window"),
    [
        ("citizen", False, EtsiPolicyOID.QCP_N, AccvPolicyOID.CIUDADANO_SOFTWARE, "F", 36, 70),
        ("citizen-qscd", True, EtsiPolicyOID.QCP_N_QSCD, AccvPolicyOID.CIUDADANO_QSCD, "A", 36, 70),
        ("citizen-fnmt", False, EtsiPolicyOID.QCP_N, FnmtOID.PERSONA_FISICA, "F", 48, 70),
        ("eorgan-seal", False, EtsiPolicyOID.QCP_L, AccvPolicyOID.SELLO_SOFTWARE, "F", 24, None),
        (
            "eorgan-seal-qscd",
            True,
            EtsiPolicyOID.QCP_L_QSCD,
            AccvPolicyOID.SELLO_QSCD,
            "F",
            24,
            None,
        ),
    ],
)
def test_profile_data(
    name: str,
    qscd: bool,
    qcp: x509.ObjectIdentifier,
    tsp_prefix: x509.ObjectIdentifier,
    ku: str,
    months: int,
    window: int | None,
) -> None:
    p = get_profile(name)
    assert p.qscd is qscd
    assert p.qc.sscd is qscd
    assert p.etsi_policy == qcp
    assert p.policies[0].matches(p.policies[0].oid)
    assert p.detect_policies[0].dotted_string.startswith(tsp_prefix.dotted_string)
    assert p.key_usage.etsi_type is EtsiKeyUsageType(ku)
    assert p.key_usage.rationale
    assert p.san.rationale
    assert p.validity.default_months == months
    assert p.renewal_window == (dt.timedelta(days=window) if window else None)
    assert p.qc.retention_years == 15
    assert any(e.language == "en" and e.url.startswith("https://") for e in p.qc.pds)


def test_validity_rules() -> None:
    assert get_profile("citizen").validity_for().days == 1096
    assert get_profile("citizen").validity_for(36).days == 1096
    assert get_profile("eorgan-seal").validity_for(12).days == 365
    with pytest.raises(ValidityError, match="allows 36"):
        get_profile("citizen").validity_for(24)
    with pytest.raises(ValidityError, match="5-year"):
        get_profile("eorgan-seal").validity_for(72)


def test_key_rules() -> None:
    p = get_profile("citizen")
    p.check_key(leaf_key("rsa").public_key())
    p.check_key(leaf_key("p256").public_key())
    p.check_key(ec.generate_private_key(ec.SECP384R1()).public_key())
    for weak in ("rsa1024", "p192", "p521"):
        with pytest.raises(WeakKeyError):
            p.check_key(leaf_key(weak).public_key())


def test_citizen_subject_and_san() -> None:
    p = get_profile("citizen")
    assert _attrs(p.subject_for(citizen())) == [
        ("2.5.4.6", "ES"),
        ("2.5.4.5", "IDCES-12345678Z"),
        ("2.5.4.42", "MARÍA JOSÉ"),
        ("2.5.4.4", "GARCÍA PEÑA"),
        ("2.5.4.3", "MARÍA JOSÉ GARCÍA PEÑA"),
    ]
    san = p.san_for(citizen(second_surname=None))
    assert san is not None
    assert san.get_values_for_type(x509.RFC822Name) == ["maria.garcia@example.com"]
    (dn,) = san.get_values_for_type(x509.DirectoryName)
    assert _attrs(dn) == [("2.5.4.3", "MARÍA JOSÉ|GARCÍA")]


def test_fnmt_subject_and_san() -> None:
    p = get_profile("citizen-fnmt")
    cn = p.subject_for(citizen()).get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "GARCÍA PEÑA MARÍA JOSÉ - 12345678Z"
    san = p.san_for(citizen())
    assert san is not None
    assert not san.get_values_for_type(x509.RFC822Name)
    (dn,) = san.get_values_for_type(x509.DirectoryName)
    assert _attrs(dn) == [
        (FnmtOID.SAN_DNI.dotted_string, "12345678Z"),
        (FnmtOID.SAN_APELLIDO2.dotted_string, "PEÑA"),
        (FnmtOID.SAN_APELLIDO1.dotted_string, "GARCÍA"),
        (FnmtOID.SAN_NOMBRE.dotted_string, "MARÍA JOSÉ"),
    ]


def test_seal_subject_has_no_custodian_and_san_has_aapp_fields() -> None:
    p = get_profile("eorgan-seal-qscd")
    subject = p.subject_for(public_body())
    assert not subject.get_attributes_for_oid(NameOID.GIVEN_NAME)
    assert not subject.get_attributes_for_oid(NameOID.SURNAME)
    assert subject.get_attributes_for_oid(NameAttributeOID.ORGANIZATION_IDENTIFIER)[0].value == (
        "VATES-S0733002J"
    )
    san = p.san_for(public_body())
    assert san is not None
    (dn,) = san.get_values_for_type(x509.DirectoryName)
    fields = {int(a.oid.dotted_string.rsplit(".", 1)[1]): a.value for a in dn}
    assert all(a.oid.dotted_string.startswith(AappOID.SELLO_ALTO.dotted_string) for a in dn)
    assert fields == {
        1: "SELLO ELECTRONICO DE NIVEL ALTO",
        2: "CONSELL INSULAR DE MENORCA",
        3: "S0733002J",
        4: "00000000T",
        5: "REGISTRE ELECTRÒNIC",
        6: "JOAN",
        7: "PONS",
        8: "MASCARÓ",
        9: "registre@example.org",
    }


def test_seal_without_custodian_omits_optional_fields() -> None:
    san = get_profile("eorgan-seal").san_for(public_body(custodian=False, email=None))
    assert san is not None
    (dn,) = san.get_values_for_type(x509.DirectoryName)
    assert sorted(int(a.oid.dotted_string.rsplit(".", 1)[1]) for a in dn) == [1, 2, 3, 5]


def test_wrong_holder_kind_is_refused() -> None:
    with pytest.raises(HolderDataError):
        get_profile("citizen").subject_for(public_body())
    with pytest.raises(HolderDataError):
        get_profile("eorgan-seal").subject_for(citizen())
    assert get_profile("eorgan-seal").holder_kind is HolderKind.PUBLIC_BODY


def test_extensions_for_lists_every_leaf_extension() -> None:
    p = get_profile("citizen-qscd")
    key = leaf_key("rsa").public_key()
    exts = p.extensions_for(
        citizen(), subject_public_key=key, issuer_certificate=throwaway_ca().cert, urls=URLS
    )
    by_oid = {v.oid: (v, c) for v, c in exts}
    assert set(by_oid) == {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.CERTIFICATE_POLICIES,
        x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3"),
        ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
        ExtensionOID.CRL_DISTRIBUTION_POINTS,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    }
    assert by_oid[ExtensionOID.BASIC_CONSTRAINTS][1]
    assert by_oid[ExtensionOID.KEY_USAGE][1]
    qc_value = by_oid[x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")][0]
    assert isinstance(qc_value, x509.UnrecognizedExtension)
    qc = QCStatements.from_der(qc_value.value)
    assert qc.is_qualified
    assert qc.is_qscd
    assert not qc.defects
    assert qc.get(SemanticsInformation) is not None
    assert qc.retention_years == 15


def test_caller_urls_win_over_profile_defaults() -> None:
    cert = issue("citizen")
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert URLS.ca_issuers in [d.access_location.value for d in aia]
    p = get_profile("citizen")
    assert p.default_urls is not None
    assert p.default_urls.ca_issuers.startswith("http://www.accv.es")
    with pytest.raises(ProfileError):
        p.derive(name="x", default_urls=None).extensions_for(
            citizen(),
            subject_public_key=leaf_key("rsa").public_key(),
            issuer_certificate=throwaway_ca().cert,
        )


def test_pki_urls_are_checked() -> None:
    with pytest.raises(ProfileError):
        PkiUrls(ca_issuers="ftp://x/ca.crt", crl="http://x/ca.crl")
    with pytest.raises(ProfileError):
        PkiUrls(ca_issuers="http://x/ca.crt")


def test_derive_overrides_policy_urls_retention_and_pds() -> None:
    own = x509.ObjectIdentifier("1.3.6.1.4.1.99999.1.1")
    urls = PkiUrls(ca_issuers="http://ca.example.com/ca.crt", ocsp="http://ca.example.com/ocsp")
    p = get_profile("eorgan-seal").derive(
        name="my-seal",
        issuer_policy_oid=own,
        cps_uri="https://ca.example.com/cps",
        retention_years=20,
        pds=[("https://ca.example.com/pds-en.pdf", "en")],
        urls=urls,
    )
    assert (p.name, p.policies[0].oid, p.policies[0].cps_uri) == (
        "my-seal",
        own,
        "https://ca.example.com/cps",
    )
    assert p.detect_policies == (own,)
    assert p.qc.retention_years == 20
    assert p.qc.pds == (PdsEntry("https://ca.example.com/pds-en.pdf", "en"),)
    assert p.default_urls == urls
    assert get_profile("eorgan-seal").qc.retention_years == 15  # the original is unchanged
    cert = issue(p)
    report = lint(cert, p)
    assert report.ok, report.errors
    with pytest.raises(ProfileError, match="unknown profile override"):
        get_profile("citizen").derive(name="x", colour="blue")


def test_ec_subject_key_gets_key_agreement() -> None:
    cert = issue("eorgan-seal", key=leaf_key("p256"))
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_agreement
    assert not ku.key_encipherment
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    qc = QCStatements.from_certificate(cert)
    assert qc is not None
    assert not qc.has(QcSSCD)
