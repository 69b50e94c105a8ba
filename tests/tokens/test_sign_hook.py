"""The ``qcert sign`` hook: token options and the backend they open (on a stand-in command)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib.cli.token import open_token_signer, token_signer_options, token_signer_requested
from qcertlib.issuance import CertificateAuthority
from qcertlib.signing.cades import sign_cades
from qcertlib.signing.options import SignatureOptions
from tests.conftest import require_tool
from tests.tokens.conftest import MAIN, PIN, Hsm, Issued


@click.command()
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--pin-file", type=click.Path(dir_okay=False, path_type=Path))
@token_signer_options
def stand_in(document: Path, out: Path, pin_file: Path | None) -> None:
    """What ``qcert sign cades`` does with the hook."""
    if not token_signer_requested():
        raise click.UsageError("this stand-in only signs with a token")
    backend = open_token_signer(pin_file)  # closed when the click context ends
    out.write_bytes(sign_cades(document.read_bytes(), backend, SignatureOptions()))
    click.echo(f"chain={len(backend.chain)} logins={backend.login_count}")


@pytest.mark.oracle
def test_sign_with_token_options_finds_the_chain_on_the_token(
    hsm: Hsm, issued: dict[str, Issued], ca: CertificateAuthority, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")["openssl"]
    (tmp_path / "doc").write_bytes(b"acta")
    (tmp_path / "pin").write_text(PIN)
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    result = CliRunner().invoke(
        stand_in,
        [
            str(tmp_path / "doc"),
            "--out",
            str(tmp_path / "doc.p7s"),
            "--pin-file",
            str(tmp_path / "pin"),
            "--pkcs11-module",
            hsm.module,
            "--token",
            MAIN,
            "--key-label",
            "rsa",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "chain=2 logins=1" in result.output  # issuing CA and root, stored by issue_on_token
    verified = subprocess.run(
        [
            openssl,
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "doc.p7s",
            "-content",
            "doc",
            "-CAfile",
            "root.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr


def test_explicit_chain_file(
    hsm: Hsm, issued: dict[str, Issued], ca: CertificateAuthority, tmp_path: Path
) -> None:
    (tmp_path / "doc").write_bytes(b"acta")
    (tmp_path / "chain.pem").write_bytes(ca.certificate.public_bytes(Encoding.PEM))
    result = CliRunner().invoke(
        stand_in,
        [
            str(tmp_path / "doc"),
            "--out",
            str(tmp_path / "doc.p7s"),
            "--pkcs11-module",
            hsm.module,
            "--token",
            MAIN,
            "--key-label",
            "ec",
            "--chain",
            str(tmp_path / "chain.pem"),
        ],
        env={"QCERT_TOKEN_PIN": PIN},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "chain=1 logins=1" in result.output


def test_incomplete_token_options_are_a_usage_error(hsm: Hsm, tmp_path: Path) -> None:
    (tmp_path / "doc").write_bytes(b"acta")
    result = CliRunner().invoke(
        stand_in, [str(tmp_path / "doc"), "--out", str(tmp_path / "x"), "--token", MAIN]
    )
    assert result.exit_code == 2
    assert "together" in result.output


@pytest.mark.oracle
def test_qcert_sign_cades_with_a_token_key(
    hsm: Hsm, issued: dict[str, Issued], ca: CertificateAuthority, tmp_path: Path
) -> None:
    from qcertlib.cli import main
    from qcertlib.tokens import TokenSession

    openssl = require_tool("openssl")["openssl"]
    (tmp_path / "doc").write_bytes(b"acta de la sesion")
    (tmp_path / "pin").write_text(PIN)
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    args = [
        "sign",
        "cades",
        str(tmp_path / "doc"),
        "--out",
        str(tmp_path / "doc.p7s"),
        "--pin-file",
        str(tmp_path / "pin"),
        "--pkcs11-module",
        hsm.module,
        "--token",
        MAIN,
        "--key-label",
        "ec",
    ]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    verified = subprocess.run(
        [
            openssl,
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "doc.p7s",
            "-content",
            "doc",
            "-CAfile",
            "root.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    # the command logged out: a new session logs in again
    with TokenSession.open(hsm.module, token_label=MAIN, pin=PIN) as session:
        assert session.login_count == 1
    both = CliRunner().invoke(main, [*args, "--p12", str(tmp_path / "pin")])
    assert both.exit_code == 2
    assert "either --p12 or --pkcs11-module" in both.output
    wrong = CliRunner().invoke(
        main,
        [*args[:5], "--pkcs11-module", hsm.module, "--token", MAIN, "--key-label", "ec"],
        env={"QCERT_TOKEN_PIN": "0000"},
    )
    assert wrong.exit_code == 2
    assert "PIN is incorrect" in wrong.output


@pytest.mark.oracle
def test_qcert_sign_pades_with_a_token_key(hsm: Hsm, tmp_path: Path) -> None:
    from qcertlib.cli import main
    from qcertlib.issuance import KeySpec
    from qcertlib.tokens import TokenSession
    from tests.tokens._pdf import assert_valid_and_trusted, one_page_pdf, pdfsig_verdicts
    from tests.tokens.conftest import SPARE
    from tests.tokens.test_formats import no_aia_chain

    certutil = require_tool("certutil", "pdfsig")["certutil"]
    with TokenSession.open(hsm.module, token_label=SPARE, pin=PIN, rw=True) as session:
        key = session.generate_key(KeySpec.RSA_3072, label="pdf-cli")
        root, leaf, _ = no_aia_chain(session.public_key(key))
        session.store_certificate(leaf, key=key)
        session.store_ca_certificate(root, label="pdf root")
    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    db = tmp_path / "nssdb"
    db.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        [
            certutil,
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "root",
            "-t",
            "C,C,C",
            "-i",
            str(tmp_path / "root.pem"),
        ],
        check=True,
    )
    (tmp_path / "in.pdf").write_bytes(one_page_pdf())
    (tmp_path / "pin").write_text(PIN)
    result = CliRunner().invoke(
        main,
        [
            "sign",
            "pades",
            str(tmp_path / "in.pdf"),
            "--out",
            str(tmp_path / "out.pdf"),
            "--pin-file",
            str(tmp_path / "pin"),
            "--pkcs11-module",
            hsm.module,
            "--token",
            SPARE,
            "--key-label",
            "pdf-cli",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    sigs = pdfsig_verdicts(tmp_path / "out.pdf", f"sql:{db}")
    assert len(sigs) == 1
    assert_valid_and_trusted(sigs[0])


@pytest.mark.oracle
def test_qcert_sign_xades_with_a_token_key(
    hsm: Hsm, issued: dict[str, Issued], ca: CertificateAuthority, tmp_path: Path
) -> None:
    from qcertlib.cli import main

    xmlsec1 = require_tool("xmlsec1")["xmlsec1"]
    (tmp_path / "in.xml").write_bytes(b'<Acta xmlns="urn:example"><Punto>1</Punto></Acta>')
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    (tmp_path / "ca.pem").write_bytes(ca.certificate.public_bytes(Encoding.PEM))
    result = CliRunner().invoke(
        main,
        [
            "sign",
            "xades",
            str(tmp_path / "in.xml"),
            "--out",
            str(tmp_path / "out.xml"),
            "--pkcs11-module",
            hsm.module,
            "--token",
            MAIN,
            "--key-label",
            "rsa",
        ],
        env={"QCERT_TOKEN_PIN": PIN},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    checked = subprocess.run(
        [xmlsec1, "--verify", "--trusted-pem", "root.pem", "--untrusted-pem", "ca.pem", "out.xml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
