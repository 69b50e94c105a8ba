"""The prepare and finish stages of the batch core, as plain functions (private).

These run on the executor (threads, processes, a Dask cluster): their arguments and
results are plain picklable data (:class:`BatchContext`, :class:`BatchJob`,
:class:`Prepared`, :class:`BatchResult`) and they never see a key. Decoded objects
(certificates, public key) are cached per worker, keyed by the batch id.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from qcertlib._compat import ignore_dsa_deprecation
from qcertlib._io import write_atomic
from qcertlib.batch._model import BatchFormat, BatchJob, BatchResult, BatchStatus
from qcertlib.batch._templates import (
    CmsTemplate,
    DigestSlot,
    SignedAttrsTemplate,
    der_time,
    timestamp_attrs,
)
from qcertlib.errors import QcertError, SigningError
from qcertlib.signing.backends import PreparedSignature, SignatureMechanism
from qcertlib.signing.options import SignatureLevel, SignatureOptions

__all__ = ["BatchContext", "Prepared", "finish_task", "prepare_task", "worker_init"]

_CHUNK = 1024 * 1024
PADES_STREAM_THRESHOLD = 1024 * 1024
"""PDFs larger than this are prepared into a temporary file next to the output
instead of memory (and finished in place, then renamed)."""
TMP_SUFFIX = ".qcert-tmp"


@dataclass(frozen=True, slots=True)
class BatchContext:
    """Everything a worker needs that is the same for every document of a batch."""

    batch_id: str
    format: BatchFormat
    options: SignatureOptions
    certificate: bytes
    chain: tuple[bytes, ...]
    mechanism: SignatureMechanism
    timestamper: Any = None
    revocation: tuple[Any, ...] | None = None
    cms_template: CmsTemplate | None = None
    attrs_template: SignedAttrsTemplate | None = None
    pades_attrs: DigestSlot | None = None
    tsa_certificates: tuple[bytes, ...] = ()
    pades_reserved: int = 0
    xades_template: Any = field(default=None, repr=False)
    resume: bool = False
    fsync: bool = False
    trust_roots: tuple[bytes, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A prepared document waiting for its signature value (plain data, no key)."""

    index: int
    job: BatchJob
    to_sign: bytes
    input_digest: str
    seconds: float
    attrs: bytes = b""
    prepared: PreparedSignature | None = None
    temp_path: str | None = None

    @property
    def size(self) -> int:
        """Bytes this record carries (what stays in memory until it is finished)."""
        return len(self.prepared.state) if self.prepared is not None else len(self.attrs)


class _Decoded:
    __slots__ = ("cert", "chain", "public_key")

    def __init__(self, ctx: BatchContext) -> None:
        self.cert = x509.load_der_x509_certificate(ctx.certificate)
        self.chain = [x509.load_der_x509_certificate(d) for d in ctx.chain]
        self.public_key = self.cert.public_key()


_CACHE: dict[str, _Decoded] = {}


def _decoded(ctx: BatchContext) -> _Decoded:
    found = _CACHE.get(ctx.batch_id)
    if found is None:
        if len(_CACHE) > 8:
            _CACHE.clear()
        found = _CACHE[ctx.batch_id] = _Decoded(ctx)
    return found


def describe(exc: BaseException) -> str:
    """A one-line error message for a report (type and message; never a traceback)."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{type(exc).__name__}: {exc.strerror}{where}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _hash_file(path: Path, algorithm: str) -> tuple[bytes, int]:
    h = hashlib.new(algorithm)
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.digest(), size


_STALE = re.compile(r"^\..+\.(?:[A-Za-z0-9_]{8}\.tmp|\d+\.\d+\.qcert-tmp)$")


def remove_stale_temps(directory: Path) -> int:
    """Remove the temporary files a killed run left in an output directory.

    Only names this package creates are touched: ``.<name>.<8 random>.tmp``
    (:func:`qcertlib._io.write_atomic`) and ``.<name>.<pid>.<n>.qcert-tmp`` (large
    PDFs). Returns how many were removed. Called once per directory on ``resume``.
    """
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        if _STALE.match(entry.name) and entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def worker_init() -> None:
    """Initializer of the batch's worker processes: leave Ctrl-C to the coordinator.

    Besides the usual reason (the coordinator cancels the pool), this is a measured
    speed-up: with the default SIGINT handler, every :func:`asyncio.run` in a
    process's main thread (pyHanko's coroutines in PAdES) ends with
    ``signal.getsignal(SIGINT)``, which on Python 3.11 formats ``repr()`` of the
    finished task and so re-serialises its asn1crypto result — about half of the
    per-PDF time. With SIGINT ignored asyncio installs no handler and skips that.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ignore_dsa_deprecation()


