"""Ready-made :class:`~qcertlib.revocation.StatusSource` implementations.

* :class:`InMemoryStatusSource`: a table in memory (tests, embedding).
* :class:`OpenSslIndexSource`: an ``openssl ca`` database (``index.txt``), re-read
  whenever the file changes, so a CA run with ``openssl ca -revoke`` and served
  by ``qcert serve`` shows a revocation in the very next OCSP response.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from qcertlib.errors import DecodingError
from qcertlib.revocation._model import CertStatus

__all__ = [
    "InMemoryStatusSource",
    "OpenSslIndexSource",
    "RegistryStatusSource",
    "parse_openssl_index",
]


class InMemoryStatusSource:
    """Statuses kept in memory; unknown serials answer ``unknown``."""

    def __init__(self, issued: Iterable[int] = ()) -> None:
        self._table: dict[int, CertStatus] = dict.fromkeys(issued, CertStatus.good())
        self._generation = 0
        self._lock = threading.Lock()

    def add(self, serial_number: int) -> None:
        """Record an issued (good) certificate."""
        with self._lock:
            self._table.setdefault(serial_number, CertStatus.good())
            self._generation += 1

    def revoke(
        self, serial_number: int, time: datetime, reason: x509.ReasonFlags | None = None
    ) -> None:
        """Mark a certificate revoked (visible in the next response)."""
        with self._lock:
            self._table[serial_number] = CertStatus.revoked(time, reason)
            self._generation += 1

    def lookup(self, serial_number: int) -> CertStatus:
        """The recorded status, ``unknown`` for serials never added."""
        return self._table.get(serial_number, CertStatus.unknown())

    def generation(self) -> Hashable:
        """A counter bumped on every change."""
        return self._generation

    def revoked(self) -> list[tuple[int, CertStatus]]:
        """Every revoked certificate (for building CRLs)."""
        return [(s, st) for s, st in self._table.items() if st.revocation_time is not None]


_OPENSSL_REASONS = {flag.value.lower(): flag for flag in x509.ReasonFlags}


def _openssl_time(text: str) -> datetime:
    for fmt in ("%y%m%d%H%M%SZ", "%Y%m%d%H%M%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise DecodingError(f"bad time {text!r} in the openssl index")


def parse_openssl_index(text: str) -> dict[int, CertStatus]:
    """Parse an ``openssl ca`` ``index.txt`` into ``{serial: status}``.

    Lines are ``V|R|E <tab> notAfter <tab> revocation[,reason] <tab> serial(hex) ...``;
    expired (``E``) entries are answered ``good`` (they were never revoked).
    """
    table: dict[int, CertStatus] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 4 or fields[0] not in {"V", "R", "E"}:
            raise DecodingError(f"line {number} of the openssl index is malformed")
        try:
            serial = int(fields[3], 16)
        except ValueError:
            raise DecodingError(f"line {number} of the openssl index has a bad serial") from None
        if fields[0] == "R":
            when, _, reason_text = fields[2].partition(",")
            reason = _OPENSSL_REASONS.get(reason_text.lower()) if reason_text else None
            table[serial] = CertStatus.revoked(_openssl_time(when), reason)
        else:
            table[serial] = CertStatus.good()
    return table


class OpenSslIndexSource:
    """Statuses from an ``openssl ca`` ``index.txt``, re-read when the file changes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int, int] | None = None
        self._table: dict[int, CertStatus] = {}
        self._lock = threading.Lock()
        self.generation()

    def generation(self) -> Hashable:
        """The file's (mtime, size, inode); reloads the table when it changes."""
        st = os.stat(self.path)
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            with self._lock:
                self._table = parse_openssl_index(self.path.read_text(encoding="utf-8"))
                self._stamp = stamp
        return stamp

    def lookup(self, serial_number: int) -> CertStatus:
        """The status in the index; ``unknown`` for serials not in it."""
        return self._table.get(serial_number, CertStatus.unknown())

    def revoked(self) -> list[tuple[int, CertStatus]]:
        """Every revoked certificate (for building CRLs)."""
        self.generation()
        return [(s, st) for s, st in self._table.items() if st.revocation_time is not None]


class RegistryStatusSource:
    """Statuses from a CA registry (:class:`qcertlib.issuance.registry.Registry`).

    The generation is the (mtime, size) of the SQLite database and its WAL file, so
    a revocation committed by any process is seen by the responder's next request.
    """

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        path = Path(registry.path)
        self._paths = (path, path.with_name(path.name + "-wal"))

    def generation(self) -> Hashable:
        """Changes whenever the database (or its write-ahead log) is written."""
        stamp: list[int] = []
        for path in self._paths:
            try:
                st = os.stat(path)
            except FileNotFoundError:
                stamp.extend((0, 0))
            else:
                stamp.extend((st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def lookup(self, serial_number: int) -> CertStatus:
        """The registry's status; ``unknown`` for serials it never issued."""
        from qcertlib.errors import UnknownCertificateError

        try:
            record = self.registry.get(serial_number)
        except UnknownCertificateError:
            return CertStatus.unknown()
        if record.revoked_at is not None:
            reason = record.reason.flag if record.reason is not None else None
            return CertStatus.revoked(record.revoked_at, reason)
        return CertStatus.good()
