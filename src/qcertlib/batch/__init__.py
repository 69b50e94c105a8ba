"""The optimized batch-signing core: thousands of documents, one key, one PIN.

Every signature is three stages (see :mod:`qcertlib.signing`): **prepare** each
document on an executor (parse, reserve space, hash; no key), **sign** the digests
in chunks through one :class:`~qcertlib.signing.SignerBackend` (one login, one key
import; the key never leaves the calling process), **finish** on the executor
(embed, timestamp, revocation data, atomic write)::

    from qcertlib.batch import BatchJob, BatchSigner
    from qcertlib.signing import Pkcs12Backend, SignatureOptions

    backend = Pkcs12Backend.open("sello.p12", pin)
    jobs = [BatchJob.into(p, "out/", "pades") for p in Path("in").glob("*.pdf")]
    for result in BatchSigner(backend, SignatureOptions()).sign_all(jobs):
        print(result.status.value, result.input)

This package imports no optional dependency; the PAdES and XAdES stages import
pyHanko / signxml in the workers that need them.
"""

from __future__ import annotations

from qcertlib.batch._model import BatchFormat, BatchJob, BatchResult, BatchStatus
from qcertlib.batch.report import BatchSummary, summarize, write_report
from qcertlib.batch.signer import BatchSigner, ProgressCallback

__all__ = [
    "BatchFormat",
    "BatchJob",
    "BatchResult",
    "BatchSigner",
    "BatchStatus",
    "BatchSummary",
    "ProgressCallback",
    "summarize",
    "write_report",
]
