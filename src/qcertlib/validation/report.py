"""Validation reports in the vocabulary of ETSI EN 319 102-1.

A validation never raises for an *invalid* signature: the verdict is a
:class:`ValidationReport` with one :class:`SignatureReport` per signature found.
Only input that cannot be read at all raises
:class:`~qcertlib.errors.ValidationInputError`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from qcertlib.signing.options import SignatureLevel

__all__ = [
    "Indication",
    "RevocationStatus",
    "SignatureReport",
    "SubIndication",
    "ValidationPolicy",
    "ValidationReport",
]


class Indication(enum.Enum):
    """Main status indication (EN 319 102-1, 5.1.2)."""

    TOTAL_PASSED = "TOTAL_PASSED"
    TOTAL_FAILED = "TOTAL_FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(enum.Enum):
    """Sub-indications (EN 319 102-1, table 5).

    The first group goes with ``TOTAL_FAILED``, the second with ``INDETERMINATE``.
    """

    # TOTAL_FAILED
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    # INDETERMINATE
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
    POLICY_PROCESSING_ERROR = "POLICY_PROCESSING_ERROR"
    SIGNATURE_POLICY_NOT_AVAILABLE = "SIGNATURE_POLICY_NOT_AVAILABLE"
    TIMESTAMP_ORDER_FAILURE = "TIMESTAMP_ORDER_FAILURE"
    NO_SIGNING_CERTIFICATE_FOUND = "NO_SIGNING_CERTIFICATE_FOUND"
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    OUT_OF_BOUNDS_NOT_REVOKED = "OUT_OF_BOUNDS_NOT_REVOKED"
    REVOCATION_OUT_OF_BOUNDS_NO_POE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
    NO_POE = "NO_POE"
    TRY_LATER = "TRY_LATER"
    SIGNED_DATA_NOT_FOUND = "SIGNED_DATA_NOT_FOUND"


class RevocationStatus(enum.Enum):
    """Revocation status of the signer certificate as established by the validator."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"
    NOT_CHECKED = "not-checked"


_SEVERITY = {Indication.TOTAL_PASSED: 0, Indication.INDETERMINATE: 1, Indication.TOTAL_FAILED: 2}


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """How to validate.

    ``trust_roots``: the trust anchors. ``at``: the validation time (``None`` = now,
    aware UTC). ``check_revocation``: establish the signer's revocation status from
    the revocation data embedded in the signature, or fetched when
    ``fetch_revocation`` is set (``revocation`` is then the
    :mod:`qcertlib.revocation` policy object, ``None`` = default).
    ``intermediates``: extra untrusted CA certificates for path building.
    ``lint``: run the profile linter on the signer certificate.
    """

    trust_roots: tuple[x509.Certificate, ...] = ()
    at: datetime | None = None
    check_revocation: bool = True
    fetch_revocation: bool = False
    intermediates: tuple[x509.Certificate, ...] = ()
    revocation: Any = None
    lint: bool = True

    def __post_init__(self) -> None:
        if self.at is not None and self.at.utcoffset() is None:
            raise ValueError("ValidationPolicy.at must be an aware datetime (UTC)")


@dataclass(frozen=True)
class SignatureReport:
    """The verdict for one signature.

    ``signer`` is a :class:`qcertlib.profiles.CertificateSummary` (``None`` when the
    signer certificate is not found); ``lint`` the signer certificate's profile
    :class:`~qcertlib.profiles.LintReport` (``None`` when not linted).
    ``signing_time`` is the claimed signing time (signed attribute),
    ``timestamp_time`` the genTime of a verified signature timestamp.
    """

    indication: Indication
    subindication: SubIndication | None = None
    level: SignatureLevel | None = None
    signer: Any = None
    signing_time: datetime | None = None
    timestamp_time: datetime | None = None
    revocation_status: RevocationStatus = RevocationStatus.NOT_CHECKED
    lint: Any = None
    messages: tuple[str, ...] = ()
    signer_certificate: x509.Certificate | None = field(default=None, compare=False)
    format: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        cert = self.signer_certificate
        return {
            "format": self.format,
            "indication": self.indication.value,
            "subindication": self.subindication.value if self.subindication else None,
            "level": self.level.value if self.level else None,
            "signer": _jsonable(self.signer),
            "signer_certificate": (
                None
                if cert is None
                else {
                    "subject": cert.subject.rfc4514_string(),
                    "issuer": cert.issuer.rfc4514_string(),
                    "serial": format(cert.serial_number, "x"),
                    "sha256": cert.fingerprint(hashes.SHA256()).hex(),
                }
            ),
            "signing_time": _jsonable(self.signing_time),
            "timestamp_time": _jsonable(self.timestamp_time),
            "revocation_status": self.revocation_status.value,
            "lint": _jsonable(self.lint),
            "messages": list(self.messages),
        }


