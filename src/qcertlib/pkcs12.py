"""PKCS#12 (``.p12`` / ``.pfx``) files: load every key, write files every client accepts.

* :func:`load_pkcs12` returns a :class:`KeyStore` with **every** private key
  (each matched to its certificate by ``localKeyId``, else by public key), the
  other certificates (CA chain) and the friendly names. Legacy files (RC2-40,
  3DES, SHA-1 MAC, BER with indefinite lengths, as FNMT-RCM and Windows write
  them) load as well as modern AES/PBKDF2 ones.
* :func:`dump_pkcs12` / :func:`write_pkcs12` write a file with an explicit
  compatibility profile (:class:`Pkcs12Compat`) and enforce a :class:`PinPolicy`.
* :func:`inspect_pkcs12` tells what is inside, with or without the password.

Errors: the MAC (the file's integrity check) is verified **before** anything is
decrypted, so that :class:`~qcertlib.errors.Pkcs12PasswordError` (wrong PIN),
:class:`~qcertlib.errors.Pkcs12CorruptError` (truncated, altered, not PKCS#12) and
:class:`~qcertlib.errors.Pkcs12UnsupportedError` (well-formed, algorithm we do not
implement) are distinct. When the MAC fails, the password is tried on the
encrypted contents: if it decrypts them to a well-formed structure, the file was
altered (corrupt), otherwise the password is wrong. No message or ``repr``
contains the password or key material.

Passwords: the PKCS#12 key derivation and the MAC take the password as a
BMPString (UTF-16BE plus two zero bytes, RFC 7292 Appendix B.1); PBES2/PBKDF2
takes it as UTF-8 bytes. That is what OpenSSL 3, Java and NSS do, so non-ASCII
PINs interoperate. ``bytes`` passwords are read as UTF-8 (Latin-1 if not valid
UTF-8). ``None`` means "no password": both the NULL and the empty password are tried.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

from qcertlib import _pkcs12_codec as codec
from qcertlib import _pkcs12_crypto as pcrypto
from qcertlib import _pkcs12_der as asn1
from qcertlib._io import write_atomic
from qcertlib.errors import (
    PinPolicyError,
    Pkcs12Error,
    Pkcs12UnsupportedError,
    QcertError,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

__all__ = [
    "DEFAULT_ITERATIONS",
    "BagInfo",
    "KeyEntry",
    "KeyStore",
    "MacInfo",
    "PinPolicy",
    "Pkcs12Compat",
    "Pkcs12Info",
    "dump_pkcs12",
    "inspect_pkcs12",
    "load_pkcs12",
    "write_pkcs12",
]


class Pkcs12Compat(enum.Enum):
    """Compatibility profile of a written file.

    ``MODERN``: keys and certificates under PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC),
    HMAC-SHA256 MAC. Read by OpenSSL 1.1.1+/3 (without ``-legacy``), Java 11.0.12+/17,
    NSS, Windows 10 (1709+) and macOS.

    ``LEGACY``: keys and certificates under pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1
    MAC. For old Windows (7/8, Server 2012), Java 8 and other old clients. It uses no
    RC2, so OpenSSL 3 reads it **without** ``-legacy``.
    """

    MODERN = "modern"
    LEGACY = "legacy"


#: Default iteration counts (PBKDF2 for the contents, RFC 7292 KDF for the MAC).
#:
#: MODERN uses 600,000: the OWASP (2023) figure for PBKDF2-HMAC-SHA256. The MAC uses
#: the same count because an attacker tests guesses against the cheapest check, and
#: the RFC 7292 KDF costs one SHA-256 per iteration (PBKDF2 two): 600,000 for the
#: MAC is already the weakest link. On this project's CI machine (AMD EPYC, 2020s)
#: loading or writing such a file takes about half a second (two PBKDF2 runs of
#: ~0.14 s and a MAC of ~0.19 s), which is fine for an operation done once per
#: session. OpenSSL's default of 2048 dates from 2000-era hardware: a 6-digit PIN
#: falls to a GPU in well under a second at 2048, in minutes at 600,000.
#:
#: LEGACY uses 100,000 (the order of magnitude FNMT-RCM's own downloads use: 51,200
#: for the contents, 102,400 for the MAC; known to import into the old Windows and
#: Java 8 clients that profile is for). Our RFC 7292 KDF is pure Python and 3DES
#: needs three derivations per encrypted part, so a higher count would make our
#: own loads slow without protecting a PIN that LEGACY's 3DES/SHA-1 only weakly
#: protects anyway.
DEFAULT_ITERATIONS: Mapping[Pkcs12Compat, int] = MappingProxyType(
    {Pkcs12Compat.MODERN: 600_000, Pkcs12Compat.LEGACY: 100_000}
)


@dataclass(frozen=True, slots=True)
class PinPolicy:
    """What a new PKCS#12 PIN must satisfy: at least ``min_length`` characters,
    and not empty unless ``allow_empty``.

    ``ascii_only``: refuse non-ASCII characters. Set it when the file is for Java:
    Java's PBE keys accept only ASCII passwords, so ``keytool`` and Java applications
    cannot open a PKCS#12 file protected by a PIN such as ``"contraseña"`` (OpenSSL,
    NSS, Windows and qcertlib can).
    """

    min_length: int = 4
    allow_empty: bool = False
    ascii_only: bool = False

    def check(self, pin: str) -> None:
        """Raise :class:`~qcertlib.errors.PinPolicyError` if *pin* is not acceptable.

        The message never contains the PIN (nor its length).
        """
        if not isinstance(pin, str):
            raise TypeError("the PIN must be a str")
        if pin == "":
            if self.allow_empty:
                return
            raise PinPolicyError("an empty PIN is not allowed: choose a PIN")
        if len(pin) < self.min_length:
            raise PinPolicyError(f"the PIN is too short: use at least {self.min_length} characters")
        if self.ascii_only and not pin.isascii():
            raise PinPolicyError(
                "the PIN has non-ASCII characters (such as ñ or €), which Java cannot use: "
                "use only ASCII letters, digits and symbols"
            )


def _describe_key(key: object) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, x25519.X25519PrivateKey | x25519.X25519PublicKey):
        return "X25519"
    if isinstance(key, x448.X448PrivateKey | x448.X448PublicKey):
        return "X448"
    return type(key).__name__


def _subject_text(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string()
    except Exception:
        return "<unreadable subject>"


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A private key with its certificate, friendly name and ``localKeyId``.

    The ``repr`` shows the key type and the certificate subject, never key material.
    """

    private_key: PrivateKeyTypes = field(repr=False)
    certificate: x509.Certificate | None
    friendly_name: str | None = None
    local_key_id: bytes | None = None

    def __repr__(self) -> str:
        subject = None if self.certificate is None else _subject_text(self.certificate)
        lkid = None if self.local_key_id is None else self.local_key_id.hex()
        return (
            f"KeyEntry(key={_describe_key(self.private_key)}, certificate={subject!r}, "
            f"friendly_name={self.friendly_name!r}, local_key_id={lkid!r})"
        )

    @property
    def key_type(self) -> str:
        """``"RSA 2048"``, ``"EC secp256r1"``, ``"Ed25519"``..."""
        return _describe_key(self.private_key)


