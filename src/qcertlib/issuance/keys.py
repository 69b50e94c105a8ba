"""Key pairs: generation, minimum strength, and PKCS#8 PEM files.

Private keys are written as PKCS#8 PEM, atomically and with mode 0600, encrypted
with the best available algorithm when a passphrase is given. Reading a key file
with the wrong passphrase (or a malformed file) raises
:class:`~qcertlib.errors.KeyFileError`; the passphrase never appears in a message.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import TypeAlias

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qcertlib._io import write_atomic
from qcertlib.errors import KeyFileError, WeakKeyError

__all__ = [
    "KeySpec",
    "PrivateKey",
    "PublicKey",
    "check_key_strength",
    "describe_key",
    "generate_key",
    "load_private_key",
    "private_key_pem",
    "save_private_key",
]

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""The private key types qcertlib issues for (RSA and NIST P-256/P-384 EC)."""

PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
"""The public key types qcertlib certifies."""

_ALLOWED_CURVES = ("secp256r1", "secp384r1")


class KeySpec(enum.Enum):
    """The key types qcertlib generates (the ones the profiles accept)."""

    RSA_2048 = "rsa2048"
    RSA_3072 = "rsa3072"
    RSA_4096 = "rsa4096"
    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        """Parse ``rsa2048``, ``RSA-2048``, ``RSA_2048``, ``ec-p256``, ``p384``... into a spec."""
        norm = text.strip().lower().replace("_", "").replace("-", "")
        aliases = {
            "rsa2048": cls.RSA_2048,
            "rsa3072": cls.RSA_3072,
            "rsa4096": cls.RSA_4096,
            "ecp256": cls.EC_P256,
            "p256": cls.EC_P256,
            "secp256r1": cls.EC_P256,
            "ecp384": cls.EC_P384,
            "p384": cls.EC_P384,
            "secp384r1": cls.EC_P384,
        }
        try:
            return aliases[norm]
        except KeyError:
            choices = ", ".join(spec.value for spec in cls)
            raise ValueError(f"unknown key type {text!r}; choose one of {choices}") from None


def generate_key(spec: KeySpec = KeySpec.EC_P256) -> PrivateKey:
    """Generate a fresh private key of the given spec (RSA e=65537, or NIST EC)."""
    if not isinstance(spec, KeySpec):
        raise TypeError("spec must be a KeySpec")
    if spec is KeySpec.EC_P256:
        return ec.generate_private_key(ec.SECP256R1())
    if spec is KeySpec.EC_P384:
        return ec.generate_private_key(ec.SECP384R1())
    bits = {KeySpec.RSA_2048: 2048, KeySpec.RSA_3072: 3072, KeySpec.RSA_4096: 4096}[spec]
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def describe_key(public_key: object) -> str:
    """A short human description of a public key (``"RSA-2048"``, ``"EC secp256r1"``)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA-{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC {public_key.curve.name}"
    return type(public_key).__name__


def check_key_strength(public_key: object) -> None:
    """Raise :class:`~qcertlib.errors.WeakKeyError` unless the key is RSA >= 2048 bits
    (public exponent 65537 or larger odd value) or EC on P-256 / P-384.

    This is the generic floor used where no profile is given (CSR checks, CA keys);
    a profile's own ``check_key`` is applied on issuance.
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise WeakKeyError(
                f"RSA key of {public_key.key_size} bits is too weak: at least 2048 bits required"
            )
        exponent = public_key.public_numbers().e
        if exponent < 65537 or exponent % 2 == 0:
            raise WeakKeyError(f"RSA public exponent {exponent} is not allowed (use 65537)")
        return
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in _ALLOWED_CURVES:
            raise WeakKeyError(
                f"EC curve {public_key.curve.name} is not allowed: use P-256 or P-384"
            )
        return
    raise WeakKeyError(
        f"{describe_key(public_key)} keys are not supported: use RSA >= 2048 or EC P-256/P-384"
    )


def private_key_pem(key: PrivateKey, passphrase: str | None) -> bytes:
    """Serialise *key* as PKCS#8 PEM, encrypted when *passphrase* is given (non-empty)."""
    if passphrase is not None and passphrase == "":
        raise ValueError("an empty passphrase is not allowed: pass None for an unencrypted key")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase is not None
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def save_private_key(
    path: str | os.PathLike[str], key: PrivateKey, passphrase: str | None = None
) -> Path:
    """Write *key* to *path* as PKCS#8 PEM, atomically, mode 0600.

    With a *passphrase* the PEM is encrypted (``ENCRYPTED PRIVATE KEY``); without one
    it is written in the clear, which only suits test PKIs.
    """
    return write_atomic(path, private_key_pem(key, passphrase), mode=0o600)


def load_private_key(path: str | os.PathLike[str], passphrase: str | None = None) -> PrivateKey:
    """Read a PEM private key written by :func:`save_private_key` (or any PKCS#8/PKCS#1/SEC1 PEM).

    Raises :class:`~qcertlib.errors.KeyFileError` when the file cannot be read, is
    malformed, is encrypted and no or a wrong passphrase was given, or holds a key
    type qcertlib does not use.
    """
    target = Path(path)
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the key file {target}: {exc.strerror}") from None
    encrypted = b"ENCRYPTED" in data
    if encrypted and not passphrase:
        raise KeyFileError(f"the key file {target} is encrypted: a passphrase is required")
    secret = passphrase.encode("utf-8") if (encrypted and passphrase) else None
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except (ValueError, TypeError):
        if encrypted:
            raise KeyFileError(
                f"cannot decrypt the key file {target}: wrong passphrase or corrupt file"
            ) from None
        raise KeyFileError(f"the key file {target} is not a readable PEM private key") from None
    except Exception:  # cryptography may raise UnsupportedAlgorithm for odd encryptions
        raise KeyFileError(f"the key file {target} uses an unsupported format") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyFileError(f"the key file {target} holds a {type(key).__name__}: RSA or EC only")
    return key
