"""The error tree, atomic writes and certificate loading."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib import errors
from qcertlib._certs import load_certificate, load_certificates
from qcertlib._io import write_atomic
from tests.conftest import real_cert_path


def test_every_public_error_descends_from_qcerterror() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.QcertError), name


def test_input_errors_are_also_value_errors() -> None:
    assert issubclass(errors.IdentifierError, ValueError)
    assert issubclass(errors.HolderDataError, ValueError)
    assert issubclass(errors.PinPolicyError, ValueError)


def test_pkcs12_errors_are_three_distinct_kinds() -> None:
    kinds = {errors.Pkcs12PasswordError, errors.Pkcs12CorruptError, errors.Pkcs12UnsupportedError}
    for kind in kinds:
        assert issubclass(kind, errors.Pkcs12Error)
        assert not any(issubclass(kind, other) for other in kinds - {kind})


def test_error_message_and_repr() -> None:
    exc = errors.GenerationCodeError("the code expired", reason="expired")
    assert str(exc) == "the code expired"
    assert repr(exc) == "GenerationCodeError('the code expired')"
    assert exc.reason == "expired"
    assert exc.tries_left is None


def test_write_atomic_creates_0600_file(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "key.pem", b"secret")
    assert target.read_bytes() == b"secret"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"]


def test_write_atomic_replaces_and_honours_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    write_atomic(target, b"new", mode=0o644)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_write_atomic_failure_leaves_no_temp_file(tmp_path: Path) -> None:
    missing_dir = tmp_path / "nope" / "x.bin"
    with pytest.raises(FileNotFoundError):
        write_atomic(missing_dir, b"data")
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_cleans_up_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
    assert not target.exists()
    assert os.listdir(tmp_path) == []


def test_load_pem_chain_and_der() -> None:
    pem = real_cert_path("accv-accvca-120.pem").read_bytes()
    certs = load_certificates(pem + real_cert_path("accv-accvraiz1.pem").read_bytes())
    assert [c.subject.rfc4514_string() for c in certs] == [
        "C=ES,O=ACCV,OU=PKIACCV,CN=ACCVCA-120",
        "C=ES,O=ACCV,OU=PKIACCV,CN=ACCVRAIZ1",
    ]
    assert load_certificate(certs[0].public_bytes(Encoding.DER)) == certs[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "no 'CERTIFICATE'"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "malformed"),
        (b"\x30\x03\x02\x01\x01", "not a DER certificate"),
        (os.urandom(64), "not a DER certificate"),
    ],
)
def test_bad_certificate_input_is_a_decoding_error(data: bytes, message: str) -> None:
    with pytest.raises(errors.DecodingError, match=message):
        load_certificates(data)


def test_certificate_input_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        load_certificates("text")  # type: ignore[arg-type]
