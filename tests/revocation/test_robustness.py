"""Robustness: the responder never raises on hostile input, delta CRLs found through
the FreshestCRL URL, and the light import surface."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from hypothesis import given, settings
from hypothesis import strategies as st

from qcertlib.revocation import (
    InMemoryStatusSource,
    OcspResponder,
    RevocationPolicy,
    Source,
    Status,
    acheck,
    check,
)
from qcertlib.revocation.ocsp import build_request
from tests.revocation.pki import NOW, GeneratedPki, make_ca, make_pki
from tests.revocation.servers import PeerServer

_PKI_DIR = None


def _responder() -> tuple[OcspResponder, bytes]:
    import tempfile
    from pathlib import Path

    global _PKI_DIR
    if _PKI_DIR is None:
        _PKI_DIR = make_pki(Path(tempfile.mkdtemp()) / "fuzz", leaves=1)
    pki = _PKI_DIR
    source = InMemoryStatusSource([pki.leaves[0].serial_number])
    responder = OcspResponder(pki.ca, source, pki.ocsp_key, signer_cert=pki.ocsp)
    return responder, build_request(pki.leaves[0], pki.ca).der


def _parses(answer: bytes) -> None:
    parsed = ocsp.load_der_ocsp_response(answer)
    assert parsed.response_status in set(ocsp.OCSPResponseStatus)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_get_a_valid_ocsp_error(data: bytes) -> None:
    responder, _good = _responder()
    _parses(responder.respond(data))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_mutated_requests_never_raise(position: int, value: int) -> None:
    responder, good = _responder()
    index = position % len(good)
    mutated = good[:index] + bytes((value,)) + good[index + 1 :]
    _parses(responder.respond(mutated))


def _with_freshest(pki: GeneratedPki, url: str) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.ca.subject)
        .last_update(NOW - timedelta(minutes=10))
        .next_update(NOW + timedelta(days=1))
        .add_extension(x509.CRLNumber(20), critical=False)
        .add_extension(
            x509.FreshestCRL(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
            ),
            critical=False,
        )
    )
    return builder.sign(pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _delta(pki: GeneratedPki, serial: int) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.ca.subject)
        .last_update(NOW - timedelta(minutes=1))
        .next_update(NOW + timedelta(hours=1))
        .add_extension(x509.CRLNumber(21), critical=False)
        .add_extension(x509.DeltaCRLIndicator(20), critical=True)
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - timedelta(minutes=2))
            .add_extension(x509.CRLReason(x509.ReasonFlags.affiliation_changed), critical=False)
            .build()
        )
    )
    return builder.sign(pki.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_delta_crl_through_the_freshest_crl_url(pki: GeneratedPki) -> None:
    serial = pki.leaves[3].serial_number
    holder: dict[str, bytes] = {}

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes, float]:
        return 200, holder["delta" if path == "/delta.crl" else "base"], 0.0

    with PeerServer(handler) as peer:
        holder["base"] = _with_freshest(pki, peer.url + "/delta.crl")
        holder["delta"] = _delta(pki, serial)
        policy = RevocationPolicy(use_ocsp=False)
        sync = check(pki.leaves[3], pki.ca, policy, crls=[peer.url + "/base.crl"])
        asynchronous = asyncio.run(
            acheck(pki.leaves[3], pki.ca, policy, crls=[peer.url + "/base.crl"])
        )
    for result in (sync, asynchronous):
        assert result.status is Status.REVOKED
        assert result.source is Source.CRL
        assert result.reason is x509.ReasonFlags.affiliation_changed
        assert len(result.crls) == 2


def test_delta_from_another_ca_is_refused(pki: GeneratedPki) -> None:
    other, other_key = make_ca("qcertlib Test Issuing CA", None, None)
    holder: dict[str, bytes] = {}

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes, float]:
        return 200, holder["delta" if path == "/delta.crl" else "base"], 0.0

    with PeerServer(handler) as peer:
        holder["base"] = _with_freshest(pki, peer.url + "/delta.crl")
        forged = GeneratedPki(
            pki.directory,
            pki.base_url,
            pki.root,
            pki.root_key,
            other,
            other_key,
            pki.ocsp,
            pki.ocsp_key,
        )
        holder["delta"] = _delta(forged, pki.leaves[3].serial_number)
        result = check(
            pki.leaves[3], pki.ca, RevocationPolicy(use_ocsp=False), crls=[peer.url + "/b.crl"]
        )
    assert result.status is Status.UNKNOWN
    assert any("signature" in e for e in result.errors)


def test_importing_the_core_loads_no_http_library() -> None:
    code = (
        "import sys, qcertlib, qcertlib.revocation, qcertlib.revocation.ocsp, "
        "qcertlib.revocation.crl, qcertlib.revocation.responder\n"
        "bad = [m for m in ('httpx', 'starlette', 'uvicorn') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
