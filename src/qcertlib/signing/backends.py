"""Signer backends: the one seam between signature formats and private keys.

A backend holds a certificate, its issuer chain and a key, and signs **many
pre-hashed digests in one call** (:meth:`SignerBackend.sign_digests`), so a token
or a remote signer logs in once per batch. The software backends import the key
once, at construction.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from qcertlib.errors import SigningError
from qcertlib.signing.options import DigestAlgorithm

__all__ = [
    "Pkcs12Backend",
    "PreparedSignature",
    "SignatureMechanism",
    "SignerBackend",
    "SoftwareKeyBackend",
]


class SignatureMechanism(enum.Enum):
    """How a backend turns a digest into a signature."""

    RSA_PKCS1V15 = "rsa-pkcs1v15"
    """RSASSA-PKCS1-v1_5 (the default for RSA keys; what most validators expect)."""
    RSA_PSS = "rsa-pss"
    """RSASSA-PSS with MGF1 over the same hash and a salt as long as the digest."""
    ECDSA = "ecdsa"
    """ECDSA; signatures are DER ``Ecdsa-Sig-Value`` (r, s)."""


@runtime_checkable
class SignerBackend(Protocol):
    """What every signature format needs from a key holder."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        ...

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The issuer chain, leaf excluded (issuing CA first)."""
        ...

    @property
    def mechanism(self) -> SignatureMechanism:
        """The signature mechanism used by :meth:`sign_digests`."""
        ...

    def sign_digests(self, digests: Sequence[bytes], algorithm: DigestAlgorithm) -> list[bytes]:
        """Sign each pre-computed digest; returns one signature per digest, in order."""
        ...


@dataclass(frozen=True, slots=True)
class PreparedSignature:
    """The output of ``prepare_<fmt>``: what a backend must sign, plus opaque state.

    Plain picklable data (no key), so a batch can prepare in one process and
    finish in another. ``digest`` is the pre-computed hash the backend signs
    (of the signed attributes / SignedInfo); ``state`` is format-specific.
    """

    format: str
    digest: bytes
    algorithm: DigestAlgorithm
    state: bytes


_SignKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SoftwareKeyBackend:
    """A private key held in memory (RSA or EC P-256/P-384/P-521).

    The key's public half must match the certificate (else :class:`SigningError`).
    ``mechanism`` defaults to PKCS#1 v1.5 for RSA and ECDSA for EC keys. The
    ``repr`` names the certificate, never the key.
    """

    __slots__ = ("_certificate", "_chain", "_key", "_mechanism")

    def __init__(
        self,
        key: Any,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        mechanism: SignatureMechanism | None = None,
    ) -> None:
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise SigningError(
                f"unsupported private key type {type(key).__name__}: only RSA and EC keys sign"
            )
        if isinstance(key, rsa.RSAPrivateKey):
            allowed = {SignatureMechanism.RSA_PKCS1V15, SignatureMechanism.RSA_PSS}
            mech = mechanism or SignatureMechanism.RSA_PKCS1V15
        else:
            allowed = {SignatureMechanism.ECDSA}
            mech = mechanism or SignatureMechanism.ECDSA
        if mech not in allowed:
            raise SigningError(f"mechanism {mech.value} cannot be used with this key type")
        fmt = serialization.PublicFormat.SubjectPublicKeyInfo
        enc = serialization.Encoding.DER
        if key.public_key().public_bytes(enc, fmt) != certificate.public_key().public_bytes(
            enc, fmt
        ):
            raise SigningError("the private key does not match the signer certificate")
        self._key: _SignKey = key
        self._certificate = certificate
        self._chain = tuple(chain)
        self._mechanism = mech

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        return self._certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The issuer chain, leaf excluded."""
        return self._chain

    @property
    def mechanism(self) -> SignatureMechanism:
        """The signature mechanism."""
        return self._mechanism

    def sign_digests(self, digests: Sequence[bytes], algorithm: DigestAlgorithm) -> list[bytes]:
        """Sign pre-hashed ``digests`` (each exactly ``algorithm.digest_size`` bytes)."""
        size = algorithm.digest_size
        for d in digests:
            if len(d) != size:
                raise ValueError(f"digest is {len(d)} bytes, {algorithm.value} needs {size}")
        prehashed = utils.Prehashed(algorithm.hash)
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return [key.sign(d, ec.ECDSA(prehashed)) for d in digests]
        pad: padding.AsymmetricPadding
        if self._mechanism is SignatureMechanism.RSA_PSS:
            pad = padding.PSS(mgf=padding.MGF1(algorithm.hash), salt_length=size)
        else:
            pad = padding.PKCS1v15()
        return [key.sign(d, pad, prehashed) for d in digests]

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(subject={self._certificate.subject.rfc4514_string()!r}, "
            f"mechanism={self._mechanism.value})"
        )


class Pkcs12Backend(SoftwareKeyBackend):
    """A backend opened from a PKCS#12 (``.p12`` / ``.pfx``) file and its PIN.

    The file is decrypted once; a wrong PIN raises
    :class:`~qcertlib.errors.Pkcs12PasswordError`, a damaged file
    :class:`~qcertlib.errors.Pkcs12CorruptError`.
    """

    __slots__ = ()

    @classmethod
    def open(
        cls, path: str | Path, pin: str, *, mechanism: SignatureMechanism | None = None
    ) -> Pkcs12Backend:
        """Open a PKCS#12 file."""
        return cls.from_bytes(Path(path).read_bytes(), pin, mechanism=mechanism)

    @classmethod
    def from_bytes(
        cls, data: bytes, pin: str, *, mechanism: SignatureMechanism | None = None
    ) -> Pkcs12Backend:
        """Open PKCS#12 bytes."""
        key, cert, chain = _load_pkcs12(data, pin)
        return cls(key, cert, chain, mechanism=mechanism)


def _load_pkcs12(
    data: bytes, pin: str
) -> tuple[Any, x509.Certificate, tuple[x509.Certificate, ...]]:
    from qcertlib.errors import Pkcs12Error
    from qcertlib.pkcs12 import load_pkcs12

    store = load_pkcs12(data, pin)
    entry = store.key
    if entry.certificate is None:
        raise Pkcs12Error("the PKCS#12 file holds a private key without its certificate")
    return entry.private_key, entry.certificate, store.chain_for(entry)
