"""QC statements: exact DER, round trips, construction rules, defects and fuzzing."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509 import ObjectIdentifier
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qcertlib.oids import ExtensionOID, QcIdentMethodOID, QcStatementOID, QcTypeOID, SemanticsOID
from qcertlib.qcstatements import (
    DefectCode,
    PdsLocation,
    PkixQcSyntaxV1,
    QcCClegislation,
    QcCompliance,
    QcDefect,
    QcIdentMethod,
    QcLimitValue,
    QcPDS,
    QcQSCDlegislation,
    QcRetentionPeriod,
    QcSSCD,
    QcStatement,
    QCStatements,
    QcType,
    SemanticsInformation,
    UnknownStatement,
)

# ----------------------------------------------------------------- tiny DER helpers (tests)


def tlv(tag: int, content: bytes) -> bytes:
    """Encode one DER element (independent of the module under test)."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        body = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(body)]) + body
    return bytes([tag]) + length + content


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


# DER of the statement ids, as printed by `openssl asn1parse` on the real certificates.
OID_COMPLIANCE = bytes.fromhex("060604008e460101")
OID_RETENTION = bytes.fromhex("060604008e460103")
OID_SSCD = bytes.fromhex("060604008e460104")
OID_PDS = bytes.fromhex("060604008e460105")
OID_TYPE = bytes.fromhex("060604008e460106")
OID_LIMIT = bytes.fromhex("060604008e460102")
OID_ESIGN = bytes.fromhex("060704008e46010601")
OID_ESEAL = bytes.fromhex("060704008e46010602")
OID_V1 = bytes.fromhex("06082b06010505070b01")
OID_V2 = bytes.fromhex("06082b06010505070b02")
OID_NATURAL = bytes.fromhex("060704008bec490101")


# ----------------------------------------------------------------- exact encodings


def test_brief_example_encodes_to_exact_der() -> None:
    qcs = QCStatements(
        (
            QcCompliance(),
            QcType((QcTypeOID.ESIGN,)),
            QcPDS((PdsLocation("https://x/pds_en.pdf", "en"),)),
            QcRetentionPeriod(15),
        )
    )
    expected = seq(
        seq(OID_COMPLIANCE),
        seq(OID_TYPE, seq(OID_ESIGN)),
        seq(OID_PDS, seq(seq(tlv(0x16, b"https://x/pds_en.pdf"), tlv(0x13, b"en")))),
        seq(OID_RETENTION, tlv(0x02, b"\x0f")),
    )
    assert qcs.to_der() == expected


def test_semantics_information_encodes_oid_inside_a_sequence() -> None:
    qcs = QCStatements((SemanticsInformation(SemanticsOID.NATURAL),))
    assert qcs.to_der() == seq(seq(OID_V2, seq(OID_NATURAL)))


def test_semantics_information_encodes_name_registration_authorities_as_general_names() -> None:
    uri = x509.UniformResourceIdentifier("https://ra.example/")
    qcs = QCStatements((SemanticsInformation(None, (uri,)),))
    assert qcs.to_der() == seq(seq(OID_V2, seq(seq(tlv(0x86, b"https://ra.example/")))))


def test_pkix_qc_syntax_v1_without_fields_encodes_without_statement_info() -> None:
    assert QCStatements((PkixQcSyntaxV1(),)).to_der() == seq(seq(OID_V1))


def test_limit_value_alphabetic_currency_is_printable_string() -> None:
    qcs = QCStatements((QcLimitValue("EUR", 1000, 0),))
    expected = seq(
        seq(OID_LIMIT, seq(tlv(0x13, b"EUR"), tlv(0x02, b"\x03\xe8"), tlv(0x02, b"\x00")))
    )
    assert qcs.to_der() == expected


def test_limit_value_numeric_currency_is_integer_and_exponent_may_be_negative() -> None:
    qcs = QCStatements((QcLimitValue(978, 5, -2),))
    expected = seq(
        seq(OID_LIMIT, seq(tlv(0x02, b"\x03\xd2"), tlv(0x02, b"\x05"), tlv(0x02, b"\xfe")))
    )
    assert qcs.to_der() == expected


