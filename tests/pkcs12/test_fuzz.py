"""Mutation fuzzing: 10,000 damaged files raise nothing but QcertError.

The seeds are our own files (modern, legacy, two keys, an FNMT-like BER file with
RC2-40 certificates) made with one iteration so that each attempt costs little,
plus the two real FNMT files (100,000 iterations: only a few mutations of those).
Seeded, so a failure reproduces; a failing case prints its seed, mutation and index.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization

from qcertlib import _pkcs12_codec as codec
from qcertlib import _pkcs12_crypto as pcrypto
from qcertlib import _pkcs12_der as asn1
from qcertlib.errors import QcertError
from qcertlib.pkcs12 import Pkcs12Compat, dump_pkcs12, inspect_pkcs12, load_pkcs12
from tests.conftest import real_p12_bytes

from .conftest import FNMT_DOUBLE, FNMT_DOUBLE_PIN, FNMT_SINGLE, FNMT_SINGLE_PIN, Pki, to_ber

CHEAP_MUTATIONS = 9_980
REAL_FILE_MUTATIONS = 20
PIN = "1234"

Mutation = Callable[[random.Random, bytes], bytes]


def _flip_bits(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _random_bytes(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def _insert(rng: random.Random, data: bytes) -> bytes:
    pos = rng.randrange(len(data) + 1)
    junk = rng.choice([b"\x00", b"\x80", b"\x30\x80", b"\x00\x00", bytes([rng.randrange(256)])])
    return data[:pos] + junk * rng.randint(1, 3) + data[pos:]


def _delete(rng: random.Random, data: bytes) -> bytes:
    pos = rng.randrange(len(data))
    return data[:pos] + data[pos + rng.randint(1, 8) :]


_LENGTH_POSITIONS: dict[bytes, list[int]] = {}


def _length_byte(rng: random.Random, data: bytes) -> bytes:
    # hit bytes right after a SEQUENCE / OCTET STRING tag: lengths and their prefixes
    positions = _LENGTH_POSITIONS.get(data)
    if positions is None:
        positions = [i + 1 for i, b in enumerate(data[:-1]) if b in (0x30, 0x04, 0xA0, 0x02)]
        _LENGTH_POSITIONS[data] = positions
    out = bytearray(data)
    pos = rng.choice(positions)
    out[pos] = rng.choice(
        [0x00, 0x80, 0x81, 0x84, 0x85, 0xFF, out[pos] ^ 0x01, out[pos] + 1 & 0xFF]
    )
    return bytes(out)


def _splice(rng: random.Random, data: bytes) -> bytes:
    a, b = sorted(rng.randrange(len(data)) for _ in range(2))
    pos = rng.randrange(len(data))
    return data[:pos] + data[a:b] + data[pos:]


MUTATIONS: list[Mutation] = [
    _flip_bits,
    _random_bytes,
    _truncate,
    _insert,
    _delete,
    _length_byte,
    _splice,
]


def _fnmt_like(pki: Pki) -> bytes:
    """FNMT's layout (RC2-40 certificates, 3DES key, SHA-1 MAC, BER) with 1 iteration."""
    der = codec.build_pfx(
        keys=[
            codec.BagSpec(
                pki.leaf_key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
                "fnmt-like",
                b"Time 1",
            )
        ],
        certificates=[
            codec.BagSpec(
                pki.leaf.public_bytes(serialization.Encoding.DER), "fnmt-like", b"Time 1"
            ),
            codec.BagSpec(pki.root.public_bytes(serialization.Encoding.DER), None, None),
        ],
        password=PIN,
        key_pbe=pcrypto.new_pbe_3des(1),
        cert_pbe=pcrypto.new_pbe_rc2_40(1),
        mac_digest="sha1",
        mac_iterations=1,
    )
    return to_ber(asn1.parse_single(der))


def _check(data: bytes, password: str, label: str) -> str:
    try:
        store = load_pkcs12(data, password)
    except QcertError as exc:
        return type(exc).__name__
    except Exception as exc:  # pragma: no cover - this is the failure being hunted
        pytest.fail(f"{label}: raw {type(exc).__name__} escaped: {exc}")
    # what was loaded from a damaged file is still usable
    for entry in store.keys:
        store.chain_for(entry)
        repr(entry)
    return "loaded"


def test_seeds_load(pki: Pki) -> None:
    assert load_pkcs12(_fnmt_like(pki), PIN).key.friendly_name == "fnmt-like"


@pytest.mark.slow
def test_ten_thousand_mutated_files_raise_only_qcert_errors(pki: Pki) -> None:
    seeds = [
        dump_pkcs12(pki.store(), PIN, iterations=1),
        dump_pkcs12(pki.store(), PIN, compat=Pkcs12Compat.LEGACY, iterations=1),
        dump_pkcs12(pki.two_key_store(), PIN, iterations=1),
        _fnmt_like(pki),
    ]
    rng = random.Random(20261121)
    outcomes: dict[str, int] = {}
    for index in range(CHEAP_MUTATIONS):
        seed = seeds[index % len(seeds)]
        mutation = MUTATIONS[rng.randrange(len(MUTATIONS))]
        mutated = mutation(rng, seed)
        while mutated == seed:  # a byte replaced by itself, an empty splice...
            mutated = mutation(rng, seed)
        outcome = _check(mutated, PIN, f"cheap #{index} {mutation.__name__}")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if index % 50 == 0:  # inspection, with and without password
            for password in (None, PIN):
                with contextlib.suppress(QcertError):
                    inspect_pkcs12(mutated, password)
    real = [
        (real_p12_bytes(FNMT_SINGLE), FNMT_SINGLE_PIN),
        (real_p12_bytes(FNMT_DOUBLE), FNMT_DOUBLE_PIN),
    ]
    for index in range(REAL_FILE_MUTATIONS):
        data, password = real[index % 2]
        mutation = MUTATIONS[rng.randrange(len(MUTATIONS))]
        mutated = mutation(rng, data)
        while mutated == data:
            mutated = mutation(rng, data)
        outcome = _check(mutated, password, f"real #{index} {mutation.__name__}")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == CHEAP_MUTATIONS + REAL_FILE_MUTATIONS == 10_000
    # every error type shows up: the fuzzer reaches past the structure checks
    assert outcomes.get("Pkcs12CorruptError", 0) > 1000
    assert outcomes.get("Pkcs12PasswordError", 0) > 0
    # every file differs from its seed; one could still load only if the change hit
    # bytes the MAC does not cover and nobody reads (e.g. the MAC algorithm's NULL)
    assert outcomes.get("loaded", 0) < 20
    print(outcomes)  # visible with -s: how the 10,000 files fared
