"""The /tsa endpoint in the services app, under uvicorn on 127.0.0.1."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from qcertlib.services.app import ServiceConfig, create_app
from qcertlib.signing import DigestAlgorithm, SignatureLevel, SignatureOptions
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.signing.cades import sign_cades
from qcertlib.signing.timestamps import Timestamper, TsaResponder
from tests.conftest import require_tool
from tests.revocation.servers import running_app
from tests.signing._pki import Pki

POLICY = x509.ObjectIdentifier("1.3.6.1.4.1.99999.3")


@pytest.fixture(scope="module")
def base_url(pki: Pki) -> Iterator[str]:
    responder = TsaResponder(pki.tsa_key, pki.tsa_cert, pki.chain, policy=POLICY)
    with running_app(create_app(ServiceConfig(cas=(), tsa=responder))) as url:
        yield url


def test_timestamper_against_the_service(pki: Pki, base_url: str) -> None:
    ts = Timestamper(f"{base_url}/tsa", trust_roots=[pki.root])
    info = ts.timestamp_info(DigestAlgorithm.SHA384.digest(b"abc"), DigestAlgorithm.SHA384)
    assert info.policy == POLICY
    assert info.path[-1] == pki.root


def test_cades_b_t_through_the_service(pki: Pki, base_url: str) -> None:
    backend = SoftwareKeyBackend(pki.ec_key, pki.ec_cert, pki.chain)
    options = SignatureOptions(level=SignatureLevel.B_T, tsa_url=f"{base_url}/tsa")
    assert sign_cades(b"data", backend, options)


@pytest.mark.oracle
def test_openssl_query_and_verify_over_http(pki: Pki, base_url: str, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    pki.write(tmp_path)
    (tmp_path / "data").write_bytes(b"some data\n")
    run = [openssl, "ts", "-query", "-data", "data", "-sha256", "-cert", "-out", "q.tsq"]
    subprocess.run(run, cwd=tmp_path, check=True, capture_output=True)
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 test URL
        f"{base_url}/tsa",
        data=(tmp_path / "q.tsq").read_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        assert resp.headers["Content-Type"] == "application/timestamp-reply"
        (tmp_path / "r.tsr").write_bytes(resp.read())
    verify = [openssl, "ts", "-verify", "-queryfile", "q.tsq", "-in", "r.tsr"]
    verify += ["-CAfile", "root.pem", "-untrusted", "chain.pem"]
    out = subprocess.run(verify, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "Verification: OK" in out.stdout


def test_get_is_not_allowed(base_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{base_url}/tsa", timeout=10)  # noqa: S310
    info.value.close()
    assert info.value.code == 405