def test_legislation_countries_are_printable_strings() -> None:
    der = QCStatements((QcCClegislation(("CH", "NO")),)).to_der()
    oid = bytes.fromhex("060604008e460107")
    assert der == seq(seq(oid, seq(tlv(0x13, b"CH"), tlv(0x13, b"NO"))))


def test_empty_qcstatements_is_an_empty_sequence() -> None:
    assert QCStatements(()).to_der() == b"\x30\x00"


def test_to_extension_is_non_critical_unrecognized_extension_by_default() -> None:
    qcs = QCStatements((QcCompliance(),))
    ext = qcs.to_extension()
    assert ext.oid == ExtensionOID.QC_STATEMENTS
    assert ext.critical is False
    assert isinstance(ext.value, x509.UnrecognizedExtension)
    assert ext.value.value == qcs.to_der()
    assert qcs.to_extension(critical=True).critical is True


# ----------------------------------------------------------------- strategies

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
letters2 = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)
upper2 = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)


@st.composite
def oids(draw: st.DrawFn) -> ObjectIdentifier:
    first = draw(st.integers(0, 2))
    second = draw(st.integers(0, 39 if first < 2 else 10_000))
    rest = draw(st.lists(st.integers(0, 2**64), max_size=5))
    return ObjectIdentifier(".".join(str(a) for a in [first, second, *rest]))


ascii_urls = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=120
).map(lambda s: "https://" + s)

general_names: st.SearchStrategy[x509.GeneralName] = st.one_of(
    ascii_urls.map(x509.UniformResourceIdentifier),
    st.text(ALNUM, min_size=1, max_size=20).map(lambda s: x509.RFC822Name(f"{s}@example.es")),
    st.text(ALNUM, min_size=1, max_size=20).map(lambda s: x509.DNSName(f"{s}.example.es")),
    oids().map(x509.RegisteredID),
    st.text(min_size=1, max_size=30).map(
        lambda s: x509.DirectoryName(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, s),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "FNMT-RCM"),
                ]
            )
        )
    ),
    st.text(ALNUM, max_size=20).map(
        lambda s: x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), tlv(0x0C, s.encode()))
    ),
    st.ip_addresses().map(x509.IPAddress),
    st.ip_addresses(v=4).map(lambda a: x509.IPAddress(ipaddress.ip_network(f"{a}/24", False))),
)

pds_locations = st.builds(PdsLocation, ascii_urls, letters2)

STATEMENT_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "QcCompliance": st.just(QcCompliance()),
    "QcSSCD": st.just(QcSSCD()),
    "QcType": st.lists(oids(), min_size=1, max_size=3).map(lambda v: QcType(tuple(v))),
    "QcPDS": st.lists(pds_locations, min_size=1, max_size=3).map(lambda v: QcPDS(tuple(v))),
    "QcRetentionPeriod": st.integers(1, 2**70).map(QcRetentionPeriod),
    "QcLimitValue": st.builds(
        QcLimitValue,
        st.one_of(
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3), st.integers(1, 999)
        ),
        st.integers(0, 2**80),
        st.integers(-(2**20), 2**20),
    ),
    "QcCClegislation": st.lists(upper2, min_size=1, max_size=4).map(
        lambda v: QcCClegislation(tuple(v))
    ),
    "QcIdentMethod": st.lists(oids(), min_size=1, max_size=2).map(
        lambda v: QcIdentMethod(tuple(v))
    ),
    "QcQSCDlegislation": st.lists(upper2, min_size=1, max_size=4).map(
        lambda v: QcQSCDlegislation(tuple(v))
    ),
    "SemanticsInformation": st.one_of(
        st.builds(SemanticsInformation, oids()),
        st.builds(
            SemanticsInformation,
            st.none() | oids(),
            st.lists(general_names, min_size=1, max_size=3).map(tuple),
        ),
    ),
    "PkixQcSyntaxV1": st.builds(
        PkixQcSyntaxV1,
        st.none() | oids(),
        st.lists(general_names, max_size=2).map(tuple),
    ),
    # unknown ids outside the ETSI/PKIX arcs, with any single DER element (or none) as info
    "UnknownStatement": st.builds(
        UnknownStatement,
        oids().filter(
            lambda o: not o.dotted_string.startswith(("0.4.0.1862.", "1.3.6.1.5.5.7.11."))
        ),
        st.none()
        | st.builds(
            tlv,
            st.sampled_from([0x02, 0x04, 0x0C, 0x13, 0x16, 0x30, 0x31, 0x80, 0xA0]),
            st.binary(max_size=300),
        ),
    ),
}


