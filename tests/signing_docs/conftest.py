"""Fixtures for the PAdES / XAdES tests: a small test PKI, a live OCSP responder on
127.0.0.1 (pdfsig checks the signer through the AIA OCSP URL), an in-process TSA,
an NSS database trusting the root, and small PDFs made in code.
"""

from __future__ import annotations

import http.server
import importlib
import io
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from qcertlib.revocation import InMemoryStatusSource, OcspResponder
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.signing.options import DigestAlgorithm
from tests.conftest import require_tool

_Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _name(cn: str, **extra: str) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "ES")]
    if "o" in extra:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, extra["o"]))
    if "given" in extra:
        attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, extra["given"]))
        attrs.append(x509.NameAttribute(NameOID.SURNAME, extra["surname"]))
    if "serial" in extra:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, extra["serial"]))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _issue(
    subject: x509.Name,
    key: _Key,
    issuer: x509.Certificate | None,
    issuer_key: _Key,
    *,
    ca: bool = False,
    eku: x509.ObjectIdentifier | None = None,
    eku_critical: bool = False,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
    nocheck: bool = False,
) -> x509.Certificate:
    now = datetime.now(UTC) - timedelta(minutes=5)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca:
        ku = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    else:
        ku = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    b = b.add_extension(ku, critical=True)
    if issuer is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=eku_critical)
    if ocsp_url is not None:
        b = b.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ocsp_url),
                    )
                ]
            ),
            critical=False,
        )
    if crl_url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
        b = b.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if nocheck:
        b = b.add_extension(x509.OCSPNoCheck(), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


@dataclass
class Pki:
    root: x509.Certificate
    root_key: _Key
    ca: x509.Certificate
    ca_key: _Key
    signer: x509.Certificate
    signer_key: _Key
    ec_signer: x509.Certificate
    ec_signer_key: _Key
    revoked: x509.Certificate
    revoked_key: _Key
    tsa: x509.Certificate
    tsa_key: _Key
    other_root: x509.Certificate
    other_signer: x509.Certificate
    other_signer_key: _Key
    ocsp_url: str
    status: InMemoryStatusSource

    def backend(self, which: str = "signer") -> SoftwareKeyBackend:
        if which == "other":
            return SoftwareKeyBackend(self.other_signer_key, self.other_signer, ())
        cert = getattr(self, which)
        key = getattr(self, f"{which}_key")
        return SoftwareKeyBackend(key, cert, (self.ca, self.root))

    def write(self, tmp: Path) -> dict[str, Path]:
        out = {}
        for name in ("root", "ca", "signer", "tsa", "other_root"):
            p = tmp / f"{name}.pem"
            p.write_bytes(getattr(self, name).public_bytes(serialization.Encoding.PEM))
            out[name] = p
        return out


class _OcspHandler(http.server.BaseHTTPRequestHandler):
    responder: OcspResponder
    root_crl: bytes

    def _answer(self, body: bytes) -> None:
        try:
            resp = self.responder.respond(body)
        except Exception:
            self.send_response(400)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(resp)))
        self.end_headers()
        self.wfile.write(resp)

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", "0"))
        self._answer(self.rfile.read(n))

    def do_GET(self) -> None:
        import base64
        import urllib.parse

        if self.path.endswith("/root.crl"):
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(self.root_crl)))
            self.end_headers()
            self.wfile.write(self.root_crl)
            return

        b64 = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
        self._answer(base64.b64decode(b64))

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def pki() -> Iterator[Pki]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OcspHandler)
    port = server.server_address[1]
    url = f"http://127.0.0.1:{port}/ocsp"
    crl_url = f"http://127.0.0.1:{port}/root.crl"
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _issue(_name("qcertlib Test Root", o="qcertlib test"), root_key, None, root_key, ca=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _issue(
        _name("qcertlib Test CA", o="qcertlib test"),
        ca_key,
        root,
        root_key,
        ca=True,
        crl_url=crl_url,
    )
    signer_key = rsa.generate_private_key(65537, 2048)
    signer = _issue(
        _name(
            "ESPAÑOL ESPAÑOL JUAN - 12345678Z",
            given="JUAN",
            surname="ESPAÑOL",
            serial="IDCES-12345678Z",
        ),
        signer_key,
        ca,
        ca_key,
        ocsp_url=url,
    )
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_signer = _issue(
        _name("Sello Ayuntamiento", o="AYUNTAMIENTO DE PRUEBA"), ec_key, ca, ca_key, ocsp_url=url
    )
    revoked_key = ec.generate_private_key(ec.SECP256R1())
    revoked = _issue(_name("Revoked Holder"), revoked_key, ca, ca_key, ocsp_url=url)
    ocsp_key = ec.generate_private_key(ec.SECP256R1())
    ocsp = _issue(
        _name("qcertlib Test OCSP"),
        ocsp_key,
        ca,
        ca_key,
        eku=x509.ObjectIdentifier("1.3.6.1.5.5.7.3.9"),
        nocheck=True,
    )
    tsa_key = rsa.generate_private_key(65537, 2048)
    tsa = _issue(
        _name("qcertlib Test TSA"),
        tsa_key,
        ca,
        ca_key,
        eku=ExtendedKeyUsageOID.TIME_STAMPING,
        eku_critical=True,
        ocsp_url=url,
    )
    other_root_key = ec.generate_private_key(ec.SECP256R1())
    other_root = _issue(_name("Unknown Root"), other_root_key, None, other_root_key, ca=True)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_signer = _issue(_name("Stranger"), other_key, other_root, other_root_key)

    status = InMemoryStatusSource(
        [signer.serial_number, ec_signer.serial_number, revoked.serial_number, tsa.serial_number]
    )
    status.revoke(
        revoked.serial_number,
        datetime.now(UTC) - timedelta(minutes=1),
        x509.ReasonFlags.key_compromise,
    )
    now = datetime.now(UTC) - timedelta(minutes=1)
    root_crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(root.subject)
        .last_update(now)
        .next_update(now + timedelta(days=7))
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    handler = type(
        "H",
        (_OcspHandler,),
        {
            "responder": OcspResponder(ca, status, ocsp_key, signer_cert=ocsp),
            "root_crl": root_crl.public_bytes(serialization.Encoding.DER),
        },
    )
    server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Pki(
            root,
            root_key,
            ca,
            ca_key,
            signer,
            signer_key,
            ec_signer,
            ec_key,
            revoked,
            revoked_key,
            tsa,
            tsa_key,
            other_root,
            other_signer,
            other_key,
            url,
            status,
        )
    finally:
        server.shutdown()
        server.server_close()


class LocalTsa:
    """An in-process RFC 3161 TSA (pyHanko's test timestamper) behind our TimestampSource shape."""

    def __init__(self, pki: Pki) -> None:
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509

        dummy: Any = importlib.import_module("pyhanko.sign.timestamps.dummy_client")

        def der(c: x509.Certificate) -> bytes:
            return c.public_bytes(serialization.Encoding.DER)

        key_der = pki.tsa_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._ts = dummy.DummyTimeStamper(
            tsa_cert=asn1_x509.Certificate.load(der(pki.tsa)),
            tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
            certs_to_embed=[asn1_x509.Certificate.load(der(pki.ca))],
        )

    def timestamp(self, data_digest: bytes, algorithm: DigestAlgorithm) -> bytes:
        from qcertlib.signing._docs_common import run_sync

        token: Any = run_sync(self._ts.async_timestamp(data_digest, algorithm.value))
        return bytes(token.dump())


@pytest.fixture(scope="session")
def tsa(pki: Pki) -> LocalTsa:
    return LocalTsa(pki)


@pytest.fixture(scope="session")
def pki_files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return pki.write(tmp_path_factory.mktemp("pki"))


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


def make_pdf(text: str = "Hola qcertlib", *, pages: int = 1, big_stream: int = 0) -> bytes:
    """A small valid PDF (pyHanko's writer), optionally with one large stream."""
    generic: Any = importlib.import_module("pyhanko.pdf_utils.generic")
    writer_mod: Any = importlib.import_module("pyhanko.pdf_utils.writer")
    pdf_name = generic.pdf_name
    w = writer_mod.PdfFileWriter(stream_xrefs=False)
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
