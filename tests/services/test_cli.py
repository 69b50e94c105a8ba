"""``qcert serve`` as a real process (graceful stop) and ``qcert status`` against it,
plus serving a qcertlib PKI directory (registry-backed statuses)."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qcertlib.cli import main
from qcertlib.revocation import NoncePolicy, RevocationPolicy, Source, Status, check
from tests.revocation.pki import GeneratedPki, make_pki
from tests.revocation.servers import free_port, running_app
from tests.services.conftest import wait_health


def test_qcert_serve_process_and_qcert_status(tmp_path: Path) -> None:
    port = free_port()
    pki = make_pki(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}", leaves=3)
    pki.revoke(1)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qcertlib",
            "serve",
            str(pki.directory),
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_health(url, proc)
        runner = CliRunner()
        good = runner.invoke(
            main,
            [
                "status",
                str(pki.leaf_path(0)),
                "--issuer",
                str(pki.path("ca.pem")),
                "--format",
                "json",
            ],
        )
        assert good.exit_code == 0, good.output
        data = json.loads(good.output)
        assert data["status"] == "good"
        assert data["source"] == "ocsp"
        assert {
            "status",
            "reason",
            "revocation_time",
            "source",
            "produced_at",
            "next_update",
        } <= data.keys()
        revoked = runner.invoke(
            main, ["status", str(pki.leaf_path(1)), "--issuer", str(pki.path("ca.pem"))]
        )
        assert revoked.exit_code == 1, revoked.output
        assert "revoked (from ocsp)" in revoked.output
        assert "keyCompromise" in revoked.output
        # issuer fetched from the AIA caIssuers URL, CRL given as a URL
        by_crl = runner.invoke(
            main,
            [
                "status",
                str(pki.leaf_path(1)),
                "--crl",
                f"{url}/ca.crl",
                "--ocsp-url",
                f"http://127.0.0.1:{free_port()}/ocsp",
                "--format",
                "json",
            ],
        )
        assert by_crl.exit_code == 1, by_crl.output
        assert json.loads(by_crl.output)["source"] == "crl"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            assert proc.stderr is not None
            log = proc.stderr.read().decode()
            proc.stderr.close()
    # graceful: uvicorn finishes the shutdown, then re-raises SIGTERM (exit -15)
    assert code in (0, -signal.SIGTERM)
    assert "Finished server process" in log
    assert '"POST /ocsp" 200' in log  # the access log, on stderr
    assert "127.0.0.1" in log


def test_qcert_status_undecided_exit_codes(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", leaves=1)  # URLs point at a closed port
    runner = CliRunner()
    args = ["status", str(pki.leaf_path(0)), "--issuer", str(pki.path("ca.pem")), "--timeout", "2"]
    soft = runner.invoke(main, [*args, "--format", "json"])
    assert soft.exit_code == 2
    assert json.loads(soft.output)["status"] == "unknown"
    hard = runner.invoke(main, [*args, "--policy", "hard-fail"])
    assert hard.exit_code == 2
    assert "could not be decided" in hard.output
    bad = runner.invoke(main, ["status", str(pki.path("index.txt"))])
    assert bad.exit_code == 2


def test_qcert_status_with_crl_file(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", leaves=2)
    pki.revoke(1)
    (tmp_path / "ca.crl").write_bytes(pki.crl())
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pki.leaf_path(1).read_bytes() + pki.path("ca.pem").read_bytes())
    result = CliRunner().invoke(
        main,
        [
            "status",
            str(chain),
            "--crl",
            str(tmp_path / "ca.crl"),
            "--ocsp-url",
            f"http://127.0.0.1:{free_port()}/ocsp",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "revoked (from crl)" in result.output


def _qcertlib_pki(tmp_path: Path, port: int) -> tuple[object, x509.Certificate, x509.Certificate]:
    from qcertlib.issuance.ca import CertificateAuthority
    from qcertlib.issuance.keys import KeySpec
    from tests.revocation.pki import key

    ca = CertificateAuthority.init(
        tmp_path / "qpki", key_spec=KeySpec.EC_P256, base_url=f"http://127.0.0.1:{port}"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    leaves = []
    for index in range(2):
        leaf = ca.sign_leaf(
            subject=x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"leaf {index}")]),
            public_key=key().public_key(),
            not_before=now - timedelta(minutes=1),
            not_after=now + timedelta(days=30),
            extensions=[],
            serial=0x1000 + index,
        )
        ca.registry.add_certificate(leaf, profile="test", holder={}, issued_at=now)
        leaves.append(leaf)
    return ca, leaves[0], leaves[1]


def test_serving_a_qcertlib_pki_directory(tmp_path: Path) -> None:
    from qcertlib.services import create_app, load_directory

    port = free_port()
    ca, good_leaf, doomed = _qcertlib_pki(tmp_path, port)
    issuer = ca.certificate  # type: ignore[attr-defined]
    app = create_app(load_directory(tmp_path / "qpki"))
    with running_app(app, port) as url:
        ocsp_policy = RevocationPolicy(use_crl=False)
        assert check(good_leaf, issuer, ocsp_policy, ocsp_url=f"{url}/ocsp").status is Status.GOOD
        assert check(doomed, issuer, ocsp_policy, ocsp_url=f"{url}/ocsp").status is Status.GOOD
        ca.revoke(doomed.serial_number, "keyCompromise")  # type: ignore[attr-defined]
        after = check(doomed, issuer, ocsp_policy, ocsp_url=f"{url}/ocsp")
        assert after.status is Status.REVOKED
        assert after.reason is x509.ReasonFlags.key_compromise
        by_crl = check(doomed, issuer, RevocationPolicy(use_ocsp=False), crls=[f"{url}/ca.crl"])
        assert by_crl.status is Status.REVOKED
        assert by_crl.source is Source.CRL
        root = x509.load_der_x509_certificate(httpx.get(f"{url}/root.crt", timeout=10).content)
    assert root.public_bytes(serialization.Encoding.DER) == ca.root.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER
    )


def test_unused_generated_pki_type() -> None:
    assert GeneratedPki.__name__ == "GeneratedPki"


def test_qcert_serve_with_two_workers_sees_revocations_at_once(tmp_path: Path) -> None:
    port = free_port()
    pki = make_pki(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}", leaves=2)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qcertlib",
            "serve",
            str(pki.directory),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_health(url, proc)
        policy = RevocationPolicy(use_crl=False, nonce=NoncePolicy.OFF)
        for _ in range(4):  # requests land on both workers; each pre-produces a response
            assert check(pki.leaves[1], pki.ca, policy).status is Status.GOOD
        pki.revoke(1)
        for _ in range(4):
            assert check(pki.leaves[1], pki.ca, policy).status is Status.REVOKED
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)


def test_encrypted_pki_needs_its_passphrase(tmp_path: Path) -> None:
    import pytest

    from qcertlib.errors import KeyFileError
    from qcertlib.issuance.ca import CertificateAuthority
    from qcertlib.issuance.keys import KeySpec
    from qcertlib.services import load_directory

    secret = "correct horse battery"
    CertificateAuthority.init(tmp_path / "enc", key_spec=KeySpec.EC_P256, passphrase=secret)
    with pytest.raises(KeyFileError) as caught:
        load_directory(tmp_path / "enc")
    assert secret not in str(caught.value)
    assert load_directory(tmp_path / "enc", passphrase=secret).cas[0].responder is not None
    result = CliRunner().invoke(
        main, ["serve", str(tmp_path / "enc")], env={"QCERT_PASSPHRASE": None}
    )
    assert result.exit_code == 2
    assert "passphrase" in result.output


def test_qcert_serve_granian_process_graceful_stop_and_access_log(tmp_path: Path) -> None:
    """``qcert serve --server granian --workers 2``: both workers answer, a revocation
    written by another process shows in the next response of each, the access log
    (stderr) has no request bodies, SIGTERM stops it cleanly."""
    from urllib.parse import quote

    from qcertlib.revocation.ocsp import build_request, verify_response
    from tests.services.conftest import serve_process

    port = free_port()
    pki = make_pki(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}", leaves=3)
    server = serve_process(pki.directory, port, "--server", "granian", "--workers", "2")
    policy = RevocationPolicy(use_crl=False, nonce=NoncePolicy.REQUIRED)
    request = build_request(pki.leaves[0], pki.ca, with_nonce=False)
    with server as (url, log):
        assert check(pki.leaves[2], pki.ca, policy).status is Status.GOOD
        pki.revoke(2)
        for _ in range(8):  # several connections: both workers see the change
            assert check(pki.leaves[2], pki.ca, policy).status is Status.REVOKED
        encoded = quote(base64.b64encode(request.der).decode(), safe="")
        answer = httpx.get(f"{url}/ocsp/{encoded}", timeout=10)
        assert verify_response(answer.content, pki.leaves[0], pki.ca).status is Status.GOOD
        assert httpx.get(f"{url}/ca.crt", timeout=10).content == pki.ca.public_bytes(
            serialization.Encoding.DER
        )
    assert server.returncode == 0  # granian's graceful stop (its own log goes to stdout)
    text = log.read_text()
    assert '"POST /ocsp" 200' in text
    assert '"GET /ocsp/…" 200' in text
    assert encoded[:16] not in text


def test_serve_refuses_an_unknown_server_and_explains_a_missing_granian(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qcertlib.errors import QcertError
    from qcertlib.services.config import serve

    pki = make_pki(tmp_path / "pki", leaves=1)
    with pytest.raises(ValueError, match="server must be one of"):
        serve(pki.directory, server="gunicorn")
    monkeypatch.setitem(sys.modules, "granian", None)  # import granian -> ImportError
    for name in ("QCERT_SERVE_DIR", "QCERT_LOG_LEVEL"):  # serve() exports them: restore
        monkeypatch.setenv(name, "")
    with pytest.raises(QcertError, match=r"pip install 'qcertlib\[server\]'"):
        serve(pki.directory, port=free_port(), server="granian")