def test_every_statement_class_has_a_round_trip_strategy() -> None:
    assert set(STATEMENT_STRATEGIES) == {cls.__name__ for cls in QcStatement.__args__}


# ----------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind", sorted(STATEMENT_STRATEGIES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_of_each_statement_type(kind: str, data: st.DataObject) -> None:
    statement = data.draw(STATEMENT_STRATEGIES[kind])
    built = QCStatements((statement,))
    decoded = QCStatements.from_der(built.to_der())
    assert decoded.statements == built.statements
    expected_defects = (
        [DefectCode.PKIX_QC_SYNTAX_V1] if isinstance(statement, PkixQcSyntaxV1) else []
    )
    assert [d.code for d in decoded.defects] == expected_defects
    assert decoded.to_der() == built.to_der()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(sorted(set(STATEMENT_STRATEGIES) - {"PkixQcSyntaxV1"})),
        unique=True,
        max_size=8,
    ).flatmap(lambda kinds: st.tuples(*(STATEMENT_STRATEGIES[k] for k in kinds)))
)
def test_round_trip_of_a_whole_extension_keeps_order(statements: tuple[QcStatement, ...]) -> None:
    # one statement per class, so no DUPLICATE_STATEMENT (unknown ids may not collide)
    built = QCStatements(statements)
    decoded = QCStatements.from_der(built.to_der())
    assert decoded.statements == built.statements
    assert decoded.defects == ()
    assert decoded == built


@settings(max_examples=100, deadline=None)
@given(
    oid=oids().filter(lambda o: not o.dotted_string.startswith(("0.4.0.", "1.3.6.1.5.5.7.11."))),
    tag=st.integers(0, 0x1E).map(lambda n: n | 0x80),
    content=st.binary(max_size=200),
)
def test_unknown_statement_is_preserved_byte_for_byte(
    oid: ObjectIdentifier, tag: int, content: bytes
) -> None:
    info = tlv(tag, content)
    extension = seq(seq(bytes.fromhex("060604008e460101")), seq(tlv(0x06, _oid_body(oid)), info))
    decoded = QCStatements.from_der(extension)
    assert decoded.statements[1] == UnknownStatement(oid, info)
    assert decoded.defects == ()
    assert decoded.to_der() == extension


def _oid_body(oid: ObjectIdentifier) -> bytes:
    arcs = [int(a) for a in oid.dotted_string.split(".")]
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def test_psd2_statement_is_kept_as_unknown_statement() -> None:
    psd2_info = seq(seq(seq(tlv(0x06, bytes.fromhex("04008beb4f0101")))), tlv(0x0C, b"NCA"))
    ext = seq(seq(tlv(0x06, _oid_body(QcStatementOID.PSD2)), psd2_info))
    decoded = QCStatements.from_der(ext)
    assert decoded.statements == (UnknownStatement(QcStatementOID.PSD2, psd2_info),)
    assert decoded.to_der() == ext


# ----------------------------------------------------------------- construction rules


