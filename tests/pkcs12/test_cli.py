"""``qcert p12`` info / pack / unpack / convert (CliRunner, plus one real process)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from qcertlib.cli import main
from qcertlib.pkcs12 import dump_pkcs12, inspect_pkcs12, load_pkcs12
from tests.conftest import real_p12_bytes, require_tool

from .conftest import DISTINCTIVE_PIN, FNMT_DOUBLE, FNMT_DOUBLE_PIN, Pki, run, write_pem_files


def _secret(tmp_path: Path, name: str, value: str) -> Path:
    path = tmp_path / name
    path.write_text(value + "\n", encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_pack_then_info(pki: Pki, tmp_path: Path, runner: CliRunner) -> None:
    files = write_pem_files(pki, tmp_path)
    out = tmp_path / "alice.p12"
    result = runner.invoke(main, ["p12", "pack", "--key", str(files["key"]), "--cert",
                                  str(files["cert"]), "--chain", str(files["chain"]),
                                  "--out", str(out), "--name", "alice",
                                  "--pin-file", str(_secret(tmp_path, "pin", "1234")),
                                  "--iterations", "1000"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    store = load_pkcs12(out.read_bytes(), "1234")
    assert store.key.certificate == pki.leaf
    assert store.key.friendly_name == "alice"
    assert store.certificates == (pki.root,)
    info = runner.invoke(main, ["p12", "info", str(out), "--json"], env={"QCERT_PIN": "1234"})
    assert info.exit_code == 0, info.output
    data = json.loads(info.output)
    assert data["mac"] == {
        "algorithm": "SHA256",
        "iterations": 1000,
        "salt_length": 16,
        "verified": True,
    }
    assert [b["kind"] for b in data["bags"]] == ["certificate", "certificate", "shrouded-key"]
    assert data["bags"][2]["key_type"] == "RSA 2048"
    text = runner.invoke(main, ["p12", "info", str(out)])
    assert text.exit_code == 0
    assert "not checked" in text.output
    assert "encrypted bags" in text.output


def test_pack_legacy_with_an_encrypted_key(pki: Pki, tmp_path: Path, runner: CliRunner) -> None:
    key = tmp_path / "enc.pem"
    key.write_bytes(
        pki.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key-pass"),
        )
    )
    files = write_pem_files(pki, tmp_path)
    out = tmp_path / "legacy.p12"
    passphrase = _secret(tmp_path, "kp", "key-pass")
    args = ["p12", "pack", "--key", str(key), "--cert", str(files["cert"]), "--out", str(out),
            "--legacy", "--key-passphrase-file", str(passphrase)]  # fmt: skip
    result = runner.invoke(main, [*args, "--iterations", "10"], env={"QCERT_PIN": "1234"})
    assert result.exit_code == 0, result.output
    info = inspect_pkcs12(out.read_bytes(), "1234")
    assert info.mac is not None
    assert info.mac.algorithm == "SHA1"
    wrong = runner.invoke(
        main,
        ["p12", "pack", "--key", str(key), "--cert", str(files["cert"]), "--out", str(out)],
        env={"QCERT_PIN": "1234", "QCERT_KEY_PASSPHRASE": "nope"},
    )
    assert wrong.exit_code == 2
    assert "wrong passphrase" in wrong.output


def test_pack_refuses_a_short_pin_and_a_mismatched_key(
    pki: Pki, tmp_path: Path, runner: CliRunner
) -> None:
    files = write_pem_files(pki, tmp_path)
    out = tmp_path / "x.p12"
    base = ["p12", "pack", "--key", str(files["key"]), "--out", str(out)]
    short = runner.invoke(main, [*base, "--cert", str(files["cert"])], env={"QCERT_PIN": "12"})
    assert short.exit_code == 2
    assert "too short" in short.output
    mismatch = runner.invoke(
        main, [*base, "--cert", str(files["chain"])], env={"QCERT_PIN": "1234"}
    )
    assert mismatch.exit_code == 2
    assert "does not match" in mismatch.output
    assert not out.exists()


def test_unpack_fnmt_two_key_file(tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "fnmt.p12"
    src.write_bytes(real_p12_bytes(FNMT_DOUBLE))
    out = tmp_path / "pem"
    result = runner.invoke(main, ["p12", "unpack", str(src), "--out", str(out)],
                           env={"QCERT_PIN": FNMT_DOUBLE_PIN})  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["cert-1.pem", "cert-2.pem", "chain-1.pem", "chain-2.pem", "key-1.pem",
                     "key-2.pem"]  # fmt: skip
    key_file = out / "key-1.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    key = serialization.load_pem_private_key(key_file.read_bytes(), FNMT_DOUBLE_PIN.encode())
    assert key.key_size == 2048  # type: ignore[union-attr]


def test_unpack_without_key_encryption(pki: Pki, tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "a.p12"
    src.write_bytes(dump_pkcs12(pki.store(), "1234", iterations=1))
    out = tmp_path / "pem"
    result = runner.invoke(main, ["p12", "unpack", str(src), "--out", str(out),
                                  "--no-encrypt-key"], env={"QCERT_PIN": "1234"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["cert.pem", "chain.pem", "key.pem"]
    key_pem = (out / "key.pem").read_bytes()
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE((out / "key.pem").stat().st_mode) == 0o600


def test_convert_fnmt_file_to_modern_with_a_new_pin(tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "fnmt.p12"
    src.write_bytes(real_p12_bytes(FNMT_DOUBLE))
    out = tmp_path / "modern.p12"
    result = runner.invoke(
        main,
        ["p12", "convert", str(src), "--out", str(out), "--to", "modern",
         "--pin-file", str(_secret(tmp_path, "old", FNMT_DOUBLE_PIN)),
         "--new-pin-file", str(_secret(tmp_path, "new", "nuevo-PIN-2026")),
         "--iterations", "1000"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    store = load_pkcs12(out.read_bytes(), "nuevo-PIN-2026")
    assert [e.friendly_name for e in store.keys] == ["empleadopublico", "eidas"]
    info = inspect_pkcs12(out.read_bytes())
    assert info.mac is not None
    assert info.mac.algorithm == "SHA256"


def test_convert_to_legacy_keeps_the_pin(pki: Pki, tmp_path: Path, runner: CliRunner) -> None:
    src = tmp_path / "a.p12"
    src.write_bytes(dump_pkcs12(pki.store(), "1234", iterations=1))
    out = tmp_path / "legacy.p12"
    args = ["p12", "convert", str(src), "--out", str(out), "--to", "legacy", "--iterations", "7"]
    result = runner.invoke(main, args, env={"QCERT_PIN": "1234"})
    assert result.exit_code == 0, result.output
    info = inspect_pkcs12(out.read_bytes(), "1234")
    assert {b.encryption for b in info.bags} == {"pbeWithSHAAnd3-KeyTripleDES-CBC"}
    assert {b.iterations for b in info.bags} == {7}


@pytest.mark.parametrize("command", ["info", "unpack", "convert"])
def test_errors_are_one_line_and_exit_2(
    pki: Pki, tmp_path: Path, runner: CliRunner, command: str
) -> None:
    good = tmp_path / "a.p12"
    good.write_bytes(dump_pkcs12(pki.store(), DISTINCTIVE_PIN, iterations=1))
    damaged = tmp_path / "b.p12"
    damaged.write_bytes(good.read_bytes()[:-20])
    extra = {"info": [], "unpack": ["--out", str(tmp_path / "o")],
             "convert": ["--out", str(tmp_path / "c.p12")]}[command]  # fmt: skip
    for path, pin, message in (
        (good, DISTINCTIVE_PIN + "0", "wrong password"),
        (damaged, DISTINCTIVE_PIN, "damaged"),
    ):
        result = runner.invoke(main, ["p12", command, str(path), *extra], env={"QCERT_PIN": pin})
        assert result.exit_code == 2
        assert message in result.output
        assert "Traceback" not in result.output
        assert DISTINCTIVE_PIN not in result.output


def test_missing_pin_without_a_terminal_is_a_usage_error(
    pki: Pki, tmp_path: Path, runner: CliRunner
) -> None:
    src = tmp_path / "a.p12"
    src.write_bytes(dump_pkcs12(pki.store(), "1234", iterations=1))
    result = runner.invoke(main, ["p12", "unpack", str(src), "--out", str(tmp_path / "o")],
                           env={"QCERT_PIN": None})  # fmt: skip
    assert result.exit_code == 2
    assert "no PIN given" in result.output


@pytest.mark.oracle
def test_real_qcert_process_packs_a_file_openssl_reads(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    qcert = Path(sys.executable).parent / "qcert"
    assert qcert.exists()
    files = write_pem_files(pki, tmp_path)
    out = tmp_path / "proc.p12"
    env = {**os.environ, "QCERT_PIN": "Pin-ñ-proc"}
    result = subprocess.run(
        [str(qcert), "p12", "pack", "--key", str(files["key"]), "--cert", str(files["cert"]),
         "--chain", str(files["chain"]), "--out", str(out), "--legacy", "--name", "proc",
         "--iterations", "2000"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    pin_file = _secret(tmp_path, "pin", "Pin-ñ-proc")
    check = run([openssl, "pkcs12", "-info", "-in", str(out), "-passin", f"file:{pin_file}",
                 "-noout"])  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert "MAC: sha1" in check.stdout + check.stderr
    wrong = subprocess.run(
        [str(qcert), "p12", "info", str(out)],
        capture_output=True, text=True, env={**env, "QCERT_PIN": "wrong"}, check=False,
        timeout=120,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("Error: ")
    assert "wrong password" in wrong.stderr
    assert len(load_pkcs12(out.read_bytes(), "Pin-ñ-proc").keys) == 1
