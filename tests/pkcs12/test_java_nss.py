"""Files we write import into Java (keytool) and NSS (pk12util); theirs load here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qcertlib.pkcs12 import Pkcs12Compat, dump_pkcs12, load_pkcs12
from tests.conftest import require_tool

from .conftest import Pki, run, write_pem_files

PIN = "Pin-ñ-1234"
#: Java's PBE keys accept only ASCII passwords (com.sun.crypto.provider.PBEKey), so keytool
#: cannot open any PKCS#12 file with a non-ASCII PIN, not even one OpenSSL wrote.
JAVA_PIN = "Pin-n-1234"


@pytest.mark.oracle
@pytest.mark.parametrize("compat", list(Pkcs12Compat))
def test_keytool_imports_our_file(pki: Pki, tmp_path: Path, compat: Pkcs12Compat) -> None:
    keytool = require_tool("keytool")["keytool"]
    src = tmp_path / "ours.p12"
    src.write_bytes(dump_pkcs12(pki.two_key_store(), JAVA_PIN, compat=compat, iterations=1000))
    dest = tmp_path / "java.p12"
    # -importkeystore decrypts the keys (-list would only check the MAC)
    result = run([keytool, "-importkeystore", "-noprompt", "-srckeystore", str(src),
                  "-srcstoretype", "PKCS12", "-srcstorepass", JAVA_PIN, "-destkeystore", str(dest),
                  "-deststoretype", "PKCS12", "-deststorepass", "changeit"])  # fmt: skip
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "2 entries successfully imported, 0 entries failed" in out
    listing = run([keytool, "-list", "-v", "-keystore", str(dest), "-storetype", "PKCS12",
                   "-storepass", "changeit"])  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count("Entry type: PrivateKeyEntry") == 2
    assert "Alias name: alice" in listing.stdout
    assert "Alias name: bob" in listing.stdout
    assert listing.stdout.count("Certificate chain length: 2") == 2
    # and the store Java wrote loads here, both keys with their certificates
    store = load_pkcs12(dest.read_bytes(), "changeit")
    assert {(e.friendly_name, e.certificate) for e in store.keys} == {
        ("alice", pki.leaf),
        ("bob", pki.ec_leaf),
    }


@pytest.mark.oracle
def test_keytool_refuses_a_wrong_pin_on_our_file(pki: Pki, tmp_path: Path) -> None:
    keytool = require_tool("keytool")["keytool"]
    src = tmp_path / "ours.p12"
    src.write_bytes(dump_pkcs12(pki.store(), JAVA_PIN, iterations=10))
    result = run([keytool, "-list", "-keystore", str(src), "-storetype", "PKCS12",
                  "-storepass", "wrong-pin"])  # fmt: skip
    assert result.returncode != 0
    assert "password was incorrect" in result.stdout + result.stderr


@pytest.mark.oracle
@pytest.mark.parametrize("compat", list(Pkcs12Compat))
def test_pk12util_imports_our_file(pki: Pki, tmp_path: Path, compat: Pkcs12Compat) -> None:
    tools = require_tool("pk12util", "certutil")
    db = tmp_path / "db"
    db.mkdir()
    created = run([tools["certutil"], "-N", "-d", f"sql:{db}", "--empty-password"])
    assert created.returncode == 0, created.stderr
    src = tmp_path / "ours.p12"
    src.write_bytes(dump_pkcs12(pki.two_key_store(), PIN, compat=compat, iterations=1000))
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text(PIN, encoding="utf-8")
    result = run([tools["pk12util"], "-i", str(src), "-d", f"sql:{db}", "-w", str(pin_file)])
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "PKCS12 IMPORT SUCCESSFUL" in out
    keys = run([tools["certutil"], "-K", "-d", f"sql:{db}"])
    assert keys.returncode == 0, keys.stderr
    lines = {line.split()[-1]: line.split() for line in keys.stdout.splitlines() if "<" in line}
    assert lines["alice"][2] == "rsa"  # "< 0> rsa <key id> alice"
    assert lines["bob"][2] == "ec"
    certs = run([tools["certutil"], "-L", "-d", f"sql:{db}"])
    assert "alice" in certs.stdout
    assert "u,u,u" in certs.stdout


@pytest.mark.oracle
def test_pk12util_refuses_a_wrong_pin_on_our_file(pki: Pki, tmp_path: Path) -> None:
    tools = require_tool("pk12util", "certutil")
    db = tmp_path / "db"
    db.mkdir()
    run([tools["certutil"], "-N", "-d", f"sql:{db}", "--empty-password"])
    src = tmp_path / "ours.p12"
    src.write_bytes(dump_pkcs12(pki.store(), PIN, iterations=10))
    result = run([tools["pk12util"], "-i", str(src), "-d", f"sql:{db}", "-W", "wrong-pin"])
    assert result.returncode != 0
    assert "SEC_ERROR_BAD_PASSWORD" in result.stdout + result.stderr


@pytest.mark.oracle
def test_we_read_what_pk12util_exports(pki: Pki, tmp_path: Path) -> None:
    tools = require_tool("pk12util", "certutil")
    db = tmp_path / "db"
    db.mkdir()
    run([tools["certutil"], "-N", "-d", f"sql:{db}", "--empty-password"])
    src = tmp_path / "ours.p12"
    src.write_bytes(dump_pkcs12(pki.store(), PIN, iterations=10))
    imported = run([tools["pk12util"], "-i", str(src), "-d", f"sql:{db}", "-W", PIN])
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "nss.p12"
    exported = run([tools["pk12util"], "-o", str(out), "-n", "alice", "-d", f"sql:{db}",
                    "-W", "nss-pin"])  # fmt: skip
    assert exported.returncode == 0, exported.stdout + exported.stderr
    store = load_pkcs12(out.read_bytes(), "nss-pin")
    assert store.key.certificate == pki.leaf
    assert store.key.friendly_name == "alice"


@pytest.mark.oracle
def test_keytool_cannot_use_a_non_ascii_pin_even_on_openssl_files(pki: Pki, tmp_path: Path) -> None:
    # Documents the Java limitation behind PinPolicy(ascii_only=True).
    tools = require_tool("keytool", "openssl")
    files = write_pem_files(pki, tmp_path)
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text(PIN, encoding="utf-8")
    out = tmp_path / "openssl.p12"
    made = run([tools["openssl"], "pkcs12", "-export", "-inkey", str(files["key"]),
                "-in", str(files["cert"]), "-passout", f"file:{pin_file}",
                "-out", str(out)])  # fmt: skip
    assert made.returncode == 0, made.stderr
    listing = run([tools["keytool"], "-list", "-keystore", str(out), "-storetype", "PKCS12",
                   "-storepass", PIN], env={**os.environ, "LC_ALL": "C.UTF-8"})  # fmt: skip
    assert listing.returncode != 0
    assert load_pkcs12(out.read_bytes(), PIN).key.certificate == pki.leaf
