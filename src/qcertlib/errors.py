"""The qcertlib exception tree.

Every error that qcertlib raises on *bad input* (malformed DER/PEM, an invalid NIF,
a wrong PKCS#12 password, an unreachable responder, ...) is a :class:`QcertError`.
Programming mistakes (passing a ``str`` where ``bytes`` is required, ...) are plain
:class:`TypeError`/:class:`ValueError`. A non-conformant certificate or an invalid
signature is **not** an exception: it is a *report* (:class:`~qcertlib.profiles.LintReport`,
validation reports).

Messages say what is wrong and, where possible, what to do about it. No secret
(PIN, password, key bytes, generation code) ever appears in a message or a repr.

.. code-block:: text

    QcertError
    ├── DecodingError                 malformed DER / PEM / base64 input
    ├── IdentifierError               invalid NIF / NIE / CIF / ETSI identifier (also ValueError)
    ├── HolderDataError               holder data unusable for a profile (also ValueError)
    ├── ProfileError                  unknown profile, profile that cannot be applied
    ├── IssuanceError
    │   ├── WeakKeyError              RSA < 2048, curves other than P-256/P-384
    │   ├── CsrError                  CSR signature / subject / key problems
    │   ├── LintRefusal               the CA's own lint gate refused the certificate
    │   ├── ValidityError             validity over the profile, legal or CA caps
    │   ├── RenewalWindowError        renewal asked outside the renewal window
    │   ├── AlreadyRevokedError       revocation is irreversible; revoking twice
    │   ├── UnknownCertificateError   serial not in the registry
    │   ├── GenerationCodeError       used / expired / exhausted / wrong generation code
    │   └── RegistryError             the registry database cannot be used
    ├── KeyFileError                  wrong passphrase or unreadable private key file
    ├── Pkcs12Error
    │   ├── Pkcs12PasswordError       wrong password (MAC does not verify)
    │   ├── Pkcs12CorruptError        truncated, bit-flipped or not a PKCS#12 file
    │   ├── Pkcs12UnsupportedError    well-formed but uses an algorithm we do not support
    │   └── PinPolicyError            a new PIN does not meet the PIN policy (also ValueError)
    ├── RevocationError
    │   ├── RevocationFetchError      network / HTTP / size / timeout fetching OCSP or CRL
    │   ├── RevocationResponseError   response malformed, badly signed, unauthorised, stale
    │   └── RevocationUnavailable     no usable source under a hard-fail policy
    ├── SigningError
    │   └── TimestampError            TSA refused or returned an unusable token
    ├── TokenError                    PKCS#11 tokens
    │   ├── TokenNotPresentError
    │   ├── TokenPinIncorrectError
    │   ├── TokenPinLockedError
    │   ├── TokenKeyNotFoundError
    │   └── TokenMechanismError
    └── ValidationInputError          the document to validate cannot be read at all
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "AlreadyRevokedError",
    "CsrError",
    "DecodingError",
    "GenerationCodeError",
    "HolderDataError",
    "IdentifierError",
    "IssuanceError",
    "KeyFileError",
    "LintRefusal",
    "PinPolicyError",
    "Pkcs12CorruptError",
    "Pkcs12Error",
    "Pkcs12PasswordError",
    "Pkcs12UnsupportedError",
    "ProfileError",
    "QcertError",
    "RegistryError",
    "RenewalWindowError",
    "RevocationError",
    "RevocationFetchError",
    "RevocationResponseError",
    "RevocationUnavailable",
    "SigningError",
    "TimestampError",
    "TokenError",
    "TokenKeyNotFoundError",
    "TokenMechanismError",
    "TokenNotPresentError",
    "TokenPinIncorrectError",
    "TokenPinLockedError",
    "UnknownCertificateError",
    "ValidationInputError",
    "ValidityError",
    "WeakKeyError",
]


class QcertError(Exception):
    """Root of every error qcertlib raises on bad input or a refused operation."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class DecodingError(QcertError):
    """The input is not well-formed DER, PEM or base64 of the expected structure."""


