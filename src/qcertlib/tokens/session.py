"""A logged-in session on a PKCS#11 token: find, generate and use keys; store certificates.

:class:`TokenSession` is the one place qcertlib talks to a token. It logs in
**once** (``C_Login`` as the user; a second :class:`TokenSession` on the same token
in the same process shares that login, see below), serialises every operation on
its PKCS#11 session with a lock (a session is never used by two threads at once),
and signs **pre-hashed digests** with the raw mechanisms every token has:

* RSA PKCS#1 v1.5 — ``CKM_RSA_PKCS`` over a ``DigestInfo`` built on the host;
* RSA-PSS — ``CKM_RSA_PKCS_PSS`` with (hash, MGF1(hash), salt = digest length);
* ECDSA — ``CKM_ECDSA`` over the host-side hash (SoftHSM2 has no
  ``CKM_ECDSA_SHA256``); the token's raw ``r || s`` is re-encoded as DER.

Keys flagged ``CKA_ALWAYS_AUTHENTICATE`` (DNIe, CERES and most QSCD cards) get a
context-specific login (``CKU_CONTEXT_SPECIFIC``) before each signature; the
counters :attr:`TokenSession.login_count` and
:attr:`TokenSession.context_login_count` make both behaviours observable.

Login state in PKCS#11 belongs to the process, not to a session: within one
process the first :class:`TokenSession` logs in and later ones on the same token
share that login (their ``login_count`` stays 0) — but only with the **same PIN**;
another PIN raises :class:`~qcertlib.errors.TokenPinIncorrectError`. The last one to
close logs out.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils

from qcertlib.errors import (
    DecodingError,
    TokenError,
    TokenKeyNotFoundError,
    TokenMechanismError,
)
from qcertlib.issuance.keys import KeySpec, PublicKey
from qcertlib.signing.backends import SignatureMechanism
from qcertlib.signing.options import DigestAlgorithm
from qcertlib.tokens import _p11

__all__ = ["KeyInfo", "KeyType", "TokenSession"]

# DER of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { hashOID, NULL }, OCTET STRING (n) }
# without the digest itself (RFC 8017 §9.2, note 1).
_DIGEST_INFO_PREFIX = {
    DigestAlgorithm.SHA256: bytes.fromhex("3031300d060960864801650304020105000420"),
    DigestAlgorithm.SHA384: bytes.fromhex("3041300d060960864801650304020205000430"),
    DigestAlgorithm.SHA512: bytes.fromhex("3051300d060960864801650304020305000440"),
}

_CURVES: dict[str, ec.EllipticCurve] = {
    "1.2.840.10045.3.1.7": ec.SECP256R1(),
    "1.3.132.0.34": ec.SECP384R1(),
    "1.3.132.0.35": ec.SECP521R1(),
}
_CURVE_OIDS = {
    KeySpec.EC_P256: "1.2.840.10045.3.1.7",
    KeySpec.EC_P384: "1.3.132.0.34",
}
_RSA_BITS = {KeySpec.RSA_2048: 2048, KeySpec.RSA_3072: 3072, KeySpec.RSA_4096: 4096}


class KeyType:
    """Key type names used in :attr:`KeyInfo.key_type`."""

    RSA = "rsa"
    EC = "ec"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A private key on a token, as the token describes it (no secret material).

    ``sensitive`` / ``extractable`` / ``local`` are ``CKA_SENSITIVE``,
    ``CKA_EXTRACTABLE`` and ``CKA_LOCAL`` (true when the key was generated on the
    token); ``always_authenticate`` is ``CKA_ALWAYS_AUTHENTICATE``. ``size`` is the
    RSA modulus length or the EC curve size in bits.
    """

    label: str
    id: bytes
    key_type: str
    size: int
    sensitive: bool
    extractable: bool
    local: bool
    always_authenticate: bool
    curve: str | None = field(default=None)

    @property
    def id_hex(self) -> str:
        """The ``CKA_ID`` in hex (how ``pkcs11-tool --id`` spells it)."""
        return self.id.hex()


