"""Qualified certificate profiles, holder data, the linter and the inspector.

* :mod:`~qcertlib.profiles.model` — the profile model (frozen data);
* :mod:`~qcertlib.profiles.catalog` — the profiles (``citizen``, ``citizen-qscd``,
  ``citizen-fnmt``, ``eorgan-seal``, ``eorgan-seal-qscd``);
* :mod:`~qcertlib.profiles.holders` — :class:`Citizen`, :class:`PublicBody`,
  :class:`Custodian`, validated on construction;
* :mod:`~qcertlib.profiles.lint` — :func:`lint` → :class:`LintReport`;
* :mod:`~qcertlib.profiles.inspect` — :func:`inspect` → :class:`CertificateSummary`.

>>> from qcertlib.profiles import get_profile
>>> p = get_profile("eorgan-seal")
>>> p.qscd, p.validity_for().days
(False, 730)
"""

from __future__ import annotations

from qcertlib.profiles.catalog import ACCV_URLS, FNMT_URLS, PROFILES, get_profile
from qcertlib.profiles.holders import Citizen, Custodian, Holder, HolderKind, PublicBody
from qcertlib.profiles.inspect import CertificateKind, CertificateSummary, inspect
from qcertlib.profiles.lint import (
    FINDING_CODES,
    GENERIC_PROFILE,
    Finding,
    FindingCode,
    LintReport,
    Severity,
    detect_profile,
    lint,
)
from qcertlib.profiles.model import (
    AttributeRule,
    CertificateProfile,
    EkuRule,
    EtsiKeyUsageType,
    KeyRule,
    KeyUsageBit,
    KeyUsageRule,
    PdsEntry,
    PkiUrls,
    PolicyRule,
    QcRule,
    SanRule,
    ValidityRule,
)

__all__ = [
    "ACCV_URLS",
    "FINDING_CODES",
    "FNMT_URLS",
    "GENERIC_PROFILE",
    "PROFILES",
    "AttributeRule",
    "CertificateKind",
    "CertificateProfile",
    "CertificateSummary",
    "Citizen",
    "Custodian",
    "EkuRule",
    "EtsiKeyUsageType",
    "Finding",
    "FindingCode",
    "Holder",
    "HolderKind",
    "KeyRule",
    "KeyUsageBit",
    "KeyUsageRule",
    "LintReport",
    "PdsEntry",
    "PkiUrls",
    "PolicyRule",
    "PublicBody",
    "QcRule",
    "SanRule",
    "Severity",
    "ValidityRule",
    "detect_profile",
    "get_profile",
    "inspect",
    "lint",
]
