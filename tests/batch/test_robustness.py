"""Robustness: a bad document among many, stop on error, wrong key/PIN before any
output, resume, bounded in-flight work, progress, report, async form."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from qcertlib.batch import (
    BatchFormat,
    BatchJob,
    BatchResult,
    BatchSigner,
    BatchStatus,
    summarize,
    write_report,
)
from qcertlib.errors import SigningError
from qcertlib.issuance import KeySpec, generate_key
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.signing.options import SignatureLevel, SignatureOptions
from tests.batch.conftest import Seal, make_inputs


def _jobs(paths: list[Path], out: Path, fmt: str) -> list[BatchJob]:
    return [BatchJob.into(p, out, fmt) for p in paths]


@pytest.mark.parametrize("fmt", ["cades", "pades", "xades"])
def test_one_corrupt_input_among_many_is_reported_and_the_rest_signed(
    fmt: str, seal: Seal, tmp_path: Path
) -> None:
    inputs = make_inputs(tmp_path / "in", fmt, 20)
    bad = inputs[9]
    if fmt == "cades":
        bad.write_bytes(b"")  # an empty file is refused
    else:
        bad.write_bytes(b"<<garbage>> %PDF-1.7 not a document")
    missing = tmp_path / "in" / ("gone.pdf" if fmt == "pades" else "gone.xml")
    jobs = _jobs([*inputs, missing], tmp_path / "out", fmt)
    results = list(BatchSigner(seal.backend(), executor="threads", workers=2).sign_all(jobs))
    by_input = {r.input: r for r in results}
    assert len(results) == 21
    assert by_input[bad].status is BatchStatus.FAILED
    assert by_input[bad].error
    assert by_input[missing].status is BatchStatus.FAILED
    assert "FileNotFoundError" in (by_input[missing].error or "")
    assert sum(r.ok for r in results) == 19
    assert not (tmp_path / "out" / BatchFormat(fmt).output_name(bad.name)).exists()
    assert len(list((tmp_path / "out").iterdir())) == 19


def test_stop_on_error_skips_what_was_not_attempted(seal: Seal, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", "cades", 300)
    inputs[0].write_bytes(b"")
    jobs = _jobs(inputs, tmp_path / "out", "cades")
    signer = BatchSigner(
        seal.backend(), executor="threads", workers=1, chunk_size=8, max_in_flight=16,
        stop_on_error=True,
    )  # fmt: skip
    results = list(signer.sign_all(iter(jobs)))
    assert len(results) == 300
    statuses = [r.status for r in results]
    assert statuses.count(BatchStatus.FAILED) == 1
    skipped = [r for r in results if r.status is BatchStatus.SKIPPED]
    assert len(skipped) > 200
    assert all("stopped" in (r.error or "") for r in skipped)
    assert len(list((tmp_path / "out").iterdir())) == statuses.count(BatchStatus.OK)


def test_a_key_that_does_not_match_fails_before_any_document(seal: Seal, tmp_path: Path) -> None:
    other = generate_key(KeySpec.RSA_2048)

    class Liar(SoftwareKeyBackend):
        """Claims the seal certificate but signs with another key."""

    backend = SoftwareKeyBackend(seal.key, seal.certificate, seal.chain)
    liar = Liar(other, _self_signed(other), ())
    liar._certificate = seal.certificate  # presents the seal certificate
    jobs = _jobs(make_inputs(tmp_path / "in", "cades", 5), tmp_path / "out", "cades")
    with pytest.raises(SigningError):
        list(BatchSigner(liar, executor="threads").sign_all(jobs))
    assert not (tmp_path / "out").exists()
    assert all(r.ok for r in BatchSigner(backend, executor="threads").sign_all(jobs))


def _self_signed(key: Any) -> Any:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "other")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_b_t_without_a_tsa_fails_before_any_document(seal: Seal, tmp_path: Path) -> None:
    jobs = _jobs(make_inputs(tmp_path / "in", "cades", 3), tmp_path / "out", "cades")
    options = SignatureOptions(level=SignatureLevel.B_T)
    with pytest.raises(SigningError, match="TSA"):
        list(BatchSigner(seal.backend(), options, executor="threads").sign_all(jobs))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("fmt", ["cades", "pades", "xades"])
def test_resume_skips_valid_outputs_and_redoes_damaged_ones(
    fmt: str, seal: Seal, tmp_path: Path
) -> None:
    inputs = make_inputs(tmp_path / "in", fmt, 6)
    jobs = _jobs(inputs, tmp_path / "out", fmt)
    assert all(r.ok for r in BatchSigner(seal.backend(), executor="threads").sign_all(jobs))
    damaged = jobs[2].output
    damaged.write_bytes(damaged.read_bytes()[:-40])
    jobs[4].output.unlink()
    stale = jobs[5].output.parent / f".{jobs[5].output.name}.abc123_x.tmp"
    stale.write_bytes(b"half a file")
    mine = jobs[5].output.parent / ".notes.tmp"  # not a name the batch makes
    mine.write_bytes(b"keep")
    signer = BatchSigner(seal.backend(), executor="threads", resume=True)
    results = {r.input: r for r in signer.sign_all(jobs)}
    assert results[inputs[2]].status is BatchStatus.OK
    assert results[inputs[4]].status is BatchStatus.OK
    skipped = [r for r in results.values() if r.status is BatchStatus.SKIPPED]
    assert len(skipped) == 4
    assert not stale.exists()
    assert mine.exists()
    again = list(signer.sign_all(jobs))
    assert all(r.status is BatchStatus.SKIPPED for r in again)


def test_a_signature_of_another_document_is_not_taken_as_done(seal: Seal, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", "cades", 2)
    jobs = _jobs(inputs, tmp_path / "out", "cades")
    list(BatchSigner(seal.backend(), executor="threads").sign_all(jobs))
    jobs[0].output.write_bytes(jobs[1].output.read_bytes())
    results = {
        r.input: r
        for r in BatchSigner(seal.backend(), resume=True, executor="threads").sign_all(jobs)
    }
    assert results[inputs[0]].status is BatchStatus.OK
    assert results[inputs[1]].status is BatchStatus.SKIPPED


def test_in_flight_documents_stay_bounded(seal: Seal, tmp_path: Path) -> None:
    """A lazy job iterator is consumed only max_in_flight (+ one task) ahead of results."""
    inputs = make_inputs(tmp_path / "in", "cades", 400)
    pulled = 0
    seen = 0
    worst = 0

    def jobs() -> Any:
        nonlocal pulled, worst
        for job in _jobs(inputs, tmp_path / "out", "cades"):
            pulled += 1
            worst = max(worst, pulled - seen)
            yield job

    signer = BatchSigner(
        seal.backend(), executor="threads", chunk_size=16, max_in_flight=32, durable=False
    )
    for result in signer.sign_all(jobs()):
        assert result.ok
        seen += 1
    assert seen == 400
    assert worst <= 32 + 64  # the bound plus one prepare task


def test_progress_report_and_summary(seal: Seal, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", "xades", 5)
    inputs[0].write_bytes(b"not xml <")
    calls: list[tuple[int, int | None, str]] = []
    signer = BatchSigner(
        seal.backend(),
        executor="threads",
        progress=lambda done, total, r: calls.append((done, total, r.status.value)),
    )
    results = list(signer.sign_all(_jobs(inputs, tmp_path / "out", "xades")))
    assert [c[0] for c in calls] == [1, 2, 3, 4, 5]
    assert {c[1] for c in calls} == {5}
    report = write_report(tmp_path / "report.json", results, seconds=1.5, extra={"format": "xades"})
    data = json.loads(report.read_text())
    assert data["format"] == "xades"
    assert data["summary"] == summarize(results, 1.5).to_dict()
    assert data["summary"]["ok"] == 4
    assert data["summary"]["failed"] == 1
    entry = next(d for d in data["documents"] if d["status"] == "failed")
    assert entry["input"] == str(inputs[0])
    assert "XML" in entry["error"]
    ok = next(d for d in data["documents"] if d["status"] == "ok")
    assert len(ok["digest"]) == 64
    assert ok["seconds"] > 0


def test_async_form(seal: Seal, tmp_path: Path) -> None:
    jobs = _jobs(make_inputs(tmp_path / "in", "cades", 30), tmp_path / "out", "cades")

    async def main() -> list[BatchResult]:
        signer = BatchSigner(seal.backend(), executor="threads")
        return [r async for r in signer.asign_all(jobs)]

    results = asyncio.run(main())
    assert len(results) == 30
    assert all(r.ok for r in results)


def test_job_values(tmp_path: Path) -> None:
    job = BatchJob.into("a/b.txt", tmp_path, "CAdES")
    assert job.output == tmp_path / "b.txt.p7s"
    assert job.format is BatchFormat.CADES
    assert BatchJob.into("x.pdf", tmp_path, "pades").output.name == "x.pdf"
    with pytest.raises(ValueError, match="must not be the input"):
        BatchJob(tmp_path / "x.pdf", tmp_path / "x.pdf", BatchFormat.PADES)
    with pytest.raises(ValueError, match="unknown batch format"):
        BatchFormat.parse("jades")
    with pytest.raises(ValueError, match="chunk_size"):
        BatchSigner(object(), chunk_size=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="executor"):
        BatchSigner(object(), executor="gpu")  # type: ignore[arg-type]


def test_repr_shows_no_key(seal: Seal) -> None:
    text = repr(BatchSigner(seal.backend()))
    assert "BatchSigner(" in text
    assert "PRIVATE" not in text.upper()


def test_large_pdfs_are_prepared_into_a_temp_file_and_renamed(seal: Seal, tmp_path: Path) -> None:
    from tests.batch.conftest import make_pdf

    (tmp_path / "in").mkdir()
    big = tmp_path / "in" / "big.pdf"
    big.write_bytes(make_pdf("grande", big=3 * 1024 * 1024))
    small = make_inputs(tmp_path / "in", "pades", 2)
    jobs = _jobs([big, *small], tmp_path / "out", "pades")
    results = list(BatchSigner(seal.backend(), executor="threads").sign_all(jobs))
    assert all(r.ok for r in results), {r.error for r in results}
    out = (tmp_path / "out" / "big.pdf").read_bytes()
    assert out.startswith(big.read_bytes())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        j.output.name for j in jobs
    )


class _FlakyToken(SoftwareKeyBackend):
    """Signs the probe and then fails every second call, like a token that drops out."""

    calls = 0

    def sign_digests(self, digests: Any, algorithm: Any) -> list[bytes]:
        type(self).calls += 1
        if type(self).calls % 2 == 0:
            raise SigningError("token removed")
        return super().sign_digests(digests, algorithm)


def test_a_backend_failure_fails_its_chunk_and_the_batch_goes_on(
    seal: Seal, tmp_path: Path
) -> None:
    backend = _FlakyToken(seal.key, seal.certificate, seal.chain)
    jobs = _jobs(make_inputs(tmp_path / "in", "cades", 64), tmp_path / "out", "cades")
    signer = BatchSigner(backend, executor="threads", chunk_size=32, max_in_flight=32)
    results = list(signer.sign_all(jobs))
    failed = [r for r in results if r.status is BatchStatus.FAILED]
    assert failed
    assert all(r.error == "SigningError: token removed" for r in failed)
    assert any(r.ok for r in results)
    assert len(list((tmp_path / "out").iterdir())) == sum(r.ok for r in results)
