"""Fixtures for the batch tests: an RSA-2048 e-Organ seal from the shared test PKI,
its PKCS#12 file, input documents of each format and the oracles' trust stores."""

from __future__ import annotations

import importlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qcertlib.issuance import KeySpec, generate_key
from qcertlib.pkcs12 import KeyStore, dump_pkcs12
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.testing import TEST_HOLDERS, TestPKI
from tests.conftest import require_tool

PIN = "batch-pin-1234"


@dataclass(frozen=True)
class Seal:
    """The batch signer: an RSA-2048 seal certificate, its key, chain and files."""

    key: Any
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    p12: Path
    pin_file: Path
    root_pem: Path
    chain_pem: Path
    cert_pem: Path

    def backend(self) -> SoftwareKeyBackend:
        return SoftwareKeyBackend(self.key, self.certificate, self.chain)


@pytest.fixture(scope="session")
def seal(qcert_pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> Seal:
    key = generate_key(KeySpec.RSA_2048)
    cert = qcert_pki.ca.issue(
        "eorgan-seal", TEST_HOLDERS["seal_medio"], key.public_key(), months=24, at=qcert_pki.at
    )
    chain = (qcert_pki.issuing_ca, qcert_pki.root)
    d = tmp_path_factory.mktemp("batch-seal")
    pem = serialization.Encoding.PEM
    (d / "seal.p12").write_bytes(dump_pkcs12(KeyStore.single(key, cert, list(chain)), PIN))
    (d / "pin.txt").write_text(PIN + "\n")
    (d / "root.pem").write_bytes(qcert_pki.root.public_bytes(pem))
    (d / "chain.pem").write_bytes(b"".join(c.public_bytes(pem) for c in chain))
    (d / "cert.pem").write_bytes(cert.public_bytes(pem))
    return Seal(
        key=key,
        certificate=cert,
        chain=chain,
        p12=d / "seal.p12",
        pin_file=d / "pin.txt",
        root_pem=d / "root.pem",
        chain_pem=d / "chain.pem",
        cert_pem=d / "cert.pem",
    )


def make_pdf(text: str, *, big: int = 0) -> bytes:
    """A one-page PDF written with pyHanko's writer (plus a ``big``-byte stream)."""
    generic: Any = importlib.import_module("pyhanko.pdf_utils.generic")
    writer: Any = importlib.import_module("pyhanko.pdf_utils.writer")
    name = generic.pdf_name
    w = writer.PdfFileWriter(stream_xrefs=False)
    content = w.add_object(
        generic.StreamObject(stream_data=f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode())
    )
    page = generic.DictionaryObject(
        {
            name("/Type"): name("/Page"),
            name("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(v) for v in (0, 0, 595, 842)]
            ),
            name("/Contents"): content,
        }
    )
    w.insert_page(page)
    if big:
        w.root[name("/QcertBlob")] = w.add_object(generic.StreamObject(stream_data=b"\0" * big))
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def make_inputs(directory: Path, fmt: str, count: int) -> list[Path]:
    """``count`` distinct documents of a format in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        if fmt == "pades":
            path, data = directory / f"doc{i:04d}.pdf", make_pdf(f"Documento {i}")
        elif fmt == "xades":
            path = directory / f"doc{i:04d}.xml"
            body = f'<Factura n="{i}"><Importe>{i}.00</Importe></Factura>'
            data = f'<?xml version="1.0"?>{body}'.encode()
        else:
            path, data = directory / f"doc{i:04d}.bin", (f"documento {i}\n".encode() * 300)
        path.write_bytes(data)
        out.append(path)
    return out


@pytest.fixture(scope="session")
def nssdb(seal: Seal, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database trusting the test root (for pdfsig)."""
    tools = require_tool("certutil")
    db = tmp_path_factory.mktemp("batch-nssdb")
    subprocess.run([tools["certutil"], "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        [
            tools["certutil"],
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "root",
            "-t",
            "C,C,C",
            "-i",
            str(seal.root_pem),
        ],
        check=True,
    )
    return f"sql:{db}"


@pytest.fixture(scope="session")
def tsa(qcert_pki: TestPKI) -> Any:
    """An in-process RFC 3161 TSA of the test PKI (a TimestampSource; threads only)."""
    from qcertlib.signing.timestamps import TsaResponder

    return TsaResponder(
        qcert_pki.tsa_key,
        qcert_pki.tsa,
        (qcert_pki.issuing_ca, qcert_pki.root),
        policy=x509.ObjectIdentifier("1.3.6.1.4.1.99999.8.1"),
    )
