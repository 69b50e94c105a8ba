"""Minimal certification path building (private).

Builds leaf -> ... -> trust anchor by name and signature, checking that every
issuer is a CA. Validity periods and revocation are checked by the callers, who
know the relevant time (signing time, genTime, validation time).
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

__all__ = ["build_path", "is_ca", "valid_at"]

_MAX_DEPTH = 8


def is_ca(cert: x509.Certificate) -> bool:
    """True if basicConstraints says cA."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, x509.DuplicateExtension, ValueError):
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:
        return False
    return True


def valid_at(cert: x509.Certificate, at: object) -> bool:
    """True if ``at`` (aware datetime) is inside the certificate's validity period."""
    from datetime import datetime

    assert isinstance(at, datetime)
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def build_path(
    leaf: x509.Certificate,
    untrusted: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
) -> tuple[x509.Certificate, ...] | None:
    """A path ``(leaf, ..., root)`` ending at one of ``roots``, or ``None``."""
    if leaf in roots:
        return (leaf,)

    def extend(path: tuple[x509.Certificate, ...]) -> tuple[x509.Certificate, ...] | None:
        current = path[-1]
        if len(path) > _MAX_DEPTH:
            return None
        for root in roots:
            if root.subject == current.issuer and _issued_by(current, root):
                return (*path, root)
        for cand in untrusted:
            if cand in path or cand.subject != current.issuer or not is_ca(cand):
                continue
            if cand.subject == cand.issuer:  # an untrusted self-signed root
                continue
            if _issued_by(current, cand):
                found = extend((*path, cand))
                if found is not None:
                    return found
        return None

    return extend((leaf,))
