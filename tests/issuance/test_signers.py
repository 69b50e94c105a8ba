"""The PKI's OCSP and TSA signer certificates, used by openssl as a responder and a TSA."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from qcertlib.testing import TestPKI
from tests.conftest import require_tool
from tests.issuance._helpers import run


def _index_line(pki: TestPKI, serial: int, not_after: datetime, revoked: datetime | None) -> str:
    expiry = not_after.astimezone(UTC).strftime("%y%m%d%H%M%SZ")
    if revoked is None:
        return f"V\t{expiry}\t\t{serial:X}\tunknown\t/CN=c{serial:X}\n"
    when = revoked.astimezone(UTC).strftime("%y%m%d%H%M%SZ")
    return f"R\t{expiry}\t{when},keyCompromise\t{serial:X}\tunknown\t/CN=c{serial:X}\n"


def test_openssl_ocsp_accepts_our_delegated_responder(qcert_pki: TestPKI, tmp_path: Path) -> None:
    tools = require_tool("openssl")
    pki = qcert_pki
    openssl = tools["openssl"]
    index = tmp_path / "index.txt"
    index.write_text(
        "".join(
            _index_line(pki, r.serial, r.not_after, r.revoked_at)
            for r in pki.ca.registry.certificates()
        )
    )
    ca_pem = str(pki.directory / "ca.pem")
    results = {}
    for name in ("citizen", "revoked"):
        cred = getattr(pki, name)
        req = tmp_path / f"{name}.req"
        resp = tmp_path / f"{name}.resp"
        made = run(
            [
                openssl,
                "ocsp",
                "-issuer",
                ca_pem,
                "-cert",
                str(cred.cert_path),
                "-no_nonce",
                "-reqout",
                str(req),
            ]
        )
        assert made.returncode == 0, made.stderr
        answered = run(
            [
                openssl,
                "ocsp",
                "-index",
                str(index),
                "-rsigner",
                str(pki.directory / "ocsp.pem"),
                "-rkey",
                str(pki.directory / "ocsp.key"),
                "-CA",
                ca_pem,
                "-reqin",
                str(req),
                "-respout",
                str(resp),
                "-ndays",
                "1",
            ]
        )
        assert answered.returncode == 0, answered.stderr
        checked = run(
            [
                openssl,
                "ocsp",
                "-respin",
                str(resp),
                "-issuer",
                ca_pem,
                "-cert",
                str(cred.cert_path),
                "-CAfile",
                str(pki.directory / "root.pem"),
                "-verify_other",
                ca_pem,
                "-no_nonce",
            ]
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "Response verify OK" in checked.stderr
        results[name] = checked.stdout
    assert ": good" in results["citizen"]
    assert ": revoked" in results["revoked"]


def test_openssl_ts_signs_and_verifies_with_our_tsa(qcert_pki: TestPKI, tmp_path: Path) -> None:
    tools = require_tool("openssl")
    pki = qcert_pki
    openssl = tools["openssl"]
    (tmp_path / "tsaserial").write_text("01\n")
    config = tmp_path / "tsa.cnf"
    config.write_text(
        "[tsa]\ndefault_tsa = tsa1\n[tsa1]\n"
        f"dir = {tmp_path}\nserial = $dir/tsaserial\n"
        f"signer_cert = {pki.directory / 'tsa.pem'}\n"
        f"certs = {pki.chain_path}\n"
        f"signer_key = {pki.directory / 'tsa.key'}\n"
        "signer_digest = sha256\ndefault_policy = 1.3.6.1.4.1.8149.3.100.2.0\n"
        "digests = sha256\naccuracy = secs:1\nordering = no\ntsa_name = no\n"
        "ess_cert_id_alg = sha256\n"
    )
    data = tmp_path / "data.txt"
    data.write_text("documento de prueba\n")
    query = run(
        [
            openssl,
            "ts",
            "-query",
            "-data",
            str(data),
            "-sha256",
            "-cert",
            "-out",
            str(tmp_path / "req.tsq"),
        ]
    )
    assert query.returncode == 0, query.stderr
    reply = run(
        [
            openssl,
            "ts",
            "-reply",
            "-config",
            str(config),
            "-queryfile",
            str(tmp_path / "req.tsq"),
            "-out",
            str(tmp_path / "resp.tsr"),
        ]
    )
    assert reply.returncode == 0, reply.stdout + reply.stderr
    verify = run(
        [
            openssl,
            "ts",
            "-verify",
            "-data",
            str(data),
            "-in",
            str(tmp_path / "resp.tsr"),
            "-CAfile",
            str(pki.directory / "root.pem"),
            "-untrusted",
            str(pki.chain_path),
        ]
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "Verification: OK" in verify.stdout


def test_pkilint_finds_no_warning_in_the_pki_certificates(qcert_pki: TestPKI) -> None:
    tools = require_tool("lint_pkix_cert", "lint_pkix_signer_signee_cert_chain")
    directory = qcert_pki.directory
    for stem in ("root", "ca", "ocsp", "tsa"):
        result = run(
            [tools["lint_pkix_cert"], "lint", "-s", "WARNING", str(directory / f"{stem}.pem")]
        )
        assert result.returncode == 0, f"{stem}: {result.stdout}"
    for signer, signee in (("root.pem", "ca.pem"), ("ca.pem", "leaves/citizen.pem")):
        result = run(
            [
                tools["lint_pkix_signer_signee_cert_chain"],
                "lint",
                "-s",
                "WARNING",
                str(directory / signer),
                str(directory / signee),
            ]
        )
        assert result.returncode == 0, f"{signer} -> {signee}: {result.stdout}"
