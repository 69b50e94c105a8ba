"""Our qcStatements DER, checked by independent decoders: OpenSSL and pkilint."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qcertlib.oids import QcIdentMethodOID, QcStatementOID, QcTypeOID, SemanticsOID
from qcertlib.qcstatements import (
    DefectCode,
    PdsLocation,
    QcCClegislation,
    QcCompliance,
    QcIdentMethod,
    QcLimitValue,
    QcPDS,
    QcQSCDlegislation,
    QcRetentionPeriod,
    QcSSCD,
    QCStatements,
    QcType,
    SemanticsInformation,
    UnknownStatement,
)
from tests.conftest import real_cert_path, require_tool

pytestmark = pytest.mark.oracle

ALL_KINDS = QCStatements(
    (
        QcCompliance(),
        QcSSCD(),
        QcType((QcTypeOID.ESIGN,)),
        QcPDS(
            (
                PdsLocation("https://x.example/pds_es.pdf", "es"),
                PdsLocation("https://x.example/pds_en.pdf", "en"),
            )
        ),
        QcRetentionPeriod(15),
        QcLimitValue("EUR", 1000, 2),
        QcCClegislation(("CH",)),
        QcIdentMethod((QcIdentMethodOID.EIDAS2_ACD,)),
        QcQSCDlegislation(("ES",)),
        SemanticsInformation(
            SemanticsOID.NATURAL, (x509.UniformResourceIdentifier("https://ra.example/"),)
        ),
        UnknownStatement(QcStatementOID.PSD2, b"\x0c\x03NCA"),
    )
)

# What `openssl asn1parse -i` must print for ALL_KINDS, in order (type and value).
EXPECTED_ASN1PARSE = [
    ("SEQUENCE", ""),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.1"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.4"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.6"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.6.1"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.5"),
    ("SEQUENCE", ""),
    ("SEQUENCE", ""),
    ("IA5STRING", "https://x.example/pds_es.pdf"),
    ("PRINTABLESTRING", "es"),
    ("SEQUENCE", ""),
    ("IA5STRING", "https://x.example/pds_en.pdf"),
    ("PRINTABLESTRING", "en"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.3"),
    ("INTEGER", "0F"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.2"),
    ("SEQUENCE", ""),
    ("PRINTABLESTRING", "EUR"),
    ("INTEGER", "03E8"),
    ("INTEGER", "02"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.7"),
    ("SEQUENCE", ""),
    ("PRINTABLESTRING", "CH"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.8"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.8.3"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.1862.1.9"),
    ("SEQUENCE", ""),
    ("PRINTABLESTRING", "ES"),
    ("SEQUENCE", ""),
    ("OBJECT", "1.3.6.1.5.5.7.11.2"),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.194121.1.1"),
    ("SEQUENCE", ""),
    ("cont [ 6 ]", ""),
    ("SEQUENCE", ""),
    ("OBJECT", "0.4.0.19495.2"),
    ("UTF8STRING", "NCA"),
]

_LINE = re.compile(r"^\s*\d+:d=\d+\s+hl=\d+ l=\s*\d+ (?:prim|cons):\s*(.*?)\s*$")


def parse_asn1parse(text: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        assert match, line
        kind, _, value = match.group(1).partition(":")
        rows.append((kind.strip(), value.strip()))
    return rows


def make_cert(tmp_path: Path, qcs: QCStatements, name: str = "cert.pem") -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "IDCES-99999999R"),
            x509.NameAttribute(NameOID.GIVEN_NAME, "PRUEBAS"),
            x509.NameAttribute(NameOID.SURNAME, "EIDAS CERTIFICADO"),
            x509.NameAttribute(NameOID.COMMON_NAME, "EIDAS CERTIFICADO PRUEBAS - 99999999R"),
        ]
    )
    ext = qcs.to_extension()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(ext.value, critical=ext.critical)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / name
    path.write_bytes(cert.public_bytes(Encoding.PEM))
    return path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


def test_openssl_asn1parse_reads_our_der(tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    der = tmp_path / "qcs.der"
    der.write_bytes(ALL_KINDS.to_der())
    result = run(openssl, "asn1parse", "-inform", "DER", "-in", str(der), "-i")
    assert result.returncode == 0, result.stderr
    assert parse_asn1parse(result.stdout) == EXPECTED_ASN1PARSE


def test_openssl_reads_the_extension_inside_a_certificate(tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    cert = make_cert(tmp_path, ALL_KINDS)
    text = run(openssl, "x509", "-in", str(cert), "-noout", "-text")
    assert text.returncode == 0, text.stderr
    assert "qcStatements:" in text.stdout
    # find the extnValue that follows the qcStatements OID and parse inside it
    outer = run(openssl, "asn1parse", "-in", str(cert))
    assert outer.returncode == 0, outer.stderr
    lines = outer.stdout.splitlines()
    index = next(i for i, line in enumerate(lines) if ":qcStatements" in line)
    offset = lines[index + 1].split(":", 1)[0].strip()
    assert "OCTET STRING" in lines[index + 1]
    inner = run(openssl, "asn1parse", "-in", str(cert), "-strparse", offset, "-i")
    assert inner.returncode == 0, inner.stderr
    assert parse_asn1parse(inner.stdout) == EXPECTED_ASN1PARSE


def _fatal_findings(lint_etsi_cert: str, cert: Path) -> list[str]:
    result = run(
        lint_etsi_cert,
        "lint",
        "-t",
        "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE",
        "-s",
        "FATAL",
        "-f",
        "JSON",
        str(cert),
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    return [
        f"{finding['code']}: {finding['message']}"
        for entry in report["results"]
        for finding in entry["finding_descriptions"]
    ]


def test_pkilint_decodes_our_statements_without_asn1_errors(tmp_path: Path) -> None:
    lint_etsi_cert = require_tool("lint_etsi_cert")["lint_etsi_cert"]
    ours = QCStatements(
        tuple(s for s in ALL_KINDS.statements if not isinstance(s, UnknownStatement))
    )
    assert _fatal_findings(lint_etsi_cert, make_cert(tmp_path, ours)) == []


def test_pkilint_control_qc_sscd_with_a_value_is_fatal(tmp_path: Path) -> None:
    # The oracle does see decoding problems: the Vincasign defect, rebuilt by hand.
    lint_etsi_cert = require_tool("lint_etsi_cert")["lint_etsi_cert"]
    broken = QCStatements((QcCompliance(), UnknownStatement(QcStatementOID.QC_SSCD, b"\x0c\x02id")))
    findings = _fatal_findings(lint_etsi_cert, make_cert(tmp_path, broken))
    assert any("invalid_asn1_syntax" in f for f in findings), findings


@pytest.mark.parametrize(
    ("name", "pkilint_code", "defect"),
    [
        (
            "accv-real-sello-organo-consell-insular-menorca.pem",
            "pkix.prohibited_qualified_statement_present",
            DefectCode.PKIX_QC_SYNTAX_V1,
        ),
        (
            "aapp-test-sello-alto-vincasign.pem",
            "itu.invalid_asn1_syntax",
            DefectCode.QC_SSCD_HAS_VALUE,
        ),
        ("fnmt-test-empleado-publico-00000000T.pem", None, None),
    ],
)
def test_pkilint_and_our_defects_agree_on_real_certificates(
    name: str, pkilint_code: str | None, defect: DefectCode | None
) -> None:
    lint_etsi_cert = require_tool("lint_etsi_cert")["lint_etsi_cert"]
    path = real_cert_path(name)
    result = run(lint_etsi_cert, "lint", "-d", "-r", "-s", "ERROR", "-f", "JSON", str(path))
    report = json.loads(result.stdout)
    pkilint_codes = {
        finding["code"] for entry in report["results"] for finding in entry["finding_descriptions"]
    }
    ours = QCStatements.from_certificate(x509.load_pem_x509_certificate(path.read_bytes()))
    assert ours is not None
    our_codes = {d.code for d in ours.defects}
    qc_codes = {"pkix.prohibited_qualified_statement_present", "itu.invalid_asn1_syntax"}
    assert pkilint_codes & qc_codes == ({pkilint_code} if pkilint_code else set())
    assert our_codes == ({defect} if defect else set())
