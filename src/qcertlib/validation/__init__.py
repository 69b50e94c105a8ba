"""Signature validation with reports in the ETSI EN 319 102-1 vocabulary.

:func:`validate_cms` (CAdES / ``.p7s``), :func:`validate_pdf` (PAdES) and
:func:`validate_xml` (XAdES) return a :class:`ValidationReport`. The format
validators are imported lazily, so ``import qcertlib.validation`` loads no optional
dependency.
"""

from __future__ import annotations

import importlib
from typing import Any

from qcertlib.validation.report import (
    Indication,
    RevocationStatus,
    SignatureReport,
    SubIndication,
    ValidationPolicy,
    ValidationReport,
)

__all__ = [
    "Indication",
    "RevocationStatus",
    "SignatureReport",
    "SubIndication",
    "ValidationPolicy",
    "ValidationReport",
    "validate_cms",
    "validate_pdf",
    "validate_xml",
]

# name -> module that defines it (imported on first access)
_LAZY = {
    "validate_cms": "qcertlib.validation.cms",
    "validate_pdf": "qcertlib.validation.pdf",
    "validate_xml": "qcertlib.validation.xml",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