@dataclass(frozen=True, slots=True)
class KeyStore:
    """The contents of a PKCS#12 file.

    ``keys``: every private key, each with its own certificate.
    ``certificates``: the other certificates (CA chain, ...), in file order, each
    once (a certificate repeated in the file appears once).
    ``friendly_names``: parallel to ``certificates`` — the friendlyName of each
    (``None`` where it has none). Passing ``()`` means "no names". The names of the
    keys are in :attr:`KeyEntry.friendly_name`.
    """

    keys: tuple[KeyEntry, ...] = ()
    certificates: tuple[x509.Certificate, ...] = ()
    friendly_names: tuple[str | None, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "certificates", tuple(self.certificates))
        names = tuple(self.friendly_names) or (None,) * len(self.certificates)
        if len(names) != len(self.certificates):
            raise ValueError("friendly_names must be parallel to certificates")
        object.__setattr__(self, "friendly_names", names)
        for entry in self.keys:
            if not isinstance(entry, KeyEntry):
                raise TypeError("keys must be KeyEntry values")
        for cert in self.certificates:
            if not isinstance(cert, x509.Certificate):
                raise TypeError("certificates must be x509.Certificate values")

    @property
    def key(self) -> KeyEntry:
        """The first key entry (most files hold exactly one)."""
        if not self.keys:
            raise Pkcs12Error("the PKCS#12 file holds no private key")
        return self.keys[0]

    def chain_for(self, entry: KeyEntry) -> tuple[x509.Certificate, ...]:
        """The issuer chain of *entry*'s certificate found among :attr:`certificates`
        (matched by issuer name and, when present, authority/subject key identifiers),
        leaf excluded, issuer first."""
        current = entry.certificate
        if current is None:
            return ()
        pool = list(self.certificates)
        chain: list[x509.Certificate] = []
        seen = {current.fingerprint(_SHA256)}
        try:
            while current.subject != current.issuer:
                issuer = _find_issuer(current, pool)
                if issuer is None:
                    break
                fingerprint = issuer.fingerprint(_SHA256)
                if fingerprint in seen:
                    break
                seen.add(fingerprint)
                chain.append(issuer)
                current = issuer
        except ValueError:  # a name cryptography cannot parse ends the chain there
            pass
        return tuple(chain)

    @classmethod
    def single(
        cls,
        key: PrivateKeyTypes,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        friendly_name: str | None = None,
    ) -> KeyStore:
        """A store with one key, its certificate and its chain (what most files hold)."""
        return cls(
            keys=(KeyEntry(key, certificate, friendly_name, None),),
            certificates=tuple(chain),
        )

    def friendly_name_of(self, certificate: x509.Certificate) -> str | None:
        """The friendly name of one of :attr:`certificates` (or of a key's certificate)."""
        for cert, name in zip(self.certificates, self.friendly_names, strict=True):
            if cert == certificate:
                return name
        for entry in self.keys:
            if entry.certificate == certificate:
                return entry.friendly_name
        return None


