"""qcert serve over the project's reusable TestPKI (qcertlib.testing): real qualified
citizen/seal certificates, registry-backed statuses, openssl as the OCSP client."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib.revocation import FailMode, RevocationPolicy, Source, Status, check_many
from qcertlib.services import create_app, load_directory
from qcertlib.testing import TestPKI
from tests.conftest import require_tool
from tests.revocation.servers import free_port, running_app


def test_serving_the_testing_pki(tmp_path: Path) -> None:
    port = free_port()
    pki = TestPKI.create(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}")
    tools = require_tool("openssl")
    with running_app(create_app(load_directory(pki.directory)), port) as url:
        root = tmp_path / "root.pem"
        root.write_bytes(pki.root.public_bytes(Encoding.PEM))
        issuer = tmp_path / "ca.pem"
        issuer.write_bytes(pki.issuing_ca.public_bytes(Encoding.PEM))
        for credential, expected in ((pki.citizen, "good"), (pki.revoked, "revoked")):
            result = subprocess.run(
                [
                    tools["openssl"],
                    "ocsp",
                    "-issuer",
                    str(issuer),
                    "-cert",
                    str(credential.cert_path),
                    "-url",
                    f"{url}/ocsp",
                    "-CAfile",
                    str(root),
                    "-timeout",
                    "10",
                ],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            assert "Response verify OK" in result.stderr
            assert f"{credential.cert_path}: {expected}" in result.stdout
        pairs = [(c.certificate, pki.issuing_ca) for c in pki.credentials]
        results = check_many(pairs, RevocationPolicy(fail_mode=FailMode.HARD))
    by_serial = {c.serial: r for c, r in zip(pki.credentials, results, strict=True)}
    for credential in pki.credentials:
        verdict = by_serial[credential.serial]
        assert not isinstance(verdict, Exception), verdict
        assert verdict.source is Source.OCSP
        expected_status = Status.REVOKED if credential is pki.revoked else Status.GOOD
        assert verdict.status is expected_status, credential.name


def test_the_roots_crl_is_published_where_the_issuing_ca_points(tmp_path: Path) -> None:
    """The issuing CA's CRLDP names {base}/root.crl: qcert serve must answer it."""
    import httpx
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    port = free_port()
    pki = TestPKI.create(tmp_path / "pki", base_url=f"http://127.0.0.1:{port}")
    dp = pki.issuing_ca.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    (url_name,) = [n for d in dp for n in d.full_name or ()]
    with running_app(create_app(load_directory(pki.directory)), port):
        first = httpx.get(url_name.value, timeout=10)
        again = httpx.get(url_name.value, timeout=10)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(first.content)
    assert crl.issuer == pki.root.subject
    root_key = pki.root.public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(root_key)
    assert again.content == first.content  # cached until half-way to nextUpdate
