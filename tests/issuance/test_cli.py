"""The qcert issuance commands, end to end, checked by pkilint, openssl and qcert lint."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from qcertlib.cli import main
from tests.conftest import require_tool
from tests.issuance._helpers import run

PIN = "4321-pin"


def qcert(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cli")
    result = qcert("pki", "init", base / "pki", "--name", "CLI Test", "--key", "ec-p256")
    assert result.exit_code == 0, result.output
    (base / "pin").write_text(PIN + "\n")
    return base / "pki"


def _pin(pki: Path) -> Path:
    return pki.parent / "pin"


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

VARIANTS = [
    (["citizen", *CITIZEN_ARGS], "citizen", "NCP-NATURAL-PERSON-CERTIFICATE"),
    (["citizen", *CITIZEN_ARGS, "--qscd"], "citizen-qscd", "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE"),
    (["seal", *SEAL_ARGS, "--months", "12"], "eorgan-seal", "NCP-LEGAL-PERSON-CERTIFICATE"),
    (["seal", *SEAL_ARGS, "--months", "24"], "eorgan-seal", "NCP-LEGAL-PERSON-CERTIFICATE"),
    (["seal", *SEAL_ARGS, "--level", "alto"], "eorgan-seal-qscd", "NCP-LEGAL-PERSON-CERTIFICATE"),
]


def _issue(pki: Path, args: list[str], out: Path) -> Result:
    kind, *rest = args
    return qcert(
        "issue", kind, pki, *rest, "--key", "ec-p256", "--out", out, "--pin-file", _pin(pki)
    )


def test_pki_init_writes_the_files_and_warns_it_is_a_test_pki(tmp_path: Path) -> None:
    result = qcert("pki", "init", tmp_path / "p", "--key", "ec-p256")
    assert result.exit_code == 0
    for stem in ("root", "ca", "ocsp", "tsa"):
        assert (tmp_path / "p" / f"{stem}.pem").is_file()
        assert (tmp_path / "p" / f"{stem}.key").is_file()
    assert "TEST PKI" in result.stderr


def test_pki_init_with_a_passphrase_encrypts_the_keys(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("pki passphrase\n")
    result = qcert("pki", "init", tmp_path / "p", "--key", "ec-p256", "--passphrase-file", secret)
    assert result.exit_code == 0
    assert "TEST PKI" not in result.stderr
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "p" / "ca.key").read_bytes()
    (tmp_path / "pin").write_text(PIN)
    args: list[str | Path] = [
        "issue",
        "citizen",
        tmp_path / "p",
        *CITIZEN_ARGS,
        "--key",
        "ec-p256",
        "--out",
        tmp_path / "c.pem",
        "--pin-file",
        tmp_path / "pin",
    ]
    without = qcert(*args)
    assert without.exit_code == 2
    assert "passphrase" in without.stderr
    wrong = qcert(*args, env={"QCERT_PASSPHRASE": "not it"})
    assert wrong.exit_code == 2
    assert "wrong passphrase" in wrong.stderr
    assert qcert(*args, env={"QCERT_PASSPHRASE": "pki passphrase"}).exit_code == 0


@pytest.mark.parametrize(
    ("args", "profile", "pkilint_type"), VARIANTS, ids=[v[1] for v in VARIANTS]
)
def test_every_variant_passes_pkilint_openssl_and_qcert_lint(
    pki: Path, tmp_path: Path, args: list[str], profile: str, pkilint_type: str
) -> None:
    tools = require_tool("openssl", "lint_etsi_cert")
    out = tmp_path / "leaf.pem"
    result = _issue(pki, args, out)
    assert result.exit_code == 0, result.output
    key = load_pem_private_key((tmp_path / "leaf.key").read_bytes(), PIN.encode())
    assert key.public_key() == x509.load_pem_x509_certificate(out.read_bytes()).public_key()
    linted = run([tools["lint_etsi_cert"], "lint", "-t", pkilint_type, "-s", "ERROR", str(out)])
    assert linted.returncode == 0, linted.stdout + linted.stderr
    verified = run(
        [
            tools["openssl"],
            "verify",
            "-CAfile",
            str(pki / "root.pem"),
            "-untrusted",
            str(pki / "ca.pem"),
            str(out),
        ]
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    ours = qcert("lint", "--profile", profile, out)
    assert ours.exit_code == 0, ours.output


def test_out_p12_writes_a_pkcs12_that_openssl_opens(pki: Path, tmp_path: Path) -> None:
    tools = require_tool("openssl")
    out = tmp_path / "seal.p12"
    result = _issue(pki, ["seal", *SEAL_ARGS], out)
    assert result.exit_code == 0, result.output
    key, cert, chain = pkcs12.load_key_and_certificates(out.read_bytes(), PIN.encode())
    assert key is not None
    assert cert is not None
    assert len(chain) == 2
    opened = run(
        [tools["openssl"], "pkcs12", "-in", str(out), "-passin", f"file:{_pin(pki)}", "-noout"]
    )
    assert opened.returncode == 0, opened.stderr


def test_invalid_nif_is_refused(pki: Path, tmp_path: Path) -> None:
    args = ["citizen", *CITIZEN_ARGS]
    args[args.index("00000000T")] = "00000000A"
    result = _issue(pki, args, tmp_path / "x.pem")
    assert result.exit_code == 2
    assert "error:" in result.stderr
    assert not (tmp_path / "x.pem").exists()


@pytest.mark.parametrize("nif", ["A58818501", "00000000T"])
def test_seal_for_a_company_or_a_person_is_refused(pki: Path, tmp_path: Path, nif: str) -> None:
    args = ["seal", *SEAL_ARGS]
    args[args.index("P0200001F")] = nif
    result = _issue(pki, args, tmp_path / "x.pem")
    assert result.exit_code == 2
    assert "public bod" in result.stderr.lower() or "CIF" in result.stderr


def test_seal_validity_over_24_months_is_refused(pki: Path, tmp_path: Path) -> None:
    result = _issue(pki, ["seal", *SEAL_ARGS, "--months", "36"], tmp_path / "x.pem")
    assert result.exit_code == 1
    assert result.stderr.startswith("refused:")


def test_weak_key_type_is_a_usage_error(pki: Path, tmp_path: Path) -> None:
    result = qcert(
        "issue",
        "citizen",
        pki,
        *CITIZEN_ARGS,
        "--key",
        "rsa1024",
        "--out",
        tmp_path / "x.pem",
        "--pin-file",
        _pin(pki),
    )
    assert result.exit_code == 2
    assert "unknown key type" in result.output


def test_revoke_crl_and_openssl_sees_the_revocation(pki: Path, tmp_path: Path) -> None:
    tools = require_tool("openssl", "lint_crl")
    out = tmp_path / "leaf.pem"
    issued = _issue(pki, ["citizen", *CITIZEN_ARGS], out)
    serial = issued.stdout.split("serial: ")[1].split()[0]
    revoked = qcert("revoke", pki, serial, "--reason", "keyCompromise")
    assert revoked.exit_code == 0, revoked.output
    twice = qcert("revoke", pki, serial, "--reason", "keyCompromise")
    assert twice.exit_code == 1
    assert "already revoked" in twice.stderr
    crl_path = tmp_path / "ca.crl"
    made = qcert("crl", pki, "--out", crl_path)
    assert made.exit_code == 0, made.output
    checked = run(
        [tools["openssl"], "crl", "-in", str(crl_path), "-CAfile", str(pki / "ca.pem"), "-noout"]
    )
    assert "verify OK" in checked.stderr.splitlines()
    crl = x509.load_pem_x509_crl(crl_path.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None
    verify = run(
        [
            tools["openssl"],
            "verify",
            "-crl_check",
            "-CAfile",
            str(pki / "root.pem"),
            "-untrusted",
            str(pki / "ca.pem"),
            "-CRLfile",
            str(crl_path),
            str(out),
        ]
    )
    assert verify.returncode != 0
    assert "certificate revoked" in verify.stdout + verify.stderr
    linted = run(
        [tools["lint_crl"], "lint", "-t", "CRL", "-p", "PKIX", "-s", "ERROR", str(crl_path)]
    )
    assert linted.returncode == 0, linted.stdout


def test_hold_is_not_a_revocation_reason(pki: Path) -> None:
    result = qcert("revoke", pki, "01ab", "--reason", "certificateHold")
    assert result.exit_code == 2
    assert "irreversible" in result.output


def test_renewal_outside_the_window_says_when_it_opens(pki: Path, tmp_path: Path) -> None:
    issued = _issue(pki, ["citizen", *CITIZEN_ARGS], tmp_path / "leaf.pem")
    serial = issued.stdout.split("serial: ")[1].split()[0]
    result = qcert("renew", pki, serial, "--out", tmp_path / "new.pem", "--pin-file", _pin(pki))
    assert result.exit_code == 1
    assert "window opens at" in result.stderr


def test_code_new_and_redeem(pki: Path, tmp_path: Path) -> None:
    made = qcert("code", "new", "citizen", pki, *CITIZEN_ARGS, "--key", "ec-p256")
    assert made.exit_code == 0, made.output
    code = made.stdout.split("generation code: ")[1].split()[0]
    assert len(code) == 10
    (tmp_path / "code").write_text(code)
    redeem: list[str | Path] = [
        "code",
        "redeem",
        pki,
        "--nif",
        "00000000T",
        "--code-file",
        tmp_path / "code",
        "--out",
        tmp_path / "mine.p12",
        "--pin-file",
        _pin(pki),
    ]
    first = qcert(*redeem)
    assert first.exit_code == 0, first.output
    key, cert, _ = pkcs12.load_key_and_certificates(
        (tmp_path / "mine.p12").read_bytes(), PIN.encode()
    )
    assert key is not None
    assert cert is not None
    second = qcert(*redeem)
    assert second.exit_code == 1
    assert "already used" in second.stderr
    assert code not in second.output


def test_wrong_code_counts_tries(pki: Path, tmp_path: Path) -> None:
    made = qcert("code", "new", "seal", pki, *SEAL_ARGS, "--length", "25", "--key", "ec-p256")
    code = made.stdout.split("generation code: ")[1].split()[0]
    assert len(code) == 25
    result = qcert(
        "code",
        "redeem",
        pki,
        "--nif",
        "P0200001F",
        "--out",
        tmp_path / "x.p12",
        "--pin-file",
        _pin(pki),
        env={"QCERT_CODE": "X" * 25},
    )
    assert result.exit_code == 1
    assert "2 tries left" in result.stderr


def test_pki_with_an_organization_identifier_still_lints_clean(tmp_path: Path) -> None:
    tools = require_tool("lint_etsi_cert")
    made = qcert(
        "pki",
        "init",
        tmp_path / "p",
        "--key",
        "ec-p256",
        "--name",
        "ISTEC PRUEBAS",
        "--org-id",
        "VATES-A40573396",
    )
    assert made.exit_code == 0, made.output
    ca = x509.load_pem_x509_certificate((tmp_path / "p" / "ca.pem").read_bytes())
    org_id = ca.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_IDENTIFIER)
    assert [a.value for a in org_id] == ["VATES-A40573396"]
    (tmp_path / "pin").write_text(PIN)
    out = tmp_path / "c.pem"
    issued = qcert(
        "issue",
        "citizen",
        tmp_path / "p",
        *CITIZEN_ARGS,
        "--key",
        "ec-p256",
        "--out",
        out,
        "--pin-file",
        tmp_path / "pin",
    )
    assert issued.exit_code == 0, issued.output
    linted = run(
        [
            tools["lint_etsi_cert"],
            "lint",
            "-t",
            "NCP-NATURAL-PERSON-CERTIFICATE",
            "-s",
            "ERROR",
            str(out),
        ]
    )
    assert linted.returncode == 0, linted.stdout


def test_invalid_organization_identifier_is_refused(tmp_path: Path) -> None:
    made = qcert("pki", "init", tmp_path / "p", "--key", "ec-p256", "--org-id", "VATES-A4057339X")
    assert made.exit_code == 2
    assert "control character" in made.stderr
    assert not (tmp_path / "p" / "config.json").exists()
