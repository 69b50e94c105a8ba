"""The fault matrix of the checking client, against real misbehaving HTTP peers on
127.0.0.1. Every fault is checked under soft-fail (an UNKNOWN verdict carrying the
reason) and hard-fail (RevocationUnavailable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from qcertlib.errors import RevocationUnavailable
from qcertlib.revocation import (
    FailMode,
    InMemoryStatusSource,
    NoncePolicy,
    OcspResponder,
    RevocationPolicy,
    RevocationStatus,
    Source,
    Status,
    check,
)
from qcertlib.revocation.ocsp import build_request
from tests.revocation.pki import NOW, GeneratedPki, key, make_ca
from tests.revocation.servers import Handler, PeerServer, free_port

MODES = [FailMode.SOFT, FailMode.HARD]


def _policy(mode: FailMode, **changes: object) -> RevocationPolicy:
    base: dict[str, object] = {"fail_mode": mode, "timeout": 2.0, "use_crl": False}
    base.update(changes)
    return RevocationPolicy(**base)  # type: ignore[arg-type]


def _ocsp_verdict(
    pki: GeneratedPki, handler: Handler, mode: FailMode, leaf: int = 0, **changes: object
) -> RevocationStatus | RevocationUnavailable:
    with PeerServer(handler) as peer:
        try:
            return check(
                pki.leaves[leaf], pki.ca, _policy(mode, **changes), ocsp_url=peer.url + "/ocsp"
            )
        except RevocationUnavailable as exc:
            return exc


def _assert_undecided(
    verdict: RevocationStatus | RevocationUnavailable, mode: FailMode, needle: str
) -> None:
    if mode is FailMode.HARD:
        assert isinstance(verdict, RevocationUnavailable)
        assert needle in str(verdict)
    else:
        assert isinstance(verdict, RevocationStatus)
        assert verdict.status is Status.UNKNOWN
        assert not verdict.decided
        assert any(needle in line for line in verdict.errors), verdict.errors


def _answer(responder: OcspResponder) -> Handler:
    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes, float]:
        return 200, responder.respond(body), 0.0

    return handler


def _canned(payload: bytes, status: int = 200, delay: float = 0.0) -> Handler:
    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes, float]:
        return status, payload, delay

    return handler


def test_baseline_good_and_revoked(pki: GeneratedPki, responder: OcspResponder) -> None:
    good = _ocsp_verdict(pki, _answer(responder), FailMode.HARD, leaf=0)
    revoked = _ocsp_verdict(pki, _answer(responder), FailMode.HARD, leaf=1)
    assert isinstance(good, RevocationStatus)
    assert good.status is Status.GOOD
    assert good.source is Source.OCSP
    assert good.next_update is not None
    assert good.ocsp_response is not None
    assert isinstance(revoked, RevocationStatus)
    assert revoked.status is Status.REVOKED
    assert revoked.reason is x509.ReasonFlags.key_compromise


@pytest.mark.parametrize("mode", MODES)
def test_timeout(pki: GeneratedPki, mode: FailMode) -> None:
    verdict = _ocsp_verdict(pki, _canned(b"late", delay=1.5), mode, timeout=0.3)
    _assert_undecided(verdict, mode, "timed out")


@pytest.mark.parametrize("mode", MODES)
def test_http_500(pki: GeneratedPki, mode: FailMode) -> None:
    verdict = _ocsp_verdict(pki, _canned(b"oops", status=500), mode)
    _assert_undecided(verdict, mode, "HTTP status 500")


@pytest.mark.parametrize("mode", MODES)
def test_garbage_body(pki: GeneratedPki, mode: FailMode) -> None:
    verdict = _ocsp_verdict(pki, _canned(b"\x30\x82garbage" * 10), mode)
    _assert_undecided(verdict, mode, "malformed")


@pytest.mark.parametrize("mode", MODES)
def test_oversize_body(pki: GeneratedPki, mode: FailMode) -> None:
    verdict = _ocsp_verdict(pki, _canned(b"\x00" * 50_000), mode, max_ocsp_size=4096)
    _assert_undecided(verdict, mode, "larger than the limit")


@pytest.mark.parametrize("mode", MODES)
def test_signed_by_unauthorized_key(pki: GeneratedPki, mode: FailMode) -> None:
    rogue_ca, rogue_key = make_ca("Rogue CA", None, None)
    source = InMemoryStatusSource(leaf.serial_number for leaf in pki.leaves)
    # The rogue answers for our CA (it claims our issuer hashes) but signs with its own key.
    rogue = OcspResponder(
        pki.ca, source, rogue_key, signer_cert=rogue_ca, include_certificate=False
    )
    verdict = _ocsp_verdict(pki, _answer(rogue), mode)
    _assert_undecided(verdict, mode, "unauthorized key")


@pytest.mark.parametrize("mode", MODES)
def test_delegate_not_issued_by_the_ca(pki: GeneratedPki, mode: FailMode) -> None:
    other_ca, other_key = make_ca("Other CA", None, None)
    from tests.revocation.pki import make_pki

    other = make_pki(pki.directory.parent / "other", leaves=0)
    source = InMemoryStatusSource(leaf.serial_number for leaf in pki.leaves)
    # A real delegated OCSP certificate, but issued by another CA.
    rogue = OcspResponder(pki.ca, source, other.ocsp_key, signer_cert=other.ocsp)
    del other_ca, other_key
    verdict = _ocsp_verdict(pki, _answer(rogue), mode)
    _assert_undecided(verdict, mode, "not authorized")


@pytest.mark.parametrize("mode", MODES)
def test_response_for_another_certificate(
    pki: GeneratedPki, responder: OcspResponder, mode: FailMode
) -> None:
    other = responder.respond(build_request(pki.leaves[2], pki.ca, with_nonce=False).der)
    verdict = _ocsp_verdict(pki, _canned(other), mode)
    _assert_undecided(verdict, mode, "another certificate")


@pytest.mark.parametrize("mode", MODES)
def test_stale_response(pki: GeneratedPki, mode: FailMode) -> None:
    source = InMemoryStatusSource(leaf.serial_number for leaf in pki.leaves)
    old = OcspResponder(pki.ca, source, pki.ocsp_key, signer_cert=pki.ocsp)

    def handler(method: str, path: str, body: bytes) -> tuple[int, bytes, float]:
        return 200, old.respond(body, at=datetime.now(UTC) - timedelta(hours=3)), 0.0

    verdict = _ocsp_verdict(pki, handler, mode)
    _assert_undecided(verdict, mode, "stale")


@pytest.mark.parametrize("mode", MODES)
def test_nonce_mismatch(pki: GeneratedPki, responder: OcspResponder, mode: FailMode) -> None:
    replay = responder.respond(build_request(pki.leaves[0], pki.ca, nonce=b"A" * 16).der)
    verdict = _ocsp_verdict(pki, _canned(replay), mode)
    _assert_undecided(verdict, mode, "nonce does not match")


def test_nonce_policy_off_accepts_a_constant_nonce(
    pki: GeneratedPki, responder: OcspResponder
) -> None:
    replay = responder.respond(build_request(pki.leaves[0], pki.ca, nonce=b"A" * 16).der)
    verdict = _ocsp_verdict(pki, _canned(replay), FailMode.HARD, nonce=NoncePolicy.OFF)
    assert isinstance(verdict, RevocationStatus)
    assert verdict.status is Status.GOOD


@pytest.mark.parametrize("mode", MODES)
def test_nonce_required_but_absent(
    pki: GeneratedPki, responder: OcspResponder, mode: FailMode
) -> None:
    no_nonce = responder.respond(build_request(pki.leaves[0], pki.ca, with_nonce=False).der)
    verdict = _ocsp_verdict(pki, _canned(no_nonce), mode, nonce=NoncePolicy.REQUIRED)
    _assert_undecided(verdict, mode, "requires one")
    preferred = _ocsp_verdict(pki, _canned(no_nonce), mode, nonce=NoncePolicy.PREFERRED)
    assert isinstance(preferred, RevocationStatus)
    assert preferred.status is Status.GOOD


@pytest.mark.parametrize("mode", MODES)
def test_unknown(pki: GeneratedPki, mode: FailMode) -> None:
    lonely = OcspResponder(pki.ca, InMemoryStatusSource(), pki.ocsp_key, signer_cert=pki.ocsp)
    verdict = _ocsp_verdict(pki, _answer(lonely), mode)
    _assert_undecided(verdict, mode, "answered unknown")
    if isinstance(verdict, RevocationStatus):
        assert verdict.source is Source.OCSP


def _crl_verdict(
    pki: GeneratedPki, crl: bytes, mode: FailMode, leaf: int = 0
) -> RevocationStatus | RevocationUnavailable:
    with PeerServer(_canned(crl)) as peer:
        policy = RevocationPolicy(fail_mode=mode, timeout=2.0, use_ocsp=False)
        try:
            return check(pki.leaves[leaf], pki.ca, policy, crls=[peer.url + "/ca.crl"])
        except RevocationUnavailable as exc:
            return exc


@pytest.mark.parametrize("mode", MODES)
def test_expired_crl(pki: GeneratedPki, mode: FailMode) -> None:
    expired = pki.crl(this_update=NOW - timedelta(days=3), next_update=NOW - timedelta(days=1))
    _assert_undecided(_crl_verdict(pki, expired, mode), mode, "expired")


@pytest.mark.parametrize("mode", MODES)
def test_crl_signed_by_another_ca(pki: GeneratedPki, mode: FailMode) -> None:
    other_ca, other_key = make_ca("qcertlib Test Issuing CA", None, None)  # same name!
    forged = pki.crl(signer=(other_ca, other_key))
    _assert_undecided(_crl_verdict(pki, forged, mode), mode, "signature does not verify")


@pytest.mark.parametrize("mode", MODES)
def test_crl_of_another_issuer_name(pki: GeneratedPki, mode: FailMode) -> None:
    other_ca, other_key = make_ca("Somebody Else CA", None, None)
    _assert_undecided(
        _crl_verdict(pki, pki.crl(signer=(other_ca, other_key)), mode), mode, "is not the"
    )


@pytest.mark.parametrize("mode", MODES)
def test_responder_down_with_fresh_crl(pki: GeneratedPki, mode: FailMode) -> None:
    dead = f"http://127.0.0.1:{free_port()}/ocsp"
    with PeerServer(_canned(pki.crl())) as peer:
        policy = RevocationPolicy(fail_mode=mode, timeout=2.0)
        good = check(pki.leaves[0], pki.ca, policy, ocsp_url=dead, crls=[peer.url + "/ca.crl"])
        revoked = check(pki.leaves[1], pki.ca, policy, ocsp_url=dead, crls=[peer.url + "/ca.crl"])
    assert good.status is Status.GOOD
    assert good.source is Source.CRL
    assert any("ConnectError" in line for line in good.errors) or good.errors == ()
    assert revoked.status is Status.REVOKED
    assert revoked.source is Source.CRL
    assert revoked.reason is x509.ReasonFlags.key_compromise
    assert revoked.crls
    assert revoked.next_update is not None


def test_unused_key_helper() -> None:
    assert key().curve.name == "secp256r1"
