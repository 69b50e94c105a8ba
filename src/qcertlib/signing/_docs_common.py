"""Helpers shared by the PAdES and XAdES modules (private).

State packing for :class:`~qcertlib.signing.backends.PreparedSignature`, the
timestamp source protocol, the signer's display name / NIF, and running pyHanko's
coroutines from synchronous code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import struct
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from qcertlib.errors import SigningError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from qcertlib.signing.options import DigestAlgorithm, SignatureOptions

__all__ = [
    "TimestampSource",
    "default_timestamper",
    "holder_display",
    "pack_certs",
    "pack_state",
    "run_sync",
    "unpack_certs",
    "unpack_state",
]

T = TypeVar("T")

_MAGIC = b"QCS1"


class TimestampSource(Protocol):
    """Anything that returns an RFC 3161 ``TimeStampToken`` (DER) for a digest.

    :class:`qcertlib.signing.timestamps.Timestamper` is one.
    """

    def timestamp(self, data_digest: bytes, algorithm: DigestAlgorithm) -> bytes: ...


def default_timestamper(options: SignatureOptions) -> TimestampSource:
    """A :class:`~qcertlib.signing.timestamps.Timestamper` on ``options.tsa_url``."""
    if options.tsa_url is None:
        raise SigningError(f"level {options.level.value} needs a TSA: set SignatureOptions.tsa_url")
    from qcertlib.signing.timestamps import Timestamper

    ts: TimestampSource = Timestamper(options.tsa_url)
    return ts


def pack_certs(certs: Sequence[x509.Certificate]) -> bytes:
    """Length-prefixed DER certificates (for prepared-signature states)."""
    out = bytearray()
    for cert in certs:
        der = cert.public_bytes(serialization.Encoding.DER)
        out += len(der).to_bytes(4, "big") + der
    return bytes(out)


def unpack_certs(blob: bytes) -> list[x509.Certificate]:
    """The inverse of :func:`pack_certs`."""
    certs = []
    pos = 0
    while pos < len(blob):
        n = int.from_bytes(blob[pos : pos + 4], "big")
        certs.append(x509.load_der_x509_certificate(blob[pos + 4 : pos + 4 + n]))
        pos += 4 + n
    return certs


def pack_state(fields: Mapping[str, bytes]) -> bytes:
    """Encode named byte strings into one opaque, picklable ``bytes`` value."""
    out = bytearray(_MAGIC)
    for key, value in fields.items():
        name = key.encode("ascii")
        out += struct.pack(">H", len(name)) + name + struct.pack(">Q", len(value)) + value
    return bytes(out)


def unpack_state(data: bytes) -> dict[str, bytes]:
    """Decode :func:`pack_state` output (:class:`ValueError` if it is not ours)."""
    if not data.startswith(_MAGIC):
        raise ValueError("not a qcertlib prepared-signature state")
    pos = len(_MAGIC)
    fields: dict[str, bytes] = {}
    try:
        while pos < len(data):
            (klen,) = struct.unpack_from(">H", data, pos)
            pos += 2
            key = data[pos : pos + klen].decode("ascii")
            pos += klen
            (vlen,) = struct.unpack_from(">Q", data, pos)
            pos += 8
            if pos + vlen > len(data):
                raise ValueError("truncated prepared-signature state")
            fields[key] = data[pos : pos + vlen]
            pos += vlen
    except struct.error as exc:
        raise ValueError("truncated prepared-signature state") from exc
    return fields


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def holder_display(cert: x509.Certificate) -> tuple[str, str | None]:
    """The holder's display name and NIF/CIF for a visible signature.

    Uses :func:`qcertlib.profiles.inspect` when it is available, else the subject
    (``CN`` / given name + surname, ``serialNumber`` or ``organizationIdentifier``
    with the ``IDCES-``/``VATES-`` prefix removed).
    """
    try:
        from qcertlib.profiles import inspect as _inspect

        summary: Any = _inspect(cert)
    except Exception:  # the profiles layer may not understand every test certificate
        summary = None
    name: str | None = None
    nif: str | None = None
    if summary is not None:
        entity = getattr(summary, "entity_name", None)
        given = getattr(summary, "given_name", None)
        surnames = getattr(summary, "surnames", None)
        if isinstance(surnames, list | tuple):
            surnames = " ".join(str(s) for s in surnames)
        person = " ".join(p for p in (given, surnames) if isinstance(p, str) and p)
        name = person or (entity if isinstance(entity, str) and entity else None)
        for attr in ("nif", "entity_nif"):
            value = getattr(summary, attr, None)
            if isinstance(value, str) and value:
                nif = value
                break
    subject = cert.subject
    if name is None:
        cn = _attr(subject, NameOID.COMMON_NAME)
        given = _attr(subject, NameOID.GIVEN_NAME)
        surname = _attr(subject, NameOID.SURNAME)
        name = cn or " ".join(p for p in (given, surname) if p) or subject.rfc4514_string()
    if nif is None:
        raw = _attr(subject, NameOID.SERIAL_NUMBER) or _attr(
            subject, x509.ObjectIdentifier("2.5.4.97")
        )
        if raw:
            for prefix in ("IDCES-", "VATES-", "PNOES-", "NTRES-"):
                if raw.upper().startswith(prefix):
                    raw = raw[len(prefix) :]
                    break
            nif = raw
    return name, nif


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code.

    Uses :func:`asyncio.run` when no loop is running in this thread, else a
    short-lived worker thread (so the functions also work when called from async code).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
