"""The HTTP service: openssl's OCSP client and pkilint as oracles, GET/POST, files, limits."""

from __future__ import annotations

import base64
import logging
import subprocess
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from qcertlib.revocation import RevocationPolicy, Source, Status, check
from qcertlib.revocation.ocsp import build_request, verify_response
from tests.conftest import require_tool
from tests.revocation.pki import GeneratedPki

Served = tuple[GeneratedPki, str]


def _openssl_ocsp(
    pki: GeneratedPki, url: str, leaf: int, out: Path
) -> subprocess.CompletedProcess[str]:
    tools = require_tool("openssl")
    return subprocess.run(
        [
            tools["openssl"],
            "ocsp",
            "-issuer",
            str(pki.path("ca.pem")),
            "-cert",
            str(pki.leaf_path(leaf)),
            "-url",
            f"{url}/ocsp",
            "-CAfile",
            str(pki.path("root.pem")),
            "-respout",
            str(out),
            "-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_openssl_client_verifies_good_and_revoked(served: Served, tmp_path: Path) -> None:
    pki, url = served
    good = _openssl_ocsp(pki, url, 0, tmp_path / "good.der")
    assert good.returncode == 0, good.stderr
    assert "Response verify OK" in good.stderr
    assert f"{pki.leaf_path(0)}: good" in good.stdout
    revoked = _openssl_ocsp(pki, url, 1, tmp_path / "revoked.der")
    assert revoked.returncode == 0, revoked.stderr
    assert "Response verify OK" in revoked.stderr
    assert f"{pki.leaf_path(1)}: revoked" in revoked.stdout
    assert "Reason: keyCompromise" in revoked.stdout


def test_pkilint_finds_no_error_in_our_responses(served: Served, tmp_path: Path) -> None:
    pki, url = served
    tools = require_tool("lint_ocsp_response")
    for leaf in (0, 1):
        request = build_request(pki.leaves[leaf], pki.ca)
        body = httpx.post(f"{url}/ocsp", content=request.der, timeout=10).content
        path = tmp_path / f"resp{leaf}.der"
        path.write_bytes(body)
        result = subprocess.run(
            [tools["lint_ocsp_response"], "lint", "-s", "ERROR", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_get_and_post_give_the_same_answer(served: Served) -> None:
    pki, url = served
    request = build_request(pki.leaves[1], pki.ca, with_nonce=False)
    encoded = quote(base64.b64encode(request.der).decode(), safe="")
    got = httpx.get(f"{url}/ocsp/{encoded}", timeout=10)
    posted = httpx.post(
        f"{url}/ocsp", content=request.der, headers={"Content-Type": "application/ocsp-request"}
    )
    assert got.status_code == posted.status_code == 200
    assert got.headers["content-type"] == "application/ocsp-response"
    assert got.content == posted.content  # the same pre-produced response
    assert verify_response(got.content, pki.leaves[1], pki.ca).status is Status.REVOKED


def test_malformed_get_and_post(served: Served) -> None:
    _pki, url = served
    for response in (
        httpx.get(f"{url}/ocsp/not-base64!!", timeout=10),
        httpx.post(f"{url}/ocsp", content=b"garbage", timeout=10),
    ):
        assert response.status_code == 200
        parsed = ocsp.load_der_ocsp_response(response.content)
        assert parsed.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_request_size_limit(served: Served) -> None:
    _pki, url = served
    response = httpx.post(f"{url}/ocsp", content=b"\x30" * 70_000, timeout=10)
    assert response.status_code == 413
    assert httpx.get(f"{url}/ocsp", timeout=10).status_code == 405


def test_crl_and_certificates_are_published(served: Served) -> None:
    pki, url = served
    crl = x509.load_der_x509_crl(httpx.get(f"{url}/ca.crl", timeout=10).content)
    assert crl.is_signature_valid(pki.ca_key.public_key())
    assert crl.get_revoked_certificate_by_serial_number(pki.leaves[1].serial_number) is not None
    assert x509.load_der_x509_certificate(httpx.get(f"{url}/ca.crt").content) == pki.ca
    assert x509.load_der_x509_certificate(httpx.get(f"{url}/root.crt").content) == pki.root
    assert httpx.get(f"{url}/nothing.crt").status_code == 404
    assert httpx.get(f"{url}/health").json()["status"] == "ok"


def test_openssl_verifies_the_served_crl(served: Served, tmp_path: Path) -> None:
    pki, url = served
    tools = require_tool("openssl")
    (tmp_path / "ca.crl").write_bytes(httpx.get(f"{url}/ca.crl", timeout=10).content)
    result = subprocess.run(
        [
            tools["openssl"],
            "crl",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "ca.crl"),
            "-CAfile",
            str(pki.path("chain.pem")),
            "-noout",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "verify OK" in result.stderr


def test_revocation_is_visible_in_the_next_http_response(served: Served) -> None:
    pki, _url = served
    policy = RevocationPolicy(use_crl=False)
    assert check(pki.leaves[2], pki.ca, policy).status is Status.GOOD
    pki.revoke(2, x509.ReasonFlags.cessation_of_operation)
    after = check(pki.leaves[2], pki.ca, policy)
    assert after.status is Status.REVOKED
    assert after.reason is x509.ReasonFlags.cessation_of_operation
    crl_status = check(pki.leaves[2], pki.ca, RevocationPolicy(use_ocsp=False))
    assert crl_status.status is Status.REVOKED
    assert crl_status.source is Source.CRL


def test_access_log_has_no_request_bodies(
    served_in_process: Served, caplog: pytest.LogCaptureFixture
) -> None:
    pki, url = served_in_process
    request = build_request(pki.leaves[0], pki.ca, with_nonce=False)
    encoded = quote(base64.b64encode(request.der).decode(), safe="")
    with caplog.at_level(logging.INFO, logger="qcertlib.services.access"):
        httpx.get(f"{url}/ocsp/{encoded}", timeout=10)
        httpx.post(f"{url}/ocsp", content=request.der, timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "qcertlib.services.access"]
    assert any('"POST /ocsp" 200' in line for line in lines)
    assert any('"GET /ocsp/…" 200' in line for line in lines)
    assert not any(encoded[:20] in line for line in lines)


def test_app_mounts_under_a_prefix(tmp_path: Path) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from qcertlib.services import create_app, load_directory
    from tests.revocation.pki import make_pki
    from tests.revocation.servers import running_app

    pki = make_pki(tmp_path / "p", leaves=1)
    outer = Starlette(routes=[Mount("/pki", app=create_app(load_directory(pki.directory)))])
    with running_app(outer) as url:
        request = build_request(pki.leaves[0], pki.ca)
        body = httpx.post(f"{url}/pki/ocsp", content=request.der, timeout=10).content
        assert httpx.get(f"{url}/pki/health", timeout=10).status_code == 200
    assert verify_response(body, pki.leaves[0], pki.ca, nonce=request.nonce).status is Status.GOOD
