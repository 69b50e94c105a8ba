"""B-T and B-LT batches: one probe timestamp and the revocation data once per batch,
a timestamp per document (in-process TSA of the test PKI, threads executor)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib.batch import BatchJob, BatchSigner
from qcertlib.signing import _cms
from qcertlib.signing._revinfo import RevocationData
from qcertlib.signing.options import SignatureLevel, SignatureOptions
from qcertlib.signing.timestamps import token_info
from qcertlib.testing import TestPKI
from tests.batch.conftest import Seal, make_inputs
from tests.conftest import require_tool


class _Counting:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def timestamp(self, data_digest: bytes, algorithm: Any) -> bytes:
        self.calls += 1
        token: bytes = self.inner.timestamp(data_digest, algorithm)
        return token


def _tokens(p7s: bytes) -> list[bytes]:
    sd = _cms.load_signed_data(p7s)
    values = _cms.attr_values(sd["signer_infos"][0]["unsigned_attrs"], "signature_time_stamp_token")
    return [v.dump() for v in values]


@pytest.mark.oracle
@pytest.mark.parametrize("level", [SignatureLevel.B_T, SignatureLevel.B_LT], ids=lambda x: x.value)
def test_cades_b_t_and_b_lt_batches(
    level: SignatureLevel, seal: Seal, tsa: Any, qcert_pki: TestPKI, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")["openssl"]
    inputs = make_inputs(tmp_path / "in", "cades", 12)
    jobs = [BatchJob.into(p, tmp_path / "out", "cades") for p in inputs]
    counting = _Counting(tsa)
    crl = qcert_pki.crl.public_bytes(Encoding.DER)
    signer = BatchSigner(
        seal.backend(),
        SignatureOptions(level=level),
        executor="threads",
        timestamper=counting,
        revocation=[RevocationData(crls=(crl,))],
    )
    results = list(signer.sign_all(jobs))
    assert all(r.ok for r in results), {r.error for r in results}
    assert counting.calls == 12 + 1  # one per document plus the probe at batch start
    for src in inputs[::4]:
        p7s = (tmp_path / "out" / f"{src.name}.p7s").read_bytes()
        (token,) = _tokens(p7s)
        sig = _cms.load_signed_data(p7s)["signer_infos"][0]["signature"].native
        assert token_info(token)[0] == SignatureOptions().digest.digest(sig)
        sd = _cms.load_signed_data(p7s)
        certs = _cms.certificates_of(sd)
        crls, _ocsps = _cms.revocation_values(sd)
        if level is SignatureLevel.B_LT:
            assert qcert_pki.tsa in certs
            assert crls == [crl]
        else:
            assert qcert_pki.tsa not in certs
            assert crls == []
        proc = subprocess.run(
            [openssl, "cms", "-verify", "-binary", "-inform", "DER",
             "-in", str(tmp_path / "out" / f"{src.name}.p7s"), "-content", str(src),
             "-CAfile", str(seal.root_pem), "-purpose", "any", "-out", "/dev/null"],
            capture_output=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0


@pytest.mark.parametrize("fmt", ["pades", "xades"])
def test_pades_and_xades_b_t_batches_carry_a_timestamp(
    fmt: str, seal: Seal, tsa: Any, qcert_pki: TestPKI, tmp_path: Path
) -> None:
    from qcertlib.validation.report import Indication, ValidationPolicy

    inputs = make_inputs(tmp_path / "in", fmt, 6)
    jobs = [BatchJob.into(p, tmp_path / "out", fmt) for p in inputs]
    signer = BatchSigner(
        seal.backend(),
        SignatureOptions(level=SignatureLevel.B_T),
        executor="threads",
        timestamper=tsa,
        tsa_concurrency=2,
    )
    assert all(r.ok for r in signer.sign_all(jobs))
    policy = ValidationPolicy(trust_roots=(qcert_pki.root,), check_revocation=False, lint=False)
    data = (tmp_path / "out" / inputs[3].name).read_bytes()
    if fmt == "pades":
        from qcertlib.validation.pdf import validate_pdf

        report = validate_pdf(data, policy)
    else:
        from qcertlib.validation.xml import validate_xml

        report = validate_xml(data, policy)
    (sig,) = report.signatures
    assert sig.indication is Indication.TOTAL_PASSED, report.to_text()
    assert sig.level is SignatureLevel.B_T
    assert sig.timestamp_time is not None


def test_b_lta_is_refused_for_cades_and_xades_documents(
    seal: Seal, tsa: Any, tmp_path: Path
) -> None:
    jobs = [
        BatchJob.into(p, tmp_path / "out", fmt)
        for fmt in ("cades", "xades")
        for p in make_inputs(tmp_path / fmt, fmt, 2)
    ]
    signer = BatchSigner(
        seal.backend(),
        SignatureOptions(level=SignatureLevel.B_LTA),
        executor="threads",
        timestamper=tsa,
        revocation=[RevocationData(crls=(b"",))],
    )
    results = list(signer.sign_all(jobs))
    assert len(results) == 4
    assert all(r.status.value == "failed" for r in results)
    assert all("B-LTA is available for PAdES only" in (r.error or "") for r in results)
