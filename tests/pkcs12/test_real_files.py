"""The two real FNMT-RCM test PKCS#12 files (legacy: RC2-40, 3DES, SHA-1 MAC, BER)."""

from __future__ import annotations

import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

from qcertlib.errors import Pkcs12PasswordError
from qcertlib.pkcs12 import Pkcs12Compat, dump_pkcs12, inspect_pkcs12, load_pkcs12
from tests.conftest import real_cert_path, real_p12_bytes

from .conftest import FNMT_DOUBLE, FNMT_DOUBLE_PIN, FNMT_SINGLE, FNMT_SINGLE_PIN


def _pem(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(real_cert_path(name).read_bytes())


def test_fnmt_single_key_file_loads_with_its_chain() -> None:
    data = real_p12_bytes(FNMT_SINGLE)
    # BER: indefinite lengths, and the encrypted content as a constructed [0] in pieces
    assert data.startswith(b"\x30\x80")
    assert b"\xa0\x80\x04" in data
    store = load_pkcs12(data, FNMT_SINGLE_PIN)
    assert len(store.keys) == 1
    entry = store.key
    assert entry.certificate == _pem("fnmt-test-eidas-certificado-pruebas-99999999R-2020.pem")
    assert entry.friendly_name == "EIDAS_CERTIFICADO_PRUEBAS___99999999R"
    assert entry.key_type == "RSA 2048"
    assert store.chain_for(entry) == (
        _pem("fnmt-ac-fnmt-usuarios.pem"),
        _pem("fnmt-ac-raiz-fnmt-rcm.pem"),
    )


def test_fnmt_two_key_file_gives_both_keys_with_their_certificates() -> None:
    store = load_pkcs12(real_p12_bytes(FNMT_DOUBLE), FNMT_DOUBLE_PIN)
    names = [entry.friendly_name for entry in store.keys]
    assert names == ["empleadopublico", "eidas"]
    employee, citizen = store.keys
    assert employee.certificate == _pem("fnmt-test-empleado-publico-00000000T.pem")
    assert citizen.certificate == _pem("fnmt-test-eidas-certificado-pruebas-99999999R-2020.pem")
    for entry in store.keys:
        assert entry.certificate is not None
        assert entry.private_key.public_key() == entry.certificate.public_key()
    assert store.chain_for(employee)[0] == _pem("fnmt-ac-sector-publico.pem")
    assert store.chain_for(citizen)[0] == _pem("fnmt-ac-fnmt-usuarios.pem")
    # the root appears twice in the file, once in the store
    assert len(store.certificates) == len(set(store.certificates)) == 3


def test_cryptography_keeps_only_the_first_key_of_the_two_key_file() -> None:
    # The reason this module has its own reader: cryptography drops the second key.
    data = real_p12_bytes(FNMT_DOUBLE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography warns that the file is BER
        bundle = crypto_pkcs12.load_pkcs12(data, FNMT_DOUBLE_PIN.encode())
    assert bundle.key is not None
    assert bundle.cert is not None
    assert bundle.cert.friendly_name == b"empleadopublico"
    assert len(load_pkcs12(data, FNMT_DOUBLE_PIN).keys) == 2


def test_fnmt_file_inspection_without_password() -> None:
    info = inspect_pkcs12(real_p12_bytes(FNMT_SINGLE))
    assert info.mac is not None
    assert (info.mac.algorithm, info.mac.iterations) == ("SHA1", 102400)
    kinds = {(b.kind, b.encryption, b.iterations) for b in info.bags}
    assert kinds == {
        ("shrouded-key", "pbeWithSHAAnd3-KeyTripleDES-CBC", 51200),
        ("encrypted-safe", "pbeWithSHAAnd40BitRC2-CBC", 51200),
    }


def test_fnmt_file_wrong_pin() -> None:
    with pytest.raises(Pkcs12PasswordError):
        load_pkcs12(real_p12_bytes(FNMT_DOUBLE), "654321")


def test_fnmt_file_re_protected_keeps_both_keys() -> None:
    store = load_pkcs12(real_p12_bytes(FNMT_DOUBLE), FNMT_DOUBLE_PIN)
    again = load_pkcs12(dump_pkcs12(store, "nuevo-PIN", iterations=10), "nuevo-PIN")
    assert [(e.friendly_name, e.certificate) for e in again.keys] == [
        (e.friendly_name, e.certificate) for e in store.keys
    ]
    legacy = dump_pkcs12(store, "nuevo-PIN", compat=Pkcs12Compat.LEGACY, iterations=10)
    assert len(load_pkcs12(legacy, "nuevo-PIN").keys) == 2
