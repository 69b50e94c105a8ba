"""Revocation, both sides: OCSP/CRL verification, an OCSP responder core and a checking client.

The pure core (:mod:`~qcertlib.revocation.ocsp`, :mod:`~qcertlib.revocation.crl`,
:mod:`~qcertlib.revocation.responder`) does no I/O and takes the time as a parameter.
The client (:func:`check`, :func:`acheck`, :func:`check_many`) is the I/O edge: it
needs the ``http`` extra (httpx), imported only when a check is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qcertlib.revocation._model import (
    CertStatus,
    FailMode,
    NoncePolicy,
    RevocationPolicy,
    RevocationStatus,
    Source,
    Status,
)
from qcertlib.revocation.responder import OcspResponder, StatusSource
from qcertlib.revocation.sources import InMemoryStatusSource, OpenSslIndexSource

if TYPE_CHECKING:
    from qcertlib.revocation.client import (
        RevocationCache,
        RevocationChecker,
        acheck,
        check,
        check_many,
    )
    from qcertlib.revocation.crl import Crl, load_crl

__all__ = [
    "CertStatus",
    "Crl",
    "FailMode",
    "InMemoryStatusSource",
    "NoncePolicy",
    "OcspResponder",
    "OpenSslIndexSource",
    "RevocationCache",
    "RevocationChecker",
    "RevocationPolicy",
    "RevocationStatus",
    "Source",
    "Status",
    "StatusSource",
    "acheck",
    "check",
    "check_many",
    "load_crl",
]

_LAZY = {
    "RevocationCache": "qcertlib.revocation.client",
    "RevocationChecker": "qcertlib.revocation.client",
    "acheck": "qcertlib.revocation.client",
    "check": "qcertlib.revocation.client",
    "check_many": "qcertlib.revocation.client",
    "Crl": "qcertlib.revocation.crl",
    "load_crl": "qcertlib.revocation.crl",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
