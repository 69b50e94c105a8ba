"""Revocation evidence for B-LT signatures: caller-supplied or fetched (private).

:func:`fetch_for_chain` asks :func:`qcertlib.revocation.check` (OCSP first, then
CRL) for every non-root certificate of the given chains and returns the material
that was checked, ready to embed. :class:`RevocationData` lets a caller supply DER
OCSP responses / CRLs directly (offline signing, tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cryptography import x509

from qcertlib.errors import QcertError, SigningError

__all__ = ["RevocationData", "RevocationMaterial", "fetch_for_chain", "split"]


class RevocationMaterial(Protocol):
    """Anything with DER ``ocsp_response`` and ``crls`` (e.g. a revocation check result)."""

    @property
    def ocsp_response(self) -> bytes | None: ...

    @property
    def crls(self) -> tuple[bytes, ...]: ...


@dataclass(frozen=True, slots=True)
class RevocationData:
    """Revocation evidence supplied by the caller: one OCSP response and/or CRLs (DER)."""

    ocsp_response: bytes | None = field(default=None, repr=False)
    crls: tuple[bytes, ...] = field(default=(), repr=False)


def split(material: Iterable[RevocationMaterial]) -> tuple[list[bytes], list[bytes]]:
    """(OCSP responses, CRLs) as deduplicated DER lists, in order."""
    ocsps: dict[bytes, None] = {}
    crls: dict[bytes, None] = {}
    for m in material:
        if m.ocsp_response:
            ocsps[bytes(m.ocsp_response)] = None
        for crl in m.crls:
            crls[bytes(crl)] = None
    return list(ocsps), list(crls)


def _issuer_of(cert: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    for cand in pool:
        if cand.subject != cert.issuer:
            continue
        try:
            cert.verify_directly_issued_by(cand)
        except Exception:  # noqa: S112 - try the next candidate
            continue
        return cand
    return None


def fetch_for_chain(
    certs: Sequence[x509.Certificate], policy: Any = None, *, at: datetime | None = None
) -> list[Any]:
    """Fetch OCSP/CRL evidence for every non-self-signed certificate in ``certs``.

    The issuer of each certificate must be in ``certs``. Raises
    :class:`SigningError` when the evidence cannot be obtained (no network
    extra, no responder, unusable answers) or when a certificate is revoked.
    """
    try:
        from qcertlib.revocation import Status, check
    except ImportError as exc:  # pragma: no cover - depends on installed extras
        raise SigningError(f"B-LT needs qcertlib.revocation and its 'http' extra: {exc}") from None
    out: list[Any] = []
    for cert in certs:
        if cert.subject == cert.issuer:
            continue
        issuer = _issuer_of(cert, certs)
        who = cert.subject.rfc4514_string()
        if issuer is None:
            raise SigningError(f"cannot fetch revocation data for {who}: its issuer is missing")
        try:
            status = check(cert, issuer, policy, at=at)
        except ImportError as exc:  # pragma: no cover - depends on installed extras
            raise SigningError(f"B-LT needs the 'http' extra (httpx): {exc}") from None
        except QcertError as exc:
            raise SigningError(f"cannot fetch revocation data for {who}: {exc}") from None
        if status.status is Status.REVOKED:
            raise SigningError(f"the certificate {who} is revoked")
        if not status.ocsp_response and not status.crls:
            why = "; ".join(status.errors) or "no OCSP or CRL source answered"
            raise SigningError(f"no revocation data for {who}: {why}")
        out.append(status)
    return out
