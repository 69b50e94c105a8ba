"""Opt-in parallel RSA signing through the system libcrypto (``sign_threads``): the
signatures are byte-identical to the backend's, and it stays off for other keys."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qcertlib.batch import BatchJob, BatchSigner
from qcertlib.batch._native import NativeRsaSigner
from qcertlib.signing.backends import SignatureMechanism, SoftwareKeyBackend
from qcertlib.signing.options import DigestAlgorithm, SignatureOptions
from qcertlib.testing import TestPKI
from tests.batch.conftest import Seal, make_inputs
from tests.conftest import require_tool


@pytest.mark.parametrize("alg", list(DigestAlgorithm), ids=lambda a: a.value)
def test_native_signatures_equal_the_backend_ones(seal: Seal, alg: DigestAlgorithm) -> None:
    backend = seal.backend()
    native = NativeRsaSigner.for_backend(backend)
    assert native is not None
    digests = [hashlib.new(alg.value, bytes([i])).digest() for i in range(8)]
    try:
        assert native.sign_many(digests, alg) == backend.sign_digests(digests, alg)
    finally:
        native.close()
    with pytest.raises(OSError, match="closed"):
        native.sign(digests[0], alg)


def test_native_signing_is_off_for_other_keys_and_mechanisms(
    seal: Seal, qcert_pki: TestPKI
) -> None:
    ec = qcert_pki.citizen
    assert NativeRsaSigner.for_backend(SoftwareKeyBackend(ec.private_key, ec.certificate)) is None
    pss = SoftwareKeyBackend(seal.key, seal.certificate, mechanism=SignatureMechanism.RSA_PSS)
    assert NativeRsaSigner.for_backend(pss) is None
    assert NativeRsaSigner.for_backend(object()) is None
    assert repr(NativeRsaSigner.for_backend(seal.backend())) == "NativeRsaSigner()"


@pytest.mark.oracle
def test_batch_with_sign_threads_gives_the_same_bytes(seal: Seal, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    options = SignatureOptions(signing_time=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    inputs = make_inputs(tmp_path / "in", "cades", 40)
    outs = {}
    for threads in (1, 3):
        jobs = [BatchJob.into(p, tmp_path / f"out{threads}", "cades") for p in inputs]
        signer = BatchSigner(
            seal.backend(), options, executor="threads", sign_threads=threads, chunk_size=16
        )
        assert all(r.ok for r in signer.sign_all(jobs))
        outs[threads] = [j.output.read_bytes() for j in jobs]
    assert outs[1] == outs[3]
    src = inputs[5]
    proc = subprocess.run(
        [openssl, "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(tmp_path / "out3" / f"{src.name}.p7s"), "-content", str(src),
         "-CAfile", str(seal.root_pem), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0


def test_sign_threads_with_an_ec_key_falls_back_to_the_backend(
    qcert_pki: TestPKI, tmp_path: Path
) -> None:
    ec = qcert_pki.citizen
    backend = SoftwareKeyBackend(ec.private_key, ec.certificate, ec.chain)
    jobs = [BatchJob.into(p, tmp_path / "out", "cades") for p in make_inputs(tmp_path, "cades", 5)]
    assert all(
        r.ok for r in BatchSigner(backend, executor="threads", sign_threads=2).sign_all(jobs)
    )
