"""Value types shared by the OCSP/CRL core, the responder and the checking client."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes

__all__ = [
    "CertStatus",
    "FailMode",
    "NoncePolicy",
    "RevocationPolicy",
    "RevocationStatus",
    "Source",
    "Status",
]


class Status(enum.Enum):
    """The three answers a revocation source can give about one certificate."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class Source(enum.Enum):
    """Where a :class:`RevocationStatus` came from."""

    OCSP = "ocsp"
    CRL = "crl"


class NoncePolicy(enum.Enum):
    """How strictly the OCSP nonce is checked.

    ``REQUIRED``: the response must echo our nonce. ``PREFERRED`` (default): we send
    a nonce; a response without one is accepted, a response with a *different* one is
    rejected. ``OFF``: no nonce is sent and any nonce in the response is ignored
    (some CAs answer with a constant nonce, see pyHanko#321); the response may then
    come from a cache, which is what makes high-volume OCSP cheap.
    """

    REQUIRED = "required"
    PREFERRED = "preferred"
    OFF = "off"


class FailMode(enum.Enum):
    """What to do when no source can decide.

    ``SOFT``: return :attr:`Status.UNKNOWN` with the reasons in
    :attr:`RevocationStatus.errors`. ``HARD``: raise
    :class:`~qcertlib.errors.RevocationUnavailable`.
    """

    SOFT = "soft-fail"
    HARD = "hard-fail"


@dataclass(frozen=True, slots=True)
class CertStatus:
    """The status of one certificate as a source (registry, CRL, OCSP) knows it."""

    status: Status
    revocation_time: datetime | None = None
    reason: x509.ReasonFlags | None = None

    @classmethod
    def good(cls) -> CertStatus:
        """A certificate that is issued and not revoked."""
        return _GOOD

    @classmethod
    def unknown(cls) -> CertStatus:
        """A certificate the source does not know."""
        return _UNKNOWN

    @classmethod
    def revoked(cls, time: datetime, reason: x509.ReasonFlags | None = None) -> CertStatus:
        """A revoked certificate: *time* is the revocation time (aware UTC)."""
        if time.tzinfo is None:
            raise ValueError("revocation time must be timezone-aware")
        return cls(Status.REVOKED, time, reason)


_GOOD = CertStatus(Status.GOOD)
_UNKNOWN = CertStatus(Status.UNKNOWN)


@dataclass(frozen=True, slots=True)
class RevocationPolicy:
    """How :func:`~qcertlib.revocation.check` fetches and judges revocation data.

    All fetches are bounded by ``timeout`` (seconds, per request) and a maximum body
    size (``max_ocsp_size`` / ``max_crl_size`` bytes). ``clock_skew`` is tolerated on
    every time comparison; ``max_age`` bounds how old an OCSP response's thisUpdate
    may be (always applied when set; responses without nextUpdate need it).
    ``concurrency`` bounds the OCSP requests in flight in bulk checks;
    ``ocsp_batch`` > 1 lets :func:`~qcertlib.revocation.check_many` put that many
    certificates of one issuer into a single OCSP request (RFC 6960 allows it and
    ``qcert serve`` and ``openssl ocsp`` answer such requests, but RFC 5019, the
    profile most public CAs follow, has clients send one, so the default is 1).
    """

    fail_mode: FailMode = FailMode.SOFT
    nonce: NoncePolicy = NoncePolicy.PREFERRED
    use_ocsp: bool = True
    use_crl: bool = True
    timeout: float = 10.0
    max_ocsp_size: int = 256 * 1024
    max_crl_size: int = 64 * 1024 * 1024
    clock_skew: timedelta = timedelta(minutes=5)
    max_age: timedelta | None = timedelta(days=7)
    ocsp_hash: hashes.HashAlgorithm = field(default_factory=hashes.SHA1)
    concurrency: int = 8
    ocsp_batch: int = 1

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.max_ocsp_size <= 0 or self.max_crl_size <= 0:
            raise ValueError("size limits must be positive")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not 1 <= self.ocsp_batch <= 64:
            raise ValueError("ocsp_batch must be between 1 and 64")
        if not isinstance(self.ocsp_hash, hashes.SHA1 | hashes.SHA256):
            raise ValueError("ocsp_hash must be SHA1 or SHA256")


@dataclass(frozen=True, slots=True)
class RevocationStatus:
    """The verdict of a revocation check.

    ``source`` is ``None`` when no source could decide (soft-fail); ``errors`` then
    says why, one line per source tried. ``ocsp_response`` / ``crls`` hold the exact
    DER material that was checked, ready to embed (PAdES B-LT, pyHanko's
    ``ValidationContext(ocsps=..., crls=...)``).
    """

    status: Status
    source: Source | None = None
    revocation_time: datetime | None = None
    reason: x509.ReasonFlags | None = None
    produced_at: datetime | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    errors: tuple[str, ...] = ()
    ocsp_response: bytes | None = field(default=None, repr=False)
    crls: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def decided(self) -> bool:
        """True when a source answered ``good`` or ``revoked``."""
        return self.status is not Status.UNKNOWN

    def to_dict(self) -> dict[str, str | list[str] | None]:
        """A JSON-friendly view (the shape ``qcert status --format json`` prints)."""

        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "status": self.status.value,
            "reason": None if self.reason is None else self.reason.value,
            "revocation_time": iso(self.revocation_time),
            "source": None if self.source is None else self.source.value,
            "produced_at": iso(self.produced_at),
            "this_update": iso(self.this_update),
            "next_update": iso(self.next_update),
            "errors": list(self.errors),
        }
