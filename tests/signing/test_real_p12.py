"""A real FNMT test PKCS#12 (legacy algorithms, RSA) signs CAdES that openssl accepts."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from qcertlib.errors import Pkcs12PasswordError
from qcertlib.signing.backends import Pkcs12Backend
from qcertlib.signing.cades import sign_cades
from qcertlib.validation import Indication, ValidationPolicy, validate_cms
from tests.conftest import real_p12_bytes, require_tool

P12 = "fnmt-test-99999999R-2020.p12"
DATA = b"factura 2021/0001\n"


def test_wrong_pin_on_the_real_file() -> None:
    with pytest.raises(Pkcs12PasswordError):
        Pkcs12Backend.from_bytes(real_p12_bytes(P12), "0000")


@pytest.mark.oracle
def test_real_fnmt_p12_signs_cades(tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    backend = Pkcs12Backend.from_bytes(real_p12_bytes(P12), "1234")
    assert len(backend.chain) == 2  # AC FNMT Usuarios, AC RAIZ FNMT-RCM (issuer first)
    assert backend.chain[0].subject == backend.certificate.issuer
    root = backend.chain[-1]
    assert root.subject == root.issuer
    p7s = sign_cades(DATA, backend)
    (tmp_path / "x.p7s").write_bytes(p7s)
    (tmp_path / "data").write_bytes(DATA)
    (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    args = [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", "x.p7s"]
    args += ["-content", "data", "-CAfile", "root.pem", "-purpose", "any"]
    args += ["-no_check_time", "-out", "/dev/null"]  # the 2020 test certificate has expired
    out = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    policy = ValidationPolicy(
        trust_roots=(root,), at=datetime(2021, 6, 1, tzinfo=UTC), check_revocation=False
    )
    report = validate_cms(p7s, DATA, policy)
    assert report.indication is Indication.TOTAL_PASSED, report.to_text()
    assert report.signatures[0].signer.nif == "99999999R"
