"""The batch signer: prepare on an executor, sign digests in chunks, finish on the executor."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import dataclasses
import multiprocessing
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Sequence,
    Sized,
)
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib.batch._model import BatchFormat, BatchJob, BatchResult, BatchStatus
from qcertlib.batch._native import NativeRsaSigner
from qcertlib.batch._stages import (
    BatchContext,
    Prepared,
    describe,
    finish_task,
    prepare_task,
    remove_stale_temps,
    worker_init,
)
from qcertlib.batch._templates import (
    CmsTemplate,
    DigestSlot,
    SignedAttrsTemplate,
    der_length,
    der_time,
    minimal_pdf,
    signed_attrs_of,
)
from qcertlib.batch._templates import timestamp_attrs as _ts_attrs
from qcertlib.errors import QcertError, SigningError
from qcertlib.signing.backends import SignerBackend
from qcertlib.signing.options import SignatureLevel, SignatureOptions

__all__ = ["BatchSigner", "ProgressCallback"]

ProgressCallback = Callable[[int, "int | None", BatchResult], None]
"""``progress(done, total, result)``: called in the coordinating thread after each
document (``total`` is ``None`` when the jobs are an iterator of unknown length)."""

_PROBE_DOCUMENT = b"qcertlib batch probe: checks the signer before any document is touched\n"
_TASK_SIZE = {BatchFormat.CADES: 64, BatchFormat.XADES: 8, BatchFormat.PADES: 2}
# imported once by the fork server, so workers start without re-importing pyHanko & co.
_PRELOAD = ("qcertlib.batch._preload",)
# digests per backend call within a chunk; between calls the GIL is offered to the
# worker threads (RSA signing holds it, and each file operation of a worker thread
# would otherwise wait up to a switch interval, 5 ms, to get it back)
_SIGN_SLICE = 32
# enveloped XAdES probes: the template must reproduce prepare_xades's SignedInfo for each
_XADES_PROBES = (
    b"<qcertlib-batch-probe/>",
    b'<?xml version="1.0" encoding="UTF-8"?>\n<f:Factura xmlns:f="urn:qcertlib:probe" '
    b'xmlns="urn:qcertlib:default"><Importe>1.00</Importe><!-- c -->'
    b"</f:Factura>\n<!-- after -->\n",
)
_STOPPED = "not attempted: the batch stopped after an earlier error"


class _FixedToken:
    """A timestamp source that returns one token (the probe's, while building templates)."""

    def __init__(self, token: bytes) -> None:
        self._token = token

    def timestamp(self, data_digest: bytes, algorithm: Any) -> bytes:
        return self._token


@dataclasses.dataclass(slots=True)
class _Setup:
    when: datetime
    signature: bytes
    probe: Any
    options: SignatureOptions
    token: bytes | None
    tsa_certs: tuple[bytes, ...]
    revocation: tuple[Any, ...] | None
    timestamper: Any
    native: NativeRsaSigner | None = None
    sign_pool: cf.ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self.sign_pool is not None:
            self.sign_pool.shutdown(wait=True)
        if self.native is not None:
            self.native.close()


class _Executors:
    """The executor(s) of one batch run.

    A given :class:`concurrent.futures.Executor` serves every format (not shut down
    here). ``"threads"`` / ``"processes"``: one pool of that kind. ``None``: a thread
    pool for CAdES (hashing and a few small byte operations: a process hop would
    cost more than the work) and for XAdES batches that run on the per-batch template
    (a parse, a few splices; measured ~25 % faster than a process pool), a process
    pool for PAdES and other XAdES (pure-Python PDF and XML work), each created on
    first use.
    """

    def __init__(self, spec: cf.Executor | str | None, workers: int) -> None:
        self._spec = spec
        self._workers = workers
        self._threads: cf.Executor | None = None
        self._processes: cf.Executor | None = None

    def get(self, ctx: BatchContext) -> cf.Executor:
        if isinstance(self._spec, cf.Executor):
            return self._spec
        light = ctx.format is BatchFormat.CADES or (
            ctx.format is BatchFormat.XADES and ctx.xades_template is not None
        )
        kind = self._spec or ("threads" if light else "processes")
        if kind == "threads":
            if self._threads is None:
                # automatic pool: half the workers (measured: fewer threads
                # contending for the GIL with the signing thread(s) sign faster)
                size = self._workers if self._spec else max(1, self._workers // 2)
                self._threads = cf.ThreadPoolExecutor(size, thread_name_prefix="qcert-batch")
            return self._threads
        if self._processes is None:
            methods = multiprocessing.get_all_start_methods()
            # never fork: a forked worker would hold a copy of the key
            method = "forkserver" if "forkserver" in methods else "spawn"
            mp_context = multiprocessing.get_context(method)
            if method == "forkserver":
                mp_context.set_forkserver_preload(list(_PRELOAD))
            self._processes = cf.ProcessPoolExecutor(
                self._workers, mp_context=mp_context, initializer=worker_init
            )
        return self._processes

    def shutdown(self) -> None:
        for pool in (self._threads, self._processes):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


class BatchSigner:
    """Sign many documents with one key: prepare -> sign digests -> finish.

    ``backend`` is any :class:`~qcertlib.signing.SignerBackend` (software key,
    PKCS#12, PKCS#11 token); it stays in the calling process and signs the digests of
    ``chunk_size`` documents per :meth:`~qcertlib.signing.SignerBackend.sign_digests`
    call (one login, one key import). Preparing (parse, reserve, hash) and finishing
    (embed, timestamp, revocation data, atomic write) run on ``executor``:

    * ``None`` (default): a process pool of ``workers`` processes (default: the CPU
      count) for PAdES and XAdES, whose work is pure Python, and a thread pool of
      ``workers // 2`` threads (at least one) for CAdES, whose per-document work is
      hashing and a few byte operations, and for enveloped XAdES B-B batches that
      run on the per-batch template (checked at batch start);
    * ``"processes"``: a process pool for every format, started with
      *forkserver* (or *spawn*), never *fork*, so the key is never copied into a
      worker;
    * ``"threads"``: a thread pool for every format;
    * any :class:`concurrent.futures.Executor`, e.g. Dask's
      ``distributed.Client(...).get_executor()`` (the ``dask`` extra).

    Everything that is the same for every document is computed once, before the first
    document is read: a probe signature (a wrong PIN or a key that does not match the
    certificate fails here), for CAdES the CMS and signed-attribute templates, the PAdES
    reserved size, a probe timestamp (B-T) and the revocation data of the signer's and
    TSA's chains (B-LT). At most ``max_in_flight`` documents are between stages at any
    time (and no new document is started while the prepared ones hold more than
    ``max_in_flight_bytes``; PDFs over 1 MiB are prepared into a temporary file next to
    their output, not memory) and at most ``tsa_concurrency`` timestamp requests run at
    once. Outputs are written atomically (temporary file + rename); with ``durable`` the
    file system is synced once per chunk before results are reported. A failing document
    is reported (:class:`BatchResult` ``failed``) and the others go on, unless
    ``stop_on_error``. With ``resume``, an output that already exists and validates is
    left alone (``skipped``).

    ``sign_threads`` > 1 (opt-in) signs with that many threads for an in-memory RSA
    PKCS#1 v1.5 key (:class:`~qcertlib.signing.SoftwareKeyBackend`, PKCS#12): the key is
    loaded once more, in this process, into the system OpenSSL through :mod:`ctypes`,
    which, unlike ``cryptography``, releases the GIL while it signs. It is used only if
    its probe signature is byte-identical to the backend's; other backends ignore it.
    """

    def __init__(
        self,
        backend: SignerBackend,
        options: SignatureOptions | None = None,
        *,
        executor: cf.Executor | str | None = None,
        workers: int | None = None,
        chunk_size: int = 256,
        max_in_flight: int = 1024,
        max_in_flight_bytes: int = 64 * 1024 * 1024,
        stop_on_error: bool = False,
        progress: ProgressCallback | None = None,
        resume: bool = False,
        timestamper: Any = None,
        revocation: Sequence[Any] | None = None,
        tsa_concurrency: int = 4,
        durable: bool = True,
        sign_threads: int = 1,
    ) -> None:
        if chunk_size < 1 or max_in_flight < 1 or tsa_concurrency < 1:
            raise ValueError("chunk_size, max_in_flight and tsa_concurrency must be >= 1")
        if isinstance(executor, str) and executor not in ("processes", "threads"):
            raise ValueError("executor must be an Executor, 'processes' or 'threads'")
        if workers is not None and workers < 1:
            raise ValueError("workers must be >= 1")
        self._backend = backend
        self._options = options or SignatureOptions()
        self._executor = executor
        self._workers = workers or os.cpu_count() or 1
        self._chunk_size = chunk_size
        self._max_in_flight = max(max_in_flight, chunk_size)
        self._max_in_flight_bytes = max_in_flight_bytes
        self._stop_on_error = stop_on_error
        self._progress = progress
        self._resume = resume
        self._timestamper = timestamper
        self._revocation = tuple(revocation) if revocation is not None else None
        self._tsa_concurrency = tsa_concurrency
        self._durable = durable
        self._sign_threads = max(1, sign_threads)

    def __repr__(self) -> str:
        return (
            f"BatchSigner({self._backend!r}, level={self._options.level.value}, "
            f"chunk_size={self._chunk_size})"
        )

    # ------------------------------------------------------------------ public API

    def sign_all(self, jobs: Iterable[BatchJob]) -> Generator[BatchResult, None, None]:
        """Sign every job; yields one :class:`BatchResult` per job as it completes.

        Raises (before any document is read) when the backend cannot sign for its
        certificate, the TSA cannot be reached (B-T) or the signer's revocation data
        cannot be fetched (B-LT). Per-document problems are results, not exceptions.
        """
        total = len(jobs) if isinstance(jobs, Sized) else None
        setup = self._setup()
        executors = self._make_executor()
        try:
            yield from self._run(iter(jobs), executors, setup, total)
        finally:
            executors.shutdown()
            setup.close()

    async def asign_all(self, jobs: Iterable[BatchJob]) -> AsyncIterator[BatchResult]:
        """The async form of :meth:`sign_all` (the batch runs in a helper thread)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self._chunk_size)
        end = object()
        cancel = threading.Event()

        def produce() -> None:
            item: Any = end
            results = self.sign_all(jobs)
            try:
                for result in results:
                    if cancel.is_set():
                        return
                    asyncio.run_coroutine_threadsafe(queue.put(result), loop).result()
            except BaseException as exc:  # handed to the consumer
                item = exc
            finally:
                results.close()
            if not cancel.is_set():
                asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

        worker = loop.run_in_executor(None, produce)
        try:
            while True:
                item = await queue.get()
                if item is end:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            cancel.set()
            while not queue.empty():
                queue.get_nowait()
            await worker

    # ------------------------------------------------------------------ set-up

    def _make_executor(self) -> _Executors:
        return _Executors(self._executor, self._workers)

    def _setup(self) -> _Setup:
        from qcertlib.signing import _cms
        from qcertlib.signing.cades import finish_cades, prepare_cades

        backend = self._backend
        opts = self._options
        cert = backend.certificate
        when = (opts.signing_time or datetime.now(UTC)).replace(microsecond=0)
        basic = dataclasses.replace(opts, level=SignatureLevel.B_B, signing_time=when)
        probe = prepare_cades(
            _PROBE_DOCUMENT, cert, backend.chain, basic, mechanism=backend.mechanism
        )
        (signature,) = backend.sign_digests([probe.digest], probe.algorithm)
        finish_cades(probe, signature, basic)  # raises if the key does not match the cert
        token = None
        tsa_certs: tuple[bytes, ...] = ()
        revocation = self._revocation
        timestamper = None
        if opts.level.at_least(SignatureLevel.B_T):
            timestamper = self._timestamper
            if timestamper is None:
                if not opts.tsa_url:
                    raise SigningError(f"{opts.level.value} needs a TSA: set tsa_url")
                from qcertlib.signing.timestamps import Timestamper

                timestamper = Timestamper(opts.tsa_url, hash=opts.digest)
            token = timestamper.timestamp(opts.digest.digest(signature), opts.digest)
            tsa_certs = tuple(
                c.public_bytes(Encoding.DER)
                for c in _cms.certificates_of(_cms.load_signed_data(token))
            )
        if opts.level.at_least(SignatureLevel.B_LT) and revocation is None:
            from qcertlib.signing._revinfo import RevocationData, fetch_for_chain

            certs = _cms.dedupe(
                [cert, *backend.chain, *(x509.load_der_x509_certificate(d) for d in tsa_certs)]
            )
            revocation = tuple(
                RevocationData(ocsp_response=m.ocsp_response, crls=tuple(m.crls))
                for m in fetch_for_chain(certs, opts.revocation)
            )
        native = None
        if self._sign_threads > 1:
            native = NativeRsaSigner.for_backend(backend)
            if native is not None and native.sign(probe.digest, probe.algorithm) != signature:
                native.close()  # not byte-identical to the backend: do not use it
                native = None
        return _Setup(
            when=when,
            signature=signature,
            probe=probe,
            options=dataclasses.replace(opts, revocation=None),
            token=token,
            tsa_certs=tsa_certs,
            revocation=revocation,
            timestamper=timestamper,
            native=native,
            sign_pool=(
                cf.ThreadPoolExecutor(self._sign_threads, thread_name_prefix="qcert-sign")
                if native is not None
                else None
            ),
        )

    def _context(self, fmt: BatchFormat, setup: _Setup) -> BatchContext:
        backend = self._backend
        cert = backend.certificate
        chain = tuple(backend.chain)
        roots = tuple(c for c in chain if c.subject == c.issuer) or (chain[-1:] or (cert,))
        ctx = BatchContext(
            batch_id=uuid.uuid4().hex,
            format=fmt,
            options=setup.options,
            certificate=cert.public_bytes(Encoding.DER),
            chain=tuple(c.public_bytes(Encoding.DER) for c in chain),
            mechanism=backend.mechanism,
            timestamper=setup.timestamper,
            revocation=setup.revocation,
            tsa_certificates=setup.tsa_certs,
            resume=self._resume,
            trust_roots=tuple(c.public_bytes(Encoding.DER) for c in roots),
        )
        if fmt is not BatchFormat.PADES and setup.options.level is SignatureLevel.B_LTA:
            raise SigningError(f"{fmt.value}: B-LTA is available for PAdES only; use B-LT")
        if fmt is BatchFormat.CADES:
            return self._cades_context(ctx, setup)
        if fmt is BatchFormat.PADES:
            # the CMS in a PDF is about a detached CAdES (+ the timestamp token): reserve
            # that once for the whole batch, with a margin, instead of a dry run per PDF
            from qcertlib.signing.cades import finish_cades

            basic = dataclasses.replace(setup.options, level=SignatureLevel.B_B)
            size = len(finish_cades(setup.probe, setup.signature, basic))
            if setup.token is not None:
                size += len(setup.token) + 64
            size += max(4096, size // 4)
            return self._pades_context(dataclasses.replace(ctx, pades_reserved=2 * size), setup)
        return self._xades_context(ctx, setup)

    def _xades_context(self, ctx: BatchContext, setup: _Setup) -> BatchContext:
        """Enveloped XAdES B-B: cut a per-batch template from a probe signature built by
        :func:`~qcertlib.signing.xades.prepare_xades`; it is used only if it reproduces
        that function's canonical ``SignedInfo`` for probe documents (else, or for other
        levels, every document takes the existing path)."""
        if setup.options.level is not SignatureLevel.B_B:
            return ctx
        from signxml.exceptions import SignXMLException
        from signxml.verifier import XMLVerifier

        from qcertlib.batch._stages import finish_xades_template, prepare_xades_template
        from qcertlib.batch._xades_template import TemplateMismatch, XadesTemplate
        from qcertlib.signing.xades import (
            DS_NS,
            finish_xades,
            parse_xml,
            prepare_xades,
        )

        backend = self._backend
        opts = dataclasses.replace(setup.options, signing_time=setup.when)
        try:
            probe = prepare_xades(
                _XADES_PROBES[0], backend.certificate, backend.chain, opts,
                mechanism=backend.mechanism,
            )  # fmt: skip
            (signature,) = backend.sign_digests([probe.digest], probe.algorithm)
            sig = next(
                parse_xml(finish_xades(probe, signature, opts)).iter(f"{{{DS_NS}}}Signature")
            )
            template = XadesTemplate.from_signature(sig, opts.digest, setup.options.signing_time)
            with_template = dataclasses.replace(ctx, xades_template=template)
            # the probe document again: byte-identical SignedInfo (same Ids and time)
            mine = prepare_xades_template(with_template, _XADES_PROBES[0], setup.when)
            if mine is None or mine.digest != probe.digest:
                return ctx
            outputs = [finish_xades_template(with_template, mine, signature)]
            # other roots (namespaces, default namespace, xml:lang): sign and verify
            for document in _XADES_PROBES[1:]:
                mine = prepare_xades_template(with_template, document, setup.when)
                if mine is None:
                    return ctx
                (value,) = backend.sign_digests([mine.digest], mine.algorithm)
                outputs.append(finish_xades_template(with_template, mine, value))
            for output in outputs:
                XMLVerifier().verify(output, x509_cert=backend.certificate, expect_references=3)
        except (TemplateMismatch, QcertError, ValueError, StopIteration, SignXMLException):
            return ctx
        return with_template

    def _pades_context(self, ctx: BatchContext, setup: _Setup) -> BatchContext:
        """Derive the PAdES signed-attribute and (B-B) CMS templates from two probe
        PDFs prepared by :func:`~qcertlib.signing.pades.prepare_pades`; each is used
        only if it reproduces pyHanko's own bytes for the probes."""
        from qcertlib.signing._docs_common import unpack_state
        from qcertlib.signing.pades import finish_pades, prepare_pades

        backend = self._backend
        opts = dataclasses.replace(setup.options, signing_time=setup.when)
        probes = [
            prepare_pades(
                minimal_pdf(f"qcertlib batch probe {n}"),
                backend.certificate,
                backend.chain,
                opts,
                mechanism=backend.mechanism,
                bytes_reserved=ctx.pades_reserved,
            )
            for n in (1, 2)
        ]
        (st1, st2) = (unpack_state(p.state) for p in probes)
        try:
            slot = DigestSlot.cut(st1["signed_attrs"], st1["document_digest"])
        except ValueError:
            return ctx
        if slot.render(st2["document_digest"]) != st2["signed_attrs"]:
            return ctx
        ctx = dataclasses.replace(ctx, pades_attrs=slot)
        if opts.level is not SignatureLevel.B_B:
            return ctx
        (signature,) = backend.sign_digests([probes[0].digest], probes[0].algorithm)
        pdf = finish_pades(probes[0], signature, opts)
        region = pdf[int(st1["start"]) : int(st1["end"])].strip(b"<>")
        der = bytes.fromhex(region.decode("ascii"))
        der = der[: der_length(der)]
        try:
            template = CmsTemplate.from_der(der)
        except ValueError:
            return ctx
        if template.assemble(st1["signed_attrs"], signature) != der:
            return ctx
        return dataclasses.replace(ctx, cms_template=template)

    def _cades_context(self, ctx: BatchContext, setup: _Setup) -> BatchContext:
        from qcertlib.signing.cades import finish_cades

        opts = dataclasses.replace(setup.options, signing_time=setup.when)
        source = _FixedToken(setup.token) if setup.token is not None else None
        der = finish_cades(
            setup.probe,
            setup.signature,
            opts,
            timestamper=source,
            revocation=setup.revocation,
        )
        template = CmsTemplate.from_der(der)
        attrs = signed_attrs_of(der)
        attrs_template = SignedAttrsTemplate.cut(
            attrs, opts.digest.digest(_PROBE_DOCUMENT), der_time(setup.when)
        )
        unsigned = _ts_attrs(setup.token) if setup.token is not None else None
        if template.assemble(attrs, setup.signature, unsigned) != der:
            raise SigningError("internal error: the CAdES batch template does not round-trip")
        return dataclasses.replace(ctx, cms_template=template, attrs_template=attrs_template)

    # ------------------------------------------------------------------ the pipeline

    def _run(
        self,
        jobs: Iterator[BatchJob],
        executors: _Executors,
        setup: _Setup,
        total: int | None,
    ) -> Iterator[BatchResult]:
        contexts: dict[BatchFormat, BatchContext | str] = {}
        preparing: deque[tuple[cf.Future[Any], BatchContext, list[tuple[int, BatchJob]]]] = deque()
        ready: list[tuple[BatchContext, Prepared]] = []
        waiting: deque[tuple[BatchContext, list[tuple[Prepared, bytes, float]]]] = deque()
        finishing: dict[cf.Future[Any], tuple[BatchContext, list[Prepared]]] = {}
        out: list[BatchResult] = []
        unsynced: list[BatchResult] = []
        lookahead: list[BatchJob] = []
        directories: set[Path] = set()
        state = {"index": 0, "exhausted": False, "stopped": False, "done": 0}
        tsa = self._options.level.at_least(SignatureLevel.B_T)
        finish_limit = self._tsa_concurrency if tsa else 1 << 30

        def in_flight() -> int:
            return (
                sum(len(t) for _, _, t in preparing)
                + len(ready)
                + sum(len(items) for _, items in waiting)
                + sum(len(items) for _, items in finishing.values())
            )

        def in_flight_bytes() -> int:
            return (
                sum(p.size for _, p in ready)
                + sum(p.size for _, items in waiting for p, _, _ in items)
                + sum(p.size for _, items in finishing.values() for p in items)
            )

        def context(fmt: BatchFormat) -> BatchContext | str:
            if fmt not in contexts:
                try:
                    contexts[fmt] = self._context(fmt, setup)
                except (QcertError, ImportError, ValueError) as exc:
                    contexts[fmt] = describe(exc)
            return contexts[fmt]

        def out_dirs(task: list[tuple[int, BatchJob]]) -> None:
            """Create each output directory once (and on resume, clean its stale temps)."""
            for _, job in task:
                directory = job.output.parent
                if directory not in directories:
                    directories.add(directory)
                    try:
                        directory.mkdir(parents=True, exist_ok=True)
                    except OSError:  # reported per document when it is written
                        continue
                    if self._resume:
                        remove_stale_temps(directory)

        def next_task() -> list[tuple[int, BatchJob]] | None:
            task: list[tuple[int, BatchJob]] = []
            while True:
                if lookahead:
                    job = lookahead.pop()
                else:
                    try:
                        job = next(jobs)
                    except StopIteration:
                        return task or None
                if task and job.format is not task[0][1].format:
                    lookahead.append(job)
                    return task
                task.append((state["index"], job))
                state["index"] += 1
                if len(task) >= _TASK_SIZE[job.format]:
                    return task

        def skipped(job: BatchJob, why: str) -> BatchResult:
            return BatchResult(job.input, job.output, BatchStatus.SKIPPED, why)

        def failed(job: BatchJob, why: str, digest: str | None = None) -> BatchResult:
            return BatchResult(job.input, job.output, BatchStatus.FAILED, why, digest)

        def drop(p: Prepared) -> None:
            if p.temp_path is not None:
                Path(p.temp_path).unlink(missing_ok=True)

        def sign_chunk(chunk: list[tuple[BatchContext, Prepared]]) -> None:
            alg = self._options.digest
            started = time.perf_counter()
            try:
                sigs = []
                digests = [p.to_sign for _, p in chunk]
                if setup.native is not None and setup.sign_pool is not None:
                    native = setup.native
                    step = -(-len(digests) // self._sign_threads)
                    parts = [digests[i : i + step] for i in range(0, len(digests), step)]
                    for part in setup.sign_pool.map(lambda d: native.sign_many(d, alg), parts):
                        sigs += part
                else:
                    for i in range(0, len(digests), _SIGN_SLICE):
                        sigs += self._backend.sign_digests(digests[i : i + _SIGN_SLICE], alg)
                        time.sleep(0)  # let worker threads waiting on the GIL run
                if len(sigs) != len(chunk):
                    raise SigningError("the backend returned a wrong number of signatures")
            except Exception as exc:  # a token error fails this chunk, not the batch
                why = describe(exc)
                for _, p in chunk:
                    drop(p)
                    out.append(failed(p.job, why, p.input_digest))
                return
            share = (time.perf_counter() - started) / len(chunk)
            by_ctx: dict[str, tuple[BatchContext, list[tuple[Prepared, bytes, float]]]] = {}
            for (ctx, p), sig in zip(chunk, sigs, strict=True):
                by_ctx.setdefault(ctx.batch_id, (ctx, []))[1].append((p, sig, share))
            for ctx, items in by_ctx.values():
                size = 1 if tsa else _TASK_SIZE[ctx.format]
                for i in range(0, len(items), size):
                    waiting.append((ctx, items[i : i + size]))

        while True:
            progressed = False
            # 1. feed the prepare stage
            while (
                not state["exhausted"]
                and not state["stopped"]
                and in_flight() < self._max_in_flight
                and in_flight_bytes() < self._max_in_flight_bytes
            ):
                task = next_task()
                if task is None:
                    state["exhausted"] = True
                    break
                ctx = context(task[0][1].format)
                out_dirs(task)
                if isinstance(ctx, str):
                    out.extend(failed(job, ctx) for _, job in task)
                else:
                    fut = executors.get(ctx).submit(prepare_task, ctx, task)
                    preparing.append((fut, ctx, task))
                progressed = True
            # 2. collect prepared documents (in submission order)
            while preparing and preparing[0][0].done():
                fut, ctx, task = preparing.popleft()
                progressed = True
                try:
                    records = fut.result()
                except Exception as exc:  # a broken worker: the task's documents fail
                    records = [failed(job, describe(exc)) for _, job in task]
                for rec in records:
                    if isinstance(rec, BatchResult):
                        out.append(rec)
                    elif state["stopped"]:
                        drop(rec)
                        out.append(skipped(rec.job, _STOPPED))
                    else:
                        ready.append((ctx, rec))
            # 3. sign a chunk of digests in this process
            if ready and (len(ready) >= self._chunk_size or not preparing):
                chunk, ready[:] = ready[: self._chunk_size], ready[self._chunk_size :]
                sign_chunk(chunk)
                progressed = True
            # 4. feed the finish stage (bounded for TSA requests)
            while waiting and len(finishing) < finish_limit:
                ctx, items = waiting.popleft()
                fut = executors.get(ctx).submit(finish_task, ctx, items)
                finishing[fut] = (ctx, [p for p, _, _ in items])
                progressed = True
            # 5. collect finished documents
            for fut in [f for f in finishing if f.done()]:
                ctx, prepared = finishing.pop(fut)
                progressed = True
                try:
                    out.extend(fut.result())
                except Exception as exc:
                    for p in prepared:
                        drop(p)
                        out.append(failed(p.job, describe(exc), p.input_digest))
            # 6. report
            for result in out:
                if result.status is BatchStatus.FAILED and self._stop_on_error:
                    self._stop(state, preparing, ready, drop, out)
            batch, out[:] = list(out), []
            idle = not preparing and not ready and not waiting and not finishing
            for result in batch:
                if result.status is BatchStatus.OK and self._durable:
                    unsynced.append(result)
                else:
                    yield self._report(state, total, result)
            if unsynced and (len(unsynced) >= self._chunk_size or idle):
                os.sync()
                for result in unsynced:
                    yield self._report(state, total, result)
                unsynced.clear()
            if idle and (state["exhausted"] or state["stopped"]):
                break
            if progressed:
                continue
            pending = [preparing[0][0]] if preparing else []
            cf.wait([*pending, *finishing], timeout=1.0, return_when=cf.FIRST_COMPLETED)
        if state["stopped"]:
            for job in (*lookahead, *jobs):
                yield self._report(state, total, skipped(job, _STOPPED))

    def _stop(
        self,
        state: dict[str, Any],
        preparing: deque[tuple[cf.Future[Any], BatchContext, list[tuple[int, BatchJob]]]],
        ready: list[tuple[BatchContext, Prepared]],
        drop: Callable[[Prepared], None],
        out: list[BatchResult],
    ) -> None:
        if state["stopped"]:
            return
        state["stopped"] = True
        for fut, _ctx, task in list(preparing):
            if fut.cancel():
                preparing.remove((fut, _ctx, task))
                out.extend(
                    BatchResult(j.input, j.output, BatchStatus.SKIPPED, _STOPPED) for _, j in task
                )
        for _ctx, p in ready:
            drop(p)
            out.append(BatchResult(p.job.input, p.job.output, BatchStatus.SKIPPED, _STOPPED))
        ready.clear()

    def _report(self, state: dict[str, Any], total: int | None, result: BatchResult) -> BatchResult:
        state["done"] += 1
        if self._progress is not None:
            self._progress(state["done"], total, result)
        return result
