"""Acceptance on the real and official-test certificates of tests/vectors/real-certs.

The expected values were read from the certificates themselves (``openssl x509
-text`` and the SAN directory names), see SOURCES.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from qcertlib.profiles import CertificateKind, Severity, inspect, lint
from tests.conftest import REAL_CERTS, real_cert_path

AT = dt.datetime(2026, 11, 21, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Expected:
    kind: CertificateKind
    qualified: bool
    qscd: bool
    qc_type: str | None
    afirma_class: int | None
    nif: str | None = None
    entity_nif: str | None = None
    given_name: str | None = None
    surnames: str | None = None
    entity_name: str | None = None
    system_name: str | None = None
    email: str | None = None
    detected: str = "generic-qc"


_SEAL = CertificateKind.SEAL
_CIT = CertificateKind.CITIZEN
_EMP = CertificateKind.PUBLIC_EMPLOYEE
_CA = Expected(CertificateKind.OTHER, False, False, None, None)

EXPECTED: dict[str, Expected] = {
    "accv-real-sello-organo-consell-insular-menorca.pem": Expected(
        _SEAL,
        True,
        False,
        "eseal",
        8,
        entity_nif="S0733002J",
        entity_name="CONSELL INSULAR DE MENORCA",
        system_name="CONSELL INSULAR DE MENORCA",
        email="registre@cime.es",
        detected="eorgan-seal",
    ),
    "aapp-test-sello-medio-esfirma-soft.pem": Expected(
        _SEAL,
        True,
        False,
        "eseal",
        8,
        entity_nif="P0200001F",
        entity_name="PRUEBAS",
        system_name="PLATAFORMA GESTIONA PARA AYUNTAMIENTO DE PRUEBAS",
        email="info_sello@pruebas.esfirma.com",
    ),
    "aapp-test-sello-medio-firmaprofesional-sw.pem": Expected(
        _SEAL,
        True,
        False,
        "eseal",
        8,
        entity_nif="A99999999",
        entity_name="Nombre de la Administración",
        email="info@firmaprofesional.com",
    ),
    "aapp-test-sello-alto-firmaprofesional-hsm.pem": Expected(
        _SEAL,
        True,
        True,
        "eseal",
        8,
        entity_nif="A99999999",
        entity_name="Nombre de la Administración",
        email="info@firmaprofesional.com",
    ),
    "aapp-test-sello-alto-vincasign.pem": Expected(
        _SEAL,
        True,
        True,
        "eseal",
        8,
        entity_nif="Q0000000J",
        entity_name="Organización",
        system_name="Organización (Q0000000J)",
        email="test@email.com",
    ),
    "aapp-test-sello-medio-vincasign.pem": Expected(
        _SEAL,
        True,
        False,
        "eseal",
        8,
        entity_nif="Q0000000X",
        entity_name="Organización",
        email="test@email.com",
    ),
    # No valid QcType (the eseal OID is misused as a statement id): qc_type None, still
    # a qualified seal by QcCompliance + the AAPP/QCP-l-qscd policies.
    "aapp-test-sello-alto-uanataca-nube.pem": Expected(
        _SEAL,
        True,
        True,
        None,
        8,
        entity_nif="S2833002",
        entity_name="Test Organization",
        system_name="Test Proceso",
        email="info@uanataca.com",
    ),
    "fnmt-test-eidas-certificado-pruebas-99999999R.pem": Expected(
        _CIT,
        True,
        False,
        "esign",
        0,
        nif="99999999R",
        given_name="PRUEBAS",
        surnames="EIDAS CERTIFICADO",
        detected="citizen-fnmt",
    ),
    "fnmt-test-eidas-certificado-pruebas-99999999R-2020.pem": Expected(
        _CIT,
        True,
        False,
        "esign",
        0,
        nif="99999999R",
        given_name="PRUEBAS",
        surnames="EIDAS CERTIFICADO",
        email="soporte_tecnico_ceres@fnmt.es",
        detected="citizen-fnmt",
    ),
    "fnmt-test-empleado-publico-00000000T.pem": Expected(
        _EMP,
        True,
        False,
        "esign",
        5,
        nif="00000000T",
        entity_nif="Q0000000J",
        given_name="JUAN",
        surnames="ESPAÑOL ESPAÑOL",
        entity_name="FNMT-RCM PRUEBAS",
        email="pruebas@example.com",
    ),
    "fnmt-test-empleado-publico-alto-firma-centralizada.pem": Expected(
        _EMP,
        True,
        True,
        "esign",
        5,
        nif="99999999R",
        entity_nif="Q0000000J",
        given_name="JUAN",
        surnames="ESPAÑOL ESPAÑOL",
        entity_name="FNMT-RCM PRUEBAS",
        email="soporte_tecnico_ceres@fnmt.es",
    ),
    "accv-accvraiz1.pem": _CA,
    "accv-accvca-110.pem": _CA,
    "accv-accvca-120.pem": _CA,
    "accv-accvca-130.pem": _CA,
    "accv-test-rootejb4test.pem": _CA,
    "accv-test-accvcatest-110.pem": _CA,
    "accv-test-accvcatest-120.pem": _CA,
    "accv-test-accvcatest-130.pem": _CA,
    "accv-root-rsa-eidas-2023.pem": _CA,
    "accv-rsa1-cliente.pem": _CA,
    "fnmt-ac-raiz-fnmt-rcm.pem": _CA,
    "fnmt-ac-fnmt-usuarios.pem": _CA,
    "fnmt-ac-sector-publico.pem": _CA,
}

LEAVES = sorted(name for name, e in EXPECTED.items() if e is not _CA)


def test_every_vector_is_covered() -> None:
    assert sorted(p.name for p in REAL_CERTS.glob("*.pem")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inspect_states_kind_identifiers_and_class(name: str) -> None:
    want = EXPECTED[name]
    got = inspect(real_cert_path(name).read_bytes(), at=AT)
    assert got.kind is want.kind
    assert (got.qualified, got.qscd, got.qc_type) == (want.qualified, want.qscd, want.qc_type)
    assert got.afirma_class == want.afirma_class
    assert got.is_ca is (want is _CA)
    for attr in ("nif", "entity_nif", "given_name", "surnames", "entity_name"):
        assert getattr(got, attr) == getattr(want, attr), attr
    if want.system_name is not None:
        assert got.system_name == want.system_name
    if want is not _CA:
        assert got.email == want.email


@pytest.mark.parametrize("name", LEAVES)
def test_lint_detects_the_claimed_profile(name: str) -> None:
    assert lint(real_cert_path(name).read_bytes(), at=AT).profile == EXPECTED[name].detected


@pytest.mark.parametrize(
    ("name", "code", "severity"),
    [
        (
            "accv-real-sello-organo-consell-insular-menorca.pem",
            "rfc3739.pkix_qc_syntax_v1_present",
            Severity.ERROR,
        ),
        (
            "aapp-test-sello-alto-vincasign.pem",
            "der.qc_sscd_statement_info_present",
            Severity.FATAL,
        ),
        (
            "aapp-test-sello-alto-uanataca-nube.pem",
            "etsi.en_319_412_2.nat-4.3.2-1.unknown_key_usage_setting",
            Severity.ERROR,
        ),
        (
            "aapp-test-sello-alto-uanataca-nube.pem",
            "etsi.en_319_412_5.qc_type_oid_as_statement_id",
            Severity.ERROR,
        ),
        # found by our AAPP rules (not in pkilint): SAN .3 "Q00000J" vs serialNumber Q0000000J
        ("aapp-test-sello-alto-vincasign.pem", "aapp.sello.san_field_mismatch", Severity.ERROR),
    ],
)
def test_lint_reports_documented_real_defects(name: str, code: str, severity: Severity) -> None:
    report = lint(real_cert_path(name).read_bytes(), at=AT)
    found = [f for f in report.findings if f.code == code]
    assert found
    assert all(f.severity is severity for f in found)
    assert not report.ok


@pytest.mark.parametrize(
    "name",
    [
        "fnmt-test-eidas-certificado-pruebas-99999999R.pem",
        "fnmt-test-eidas-certificado-pruebas-99999999R-2020.pem",
    ],
)
def test_fnmt_test_citizens_have_no_error_against_citizen_fnmt(name: str) -> None:
    report = lint(real_cert_path(name).read_bytes(), "citizen-fnmt", at=AT)
    assert report.ok, report.errors
    assert report.profile == "citizen-fnmt"


def test_esfirma_seal_is_clean() -> None:
    report = lint(real_cert_path("aapp-test-sello-medio-esfirma-soft.pem").read_bytes(), at=AT)
    assert report.ok
    assert {f.code for f in report.at_least(Severity.WARNING)} == {
        "etsi.en_319_412_2.nat-4.3.2-1.mixed_key_usage_setting"
    }


def test_renewal_window_and_days_left_of_fnmt_2024() -> None:
    data = real_cert_path("fnmt-test-eidas-certificado-pruebas-99999999R.pem").read_bytes()
    not_after = dt.datetime(2028, 10, 30, 10, 6, 59, tzinfo=dt.UTC)
    before = inspect(data, at=not_after - dt.timedelta(days=71))
    inside = inspect(data, at=not_after - dt.timedelta(days=70))
    after = inspect(data, at=not_after + dt.timedelta(seconds=1))
    assert (before.renewal_window_open, before.days_left) == (False, 71)
    assert (inside.renewal_window_open, inside.days_left) == (True, 70)
    assert (after.renewal_window_open, after.expired, after.days_left) == (False, True, -1)
    assert before.sha256.startswith("278259d1")
    assert before.sha256.endswith("16a8ed")
