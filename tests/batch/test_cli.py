"""``qcert batch sign``: inputs (files, directories, globs), outputs, report, exit
status, wrong PIN, and a real process killed with SIGKILL then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from qcertlib.cli import main
from qcertlib.cli.batch import expand_inputs
from tests.batch.conftest import Seal, make_inputs
from tests.conftest import require_tool


def _invoke(seal: Seal, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["batch", "sign", "--p12", str(seal.p12), "--pin-file", str(seal.pin_file), *args],
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_directory_glob_and_file_inputs_with_report(seal: Seal, tmp_path: Path) -> None:
    a = make_inputs(tmp_path / "a", "cades", 4)
    b = make_inputs(tmp_path / "b", "cades", 3)
    for i, path in enumerate(b):
        path.rename(tmp_path / "b" / ("other.bin" if i == 0 else f"b{i}.bin"))
    single = tmp_path / "single.dat"
    single.write_bytes(b"uno")
    report = tmp_path / "report.json"
    code, output = _invoke(
        seal, "--format", "cades", "--out", str(tmp_path / "out"), "--executor", "threads",
        "--report", str(report), "-q", "--sign-threads", "2", str(tmp_path / "a"),
        str(tmp_path / "b" / "*.bin"), str(single),
    )  # fmt: skip
    assert code == 0, output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == 8
    assert all(n.endswith(".p7s") for n in names)
    assert "single.dat.p7s" in names
    assert "other.bin.p7s" in names
    data = json.loads(report.read_text())
    assert data["summary"]["ok"] == 8
    assert data["format"] == "cades"
    assert "signed" in output
    assert "docs/s" in output
    assert len(a) + len(b) + 1 == 8


def test_exit_status_is_one_when_a_document_failed(seal: Seal, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", "xades", 3)
    inputs[1].write_bytes(b"<unclosed>")
    code, output = _invoke(
        seal, "--format", "xades", "--out", str(tmp_path / "out"), "--executor", "threads",
        str(tmp_path / "in"),
    )  # fmt: skip
    assert code == 1
    assert f"failed: {inputs[1]}: SigningError" in output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["doc0000.xml", "doc0002.xml"]


def test_wrong_pin_fails_before_any_output(seal: Seal, tmp_path: Path) -> None:
    make_inputs(tmp_path / "in", "pades", 3)
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not-the-pin\n")
    result = CliRunner().invoke(
        main,
        ["batch", "sign", "--format", "pades", "--p12", str(seal.p12), "--pin-file", str(wrong),
         "--out", str(tmp_path / "out"), str(tmp_path / "in")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "Pkcs12PasswordError" in result.output
    assert "not-the-pin" not in result.output
    assert not (tmp_path / "out").exists()


def test_usage_errors(seal: Seal, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", "pades", 1)
    out = str(tmp_path / "o")
    code, text = _invoke(seal, "--format", "pades", "--out", str(tmp_path / "in"), str(inputs[0]))
    assert code == 2
    assert "must not be the input" in text
    code, text = _invoke(seal, "--format", "cades", "--level", "B-T", "--out", out, str(inputs[0]))
    assert code == 2
    assert "--tsa" in text
    (tmp_path / "empty").mkdir()
    code, text = _invoke(seal, "--format", "pades", "--out", out, str(tmp_path / "empty"))
    assert code == 2
    assert "no input" in text
    dup = make_inputs(tmp_path / "other", "pades", 1)
    code, text = _invoke(seal, "--format", "pades", "--out", out, str(inputs[0]), str(dup[0]))
    assert code == 2
    assert "both be written" in text
    assert not (tmp_path / "o").exists()


def test_a_missing_input_is_a_failed_document(seal: Seal, tmp_path: Path) -> None:
    inputs = make_inputs(tmp_path / "in", "pades", 2)
    missing = tmp_path / "in" / "missing.pdf"
    code, text = _invoke(
        seal, "--format", "pades", "--executor", "threads", "--out", str(tmp_path / "o"),
        str(inputs[0]), str(missing), str(inputs[1]),
    )  # fmt: skip
    assert code == 1
    assert f"failed: {missing}: FileNotFoundError" in text
    assert len(list((tmp_path / "o").iterdir())) == 2


def test_expand_inputs_keeps_unmatched_names_and_filters_directories(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"x")
    (tmp_path / "b.txt").write_bytes(b"x")
    (tmp_path / ".hidden.pdf").write_bytes(b"x")
    assert expand_inputs((str(tmp_path),), "pades") == [tmp_path / "a.pdf"]
    assert len(expand_inputs((str(tmp_path),), "cades")) == 2
    assert expand_inputs(("missing.pdf",), "pades") == [Path("missing.pdf")]


def _qcert() -> str:
    qcert = Path(sys.executable).parent / "qcert"
    assert qcert.exists()
    return str(qcert)


def test_sigkill_mid_batch_leaves_no_partial_output_and_resume_finishes(
    seal: Seal, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")["openssl"]
    inputs = make_inputs(tmp_path / "in", "cades", 600)
    out = tmp_path / "out"
    cmd = [
        _qcert(), "batch", "sign", "--format", "cades", "--p12", str(seal.p12),
        "--pin-file", str(seal.pin_file), "--out", str(out), "--workers", "1",
        "--executor", "threads", "--chunk-size", "4", "-q", str(tmp_path / "in"),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and len(list(out.iterdir())) >= 20:
                break
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert 0 < len(done) < 600, "the kill must land in the middle of the batch"
    for p7s in done:  # every visible output is complete and verifies
        src = tmp_path / "in" / p7s.name.removesuffix(".p7s")
        check = subprocess.run(
            [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", str(p7s),
             "-content", str(src), "-CAfile", str(seal.root_pem), "-purpose", "any",
             "-out", "/dev/null"],
            capture_output=True, check=False,
        )  # fmt: skip
        assert check.returncode == 0, p7s.name
    report = tmp_path / "report.json"
    resumed = subprocess.run(
        [*cmd, "--resume", "--report", str(report)], capture_output=True, text=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(report.read_text())
    assert data["summary"]["skipped"] == len(done)
    assert data["summary"]["ok"] == 600 - len(done)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p.name}.p7s" for p in inputs)
