"""The PKCS#11 signer backend: a :class:`~qcertlib.signing.backends.SignerBackend`
whose key never leaves a card or an HSM."""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from qcertlib.errors import TokenError, TokenKeyNotFoundError, TokenMechanismError
from qcertlib.signing.backends import SignatureMechanism
from qcertlib.signing.options import DigestAlgorithm
from qcertlib.tokens.session import KeyInfo, KeyType, TokenSession

__all__ = ["Pkcs11Backend"]


class Pkcs11Backend:
    """Signs with a private key on a PKCS#11 token (card, HSM, SoftHSM2).

    Satisfies :class:`~qcertlib.signing.backends.SignerBackend` structurally: every
    signature format and the batch core accept it. Open it with :meth:`open`: it
    logs in **once**, finds the key and its certificate (same ``CKA_ID``, or given
    explicitly) and then :meth:`sign_digests` signs any number of digests in that
    one session (:attr:`login_count` stays 1). Close it (or use ``with``) to log out.
    The ``repr`` names the token and key, never the PIN.
    """

    __slots__ = ("_certificate", "_chain", "_key", "_mechanism", "_session")

    def __init__(
        self,
        session: TokenSession,
        key: KeyInfo,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        mechanism: SignatureMechanism | None = None,
    ) -> None:
        if key.key_type == KeyType.RSA:
            allowed = {SignatureMechanism.RSA_PKCS1V15, SignatureMechanism.RSA_PSS}
            mech = mechanism or SignatureMechanism.RSA_PKCS1V15
        else:
            allowed = {SignatureMechanism.ECDSA}
            mech = mechanism or SignatureMechanism.ECDSA
        if mech not in allowed:
            raise TokenMechanismError(f"mechanism {mech.value} cannot be used with this key type")
        fmt = serialization.PublicFormat.SubjectPublicKeyInfo
        enc = serialization.Encoding.DER
        if certificate.public_key().public_bytes(enc, fmt) != session.public_key(key).public_bytes(
            enc, fmt
        ):
            raise TokenError(f"the certificate does not belong to key {key.label!r}")
        self._session = session
        self._key = key
        self._certificate = certificate
        self._chain = tuple(chain)
        self._mechanism = mech

    @classmethod
    def open(
        cls,
        module: str | os.PathLike[str],
        *,
        token_label: str | None = None,
        token_serial: str | None = None,
        pin: str | None,
        key_label: str | None = None,
        key_id: bytes | None = None,
        certificate: x509.Certificate | None = None,
        chain: Sequence[x509.Certificate] = (),
        mechanism: SignatureMechanism | None = None,
    ) -> Pkcs11Backend:
        """Open *module*, find the token, log in once with *pin*, find key and certificate.

        The key is found by *key_label* and/or *key_id*; the certificate is the one
        stored with the same id unless *certificate* is given. *chain* is the issuer
        chain (leaf excluded) to embed in signatures. Errors are
        :class:`~qcertlib.errors.TokenError` subclasses:
        ``TokenNotPresentError``, ``TokenPinIncorrectError``, ``TokenPinLockedError``,
        ``TokenKeyNotFoundError`` (also when no certificate is found),
        ``TokenMechanismError``.
        """
        if key_label is None and key_id is None:
            raise ValueError("give the key label or the key id")
        session = TokenSession.open(
            module, token_label=token_label, token_serial=token_serial, pin=pin
        )
        try:
            key = session.find_key(label=key_label, key_id=key_id)
            cert = certificate if certificate is not None else session.certificate(key)
            if cert is None:
                raise TokenKeyNotFoundError(
                    f"key {key.label!r} has no certificate on the token: store one"
                    " (qcert token import-cert) or pass it explicitly"
                )
            return cls(session, key, cert, chain, mechanism=mechanism)
        except BaseException:
            session.close()
            raise

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

    @property
    def key(self) -> KeyInfo:
        """The token key this backend signs with."""
        return self._key

    @property
    def session(self) -> TokenSession:
        """The underlying token session."""
        return self._session

    @property
    def login_count(self) -> int:
        """User logins made by this backend (1 after :meth:`open`, whatever the batch size)."""
        return self._session.login_count

    @property
    def context_login_count(self) -> int:
        """Context-specific logins made (one per signature for ALWAYS_AUTHENTICATE keys)."""
        return self._session.context_login_count

    def sign_digests(self, digests: Sequence[bytes], algorithm: DigestAlgorithm) -> list[bytes]:
        """Sign pre-hashed *digests* in this backend's one session (ECDSA: DER)."""
        return self._session.sign_digests(self._key, digests, algorithm, self._mechanism)

    def close(self) -> None:
        """Close the session (the last one in the process logs out)."""
        self._session.close()

    def __enter__(self) -> Pkcs11Backend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"Pkcs11Backend(token={self._session.token_label!r}, key={self._key.label!r},"
            f" subject={self._certificate.subject.rfc4514_string()!r},"
            f" mechanism={self._mechanism.value})"
        )
