"""``qcert token …`` and ``qcert issue … --pkcs11-module`` on a real SoftHSM2 token."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib.cli import main
from qcertlib.issuance import CertificateAuthority
from qcertlib.tokens import TokenSession
from tests.conftest import require_tool
from tests.tokens.conftest import CITIZEN, MAIN, PIN, SO_PIN, Hsm

CITIZEN_ARGS = [
    "--given-name",
    "JOSÉ",
    "--first-surname",
    "MARTÍNEZ",
    "--second-surname",
    "PUIG",
    "--nif",
    "00000000T",
    "--email",
    "jose@example.com",
]
SEAL_ARGS = [
    "--entity",
    "AJUNTAMENT DE PROVES",
    "--nif",
    "P0200001F",
    "--system",
    "SEU ELECTRÒNICA",
    "--email",
    "seu@example.com",
]


def qcert(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("token-cli")
    (base / "pin").write_text(PIN + "\n")
    (base / "so-pin").write_text(SO_PIN + "\n")
    (base / "bad-pin").write_text("not-the-pin\n")
    return base


@pytest.fixture(scope="module")
def ca_chain_file(files: Path, ca: CertificateAuthority) -> Path:
    path = files / "ca-chain.pem"
    path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in ca.chain))
    return path


@pytest.fixture(scope="module")
def cli_token(hsm: Hsm, files: Path) -> str:
    """A token made by ``qcert token init``."""
    result = qcert(
        "token",
        "init",
        "--pkcs11-module",
        hsm.module,
        "--token",
        "cli-card",
        "--so-pin-file",
        files / "so-pin",
        "--pin-file",
        files / "pin",
    )
    assert result.exit_code == 0, result.output
    assert "initialised token 'cli-card'" in result.output
    return "cli-card"


@pytest.fixture(scope="module")
def pki(files: Path) -> Path:
    result = qcert("pki", "init", files / "pki", "--name", "Token CLI PKI", "--key", "ec-p256")
    assert result.exit_code == 0, result.output
    return files / "pki"


def _common(hsm: Hsm, token: str, files: Path, *, key: str | None = None) -> list[str | Path]:
    args: list[str | Path] = ["--pkcs11-module", hsm.module, "--token", token]
    if key is not None:
        args += ["--key-label", key]
    return [*args, "--pin-file", files / "pin"]


def test_list_shows_the_tokens(hsm: Hsm, cli_token: str) -> None:
    result = qcert("token", "list", "--pkcs11-module", hsm.module, "--json")
    assert result.exit_code == 0, result.output
    labels = {t["label"] for t in json.loads(result.output) if t["initialized"]}
    assert {MAIN, cli_token} <= labels
    text = qcert("token", "list", "--pkcs11-module", hsm.module)
    assert "(free, uninitialised)" in text.output


@pytest.mark.oracle
def test_keygen_makes_a_non_extractable_key(hsm: Hsm, cli_token: str, files: Path) -> None:
    result = qcert(
        "token",
        "keygen",
        *_common(hsm, cli_token, files, key="k384"),
        "--key-type",
        "ec-p384",
        "--always-authenticate",
    )
    assert result.exit_code == 0, result.output
    listed = qcert("token", "list", *_common(hsm, cli_token, files), "--json")
    key = next(k for k in json.loads(listed.output)["keys"] if k["label"] == "k384")
    assert key["type"] == "ec-secp384r1"
    assert key["sensitive"]
    assert not key["extractable"]
    assert key["always_authenticate"]
    objects = hsm.p11(cli_token, "--list-objects")
    block = re.search(
        r"Private Key Object; EC\s+label:\s+k384.*?Access:\s+([^\n]*)", objects.stdout, re.S
    )
    assert block is not None, objects.stdout
    assert "never extractable" in block.group(1)
    assert "always authenticate" in block.group(1)


@pytest.mark.oracle
def test_import_cert_stores_it_next_to_the_key(
    hsm: Hsm, cli_token: str, files: Path, ca: CertificateAuthority, tmp_path: Path
) -> None:
    assert (
        qcert(
            "token", "keygen", *_common(hsm, cli_token, files, key="imp"), "--key-type", "rsa2048"
        ).exit_code
        == 0
    )
    with TokenSession.open(hsm.module, token_label=cli_token, pin=PIN) as session:
        key = session.find_key(label="imp")
        public = session.public_key(key)
    cert = ca.issue("citizen-qscd", CITIZEN, public)
    pem = tmp_path / "imp.pem"
    pem.write_bytes(cert.public_bytes(Encoding.PEM))
    result = qcert("token", "import-cert", *_common(hsm, cli_token, files, key="imp"), pem)
    assert result.exit_code == 0, result.output
    again = qcert("token", "import-cert", *_common(hsm, cli_token, files, key="imp"), pem)
    assert again.exit_code == 2
    assert "already has a certificate" in again.output
    out = tmp_path / "read.der"
    read = hsm.p11(
        cli_token,
        "--read-object",
        "--type",
        "cert",
        "--id",
        key.id_hex,
        "-o",
        str(out),
        login=False,
    )
    assert read.returncode == 0, read.stderr
    assert x509.load_der_x509_certificate(out.read_bytes()) == cert


def test_import_of_a_foreign_certificate_is_refused(
    hsm: Hsm, cli_token: str, files: Path, ca: CertificateAuthority, tmp_path: Path
) -> None:
    assert qcert("token", "keygen", *_common(hsm, cli_token, files, key="other")).exit_code == 0
    pem = tmp_path / "ca.pem"
    pem.write_bytes(ca.certificate.public_bytes(Encoding.PEM))
    result = qcert("token", "import-cert", *_common(hsm, cli_token, files, key="other"), pem)
    assert result.exit_code == 2
    assert "does not belong" in result.output


def test_wrong_pin_is_a_clear_error_without_the_pin(hsm: Hsm, cli_token: str, files: Path) -> None:
    result = qcert(
        "token",
        "list",
        "--pkcs11-module",
        hsm.module,
        "--token",
        cli_token,
        "--pin-file",
        files / "bad-pin",
    )
    assert result.exit_code == 2
    assert "PIN is incorrect" in result.output
    assert "not-the-pin" not in result.output


def test_unknown_token_and_key(
    hsm: Hsm, cli_token: str, files: Path, ca: CertificateAuthority, tmp_path: Path
) -> None:
    missing = qcert("token", "keygen", *_common(hsm, "nope", files, key="x"))
    assert missing.exit_code == 2
    assert "no token with label 'nope'" in missing.output
    pem = tmp_path / "ca.pem"
    pem.write_bytes(ca.certificate.public_bytes(Encoding.PEM))
    no_key = qcert("token", "import-cert", *_common(hsm, cli_token, files, key="absent"), pem)
    assert no_key.exit_code == 2
    assert "no private key with label 'absent'" in no_key.output


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("kind", "args", "pkilint_type"),
    [
        ("citizen", [*CITIZEN_ARGS, "--qscd"], "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE"),
        ("seal", [*SEAL_ARGS, "--level", "alto"], "NCP-LEGAL-PERSON-CERTIFICATE"),
    ],
)
def test_issue_for_a_token_key(
    hsm: Hsm,
    cli_token: str,
    files: Path,
    pki: Path,
    tmp_path: Path,
    kind: str,
    args: list[str],
    pkilint_type: str,
) -> None:
    tools = require_tool("lint_etsi_cert", "openssl")
    out = tmp_path / f"{kind}.pem"
    label = f"issued-{kind}"
    result = qcert(
        "issue",
        kind,
        pki,
        *args,
        "--key",
        "ec-p256",
        "--out",
        out,
        *_common(hsm, cli_token, files, key=label),
    )
    assert result.exit_code == 0, result.output
    assert "generated on the token" in result.output
    cert = x509.load_pem_x509_certificate(out.read_bytes())
    with TokenSession.open(hsm.module, token_label=cli_token, pin=PIN) as session:
        key = session.find_key(label=label)
        assert not key.extractable
        assert session.certificate(key) == cert
    linted = subprocess.run(
        [tools["lint_etsi_cert"], "lint", "-t", pkilint_type, "-s", "ERROR", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    verified = subprocess.run(
        [
            tools["openssl"],
            "verify",
            "-CAfile",
            str(pki / "root.pem"),
            "-untrusted",
            str(pki / "ca.pem"),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # issuing again reuses the key on the token and replaces the stored certificate
    again = qcert(
        "issue", kind, pki, *args, "--out", out, *_common(hsm, cli_token, files, key=label)
    )
    assert again.exit_code == 0, again.output
    assert "already on the token" in again.output


def test_issue_for_a_token_key_needs_the_qscd_profile(
    hsm: Hsm, cli_token: str, files: Path, pki: Path, tmp_path: Path
) -> None:
    result = qcert(
        "issue",
        "citizen",
        pki,
        *CITIZEN_ARGS,
        "--out",
        tmp_path / "c.pem",
        *_common(hsm, cli_token, files, key="plain"),
    )
    assert result.exit_code == 2
    assert "--qscd" in result.output
    partial = qcert(
        "issue",
        "citizen",
        pki,
        *CITIZEN_ARGS,
        "--qscd",
        "--out",
        tmp_path / "c.pem",
        "--pkcs11-module",
        hsm.module,
    )
    assert partial.exit_code == 2
    assert "together" in partial.output


@pytest.mark.oracle
def test_import_ca_chain_then_sign_finds_it(
    hsm: Hsm, cli_token: str, files: Path, ca: CertificateAuthority, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")["openssl"]
    assert qcert("token", "keygen", *_common(hsm, cli_token, files, key="chained")).exit_code == 0
    with TokenSession.open(hsm.module, token_label=cli_token, pin=PIN) as session:
        public = session.public_key(session.find_key(label="chained"))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(ca.issue("citizen-qscd", CITIZEN, public).public_bytes(Encoding.PEM))
    chain = tmp_path / "chain.pem"
    chain.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in ca.chain))
    common = _common(hsm, cli_token, files, key="chained")
    assert qcert("token", "import-cert", *common, leaf).exit_code == 0
    stored = qcert("token", "import-cert", *common, "--ca", chain)
    assert stored.exit_code == 0, stored.output
    assert "stored 2 CA certificate(s)" in stored.output
    again = qcert("token", "import-cert", *common, "--ca", chain)  # idempotent
    assert again.exit_code == 0, again.output
    (tmp_path / "doc").write_bytes(b"acta")
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    signed = qcert("sign", "cades", tmp_path / "doc", "--out", tmp_path / "doc.p7s", *common)
    assert signed.exit_code == 0, signed.output
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


@pytest.mark.oracle
def test_qcert_batch_sign_with_a_token_key(
    hsm: Hsm,
    files: Path,
    issued: dict[str, object],
    ca: CertificateAuthority,
    ca_chain_file: Path,
    tmp_path: Path,
) -> None:
    openssl = require_tool("openssl")["openssl"]
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(200):
        (inputs / f"acta{i:03}.txt").write_bytes(f"acta {i}\n".encode())
    out = tmp_path / "out"
    result = qcert(
        "batch",
        "sign",
        inputs,
        "--format",
        "cades",
        "--executor",
        "threads",
        "--out",
        out,
        "--quiet",
        "--chain",
        ca_chain_file,
        *_common(hsm, MAIN, files, key="rsa"),
    )
    assert result.exit_code == 0, result.output
    signed = sorted(out.glob("*.p7s"))
    assert len(signed) == 200
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    for p7s in signed[::50]:
        content = inputs / p7s.name.removesuffix(".p7s")
        verified = subprocess.run(
            [
                openssl,
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(p7s),
                "-content",
                str(content),
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
