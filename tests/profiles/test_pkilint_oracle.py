"""Certificates issued from every catalog profile pass DigiCert's pkilint (ETSI linter).

Oracle: ``lint_etsi_cert lint -t TYPE -s ERROR FILE`` exits with the number of
findings of severity ERROR or worse, so 0 means no ERROR/FATAL. The type per profile
is the one ``shared/reference/profiles.md`` §6.3 recommends (``profile.pkilint_type``):
NCP-NATURAL-PERSON for software citizens, QCP-N-QSCD-EIDAS-FINAL for the card,
NCP-LEGAL-PERSON for seals. RSA and EC (P-256) subject keys are both checked.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qcertlib.profiles import PROFILES, lint
from tests.conftest import require_tool

from .certgen import NOW, issue, leaf_key, pem

pytestmark = [pytest.mark.oracle, pytest.mark.slow]

EXPECTED_TYPES = {
    "citizen": "NCP-NATURAL-PERSON-CERTIFICATE",
    "citizen-qscd": "QCP-N-QSCD-EIDAS-FINAL-CERTIFICATE",
    "citizen-fnmt": "NCP-NATURAL-PERSON-CERTIFICATE",
    "eorgan-seal": "NCP-LEGAL-PERSON-CERTIFICATE",
    "eorgan-seal-qscd": "NCP-LEGAL-PERSON-CERTIFICATE",
}


def test_every_profile_names_its_pkilint_type() -> None:
    assert {n: p.pkilint_type for n, p in PROFILES.items()} == EXPECTED_TYPES


def _pkilint(tool: str, ctype: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, "lint", "-t", ctype, "-s", "ERROR", str(path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_profile_certificates_pass_pkilint_and_our_lint(tmp_path: Path) -> None:
    """Every profile (RSA 2048) and the type-F ones with EC P-256 too; runs in parallel."""
    tool = require_tool("lint_etsi_cert")["lint_etsi_cert"]
    jobs: list[tuple[str, str, Path]] = []
    # RSA for every profile; EC for the type-F profiles, where keyEncipherment becomes
    # keyAgreement (RFC 5480). pkilint starts slowly, so the matrix is kept small.
    matrix = [(n, "rsa") for n in sorted(PROFILES)] + [("citizen", "p256"), ("eorgan-seal", "p256")]
    for name, key_kind in matrix:
        cert = issue(name, key=leaf_key(key_kind))
        ours = lint(cert, name, at=NOW)
        assert ours.ok, (name, key_kind, ours.errors)
        path = tmp_path / f"{name}-{key_kind}.pem"
        path.write_bytes(pem(cert))
        jobs.append((name, key_kind, path))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        runs = list(
            pool.map(lambda job: _pkilint(tool, PROFILES[job[0]].pkilint_type, job[2]), jobs)
        )
    failures = {
        f"{name}/{key_kind}": run.stdout + run.stderr
        for (name, key_kind, _), run in zip(jobs, runs, strict=True)
        if run.returncode != 0
    }
    assert not failures


def test_pkilint_oracle_sees_a_broken_certificate(tmp_path: Path) -> None:
    """The oracle is live: a seal with dataEncipherment fails it like ours."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    tool = require_tool("lint_etsi_cert")["lint_etsi_cert"]
    ku = x509.KeyUsage(True, True, True, True, False, False, False, False, False)
    cert = issue("eorgan-seal", replace={ExtensionOID.KEY_USAGE: (ku, True)})
    path = tmp_path / "bad.pem"
    path.write_bytes(pem(cert))
    run = _pkilint(tool, "NCP-LEGAL-PERSON-CERTIFICATE", path)
    assert run.returncode != 0
    assert "unknown_key_usage_setting" in run.stdout
    assert "etsi.en_319_412_2.nat-4.3.2-1.unknown_key_usage_setting" in lint(cert).codes


def test_pkilint_detects_our_seal_as_a_legal_person(tmp_path: Path) -> None:
    """With the custodian only in the SAN, pkilint's own detection (-d) sees a legal person
    (profiles.md §7.5: custodian names in the subject make it a natural-person QCP-N-QSCD)."""
    tool = require_tool("lint_etsi_cert")["lint_etsi_cert"]
    path = tmp_path / "seal.pem"
    path.write_bytes(pem(issue("eorgan-seal-qscd")))
    run = subprocess.run(
        [tool, "lint", "-d", "-o", "-s", "ERROR", str(path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr.strip() == "NCP-LEGAL-PERSON-CERTIFICATE"