_SHA256 = hashes.SHA256()


def _key_identifier(cert: x509.Certificate, ext_class: type) -> bytes | None:
    try:
        ext: object = cert.extensions.get_extension_for_class(ext_class).value
    except Exception:
        return None
    if isinstance(ext, x509.SubjectKeyIdentifier):
        return ext.digest
    if isinstance(ext, x509.AuthorityKeyIdentifier):
        return ext.key_identifier
    return None


def _find_issuer(
    cert: x509.Certificate, pool: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    aki = _key_identifier(cert, x509.AuthorityKeyIdentifier)
    fallback: x509.Certificate | None = None
    for candidate in pool:
        if candidate.subject != cert.issuer:
            continue
        ski = _key_identifier(candidate, x509.SubjectKeyIdentifier)
        if aki is None or ski is None:
            fallback = fallback or candidate
        elif aki == ski:
            return candidate
    return fallback


# --- inspection ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MacInfo:
    """The file's integrity check (MAC)."""

    algorithm: str  # "SHA256", "SHA1", ...
    iterations: int
    salt_length: int
    verified: bool  # True only when a password was given and the MAC verified


@dataclass(frozen=True, slots=True)
class BagInfo:
    """One bag (or one encrypted set of bags that could not be opened).

    ``kind``: ``"key"`` (plain key), ``"shrouded-key"``, ``"certificate"``,
    ``"crl"``, ``"secret"``, ``"other"`` or ``"encrypted-safe"`` (contents not
    readable: no password given, or an unsupported algorithm). ``encryption`` and
    ``iterations`` describe what protects the bag (its own encryption for keys, the
    encrypted safe's for bags inside one). ``subject`` and ``key_type`` are set when
    the bag could be read.
    """

    kind: str
    encryption: str | None = None
    iterations: int | None = None
    friendly_name: str | None = None
    local_key_id: bytes | None = None
    subject: str | None = None
    key_type: str | None = None
    supported: bool = True


@dataclass(frozen=True, slots=True)
class Pkcs12Info:
    """What :func:`inspect_pkcs12` found."""

    mac: MacInfo | None
    bags: tuple[BagInfo, ...]


# --- loading ------------------------------------------------------------------------


def _check_data(data: object) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError("PKCS#12 data must be bytes")


def _check_password(password: object) -> str | None:
    if password is not None and not isinstance(password, str | bytes):
        raise TypeError("the password must be str, bytes or None")
    return pcrypto.password_text(password)


def _try_key(der: bytes) -> PrivateKeyTypes | None:
    try:
        return serialization.load_der_private_key(der, password=None)
    except _CryptoUnsupported:
        raise codec._unsupported("a private key algorithm cryptography cannot load") from None
    except Exception:
        return None


def _load_key(pkcs8: bytes) -> PrivateKeyTypes:
    key = _try_key(pkcs8)
    if key is None:  # BER encodings: retry once as DER
        try:
            key = _try_key(asn1.to_der(asn1.parse_single(pkcs8)))
        except asn1.Asn1Error:
            key = None
    if key is None:
        raise codec._corrupt("a private key inside is malformed")
    return key


def _try_cert(der: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(der)
    except Exception:
        return None


def _load_cert(bag: codec.RawBag) -> x509.Certificate:
    try:
        cert_type, inner = bag.value.seq(2, 2)
        if cert_type.as_oid() != codec.OID_X509_CERTIFICATE:
            raise codec._unsupported(f"a certificate bag of type {cert_type.as_oid()}")
        payload = inner.explicit_inner(0).as_octets()
        cert = _try_cert(payload)
        if cert is None:  # BER encodings: retry once as DER
            cert = _try_cert(asn1.to_der(asn1.parse_single(payload)))
    except asn1.Asn1Error as exc:
        raise codec._corrupt(str(exc)) from None
    if cert is None:
        raise codec._corrupt("a certificate inside is malformed")
    return cert


def _public_der(key: object) -> bytes | None:
    try:
        return key.public_key().public_bytes(  # type: ignore[attr-defined,no-any-return]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except Exception:
        return None


def _all_bags(opened: codec.OpenedPfx) -> list[codec.RawBag]:
    bags: list[codec.RawBag] = []
    for safe in opened.raw.safes:
        if safe.encrypted:
            bags.extend(codec.decrypt_safe(opened, safe))
        else:
            bags.extend(safe.bags or ())
    return bags


def _open(data: bytes, password: str | None) -> codec.OpenedPfx:
    raw = codec.parse_pfx(data)
    return codec.verify_mac(raw, password)


def load_pkcs12(data: bytes, password: str | bytes | None) -> KeyStore:
    """Load a PKCS#12 file: every key with its certificate, plus the other certificates.

    Plain and shrouded key bags, X.509 certificate bags, nested safe-contents bags and
    the friendlyName / localKeyId attributes are read; CRL and secret bags are skipped
    (:func:`inspect_pkcs12` lists them).

    Raises :class:`~qcertlib.errors.Pkcs12PasswordError`,
    :class:`~qcertlib.errors.Pkcs12CorruptError` or
    :class:`~qcertlib.errors.Pkcs12UnsupportedError` (all
    :class:`~qcertlib.errors.Pkcs12Error`); nothing else on bad input.
    """
    blob = _check_data(data)
    text = _check_password(password)
    try:
        return _load(blob, text)
    except QcertError:
        raise
    except Exception as exc:
        raise codec._corrupt(f"unreadable ({type(exc).__name__})") from None


def _load(data: bytes, password: str | None) -> KeyStore:
    opened = _open(data, password)
    keys: list[tuple[PrivateKeyTypes, codec.RawBag]] = []
    certs: list[tuple[x509.Certificate, codec.RawBag]] = []
    for bag in _all_bags(opened):
        if bag.kind == "shrouded-key":
            keys.append((_load_key(codec.decrypt_key_bag(opened, bag)), bag))
        elif bag.kind == "key":
            keys.append((_load_key(bag.value.raw), bag))
        elif bag.kind == "certificate":
            certs.append((_load_cert(bag), bag))
    taken: set[int] = set()
    entries: list[KeyEntry] = []
    cert_keys = [_public_der(cert) for cert, _ in certs]
    for key, key_bag in keys:
        match: int | None = None
        if key_bag.local_key_id is not None:
            match = next(
                (
                    i
                    for i, (_, cert_bag) in enumerate(certs)
                    if i not in taken and cert_bag.local_key_id == key_bag.local_key_id
                ),
                None,
            )
        if match is None:
            public = _public_der(key)
            match = next(
                (
                    i
                    for i, spki in enumerate(cert_keys)
                    if i not in taken and public is not None and spki == public
                ),
                None,
            )
        cert: x509.Certificate | None = None
        name = key_bag.friendly_name
        lkid = key_bag.local_key_id
        if match is not None:
            taken.add(match)
            cert, cert_bag = certs[match]
            name = name if name is not None else cert_bag.friendly_name
            lkid = lkid if lkid is not None else cert_bag.local_key_id
        entries.append(KeyEntry(key, cert, name, lkid))
    # The other certificates, without repeats (FNMT's two-key file carries its root twice).
    seen = {entry.certificate for entry in entries if entry.certificate is not None}
    rest: list[tuple[x509.Certificate, codec.RawBag]] = []
    for i, (cert, bag) in enumerate(certs):
        if i not in taken and cert not in seen:
            seen.add(cert)
            rest.append((cert, bag))
    return KeyStore(
        keys=tuple(entries),
        certificates=tuple(cert for cert, _ in rest),
        friendly_names=tuple(bag.friendly_name for _, bag in rest),
    )


def inspect_pkcs12(data: bytes, password: str | bytes | None = None) -> Pkcs12Info:
    """Describe a PKCS#12 file: MAC algorithm and iterations, and each bag's type,
    encryption algorithm, iterations, friendly name, and subject / key type where
    readable. Without a password only the unencrypted parts are described (the MAC
    is not checked); with one, the MAC is checked first as in :func:`load_pkcs12`.
    """
    blob = _check_data(data)
    text = _check_password(password)
    try:
        return _inspect(blob, text, password is not None)
    except QcertError:
        raise
    except Exception as exc:
        raise codec._corrupt(f"unreadable ({type(exc).__name__})") from None


def _bag_info(
    bag: codec.RawBag,
    opened: codec.OpenedPfx | None,
    encryption: str | None,
    iterations: int | None,
) -> BagInfo:
    subject = key_type = None
    supported = True
    if bag.kind == "certificate":
        try:
            cert = _load_cert(bag)
            subject = _subject_text(cert)
        except Pkcs12UnsupportedError:
            supported = False
    elif bag.kind == "key":
        key_type = _describe_key(_load_key(bag.value.raw))
    elif bag.kind == "shrouded-key":
        alg = bag.value.seq(2, 2)[0]
        encryption, iterations, supported = codec.describe_pbe(alg)
        if opened is not None and supported:
            key_type = _describe_key(_load_key(codec.decrypt_key_bag(opened, bag)))
    return BagInfo(
        kind=bag.kind,
        encryption=encryption,
        iterations=iterations,
        friendly_name=bag.friendly_name,
        local_key_id=bag.local_key_id,
        subject=subject,
        key_type=key_type,
        supported=supported,
    )


def _inspect(data: bytes, password: str | None, have_password: bool) -> Pkcs12Info:
    raw = codec.parse_pfx(data)
    opened = codec.verify_mac(raw, password) if have_password else None
    mac = None
    if raw.mac is not None:
        mac = MacInfo(
            algorithm=pcrypto.algorithm_name(raw.mac.digest_oid),
            iterations=raw.mac.iterations,
            salt_length=len(raw.mac.salt),
            verified=opened is not None and opened.mac_verified,
        )
    infos: list[BagInfo] = []
    for safe in raw.safes:
        if not safe.encrypted:
            infos.extend(_bag_info(bag, opened, None, None) for bag in safe.bags or ())
            continue
        assert safe.algorithm is not None
        name, iterations, supported = codec.describe_pbe(safe.algorithm)
        if opened is None or not supported:
            infos.append(BagInfo("encrypted-safe", name, iterations, supported=supported))
            continue
        for bag in codec.decrypt_safe(opened, safe):
            infos.append(_bag_info(bag, opened, name, iterations))
    return Pkcs12Info(mac=mac, bags=tuple(infos))


# --- writing ---------------------------------------------------------------------------


def _pkcs8(key: PrivateKeyTypes) -> bytes:
    try:
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    except Exception:
        raise Pkcs12Error(
            f"this private key ({_describe_key(key)}) cannot be stored in a PKCS#12 file"
        ) from None


def dump_pkcs12(
    store: KeyStore,
    password: str,
    *,
    compat: Pkcs12Compat = Pkcs12Compat.MODERN,
    pin_policy: PinPolicy | None = PinPolicy(),
    iterations: int | None = None,
) -> bytes:
    """Encode *store* as a DER PKCS#12 file protected by *password*.

    Every key goes into its own shrouded key bag, every certificate (keys'
    certificates first, then the chain) into one encrypted safe; each key and its
    certificate share a ``localKeyId`` (the one in the entry, else the SHA-1 of the
    certificate, as OpenSSL does) and the entry's friendly name. *pin_policy*
    (``None`` to skip) is checked first; *iterations* overrides
    :data:`DEFAULT_ITERATIONS` for both the contents and the MAC.
    """
    if not isinstance(store, KeyStore):
        raise TypeError("store must be a KeyStore")
    if not isinstance(password, str):
        raise TypeError("the password must be a str")
    if not isinstance(compat, Pkcs12Compat):
        raise TypeError("compat must be a Pkcs12Compat")
    if pin_policy is not None:
        pin_policy.check(password)
    count = DEFAULT_ITERATIONS[compat] if iterations is None else iterations
    if not isinstance(count, int) or not 1 <= count <= pcrypto.MAX_ITERATIONS:
        raise ValueError(f"iterations must be between 1 and {pcrypto.MAX_ITERATIONS:,}")
    key_specs: list[codec.BagSpec] = []
    cert_specs: list[codec.BagSpec] = []
    used_ids: set[bytes] = set()
    written: set[bytes] = set()
    for index, entry in enumerate(store.keys):
        pkcs8 = _pkcs8(entry.private_key)
        cert_der = None
        if entry.certificate is not None:
            cert_der = entry.certificate.public_bytes(serialization.Encoding.DER)
            if _public_der(entry.certificate) != _public_der(entry.private_key):
                raise Pkcs12Error(
                    f"key entry {index + 1}: the private key does not match its certificate"
                )
        lkid = entry.local_key_id
        if lkid is None or lkid in used_ids:
            basis = cert_der if cert_der is not None else (_public_der(entry.private_key) or pkcs8)
            lkid = hashlib.sha1(basis, usedforsecurity=False).digest()
            if lkid in used_ids:
                lkid += index.to_bytes(4, "big")
        used_ids.add(lkid)
        key_specs.append(codec.BagSpec(pkcs8, entry.friendly_name, lkid))
        if cert_der is not None:
            cert_specs.append(codec.BagSpec(cert_der, entry.friendly_name, lkid))
            written.add(cert_der)
    for cert, name in zip(store.certificates, store.friendly_names, strict=True):
        der = cert.public_bytes(serialization.Encoding.DER)
        if der in written:
            continue
        written.add(der)
        cert_specs.append(codec.BagSpec(der, name, None))
    if compat is Pkcs12Compat.MODERN:
        key_pbe = pcrypto.new_pbes2_aes256(count)
        cert_pbe = pcrypto.new_pbes2_aes256(count)
        mac_digest = "sha256"
    else:
        key_pbe = pcrypto.new_pbe_3des(count)
        cert_pbe = pcrypto.new_pbe_3des(count)
        mac_digest = "sha1"
    return codec.build_pfx(
        keys=key_specs,
        certificates=cert_specs,
        password=password,
        key_pbe=key_pbe,
        cert_pbe=cert_pbe,
        mac_digest=mac_digest,
        mac_iterations=count,
    )


def write_pkcs12(
    path: str | os.PathLike[str],
    store: KeyStore,
    password: str,
    *,
    compat: Pkcs12Compat = Pkcs12Compat.MODERN,
    pin_policy: PinPolicy | None = PinPolicy(),
    iterations: int | None = None,
) -> Path:
    """:func:`dump_pkcs12` then write atomically with mode 0600; returns the path."""
    data = dump_pkcs12(store, password, compat=compat, pin_policy=pin_policy, iterations=iterations)
    return write_atomic(path, data, mode=0o600)
