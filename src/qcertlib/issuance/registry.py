"""The CA's registry: a SQLite database in the PKI directory.

It records every issued certificate (serial, profile, holder data, validity, status,
revocation time and reason, the serial that superseded it), the CRL numbers used so
far, and the generation codes handed to holders.

Concurrency: the database runs in WAL mode with a busy timeout; every write is one
``BEGIN IMMEDIATE`` transaction, so two processes issuing at the same time serialise
their inserts, get distinct serials (the serial is the primary key: a collision is
detected, never overwritten) and lose no rows. Each call opens its own short-lived
connection, so a :class:`Registry` object can be shared freely and survives ``fork``.

Generation codes are never stored in the clear: see :func:`hash_code`.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from qcertlib.errors import (
    AlreadyRevokedError,
    RegistryError,
    UnknownCertificateError,
)

__all__ = [
    "CertificateRecord",
    "CertificateStatus",
    "CodeRecord",
    "CodeStatus",
    "Registry",
    "RevocationReason",
    "SerialCollisionError",
    "format_serial",
    "hash_code",
    "parse_serial",
]

_SCHEMA_VERSION = 1
# Connections inherited through fork(): kept alive, never used or closed in the child.
_INHERITED: list[sqlite3.Connection] = []
_BUSY_TIMEOUT_S = 30.0

# scrypt cost for generation codes: n=2**14, r=8, p=1 (16 MiB, tens of ms per hash).
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS certificates (
    serial        TEXT PRIMARY KEY,
    profile       TEXT NOT NULL,
    holder        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    not_before    TEXT NOT NULL,
    not_after     TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
    revoked_at    TEXT,
    reason        TEXT,
    superseded_by TEXT,
    der           BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_status ON certificates (status);
CREATE TABLE IF NOT EXISTS crls (
    number      INTEGER PRIMARY KEY,
    this_update TEXT NOT NULL,
    next_update TEXT NOT NULL,
    der         BLOB
);
CREATE TABLE IF NOT EXISTS root_crls (
    number      INTEGER PRIMARY KEY,
    this_update TEXT NOT NULL,
    next_update TEXT NOT NULL,
    der         BLOB
);
CREATE TABLE IF NOT EXISTS generation_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    holder_id   TEXT NOT NULL,
    serial      TEXT,
    request     TEXT,
    salt        BLOB NOT NULL,
    digest      BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    tries_left  INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'used', 'exhausted', 'replaced')),
    used_at     TEXT,
    key_blob    BLOB
);
CREATE INDEX IF NOT EXISTS generation_codes_holder ON generation_codes (holder_id);
"""


class RevocationReason(enum.Enum):
    """RFC 5280 revocation reasons qcertlib accepts.

    ``certificateHold`` and ``removeFromCRL`` are deliberately absent: revocation is
    irreversible, a revoked certificate never comes back. Values are the RFC 5280
    names (as :class:`cryptography.x509.ReasonFlags` spells them).
    """

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    CA_COMPROMISE = "cACompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"
    AA_COMPROMISE = "aACompromise"

    @property
    def flag(self) -> x509.ReasonFlags:
        """The matching :class:`cryptography.x509.ReasonFlags`."""
        return x509.ReasonFlags(self.value)

    @classmethod
    def parse(cls, text: str) -> RevocationReason:
        """Parse an RFC 5280 name (``keyCompromise``), its enum name (``KEY_COMPROMISE``)
        or a kebab-case form (``key-compromise``); ``ValueError`` otherwise."""
        wanted = text.strip().replace("-", "").replace("_", "").lower()
        for reason in cls:
            if wanted in (reason.value.lower(), reason.name.replace("_", "").lower()):
                return reason
        if wanted in ("certificatehold", "removefromcrl"):
            raise ValueError(
                f"{text!r} is not allowed: revocation is irreversible (no certificateHold)"
            )
        choices = ", ".join(reason.value for reason in cls)
        raise ValueError(f"unknown revocation reason {text!r}; choose one of {choices}")


