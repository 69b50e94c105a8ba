"""The checking client: URLs from the certificate, ldap:// skipping, caching, bulk,
async, and interop with a responder we did not write (openssl ocsp)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509

from qcertlib.errors import RevocationUnavailable
from qcertlib.revocation import (
    FailMode,
    OcspResponder,
    OpenSslIndexSource,
    RevocationCache,
    RevocationPolicy,
    RevocationStatus,
    Source,
    Status,
    acheck,
    check,
    check_many,
)
from qcertlib.revocation.client import RevocationChecker
from tests.conftest import require_tool
from tests.revocation.pki import GeneratedPki, make_leaf, make_pki
from tests.revocation.servers import PeerServer, free_port


def _service(pki: GeneratedPki, responder: OcspResponder, port: int = 0) -> PeerServer:
    crl = pki.crl()

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes, float]:
        if path.endswith(".crl"):
            return 200, crl, 0.0
        return 200, responder.respond(body), 0.0

    return PeerServer(handler, port)


def test_urls_come_from_the_certificate(tmp_path: Path) -> None:
    port = free_port()
    pki = make_pki(tmp_path, base_url=f"http://127.0.0.1:{port}", leaves=2)
    pki.revoke(1)
    from qcertlib.revocation import OpenSslIndexSource

    responder = OcspResponder(
        pki.ca, OpenSslIndexSource(pki.path("index.txt")), pki.ocsp_key, signer_cert=pki.ocsp
    )
    server = _service(pki, responder, port)
    with server:
        assert check(pki.leaves[0], pki.ca).status is Status.GOOD
        revoked = check(pki.leaves[1], pki.ca, RevocationPolicy(use_ocsp=False))
        assert revoked.status is Status.REVOKED
        assert revoked.source is Source.CRL
    assert ("POST", "/ocsp") in server.requests
    assert ("GET", "/ca.crl") in server.requests


def test_ldap_distribution_points_are_skipped_with_a_reason(pki: GeneratedPki) -> None:
    leaf = make_leaf(
        pki,
        "LDAP only",
        pki.ca_key.public_key(),
        ocsp_url="",
        crl_url="ldap://ldap.example.com/cn=CRL1,o=Test?certificateRevocationList",
    )
    status = check(leaf, pki.ca, RevocationPolicy(timeout=1))
    assert status.status is Status.UNKNOWN
    assert any("ldap://" in e and "skipped" in e for e in status.errors)
    with pytest.raises(RevocationUnavailable, match=r"only http\(s\)"):
        check(leaf, pki.ca, RevocationPolicy(fail_mode=FailMode.HARD, timeout=1))


def test_explicit_crl_bytes(pki: GeneratedPki) -> None:
    policy = RevocationPolicy(use_ocsp=False)
    assert check(pki.leaves[1], pki.ca, policy, crls=[pki.crl()]).status is Status.REVOKED


def test_ocsp_answer_is_cached_until_next_update(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    cache = RevocationCache()
    with _service(pki, responder) as peer, RevocationChecker(cache=cache) as checker:
        url = peer.url + "/ocsp"
        first = checker.check(pki.leaves[0], pki.ca, ocsp_url=url)
        second = checker.check(pki.leaves[0], pki.ca, ocsp_url=url)
    assert first.status is second.status is Status.GOOD
    assert second.ocsp_response == first.ocsp_response
    assert len(peer.requests) == 1


def test_crl_disk_cache_survives_a_new_process(pki: GeneratedPki, tmp_path: Path) -> None:
    policy = RevocationPolicy(use_ocsp=False)
    with PeerServer(lambda m, p, b: (200, pki.crl(), 0.0)) as peer:
        url = peer.url + "/ca.crl"
        check(pki.leaves[0], pki.ca, policy, crls=[url], cache=RevocationCache(tmp_path / "c"))
    files = list((tmp_path / "c").iterdir())
    assert len(files) == 1
    assert oct(files[0].stat().st_mode)[-3:] == "600"
    # the peer is gone; a fresh cache over the same directory still decides
    again = check(pki.leaves[1], pki.ca, policy, crls=[url], cache=RevocationCache(tmp_path / "c"))
    assert again.status is Status.REVOKED


def test_check_many_downloads_each_crl_once(pki: GeneratedPki) -> None:
    crl = pki.crl()
    with PeerServer(lambda m, p, b: (200, crl, 0.05)) as peer:
        url = peer.url + "/ca.crl"
        leaves = [
            make_leaf(pki, f"bulk {i}", pki.ca_key.public_key(), ocsp_url="", crl_url=url)
            for i in range(20)
        ]
        results = check_many([(leaf, pki.ca) for leaf in leaves], RevocationPolicy())
    assert all(isinstance(r, RevocationStatus) and r.status is Status.GOOD for r in results)
    assert peer.requests == [("GET", "/ca.crl")]


def test_check_many_over_ocsp_in_order(pki: GeneratedPki, responder: OcspResponder) -> None:
    with _service(pki, responder) as peer:
        url = peer.url + "/ocsp"
        leaves = [make_leaf(pki, f"o {i}", pki.ca_key.public_key(), ocsp_url=url) for i in range(6)]
        items = [(pki.leaves[1], pki.ca), *((leaf, pki.ca) for leaf in leaves)]
        results = check_many(items, RevocationPolicy(concurrency=3, use_crl=False))
    assert isinstance(results[0], RevocationStatus)
    assert results[0].status is Status.UNKNOWN  # leaf 1 names the dead default URL
    assert all(isinstance(r, RevocationStatus) for r in results[1:])
    # the new leaves are not in index.txt: the responder says unknown, no CRL
    assert {r.status for r in results[1:] if isinstance(r, RevocationStatus)} == {Status.UNKNOWN}
    assert len(peer.requests) == 6


def test_acheck(pki: GeneratedPki, responder: OcspResponder) -> None:
    with _service(pki, responder) as peer:
        status = asyncio.run(acheck(pki.leaves[1], pki.ca, ocsp_url=peer.url + "/ocsp"))
    assert status.status is Status.REVOKED
    assert status.source is Source.OCSP
    assert status.to_dict()["reason"] == "keyCompromise"


def wait_openssl_ready(proc: subprocess.Popen[bytes]) -> None:
    """Wait for ``openssl ocsp`` to say it is waiting for connections (a probe
    connection would block the single-threaded responder)."""
    import select

    assert proc.stderr is not None
    deadline = time.monotonic() + 10
    seen = b""
    while b"waiting for OCSP client connections" not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise RuntimeError(f"openssl ocsp did not start: {seen!r}")
        ready, _w, _x = select.select([proc.stderr], [], [], left)
        if ready:
            seen += proc.stderr.read1(4096)  # type: ignore[attr-defined]


def test_against_the_openssl_responder(pki: GeneratedPki) -> None:
    tools = require_tool("openssl")
    port = free_port()
    # Note: openssl ocsp listens on all interfaces (no bind option); -nrequest bounds it
    # and we kill it by PID. Our client only ever talks to 127.0.0.1.
    proc = subprocess.Popen(
        [
            tools["openssl"],
            "ocsp",
            "-index",
            str(pki.path("index.txt")),
            "-port",
            str(port),
            "-rsigner",
            str(pki.path("ocsp.pem")),
            "-rkey",
            str(pki.path("ocsp.key")),
            "-CA",
            str(pki.path("ca.pem")),
            "-nrequest",
            "3",
            "-ndays",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_openssl_ready(proc)
        url = f"http://127.0.0.1:{port}"
        policy = RevocationPolicy(fail_mode=FailMode.HARD, use_crl=False, timeout=5)
        good = check(pki.leaves[0], pki.ca, policy, ocsp_url=url)
        revoked = check(pki.leaves[1], pki.ca, policy, ocsp_url=url)
    finally:
        proc.kill()
        proc.wait(timeout=5)
        assert proc.stderr is not None
        proc.stderr.close()
    assert good.status is Status.GOOD
    assert good.source is Source.OCSP
    assert revoked.status is Status.REVOKED
    assert revoked.reason is x509.ReasonFlags.key_compromise
    assert revoked.revocation_time == pki.revoked[pki.leaves[1].serial_number][0]


def test_check_many_batches_several_certificates_per_ocsp_request(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    with _service(pki, responder) as peer:
        url = peer.url + "/ocsp"
        leaves = [make_leaf(pki, f"b {i}", pki.ca_key.public_key(), ocsp_url=url) for i in range(7)]
        source = responder.source
        assert isinstance(source, OpenSslIndexSource)
        pki.leaves.extend(leaves)
        pki.revoke(len(pki.leaves) - 1)  # the last new leaf is revoked
        policy = RevocationPolicy(ocsp_batch=3, use_crl=False, fail_mode=FailMode.HARD)
        results = check_many([(leaf, pki.ca) for leaf in leaves], policy)
    statuses = [r.status for r in results if isinstance(r, RevocationStatus)]
    assert statuses == [Status.GOOD] * 6 + [Status.REVOKED]
    assert len(peer.requests) == 3  # 7 certificates in batches of 3


def test_batch_against_the_openssl_responder(pki: GeneratedPki) -> None:
    tools = require_tool("openssl")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    leaves = [make_leaf(pki, f"m {i}", pki.ca_key.public_key(), ocsp_url=url) for i in range(4)]
    pki.leaves.extend(leaves)
    pki.revoke(len(pki.leaves) - 2)
    proc = subprocess.Popen(
        [
            tools["openssl"],
            "ocsp",
            "-index",
            str(pki.path("index.txt")),
            "-port",
            str(port),
            "-rsigner",
            str(pki.path("ocsp.pem")),
            "-rkey",
            str(pki.path("ocsp.key")),
            "-CA",
            str(pki.path("ca.pem")),
            "-nrequest",
            "2",
            "-ndays",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_openssl_ready(proc)
        policy = RevocationPolicy(ocsp_batch=4, use_crl=False, fail_mode=FailMode.HARD, timeout=5)
        results = check_many([(leaf, pki.ca) for leaf in leaves], policy)
    finally:
        proc.kill()
        proc.wait(timeout=5)
        assert proc.stderr is not None
        proc.stderr.close()
    statuses = [r.status for r in results if isinstance(r, RevocationStatus)]
    assert statuses == [Status.GOOD, Status.GOOD, Status.REVOKED, Status.GOOD]


def test_checked_material_validates_offline_in_pyhanko_certvalidator(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    """What we checked can be embedded: certvalidator accepts it with fetching off."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import RevokedError

    def conv(cert: x509.Certificate) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    with _service(pki, responder) as peer:
        url = peer.url + "/ocsp"
        good = check(pki.leaves[0], pki.ca, ocsp_url=url)
        revoked = check(pki.leaves[1], pki.ca, ocsp_url=url)
    assert good.ocsp_response is not None
    assert revoked.ocsp_response is not None

    def validate(leaf: x509.Certificate, ocsp_der: bytes) -> None:
        context = ValidationContext(
            trust_roots=[conv(pki.root)],
            other_certs=[conv(pki.ca)],
            ocsps=[ocsp_der],
            allow_fetching=False,
            revocation_mode="hard-fail",
        )
        validator = CertificateValidator(
            conv(leaf), intermediate_certs=[conv(pki.ca)], validation_context=context
        )
        asyncio.run(validator.async_validate_usage(set()))  # type: ignore[no-untyped-call]  # untyped lib

    validate(pki.leaves[0], good.ocsp_response)
    with pytest.raises(RevokedError):
        validate(pki.leaves[1], revoked.ocsp_response)
