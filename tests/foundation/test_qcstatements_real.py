"""QC statements of the real / official-test certificates (tests/vectors/real-certs).

Expected values were read from the certificates with
``openssl asn1parse -inform DER`` on each extension value (see SOURCES.md).
"""

from __future__ import annotations

import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from qcertlib.oids import ExtensionOID, QcTypeOID, SemanticsOID
from qcertlib.qcstatements import (
    DefectCode,
    PdsLocation,
    PkixQcSyntaxV1,
    QcCompliance,
    QcPDS,
    QcRetentionPeriod,
    QcSSCD,
    QcStatement,
    QCStatements,
    QcType,
    SemanticsInformation,
    UnknownStatement,
)
from tests.conftest import REAL_CERTS, real_cert_path, real_p12_bytes


def load(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(real_cert_path(name).read_bytes())


def decode(name: str) -> QCStatements:
    qcs = QCStatements.from_certificate(load(name))
    assert qcs is not None
    return qcs


FNMT = "https://www.cert.fnmt.es/pds/"
ESFIRMA = "https://www.esfirma.com/doc-pki/PDS2/SO2-MEDIO-SOFT-"
FIRMAPROFESIONAL_PDS = QcPDS(
    (PdsLocation("https://www.firmaprofesional.com/cps/pds_en.pdf", "en"),)
)
VINCASIGN = "https://www.vincasign.net/policy/"
ESIGN = QcType((QcTypeOID.ESIGN,))
ESEAL = QcType((QcTypeOID.ESEAL,))
R15 = QcRetentionPeriod(15)
NATURAL = SemanticsInformation(SemanticsOID.NATURAL)
LEGAL = SemanticsInformation(SemanticsOID.LEGAL)
FNMT_USUARIOS_PDS = QcPDS(
    (
        PdsLocation(FNMT + "PDSACUsuarios_es.pdf", "es"),
        PdsLocation(FNMT + "PDSACUsuarios_en.pdf", "en"),
    )
)
UANATACA_INFO = b"\x0c\x31" + b"http://www.uanataca.com/public/pki/PDS-SLalto-EN/"

# file -> (statements in certificate order, defect codes)
EXPECTED: dict[str, tuple[tuple[QcStatement, ...], tuple[DefectCode, ...]]] = {
    "fnmt-test-eidas-certificado-pruebas-99999999R.pem": (
        (QcCompliance(), R15, ESIGN, FNMT_USUARIOS_PDS),
        (),
    ),
    "fnmt-test-eidas-certificado-pruebas-99999999R-2020.pem": (
        (QcCompliance(), R15, ESIGN, FNMT_USUARIOS_PDS),
        (),
    ),
    "fnmt-test-empleado-publico-00000000T.pem": (
        (
            QcCompliance(),
            R15,
            ESIGN,
            QcPDS(
                (
                    PdsLocation(FNMT + "PDS_SP_es.pdf", "es"),
                    PdsLocation(FNMT + "PDS_SP_en.pdf", "en"),
                )
            ),
            NATURAL,
        ),
        (),
    ),
    "fnmt-test-empleado-publico-alto-firma-centralizada.pem": (
        (
            QcCompliance(),
            R15,
            ESIGN,
            QcPDS(
                (
                    PdsLocation(FNMT + "PDS_AP_es.pdf", "es"),
                    PdsLocation(FNMT + "PDS_AP_en.pdf", "en"),
                )
            ),
            NATURAL,
            QcSSCD(),
        ),
        (),
    ),
    "accv-real-sello-organo-consell-insular-menorca.pem": (
        (
            PkixQcSyntaxV1(),
            QcCompliance(),
            R15,
            ESEAL,
            QcPDS(
                (
                    PdsLocation(
                        "https://www.accv.es/fileadmin/Archivos/Practicas_de_certificacion/"
                        "ACCV-PDS-V1.0-EN.pdf",
                        "en",
                    ),
                )
            ),
        ),
        (DefectCode.PKIX_QC_SYNTAX_V1,),
    ),
    "aapp-test-sello-medio-esfirma-soft.pem": (
        (
            QcCompliance(),
            ESEAL,
            R15,
            QcPDS(
                (
                    PdsLocation(ESFIRMA + "EN/", "en"),
                    PdsLocation(ESFIRMA + "ES/", "es"),
                )
            ),
            LEGAL,
        ),
        (),
    ),
    "aapp-test-sello-medio-firmaprofesional-sw.pem": (
        (QcCompliance(), R15, ESEAL, FIRMAPROFESIONAL_PDS),
        (),
    ),
    "aapp-test-sello-alto-firmaprofesional-hsm.pem": (
        (QcCompliance(), R15, QcSSCD(), ESEAL, FIRMAPROFESIONAL_PDS),
        (),
    ),
    "aapp-test-sello-alto-vincasign.pem": (
        (
            LEGAL,
            QcCompliance(),
            R15,
            ESEAL,
            QcPDS(
                (
                    PdsLocation(VINCASIGN + "en/PDS-SELLO-ALTO/pds-sello-alto-en.pdf", "en"),
                    PdsLocation(VINCASIGN + "es/PDS-SELLO-ALTO/pds-sello-alto-es.pdf", "es"),
                )
            ),
            QcSSCD(),
        ),
        (DefectCode.QC_SSCD_HAS_VALUE,),
    ),
    "aapp-test-sello-medio-vincasign.pem": (
        (
            LEGAL,
            QcCompliance(),
            R15,
            ESEAL,
            QcPDS(
                (
                    # the Spanish document is tagged "en" and the English one "es"
                    PdsLocation(VINCASIGN + "es/PDS-SELLO-MEDIO/pds-sello-medio-es.pdf", "en"),
                    PdsLocation(VINCASIGN + "en/PDS-SELLO-MEDIO/pds-sello-medio-en.pdf", "es"),
                )
            ),
        ),
        (),
    ),
    "aapp-test-sello-alto-uanataca-nube.pem": (
        (
            QcCompliance(),
            R15,
            QcSSCD(),
            UnknownStatement(QcTypeOID.ESEAL, UANATACA_INFO),
        ),
        (DefectCode.QC_TYPE_OID_AS_STATEMENT,),
    ),
}

CA_CERTS = sorted(p.name for p in REAL_CERTS.glob("*.pem") if p.name not in EXPECTED)


def test_every_real_certificate_is_either_expected_or_a_ca() -> None:
    for name in CA_CERTS:
        assert load(name).extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_leaf_statements_and_defects(name: str) -> None:
    statements, defect_codes = EXPECTED[name]
    qcs = decode(name)
    assert qcs.statements == statements
    assert tuple(d.code for d in qcs.defects) == defect_codes


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"aapp-test-sello-alto-vincasign.pem"}))
def test_real_extension_re_encodes_to_the_same_bytes(name: str) -> None:
    cert = load(name)
    original = cert.extensions.get_extension_for_oid(ExtensionOID.QC_STATEMENTS).value
    assert isinstance(original, x509.UnrecognizedExtension)
    assert decode(name).to_der() == original.value