@pytest.mark.parametrize(
    ("factory", "args", "error"),
    [
        (PdsLocation, ("https://x/pds.pdf", "eng"), ValueError),
        (PdsLocation, ("https://x/pds.pdf", "e1"), ValueError),
        (PdsLocation, ("", "en"), ValueError),
        (PdsLocation, ("https://x/ñ.pdf", "en"), ValueError),
        (PdsLocation, (b"https://x", "en"), TypeError),
        (QcPDS, ((),), ValueError),
        (QcPDS, (PdsLocation("https://x", "en"),), TypeError),
        (QcPDS, (("https://x",),), TypeError),
        (QcRetentionPeriod, (0,), ValueError),
        (QcRetentionPeriod, (-15,), ValueError),
        (QcRetentionPeriod, (True,), TypeError),
        (QcRetentionPeriod, ("15",), TypeError),
        (QcType, ((),), ValueError),
        (QcType, (("0.4.0.1862.1.6.1",),), TypeError),
        (QcType, (QcTypeOID.ESIGN,), TypeError),
        (QcIdentMethod, ((),), ValueError),
        (QcLimitValue, ("EU", 1, 0), ValueError),
        (QcLimitValue, ("€UR", 1, 0), ValueError),
        (QcLimitValue, (0, 1, 0), ValueError),
        (QcLimitValue, (1000, 1, 0), ValueError),
        (QcLimitValue, ("EUR", -1, 0), ValueError),
        (QcLimitValue, ("EUR", 1, 0.5), TypeError),
        (QcCClegislation, ((),), ValueError),
        (QcCClegislation, (("ESP",),), ValueError),
        (QcCClegislation, ("ES",), TypeError),
        (QcQSCDlegislation, (("E1",),), ValueError),
        (QcQSCDlegislation, ((34,),), TypeError),
        (SemanticsInformation, (None, "https://ra"), TypeError),
        (SemanticsInformation, (), ValueError),
        (SemanticsInformation, ("0.4.0.194121.1.1",), TypeError),
        (SemanticsInformation, (None, ("https://ra",)), TypeError),
        (PkixQcSyntaxV1, ("0.4.0.194121.1.1",), TypeError),
        (UnknownStatement, ("1.2.3", None), TypeError),
        (UnknownStatement, (ObjectIdentifier("1.2.3"), b""), ValueError),
        (UnknownStatement, (ObjectIdentifier("1.2.3"), b"\x04\x05ab"), ValueError),
        (UnknownStatement, (ObjectIdentifier("1.2.3"), b"\x04\x00\x00"), ValueError),
        (UnknownStatement, (ObjectIdentifier("1.2.3"), "x"), TypeError),
        (QCStatements, ((QcCompliance, QcSSCD()),), TypeError),
        (QCStatements, ((QcCompliance(),), ("defect",)), TypeError),
        (QCStatements, (5,), TypeError),
    ],
)
def test_misuse_on_construction_raises(
    factory: Any, args: tuple[Any, ...], error: type[Exception]
) -> None:
    with pytest.raises(error):
        factory(*args)


def test_sequences_given_as_lists_are_stored_as_tuples() -> None:
    qc_type = QcType([QcTypeOID.ESEAL])  # type: ignore[arg-type]
    qcs = QCStatements([QcCompliance(), qc_type])  # type: ignore[arg-type]
    assert qc_type.types == (QcTypeOID.ESEAL,)
    assert isinstance(qcs.statements, tuple)
    assert hash(qcs) == hash(QCStatements((QcCompliance(), QcType((QcTypeOID.ESEAL,)))))


def test_from_der_rejects_non_bytes_with_type_error() -> None:
    with pytest.raises(TypeError):
        QCStatements.from_der("3000")  # type: ignore[arg-type]


def test_from_certificate_rejects_non_certificates_with_type_error() -> None:
    with pytest.raises(TypeError):
        QCStatements.from_certificate(b"...")  # type: ignore[arg-type]


# ----------------------------------------------------------------- queries


