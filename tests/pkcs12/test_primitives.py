"""The RC2 cipher (RFC 2268 test vectors, and OpenSSL as an oracle) and the BER reader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qcertlib import _pkcs12_der as asn1
from qcertlib._rc2 import (
    _decrypt_block,
    _encrypt_block,
    _expand_key,
    rc2_cbc_decrypt,
    rc2_cbc_encrypt,
)
from tests.conftest import require_tool

from .conftest import run

# RFC 2268 section 5: key, effective key bits, plaintext, ciphertext
RFC2268_VECTORS = [
    ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
    ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
    ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
    ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
    ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
    ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
]


@pytest.mark.parametrize(("key", "bits", "plain", "cipher"), RFC2268_VECTORS)
def test_rc2_rfc2268_vectors(key: str, bits: int, plain: str, cipher: str) -> None:
    expanded = _expand_key(bytes.fromhex(key), bits)
    assert _encrypt_block(expanded, bytes.fromhex(plain)).hex() == cipher
    assert _decrypt_block(expanded, bytes.fromhex(cipher)).hex() == plain


@pytest.mark.oracle
def test_rc2_40_cbc_matches_openssl(tmp_path: Path) -> None:
    openssl = require_tool("openssl")["openssl"]
    plain = os.urandom(64)
    (tmp_path / "plain").write_bytes(plain)
    result = run([openssl, "enc", "-provider", "legacy", "-provider", "default", "-rc2-40-cbc",
                  "-K", "0102030405", "-iv", "0001020304050607", "-nopad",
                  "-in", str(tmp_path / "plain"), "-out", str(tmp_path / "cipher")])  # fmt: skip
    assert result.returncode == 0, result.stderr
    cipher = (tmp_path / "cipher").read_bytes()
    key, iv = bytes.fromhex("0102030405"), bytes(range(8))
    assert rc2_cbc_encrypt(key, 40, iv, plain) == cipher
    assert rc2_cbc_decrypt(key, 40, iv, cipher) == plain


def test_rc2_rejects_partial_blocks() -> None:
    with pytest.raises(ValueError, match="8-byte"):
        rc2_cbc_decrypt(b"12345", 40, bytes(8), b"123")


def test_ber_reader_limits() -> None:
    nested = b"\x30\x80" * (asn1.MAX_DEPTH + 2) + b"\x00\x00" * (asn1.MAX_DEPTH + 2)
    with pytest.raises(asn1.Asn1Error, match="deeply"):
        asn1.parse_single(nested)
    with pytest.raises(asn1.Asn1Error, match="length too large"):
        asn1.parse_single(b"\x04\x85\x01\x00\x00\x00\x00")
    with pytest.raises(asn1.Asn1Error, match="truncated"):
        asn1.parse_single(b"\x04\x05abc")
    with pytest.raises(asn1.Asn1Error, match="trailing"):
        asn1.parse_single(b"\x05\x00\x00")
    with pytest.raises(asn1.Asn1Error, match="primitive"):
        asn1.parse_single(b"\x04\x80\x00\x00")


def test_oid_round_trip() -> None:
    for dotted in ("1.2.840.113549.1.12.10.1.2", "2.16.840.1.101.3.4.1.42", "0.4.0.194112.1.0"):
        assert asn1.decode_oid(asn1.encode_oid(dotted)) == dotted
