"""``qcert qcs``: the QC statements of a certificate file, as text or JSON."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qcertlib.cli import main
from qcertlib.oids import QcStatementOID
from qcertlib.qcstatements import (
    QcCClegislation,
    QcIdentMethod,
    QcLimitValue,
    QCStatements,
    SemanticsInformation,
    UnknownStatement,
)
from tests.conftest import real_cert_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["qcs", *args])
    return result.exit_code, result.stdout, result.stderr


def test_text_lists_statements_with_human_names() -> None:
    code, out, _ = run(str(real_cert_path("fnmt-test-empleado-publico-00000000T.pem")))
    assert code == 0
    assert "5 QC statement(s); qualified: yes, QSCD: no" in out
    assert "QcType (0.4.0.1862.1.6): QcType esign (0.4.0.1862.1.6.1)" in out
    assert "QcRetentionPeriod (0.4.0.1862.1.3): 15 years" in out
    assert "[es] https://www.cert.fnmt.es/pds/PDS_SP_es.pdf" in out
    assert "pkixQCSyntax-v2 (1.3.6.1.5.5.7.11.2): semanticsId-Natural (0.4.0.194121.1.1)" in out
    assert "defects: none" in out


def test_text_shows_defects() -> None:
    code, out, _ = run(str(real_cert_path("accv-real-sello-organo-consell-insular-menorca.pem")))
    assert code == 0
    assert "defects (1):" in out
    assert "pkix-qc-syntax-v1: pkixQCSyntax-v1 must not be used" in out


def test_json_has_statements_and_defects() -> None:
    code, out, _ = run(
        str(real_cert_path("aapp-test-sello-alto-vincasign.pem")), "--format", "json"
    )
    assert code == 0
    report = json.loads(out)
    assert report["present"] is True
    assert report["qualified"] is True
    assert report["qscd"] is True
    kinds = [s["kind"] for s in report["statements"]]
    assert kinds == [
        "SemanticsInformation",
        "QcCompliance",
        "QcRetentionPeriod",
        "QcType",
        "QcPDS",
        "QcSSCD",
    ]
    assert report["statements"][0]["semantics_identifier"] == {
        "oid": "0.4.0.194121.1.2",
        "name": "semanticsId-Legal",
    }
    assert [d["code"] for d in report["defects"]] == ["qc-sscd-has-value"]
    assert report["defects"][0]["statement_oid"] == "0.4.0.1862.1.4"


def test_json_keeps_unknown_statement_bytes() -> None:
    code, out, _ = run(
        str(real_cert_path("aapp-test-sello-alto-uanataca-nube.pem")), "--format", "json"
    )
    assert code == 0
    unknown = json.loads(out)["statements"][3]
    assert unknown["kind"] == "UnknownStatement"
    assert unknown["name"] == "QcType eseal"
    assert bytes.fromhex(unknown["info_der"]).endswith(b"/PDS-SLalto-EN/")


def test_certificate_without_the_extension() -> None:
    path = str(real_cert_path("fnmt-ac-raiz-fnmt-rcm.pem"))
    code, out, _ = run(path)
    assert code == 0
    assert out.strip() == f"{path}: no qcStatements extension"
    code, out, _ = run(path, "--format", "json")
    assert json.loads(out) == {"file": path, "present": False, "statements": [], "defects": []}


def test_unreadable_certificate_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"not a certificate")
    code, out, err = run(str(bad))
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {bad}:")


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "missing.pem"))
    assert code == 2
    assert "does not exist" in err


def test_every_value_kind_is_rendered(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])
    qcs = QCStatements(
        (
            QcLimitValue("EUR", 5, 3),
            QcCClegislation(("CH", "NO")),
            QcIdentMethod((x509.ObjectIdentifier("0.4.0.1862.1.8.2"),)),
            SemanticsInformation(
                None,
                (
                    x509.UniformResourceIdentifier("https://ra.example/"),
                    x509.DirectoryName(name),
                    x509.RegisteredID(x509.ObjectIdentifier("1.2.3")),
                    x509.OtherName(x509.ObjectIdentifier("1.2.4"), b"\x05\x00"),
                ),
            ),
            UnknownStatement(QcStatementOID.PSD2, None),
        )
    )
    ext = qcs.to_extension()
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(ext.value, critical=False)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "c.der"
    path.write_bytes(cert.public_bytes(Encoding.DER))
    code, out, _ = run(str(path))
    assert code == 0
    assert "QcLimitValue (0.4.0.1862.1.2): 5 x 10^3 EUR" in out
    assert "QcCClegislation (0.4.0.1862.1.7): CH, NO" in out
    assert "QcIdentMethod eIDAS1-cd (0.4.0.1862.1.8.2)" in out
    assert "pkixQCSyntax-v2 (1.3.6.1.5.5.7.11.2): no semantics identifier" in out
    assert "registration authority UniformResourceIdentifier: https://ra.example/" in out
    assert "registration authority DirectoryName: CN=t" in out
    assert "registration authority RegisteredID: 1.2.3" in out
    assert "registration authority OtherName: 1.2.4=0500" in out
    assert "PSD2 QcStatement (0.4.0.19495.2): not decoded, statementInfo absent" in out
    code, out, _ = run(str(path), "--format", "json")
    report = json.loads(out)
    assert report["statements"][0] == {
        "kind": "QcLimitValue",
        "oid": "0.4.0.1862.1.2",
        "name": "QcLimitValue",
        "currency": "EUR",
        "amount": 5,
        "exponent": 3,
    }
    assert report["statements"][2]["methods"] == [
        {"oid": "0.4.0.1862.1.8.2", "name": "QcIdentMethod eIDAS1-cd"}
    ]