@dataclass(frozen=True)
class ValidationReport:
    """The verdict for a document: one :class:`SignatureReport` per signature."""

    document: str
    signatures: tuple[SignatureReport, ...]

    @property
    def indication(self) -> Indication:
        """The worst indication of all signatures; ``INDETERMINATE`` if there is none."""
        if not self.signatures:
            return Indication.INDETERMINATE
        return max((s.indication for s in self.signatures), key=_SEVERITY.__getitem__)

    @property
    def subindication(self) -> SubIndication | None:
        """The sub-indication of the first signature with the worst indication."""
        if not self.signatures:
            return SubIndication.SIGNED_DATA_NOT_FOUND
        worst = self.indication
        for sig in self.signatures:
            if sig.indication is worst:
                return sig.subindication
        return None  # pragma: no cover - unreachable

    @property
    def passed(self) -> bool:
        """True only for ``TOTAL_PASSED``."""
        return self.indication is Indication.TOTAL_PASSED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        sub = self.subindication
        return {
            "document": self.document,
            "indication": self.indication.value,
            "subindication": sub.value if sub else None,
            "signatures": [s.to_dict() for s in self.signatures],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_text(self) -> str:
        """A human-readable rendering."""
        sub = self.subindication
        head = self.indication.value + (f" / {sub.value}" if sub else "")
        lines = [f"Document: {self.document}", f"Result:   {head}"]
        if not self.signatures:
            lines.append("No signature found.")
        for n, sig in enumerate(self.signatures, 1):
            verdict = sig.indication.value + (
                f" / {sig.subindication.value}" if sig.subindication else ""
            )
            lines.append(f"Signature {n}{f' ({sig.format})' if sig.format else ''}: {verdict}")
            lines.append(f"  Level:            {sig.level.value if sig.level else '-'}")
            cert = sig.signer_certificate
            if cert is not None:
                lines.append(f"  Signer:           {cert.subject.rfc4514_string()}")
                lines.append(f"  Issuer:           {cert.issuer.rfc4514_string()}")
            for key, value in _summary_items(sig.signer):
                lines.append(f"  {key + ':':<18}{value}")
            if sig.signing_time:
                lines.append(f"  Signing time:     {sig.signing_time.isoformat()}")
            if sig.timestamp_time:
                lines.append(f"  Timestamp time:   {sig.timestamp_time.isoformat()}")
            lines.append(f"  Revocation:       {sig.revocation_status.value}")
            if sig.lint is not None:
                lines.append(f"  Profile lint:     {_lint_line(sig.lint)}")
            lines.extend(f"  - {m}" for m in sig.messages)
        return "\n".join(lines)


def _summary_items(summary: Any) -> list[tuple[str, str]]:
    if summary is None:
        return []
    data = _jsonable(summary)
    if not isinstance(data, Mapping):
        return [("Summary", str(data))]
    labels = {
        "kind": "Kind",
        "given_name": "Given name",
        "surnames": "Surnames",
        "nif": "NIF",
        "entity_name": "Entity",
        "entity_nif": "Entity NIF",
        "qualified": "Qualified",
        "qscd": "QSCD",
    }
    items = []
    for key, label in labels.items():
        value = data.get(key)
        if value not in (None, "", []):
            items.append((label, " ".join(value) if isinstance(value, list) else str(value)))
    return items


def _lint_line(lint: Any) -> str:
    for attr in ("summary", "verdict"):
        value = getattr(lint, attr, None)
        if isinstance(value, str):
            return value
    ok = getattr(lint, "ok", None)
    profile = getattr(lint, "profile", None)
    where = f" ({profile})" if isinstance(profile, str) else ""
    if isinstance(ok, bool):
        errors = getattr(lint, "errors", ())
        count = len(errors) if isinstance(errors, tuple | list) else 0
        return ("no errors" if ok else f"{count or 'some'} error(s)") + where
    return str(lint)


def _jsonable(value: Any) -> Any:
    """Convert reports' parts (dataclasses, enums, dates, OIDs) into JSON-ready values."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, x509.ObjectIdentifier):
        return value.dotted_string
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _jsonable(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)
