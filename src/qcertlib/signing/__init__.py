"""Document signing: CAdES (``.p7s``), PAdES (PDF), XAdES (XML) and RFC 3161 timestamps.

Every format is built in three stages so that a batch can sign many digests in one
session: ``prepare_<fmt>`` (no key), the backend's
:meth:`~qcertlib.signing.backends.SignerBackend.sign_digests`, ``finish_<fmt>``.
``sign_<fmt>`` chains the three for a single document.

This package imports no optional dependency; the names below that live in format
modules are imported on first use (PAdES needs pyHanko, XAdES lxml/signxml).
"""

from __future__ import annotations

import importlib
from typing import Any

from qcertlib.signing.options import (
    DigestAlgorithm,
    SignatureLevel,
    SignatureOptions,
    SignaturePolicy,
)

__all__ = [
    "DigestAlgorithm",
    "Pkcs12Backend",
    "PreparedSignature",
    "RevocationData",
    "SignatureLevel",
    "SignatureMechanism",
    "SignatureOptions",
    "SignaturePolicy",
    "SignerBackend",
    "SoftwareKeyBackend",
    "Timestamper",
    "TsaResponder",
    "finish_cades",
    "prepare_cades",
    "sign_cades",
]

# name -> module that defines it (imported on first access)
_LAZY = {
    "Pkcs12Backend": "qcertlib.signing.backends",
    "PreparedSignature": "qcertlib.signing.backends",
    "SignatureMechanism": "qcertlib.signing.backends",
    "SignerBackend": "qcertlib.signing.backends",
    "SoftwareKeyBackend": "qcertlib.signing.backends",
    "RevocationData": "qcertlib.signing._revinfo",
    "Timestamper": "qcertlib.signing.timestamps",
    "TsaResponder": "qcertlib.signing.timestamps",
    "finish_cades": "qcertlib.signing.cades",
    "prepare_cades": "qcertlib.signing.cades",
    "sign_cades": "qcertlib.signing.cades",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
