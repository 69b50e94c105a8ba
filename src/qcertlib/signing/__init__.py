"""Document signing: CAdES (``.p7s``), PAdES (PDF), XAdES (XML) and RFC 3161 timestamps.

Every format is built in three stages so that a batch can sign many digests in one
session: ``prepare_<fmt>`` (no key), the backend's
:meth:`~qcertlib.signing.backends.SignerBackend.sign_digests`, ``finish_<fmt>``.
``sign_<fmt>`` chains the three for a single document.

This package imports no optional dependency; the format modules that need one
(PAdES: pyHanko, XAdES: lxml/signxml) import it when they are used.
"""

from __future__ import annotations

from qcertlib.signing.options import (
    DigestAlgorithm,
    SignatureLevel,
    SignatureOptions,
    SignaturePolicy,
)

__all__ = [
    "DigestAlgorithm",
    "SignatureLevel",
    "SignatureOptions",
    "SignaturePolicy",
]