class IdentifierError(QcertError, ValueError):
    """A Spanish identifier (NIF, NIE, CIF) or an ETSI identifier is invalid.

    ``value`` is the offending input (identifiers are not secrets), ``reason`` a
    short machine-friendly tag such as ``"check-letter"`` or ``"length"``.
    """

    def __init__(self, message: str, *, value: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.value = value
        self.reason = reason


class HolderDataError(QcertError, ValueError):
    """Holder data (citizen, public body) cannot be used, e.g. a seal for a company."""


class ProfileError(QcertError):
    """A profile is unknown or cannot be applied to the given input."""


class IssuanceError(QcertError):
    """The CA refuses an issuance, renewal or revocation request."""


class WeakKeyError(IssuanceError):
    """The public key is weaker than the profile allows (RSA < 2048, P-192, ...)."""


class CsrError(IssuanceError):
    """A certificate signing request is malformed, badly signed or does not match."""


class LintRefusal(IssuanceError):
    """The CA's lint gate refused to sign: the report has ERROR or FATAL findings.

    ``report`` is the :class:`~qcertlib.profiles.LintReport` that caused the refusal.
    """

    def __init__(self, message: str, *, report: Any) -> None:
        super().__init__(message)
        self.report = report


class ValidityError(IssuanceError):
    """Requested validity exceeds the profile, the legal 5-year cap or the CA's notAfter."""


class RenewalWindowError(IssuanceError):
    """Renewal was asked outside the renewal window; ``opens_at`` says when it opens."""

    def __init__(self, message: str, *, opens_at: datetime | None = None) -> None:
        super().__init__(message)
        self.opens_at = opens_at


class AlreadyRevokedError(IssuanceError):
    """The certificate is already revoked; revocation is irreversible."""


class UnknownCertificateError(IssuanceError):
    """The serial number is not in the CA's registry."""


class GenerationCodeError(IssuanceError):
    """A generation code was used before, expired, voided by failed tries, or is wrong.

    ``reason`` is one of ``"wrong"``, ``"used"``, ``"expired"``, ``"exhausted"``,
    ``"unknown"``; ``tries_left`` is set for ``"wrong"``. The code itself is never
    part of the message.
    """

    def __init__(self, message: str, *, reason: str, tries_left: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.tries_left = tries_left


class RegistryError(IssuanceError):
    """The registry database cannot be opened or written."""


class KeyFileError(QcertError):
    """A private key file cannot be read: wrong passphrase, malformed or unsupported."""


class Pkcs12Error(QcertError):
    """A PKCS#12 file cannot be loaded or written."""


class Pkcs12PasswordError(Pkcs12Error):
    """The password (PIN) is wrong: the PKCS#12 MAC does not verify."""


class Pkcs12CorruptError(Pkcs12Error):
    """The file is truncated, altered or not a PKCS#12 file at all."""


class Pkcs12UnsupportedError(Pkcs12Error):
    """The file is well-formed but uses an algorithm qcertlib does not support."""


class PinPolicyError(Pkcs12Error, ValueError):
    """A new PIN does not meet the PIN policy (length, emptiness)."""


class RevocationError(QcertError):
    """Revocation status could not be established."""


class RevocationFetchError(RevocationError):
    """Fetching an OCSP response or a CRL failed (network, HTTP status, size, timeout)."""


class RevocationResponseError(RevocationError):
    """An OCSP response or CRL is malformed, badly signed, unauthorised or stale."""


class RevocationUnavailable(RevocationError):
    """No usable revocation source under a hard-fail policy."""


class SigningError(QcertError):
    """A document could not be signed."""


class TimestampError(SigningError):
    """The TSA refused the request or returned a token that does not verify."""


class TokenError(QcertError):
    """A PKCS#11 token (card, HSM) operation failed."""


class TokenNotPresentError(TokenError):
    """No token with the requested label or serial is present."""


class TokenPinIncorrectError(TokenError):
    """The token rejected the PIN; ``tries_left`` is set when the token tells."""

    def __init__(self, message: str, *, tries_left: int | None = None) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class TokenPinLockedError(TokenError):
    """The PIN is locked; it must be unblocked with the PUK / SO PIN."""


class TokenKeyNotFoundError(TokenError):
    """No key (or certificate) with the requested label or id is on the token."""


class TokenMechanismError(TokenError):
    """The token does not support the mechanism the key needs."""


class ValidationInputError(QcertError):
    """A document to validate cannot be read at all (not a PDF, not XML, empty, ...)."""