# --------------------------------------------------------------------------- prepare


def prepare_task(ctx: BatchContext, items: Sequence[tuple[int, BatchJob]]) -> list[Any]:
    """Prepare several documents; each entry is a :class:`Prepared` or a final
    :class:`BatchResult` (failed, or skipped on resume)."""
    return [_prepare_one(ctx, index, job) for index, job in items]


def _prepare_one(ctx: BatchContext, index: int, job: BatchJob) -> Prepared | BatchResult:
    started = time.perf_counter()
    try:
        if ctx.resume and job.output.exists() and output_is_valid(ctx, job):
            return BatchResult(
                job.input,
                job.output,
                BatchStatus.SKIPPED,
                "already signed (resume)",
                None,
                time.perf_counter() - started,
            )
        if ctx.format is BatchFormat.CADES:
            return _prepare_cades(ctx, index, job, started)
        if ctx.format is BatchFormat.PADES:
            return _prepare_pades(ctx, index, job, started)
        return _prepare_xades(ctx, index, job, started)
    except Exception as exc:  # one bad document must not stop the batch
        return BatchResult(
            job.input,
            job.output,
            BatchStatus.FAILED,
            describe(exc),
            None,
            time.perf_counter() - started,
        )


def _prepare_cades(ctx: BatchContext, index: int, job: BatchJob, started: float) -> Prepared:
    assert ctx.attrs_template is not None
    alg = ctx.options.digest.value
    digest, size = _hash_file(job.input, alg)
    if size == 0:
        raise SigningError("the document is empty (0 bytes); refusing to sign an empty file")
    when = ctx.options.signing_time or datetime.now(UTC)
    attrs = ctx.attrs_template.render(digest, der_time(when))
    return Prepared(
        index=index,
        job=job,
        to_sign=hashlib.new(alg, attrs).digest(),
        input_digest=digest.hex(),
        seconds=time.perf_counter() - started,
        attrs=attrs,
    )


def _prepare_pades(ctx: BatchContext, index: int, job: BatchJob, started: float) -> Prepared:
    from qcertlib.signing.pades import prepare_pades

    dec = _decoded(ctx)
    alg = ctx.options.digest.value
    size = job.input.stat().st_size
    temp: str | None = None
    document: bytes | Path
    if size > PADES_STREAM_THRESHOLD:
        digest, _ = _hash_file(job.input, alg)
        document = job.input
        temp = str(job.output.parent / f".{job.output.name}.{os.getpid()}.{index}{TMP_SUFFIX}")
    else:
        document = job.input.read_bytes()
        digest = hashlib.new(alg, document).digest()
    try:
        prepared = prepare_pades(
            document,
            dec.cert,
            dec.chain,
            ctx.options,
            output=temp,
            mechanism=ctx.mechanism,
            bytes_reserved=ctx.pades_reserved,
            signed_attrs=ctx.pades_attrs.render if ctx.pades_attrs is not None else None,
        )
    except BaseException:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise
    return Prepared(
        index=index,
        job=job,
        to_sign=prepared.digest,
        input_digest=digest.hex(),
        seconds=time.perf_counter() - started,
        prepared=prepared,
        temp_path=temp,
    )


def _prepare_xades(ctx: BatchContext, index: int, job: BatchJob, started: float) -> Prepared:
    from qcertlib.signing.xades import prepare_xades

    dec = _decoded(ctx)
    data = job.input.read_bytes()
    prepared = None
    if ctx.xades_template is not None:
        prepared = prepare_xades_template(ctx, data)
    if prepared is None:
        prepared = prepare_xades(data, dec.cert, dec.chain, ctx.options, mechanism=ctx.mechanism)
    return Prepared(
        index=index,
        job=job,
        to_sign=prepared.digest,
        input_digest=hashlib.new(ctx.options.digest.value, data).hexdigest(),
        seconds=time.perf_counter() - started,
        prepared=prepared,
    )


XADES_TEMPLATE = "xades-template"


