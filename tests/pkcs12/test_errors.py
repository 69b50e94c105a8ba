"""Wrong password, damaged file and unsupported algorithm are three different errors,
and no message or repr carries the PIN or key bytes."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives import serialization

from qcertlib import _pkcs12_codec as codec
from qcertlib import _pkcs12_crypto as pcrypto
from qcertlib import _pkcs12_der as asn1
from qcertlib.errors import (
    PinPolicyError,
    Pkcs12CorruptError,
    Pkcs12Error,
    Pkcs12PasswordError,
    Pkcs12UnsupportedError,
    QcertError,
)
from qcertlib.pkcs12 import (
    KeyEntry,
    PinPolicy,
    Pkcs12Compat,
    dump_pkcs12,
    inspect_pkcs12,
    load_pkcs12,
)
from tests.conftest import real_p12_bytes

from .conftest import DISTINCTIVE_PIN, FNMT_SINGLE, FNMT_SINGLE_PIN, Pki


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


def _unsupported_pbe_file(pki: Pki, password: str) -> bytes:
    """A well-formed file with a valid MAC whose key bag claims pbeWithMD5AndDES-CBC."""
    key_pbe = dataclasses.replace(pcrypto.new_pbe_3des(1), oid="1.2.840.113549.1.5.3")
    return codec.build_pfx(
        keys=[
            codec.BagSpec(
                pki.leaf_key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
                "alice",
                b"1",
            )
        ],
        certificates=[codec.BagSpec(pki.leaf.public_bytes(serialization.Encoding.DER), None, b"1")],
        password=password,
        key_pbe=key_pbe,
        cert_pbe=pcrypto.new_pbes2_aes256(1),
        mac_digest="sha256",
        mac_iterations=1,
    )


@pytest.fixture(scope="module")
def modern(pki: Pki) -> bytes:
    return dump_pkcs12(pki.store(), DISTINCTIVE_PIN, iterations=3)


def test_wrong_password(modern: bytes) -> None:
    with pytest.raises(Pkcs12PasswordError, match="wrong password"):
        load_pkcs12(modern, "0000")


@pytest.mark.parametrize("cut", [1, 17, 200, -1, -40])
def test_truncated_file(modern: bytes, cut: int) -> None:
    with pytest.raises(Pkcs12CorruptError):
        load_pkcs12(modern[:cut], DISTINCTIVE_PIN)


@pytest.mark.parametrize("where", [0.3, 0.5, 0.8, 0.99])
def test_bit_flipped_file_is_corrupt_not_a_wrong_password(modern: bytes, where: float) -> None:
    # 0.3/0.5: inside the encrypted certificates; 0.8: inside the key; 0.99: the MAC.
    with pytest.raises(Pkcs12CorruptError):
        load_pkcs12(_flip(modern, int(len(modern) * where)), DISTINCTIVE_PIN)


def test_bit_flipped_fnmt_file_is_corrupt() -> None:
    data = real_p12_bytes(FNMT_SINGLE)
    with pytest.raises(Pkcs12CorruptError):
        load_pkcs12(_flip(data, len(data) // 2), FNMT_SINGLE_PIN)


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x00", b"-----BEGIN CERTIFICATE-----\nMIIB\n", b"\x30\x03\x02\x01\x03", b"\xff" * 64],
)
def test_not_a_pkcs12_file(blob: bytes) -> None:
    with pytest.raises(Pkcs12CorruptError, match=r"not a valid PKCS#12"):
        load_pkcs12(blob, "1234")


def test_a_certificate_is_not_a_pkcs12_file(pki: Pki) -> None:
    with pytest.raises(Pkcs12CorruptError):
        load_pkcs12(pki.leaf.public_bytes(serialization.Encoding.DER), "1234")


def test_unsupported_algorithm_after_a_good_mac(pki: Pki) -> None:
    data = _unsupported_pbe_file(pki, "1234")
    with pytest.raises(Pkcs12UnsupportedError, match="pbeWithMD5AndDES-CBC"):
        load_pkcs12(data, "1234")
    # MAC first: with a wrong password the same file is a password error
    with pytest.raises(Pkcs12PasswordError):
        load_pkcs12(data, "4321")


def test_the_three_errors_are_distinct_types() -> None:
    kinds = [Pkcs12PasswordError, Pkcs12CorruptError, Pkcs12UnsupportedError]
    for kind in kinds:
        assert issubclass(kind, Pkcs12Error)
        assert [other for other in kinds if issubclass(kind, other)] == [kind]


def _with_mac_iterations(data: bytes, iterations: int) -> bytes:
    version, auth_safe, mac = asn1.parse_single(data).seq(3, 3)
    digest_info, salt, _ = mac.seq(3, 3)
    new_mac = asn1.sequence(digest_info.raw, salt.raw, asn1.integer(iterations))
    return asn1.sequence(version.raw, auth_safe.raw, new_mac)


def test_huge_iteration_count_is_refused_quickly(pki: Pki) -> None:
    data = dump_pkcs12(pki.store(), "1234", iterations=1)
    with pytest.raises(Pkcs12UnsupportedError, match="iteration count"):
        load_pkcs12(_with_mac_iterations(data, 2**31 - 1), "1234")
    with pytest.raises(Pkcs12CorruptError):
        load_pkcs12(_with_mac_iterations(data, 0), "1234")


def _all_error_texts(pki: Pki) -> list[QcertError]:
    errors: list[QcertError] = []
    modern = dump_pkcs12(pki.store(), DISTINCTIVE_PIN, iterations=2)
    legacy = dump_pkcs12(pki.store(), DISTINCTIVE_PIN, compat=Pkcs12Compat.LEGACY, iterations=2)
    attempts: list[tuple[bytes, str]] = [
        (modern, DISTINCTIVE_PIN + "x"),
        (legacy, DISTINCTIVE_PIN[:-1]),
        (modern[:-9], DISTINCTIVE_PIN),
        (_flip(modern, len(modern) // 2), DISTINCTIVE_PIN),
        (_flip(legacy, len(legacy) - 30), DISTINCTIVE_PIN),
        (_unsupported_pbe_file(pki, DISTINCTIVE_PIN), DISTINCTIVE_PIN),
        (b"junk", DISTINCTIVE_PIN),
    ]
    for data, pin in attempts:
        with pytest.raises(QcertError) as caught:
            load_pkcs12(data, pin)
        errors.append(caught.value)
        try:  # inspection describes unsupported parts instead of failing
            inspect_pkcs12(data, pin)
        except QcertError as exc:
            errors.append(exc)
    for bad_pin in ("", DISTINCTIVE_PIN[:3]):
        with pytest.raises(PinPolicyError) as policy_error:
            PinPolicy(min_length=len(DISTINCTIVE_PIN) + 1).check(bad_pin or DISTINCTIVE_PIN)
        errors.append(policy_error.value)
    return errors


def test_no_pin_or_key_byte_in_any_message_or_repr(pki: Pki) -> None:
    numbers = pki.leaf_key.private_numbers()
    secrets = [DISTINCTIVE_PIN, str(numbers.d), format(numbers.d, "x")[:16]]
    pkcs8 = pki.leaf_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    errors = _all_error_texts(pki)
    assert {type(e) for e in errors} >= {
        Pkcs12PasswordError,
        Pkcs12CorruptError,
        Pkcs12UnsupportedError,
        PinPolicyError,
    }
    for error in errors:
        for text in (str(error), repr(error), str(error.args)):
            for secret in secrets:
                assert secret not in text
            assert pkcs8[-16:].hex() not in text
        assert error.__cause__ is None
    entry = KeyEntry(pki.leaf_key, pki.leaf, DISTINCTIVE_PIN[:0] or "alice", None)
    assert all(secret not in repr(entry) for secret in secrets)