def test_queries_on_a_full_extension() -> None:
    pds = (PdsLocation("https://x/es.pdf", "es"), PdsLocation("https://x/en.pdf", "en"))
    qcs = QCStatements(
        (
            QcCompliance(),
            QcSSCD(),
            QcType((QcTypeOID.ESEAL,)),
            QcPDS(pds),
            QcRetentionPeriod(15),
            SemanticsInformation(SemanticsOID.LEGAL),
        )
    )
    assert qcs.is_qualified
    assert qcs.is_qscd
    assert qcs.qc_types == (QcTypeOID.ESEAL,)
    assert qcs.pds_locations == pds
    assert qcs.retention_years == 15
    assert qcs.semantics_identifier == SemanticsOID.LEGAL
    assert qcs.get(QcRetentionPeriod) == QcRetentionPeriod(15)
    assert qcs.has(QcPDS)
    assert not qcs.has(QcLimitValue)
    assert qcs.get(QcLimitValue) is None


def test_queries_on_an_empty_extension() -> None:
    qcs = QCStatements(())
    assert not qcs.is_qualified
    assert not qcs.is_qscd
    assert qcs.qc_types == ()
    assert qcs.pds_locations == ()
    assert qcs.retention_years is None
    assert qcs.semantics_identifier is None


def test_semantics_identifier_falls_back_to_the_v1_defect() -> None:
    qcs = QCStatements((PkixQcSyntaxV1(SemanticsOID.NATURAL),))
    assert qcs.semantics_identifier == SemanticsOID.NATURAL


def test_statement_ids_are_exposed_as_oid() -> None:
    assert QcCompliance.oid == QcStatementOID.QC_COMPLIANCE
    assert SemanticsInformation.oid == QcStatementOID.PKIX_QC_SYNTAX_V2
    assert PkixQcSyntaxV1.oid == QcStatementOID.PKIX_QC_SYNTAX_V1
    assert QcIdentMethod((QcIdentMethodOID.EIDAS2_ACD,)).oid == QcStatementOID.QC_IDENT_METHOD
    assert QCStatements.oid == ExtensionOID.QC_STATEMENTS


# ----------------------------------------------------------------- defects


def codes(qcs: QCStatements) -> list[DefectCode]:
    return [d.code for d in qcs.defects]


def test_pkix_qc_syntax_v1_is_decoded_and_reported() -> None:
    qcs = QCStatements.from_der(seq(seq(OID_V1), seq(OID_COMPLIANCE)))
    assert qcs.statements == (PkixQcSyntaxV1(), QcCompliance())
    assert codes(qcs) == [DefectCode.PKIX_QC_SYNTAX_V1]
    assert qcs.defects[0].statement_oid == QcStatementOID.PKIX_QC_SYNTAX_V1


def test_pkix_qc_syntax_v1_with_semantics_exposes_the_identifier() -> None:
    qcs = QCStatements.from_der(seq(seq(OID_V1, seq(OID_NATURAL))))
    assert qcs.semantics_identifier == SemanticsOID.NATURAL
    assert codes(qcs) == [DefectCode.PKIX_QC_SYNTAX_V1]


def test_qc_sscd_with_a_value_is_still_qscd_and_reported() -> None:
    qcs = QCStatements.from_der(seq(seq(OID_SSCD, tlv(0x0C, b"id-etsi-qcs-QcSSCD"))))
    assert qcs.statements == (QcSSCD(),)
    assert qcs.is_qscd
    assert codes(qcs) == [DefectCode.QC_SSCD_HAS_VALUE]


def test_qc_compliance_with_a_value_is_still_qualified_and_reported() -> None:
    qcs = QCStatements.from_der(seq(seq(OID_COMPLIANCE, tlv(0x05, b""))))
    assert qcs.is_qualified
    assert codes(qcs) == [DefectCode.QC_COMPLIANCE_HAS_VALUE]


def test_qc_type_oid_used_as_statement_id_is_kept_and_reported() -> None:
    info = tlv(0x0C, b"http://www.uanataca.com/public/pki/PDS-SLalto-EN/")
    ext = seq(seq(OID_ESEAL, info))
    qcs = QCStatements.from_der(ext)
    assert qcs.statements == (UnknownStatement(QcTypeOID.ESEAL, info),)
    assert codes(qcs) == [DefectCode.QC_TYPE_OID_AS_STATEMENT]
    assert qcs.qc_types == ()
    assert qcs.to_der() == ext