def prepare_xades_template(
    ctx: BatchContext, data: bytes, at: datetime | None = None
) -> PreparedSignature | None:
    """Enveloped XAdES B-B through the batch template (``None``: use the existing path)."""
    from qcertlib.batch._xades_template import TemplateMismatch, fill
    from qcertlib.signing._docs_common import pack_state
    from qcertlib.signing.xades import parse_xml

    root = parse_xml(data)
    try:
        filled = fill(ctx.xades_template, data, root, at)
    except TemplateMismatch:
        return None
    alg = ctx.options.digest
    return PreparedSignature(
        format=XADES_TEMPLATE,
        digest=alg.digest(filled.signed_info),
        algorithm=alg,
        state=pack_state({"before": filled.before, "after": filled.after}),
    )


def finish_xades_template(
    ctx: BatchContext, prepared: PreparedSignature, signature: bytes
) -> bytes:
    """Put the signature value into a document prepared by :func:`prepare_xades_template`."""
    import base64

    from qcertlib.signing import _cms
    from qcertlib.signing._docs_common import unpack_state
    from qcertlib.signing.xades import _xmldsig_value

    dec = _decoded(ctx)
    _cms.check_prehashed(dec.cert, ctx.mechanism, signature, prepared.digest, prepared.algorithm)
    st = unpack_state(prepared.state)
    value = base64.b64encode(_xmldsig_value(dec.cert, signature))
    return st["before"] + value + st["after"]


# --------------------------------------------------------------------------- finish


def finish_task(
    ctx: BatchContext, items: Sequence[tuple[Prepared, bytes, float]]
) -> list[BatchResult]:
    """Finish several signed documents: embed, timestamp, revocation data, atomic write.

    Each item is ``(prepared, signature value, seconds spent signing it)``.
    """
    return [_finish_one(ctx, p, signature, sign_seconds) for p, signature, sign_seconds in items]


def _finish_one(
    ctx: BatchContext, p: Prepared, signature: bytes, sign_seconds: float
) -> BatchResult:
    started = time.perf_counter()
    job = p.job
    try:
        if ctx.format is BatchFormat.CADES:
            _finish_cades(ctx, p, signature)
        elif ctx.format is BatchFormat.PADES:
            _finish_pades(ctx, p, signature)
        else:
            _finish_xades(ctx, p, signature)
        status, error = BatchStatus.OK, None
    except Exception as exc:  # one bad document must not stop the batch
        if p.temp_path is not None:
            Path(p.temp_path).unlink(missing_ok=True)
        status, error = BatchStatus.FAILED, describe(exc)
    seconds = p.seconds + sign_seconds + time.perf_counter() - started
    return BatchResult(job.input, job.output, status, error, p.input_digest, seconds)


def _timestamp(ctx: BatchContext, signature: bytes) -> bytes:
    from qcertlib.signing.timestamps import token_info

    alg = ctx.options.digest
    imprint = alg.digest(signature)
    token: bytes = ctx.timestamper.timestamp(imprint, alg)
    got, _alg, _when = token_info(token)
    if got != imprint:
        raise SigningError("the TSA token does not cover this signature")
    return token


def _finish_cades(ctx: BatchContext, p: Prepared, signature: bytes) -> None:
    from qcertlib.signing import _cms

    assert ctx.cms_template is not None
    dec = _decoded(ctx)
    _cms.check_prehashed(dec.cert, ctx.mechanism, signature, p.to_sign, ctx.options.digest)
    unsigned = None
    if ctx.options.level.at_least(SignatureLevel.B_T):
        token = _timestamp(ctx, signature)
        if ctx.options.level.at_least(SignatureLevel.B_LT):
            _check_tsa_known(ctx, token)
        unsigned = timestamp_attrs(token)
    der = ctx.cms_template.assemble(p.attrs, signature, unsigned)
    write_atomic(p.job.output, der, mode=0o644, fsync=ctx.fsync)


