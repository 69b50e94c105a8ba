"""qcert sign cades / qcert verify, end to end through click (openssl checks the output)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qcertlib.cli import main
from qcertlib.pkcs12 import KeyStore, dump_pkcs12
from qcertlib.services.app import ServiceConfig, create_app
from qcertlib.signing.timestamps import TsaResponder
from tests.conftest import require_tool
from tests.revocation.servers import running_app
from tests.signing._pki import Pki

DATA = b"documento firmado \xc3\xb1\r\n" * 10


@pytest.fixture(scope="module")
def tsa_url(pki: Pki) -> Iterator[str]:
    responder = TsaResponder(
        pki.tsa_key, pki.tsa_cert, pki.chain, policy=x509.ObjectIdentifier("1.3.6.1.4.1.99999.5")
    )
    with running_app(create_app(ServiceConfig(cas=(), tsa=responder))) as url:
        yield f"{url}/tsa"


@pytest.fixture(scope="module")
def p12_bytes(pki: Pki) -> bytes:
    """The citizen's PKCS#12 with few KDF iterations (the default is deliberately slow)."""
    cred = pki.base.citizen
    store = KeyStore.single(cred.private_key, cred.certificate, list(cred.chain))
    return dump_pkcs12(store, "1234", iterations=1000)


@pytest.fixture
def files(pki: Pki, p12_bytes: bytes, tmp_path: Path) -> Path:
    pki.write(tmp_path)
    (tmp_path / "doc.bin").write_bytes(DATA)
    (tmp_path / "signer.p12").write_bytes(p12_bytes)
    (tmp_path / "pin").write_text("1234\n")
    (tmp_path / "wrong-pin").write_text("9999\n")
    return tmp_path


def _sign(d: Path, *extra: str, pin: str = "pin") -> Result:
    args = ["sign", "cades", str(d / "doc.bin"), "--p12", str(d / "signer.p12")]
    args += ["--pin-file", str(d / pin), "--out", str(d / "doc.p7s"), *extra]
    return CliRunner().invoke(main, args)


@pytest.mark.oracle
@pytest.mark.parametrize("mode", ["--detached", "--attached"])
def test_sign_cades_b_t_verified_by_openssl_and_by_us(files: Path, tsa_url: str, mode: str) -> None:
    openssl = require_tool("openssl")["openssl"]
    result = _sign(files, "--level", "B-T", "--tsa", tsa_url, mode)
    assert result.exit_code == 0, result.output
    args = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", "doc.p7s"]
    args += ["-content", "doc.bin", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"]
    out = subprocess.run(args, cwd=files, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    verify = ["verify", str(files / "doc.p7s"), "--content", str(files / "doc.bin")]
    verify += ["--trust", str(files / "root.pem"), "--format", "json", "--no-fetch"]
    res = CliRunner().invoke(main, verify)
    report = json.loads(res.output)
    assert report["signatures"][0]["level"] == "B-T"
    # B-T carries no revocation data and fetching is off: not TOTAL_PASSED -> exit 1
    assert report["subindication"] == "TRY_LATER"
    assert res.exit_code == 1


def test_verify_b_lt_passes_and_tampered_fails(pki: Pki, files: Path, tsa_url: str) -> None:
    from qcertlib.signing import SignatureLevel, SignatureOptions
    from qcertlib.signing.backends import SoftwareKeyBackend
    from qcertlib.signing.cades import RevocationData, sign_cades

    backend = SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain)
    options = SignatureOptions(level=SignatureLevel.B_LT, tsa_url=tsa_url)
    p7s = sign_cades(DATA, backend, options, revocation=[RevocationData(crls=pki.crls_der)])
    (files / "lt.p7s").write_bytes(p7s)
    base = ["verify", str(files / "lt.p7s"), "--trust", str(files / "root.pem"), "--no-fetch"]
    ok = CliRunner().invoke(main, [*base, "--content", str(files / "doc.bin")])
    assert ok.exit_code == 0, ok.output
    assert "TOTAL_PASSED" in ok.output
    assert "B-LT" in ok.output
    (files / "tampered.bin").write_bytes(DATA + b"x")
    bad = CliRunner().invoke(main, [*base, "--content", str(files / "tampered.bin")])
    assert bad.exit_code == 1
    assert "HASH_FAILURE" in bad.output


def test_verify_unknown_root(pki: Pki, files: Path) -> None:
    assert _sign(files).exit_code == 0
    (files / "other.pem").write_bytes(pki.tsa_cert.public_bytes(serialization.Encoding.PEM))
    args = ["verify", str(files / "doc.p7s"), "--content", str(files / "doc.bin")]
    res = CliRunner().invoke(main, [*args, "--trust", str(files / "other.pem"), "--no-fetch"])
    assert res.exit_code == 1
    assert "NO_CERTIFICATE_CHAIN_FOUND" in res.output


def test_wrong_pin_is_a_typed_error(files: Path) -> None:
    result = _sign(files, pin="wrong-pin")
    assert result.exit_code == 2
    assert "Pkcs12PasswordError" in result.output
    assert "9999" not in result.output


def test_empty_input_is_refused(files: Path) -> None:
    (files / "doc.bin").write_bytes(b"")
    result = _sign(files)
    assert result.exit_code == 2
    assert "empty" in result.output


def test_b_t_without_tsa_is_a_usage_error(files: Path) -> None:
    result = _sign(files, "--level", "B-T")
    assert result.exit_code == 2
    assert "--tsa" in result.output


@pytest.mark.parametrize("content", [b"", b"garbage that is not CMS"])
def test_verify_unreadable_input_is_typed(files: Path, content: bytes) -> None:
    (files / "bad.p7s").write_bytes(content)
    res = CliRunner().invoke(
        main, ["verify", str(files / "bad.p7s"), "--trust", str(files / "root.pem")]
    )
    assert res.exit_code == 2
    assert "ValidationInputError" in res.output


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("bad.pdf", b"%PDF-1.7\ngarbage\n", "PDF"),
        ("bad.xml", b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', "DTD"),
    ],
)
def test_verify_dispatches_pdf_and_xml_by_content(
    files: Path, name: str, content: bytes, needle: str
) -> None:
    (files / name).write_bytes(content)
    res = CliRunner().invoke(
        main, ["verify", str(files / name), "--trust", str(files / "root.pem")]
    )
    assert res.exit_code == 2
    assert "ValidationInputError" in res.output
    assert needle in res.output
