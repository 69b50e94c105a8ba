"""Private helpers to read certificates from PEM or DER without leaking raw errors."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from cryptography import x509

from qcertlib.errors import DecodingError

__all__ = ["load_certificate", "load_certificates", "per_certificate", "public_key"]

_PEM_CERT = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Load one or more certificates from PEM (a chain is fine) or a single DER blob.

    Raises :class:`~qcertlib.errors.DecodingError` with a readable message when the
    input holds no certificate or a malformed one.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("certificate data must be bytes")
    raw = bytes(data)
    if not raw.strip():
        raise DecodingError("the input is empty: expected a PEM or DER certificate")
    if b"-----BEGIN" in raw:
        blocks = _PEM_CERT.findall(raw)
        if not blocks:
            raise DecodingError("the PEM input holds no 'CERTIFICATE' block")
        try:
            return x509.load_pem_x509_certificates(raw)
        except x509.InvalidVersion:
            raise DecodingError("a PEM certificate has an invalid X.509 version") from None
        except ValueError:
            raise DecodingError(
                "a PEM 'CERTIFICATE' block is malformed (bad base64 or not an X.509 certificate)"
            ) from None
    try:
        return [x509.load_der_x509_certificate(raw)]
    except x509.InvalidVersion:
        raise DecodingError("the DER certificate has an invalid X.509 version") from None
    except ValueError:
        raise DecodingError(
            "the input is not a DER certificate (malformed ASN.1); "
            "expected DER or PEM ('-----BEGIN CERTIFICATE-----')"
        ) from None


def load_certificate(data: bytes) -> x509.Certificate:
    """Load exactly the first certificate of *data* (PEM or DER)."""
    return load_certificates(data)[0]


_T = TypeVar("_T")


def per_certificate(compute: Callable[[x509.Certificate], _T]) -> Callable[[x509.Certificate], _T]:
    """Memoise ``compute(cert)`` per certificate object (at most 1,024 entries).

    Bulk revocation checks and batches ask the same certificate object for the same
    derived value thousands of times. The table is keyed by ``id(cert)`` and checked
    by identity, so a hit costs no hashing of the DER (a certificate's ``hash()``
    digests its whole encoding); holding the certificate keeps its id from being
    reused while the entry lives. Use it for values of an immutable certificate only.
    """
    table: dict[int, tuple[x509.Certificate, _T]] = {}

    @functools.wraps(compute)
    def lookup(cert: x509.Certificate) -> _T:
        entry = table.get(id(cert))
        if entry is not None and entry[0] is cert:
            return entry[1]
        value = compute(cert)
        if len(table) >= 1024:
            table.clear()
        table[id(cert)] = (cert, value)
        return value

    return lookup


@per_certificate
def public_key(cert: x509.Certificate) -> object:
    """``cert.public_key()``, memoised (it re-parses the key on every call)."""
    key: object = cert.public_key()
    return key
