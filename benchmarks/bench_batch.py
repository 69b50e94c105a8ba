"""The batch-signing core against raw RSA speed and pyHanko / signxml loops, from one run.

Sections (documents are files in a temp dir; every output is written to disk):

1. raw: ``openssl speed -multi <cores> rsa2048`` signatures/s (the ceiling);
2. CAdES detached B-B, RSA-2048, 4 KiB documents: :class:`~qcertlib.batch.BatchSigner`
   vs the raw rate (goal >= 80 %) and vs a pyHanko ``sign_general_data`` loop;
3. PAdES B-B, small PDFs: vs a plain pyHanko loop (``SimpleSigner.load_pkcs12`` +
   ``sign_pdf`` per document, default settings; goal >= 40x) and a tuned pyHanko loop
   (key imported once, fixed ``bytes_reserved``; goal >= 4x);
4. XAdES enveloped B-B, small XML (default executor: threads, as the batch runs on
   its per-batch template; also a process pool and threads with ``sign_threads``): vs
   the raw rate (goal >= 60 %) and a signxml ``XAdESSigner`` loop with the key loaded
   once;
5. PAdES B-T against the local TSA (``qcert serve``): vs the tuned pyHanko loop with
   pyHanko's HTTP timestamper on the same TSA;
6. memory: a batch of 1 GiB of input (4 PDFs + 4 binary files of 128 MiB), peak RSS
   of the coordinator and of all processes (goal: under 300 MB).

Usage: ``python benchmarks/bench_batch.py [--quick] [--only cades,pades,...]``.
``--quick`` uses smaller N (and 256 MiB for the memory section). The goals are printed
next to the measured ratios; nothing here is a test threshold. PAdES and XAdES first run
once with a cold pool (starting the process pool and, the first time in a process, the
fork server importing pyHanko/signxml); ratios use warm runs. Short measurements are the
best of ``--repeat`` runs (default 2), the raw openssl rate too: on a shared machine
load only ever slows a run down. The plain pyHanko loop runs on fewer documents (it is
~100x slower); its rate is per document. pyHanko's ``sign_general_data`` loop uses the
stock ``SimpleSigner`` (which re-imports the key for every signature).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from qcertlib._compat import ignore_dsa_deprecation
from qcertlib.batch import BatchJob, BatchSigner
from qcertlib.issuance import KeySpec
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.signing.options import SignatureLevel, SignatureOptions
from qcertlib.testing import TestPKI

ROWS: list[tuple[str, str, str]] = []
ignore_dsa_deprecation()  # pyHanko and signxml touch cryptography's deprecated DSA names


def _mod(name: str) -> Any:
    """An optional third-party module (untyped for mypy)."""
    return importlib.import_module(name)


@dataclass
class Env:
    work: Path
    pki: TestPKI
    backend: SoftwareKeyBackend
    key_pem: Path
    cert_pem: Path
    chain_pem: Path
    p12: Path
    cores: int


def row(name: str, value: str, note: str = "") -> None:
    ROWS.append((name, value, note))
    print(f"  {name:<58} {value:>14}  {note}", flush=True)


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s"


REPEAT = [2]


def best(run: Callable[[int], float]) -> float:
    """The fastest of ``REPEAT`` runs (the machine may be shared: load only slows)."""
    return min(run(i) for i in range(REPEAT[0]))


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def setup(work: Path, cores: int) -> Env:
    pki = TestPKI.create(work / "pki", leaf_key_spec=KeySpec.RSA_2048)
    cred = pki.seal_medio
    pem = serialization.Encoding.PEM
    key_pem = work / "seal.key"
    key_pem.write_bytes(
        cred.private_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (work / "seal.pem").write_bytes(cred.certificate.public_bytes(pem))
    (work / "chain.pem").write_bytes(b"".join(c.public_bytes(pem) for c in cred.chain))
    # the plain pyHanko loop opens a PKCS#12 per document: use openssl's usual 2048
    # PBKDF2 rounds (qcertlib's own default, 600,000, would make that loop even slower)
    enc = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .build(b"1234")
    )
    p12 = work / "seal.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", cred.private_key, cred.certificate, list(cred.chain), enc
        )
    )
    backend = SoftwareKeyBackend(cred.private_key, cred.certificate, cred.chain)
    return Env(work, pki, backend, key_pem, work / "seal.pem", work / "chain.pem", p12, cores)


# --------------------------------------------------------------------------- inputs


def small_pdf(text: str) -> bytes:
    """A one-page PDF (hand-written objects, exact cross-reference offsets)."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    return raw_pdf(content, blob_size=0)


