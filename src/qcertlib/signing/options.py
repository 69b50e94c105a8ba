"""Signature options shared by every format (CAdES, PAdES, XAdES).

These are plain frozen values: they carry no key and do no I/O, so they can be
pickled and handed to worker processes by the batch core.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

__all__ = [
    "DigestAlgorithm",
    "SignatureLevel",
    "SignatureOptions",
    "SignaturePolicy",
]


class SignatureLevel(enum.Enum):
    """ETSI baseline signature levels (EN 319 122 / 132 / 142)."""

    B_B = "B-B"
    """Basic signature: signed attributes only."""
    B_T = "B-T"
    """B-B plus a trusted signature timestamp (needs a TSA)."""
    B_LT = "B-LT"
    """B-T plus the certificate and revocation values needed to validate later."""
    B_LTA = "B-LTA"
    """B-LT plus an archive (document) timestamp."""

    @classmethod
    def parse(cls, text: str) -> SignatureLevel:
        """Parse ``"B-T"``, ``"b_t"``, ``"BT"``... into a level (:class:`ValueError` if unknown)."""
        norm = text.strip().upper().replace("_", "-")
        if norm.startswith("B") and not norm.startswith("B-"):
            norm = "B-" + norm[1:]
        for level in cls:
            if level.value == norm:
                return level
        raise ValueError(f"unknown signature level {text!r}; use one of B-B, B-T, B-LT, B-LTA")

    def at_least(self, other: SignatureLevel) -> bool:
        """True if this level includes ``other`` (B-LT includes B-T and B-B)."""
        order = list(SignatureLevel)
        return order.index(self) >= order.index(other)


_HASHES: dict[str, tuple[type[hashes.HashAlgorithm], str]] = {
    "sha256": (hashes.SHA256, "2.16.840.1.101.3.4.2.1"),
    "sha384": (hashes.SHA384, "2.16.840.1.101.3.4.2.2"),
    "sha512": (hashes.SHA512, "2.16.840.1.101.3.4.2.3"),
}


class DigestAlgorithm(enum.Enum):
    """Digest algorithms accepted for signatures, timestamps and policy hashes."""

    SHA256 = "sha256"
    SHA384 = "sha384"
    SHA512 = "sha512"

    @property
    def hash(self) -> hashes.HashAlgorithm:
        """A fresh :mod:`cryptography` hash algorithm instance."""
        return _HASHES[self.value][0]()

    @property
    def oid(self) -> x509.ObjectIdentifier:
        """The algorithm's OID (NIST hash algorithms arc)."""
        return x509.ObjectIdentifier(_HASHES[self.value][1])

    @property
    def digest_size(self) -> int:
        """Digest length in bytes."""
        return self.hash.digest_size

    def digest(self, data: bytes) -> bytes:
        """Hash ``data`` with this algorithm."""
        return hashlib.new(self.value, data).digest()

    @classmethod
    def from_oid(cls, oid: x509.ObjectIdentifier | str) -> DigestAlgorithm:
        """The algorithm for a dotted OID (:class:`ValueError` if unsupported)."""
        dotted = oid.dotted_string if isinstance(oid, x509.ObjectIdentifier) else oid
        for alg in cls:
            if _HASHES[alg.value][1] == dotted:
                return alg
        raise ValueError(f"unsupported digest algorithm {dotted}")

    @classmethod
    def from_name(cls, name: str) -> DigestAlgorithm:
        """The algorithm for ``"sha256"`` / ``"SHA-256"`` ... (:class:`ValueError` if unknown)."""
        norm = name.strip().lower().replace("-", "").replace("_", "")
        for alg in cls:
            if alg.value == norm:
                return alg
        raise ValueError(f"unsupported digest algorithm {name!r}")


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    """An explicit signature policy (EPES): identifier, optional URI and the policy's hash.

    ``digest`` is the hash of the policy document computed with ``digest_algorithm``
    (for Facturae and AGE policies the value is published with the policy).
    """

    oid: x509.ObjectIdentifier
    uri: str | None
    digest: bytes
    digest_algorithm: DigestAlgorithm = DigestAlgorithm.SHA256

    def __post_init__(self) -> None:
        if len(self.digest) != self.digest_algorithm.digest_size:
            raise ValueError(
                f"policy digest is {len(self.digest)} bytes, "
                f"{self.digest_algorithm.value} needs {self.digest_algorithm.digest_size}"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureOptions:
    """What kind of signature to produce.

    ``tsa_url`` is required for B-T and above. ``signing_time`` ``None`` means "now"
    (aware UTC, taken when the signature is prepared). ``revocation`` is a
    :mod:`qcertlib.revocation` policy object used to fetch OCSP/CRL data for B-LT;
    ``None`` means the default policy.
    """

    level: SignatureLevel = SignatureLevel.B_B
    digest: DigestAlgorithm = DigestAlgorithm.SHA256
    tsa_url: str | None = None
    policy: SignaturePolicy | None = None
    signing_time: datetime | None = None
    revocation: Any = None

    def __post_init__(self) -> None:
        if self.signing_time is not None and self.signing_time.utcoffset() is None:
            raise ValueError("signing_time must be an aware datetime (UTC)")