def _bool_attr(obj: Any, attribute: Any, default: bool = False) -> bool:
    try:
        return bool(obj[attribute])
    except Exception:
        return default


def _unwrap_ec_point(raw: bytes) -> bytes:
    """``CKA_EC_POINT`` is DER OCTET STRING per the spec; some tokens give the bare point."""
    if raw[:1] == b"\x04" and len(raw) > 2:
        try:
            inner = asn1_core.OctetString.load(raw).native
        except ValueError:
            return raw
        if isinstance(inner, bytes) and inner[:1] == b"\x04":
            return inner
    return raw


class TokenSession:
    """A logged-in session on one token; see the module docs. Use as a context manager.

    The ``repr`` names the token, never the PIN. The PIN is kept in memory for the
    life of the session only when a key needs a context-specific login per
    signature.
    """

    __slots__ = (
        "_closed",
        "_context_logins",
        "_lib",
        "_lock",
        "_login",
        "_logins",
        "_mechanisms",
        "_pin",
        "_session",
        "_token",
        "module",
    )

    def __init__(
        self, lib: Any, token: Any, session: Any, login: Any, logged_in: bool, pin: str | None
    ) -> None:
        self._lib = lib
        self._token = token
        self._session = session
        self._login = login
        self._logins = 1 if logged_in else 0
        self._context_logins = 0
        self._pin = pin
        self._lock = threading.RLock()
        self._closed = False
        self._mechanisms: frozenset[Any] | None = None
        self.module = str(lib.so)

    # -- opening --------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        module: str | os.PathLike[str],
        *,
        token_label: str | None = None,
        token_serial: str | None = None,
        pin: str | None,
        rw: bool = False,
    ) -> TokenSession:
        """Open the token with *token_label* (or *token_serial*) and log in with *pin*.

        ``pin=None`` uses the reader's protected authentication path (PIN pad) when
        the token has one. ``rw=True`` opens a read/write session (key generation,
        storing certificates). Errors: :class:`~qcertlib.errors.TokenNotPresentError`,
        :class:`~qcertlib.errors.TokenPinIncorrectError` (``tries_left`` when the
        token tells), :class:`~qcertlib.errors.TokenPinLockedError`.
        """
        pkcs11 = _p11.p11()
        lib = _p11.load_module(module)
        token = _p11.find_token(lib, label=token_label, serial=token_serial)
        if pin is None:
            if not int(token.flags) & _p11.CKF_PROTECTED_AUTHENTICATION_PATH:
                raise TokenError("no PIN given and the token has no PIN pad")
            login_pin: Any = pkcs11.PROTECTED_AUTH
        else:
            if not isinstance(pin, str):
                raise TypeError("pin must be a str")
            login_pin = pin
        handle, logged_in = _p11.login(lib, token, login_pin)
        try:
            session = token.open(rw=rw)
        except pkcs11.exceptions.PKCS11Error as exc:
            handle.release()
            raise _p11.token_error(exc, what="opening a session", token=token) from None
        return cls(lib, token, session, handle, logged_in, pin)

    # -- state ------------------------------------------------------------------------

    @property
    def token_label(self) -> str:
        """The token's label."""
        return str(self._token.label)

    @property
    def token_serial(self) -> str:
        """The token's serial number."""
        return bytes(self._token.serial).decode("ascii", "replace")

    @property
    def login_count(self) -> int:
        """How many user logins (``C_Login`` with ``CKU_USER``) this session made: 0 or 1."""
        return self._logins

    @property
    def context_login_count(self) -> int:
        """How many context-specific logins were made (one per ALWAYS_AUTHENTICATE signature)."""
        return self._context_logins

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"TokenSession(token={self.token_label!r}, {state})"

    def close(self) -> None:
        """Close the session; the last session of the process on this token logs out."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._pin = None
            try:
                self._session.close()
            except _p11.p11().exceptions.PKCS11Error:
                pass  # token removed: nothing to close
            finally:
                self._login.release()

    def __enter__(self) -> TokenSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise TokenError("the token session is closed")

    def _call(self, what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        pkcs11 = _p11.p11()
        try:
            return func(*args, **kwargs)
        except pkcs11.exceptions.PKCS11Error as exc:
            raise _p11.token_error(exc, what=what, token=self._token) from None

    def mechanisms(self) -> frozenset[Any]:
        """The mechanisms the token's slot offers (cached)."""
        if self._mechanisms is None:
            self._mechanisms = frozenset(
                self._call("listing mechanisms", self._token.slot.get_mechanisms)
            )
        return self._mechanisms

    # -- keys ---------------------------------------------------------------------------

    def _private_objects(self, label: str | None, key_id: bytes | None) -> list[Any]:
        pkcs11 = _p11.p11()
        attrs: dict[Any, Any] = {pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY}
        if label is not None:
            attrs[pkcs11.Attribute.LABEL] = label
        if key_id is not None:
            attrs[pkcs11.Attribute.ID] = key_id
        return list(self._call("searching keys", lambda: list(self._session.get_objects(attrs))))

    def _info(self, obj: Any) -> KeyInfo:
        pkcs11 = _p11.p11()
        a = pkcs11.Attribute
        key_type = obj[a.KEY_TYPE]
        curve: str | None = None
        if key_type == pkcs11.KeyType.RSA:
            kind = KeyType.RSA
            size = len(bytes(obj[a.MODULUS]).lstrip(b"\x00")) * 8
        elif key_type == pkcs11.KeyType.EC:
            kind = KeyType.EC
            oid = asn1_core.ObjectIdentifier.load(bytes(obj[a.EC_PARAMS])).dotted
            curve_cls = _CURVES.get(oid)
            if curve_cls is None:
                raise TokenMechanismError(f"the key uses an unsupported EC curve {oid}")
            curve = curve_cls.name
            size = curve_cls.key_size
        else:
            raise TokenMechanismError("only RSA and EC keys can sign qualified signatures")
        return KeyInfo(
            label=str(obj[a.LABEL]),
            id=bytes(obj[a.ID]),
            key_type=kind,
            size=size,
            sensitive=_bool_attr(obj, a.SENSITIVE),
            extractable=_bool_attr(obj, a.EXTRACTABLE, True),
            local=_bool_attr(obj, a.LOCAL),
            always_authenticate=_bool_attr(obj, a.ALWAYS_AUTHENTICATE),
            curve=curve,
        )

    def list_keys(self) -> list[KeyInfo]:
        """Every private key on the token."""
        with self._lock:
            self._check_open()
            return [self._info(obj) for obj in self._private_objects(None, None)]

    def find_key(self, *, label: str | None = None, key_id: bytes | None = None) -> KeyInfo:
        """The private key with *label* and/or *key_id* (:class:`TokenKeyNotFoundError`)."""
        if label is None and key_id is None:
            raise ValueError("give the key label or its id")
        with self._lock:
            self._check_open()
            objs = self._private_objects(label, key_id)
            if not objs:
                present = ", ".join(sorted(repr(k.label) for k in self.list_keys())) or "none"
                wanted = f"label {label!r}" if label is not None else f"id {key_id!r}"
                if label is not None and key_id is not None:
                    wanted = f"label {label!r} and id {key_id.hex()}"
                elif key_id is not None:
                    wanted = f"id {key_id.hex()}"
                raise TokenKeyNotFoundError(
                    f"no private key with {wanted} on token {self.token_label!r}"
                    f" (keys present: {present})"
                )
            if len(objs) > 1:
                raise TokenKeyNotFoundError(
                    f"{len(objs)} private keys match on token {self.token_label!r}:"
                    " select the key by its id"
                )
            return self._info(objs[0])

    def _private_object(self, key: KeyInfo) -> Any:
        objs = self._private_objects(key.label, key.id)
        if len(objs) != 1:
            raise TokenKeyNotFoundError(f"the key {key.label!r} is no longer on the token")
        return objs[0]

    def public_key(self, key: KeyInfo) -> PublicKey:
        """The public half of *key*, read from the token."""
        pkcs11 = _p11.p11()
        a = pkcs11.Attribute
        with self._lock:
            self._check_open()
            obj = self._private_object(key)
            if key.key_type == KeyType.RSA:
                n = int.from_bytes(bytes(obj[a.MODULUS]), "big")
                e = int.from_bytes(bytes(obj[a.PUBLIC_EXPONENT]), "big")
                return rsa.RSAPublicNumbers(e, n).public_key()
            attrs = {a.CLASS: pkcs11.ObjectClass.PUBLIC_KEY, a.ID: key.id}
            pubs = list(
                self._call("reading the public key", lambda: list(self._session.get_objects(attrs)))
            )
            if pubs:
                point = _unwrap_ec_point(bytes(pubs[0][a.EC_POINT]))
                oid = asn1_core.ObjectIdentifier.load(bytes(obj[a.EC_PARAMS])).dotted
                return ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[oid], point)
            cert = self._certificate_unlocked(key)
            if cert is None:
                raise TokenKeyNotFoundError(
                    f"the EC key {key.label!r} has neither a public key nor a certificate object"
                )
            public = cert.public_key()
            assert isinstance(public, ec.EllipticCurvePublicKey)
            return public

    def _certificate_objects(self, key: KeyInfo) -> list[Any]:
        pkcs11 = _p11.p11()
        a = pkcs11.Attribute
        attrs: dict[Any, Any] = {a.CLASS: pkcs11.ObjectClass.CERTIFICATE}
        if key.id:
            attrs[a.ID] = key.id
        else:
            attrs[a.LABEL] = key.label
        return list(
            self._call("searching certificates", lambda: list(self._session.get_objects(attrs)))
        )

    def _certificate_unlocked(self, key: KeyInfo) -> x509.Certificate | None:
        pkcs11 = _p11.p11()
        for obj in self._certificate_objects(key):
            try:
                return x509.load_der_x509_certificate(bytes(obj[pkcs11.Attribute.VALUE]))
            except ValueError:
                raise DecodingError(
                    f"the certificate stored for key {key.label!r} is not valid DER"
                ) from None
        return None

    def certificate(self, key: KeyInfo) -> x509.Certificate | None:
        """The certificate stored with *key* (same ``CKA_ID``), or ``None``."""
        with self._lock:
            self._check_open()
            return self._certificate_unlocked(key)

    def certificates(self) -> list[tuple[str, bytes, x509.Certificate]]:
        """Every certificate object as ``(label, id, certificate)``."""
        pkcs11 = _p11.p11()
        a = pkcs11.Attribute
        with self._lock:
            self._check_open()
            objs = self._call(
                "searching certificates",
                lambda: list(self._session.get_objects({a.CLASS: pkcs11.ObjectClass.CERTIFICATE})),
            )
            out = []
            for obj in objs:
                der = bytes(obj[a.VALUE])
                try:
                    cert = x509.load_der_x509_certificate(der)
                except ValueError:
                    continue
                out.append((str(obj[a.LABEL]), bytes(obj[a.ID]), cert))
            return out

    # -- generation and storage ---------------------------------------------------------

    def generate_key(
        self,
        spec: KeySpec,
        *,
        label: str,
        key_id: bytes | None = None,
        always_authenticate: bool = False,
    ) -> KeyInfo:
        """Generate a key pair **on the token** (needs a read/write session).

        The private key is ``CKA_TOKEN``, ``CKA_PRIVATE``, ``CKA_SENSITIVE`` and not
        ``CKA_EXTRACTABLE``, usable only to sign; the public key is stored next to it
        with the same label and id (default: 16 random bytes). A label already used
        by a private key is refused (:class:`~qcertlib.errors.TokenError`).
        """
        pkcs11 = _p11.p11()
        a = pkcs11.Attribute
        if not label:
            raise ValueError("a key label is required")
        if spec not in _RSA_BITS and spec not in _CURVE_OIDS:
            raise ValueError(f"key type {spec.value} cannot be generated on a token")
        new_id = key_id if key_id is not None else secrets.token_bytes(16)
        with self._lock:
            self._check_open()
            if self._private_objects(label, None):
                raise TokenError(f"a key labelled {label!r} already exists on the token")
            if self._private_objects(None, new_id):
                raise TokenError(f"a key with id {new_id.hex()} already exists on the token")
            private_template = {
                a.TOKEN: True,
                a.PRIVATE: True,
                a.SENSITIVE: True,
                a.EXTRACTABLE: False,
                a.SIGN: True,
                a.DECRYPT: False,
                a.UNWRAP: False,
                a.DERIVE: False,
            }
            if always_authenticate:
                private_template[a.ALWAYS_AUTHENTICATE] = True
            public_template: dict[Any, Any] = {
                a.TOKEN: True,
                a.VERIFY: True,
                a.ENCRYPT: False,
                a.WRAP: False,
            }
            flags = pkcs11.MechanismFlag.SIGN | pkcs11.MechanismFlag.VERIFY
            if spec in _RSA_BITS:
                self._call(
                    "generating an RSA key pair",
                    self._session.generate_keypair,
                    pkcs11.KeyType.RSA,
                    _RSA_BITS[spec],
                    id=new_id,
                    label=label,
                    store=True,
                    capabilities=flags,
                    public_template=public_template,
                    private_template=private_template,
                )
            else:
                oid = _CURVE_OIDS[spec]
                public_template[a.EC_PARAMS] = asn1_core.ObjectIdentifier(oid).dump()
                self._call(
                    "generating an EC key pair",
                    self._session.generate_keypair,
                    pkcs11.KeyType.EC,
                    id=new_id,
                    label=label,
                    store=True,
                    capabilities=flags,
                    public_template=public_template,
                    private_template=private_template,
                )
            return self.find_key(label=label, key_id=new_id)

    def store_certificate(
        self, certificate: x509.Certificate, *, key: KeyInfo, replace: bool = False
    ) -> None:
        """Store *certificate* next to *key* (same label and ``CKA_ID``).

        The certificate's public key must be the key's
        (:class:`~qcertlib.errors.TokenError` otherwise). An existing certificate
        with that id is replaced only with ``replace=True``.
        """
        fmt = serialization.PublicFormat.SubjectPublicKeyInfo
        enc = serialization.Encoding.DER
        if certificate.public_key().public_bytes(enc, fmt) != self.public_key(key).public_bytes(
            enc, fmt
        ):
            raise TokenError(
                f"the certificate does not belong to key {key.label!r}: its public key differs"
            )
        with self._lock:
            self._check_open()
            existing = self._certificate_objects(key)
            if existing and not replace:
                raise TokenError(
                    f"key {key.label!r} already has a certificate on the token"
                    " (use replace to overwrite it)"
                )
            for obj in existing:
                self._call("removing the old certificate", obj.destroy)
            self._create_certificate(certificate, label=key.label, object_id=key.id)

    def store_ca_certificate(self, certificate: x509.Certificate, *, label: str) -> None:
        """Store an issuer (CA) certificate on the token, as cards carry their chain.

        Its ``CKA_ID`` is its subject key identifier (empty without one). A
        certificate already on the token is left alone.
        """
        try:
            ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            object_id = ski.value.digest
        except x509.ExtensionNotFound:
            object_id = b""
        with self._lock:
            self._check_open()
            der = certificate.public_bytes(serialization.Encoding.DER)
            if any(
                c.public_bytes(serialization.Encoding.DER) == der for _, _, c in self.certificates()
            ):
                return
            self._create_certificate(certificate, label=label, object_id=object_id)

    def _create_certificate(
        self, certificate: x509.Certificate, *, label: str, object_id: bytes
    ) -> None:
        pkcs11 = _p11.p11()
        a = pkcs11.Attribute
        self._call(
            "storing the certificate",
            self._session.create_object,
            {
                a.CLASS: pkcs11.ObjectClass.CERTIFICATE,
                a.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                a.TOKEN: True,
                a.PRIVATE: False,
                a.MODIFIABLE: True,
                a.LABEL: label,
                a.ID: object_id,
                a.SUBJECT: certificate.subject.public_bytes(),
                a.ISSUER: certificate.issuer.public_bytes(),
                a.SERIAL_NUMBER: asn1_core.Integer(certificate.serial_number).dump(),
                a.VALUE: certificate.public_bytes(serialization.Encoding.DER),
            },
        )

    # -- signing --------------------------------------------------------------------------

    def sign_digests(
        self,
        key: KeyInfo,
        digests: Sequence[bytes],
        algorithm: DigestAlgorithm,
        mechanism: SignatureMechanism | None = None,
    ) -> list[bytes]:
        """Sign pre-hashed *digests* with *key*, in order, holding the session lock.

        ``mechanism`` defaults to PKCS#1 v1.5 for RSA and ECDSA for EC keys. ECDSA
        signatures are DER ``Ecdsa-Sig-Value``. Raises
        :class:`~qcertlib.errors.TokenMechanismError` if the token lacks the raw
        mechanism the key needs.
        """
        pkcs11 = _p11.p11()
        mech = mechanism or (
            SignatureMechanism.ECDSA
            if key.key_type == KeyType.EC
            else SignatureMechanism.RSA_PKCS1V15
        )
        size = algorithm.digest_size
        for d in digests:
            if len(d) != size:
                raise ValueError(f"digest is {len(d)} bytes, {algorithm.value} needs {size}")
        if (key.key_type == KeyType.EC) != (mech is SignatureMechanism.ECDSA):
            raise TokenMechanismError(
                f"mechanism {mech.value} cannot be used with a {key.key_type.upper()} key"
            )
        param: Any = None
        if mech is SignatureMechanism.RSA_PKCS1V15:
            p11_mech = pkcs11.Mechanism.RSA_PKCS
        elif mech is SignatureMechanism.RSA_PSS:
            p11_mech = pkcs11.Mechanism.RSA_PKCS_PSS
            hash_mech = getattr(pkcs11.Mechanism, algorithm.name)
            mgf = getattr(pkcs11.MGF, algorithm.name)
            param = (hash_mech, mgf, size)
        else:
            p11_mech = pkcs11.Mechanism.ECDSA
        with self._lock:
            self._check_open()
            if p11_mech not in self.mechanisms():
                raise TokenMechanismError(
                    f"token {self.token_label!r} does not offer {p11_mech.name}, which a"
                    f" {mech.value} signature over a host-computed hash needs"
                )
            if key.always_authenticate and self._pin is None:
                raise TokenError(
                    f"key {key.label!r} needs the PIN for every signature"
                    " (CKA_ALWAYS_AUTHENTICATE), but the session was opened without one"
                )
            obj = self._private_object(key)
            out: list[bytes] = []
            for digest in digests:
                data = (
                    _DIGEST_INFO_PREFIX[algorithm] + digest
                    if mech is SignatureMechanism.RSA_PKCS1V15
                    else digest
                )
                kwargs: dict[str, Any] = {"mechanism": p11_mech}
                if param is not None:
                    kwargs["mechanism_param"] = param
                if key.always_authenticate:
                    kwargs["pin"] = self._pin
                    self._context_logins += 1
                raw = self._call(f"signing with key {key.label!r}", obj.sign, data, **kwargs)
                if mech is SignatureMechanism.ECDSA:
                    half = len(raw) // 2
                    raw = utils.encode_dss_signature(
                        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
                    )
                out.append(bytes(raw))
            return out


def spki_der(public_key: PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo of *public_key*."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_info(public_key: PublicKey) -> asn1_keys.PublicKeyInfo:
    """The asn1crypto view of *public_key* (for building CSRs)."""
    return asn1_keys.PublicKeyInfo.load(spki_der(public_key))