def _check_tsa_known(ctx: BatchContext, token: bytes) -> None:
    """B-LT embeds the TSA chain fetched once per batch: the token must be from that TSA."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from qcertlib.signing import _cms

    known = set(ctx.tsa_certificates)
    for cert in _cms.certificates_of(_cms.load_signed_data(token)):
        if cert.public_bytes(Encoding.DER) not in known:
            raise SigningError(
                "the TSA answered with a certificate not seen at batch start; "
                "its revocation data is missing (re-run the batch)"
            )


def _finish_pades(ctx: BatchContext, p: Prepared, signature: bytes) -> None:
    from qcertlib.signing.pades import finish_pades, finish_pades_file

    assert p.prepared is not None
    ts = ctx.timestamper if ctx.options.level.at_least(SignatureLevel.B_T) else None
    cms = ctx.cms_template.assemble if ctx.cms_template is not None else None
    if p.temp_path is None:
        pdf = finish_pades(
            p.prepared,
            signature,
            ctx.options,
            timestamper=ts,
            revocation=ctx.revocation,
            cms_builder=cms,
        )
        write_atomic(p.job.output, pdf, mode=0o644, fsync=ctx.fsync)
        return
    path = finish_pades_file(
        p.prepared,
        signature,
        ctx.options,
        timestamper=ts,
        revocation=ctx.revocation,
        cms_builder=cms,
    )
    os.chmod(path, 0o644)
    os.replace(path, p.job.output)


def _finish_xades(ctx: BatchContext, p: Prepared, signature: bytes) -> None:
    from qcertlib.signing.xades import finish_xades

    assert p.prepared is not None
    if p.prepared.format == XADES_TEMPLATE:
        out = finish_xades_template(ctx, p.prepared, signature)
        write_atomic(p.job.output, out, mode=0o644, fsync=ctx.fsync)
        return
    ts = ctx.timestamper if ctx.options.level.at_least(SignatureLevel.B_T) else None
    xml = finish_xades(
        p.prepared, signature, ctx.options, timestamper=ts, revocation=ctx.revocation
    )
    write_atomic(p.job.output, xml, mode=0o644, fsync=ctx.fsync)


# --------------------------------------------------------------------------- resume


def output_is_valid(ctx: BatchContext, job: BatchJob) -> bool:
    """True when ``job.output`` is a signature by this batch's signer over ``job.input``.

    CAdES: the message digest equals the input's hash and the signature verifies with
    the signer's certificate. PAdES: the output begins with the input (incremental
    update) and the validator finds no failed signature and one by this signer. XAdES:
    the validator finds no failed signature and one by this signer.
    """
    try:
        if ctx.format is BatchFormat.CADES:
            return _cades_valid(ctx, job)
        return _doc_valid(ctx, job)
    except (QcertError, OSError, ValueError, KeyError, TypeError, IndexError):
        return False


def _cades_valid(ctx: BatchContext, job: BatchJob) -> bool:
    from qcertlib.signing import _cms

    dec = _decoded(ctx)
    sd = _cms.load_signed_data(job.output.read_bytes())
    if len(sd["signer_infos"]) != 1:
        return False
    si = sd["signer_infos"][0]
    attrs = si["signed_attrs"]
    if _cms.signing_certificate_matches(attrs, dec.cert) is not True:
        return False
    digests = _cms.attr_values(attrs, "message_digest")
    name = si["digest_algorithm"]["algorithm"].native
    expected, _ = _hash_file(job.input, name)
    if len(digests) != 1 or digests[0].native != expected:
        return False
    return _cms.verify_signature(
        dec.public_key,
        si["signature_algorithm"],
        name,
        _cms.signed_attrs_der(si),
        si["signature"].native,
    )


def _starts_with(path: Path, prefix_file: Path) -> bool:
    with path.open("rb") as out, prefix_file.open("rb") as src:
        while chunk := src.read(_CHUNK):
            if out.read(len(chunk)) != chunk:
                return False
    return True


def _doc_valid(ctx: BatchContext, job: BatchJob) -> bool:
    from qcertlib.validation.report import Indication, ValidationPolicy

    dec = _decoded(ctx)
    policy = ValidationPolicy(
        trust_roots=tuple(x509.load_der_x509_certificate(d) for d in ctx.trust_roots),
        intermediates=tuple(dec.chain),
        check_revocation=False,
        lint=False,
    )
    if ctx.format is BatchFormat.PADES:
        from qcertlib.validation.pdf import validate_pdf

        if not _starts_with(job.output, job.input):
            return False
        report = validate_pdf(job.output.read_bytes(), policy)
    else:
        from qcertlib.validation.xml import validate_xml

        report = validate_xml(job.output.read_bytes(), policy)
    sigs = report.signatures
    if not sigs or any(s.indication is Indication.TOTAL_FAILED for s in sigs):
        return False
    return any(s.signer_certificate == dec.cert for s in sigs)