@pytest.mark.parametrize(
    "statement",
    [
        seq(OID_RETENTION, tlv(0x0C, b"15")),  # retention not an INTEGER
        seq(OID_RETENTION, tlv(0x02, b"\x00")),  # retention 0 years
        seq(OID_RETENTION, tlv(0x02, b"\x00\x0f")),  # non-minimal INTEGER
        seq(OID_RETENTION),  # info missing
        seq(OID_PDS, seq(seq(tlv(0x16, b"https://x"), tlv(0x13, b"eng")))),  # 3-letter language
        seq(OID_PDS, seq(seq(tlv(0x0C, b"https://x"), tlv(0x13, b"en")))),  # url not IA5String
        seq(OID_PDS, seq()),  # no location
        seq(OID_TYPE, seq()),  # no type
        seq(OID_TYPE, tlv(0x06, bytes.fromhex("04008e46010601"))),  # OID not in a SEQUENCE
        seq(OID_V2),  # SemanticsInformation missing
        seq(OID_V2, seq()),  # SemanticsInformation empty
        seq(OID_V2, seq(OID_NATURAL, tlv(0x02, b"\x01"))),  # unexpected element
        seq(OID_V2, seq(seq(tlv(0xA3, b"")))),  # x400Address not supported
        seq(OID_LIMIT, seq(tlv(0x13, b"EUR"), tlv(0x02, b"\x01"))),  # exponent missing
        seq(bytes.fromhex("060604008e460107"), seq(tlv(0x13, b"E"))),  # 1-letter country
        seq(OID_RETENTION, tlv(0x02, b"")),  # empty INTEGER
        seq(OID_PDS, seq(seq(tlv(0x16, b"https://x")))),  # language missing
        seq(OID_V2, seq(seq())),  # empty nameRegistrationAuthorities
        seq(OID_V2, seq(seq(tlv(0x87, b"\x01\x02\x03\x04\x05")))),  # 5-byte iPAddress
        seq(OID_V2, seq(seq(tlv(0x87, b"\x0a\x00\x00\x00\xff\x00\xff\x00")))),  # bad mask
        seq(OID_V2, seq(seq(tlv(0xA4, seq(tlv(0x31, seq(tlv(0x06, b"\x55\x04\x03")))))))),
        seq(
            OID_V2,
            seq(
                seq(tlv(0xA4, seq(tlv(0x31, seq(tlv(0x06, b"\x55\x04\x03"), tlv(0x03, b"\x00"))))))
            ),
        ),
        seq(OID_V2, seq(seq(tlv(0xA0, tlv(0x06, b"\x2a\x03"))))),  # otherName without value
    ],
)
def test_malformed_statement_info_is_kept_as_unknown_and_reported(statement: bytes) -> None:
    ext = seq(seq(OID_COMPLIANCE), statement)
    qcs = QCStatements.from_der(ext)
    assert qcs.statements[0] == QcCompliance()
    assert isinstance(qcs.statements[1], UnknownStatement)
    assert codes(qcs) == [DefectCode.MALFORMED_STATEMENT_INFO]
    assert qcs.to_der() == ext


def test_duplicate_etsi_statement_is_reported_once() -> None:
    qcs = QCStatements.from_der(
        seq(seq(OID_SSCD), seq(OID_SSCD), seq(OID_SSCD), seq(OID_COMPLIANCE))
    )
    assert qcs.statements == (QcSSCD(), QcSSCD(), QcSSCD(), QcCompliance())
    assert codes(qcs) == [DefectCode.DUPLICATE_STATEMENT]
    assert qcs.defects[0].statement_oid == QcStatementOID.QC_SSCD
    assert "3 times" in qcs.defects[0].message


