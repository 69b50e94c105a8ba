"""B-LT end to end on 127.0.0.1: our services app serves OCSP, CRLs and the TSA of a test
PKI whose certificates point at it; signing fetches the revocation values with
qcertlib.revocation, openssl verifies the result, the validator fetches when asked."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography.hazmat.primitives import serialization

from qcertlib.errors import SigningError
from qcertlib.services.app import create_app
from qcertlib.services.config import load_directory
from qcertlib.signing import SignatureLevel, SignatureOptions
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.signing.cades import sign_cades
from qcertlib.testing import Credential, TestPKI
from qcertlib.validation import (
    Indication,
    RevocationStatus,
    SubIndication,
    ValidationPolicy,
    validate_cms,
)
from tests.conftest import require_tool
from tests.revocation.servers import free_port, running_app

DATA = b"online B-LT\n" * 30


@dataclass(frozen=True)
class Online:
    pki: TestPKI
    tsa_url: str


@pytest.fixture(scope="module")
def online(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Online]:
    port = free_port()
    pki = TestPKI.create(
        tmp_path_factory.mktemp("online") / "pki", base_url=f"http://127.0.0.1:{port}"
    )
    served = load_directory(pki.directory)
    assert served.tsa is not None  # `qcert serve` of a qcertlib PKI includes its TSA
    assert "root" in {ca.name for ca in served.cas}  # and the root's CRL
    with running_app(create_app(served), port=port) as url:
        yield Online(pki, f"{url}/tsa")


def _backend(cred: Credential) -> SoftwareKeyBackend:
    return SoftwareKeyBackend(cred.private_key, cred.certificate, cred.chain)


@pytest.mark.oracle
def test_b_lt_fetches_revocation_values(online: Online, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    pki = online.pki
    options = SignatureOptions(level=SignatureLevel.B_LT, tsa_url=online.tsa_url)
    p7s = sign_cades(DATA, _backend(pki.citizen), options)
    sd = cms.ContentInfo.load(p7s)["content"]
    kinds = sorted(c.name for c in sd["crls"])
    assert "other" in kinds  # the citizen's OCSP response (RFC 5940)
    assert "crl" in kinds  # root CRL for the issuing CA, CA CRL for the TSA
    (tmp_path / "x.p7s").write_bytes(p7s)
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "root.pem").write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    args = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", "x.p7s"]
    args += ["-content", "data", "-CAfile", "root.pem", "-purpose", "any", "-out", "/dev/null"]
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    report = validate_cms(p7s, DATA, ValidationPolicy(trust_roots=(pki.root,)))
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    assert report.signatures[0].level is SignatureLevel.B_LT


def test_b_lt_refuses_a_revoked_signer(online: Online) -> None:
    options = SignatureOptions(level=SignatureLevel.B_LT, tsa_url=online.tsa_url)
    with pytest.raises(SigningError, match="revoked"):
        sign_cades(DATA, _backend(online.pki.revoked), options)


def test_validator_fetches_when_asked(online: Online) -> None:
    pki = online.pki
    good = sign_cades(DATA, _backend(pki.citizen))
    bad = sign_cades(DATA, _backend(pki.revoked))
    fetch = ValidationPolicy(trust_roots=(pki.root,), fetch_revocation=True)
    report = validate_cms(good, DATA, fetch)
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    assert report.signatures[0].revocation_status is RevocationStatus.GOOD
    assert report.signatures[0].level is SignatureLevel.B_B
    revoked = validate_cms(bad, DATA, fetch)
    assert revoked.subindication is SubIndication.REVOKED
