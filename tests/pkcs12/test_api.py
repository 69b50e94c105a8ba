"""The public PKCS#12 API on files we write ourselves (no third-party tool)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from qcertlib import _pkcs12_der as asn1
from qcertlib.errors import PinPolicyError, Pkcs12Error, QcertError
from qcertlib.pkcs12 import (
    DEFAULT_ITERATIONS,
    KeyEntry,
    KeyStore,
    PinPolicy,
    Pkcs12Compat,
    dump_pkcs12,
    inspect_pkcs12,
    load_pkcs12,
    write_pkcs12,
)

from .conftest import DISTINCTIVE_PIN, Pki, to_ber


def _priv(entry: KeyEntry) -> bytes:
    return entry.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize("compat", list(Pkcs12Compat))
def test_round_trip_keeps_key_cert_chain_and_name(pki: Pki, compat: Pkcs12Compat) -> None:
    data = dump_pkcs12(pki.store(), "1234", compat=compat, iterations=10)
    store = load_pkcs12(data, "1234")
    assert len(store.keys) == 1
    entry = store.key
    assert entry.certificate == pki.leaf
    assert entry.friendly_name == "alice"
    assert entry.local_key_id is not None
    assert _priv(entry) == _priv(KeyEntry(pki.leaf_key, None))
    assert store.certificates == (pki.root,)
    assert store.chain_for(entry) == (pki.root,)


def test_two_keys_each_with_its_own_certificate(pki: Pki) -> None:
    data = dump_pkcs12(pki.two_key_store(), "1234", iterations=10)
    store = load_pkcs12(data, "1234")
    assert [(e.friendly_name, e.certificate) for e in store.keys] == [
        ("alice", pki.leaf),
        ("bob", pki.ec_leaf),
    ]
    assert store.keys[1].key_type == "EC secp256r1"
    assert store.certificates == (pki.root,)
    assert store.friendly_names == ("Test Root",)
    assert store.friendly_name_of(pki.root) == "Test Root"
    assert store.chain_for(store.keys[1]) == (pki.root,)
    ids = {e.local_key_id for e in store.keys}
    assert len(ids) == 2


def test_keys_match_by_public_key_without_local_key_id(pki: Pki) -> None:
    # A key entry given without certificate and a lone certificate: written without a
    # shared localKeyId, they are matched again by public key on load.
    from qcertlib import _pkcs12_codec as codec
    from qcertlib import _pkcs12_crypto as pcrypto

    data = codec.build_pfx(
        keys=[codec.BagSpec(_priv(KeyEntry(pki.leaf_key, None)), None, None)],
        certificates=[
            codec.BagSpec(pki.root.public_bytes(serialization.Encoding.DER), None, None),
            codec.BagSpec(pki.leaf.public_bytes(serialization.Encoding.DER), "x", None),
        ],
        password="1234",
        key_pbe=pcrypto.new_pbes2_aes256(1),
        cert_pbe=pcrypto.new_pbes2_aes256(1),
        mac_digest="sha256",
        mac_iterations=1,
    )
    store = load_pkcs12(data, "1234")
    assert store.key.certificate == pki.leaf
    assert store.key.friendly_name == "x"
    assert store.certificates == (pki.root,)


def test_explicit_local_key_ids_are_kept(pki: Pki) -> None:
    store = KeyStore(keys=(KeyEntry(pki.leaf_key, pki.leaf, None, b"\x01\x02"),))
    loaded = load_pkcs12(dump_pkcs12(store, "1234", iterations=1), "1234")
    assert loaded.key.local_key_id == b"\x01\x02"


def test_non_ascii_pin_round_trip(pki: Pki) -> None:
    for compat in Pkcs12Compat:
        data = dump_pkcs12(pki.store(), "contraseña€", compat=compat, iterations=5)
        assert load_pkcs12(data, "contraseña€").key.certificate == pki.leaf
        assert load_pkcs12(data, "contraseña€".encode()).key.certificate == pki.leaf


def test_default_iterations_are_the_documented_ones(pki: Pki) -> None:
    info = inspect_pkcs12(dump_pkcs12(pki.store(), "1234"))
    assert info.mac is not None
    assert info.mac.iterations == DEFAULT_ITERATIONS[Pkcs12Compat.MODERN] == 600_000
    assert info.mac.algorithm == "SHA256"
    assert {b.encryption for b in info.bags} == {"PBES2/PBKDF2-hmacWithSHA256/aes-256-cbc"}


def test_legacy_profile_is_3des_and_sha1(pki: Pki) -> None:
    data = dump_pkcs12(pki.store(), "1234", compat=Pkcs12Compat.LEGACY, iterations=3)
    info = inspect_pkcs12(data, "1234")
    assert info.mac is not None
    assert (info.mac.algorithm, info.mac.iterations, info.mac.verified) == ("SHA1", 3, True)
    assert {b.encryption for b in info.bags} == {"pbeWithSHAAnd3-KeyTripleDES-CBC"}


def test_inspect_without_password_describes_the_plain_parts(pki: Pki) -> None:
    info = inspect_pkcs12(dump_pkcs12(pki.two_key_store(), "1234", iterations=2))
    kinds = [b.kind for b in info.bags]
    assert kinds == ["encrypted-safe", "shrouded-key", "shrouded-key"]
    assert info.bags[1].friendly_name == "alice"
    assert info.bags[1].key_type is None
    assert info.mac is not None
    assert not info.mac.verified


def test_inspect_with_password_reads_subjects_and_key_types(pki: Pki) -> None:
    info = inspect_pkcs12(dump_pkcs12(pki.two_key_store(), "1234", iterations=2), "1234")
    subjects = [b.subject for b in info.bags if b.kind == "certificate"]
    assert subjects[0] is not None
    assert "Alice Test" in subjects[0]
    assert [b.key_type for b in info.bags if b.kind == "shrouded-key"] == [
        "RSA 2048",
        "EC secp256r1",
    ]
    assert all(b.iterations == 2 for b in info.bags)


def test_pin_policy_defaults() -> None:
    policy = PinPolicy()
    policy.check("1234")
    with pytest.raises(PinPolicyError, match="empty"):
        policy.check("")
    with pytest.raises(PinPolicyError, match="at least 4"):
        policy.check("123")
    PinPolicy(allow_empty=True).check("")
    PinPolicy().check("contraseña")
    with pytest.raises(PinPolicyError, match="non-ASCII"):
        PinPolicy(ascii_only=True).check("contraseña")
    assert isinstance(PinPolicyError("x"), ValueError)


def test_dump_enforces_the_pin_policy(pki: Pki) -> None:
    with pytest.raises(PinPolicyError):
        dump_pkcs12(pki.store(), "12", iterations=1)
    data = dump_pkcs12(pki.store(), "", pin_policy=None, iterations=1)
    assert load_pkcs12(data, "").key.certificate == pki.leaf
    assert load_pkcs12(data, None).key.certificate == pki.leaf


def test_dump_refuses_a_key_that_does_not_match_its_certificate(pki: Pki) -> None:
    store = KeyStore.single(pki.ec_key, pki.leaf)
    with pytest.raises(Pkcs12Error, match="does not match"):
        dump_pkcs12(store, "1234", iterations=1)


def test_write_is_atomic_and_private(pki: Pki, tmp_path: Path) -> None:
    path = write_pkcs12(tmp_path / "out.p12", pki.store(), "1234", iterations=1)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_pkcs12(path.read_bytes(), "1234").key.certificate == pki.leaf
    assert [p.name for p in tmp_path.iterdir()] == ["out.p12"]


def test_key_property_raises_without_keys(pki: Pki) -> None:
    with pytest.raises(Pkcs12Error, match="no private key"):
        _ = KeyStore(certificates=(pki.root,)).key


def test_key_entry_repr_shows_no_key_material(pki: Pki) -> None:
    entry = KeyEntry(pki.leaf_key, pki.leaf, "alice", b"\xab\xcd")
    text = repr(entry)
    assert "RSA 2048" in text
    assert "Alice Test" in text
    numbers = pki.leaf_key.private_numbers()
    for secret in (numbers.d, numbers.p, numbers.q):
        assert str(secret) not in text
        assert format(secret, "x") not in text
    assert repr(KeyStore(keys=(entry,))).count("RSA 2048") == 1


def test_friendly_names_must_be_parallel(pki: Pki) -> None:
    with pytest.raises(ValueError, match="parallel"):
        KeyStore(certificates=(pki.root,), friendly_names=("a", "b"))


def test_misuse_is_a_type_error_not_a_qcert_error(pki: Pki) -> None:
    with pytest.raises(TypeError):
        load_pkcs12("not bytes", "1234")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dump_pkcs12(pki.store(), b"1234", iterations=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="iterations"):
        dump_pkcs12(pki.store(), "1234", iterations=0)


def test_ber_indefinite_lengths_are_read(pki: Pki) -> None:
    # Re-encode our DER file with indefinite lengths and chunked OCTET STRINGs, as
    # Windows and FNMT do; the MAC covers the content octets, so it still verifies.
    data = dump_pkcs12(pki.store(), "1234", iterations=1)
    ber = to_ber(asn1.parse_single(data))
    assert ber != data
    assert b"\x30\x80" in ber
    assert load_pkcs12(ber, "1234").key.certificate == pki.leaf
    assert asn1.to_der(asn1.parse_single(ber)) == data


def test_all_errors_are_qcert_errors() -> None:
    from qcertlib.errors import Pkcs12CorruptError

    with pytest.raises(Pkcs12CorruptError):
        load_pkcs12(b"", "1234")
    assert issubclass(Pkcs12CorruptError, QcertError)


def test_distinctive_pin_never_in_repr_of_a_store(pki: Pki) -> None:
    data = dump_pkcs12(pki.store(), DISTINCTIVE_PIN, iterations=1)
    store = load_pkcs12(data, DISTINCTIVE_PIN)
    assert DISTINCTIVE_PIN not in repr(store)
    assert DISTINCTIVE_PIN not in repr(inspect_pkcs12(data, DISTINCTIVE_PIN))


def test_pin_from_old_openssl_broken_conversion_is_accepted(pki: Pki) -> None:
    # OpenSSL < 1.1 turned the UTF-8 bytes of a PIN into a BMPString byte by byte;
    # OpenSSL 3 still opens such files, and so do we.
    broken = "contraseña".encode().decode("latin-1")
    data = dump_pkcs12(pki.store(), broken, compat=Pkcs12Compat.LEGACY, iterations=2)
    assert load_pkcs12(data, "contraseña").key.certificate == pki.leaf


def test_bytes_password_that_is_not_utf8_is_read_as_latin1(pki: Pki) -> None:
    data = dump_pkcs12(pki.store(), "ñandú", compat=Pkcs12Compat.LEGACY, iterations=2)
    assert load_pkcs12(data, "ñandú".encode("latin-1")).key.certificate == pki.leaf


def test_key_without_certificate_round_trip(pki: Pki) -> None:
    store = KeyStore(keys=(KeyEntry(pki.ec_key, None, "lonely", None),))
    loaded = load_pkcs12(dump_pkcs12(store, "1234", iterations=1), "1234")
    assert loaded.key.certificate is None
    assert loaded.key.friendly_name == "lonely"
    assert loaded.chain_for(loaded.key) == ()


def test_our_output_is_der(pki: Pki) -> None:
    # re-encoding as DER changes nothing (cryptography's strict DER parser also reads
    # our files without its BER-fallback warning, which tests turn into errors)
    for compat in Pkcs12Compat:
        data = dump_pkcs12(pki.two_key_store(), "1234", compat=compat, iterations=1)
        assert asn1.to_der(asn1.parse_single(data)) == data


def test_nested_safe_contents_and_other_bags_are_read(pki: Pki) -> None:
    from qcertlib import _pkcs12_codec as codec

    cert_der = pki.leaf.public_bytes(serialization.Encoding.DER)
    cert_bag = asn1.sequence(
        asn1.oid(codec.OID_CERT_BAG),
        asn1.explicit(
            0,
            asn1.sequence(
                asn1.oid(codec.OID_X509_CERTIFICATE), asn1.explicit(0, asn1.octet_string(cert_der))
            ),
        ),
    )
    key_bag = asn1.sequence(
        asn1.oid(codec.OID_KEY_BAG), asn1.explicit(0, _priv(KeyEntry(pki.leaf_key, None)))
    )
    secret_bag = asn1.sequence(
        asn1.oid(codec.OID_SECRET_BAG),
        asn1.explicit(
            0, asn1.sequence(asn1.oid("1.2.3.4"), asn1.explicit(0, asn1.octet_string(b"s")))
        ),
    )
    nested = asn1.sequence(
        asn1.oid(codec.OID_SAFE_CONTENTS_BAG), asn1.explicit(0, asn1.sequence(cert_bag, secret_bag))
    )
    contents = asn1.sequence(key_bag, nested)
    auth_safe = asn1.sequence(
        asn1.sequence(asn1.oid(codec.OID_DATA), asn1.explicit(0, asn1.octet_string(contents)))
    )
    pfx = asn1.sequence(
        asn1.integer(3),
        asn1.sequence(asn1.oid(codec.OID_DATA), asn1.explicit(0, asn1.octet_string(auth_safe))),
    )
    store = load_pkcs12(pfx, None)
    assert store.key.certificate == pki.leaf
    info = inspect_pkcs12(pfx)
    assert info.mac is None
    assert [b.kind for b in info.bags] == ["key", "certificate", "secret"]
    assert info.bags[0].key_type == "RSA 2048"


@pytest.mark.parametrize("prf", ["sha1", "sha512"])
def test_pbes2_with_other_prfs(pki: Pki, prf: str) -> None:
    # hmacWithSHA1 is the PBKDF2 default: its AlgorithmIdentifier is then omitted
    import dataclasses

    from qcertlib import _pkcs12_codec as codec
    from qcertlib import _pkcs12_crypto as pcrypto

    params = dataclasses.replace(pcrypto.new_pbes2_aes256(3), prf=prf)
    data = codec.build_pfx(
        keys=[codec.BagSpec(_priv(KeyEntry(pki.leaf_key, None)), "k", b"1")],
        certificates=[codec.BagSpec(pki.leaf.public_bytes(serialization.Encoding.DER), "k", b"1")],
        password="1234",
        key_pbe=params,
        cert_pbe=params,
        mac_digest="sha512",
        mac_iterations=3,
    )
    assert load_pkcs12(data, "1234").key.certificate == pki.leaf
    info = inspect_pkcs12(data)
    assert info.bags[-1].encryption == f"PBES2/PBKDF2-hmacWith{prf.upper()}/aes-256-cbc"
