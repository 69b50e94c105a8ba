"""Interop with OpenSSL 3 (`openssl pkcs12`) and with cryptography's writer, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

from qcertlib.errors import Pkcs12PasswordError, Pkcs12UnsupportedError
from qcertlib.pkcs12 import Pkcs12Compat, dump_pkcs12, inspect_pkcs12, load_pkcs12
from tests.conftest import require_tool

from .conftest import Pki, run, write_pem_files

NON_ASCII_PIN = "Contraseña-Ñandú-€"
AES256 = "PBES2/PBKDF2-hmacWithSHA256/aes-256-cbc"


def _pin_file(directory: Path, pin: str) -> Path:
    path = directory / "pin.txt"
    path.write_text(pin, encoding="utf-8")  # no newline: openssl reads the first line
    return path


def _openssl_info(openssl: str, path: Path, pin_file: Path, *extra: str) -> tuple[int, str]:
    result = run([openssl, "pkcs12", "-info", "-in", str(path), "-passin", f"file:{pin_file}",
                  "-nodes", *extra])  # fmt: skip
    return result.returncode, result.stdout + result.stderr


@pytest.mark.oracle
def test_openssl_reads_our_modern_file_without_legacy(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    path = tmp_path / "modern.p12"
    path.write_bytes(dump_pkcs12(pki.two_key_store(), NON_ASCII_PIN, iterations=1000))
    rc, out = _openssl_info(openssl, path, _pin_file(tmp_path, NON_ASCII_PIN))
    assert rc == 0, out
    assert "MAC: sha256, Iteration 1000" in out
    assert out.count("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 1000") == 2
    assert "PRF hmacWithSHA256" in out
    assert out.count("Certificate bag") == 3
    assert out.count("-----BEGIN PRIVATE KEY-----") == 2
    assert "friendlyName: alice" in out
    assert "friendlyName: bob" in out
    assert "localKeyID:" in out


@pytest.mark.oracle
def test_openssl_reads_our_legacy_file_without_legacy_provider(pki: Pki, tmp_path: Path) -> None:
    # LEGACY uses 3DES for certificates too (no RC2), so OpenSSL 3 needs no -legacy.
    openssl = require_tool("openssl")["openssl"]
    path = tmp_path / "legacy.p12"
    path.write_bytes(
        dump_pkcs12(pki.store(), NON_ASCII_PIN, compat=Pkcs12Compat.LEGACY, iterations=1000)
    )
    rc, out = _openssl_info(openssl, path, _pin_file(tmp_path, NON_ASCII_PIN))
    assert rc == 0, out
    assert "MAC: sha1, Iteration 1000" in out
    assert "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 1000" in out
    assert "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 1000" in out
    assert "-----BEGIN PRIVATE KEY-----" in out


@pytest.mark.oracle
def test_openssl_checks_the_key_we_wrote(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    path = tmp_path / "modern.p12"
    path.write_bytes(dump_pkcs12(pki.store(), "1234", iterations=10))
    pem = run([openssl, "pkcs12", "-in", str(path), "-passin", "pass:1234", "-nocerts",
               "-nodes", "-out", str(tmp_path / "key.pem")])  # fmt: skip
    assert pem.returncode == 0, pem.stderr
    check = run([openssl, "pkey", "-in", str(tmp_path / "key.pem"), "-noout", "-check"])
    assert check.returncode == 0
    assert "Key is valid" in check.stdout + check.stderr


@pytest.mark.oracle
def test_openssl_rejects_a_wrong_pin_on_our_file(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    path = tmp_path / "modern.p12"
    path.write_bytes(dump_pkcs12(pki.store(), NON_ASCII_PIN, iterations=10))
    rc, out = _openssl_info(openssl, path, _pin_file(tmp_path, "Contrasena-Nandu-E"))
    assert rc != 0
    assert "invalid password" in out


def _openssl_export(openssl: str, pki: Pki, tmp_path: Path, pin: str, *extra: str) -> bytes:
    files = write_pem_files(pki, tmp_path)
    out = tmp_path / "openssl.p12"
    passout = f"file:{_pin_file(tmp_path, pin)}" if pin else "pass:"
    result = run([openssl, "pkcs12", "-export", "-inkey", str(files["key"]),
                  "-in", str(files["cert"]), "-certfile", str(files["chain"]),
                  "-name", "alice", "-passout", passout,
                  "-out", str(out), *extra])  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("extra", "mac", "bag"),
    [
        ((), "SHA256", AES256),
        (("-legacy",), "SHA1", "pbeWithSHAAnd40BitRC2-CBC"),
        (("-legacy", "-certpbe", "PBE-SHA1-RC2-128"), "SHA1", "pbeWithSHAAnd128BitRC2-CBC"),
        (("-legacy", "-certpbe", "PBE-SHA1-2DES"), "SHA1", "pbeWithSHAAnd2-KeyTripleDES-CBC"),
        (("-legacy", "-certpbe", "PBE-SHA1-RC4-128"), "SHA1", "pbeWithSHAAnd128BitRC4"),
        (("-macalg", "sha512", "-iter", "3000"), "SHA512", AES256),
        (("-macalg", "sha384",), "SHA384", AES256),
        (("-macalg", "sha224",), "SHA224", AES256),
        (("-macalg", "sha512-224",), "SHA512/224", AES256),
        (("-keypbe", "aes-128-cbc", "-certpbe", "aes-128-cbc"), "SHA256",
         "PBES2/PBKDF2-hmacWithSHA256/aes-128-cbc"),
        (("-keypbe", "des-ede3-cbc", "-certpbe", "des-ede3-cbc"), "SHA256",
         "PBES2/PBKDF2-hmacWithSHA256/des-ede3-cbc"),
        (("-keypbe", "NONE", "-certpbe", "NONE"), "SHA256", None),
    ],
)  # fmt: skip
def test_we_read_files_openssl_writes(
    pki: Pki, tmp_path: Path, extra: tuple[str, ...], mac: str, bag: str | None
) -> None:
    openssl = require_tool("openssl")["openssl"]
    data = _openssl_export(openssl, pki, tmp_path, NON_ASCII_PIN, *extra)
    store = load_pkcs12(data, NON_ASCII_PIN)
    assert store.key.certificate == pki.leaf
    assert store.key.friendly_name == "alice"
    assert store.certificates == (pki.root,)
    info = inspect_pkcs12(data, NON_ASCII_PIN)
    assert info.mac is not None
    assert info.mac.algorithm == mac
    assert bag in {b.encryption for b in info.bags}


@pytest.mark.oracle
def test_openssl_file_without_mac(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    data = _openssl_export(openssl, pki, tmp_path, "1234", "-nomac")
    assert load_pkcs12(data, "1234").key.certificate == pki.leaf
    assert inspect_pkcs12(data).mac is None
    # only the key is encrypted; a wrong password passes its padding check now and
    # then (1 in 256), so try many: always a password error, never "corrupt"
    for attempt in range(300):
        with pytest.raises(Pkcs12PasswordError, match="no integrity check"):
            load_pkcs12(data, f"wrong-{attempt}")


@pytest.mark.oracle
def test_openssl_file_with_an_algorithm_we_do_not_support(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    data = _openssl_export(
        openssl,
        pki,
        tmp_path,
        "1234",
        "-keypbe",
        "camellia-256-cbc",
        "-certpbe",
        "camellia-256-cbc",
    )
    with pytest.raises(Pkcs12UnsupportedError, match="camellia-256-cbc"):
        load_pkcs12(data, "1234")
    with pytest.raises(Pkcs12PasswordError):
        load_pkcs12(data, "4321")
    md5 = _openssl_export(openssl, pki, tmp_path, "1234", "-macalg", "md5")
    with pytest.raises(Pkcs12UnsupportedError, match="md5"):
        load_pkcs12(md5, "1234")


@pytest.mark.oracle
def test_openssl_empty_password(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    data = _openssl_export(openssl, pki, tmp_path, "")
    assert load_pkcs12(data, "").key.certificate == pki.leaf
    assert load_pkcs12(data, None).key.certificate == pki.leaf


@pytest.mark.parametrize(
    "encryption",
    [
        serialization.BestAvailableEncryption(NON_ASCII_PIN.encode()),
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(500)
        .key_cert_algorithm(crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - the legacy format under test
        .build(NON_ASCII_PIN.encode()),
    ],
    ids=["best-available", "3des-sha1"],
)
def test_we_read_files_cryptography_writes(
    pki: Pki, encryption: serialization.KeySerializationEncryption
) -> None:
    data = crypto_pkcs12.serialize_key_and_certificates(
        b"alice", pki.leaf_key, pki.leaf, [pki.root], encryption
    )
    store = load_pkcs12(data, NON_ASCII_PIN)
    assert store.key.certificate == pki.leaf
    assert store.key.friendly_name == "alice"
    assert store.certificates == (pki.root,)


def test_cryptography_reads_our_files(pki: Pki) -> None:
    for compat in Pkcs12Compat:
        data = dump_pkcs12(pki.store(), NON_ASCII_PIN, compat=compat, iterations=10)
        bundle = crypto_pkcs12.load_pkcs12(data, NON_ASCII_PIN.encode())
        assert bundle.cert is not None
        assert bundle.cert.certificate == pki.leaf
        assert bundle.cert.friendly_name == b"alice"
        assert [c.certificate for c in bundle.additional_certs] == [pki.root]


@pytest.mark.oracle
def test_openssl_reads_our_file_with_default_iterations(pki: Pki, tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    path = tmp_path / "default.p12"
    path.write_bytes(dump_pkcs12(pki.store(), "1234"))
    result = run([openssl, "pkcs12", "-info", "-noout", "-in", str(path), "-passin", "pass:1234"])
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "MAC: sha256, Iteration 600000" in out
    assert "AES-256-CBC, Iteration 600000, PRF hmacWithSHA256" in out
