"""RFC 3161: our client, our TSA responder core, and openssl ts as the independent peer."""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509

from qcertlib.errors import SigningError, TimestampError
from qcertlib.signing import DigestAlgorithm
from qcertlib.signing.timestamps import (
    Timestamper,
    TsaResponder,
    build_request,
    check_tsa_certificate,
    parse_response,
    verify_token,
)
from tests.conftest import require_tool
from tests.signing._pki import Pki

POLICY = x509.ObjectIdentifier("1.3.6.1.4.1.99999.1.1")
DATA = b"qcertlib timestamp test\n"
SHA256 = DigestAlgorithm.SHA256

_TSA_CNF = """\
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
dir                    = .
serial                 = $dir/tsaserial
crypto_device          = builtin
signer_cert            = $dir/tsa.pem
certs                  = $dir/chain.pem
signer_key             = $dir/tsa.key
signer_digest          = sha256
default_policy         = 1.2.3.4.1
digests                = sha256, sha384, sha512
accuracy               = secs:1
ordering               = yes
tsa_name               = yes
"""


@pytest.fixture
def responder(pki: Pki) -> TsaResponder:
    return TsaResponder(pki.tsa_key, pki.tsa_cert, pki.chain, policy=POLICY)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.oracle
def test_openssl_verifies_tokens_from_our_responder(
    pki: Pki, responder: TsaResponder, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")["openssl"]
    pki.write(tmp_path)
    (tmp_path / "data").write_bytes(DATA)
    req = build_request(SHA256.digest(DATA), SHA256)
    (tmp_path / "req.tsq").write_bytes(req.der)
    (tmp_path / "resp.tsr").write_bytes(responder.respond(req.der))
    text = _run([openssl, "ts", "-reply", "-in", "resp.tsr", "-text"], tmp_path)
    assert "Status: Granted." in text.stdout
    assert f"Policy OID: {POLICY.dotted_string}" in text.stdout
    assert f"Nonce: 0x{req.nonce:X}" in text.stdout
    assert "Accuracy: 0x01 seconds" in text.stdout
    trust = ["-CAfile", "root.pem", "-untrusted", "chain.pem"]
    for how in (["-data", "data"], ["-queryfile", "req.tsq"]):
        out = _run([openssl, "ts", "-verify", *how, "-in", "resp.tsr", *trust], tmp_path)
        assert out.returncode == 0, out.stderr
        assert "Verification: OK" in out.stdout
    (tmp_path / "other").write_bytes(b"other")
    bad = _run([openssl, "ts", "-verify", "-data", "other", "-in", "resp.tsr", *trust], tmp_path)
    assert bad.returncode != 0


@pytest.mark.oracle
@pytest.mark.parametrize("ess_alg", ["sha256", "sha1"])
def test_our_client_accepts_openssl_tsa_tokens(pki: Pki, tmp_path: Path, ess_alg: str) -> None:
    openssl = require_tool("openssl")["openssl"]
    pki.write(tmp_path)
    (tmp_path / "tsa.cnf").write_text(_TSA_CNF + f"ess_cert_id_alg = {ess_alg}\n")
    (tmp_path / "tsaserial").write_text("01\n")
    req = build_request(SHA256.digest(DATA), SHA256)
    (tmp_path / "req.tsq").write_bytes(req.der)
    out = _run(
        [openssl, "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "req.tsq", "-out", "r.tsr"],
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    info = parse_response((tmp_path / "r.tsr").read_bytes(), req, trust_roots=[pki.root])
    assert info.policy == x509.ObjectIdentifier("1.2.3.4.1")
    assert info.nonce == req.nonce
    assert info.tsa_certificate == pki.tsa_cert
    assert info.path == (pki.tsa_cert, pki.ca, pki.root)
    assert info.accuracy == timedelta(seconds=1)


def test_our_client_verifies_our_responder(pki: Pki, responder: TsaResponder) -> None:
    req = build_request(SHA256.digest(DATA), DigestAlgorithm.SHA256)
    info = parse_response(responder.respond(req.der), req, trust_roots=[pki.root])
    assert info.policy == POLICY
    assert info.digest == SHA256.digest(DATA)


def test_serial_numbers_are_unique(responder: TsaResponder) -> None:
    req = build_request(SHA256.digest(DATA), SHA256)
    serials = {parse_response(responder.respond(req.der), req).serial_number for _ in range(5)}
    assert len(serials) == 5


def test_imprint_mismatch_is_refused(responder: TsaResponder) -> None:
    token = responder.timestamp(SHA256.digest(DATA), SHA256)
    with pytest.raises(TimestampError, match="imprint mismatch"):
        verify_token(token, SHA256.digest(b"other"), SHA256)


def test_nonce_mismatch_is_refused(responder: TsaResponder) -> None:
    req = build_request(SHA256.digest(DATA), SHA256)
    other = build_request(SHA256.digest(DATA), SHA256, nonce=(req.nonce or 0) + 1)
    with pytest.raises(TimestampError, match="nonce mismatch"):
        parse_response(responder.respond(req.der), other)


def test_tampered_signature_is_refused(responder: TsaResponder) -> None:
    token = bytearray(responder.timestamp(SHA256.digest(DATA), SHA256))
    token[-5] ^= 0x01  # inside the signature value (last element)
    with pytest.raises(TimestampError, match="signature does not verify"):
        verify_token(bytes(token), SHA256.digest(DATA), SHA256)


def test_untrusted_root_is_refused(pki: Pki, responder: TsaResponder) -> None:
    token = responder.timestamp(SHA256.digest(DATA), SHA256)
    with pytest.raises(TimestampError, match="does not chain"):
        verify_token(token, SHA256.digest(DATA), SHA256, trust_roots=[pki.ec_cert])


def test_tsa_certificate_needs_critical_timestamping_eku(pki: Pki) -> None:
    with pytest.raises(TimestampError, match="no extended key usage"):
        check_tsa_certificate(pki.root)
    with pytest.raises(TimestampError, match="extended key usage is not"):
        check_tsa_certificate(pki.ocsp_cert)
    with pytest.raises(TimestampError, match="extended key usage is not"):
        check_tsa_certificate(pki.ec_cert)
    check_tsa_certificate(pki.tsa_cert)
    with pytest.raises(SigningError, match="unusable TSA certificate"):
        TsaResponder(pki.ocsp_key, pki.ocsp_cert, policy=POLICY)


def _sha1_request() -> bytes:
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha1"},
                "hashed_message": b"1" * 20,
            },
        }
    )
    return bytes(req.dump())


