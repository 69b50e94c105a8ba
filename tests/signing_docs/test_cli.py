"""``qcert sign pades|xades`` end to end (then ``qcert verify`` and our validators)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from qcertlib.cli import main
from qcertlib.signing.options import DigestAlgorithm, SignatureLevel
from qcertlib.validation import Indication, ValidationPolicy, validate_pdf, validate_xml
from tests.signing_docs.conftest import Pki, make_pdf

PIN = "1234-secret"


@pytest.fixture
def files(pki: Pki, tmp_path: Path) -> dict[str, Path]:
    p12 = tmp_path / "signer.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"signer",
            pki.signer_key,
            pki.signer,
            [pki.ca, pki.root],
            BestAvailableEncryption(PIN.encode()),
        )
    )
    pin = tmp_path / "pin.txt"
    pin.write_text(PIN + "\n")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not-the-pin\n")
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    pdf = tmp_path / "in.pdf"
    pdf.write_bytes(make_pdf())
    xml = tmp_path / "factura.xml"
    xml.write_bytes(b'<Factura xmlns="urn:example"><Total>10</Total></Factura>')
    return {"p12": p12, "pin": pin, "wrong": wrong, "root": root, "pdf": pdf, "xml": xml}


def run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def test_sign_pades_visible_then_verify(pki: Pki, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    code, output = run(
        "sign", "pades", files["pdf"], "--p12", files["p12"], "--pin-file", files["pin"],
        "--out", out, "--visible", "--reason", "Conforme",
    )  # fmt: skip
    assert code == 0, output
    assert "PAdES B-B" in output
    assert PIN not in output
    report = validate_pdf(out.read_bytes(), ValidationPolicy(trust_roots=(pki.root,)))
    assert report.signatures[0].signer_certificate == pki.signer
    assert not list(tmp_path.glob(".*.part"))
    code, output = run("verify", out, "--trust", files["root"])
    assert code == 0, output
    assert "TOTAL_PASSED" in output


def test_sign_xades_enveloped_and_detached(
    pki: Pki, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "signed.xml"
    code, output = run(
        "sign", "xades", files["xml"], "--p12", files["p12"], "--pin-file", files["pin"],
        "--out", out,
        "--policy-oid", "2.16.724.1.3.1.1.2.1.9",
        "--policy-uri", "http://www.facturae.es/politica_de_firma_formato_facturae/politica_de_firma_formato_facturae_v3_1.pdf",
        "--policy-hash", base64.b64encode(DigestAlgorithm.SHA256.digest(b"policy")).decode(),
        "--role", "emisor", "--signing-certificate-v1",
    )  # fmt: skip
    assert code == 0, output
    policy = ValidationPolicy(trust_roots=(pki.root,), fetch_revocation=True)
    (sig,) = validate_xml(out.read_bytes(), policy).signatures
    assert sig.indication is Indication.TOTAL_PASSED, sig.messages
    assert any("EPES" in m for m in sig.messages)
    assert b"<xades:ClaimedRole>emisor</xades:ClaimedRole>" in out.read_bytes()

    det = tmp_path / "pdf.xades.xml"
    code, output = run(
        "sign", "xades", files["pdf"], "--p12", files["p12"], "--pin-file", files["pin"],
        "--out", det, "--detached",
    )  # fmt: skip
    assert code == 0, output
    report = validate_xml(det.read_bytes(), policy, content=files["pdf"].read_bytes())
    assert report.passed, report.to_text()


def test_wrong_pin_exits_2_without_echoing_it(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.pdf"
    code, output = run(
        "sign", "pades", files["pdf"], "--p12", files["p12"], "--pin-file", files["wrong"],
        "--out", out,
    )  # fmt: skip
    assert code == 2
    assert "Pkcs12PasswordError" in output
    assert "not-the-pin" not in output
    assert not out.exists()


def test_b_t_without_tsa_is_a_usage_error(files: dict[str, Path], tmp_path: Path) -> None:
    code, output = run(
        "sign", "xades", files["xml"], "--p12", files["p12"], "--pin-file", files["pin"],
        "--out", tmp_path / "o.xml", "--level", "B-T",
    )  # fmt: skip
    assert code == 2
    assert "--tsa" in output


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"no pdf here", "not a PDF")],
    ids=["empty", "not-pdf"],
)
def test_bad_pdf_input_exits_2_and_leaves_nothing(
    content: bytes, message: str, files: dict[str, Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(content)
    out = tmp_path / "out.pdf"
    code, output = run(
        "sign", "pades", bad, "--p12", files["p12"], "--pin-file", files["pin"], "--out", out
    )
    assert code == 2
    assert message in output
    assert not out.exists()
    assert not list(tmp_path.glob(".*.part"))


def test_xml_with_external_entity_exits_2(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "xxe.xml"
    bad.write_bytes(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>')
    code, output = run(
        "sign", "xades", bad, "--p12", files["p12"], "--pin-file", files["pin"],
        "--out", tmp_path / "o.xml",
    )  # fmt: skip
    assert code == 2
    assert "refused" in output


def test_sign_pades_b_lta_with_the_served_tsa(
    pki: Pki, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "lta.pdf"
    code, output = run(
        "sign", "pades", files["pdf"], "--p12", files["p12"], "--pin-file", files["pin"],
        "--out", out, "--level", "B-LTA", "--tsa", f"{pki.url}/tsa",
    )  # fmt: skip
    assert code == 0, output
    (sig,) = validate_pdf(out.read_bytes(), ValidationPolicy(trust_roots=(pki.root,))).signatures
    assert sig.indication is Indication.TOTAL_PASSED, sig.messages
    assert sig.level is SignatureLevel.B_LTA
