from __future__ import annotations

import os
import sqlite3
import warnings
from pathlib import Path

import pytest

from qcertlib.errors import AlreadyRevokedError, RegistryError, UnknownCertificateError
from qcertlib.issuance import CertificateStatus, Registry, RevocationReason
from qcertlib.issuance.registry import SerialCollisionError, hash_code, parse_serial
from tests.issuance._helpers import T0, make_ca, raw_leaf


def test_registry_runs_in_wal_mode(tmp_path: Path) -> None:
    make_ca(tmp_path / "pki")
    conn = sqlite3.connect(tmp_path / "pki" / "registry.sqlite")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_opening_a_missing_registry_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no registry"):
        Registry.open(tmp_path / "nothing.sqlite")


def test_certificate_is_recorded_with_its_data(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    cert, _ = raw_leaf(ca)
    record = ca.registry.get(cert.serial_number)
    assert record.serial == cert.serial_number
    assert record.status is CertificateStatus.VALID
    assert record.holder == {"kind": "raw", "nif": "12345678Z"}
    assert record.not_after == cert.not_valid_after_utc
    assert record.certificate == cert
    assert ca.registry.get(record.serial_hex.upper()) == record  # hex lookup, any case


def test_duplicate_serial_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    cert, _ = raw_leaf(ca)
    with pytest.raises(SerialCollisionError):
        ca.registry.add_certificate(cert, profile="other", holder={}, issued_at=T0)
    assert ca.registry.get(cert.serial_number).profile == "raw"
    assert len(ca.registry.certificates()) == 1


def test_unknown_serial(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    with pytest.raises(UnknownCertificateError, match="not in the registry"):
        ca.registry.get(0x1234)
    with pytest.raises(UnknownCertificateError, match="not a serial number"):
        parse_serial("xyz")


def test_revocation_is_recorded_once(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    cert, _ = raw_leaf(ca)
    ca.registry.mark_revoked(cert.serial_number, RevocationReason.KEY_COMPROMISE, T0)
    with pytest.raises(AlreadyRevokedError, match="irreversible"):
        ca.registry.mark_revoked(cert.serial_number, RevocationReason.UNSPECIFIED, T0)
    record = ca.registry.get(cert.serial_number)
    assert record.reason is RevocationReason.KEY_COMPROMISE
    assert record.revoked_at == T0


def test_crl_numbers_are_strictly_increasing(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    numbers = [ca.registry.next_crl_number(T0, T0) for _ in range(5)]
    assert numbers == sorted(set(numbers))
    assert numbers[0] == 1


def test_code_hash_depends_on_salt_and_code() -> None:
    assert hash_code("AbCdE12345", b"s" * 16) != hash_code("AbCdE12345", b"t" * 16)
    assert hash_code("AbCdE12345", b"s" * 16) != hash_code("abCdE12345", b"s" * 16)
    assert len(hash_code("AbCdE12345", b"s" * 16)) == 32


def test_codes_are_not_stored_in_the_clear(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    ca.registry.add_code(
        "Zq8Wm3Lp0X",
        holder_id="12345678Z",
        serial=None,
        request={"x": 1},
        created_at=T0,
        expires_at=T0,
        max_tries=3,
    )
    raw = (tmp_path / "pki" / "registry.sqlite").read_bytes()
    wal = tmp_path / "pki" / "registry.sqlite-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    assert b"Zq8Wm3Lp0X" not in raw


def test_registry_is_usable_in_a_forked_child_and_after(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    raw_leaf(ca)  # the parent has an open connection now
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            raw_leaf(ca)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    raw_leaf(ca)
    assert len(ca.registry.certificates()) == 3
