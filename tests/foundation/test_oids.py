"""The OID registry: names for humans, ACCV/FNMT prefix matching."""

from __future__ import annotations

import pytest
from cryptography.x509 import ObjectIdentifier

from qcertlib.oids import (
    OID_NAMES,
    AappOID,
    AccvPolicyOID,
    EtsiPolicyOID,
    FnmtOID,
    QcStatementOID,
    QcTypeOID,
    SemanticsOID,
    accv_policy_kind,
    name_of,
)


@pytest.mark.parametrize(
    ("oid", "name"),
    [
        (EtsiPolicyOID.QCP_N, "QCP-n"),
        (EtsiPolicyOID.QCP_L, "QCP-l"),
        (EtsiPolicyOID.QCP_N_QSCD, "QCP-n-qscd"),
        (EtsiPolicyOID.QCP_L_QSCD, "QCP-l-qscd"),
        (QcStatementOID.QC_COMPLIANCE, "QcCompliance"),
        (QcStatementOID.QC_SSCD, "QcSSCD"),
        (QcStatementOID.PKIX_QC_SYNTAX_V1, "pkixQCSyntax-v1"),
        (QcTypeOID.ESEAL, "QcType eseal"),
        (SemanticsOID.LEGAL, "semanticsId-Legal"),
        (AappOID.SELLO_MEDIO, "AAPP sello electrónico nivel medio"),
        (FnmtOID.PERSONA_FISICA, "FNMT persona física"),
    ],
)
def test_known_oids_have_names(oid: ObjectIdentifier, name: str) -> None:
    assert name_of(oid) == name
    assert name_of(oid.dotted_string) == name


def test_aapp_seal_san_fields_are_named_for_both_levels() -> None:
    for n in range(1, 10):
        assert "sello medio" in name_of(AappOID.sello_field(AappOID.SELLO_MEDIO, n))
        assert "sello alto" in name_of(AappOID.sello_field(AappOID.SELLO_ALTO, n))
    assert name_of("2.16.724.1.3.5.6.2.3") == "AAPP sello medio: NIF de la entidad suscriptora"


@pytest.mark.parametrize("n", [0, 10, -1])
def test_aapp_seal_field_numbers_are_checked(n: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.9"):
        AappOID.sello_field(AappOID.SELLO_ALTO, n)


def test_accv_policies_match_by_prefix_whatever_the_version() -> None:
    # the real ACCV seal carries 1.3.6.1.4.1.8149.3.17.4.0
    assert accv_policy_kind("1.3.6.1.4.1.8149.3.17.4.0") == "sello de órgano en software"
    assert accv_policy_kind("1.3.6.1.4.1.8149.3.17.9.0") == "sello de órgano en software"
    assert accv_policy_kind(AccvPolicyOID.CIUDADANO_QSCD_V) == (
        "ciudadano en dispositivo seguro (QSCD)"
    )
    assert accv_policy_kind("1.3.6.1.4.1.8149.3.999.1.0") == "otro"
    assert name_of("1.3.6.1.4.1.8149.3.7.5.0").startswith("ACCV ciudadano en software")


def test_not_accv_is_not_matched_by_a_shared_textual_prefix() -> None:
    # 1.3.6.1.4.1.81490 is not under 1.3.6.1.4.1.8149: arcs, not strings, are compared
    assert accv_policy_kind("1.3.6.1.4.1.81490.3.7.1") is None
    assert accv_policy_kind(AccvPolicyOID.ARC) is None
    assert accv_policy_kind(EtsiPolicyOID.QCP_N) is None


def test_fnmt_unknown_policies_are_named_by_arc() -> None:
    assert name_of("1.3.6.1.4.1.5734.3.99") == "FNMT (1.3.6.1.4.1.5734.3.99)"


def test_unknown_oid_falls_back_to_dotted_form() -> None:
    assert name_of("1.2.3.4.5") == "1.2.3.4.5"


def test_malformed_dotted_string_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a dotted OID"):
        name_of("1.2.x")


def test_name_table_keys_are_valid_oids() -> None:
    for dotted in OID_NAMES:
        assert ObjectIdentifier(dotted).dotted_string == dotted