@pytest.mark.parametrize("name", CA_CERTS)
def test_ca_certificates_have_no_qc_statements(name: str) -> None:
    assert QCStatements.from_certificate(load(name)) is None


@pytest.mark.parametrize(
    ("name", "qualified", "qscd", "types", "semantics", "languages"),
    [
        ("fnmt-test-eidas-certificado-pruebas-99999999R.pem", True, False, "esign", None, "es en"),
        (
            "fnmt-test-eidas-certificado-pruebas-99999999R-2020.pem",
            True,
            False,
            "esign",
            None,
            "es en",
        ),
        ("fnmt-test-empleado-publico-00000000T.pem", True, False, "esign", "N", "es en"),
        (
            "fnmt-test-empleado-publico-alto-firma-centralizada.pem",
            True,
            True,
            "esign",
            "N",
            "es en",
        ),
        ("accv-real-sello-organo-consell-insular-menorca.pem", True, False, "eseal", None, "en"),
        ("aapp-test-sello-medio-esfirma-soft.pem", True, False, "eseal", "L", "en es"),
        ("aapp-test-sello-medio-firmaprofesional-sw.pem", True, False, "eseal", None, "en"),
        ("aapp-test-sello-alto-firmaprofesional-hsm.pem", True, True, "eseal", None, "en"),
        ("aapp-test-sello-alto-vincasign.pem", True, True, "eseal", "L", "en es"),
        ("aapp-test-sello-medio-vincasign.pem", True, False, "eseal", "L", "en es"),
        ("aapp-test-sello-alto-uanataca-nube.pem", True, True, "", None, ""),
    ],
)
def test_real_leaf_summary_properties(
    name: str, qualified: bool, qscd: bool, types: str, semantics: str | None, languages: str
) -> None:
    qcs = decode(name)
    type_oids = {"esign": (QcTypeOID.ESIGN,), "eseal": (QcTypeOID.ESEAL,), "": ()}
    semantics_oids = {"N": SemanticsOID.NATURAL, "L": SemanticsOID.LEGAL, None: None}
    assert qcs.is_qualified is qualified
    assert qcs.is_qscd is qscd
    assert qcs.qc_types == type_oids[types]
    assert qcs.semantics_identifier == semantics_oids[semantics]
    assert " ".join(loc.language for loc in qcs.pds_locations) == languages
    assert qcs.retention_years == 15


