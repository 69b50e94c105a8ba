"""Signature formats made with a token key, checked by openssl cms and pdfsig."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from qcertlib.issuance import CertificateAuthority, PublicKey
from qcertlib.signing.backends import SignatureMechanism
from qcertlib.signing.cades import finish_cades, prepare_cades, sign_cades
from qcertlib.signing.options import SignatureOptions
from qcertlib.signing.pades import sign_pades
from qcertlib.signing.xades import sign_xades
from qcertlib.tokens import Pkcs11Backend, TokenSession
from tests.conftest import require_tool
from tests.tokens._pdf import assert_valid_and_trusted, one_page_pdf, pdfsig_verdicts
from tests.tokens.conftest import MAIN, PIN, Hsm, Issued

DATA = b"factura 2026-0001: 1.234,56 EUR\n"


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("label", "mechanism"),
    [("rsa", None), ("rsa", SignatureMechanism.RSA_PSS), ("ec", None)],
    ids=["rsa-pkcs1v15", "rsa-pss", "ecdsa"],
)
def test_cades_from_token_verifies_with_openssl_cms(
    hsm: Hsm,
    issued: dict[str, Issued],
    ca: CertificateAuthority,
    tmp_path: Path,
    label: str,
    mechanism: SignatureMechanism | None,
) -> None:
    openssl = require_tool("openssl")["openssl"]
    with Pkcs11Backend.open(
        hsm.module, token_label=MAIN, pin=PIN, key_label=label, chain=ca.chain, mechanism=mechanism
    ) as backend:
        p7s = sign_cades(DATA, backend, SignatureOptions())
    (tmp_path / "x.p7s").write_bytes(p7s)
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    args = [
        openssl,
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "x.p7s",
        "-content",
        "data",
        "-CAfile",
        "root.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]
    ok = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "Verification successful" in ok.stderr
    (tmp_path / "data").write_bytes(DATA + b"x")
    bad = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert bad.returncode != 0


def no_aia_chain(
    public_key: PublicKey,
) -> tuple[x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A root and a leaf for the token key without AIA/CRLDP: pdfsig then judges only the
    signature and the chain (an unreachable OCSP URL makes poppler 22.12 report an
    "unknown issue", see the oracle notes)."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Token PAdES Test Root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Token Signer")]))
        .issuer_name(root_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    return root, leaf, root_key


@pytest.mark.oracle
@pytest.mark.parametrize("label", ["rsa", "ec"])
def test_pades_from_token_is_valid_for_pdfsig_verdicts(
    hsm: Hsm, issued: dict[str, Issued], tmp_path: Path, label: str
) -> None:
    certutil = require_tool("certutil", "pdfsig")["certutil"]
    with TokenSession.open(hsm.module, token_label=MAIN, pin=PIN) as session:
        public = session.public_key(session.find_key(label=label))
    root, leaf, _ = no_aia_chain(public)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    db = tmp_path / "nssdb"
    db.mkdir()
    subprocess.run([certutil, "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        [
            certutil,
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "token root",
            "-t",
            "C,C,C",
            "-i",
            str(tmp_path / "root.pem"),
        ],
        check=True,
    )
    with Pkcs11Backend.open(
        hsm.module, token_label=MAIN, pin=PIN, key_label=label, certificate=leaf, chain=(root,)
    ) as backend:
        signed = sign_pades(one_page_pdf(), backend, SignatureOptions())
        assert backend.login_count == 1
    out = tmp_path / "signed.pdf"
    out.write_bytes(signed)
    sigs = pdfsig_verdicts(out, f"sql:{db}")
    assert len(sigs) == 1
    assert_valid_and_trusted(sigs[0])
    assert sigs[0]["Signer Certificate Common Name"] == "Token Signer"


@pytest.mark.oracle
def test_batch_of_200_cades_documents_logs_in_once(
    hsm: Hsm, issued: dict[str, Issued], ca: CertificateAuthority, tmp_path: Path
) -> None:
    """Three stages: prepare 200 documents, ONE sign_digests on the token, finish 200."""
    openssl = require_tool("openssl")["openssl"]
    documents = [f"documento {i}\n".encode() for i in range(200)]
    options = SignatureOptions()
    with Pkcs11Backend.open(
        hsm.module, token_label=MAIN, pin=PIN, key_label="ec", chain=ca.chain
    ) as backend:
        prepared = [
            prepare_cades(
                d, backend.certificate, backend.chain, options, mechanism=backend.mechanism
            )
            for d in documents
        ]
        signatures = backend.sign_digests([p.digest for p in prepared], prepared[0].algorithm)
        assert backend.login_count == 1
    p7s = [finish_cades(p, s, options) for p, s in zip(prepared, signatures, strict=True)]
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    for i in range(0, 200, 20):
        (tmp_path / "x.p7s").write_bytes(p7s[i])
        (tmp_path / "data").write_bytes(documents[i])
        args = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", "x.p7s"]
        args += ["-content", "data", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"]
        ok = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert ok.returncode == 0, ok.stderr


@pytest.mark.oracle
@pytest.mark.parametrize("label", ["rsa", "ec"])
def test_xades_from_token_verifies_with_xmlsec1(
    hsm: Hsm, issued: dict[str, Issued], ca: CertificateAuthority, tmp_path: Path, label: str
) -> None:
    xmlsec1 = require_tool("xmlsec1")["xmlsec1"]
    document = '<Factura xmlns="urn:example"><Total>121,00 €</Total></Factura>'.encode()
    with Pkcs11Backend.open(
        hsm.module, token_label=MAIN, pin=PIN, key_label=label, chain=ca.chain
    ) as backend:
        signed = sign_xades(document, backend, SignatureOptions())
    (tmp_path / "signed.xml").write_bytes(signed)
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    (tmp_path / "ca.pem").write_bytes(ca.certificate.public_bytes(Encoding.PEM))
    args = [xmlsec1, "--verify", "--trusted-pem", "root.pem", "--untrusted-pem", "ca.pem"]
    ok = subprocess.run(
        [*args, "signed.xml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "\nOK\n" in f"\n{ok.stderr}"
    (tmp_path / "signed.xml").write_bytes(signed.replace(b"121,00", b"999,00"))
    bad = subprocess.run(
        [*args, "signed.xml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0


@pytest.mark.oracle
def test_batch_core_signs_200_documents_with_one_token_login(
    hsm: Hsm, issued: dict[str, Issued], ca: CertificateAuthority, tmp_path: Path
) -> None:
    """The batch core (BatchSigner) with the token backend: 200 CAdES, one login."""
    from qcertlib.batch import BatchJob, BatchSigner, BatchStatus

    openssl = require_tool("openssl")["openssl"]
    (tmp_path / "in").mkdir()
    jobs = []
    for i in range(200):
        path = tmp_path / "in" / f"doc{i:03}.txt"
        path.write_bytes(f"documento {i}\n".encode())
        jobs.append(BatchJob.into(path, tmp_path / "out", "cades"))
    with Pkcs11Backend.open(
        hsm.module, token_label=MAIN, pin=PIN, key_label="rsa", chain=ca.chain
    ) as backend:
        results = list(BatchSigner(backend, SignatureOptions(), executor="threads").sign_all(jobs))
        assert backend.login_count == 1
    assert [r.status for r in results] == [BatchStatus.OK] * 200
    (tmp_path / "root.pem").write_bytes(ca.root.public_bytes(Encoding.PEM))
    for job in jobs[::40]:
        args = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(job.output)]
        args += ["-content", str(job.input), "-CAfile", "root.pem", "-purpose", "any"]
        ok = subprocess.run(
            [*args, "-out", "/dev/null"], cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert ok.returncode == 0, ok.stderr
