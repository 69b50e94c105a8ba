"""Peak memory of PAdES signing on a large PDF: qcertlib (streaming) against pyHanko's
one-call ``sign_pdf`` and against an interpreter that only imports the libraries.

Writes a PDF of ``--mb`` megabytes (default 200: one page plus one large stream) into
a temporary folder, then signs it in fresh processes and prints each one's peak RSS
(``ru_maxrss``) and Python heap peak (``tracemalloc``). The PDF is deleted at the end.
Run: ``python benchmarks/bench_pades_memory.py [--mb 200]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CHUNK = 1 << 20


def write_big_pdf(path: Path, megabytes: int) -> None:
    """A valid PDF with one page and a stream of ``megabytes`` MiB, written in chunks."""
    offsets: list[int] = []
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

        def obj(body: bytes) -> None:
            offsets.append(f.tell())
            f.write(f"{len(offsets)} 0 obj\n".encode() + body + b"\nendobj\n")

        obj(b"<< /Type /Catalog /Pages 2 0 R /QcertBlob 5 0 R >>")
        obj(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
        obj(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>")
        content = b"BT /Helvetica 12 Tf 72 720 Td (big) Tj ET"
        obj(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        size = megabytes * CHUNK
        offsets.append(f.tell())
        f.write(b"5 0 obj\n<< /Length %d >>\nstream\n" % size)
        block = b"\0" * CHUNK
        for _ in range(megabytes):
            f.write(block)
        f.write(b"\nendstream\nendobj\n")
        xref = f.tell()
        f.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1))
        for off in offsets:
            f.write(b"%010d 00000 n \n" % off)
        f.write(
            b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(offsets) + 1, xref)
        )


def _key_and_cert(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def child(mode: str, src: Path, out: Path, key_path: Path, cert_path: Path) -> None:
    """Runs in a fresh process; prints one JSON line."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    import qcertlib.signing.pades
    from qcertlib.signing.backends import SoftwareKeyBackend
    from qcertlib.signing.options import SignatureOptions

    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    tracemalloc.start()
    start = time.perf_counter()
    if mode == "qcertlib":
        backend = SoftwareKeyBackend(key, cert)
        qcertlib.signing.pades.sign_pades_file(src, out, backend, SignatureOptions())
    elif mode == "pyhanko":
        simple: Any = signers.SimpleSigner  # load() is untyped
        signer = simple.load(str(key_path), str(cert_path))
        meta = signers.PdfSignatureMetadata(
            field_name="Signature1", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
        )
        with src.open("rb") as inf, out.open("wb") as outf:
            signers.sign_pdf(IncrementalPdfFileWriter(inf), meta, signer=signer, output=outf)
    elapsed = time.perf_counter() - start
    _, heap_peak = tracemalloc.get_traced_memory()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "mode": mode,
                "rss_mib": rss_kib / 1024,
                "heap_peak_mib": heap_peak / CHUNK,
                "seconds": elapsed,
            }
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the large stream, MiB")
    parser.add_argument("--child", nargs=5, metavar=("MODE", "SRC", "OUT", "KEY", "CERT"))
    args = parser.parse_args()
    if args.child:
        mode, src, out, key, cert = args.child
        child(mode, Path(src), Path(out), Path(key), Path(cert))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "big.pdf"
        write_big_pdf(src, args.mb)
        key_path, cert_path = _key_and_cert(folder)
        size_mib = src.stat().st_size / CHUNK
        print(f"input: {size_mib:.1f} MiB PDF (one stream of {args.mb} MiB)")
        head = ("signer", "peak RSS MiB", "heap peak MiB", "seconds", "output ok")
        print(f"{head[0]:<22}{head[1]:>14}{head[2]:>15}{head[3]:>9}{head[4]:>11}")
        for mode in ("imports-only", "qcertlib", "pyhanko"):
            out = folder / f"{mode}.pdf"
            line = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    str(src),
                    str(out),
                    str(key_path),
                    str(cert_path),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            row = json.loads(line)
            ok = "-"
            if out.exists():
                ok = "yes" if out.stat().st_size > src.stat().st_size else "NO"
                out.unlink()
            print(
                f"{mode:<22}{row['rss_mib']:>14.1f}{row['heap_peak_mib']:>15.2f}{row['seconds']:>9.2f}{ok:>11}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