def test_duplicate_non_etsi_statement_is_not_a_defect() -> None:
    qcs = QCStatements.from_der(seq(seq(OID_V2, seq(OID_NATURAL)), seq(OID_V2, seq(OID_NATURAL))))
    assert qcs.defects == ()


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"\x04\x00",  # not a SEQUENCE
        b"\x30\x05\x30\x03",  # truncated
        b"\x30\x80\x00\x00",  # indefinite length (BER)
        b"\x30\x81\x02\x30\x00",  # non-minimal length
        b"\x30\x82\x00\x02\x30\x00",  # non-minimal length (leading zero)
        b"\x30\x89" + bytes(9),  # length of length too large
        b"\x1f\x01\x00",  # high tag number
        b"\x30",  # no length
        b"\x30\x82\x01",  # length cut
        seq(seq(OID_COMPLIANCE)) + b"\x00",  # trailing byte
        seq(b"\x30\x08\x06\x06\x04\x00\x8e\x46\x01"),  # inner element truncated
    ],
)
def test_hopeless_extension_gives_no_statements_and_one_defect(der: bytes) -> None:
    qcs = QCStatements.from_der(der)
    assert qcs.statements == ()
    assert qcs.defects == (QcDefect(DefectCode.MALFORMED_EXTENSION, None, qcs.defects[0].message),)


@pytest.mark.parametrize(
    "element",
    [
        tlv(0x06, bytes.fromhex("04008e460101")),  # an OID where a SEQUENCE belongs
        seq(),  # no statementId
        seq(tlv(0x02, b"\x01")),  # statementId not an OID
        seq(OID_RETENTION, tlv(0x02, b"\x0f"), tlv(0x02, b"\x0f")),  # three elements
        seq(tlv(0x06, b"\x2b\x86")),  # truncated OID
        seq(tlv(0x06, b"\x80\x01")),  # non-minimal OID arc
        seq(tlv(0x06, b"")),  # empty OID
    ],
)
def test_bad_element_is_dropped_and_the_others_are_kept(element: bytes) -> None:
    qcs = QCStatements.from_der(seq(seq(OID_COMPLIANCE), element, seq(OID_SSCD)))
    assert qcs.statements == (QcCompliance(), QcSSCD())
    assert codes(qcs) == [DefectCode.MALFORMED_EXTENSION]
    assert "element 1" in qcs.defects[0].message


# ----------------------------------------------------------------- fuzzing


def _never_raises(data: bytes) -> QCStatements:
    qcs = QCStatements.from_der(data)
    assert isinstance(qcs, QCStatements)
    qcs.to_der()  # whatever was decoded can be encoded again
    return qcs


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    _never_raises(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b"\x30" + bytes([len(b)]) + b if len(b) < 128 else b))
def test_random_sequences_never_raise(data: bytes) -> None:
    _never_raises(data)


FULL = QCStatements(
    (
        SemanticsInformation(
            SemanticsOID.LEGAL,
            (
                x509.UniformResourceIdentifier("https://ra.example"),
                x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "ES")])),
                x509.IPAddress(ipaddress.ip_network("10.0.0.0/8")),
                x509.OtherName(ObjectIdentifier("1.2.3"), b"\x0c\x01a"),
            ),
        ),
        QcCompliance(),
        QcSSCD(),
        QcType((QcTypeOID.ESEAL,)),
        QcPDS((PdsLocation("https://x/en.pdf", "en"),)),
        QcRetentionPeriod(15),
        QcLimitValue("EUR", 10, 3),
        QcCClegislation(("CH",)),
        QcIdentMethod((QcIdentMethodOID.EIDAS2_B,)),
        QcQSCDlegislation(("ES",)),
    )
).to_der()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(FULL) - 1))
def test_truncated_der_never_raises(cut: int) -> None:
    qcs = _never_raises(FULL[:cut])
    assert codes(qcs) == [DefectCode.MALFORMED_EXTENSION]


@settings(max_examples=500, deadline=None)
@given(st.integers(0, len(FULL) - 1), st.integers(0, 255))
def test_single_byte_mutations_never_raise(position: int, value: int) -> None:
    mutated = bytearray(FULL)
    mutated[position] = value
    _never_raises(bytes(mutated))