@pytest.mark.parametrize(
    ("request_der", "fail"),
    [
        (b"garbage", "bad_data_format"),
        (_sha1_request(), "bad_alg"),
        (
            build_request(b"1" * 32, SHA256, policy=x509.ObjectIdentifier("1.2.3")).der,
            "unaccepted_policy",
        ),
    ],
)
def test_responder_refuses_bad_requests(
    responder: TsaResponder, request_der: bytes, fail: str
) -> None:
    req = build_request(b"1" * 32, SHA256)
    with pytest.raises(TimestampError, match=f"status rejection, failInfo {fail}"):
        parse_response(responder.respond(request_der), req)


@pytest.mark.oracle
def test_openssl_reads_our_refusal(responder: TsaResponder, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    (tmp_path / "bad.tsr").write_bytes(responder.respond(_sha1_request()))
    out = _run([openssl, "ts", "-reply", "-in", "bad.tsr", "-text"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Status: Rejected." in out.stdout
    assert "Failure info: unrecognized or unsupported algorithm identifier" in out.stdout


class _Handler(http.server.BaseHTTPRequestHandler):
    responder: TsaResponder
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = self.responder.respond(body)
        self.send_response(self.status)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def tsa_url(responder: TsaResponder) -> Iterator[str]:
    handler = type("H", (_Handler,), {"responder": responder})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_timestamper_over_http(pki: Pki, tsa_url: str) -> None:
    ts = Timestamper(tsa_url, trust_roots=[pki.root])
    info = ts.timestamp_info(SHA256.digest(DATA))
    assert info.tsa_certificate == pki.tsa_cert
    token = ts.timestamp_data(DATA)
    verify_token(token, SHA256.digest(DATA), SHA256, trust_roots=[pki.root])


def test_timestamper_unreachable_is_typed() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_port
    server.server_close()
    with pytest.raises(TimestampError, match="cannot reach TSA"):
        Timestamper(f"http://127.0.0.1:{port}/tsa", timeout=5).timestamp_data(DATA)


def test_timestamper_refuses_non_http_url() -> None:
    with pytest.raises(ValueError, match="http"):
        Timestamper("file:///etc/passwd")


def test_mutated_requests_and_responses_never_escape(responder: TsaResponder) -> None:
    import random

    rng = random.Random(3161)
    req = build_request(SHA256.digest(DATA), SHA256)
    good = responder.respond(req.der)
    for _ in range(200):
        bad_req = bytearray(req.der)
        bad_req[rng.randrange(len(bad_req))] = rng.randrange(256)
        answer = responder.respond(bytes(bad_req))  # never raises: a TimeStampResp
        assert answer[0] == 0x30
        bad_resp = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            bad_resp[rng.randrange(len(bad_resp))] = rng.randrange(256)
        with contextlib.suppress(TimestampError):  # anything else fails the test
            parse_response(bytes(bad_resp), req)