def raw_pdf(content: bytes, blob_size: int, out: Any = None) -> bytes:
    """A minimal PDF; with ``blob_size`` an extra stream of that many zero bytes,
    streamed into ``out`` (so a 128 MiB PDF never sits in memory)."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R" + (b" /QcertBlob 5 0 R" if blob_size else b"") + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1"
        b" /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    buf = io.BytesIO() if out is None else out
    pos = 0

    def put(data: bytes) -> None:
        nonlocal pos
        buf.write(data)
        pos += len(data)

    put(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(pos)
        put(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    count = len(objs)
    if blob_size:
        offsets.append(pos)
        put(b"5 0 obj\n<< /Length %d >>\nstream\n" % blob_size)
        chunk = b"\0" * (1 << 20)
        left = blob_size
        while left:
            n = min(left, len(chunk))
            put(chunk[:n])
            left -= n
        put(b"\nendstream\nendobj\n")
        count += 1
    xref = pos
    put(b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1))
    for off in offsets:
        put(b"%010d 00000 n \n" % off)
    put(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count + 1, xref))
    return buf.getvalue() if isinstance(buf, io.BytesIO) else b""


def make_files(directory: Path, kind: str, n: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        if kind == "pdf":
            path, data = directory / f"d{i:05d}.pdf", small_pdf(f"Documento {i}")
        elif kind == "xml":
            path = directory / f"d{i:05d}.xml"
            data = (
                f'<?xml version="1.0" encoding="UTF-8"?><Factura n="{i}">'
                f"<Emisor>S0733002J</Emisor><Importe>{i}.00</Importe></Factura>"
            ).encode()
        else:
            path, data = directory / f"d{i:05d}.bin", os.urandom(4096)
        path.write_bytes(data)
        out.append(path)
    return out


def run_batch(env: Env, inputs: list[Path], out: Path, fmt: str, **kw: Any) -> float:
    jobs = [BatchJob.into(p, out, fmt) for p in inputs]
    signer = BatchSigner(env.backend, kw.pop("options", SignatureOptions()), **kw)

    def go() -> None:
        bad = [r for r in signer.sign_all(jobs) if not r.ok]
        if bad:
            raise SystemExit(f"batch failures: {bad[:3]}")

    return timed(go)


# --------------------------------------------------------------------------- baselines


def openssl_rate(cores: int, seconds: int) -> float:
    proc = subprocess.run(
        ["openssl", "speed", "-seconds", str(seconds), "-multi", str(cores), "-mr", "rsa2048"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("+F2:"):
            return float(line.split(":")[3])
    raise SystemExit(f"cannot parse openssl speed output:\n{proc.stdout}")


def _pyhanko_signer(env: Env, *, key_once: bool) -> Any:
    signers = _mod("pyhanko.sign.signers")
    signer = signers.SimpleSigner.load(
        str(env.key_pem), str(env.cert_pem), ca_chain_files=(str(env.chain_pem),)
    )
    if not key_once:
        return signer
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15

    to_hash = _mod("pyhanko.sign.general").get_pyca_cryptography_hash
    pyca: Any = serialization.load_pem_private_key(env.key_pem.read_bytes(), None)

    base: Any = signers.SimpleSigner

    class KeyOnce(base):  # type: ignore[misc]
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            out: bytes = pyca.sign(data, PKCS1v15(), to_hash(digest_algorithm))
            return out

    return KeyOnce(signer.signing_cert, signer.signing_key, signer.cert_registry)


def pyhanko_cms_loop(env: Env, inputs: list[Path], out: Path) -> float:
    signer = _pyhanko_signer(env, key_once=False)
    out.mkdir(parents=True, exist_ok=True)
    loop = asyncio.new_event_loop()

    def go() -> None:
        for src in inputs:
            ci = loop.run_until_complete(
                signer.async_sign_general_data(src.read_bytes(), "sha256", detached=True)
            )
            (out / f"{src.name}.p7s").write_bytes(ci.dump())

    try:
        return timed(go)
    finally:
        loop.close()


def pyhanko_pdf_loop(
    env: Env, inputs: list[Path], out: Path, *, plain: bool, tsa: str | None = None
) -> float:
    writer_cls = _mod("pyhanko.pdf_utils.incremental_writer").IncrementalPdfFileWriter
    fields = _mod("pyhanko.sign.fields")
    signers = _mod("pyhanko.sign.signers")

    out.mkdir(parents=True, exist_ok=True)
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    timestamper = None
    if tsa is not None:
        timestamper = _mod("pyhanko.sign.timestamps").HTTPTimeStamper(tsa)
    tuned = None if plain else _pyhanko_signer(env, key_once=True)

    def go() -> None:
        for src in inputs:
            if plain:
                signer = signers.SimpleSigner.load_pkcs12(str(env.p12), passphrase=b"1234")
                kw: dict[str, Any] = {}
            else:
                signer, kw = tuned, {"bytes_reserved": 16384}
            pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper)
            with src.open("rb") as fh, (out / src.name).open("wb") as dst:
                pdf_signer.sign_pdf(writer_cls(fh), output=dst, **kw)

    return timed(go)


def signxml_loop(env: Env, inputs: list[Path], out: Path) -> float:
    etree = _mod("lxml.etree")
    xades_signer = _mod("signxml.xades").XAdESSigner
    key = serialization.load_pem_private_key(env.key_pem.read_bytes(), None)
    certs = [env.backend.certificate, *env.backend.chain]
    out.mkdir(parents=True, exist_ok=True)

    def go() -> None:
        for src in inputs:
            root = etree.fromstring(src.read_bytes())
            signed = xades_signer(
                signature_algorithm="rsa-sha256",
                digest_algorithm="sha256",
                c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
            ).sign(root, key=key, cert=certs)
            (out / src.name).write_bytes(etree.tostring(signed, xml_declaration=True))

    return timed(go)


# --------------------------------------------------------------------------- sections


def section_cades(env: Env, n: int, raw: float) -> None:
    print(f"\n== CAdES detached B-B, RSA-2048, {n} documents of 4 KiB")
    inputs = make_files(env.work / "cades-in", "bin", n)
    threads = best(
        lambda i: run_batch(env, inputs, env.work / f"cades-t{i}", "cades", workers=env.cores)
    )
    ours = best(
        lambda i: run_batch(
            env, inputs, env.work / f"cades-p{i}", "cades", executor="processes", workers=env.cores
        )
    )
    native = best(
        lambda i: run_batch(
            env,
            inputs,
            env.work / f"cades-n{i}",
            "cades",
            workers=env.cores,
            sign_threads=env.cores,
        )
    )
    n_hanko = min(n, 300)  # ~20 documents/s: its rate does not depend on N
    hanko = pyhanko_cms_loop(env, inputs[:n_hanko], env.work / "cades-hanko") * n / n_hanko
    row("qcertlib BatchSigner (default: threads)", rate(n, threads))
    row("qcertlib BatchSigner (executor='processes')", rate(n, ours))
    row(f"qcertlib BatchSigner (threads, sign_threads={env.cores})", rate(n, native))
    row(f"pyHanko sign_general_data loop (SimpleSigner), {n_hanko} docs", rate(n, hanko))
    fastest = min(ours, threads, native)
    row("qcertlib / raw openssl rate", f"{n / fastest / raw:.0%}", "goal >= 80 %")
    row("qcertlib / pyHanko loop", f"{hanko / fastest:.1f}x")


def section_pades(env: Env, n: int, n_plain: int) -> None:
    print(f"\n== PAdES B-B, RSA-2048, {n} small PDFs")
    inputs = make_files(env.work / "pades-in", "pdf", n)
    cold = run_batch(env, inputs, env.work / "pades-out-cold", "pades", workers=env.cores)
    ours = best(
        lambda i: run_batch(env, inputs, env.work / f"pades-out{i}", "pades", workers=env.cores)
    )
    tuned = best(lambda i: pyhanko_pdf_loop(env, inputs, env.work / f"pades-tuned{i}", plain=False))
    plain = pyhanko_pdf_loop(env, inputs[:n_plain], env.work / "pades-plain", plain=True)
    row("qcertlib BatchSigner (processes), first run: pool start", rate(n, cold))
    row("qcertlib BatchSigner (processes), warm pool", rate(n, ours))
    row(f"pyHanko plain loop (load_pkcs12 + sign_pdf), {n_plain} docs", rate(n_plain, plain))
    row("pyHanko tuned loop (key once, bytes_reserved)", rate(n, tuned))
    row("qcertlib / plain pyHanko", f"{(plain / n_plain) / (ours / n):.1f}x", "goal >= 40x")
    row("qcertlib / tuned pyHanko", f"{tuned / ours:.1f}x", "goal >= 4x")


def section_xades(env: Env, n: int, raw: float) -> None:
    print(f"\n== XAdES enveloped B-B, RSA-2048, {n} small XML documents")
    inputs = make_files(env.work / "xades-in", "xml", n)
    cold = run_batch(env, inputs, env.work / "xades-out-cold", "xades", workers=env.cores)
    ours = best(
        lambda i: run_batch(env, inputs, env.work / f"xades-out{i}", "xades", workers=env.cores)
    )
    native = best(
        lambda i: run_batch(
            env,
            inputs,
            env.work / f"xades-n{i}",
            "xades",
            executor="threads",
            workers=env.cores,
            sign_threads=env.cores,
        )
    )
    sx = best(lambda i: signxml_loop(env, inputs, env.work / f"xades-signxml{i}"))
    procs = best(
        lambda i: run_batch(
            env, inputs, env.work / f"xades-p{i}", "xades", executor="processes", workers=env.cores
        )
    )
    row("qcertlib BatchSigner (default: threads), first run", rate(n, cold))
    row("qcertlib BatchSigner (default: threads)", rate(n, ours))
    row("qcertlib BatchSigner (executor='processes')", rate(n, procs))
    row(f"qcertlib BatchSigner (threads, sign_threads={env.cores})", rate(n, native))
    row("signxml XAdESSigner loop (key loaded once)", rate(n, sx))
    fastest = min(ours, procs, native)
    row("qcertlib / raw openssl rate", f"{n / fastest / raw:.0%}", "goal >= 60 %")
    row("qcertlib / signxml loop", f"{sx / fastest:.1f}x")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def served(env: Env) -> Iterator[str]:
    port = _free_port()
    qcert = Path(sys.executable).parent / "qcert"
    proc = subprocess.Popen(
        [str(qcert), "serve", str(env.work / "pki"), "--port", str(port), "--log-level", "warning"]
    )
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/tsa"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def section_bt(env: Env, n: int) -> None:
    print(f"\n== PAdES B-T, {n} small PDFs, local TSA (qcert serve)")
    inputs = make_files(env.work / "bt-in", "pdf", n)
    with served(env) as url:
        options = SignatureOptions(level=SignatureLevel.B_T, tsa_url=url)
        ours = best(
            lambda i: run_batch(
                env, inputs, env.work / f"bt-out{i}", "pades", options=options, workers=env.cores
            )
        )
        hanko = best(
            lambda i: pyhanko_pdf_loop(env, inputs, env.work / f"bt-hanko{i}", plain=False, tsa=url)
        )
    row("qcertlib BatchSigner (processes, 4 TSA requests at once)", rate(n, ours))
    row("pyHanko tuned loop + HTTPTimeStamper", rate(n, hanko))
    row("qcertlib / pyHanko", f"{hanko / ours:.1f}x")


def _rss_tree(pid: int) -> tuple[int, int]:
    psutil = _mod("psutil")
    proc = psutil.Process(pid)
    own = proc.memory_info().rss
    total = own
    for child in proc.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            continue
    return own, total


def section_memory(env: Env, size: int) -> None:
    each = size // 8
    print(
        f"\n== memory: one batch of {size / 2**30:.2f} GiB (4 PDFs + 4 files of {each >> 20} MiB)"
    )
    try:
        _mod("psutil")
    except ImportError:
        print("  psutil not installed: skipped")
        return
    src = env.work / "mem-in"
    src.mkdir()
    jobs = []
    for i in range(4):
        pdf = src / f"big{i}.pdf"
        with pdf.open("wb") as fh:
            raw_pdf(b"BT ET", blob_size=each, out=fh)
        blob = src / f"big{i}.bin"
        with blob.open("wb") as fh:
            for _ in range(each >> 20):
                fh.write(os.urandom(1 << 20))
        jobs += [
            BatchJob.into(pdf, env.work / "mem-out", "pades"),
            BatchJob.into(blob, env.work / "mem-out", "cades"),
        ]
    base_own, _ = _rss_tree(os.getpid())
    peak = [0, 0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            own, total = _rss_tree(os.getpid())
            peak[0], peak[1] = max(peak[0], own), max(peak[1], total)
            time.sleep(0.02)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    signer = BatchSigner(env.backend, SignatureOptions(), workers=2)
    seconds = timed(lambda: [r for r in signer.sign_all(jobs) if not r.ok and print(r)])
    stop.set()
    watcher.join()
    row("batch time", f"{seconds:.1f} s", f"{size / seconds / 2**20:.0f} MiB/s")
    row("coordinator RSS before the batch", f"{base_own / 2**20:.0f} MB")
    row("peak RSS, coordinator", f"{peak[0] / 2**20:.0f} MB")
    row("peak RSS, coordinator + workers", f"{peak[1] / 2**20:.0f} MB", "goal < 300 MB")
    shutil.rmtree(src)
    shutil.rmtree(env.work / "mem-out", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller N")
    parser.add_argument("--only", default="cades,pades,xades,bt,memory")
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs (short ones)")
    parser.add_argument(
        "--workdir",
        default=None,
        help="where inputs and outputs go (default: the system temp dir; e.g. /dev/shm "
        "to take the file system's per-file cost out of the picture)",
    )
    args, _ = parser.parse_known_args()
    quick: bool = args.quick
    REPEAT[0] = max(1, args.repeat)
    only = set(args.only.split(","))
    cores = os.cpu_count() or 1
    n_cades, n_pades, n_plain, n_xades, n_bt = (
        (500, 60, 20, 500, 20) if quick else (2000, 300, 100, 2000, 60)
    )
    mem = (256 if quick else 1024) << 20
    with tempfile.TemporaryDirectory(prefix="qcert-bench-batch-", dir=args.workdir) as tmp:
        env = setup(Path(tmp), cores)
        print(f"cores: {cores}; python {sys.version.split()[0]}; quick={quick}; workdir={tmp}")
        probe = Path(tmp) / "probe"
        probe.mkdir()
        start = time.perf_counter()
        for i in range(500):
            (probe / f"f{i}").write_bytes(b"x" * 3000)
        print(f"creating a 3 KB file here costs {(time.perf_counter() - start) / 500 * 1e6:.0f} us")
        shutil.rmtree(probe)
        raw = max(openssl_rate(cores, 3 if quick else 5) for _ in range(REPEAT[0]))
        print("\n== raw RSA-2048")
        row(f"openssl speed -multi {cores} rsa2048 (best of {REPEAT[0]})", f"{raw:,.0f}/s")
        if "cades" in only:
            section_cades(env, n_cades, raw)
        if "pades" in only:
            section_pades(env, n_pades, n_plain)
        if "xades" in only:
            section_xades(env, n_xades, raw)
        if "bt" in only:
            section_bt(env, n_bt)
        if "memory" in only:
            section_memory(env, mem)
        raw_after = openssl_rate(cores, 3)
        print("\n== raw RSA-2048 again (machine load check)")
        row(f"openssl speed -multi {cores} rsa2048 (after)", f"{raw_after:,.0f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