class CertificateStatus(enum.Enum):
    """Status of an issued certificate in the registry."""

    VALID = "valid"
    REVOKED = "revoked"


class CodeStatus(enum.Enum):
    """Status of a generation code."""

    ACTIVE = "active"
    USED = "used"
    EXHAUSTED = "exhausted"
    REPLACED = "replaced"


class SerialCollisionError(RegistryError):
    """A serial number is already in the registry (the CA retries with a new one)."""


def format_serial(serial: int) -> str:
    """The registry's spelling of a serial number: lower-case hex, no ``0x``."""
    if serial <= 0:
        raise ValueError("serial numbers are positive")
    return format(serial, "x")


def parse_serial(text: str | int) -> int:
    """Parse a serial given as hex (``0x`` prefix and ``:`` separators allowed) or int."""
    if isinstance(text, int):
        return text
    cleaned = text.strip().lower().replace(":", "")
    cleaned = cleaned.removeprefix("0x")
    try:
        value = int(cleaned, 16)
    except ValueError:
        raise UnknownCertificateError(f"{text!r} is not a serial number (hex expected)") from None
    if value <= 0:
        raise UnknownCertificateError(f"{text!r} is not a valid serial number")
    return value


def _ts(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def hash_code(code: str, salt: bytes) -> bytes:
    """Hash a generation code with scrypt and a per-code random salt.

    Why scrypt rather than a plain SHA-256: a 10-character alphanumeric code carries
    only about 60 bits; online guessing is stopped by the 3-tries rule, but a copy of
    the database must not let anyone recover live codes by brute force offline. A
    memory-hard KDF with a per-code salt makes every guess cost ~16 MiB and tens of
    milliseconds, per code, with no precomputation possible. Comparison is done with
    :func:`hmac.compare_digest` (constant time).
    """
    return hashlib.scrypt(
        code.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=32,
    )


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """One issued certificate as the registry knows it."""

    serial: int
    profile: str
    holder: dict[str, Any]
    subject: str
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    status: CertificateStatus
    revoked_at: datetime | None
    reason: RevocationReason | None
    superseded_by: int | None
    der: bytes

    @property
    def serial_hex(self) -> str:
        """The serial as lower-case hex."""
        return format_serial(self.serial)

    @property
    def certificate(self) -> x509.Certificate:
        """The certificate itself."""
        return x509.load_der_x509_certificate(self.der)

    @property
    def revoked(self) -> bool:
        """True once revoked (forever)."""
        return self.status is CertificateStatus.REVOKED


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """A stored generation code (its hash, never the code)."""

    id: int
    holder_id: str
    serial: int | None
    request: dict[str, Any] | None
    created_at: datetime
    expires_at: datetime
    tries_left: int
    status: CodeStatus
    used_at: datetime | None

    def __repr__(self) -> str:
        return (
            f"CodeRecord(id={self.id}, holder_id={self.holder_id!r}, status={self.status.value}, "
            f"tries_left={self.tries_left}, expires_at={self.expires_at.isoformat()})"
        )


# CRL-number sequences: the issuing CA's CRLs and the root's CRLs (ARLs).
_CRL_TABLES: dict[bool, str] = {False: "crls", True: "root_crls"}


class Registry:
    """The SQLite registry of one PKI directory (``registry.sqlite``)."""

    FILENAME = "registry.sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"Registry({str(self.path)!r})"

    # -- plumbing ---------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Registry:
        """Create (or upgrade) the database at *path* and return it."""
        registry = cls(path)
        try:
            conn = sqlite3.connect(registry.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot create the registry {registry.path}: {exc}") from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
                (str(_SCHEMA_VERSION),),
            )
        except sqlite3.Error as exc:
            raise RegistryError(f"cannot create the registry {registry.path}: {exc}") from None
        finally:
            conn.close()
        with contextlib.suppress(OSError):
            os.chmod(registry.path, 0o600)
        return registry

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Registry:
        """Open an existing registry; :class:`~qcertlib.errors.RegistryError` if absent."""
        registry = cls(path)
        if not registry.path.is_file():
            raise RegistryError(f"no registry at {registry.path}")
        with registry._connect() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or int(row[0]) != _SCHEMA_VERSION:
            raise RegistryError(f"{registry.path} is not a qcertlib registry of this version")
        return registry

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (one per thread and process, opened on first use)."""
        local = self._local
        pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and getattr(local, "pid", None) != pid:
            # Inherited through fork(): never use or close it in the child (SQLite
            # forbids that); keep it referenced so garbage collection does not close it.
            local.finalizer.detach()
            _INHERITED.append(conn)
            conn = None
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path,
                    timeout=_BUSY_TIMEOUT_S,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
                conn.execute("PRAGMA synchronous=FULL")  # a recorded certificate stays recorded
            except sqlite3.Error as exc:
                raise RegistryError(f"cannot open the registry {self.path}: {exc}") from None
            local.conn = conn
            local.pid = pid
            local.finalizer = weakref.finalize(self, conn.close)
        return conn

    def close(self) -> None:
        """Close this thread's connection (it is reopened on next use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            self._local.finalizer.detach()
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise RegistryError(f"registry {self.path}: {exc}") from None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` write transaction (committed, or rolled back on error)."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- certificates -------------------------------------------------------------

    def add_certificate(
        self,
        certificate: x509.Certificate,
        *,
        profile: str,
        holder: dict[str, Any],
        issued_at: datetime,
    ) -> CertificateRecord:
        """Record a newly issued certificate.

        Raises :class:`SerialCollisionError` if its serial is already registered
        (nothing is changed then).
        """
        serial = format_serial(certificate.serial_number)
        row = (
            serial,
            profile,
            json.dumps(holder, sort_keys=True, ensure_ascii=False),
            certificate.subject.rfc4514_string(),
            _ts(certificate.not_valid_before_utc),
            _ts(certificate.not_valid_after_utc),
            _ts(issued_at),
            CertificateStatus.VALID.value,
            certificate.public_bytes(Encoding.DER),
        )
        try:
            with self._transaction() as conn:
                conn.execute(
                    "INSERT INTO certificates (serial, profile, holder, subject, not_before,"
                    " not_after, issued_at, status, der) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.IntegrityError:
            raise SerialCollisionError(f"serial {serial} is already registered") from None
        return _cert_record((*row[:8], None, None, None, row[8]))

    def has_serial(self, serial: int) -> bool:
        """True if *serial* is registered."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT 1 FROM certificates WHERE serial = ?", (format_serial(serial),)
            ).fetchone()
        return row is not None

    def get(self, serial: int | str) -> CertificateRecord:
        """The record of *serial*; :class:`~qcertlib.errors.UnknownCertificateError` if absent."""
        number = parse_serial(serial)
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {_CERT_COLUMNS} FROM certificates WHERE serial = ?",  # noqa: S608
                (format_serial(number),),
            ).fetchone()
        if row is None:
            raise UnknownCertificateError(f"serial {format_serial(number)} is not in the registry")
        return _cert_record(row)

    def certificates(self, status: CertificateStatus | None = None) -> list[CertificateRecord]:
        """All records (optionally only those with *status*), oldest first."""
        query = f"SELECT {_CERT_COLUMNS} FROM certificates"  # noqa: S608
        params: tuple[str, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status.value,)
        query += " ORDER BY issued_at, rowid"
        with self._connect() as conn:
            rows = conn.execute(query, params).fetchall()
        return [_cert_record(row) for row in rows]

    def mark_revoked(
        self,
        serial: int | str,
        reason: RevocationReason,
        revoked_at: datetime,
        *,
        superseded_by: int | None = None,
    ) -> CertificateRecord:
        """Mark *serial* revoked, once and for ever.

        Raises :class:`~qcertlib.errors.AlreadyRevokedError` if it is revoked already
        and :class:`~qcertlib.errors.UnknownCertificateError` if it is unknown.
        """
        number = parse_serial(serial)
        key = format_serial(number)
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT status, revoked_at FROM certificates WHERE serial = ?", (key,)
            ).fetchone()
            if row is None:
                raise UnknownCertificateError(f"serial {key} is not in the registry")
            if row[0] == CertificateStatus.REVOKED.value:
                raise AlreadyRevokedError(
                    f"certificate {key} was already revoked at {row[1]}: revocation is irreversible"
                )
            conn.execute(
                "UPDATE certificates SET status = ?, revoked_at = ?, reason = ?, superseded_by = ?"
                " WHERE serial = ? AND status = ?",
                (
                    CertificateStatus.REVOKED.value,
                    _ts(revoked_at),
                    reason.value,
                    None if superseded_by is None else format_serial(superseded_by),
                    key,
                    CertificateStatus.VALID.value,
                ),
            )
        return self.get(number)

    # -- CRL numbers ---------------------------------------------------------------

    def next_crl_number(
        self, this_update: datetime, next_update: datetime, *, root: bool = False
    ) -> int:
        """Reserve and return the next CRL number (strictly greater than any used before).

        The issuing CA's CRLs and the root's CRLs (``root=True``) are two sequences.
        """
        table = _CRL_TABLES[root]
        with self._transaction() as conn:
            row = conn.execute(f"SELECT COALESCE(MAX(number), 0) FROM {table}").fetchone()  # noqa: S608
            number = int(row[0]) + 1
            conn.execute(
                f"INSERT INTO {table} (number, this_update, next_update) VALUES (?, ?, ?)",  # noqa: S608
                (number, _ts(this_update), _ts(next_update)),
            )
        return number

    def store_crl(self, number: int, der: bytes, *, root: bool = False) -> None:
        """Keep the DER of CRL *number* (reserved with :meth:`next_crl_number`)."""
        table = _CRL_TABLES[root]
        with self._transaction() as conn:
            conn.execute(f"UPDATE {table} SET der = ? WHERE number = ?", (der, number))  # noqa: S608

    def latest_crl(self, *, root: bool = False) -> tuple[int, bytes] | None:
        """``(number, der)`` of the newest stored CRL (of the root with ``root=True``)."""
        table = _CRL_TABLES[root]
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT number, der FROM {table} WHERE der IS NOT NULL "  # noqa: S608
                "ORDER BY number DESC LIMIT 1"
            ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    # -- generation codes ---------------------------------------------------------------

    def add_code(
        self,
        code: str,
        *,
        holder_id: str,
        serial: int | None,
        request: dict[str, Any] | None,
        created_at: datetime,
        expires_at: datetime,
        max_tries: int,
        key_blob: bytes | None = None,
    ) -> int:
        """Store the scrypt hash of *code* (fresh random salt) and return its id.

        Any still-active code of the same holder is marked ``replaced``: a holder has
        at most one live code.
        """
        salt = secrets.token_bytes(16)
        digest = hash_code(code, salt)
        with self._transaction() as conn:
            conn.execute(
                "UPDATE generation_codes SET status = 'replaced'"
                " WHERE holder_id = ? AND status = 'active'",
                (holder_id,),
            )
            cursor = conn.execute(
                "INSERT INTO generation_codes (holder_id, serial, request, salt, digest,"
                " created_at, expires_at, tries_left, status, key_blob)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                (
                    holder_id,
                    None if serial is None else format_serial(serial),
                    None if request is None else json.dumps(request, sort_keys=True),
                    salt,
                    digest,
                    _ts(created_at),
                    _ts(expires_at),
                    max_tries,
                    key_blob,
                ),
            )
            code_id = cursor.lastrowid
        assert code_id is not None
        return int(code_id)

    @contextlib.contextmanager
    def code_transaction(self, holder_id: str) -> Iterator[_CodeSession]:
        """A write transaction over the codes of one holder (for redeeming)."""
        with self._transaction() as conn:
            yield _CodeSession(conn, holder_id)

    def reactivate_code(self, code_id: int) -> None:
        """Undo :meth:`_CodeSession.mark_used` when delivery failed (nothing was handed out)."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE generation_codes SET status = 'active', used_at = NULL"
                " WHERE id = ? AND status = 'used'",
                (code_id,),
            )

    def erase_code_key(self, code_id: int) -> None:
        """Forget the escrowed key of a redeemed code."""
        with self._transaction() as conn:
            conn.execute("UPDATE generation_codes SET key_blob = NULL WHERE id = ?", (code_id,))

    def codes(self, holder_id: str) -> list[CodeRecord]:
        """All code records of a holder, newest first."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_CODE_COLUMNS} FROM generation_codes"  # noqa: S608
                " WHERE holder_id = ? ORDER BY id DESC",
                (holder_id,),
            ).fetchall()
        return [_code_record(row) for row in rows]


class _CodeSession:
    """Operations on one holder's codes inside a single transaction."""

    def __init__(self, conn: sqlite3.Connection, holder_id: str) -> None:
        self._conn = conn
        self.holder_id = holder_id

    def match(self, code: str) -> tuple[CodeRecord | None, list[CodeRecord]]:
        """``(record matching code or None, all records newest first)``."""
        rows = self._conn.execute(
            f"SELECT {_CODE_COLUMNS}, salt, digest FROM generation_codes"  # noqa: S608
            " WHERE holder_id = ? ORDER BY id DESC",
            (self.holder_id,),
        ).fetchall()
        records = [_code_record(row[:-2]) for row in rows]
        found: CodeRecord | None = None
        for record, row in zip(records, rows, strict=True):
            # compare every row, constant time per row; keep the first match
            if hmac.compare_digest(hash_code(code, bytes(row[-2])), bytes(row[-1])) and (
                found is None
            ):
                found = record
        return found, records

    def key_blob(self, code_id: int) -> bytes | None:
        row = self._conn.execute(
            "SELECT key_blob FROM generation_codes WHERE id = ?", (code_id,)
        ).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def failed_try(self, record: CodeRecord) -> int:
        """Count one wrong try against *record*; return the tries left."""
        left = max(record.tries_left - 1, 0)
        status = CodeStatus.ACTIVE if left > 0 else CodeStatus.EXHAUSTED
        self._conn.execute(
            "UPDATE generation_codes SET tries_left = ?, status = ? WHERE id = ?",
            (left, status.value, record.id),
        )
        return left

    def mark_used(self, record: CodeRecord, at: datetime) -> None:
        """Mark *record* used (single use)."""
        self._conn.execute(
            "UPDATE generation_codes SET status = 'used', used_at = ? WHERE id = ?",
            (_ts(at), record.id),
        )


_CERT_COLUMNS = (
    "serial, profile, holder, subject, not_before, not_after, issued_at, status,"
    " revoked_at, reason, superseded_by, der"
)
_CODE_COLUMNS = (
    "id, holder_id, serial, request, created_at, expires_at, tries_left, status, used_at"
)


def _cert_record(row: tuple[Any, ...]) -> CertificateRecord:
    not_before = _dt(row[4])
    not_after = _dt(row[5])
    issued_at = _dt(row[6])
    assert not_before is not None
    assert not_after is not None
    assert issued_at is not None
    return CertificateRecord(
        serial=int(row[0], 16),
        profile=row[1],
        holder=json.loads(row[2]),
        subject=row[3],
        not_before=not_before,
        not_after=not_after,
        issued_at=issued_at,
        status=CertificateStatus(row[7]),
        revoked_at=_dt(row[8]),
        reason=None if row[9] is None else RevocationReason(row[9]),
        superseded_by=None if row[10] is None else int(row[10], 16),
        der=bytes(row[11]),
    )


def _code_record(row: tuple[Any, ...]) -> CodeRecord:
    created_at = _dt(row[4])
    expires_at = _dt(row[5])
    assert created_at is not None
    assert expires_at is not None
    return CodeRecord(
        id=int(row[0]),
        holder_id=row[1],
        serial=None if row[2] is None else int(row[2], 16),
        request=None if row[3] is None else json.loads(row[3]),
        created_at=created_at,
        expires_at=expires_at,
        tries_left=int(row[6]),
        status=CodeStatus(row[7]),
        used_at=_dt(row[8]),
    )