def test_full_extension_decodes_without_defects() -> None:
    qcs = QCStatements.from_der(FULL)
    assert qcs.defects == ()
    assert len(qcs.statements) == 10
    assert qcs.to_der() == FULL


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([0x80, 0x81, 0x82, 0x86, 0x87, 0x88, 0xA0, 0xA3, 0xA4]),
    st.binary(max_size=60),
    st.sampled_from([0x03, 0x0C, 0x12, 0x13, 0x14, 0x16, 0x1A, 0x1C, 0x1E]),
    st.binary(max_size=20),
)
def test_random_general_names_never_raise(
    tag: int, body: bytes, value_tag: int, value: bytes
) -> None:
    _never_raises(seq(seq(OID_V2, seq(seq(tlv(tag, body))))))
    name = seq(tlv(0x31, seq(tlv(0x06, b"\x55\x04\x03"), tlv(value_tag, value))))
    _never_raises(seq(seq(OID_V2, seq(seq(tlv(0xA4, name))))))
    other = tlv(0x06, b"\x2a\x03") + tlv(0xA0, tlv(value_tag, value))
    _never_raises(seq(seq(OID_V2, seq(seq(tlv(0xA0, other))))))


def test_directory_name_longer_than_x520_bounds_is_kept() -> None:
    # EN 319 412-2/-3 allow names over the X.520 upper bounds (CN > 64 characters).
    long_cn = "CONSELL INSULAR DE MENORCA - SELLO ELECTRONICO DE NIVEL MEDIO - SISTEMA"
    name = seq(tlv(0x31, seq(tlv(0x06, b"\x55\x04\x03"), tlv(0x0C, long_cn.encode()))))
    qcs = _never_raises(seq(seq(OID_V2, seq(OID_NATURAL, seq(tlv(0xA4, name))))))
    assert qcs.defects == ()
    statement = qcs.statements[0]
    assert isinstance(statement, SemanticsInformation)
    directory = statement.name_registration_authorities[0]
    assert isinstance(directory, x509.DirectoryName)
    assert directory.value.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == long_cn


def test_oid_arcs_cryptography_cannot_hold_are_reported_not_raised() -> None:
    huge = b"\x2a" + bytes([0x81] * 200 + [0x01])
    qcs = _never_raises(seq(seq(tlv(0x06, huge)), seq(OID_COMPLIANCE)))
    assert qcs.statements == (QcCompliance(),)
    assert codes(qcs) == [DefectCode.MALFORMED_EXTENSION]
    qcs = _never_raises(seq(seq(OID_V2, seq(tlv(0x06, huge)))))
    assert codes(qcs) == [DefectCode.MALFORMED_STATEMENT_INFO]


def test_malformed_pkix_qc_syntax_v1_reports_both_defects() -> None:
    info = tlv(0x02, b"\x01")
    qcs = QCStatements.from_der(seq(seq(OID_V1, info)))
    assert qcs.statements == (UnknownStatement(QcStatementOID.PKIX_QC_SYNTAX_V1, info),)
    assert codes(qcs) == [DefectCode.PKIX_QC_SYNTAX_V1, DefectCode.MALFORMED_STATEMENT_INFO]


def test_qc_type_oid_as_statement_without_info_is_kept() -> None:
    qcs = QCStatements.from_der(seq(seq(OID_ESIGN)))
    assert qcs.statements == (UnknownStatement(QcTypeOID.ESIGN, None),)
    assert codes(qcs) == [DefectCode.QC_TYPE_OID_AS_STATEMENT]


def test_defects_of_filters_by_code() -> None:
    qcs = QCStatements.from_der(seq(seq(OID_V1), seq(OID_SSCD, tlv(0x05, b"")), seq(OID_SSCD)))
    assert [d.code for d in qcs.defects_of(DefectCode.QC_SSCD_HAS_VALUE)] == [
        DefectCode.QC_SSCD_HAS_VALUE
    ]
    assert len(qcs.defects_of(DefectCode.DUPLICATE_STATEMENT)) == 1
    assert qcs.defects_of(DefectCode.MALFORMED_EXTENSION) == ()
