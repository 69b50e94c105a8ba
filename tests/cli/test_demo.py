"""``qcert demo`` end to end: a real process, and its outputs judged by other tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import require_tool


def test_demo_runs_every_step_and_its_signatures_verify_elsewhere(tmp_path: Path) -> None:
    tools = require_tool("openssl", "xmlsec1", "qpdf")
    qcert = Path(sys.executable).parent / "qcert"
    result = subprocess.run(
        [str(qcert), "demo", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all steps succeeded" in result.stdout
    assert "FAILED" not in result.stdout
    pki = tmp_path / "pki"
    # the blob's CAdES signature, with openssl
    cms = subprocess.run(
        [
            tools["openssl"],
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(tmp_path / "demo.p7s"),
            "-content",
            str(tmp_path / "demo.txt"),
            "-CAfile",
            str(pki / "root.pem"),
            "-certfile",
            str(pki / "ca.pem"),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cms.returncode == 0, cms.stderr
    assert "Verification successful" in cms.stderr
    # the XAdES seal, with xmlsec1
    xml = subprocess.run(
        [
            tools["xmlsec1"],
            "--verify",
            "--trusted-pem",
            str(pki / "root.pem"),
            "--untrusted-pem",
            str(pki / "ca.pem"),
            str(tmp_path / "demo.xml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert xml.returncode == 0, xml.stdout + xml.stderr
    # the PAdES file is a well-formed PDF
    pdf = subprocess.run(
        [tools["qpdf"], "--check", str(tmp_path / "demo.pdf")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert pdf.returncode == 0, pdf.stdout + pdf.stderr
    # the PIN-protected download is private to its owner
    assert (tmp_path / "citizen.p12").stat().st_mode & 0o777 == 0o600
