"""Fixtures for the PAdES / XAdES tests, on :class:`qcertlib.testing.TestPKI`.

The PKI's URLs point at our services app (OCSP, CRLs, CA certificates and the
RFC 3161 TSA at ``/tsa``) served by uvicorn on 127.0.0.1: pdfsig checks the signer
through the AIA OCSP URL, B-LT fetches OCSP/CRL data with our revocation client,
and B-T timestamps come from the TSA over HTTP. Also: an NSS database trusting the
root, a second PKI whose root nobody trusts, and small PDFs made in code.
"""

from __future__ import annotations

import importlib
import io
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from qcertlib.issuance.keys import KeySpec
from qcertlib.services import create_app, load_directory
from qcertlib.signing.backends import SignatureMechanism, SoftwareKeyBackend
from qcertlib.signing.timestamps import Timestamper
from qcertlib.testing import TEST_HOLDERS, TestPKI
from tests.conftest import require_tool
from tests.revocation.servers import free_port, running_app


@dataclass
class Pki:
    """The served test PKI, with the names these tests use."""

    testpki: TestPKI
    url: str
    ec_signer: x509.Certificate
    ec_signer_key: Any
    other_root: x509.Certificate

    @property
    def root(self) -> x509.Certificate:
        return self.testpki.root

    @property
    def ca(self) -> x509.Certificate:
        return self.testpki.issuing_ca

    @property
    def tsa(self) -> x509.Certificate:
        return self.testpki.tsa

    # pdfsig (NSS) accepts a signer for PDF only with the emailProtection EKU (or no
    # EKU): the "citizen-qscd" profile has it, "citizen" and the seal profiles do not
    # ("Certificate type not approved for application").
    @property
    def signer(self) -> x509.Certificate:
        return self.testpki.citizen_qscd.certificate

    @property
    def signer_key(self) -> Any:
        return self.testpki.citizen_qscd.private_key

    def backend(self, which: str = "signer") -> SoftwareKeyBackend:
        chain = (self.ca, self.root)
        if which == "ec_signer":
            return SoftwareKeyBackend(self.ec_signer_key, self.ec_signer, chain)
        if which == "pss":
            return SoftwareKeyBackend(
                self.signer_key, self.signer, chain, mechanism=SignatureMechanism.RSA_PSS
            )
        cred = self.testpki.citizen_qscd if which == "signer" else getattr(self.testpki, which)
        return SoftwareKeyBackend(cred.private_key, cred.certificate, chain)

    def write(self, tmp: Path) -> dict[str, Path]:
        out = {}
        for name in ("root", "ca", "signer", "tsa", "other_root"):
            p = tmp / f"{name}.pem"
            p.write_bytes(getattr(self, name).public_bytes(serialization.Encoding.PEM))
            out[name] = p
        return out


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    port = free_port()
    base = tmp_path_factory.mktemp("signing-docs")
    testpki = TestPKI.create(
        base / "pki", base_url=f"http://127.0.0.1:{port}", leaf_key_spec=KeySpec.RSA_2048
    )
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_cert = testpki.ca.issue("citizen-qscd", TEST_HOLDERS["citizen"], ec_key.public_key())
    other = TestPKI.create(base / "other")
    # qcert serve publishes the CA's CRL, the root's CRL (where the issuing CA's CRL
    # distribution point points), OCSP and the TSA
    config = load_directory(testpki.directory)
    with running_app(create_app(config), port) as url:
        yield Pki(testpki, url, ec_cert, ec_key, other.root)


@pytest.fixture(scope="session")
def tsa(pki: Pki) -> Timestamper:
    """Our RFC 3161 client on the served TSA."""
    return Timestamper(f"{pki.url}/tsa", trust_roots=(pki.root,))


@pytest.fixture(scope="session")
def pki_files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pki.write(tmp_path_factory.mktemp("pki-files"))


@pytest.fixture(scope="session")
def nssdb(pki_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    tools = require_tool("certutil")
    db = tmp_path_factory.mktemp("nssdb")
    subprocess.run([tools["certutil"], "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        [
            tools["certutil"],
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "qcertlib root",
            "-t",
            "C,C,C",
            "-i",
            str(pki_files["root"]),
        ],
        check=True,
    )
    return f"sql:{db}"


def make_pdf(
    text: str = "Hola qcertlib", *, pages: int = 1, big_stream: int = 0, xref_stream: bool = False
) -> bytes:
    """A small valid PDF (pyHanko's writer), optionally with one large stream or an
    xref stream (PDF 1.5 style) instead of a classic cross-reference table."""
    generic: Any = importlib.import_module("pyhanko.pdf_utils.generic")
    writer_mod: Any = importlib.import_module("pyhanko.pdf_utils.writer")
    pdf_name = generic.pdf_name
    w = writer_mod.PdfFileWriter(stream_xrefs=xref_stream)
    font = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    for n in range(pages):
        content = w.add_object(
            generic.StreamObject(
                stream_data=f"BT /F1 18 Tf 72 720 Td ({text} {n + 1}) Tj ET".encode()
            )
        )
        page = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(v) for v in (0, 0, 595, 842)]
                ),
                pdf_name("/Contents"): content,
                pdf_name("/Resources"): generic.DictionaryObject(
                    {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
                ),
            }
        )
        w.insert_page(page)
    if big_stream:
        blob = w.add_object(generic.StreamObject(stream_data=b"\0" * big_stream))
        w.root[pdf_name("/QcertBlob")] = blob
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()