def test_fnmt_pds_urls_are_https() -> None:
    for name in EXPECTED:
        if name.startswith("fnmt-"):
            assert all(loc.url.startswith("https://") for loc in decode(name).pds_locations)


def test_duplicated_extension_is_read_from_the_raw_certificate() -> None:
    # Turn the authorityInfoAccess OID (1.3.6.1.5.5.7.1.1) into a second qcStatements:
    # cryptography then refuses the extensions; the signature no longer matters here.
    der = bytearray(
        load("fnmt-test-eidas-certificado-pruebas-99999999R.pem").public_bytes(Encoding.DER)
    )
    aia = bytes.fromhex("06082b06010505070101")
    at = der.index(aia)
    der[at + len(aia) - 1] = 0x03
    cert = x509.load_der_x509_certificate(bytes(der))
    with pytest.raises(x509.DuplicateExtension):
        _ = cert.extensions
    qcs = QCStatements.from_certificate(cert)
    assert qcs is not None
    assert DefectCode.DUPLICATE_EXTENSION in [d.code for d in qcs.defects]
    assert "2 times" in qcs.defects_of(DefectCode.DUPLICATE_EXTENSION)[0].message


def test_qc_statements_are_read_when_another_extension_is_malformed() -> None:
    # keyUsage 03 02 05 e0 (BIT STRING) becomes an OCTET STRING: cryptography refuses it.
    der = bytearray(
        load("fnmt-test-eidas-certificado-pruebas-99999999R.pem").public_bytes(Encoding.DER)
    )
    key_usage = bytes.fromhex("0603551d0f0101ff0404030205e0")
    at = der.index(key_usage)
    der[at + 10] = 0x04
    cert = x509.load_der_x509_certificate(bytes(der))
    with pytest.raises(ValueError, match=r"."):
        _ = cert.extensions
    qcs = QCStatements.from_certificate(cert)
    assert qcs is not None
    assert qcs.statements == EXPECTED["fnmt-test-eidas-certificado-pruebas-99999999R.pem"][0]
    assert qcs.defects == ()


def test_raw_reading_returns_none_without_the_extension() -> None:
    der = bytearray(load("fnmt-ac-fnmt-usuarios.pem").public_bytes(Encoding.DER))
    # corrupt basicConstraints (2.5.29.19) the same way: BOOLEAN/SEQUENCE -> OCTET STRING
    at = der.index(bytes.fromhex("0603551d13"))
    value = der.index(b"\x04", at + 5)
    der[value + 2] = 0x04
    cert = x509.load_der_x509_certificate(bytes(der))
    with pytest.raises(ValueError, match=r"."):
        _ = cert.extensions
    assert QCStatements.from_certificate(cert) is None


@pytest.mark.parametrize(
    ("p12", "password"),
    [
        ("fnmt-test-99999999R-2020.p12", b"1234"),
        ("fnmt-test-empleado-publico-00000000T-and-99999999R.p12", b"123456"),
    ],
)
def test_certificates_inside_the_pkcs12_vectors_decode_like_their_pem(
    p12: str, password: bytes
) -> None:
    with warnings.catch_warnings():
        # the 2020 FNMT file is BER; SOURCES.md documents cryptography's warning about it
        warnings.filterwarnings("ignore", message="PKCS#12 bundle could not be parsed as DER")
        bundle = pkcs12.load_pkcs12(real_p12_bytes(p12), password)
    certs = [
        c.certificate for c in ([bundle.cert] if bundle.cert else []) + bundle.additional_certs
    ]
    pem_by_der = {load(name).public_bytes(Encoding.DER): name for name in [*EXPECTED, *CA_CERTS]}
    leaves = 0
    for cert in certs:
        name = pem_by_der[cert.public_bytes(Encoding.DER)]
        qcs = QCStatements.from_certificate(cert)
        if name in EXPECTED:
            leaves += 1
            assert qcs is not None
            assert qcs.statements == EXPECTED[name][0]
        else:
            assert qcs is None
    assert leaves >= 1
