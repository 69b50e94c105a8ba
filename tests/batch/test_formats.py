"""Every output of a batch verifies with the independent tools: openssl cms (CAdES),
pdfsig (PAdES), xmlsec1 (XAdES). The oracle tests sign 500 documents per format and
check every output (two oracle processes at a time); the other tests use 50."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qcertlib.batch import BatchFormat, BatchJob, BatchSigner, BatchStatus
from qcertlib.signing.cades import finish_cades, prepare_cades
from qcertlib.signing.options import SignatureOptions
from tests.batch.conftest import Seal, make_inputs
from tests.conftest import require_tool

N = 50
N_ORACLE = 500


def _run(seal: Seal, fmt: str, tmp_path: Path, n: int = N, **kw: Any) -> list[Path]:
    inputs = make_inputs(tmp_path / "in", fmt, n)
    jobs = [BatchJob.into(p, tmp_path / "out", fmt) for p in inputs]
    results = list(BatchSigner(seal.backend(), SignatureOptions(), **kw).sign_all(jobs))
    assert [r.status for r in results] == [BatchStatus.OK] * n, {r.error for r in results}
    assert {r.input for r in results} == set(inputs)
    return inputs


def _run_all(
    commands: list[list[str]],
) -> list[tuple[list[str], subprocess.CompletedProcess[str]]]:
    """Run every oracle command, two at a time (the CI machine has two cores)."""

    def one(argv: list[str]) -> tuple[list[str], subprocess.CompletedProcess[str]]:
        return argv, subprocess.run(argv, capture_output=True, text=True, check=False)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, commands))


@pytest.mark.oracle
def test_cades_batch_outputs_verify_with_openssl_cms(seal: Seal, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    inputs = _run(seal, "cades", tmp_path, N_ORACLE, executor="threads")
    commands = [
        [openssl, "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(tmp_path / "out" / f"{src.name}.p7s"), "-content", str(src),
         "-CAfile", str(seal.root_pem), "-purpose", "any", "-out", "/dev/null"]
        for src in inputs
    ]  # fmt: skip
    for argv, proc in _run_all(commands):
        assert proc.returncode == 0, (argv[7], proc.stderr)


@pytest.mark.oracle
def test_cades_batch_rejects_a_changed_document_for_openssl(seal: Seal, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    inputs = _run(seal, "cades", tmp_path, executor="threads")
    src = inputs[7]
    src.write_bytes(src.read_bytes() + b"!")
    proc = subprocess.run(
        [openssl, "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(tmp_path / "out" / f"{src.name}.p7s"), "-content", str(src),
         "-CAfile", str(seal.root_pem), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode != 0


def test_cades_fast_path_is_byte_identical_to_finish_cades(seal: Seal, tmp_path: Path) -> None:
    """The precomputed-DER assembly gives exactly what prepare/finish_cades give."""
    when = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    options = SignatureOptions(signing_time=when)
    doc = tmp_path / "a.txt"
    doc.write_bytes(b"hola\n" * 1000)
    out = tmp_path / "a.txt.p7s"
    (result,) = BatchSigner(seal.backend(), options, executor="threads").sign_all(
        [BatchJob(doc, out, BatchFormat.CADES)]
    )
    assert result.ok
    backend = seal.backend()
    prepared = prepare_cades(doc, seal.certificate, seal.chain, options)
    (sig,) = backend.sign_digests([prepared.digest], prepared.algorithm)
    assert out.read_bytes() == finish_cades(prepared, sig, options)
    assert result.digest == options.digest.digest(doc.read_bytes()).hex()


def test_cades_fast_path_per_document_signing_time(seal: Seal, tmp_path: Path) -> None:
    """Without a fixed signing time each document carries the time it was prepared."""
    from qcertlib.validation import validate_cms
    from qcertlib.validation.report import Indication, ValidationPolicy

    inputs = _run(seal, "cades", tmp_path, executor="threads")
    policy = ValidationPolicy(trust_roots=(seal.chain[-1],), check_revocation=False, lint=False)
    for src in inputs[:5]:
        report = validate_cms(
            (tmp_path / "out" / f"{src.name}.p7s").read_bytes(), src.read_bytes(), policy
        )
        assert report.indication is Indication.TOTAL_PASSED, report.to_text()
        when = report.signatures[0].signing_time
        assert when is not None
        assert abs((datetime.now(UTC) - when).total_seconds()) < 600


@pytest.mark.oracle
def test_pades_batch_outputs_verify_with_pdfsig(seal: Seal, nssdb: str, tmp_path: Path) -> None:
    pdfsig = require_tool("pdfsig")["pdfsig"]
    inputs = _run(seal, "pades", tmp_path, N_ORACLE, executor="processes", workers=2)
    outputs = [tmp_path / "out" / src.name for src in inputs]
    results = _run_all([[pdfsig, "-no-ocsp", "-nssdir", nssdb, str(out)] for out in outputs])
    for (argv, proc), src, out in zip(results, inputs, outputs, strict=True):
        assert "Signature Validation: Signature is Valid." in proc.stdout, (argv, proc.stdout)
        # (certificate trust is not asserted: NSS wants the OCSP service of the test PKI)
        assert "Total document signed" in proc.stdout
        assert out.read_bytes().startswith(src.read_bytes())


@pytest.mark.oracle
def test_xades_batch_outputs_verify_with_xmlsec1(seal: Seal, tmp_path: Path) -> None:
    xmlsec1 = require_tool("xmlsec1")["xmlsec1"]
    inputs = _run(seal, "xades", tmp_path, N_ORACLE)
    commands = [
        [xmlsec1, "--verify", "--trusted-pem", str(seal.root_pem),
         "--untrusted-pem", str(seal.chain_pem), str(tmp_path / "out" / src.name)]
        for src in inputs
    ]  # fmt: skip
    for argv, proc in _run_all(commands):
        assert proc.returncode == 0, (argv[-1], proc.stderr)
    # a changed signed document no longer verifies
    bad = tmp_path / "out" / inputs[1].name
    bad.write_bytes(bad.read_bytes().replace(b"<Importe>1.00<", b"<Importe>9.00<"))
    proc = subprocess.run(
        [xmlsec1, "--verify", "--trusted-pem", str(seal.root_pem),
         "--untrusted-pem", str(seal.chain_pem), str(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode != 0


def test_mixed_formats_in_one_batch(seal: Seal, tmp_path: Path) -> None:
    jobs = [
        BatchJob.into(p, tmp_path / "out", fmt)
        for fmt in ("cades", "xades", "pades")
        for p in make_inputs(tmp_path / fmt, fmt, 5)
    ]
    results = list(BatchSigner(seal.backend(), executor="threads").sign_all(jobs))
    assert sorted(r.status.value for r in results) == ["ok"] * 15
    assert len(list((tmp_path / "out").iterdir())) == 15


def test_signing_time_option_is_used_for_every_format(seal: Seal, tmp_path: Path) -> None:
    when = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    options = replace(SignatureOptions(), signing_time=when)
    jobs = [BatchJob.into(p, tmp_path / "out", "cades") for p in make_inputs(tmp_path, "cades", 3)]
    results = list(BatchSigner(seal.backend(), options, executor="threads").sign_all(jobs))
    assert all(r.ok for r in results)
    assert all(b"260504030201Z" in (tmp_path / "out" / j.output.name).read_bytes() for j in jobs)
