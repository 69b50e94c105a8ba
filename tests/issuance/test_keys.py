from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

from qcertlib.errors import KeyFileError, WeakKeyError
from qcertlib.issuance import KeySpec, check_key_strength, generate_key
from qcertlib.issuance.keys import load_private_key, save_private_key
from tests.conftest import require_tool
from tests.issuance._helpers import run


@pytest.mark.parametrize(
    ("spec", "kind", "size"),
    [
        (KeySpec.RSA_2048, rsa.RSAPrivateKey, 2048),
        (KeySpec.EC_P256, ec.EllipticCurvePrivateKey, 256),
        (KeySpec.EC_P384, ec.EllipticCurvePrivateKey, 384),
    ],
)
def test_generate_key_gives_the_requested_type(spec: KeySpec, kind: type, size: int) -> None:
    key = generate_key(spec)
    assert isinstance(key, kind)
    assert key.key_size == size


def test_keyspec_parse_accepts_common_spellings() -> None:
    assert KeySpec.parse("RSA-3072") is KeySpec.RSA_3072
    assert KeySpec.parse("rsa4096") is KeySpec.RSA_4096
    assert KeySpec.parse("p384") is KeySpec.EC_P384
    with pytest.raises(ValueError, match="unknown key type"):
        KeySpec.parse("rsa1024")


def test_saved_key_file_is_0600_pkcs8_and_round_trips(tmp_path: Path) -> None:
    key = generate_key(KeySpec.EC_P256)
    path = save_private_key(tmp_path / "k.key", key, None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = load_private_key(path)
    assert loaded.private_numbers() == key.private_numbers()


def test_encrypted_key_needs_the_right_passphrase(tmp_path: Path) -> None:
    key = generate_key(KeySpec.EC_P256)
    path = save_private_key(tmp_path / "k.key", key, "correct horse")
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_private_key(path, "correct horse").private_numbers() == key.private_numbers()
    with pytest.raises(KeyFileError, match="wrong passphrase") as wrong:
        load_private_key(path, "battery staple")
    assert "battery" not in str(wrong.value)
    with pytest.raises(KeyFileError, match="passphrase is required"):
        load_private_key(path, None)


def test_malformed_or_missing_key_file_is_a_key_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFileError, match="not a readable PEM"):
        load_private_key(bad)
    with pytest.raises(KeyFileError, match="cannot read"):
        load_private_key(tmp_path / "absent.key")


def test_openssl_reads_the_encrypted_pkcs8_file(tmp_path: Path) -> None:
    tools = require_tool("openssl")
    path = save_private_key(tmp_path / "k.key", generate_key(KeySpec.RSA_2048), "s3cret-pass")
    result = run(
        [
            tools["openssl"],
            "pkey",
            "-in",
            str(path),
            "-passin",
            "pass:s3cret-pass",
            "-noout",
            "-check",
        ]
    )
    assert result.returncode == 0, result.stderr
    assert "Key is valid" in result.stdout + result.stderr


def test_rsa_1024_is_weak() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (on purpose)
    with pytest.raises(WeakKeyError, match="1024 bits is too weak"):
        check_key_strength(key.public_key())


def test_p192_is_weak() -> None:
    # cryptography 50 can still generate SECP192R1 keys, so the real curve is used.
    key = ec.generate_private_key(ec.SECP192R1())
    with pytest.raises(WeakKeyError, match="secp192r1 is not allowed"):
        check_key_strength(key.public_key())


def test_dsa_is_not_supported() -> None:
    key = dsa.generate_private_key(key_size=2048)
    with pytest.raises(WeakKeyError, match="not supported"):
        check_key_strength(key.public_key())


def test_key_file_of_an_unused_type_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "ed.key").write_bytes(pem)
    with pytest.raises(KeyFileError, match="RSA or EC only"):
        load_private_key(tmp_path / "ed.key")
