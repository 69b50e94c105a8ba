"""Private: the PKCS#12 (RFC 7292) container, parsed and written without a third-party loader.

`parse_pfx` checks the structure, `verify_mac` the MAC (before anything is
decrypted), and yields the bags; :func:`build_pfx` writes DER. Errors surface as
the public ``Pkcs12*Error`` types; nothing from a dependency escapes, and no
message contains the password or key bytes.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field, replace

from qcertlib import _pkcs12_der as asn1
from qcertlib._pkcs12_crypto import (
    DIGEST_OIDS,
    BadDecryption,
    PbeParams,
    UnsupportedAlgorithm,
    bmp_password,
    compute_mac,
    mac_digest_name,
    parse_pbe,
)
from qcertlib.errors import Pkcs12CorruptError, Pkcs12PasswordError, Pkcs12UnsupportedError

__all__ = [
    "BagKind",
    "BagSpec",
    "OpenedPfx",
    "RawBag",
    "RawMac",
    "RawPfx",
    "RawSafe",
    "build_pfx",
    "decrypt_key_bag",
    "decrypt_safe",
    "describe_pbe",
    "parse_pfx",
    "verify_mac",
]

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"

OID_KEY_BAG = "1.2.840.113549.1.12.10.1.1"
OID_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3"
OID_CRL_BAG = "1.2.840.113549.1.12.10.1.4"
OID_SECRET_BAG = "1.2.840.113549.1.12.10.1.5"  # noqa: S105 - an OID, not a secret
OID_SAFE_CONTENTS_BAG = "1.2.840.113549.1.12.10.1.6"

OID_X509_CERTIFICATE = "1.2.840.113549.1.9.22.1"
OID_FRIENDLY_NAME = "1.2.840.113549.1.9.20"
OID_LOCAL_KEY_ID = "1.2.840.113549.1.9.21"

BagKind = str  # "key", "shrouded-key", "certificate", "crl", "secret", "other"
_BAG_KINDS = {
    OID_KEY_BAG: "key",
    OID_SHROUDED_KEY_BAG: "shrouded-key",
    OID_CERT_BAG: "certificate",
    OID_CRL_BAG: "crl",
    OID_SECRET_BAG: "secret",
}

_MAX_SAFE_NESTING = 4


def _corrupt(detail: str) -> Pkcs12CorruptError:
    return Pkcs12CorruptError(
        f"the file is not a valid PKCS#12 (.p12/.pfx) file or it is damaged ({detail}); "
        "download or export it again"
    )


def _unsupported(what: str) -> Pkcs12UnsupportedError:
    return Pkcs12UnsupportedError(
        f"the PKCS#12 file uses {what}, which qcertlib does not support; "
        "re-export it with a common algorithm (e.g. `openssl pkcs12 -export`)"
    )


# --- parsed structure -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawMac:
    digest_oid: str
    value: bytes
    salt: bytes
    iterations: int


@dataclass(slots=True)
class RawBag:
    """A SafeBag; ``value`` is the bag's inner element (after [0] EXPLICIT)."""

    kind: BagKind
    bag_oid: str
    value: asn1.Tlv
    friendly_name: str | None = None
    local_key_id: bytes | None = None


@dataclass(slots=True)
class RawSafe:
    """One ContentInfo of the authenticated safe."""

    encrypted: bool
    bags: list[RawBag] | None = None  # None while encrypted
    algorithm: asn1.Tlv | None = None  # encryption AlgorithmIdentifier
    ciphertext: bytes = b""


@dataclass(slots=True)
class RawPfx:
    mac: RawMac | None
    mac_content: bytes
    safes: list[RawSafe] = field(default_factory=list)


def parse_pfx(data: bytes) -> RawPfx:
    """Parse everything that is not encrypted; raise Pkcs12Corrupt/UnsupportedError."""
    try:
        return _parse_pfx(data)
    except asn1.Asn1Error as exc:
        raise _corrupt(str(exc)) from None
    except UnsupportedAlgorithm as exc:
        raise _unsupported(exc.what) from None


def _parse_pfx(data: bytes) -> RawPfx:
    top = asn1.parse_single(data).seq(2, 3)
    version = top[0].as_int()
    if version != 3:
        raise asn1.Asn1Error(f"PFX version {version} (expected 3)")
    content_type, content = _content_info(top[1])
    if content_type == OID_SIGNED_DATA:
        raise UnsupportedAlgorithm("public-key integrity mode (a signed authenticated safe)")
    if content_type != OID_DATA or content is None:
        raise asn1.Asn1Error("the authenticated safe is not 'data'")
    mac_content = content.as_octets()
    mac = _parse_mac(top[2]) if len(top) == 3 else None
    pfx = RawPfx(mac=mac, mac_content=mac_content)
    for info in asn1.parse_single(mac_content).seq():
        ctype, inner = _content_info(info)
        if inner is None:
            raise asn1.Asn1Error("empty ContentInfo")
        if ctype == OID_DATA:
            pfx.safes.append(RawSafe(encrypted=False, bags=_safe_contents(inner.as_octets(), 0)))
        elif ctype == OID_ENCRYPTED_DATA:
            algorithm, ciphertext = _encrypted_data(inner)
            pfx.safes.append(RawSafe(encrypted=True, algorithm=algorithm, ciphertext=ciphertext))
        elif ctype == OID_ENVELOPED_DATA:
            raise UnsupportedAlgorithm("public-key privacy mode (envelopedData)")
        else:
            raise asn1.Asn1Error(f"unexpected content type {ctype}")
    return pfx


def _content_info(element: asn1.Tlv) -> tuple[str, asn1.Tlv | None]:
    items = element.seq(1, 2)
    ctype = items[0].as_oid()
    inner = items[1].explicit_inner(0) if len(items) == 2 else None
    return ctype, inner


def _parse_mac(element: asn1.Tlv) -> RawMac:
    items = element.seq(2, 3)
    digest_info = items[0].seq(2, 2)
    algorithm = digest_info[0].seq(1, 2)
    digest_oid = algorithm[0].as_oid()
    iterations = items[2].as_int() if len(items) == 3 else 1
    if iterations < 1:
        raise asn1.Asn1Error("MAC iteration count below 1")
    return RawMac(
        digest_oid=digest_oid,
        value=digest_info[1].as_octets(),
        salt=items[1].as_octets(),
        iterations=iterations,
    )


def _encrypted_data(element: asn1.Tlv) -> tuple[asn1.Tlv, bytes]:
    items = element.seq(2, 3)
    items[0].as_int()
    eci = items[1].seq(2, 3)
    if eci[0].as_oid() != OID_DATA:
        raise asn1.Asn1Error("encrypted content is not 'data'")
    algorithm = eci[1]
    algorithm.seq(1, 2)
    if len(eci) != 3 or not eci[2].is_context(0):
        raise asn1.Asn1Error("encrypted content missing")
    return algorithm, eci[2].octets()


def _safe_contents(data: bytes, depth: int) -> list[RawBag]:
    if depth > _MAX_SAFE_NESTING:
        raise asn1.Asn1Error("safe contents nested too deeply")
    bags: list[RawBag] = []
    for element in asn1.parse_single(data).seq():
        items = element.seq(2, 3)
        bag_oid = items[0].as_oid()
        value = items[1].explicit_inner(0)
        if bag_oid == OID_SAFE_CONTENTS_BAG:
            bags.extend(_safe_contents(value.raw, depth + 1))
            continue
        bag = RawBag(kind=_BAG_KINDS.get(bag_oid, "other"), bag_oid=bag_oid, value=value)
        if len(items) == 3:
            _attributes(items[2], bag)
        if bag.kind == "shrouded-key":
            value.seq(2, 2)[0].seq(1, 2)
        elif bag.kind == "certificate":
            value.seq(2, 2)[0].as_oid()
        bags.append(bag)
    return bags


def _attributes(element: asn1.Tlv, bag: RawBag) -> None:
    element.expect(asn1.SET, constructed=True)
    for attribute in element.children():
        items = attribute.seq(2, 2)
        attr_oid = items[0].as_oid()
        items[1].expect(asn1.SET, constructed=True)
        values = items[1].children()
        if not values:
            raise asn1.Asn1Error("attribute without a value")
        if attr_oid == OID_FRIENDLY_NAME:
            text = values[0].expect(asn1.BMP_STRING).octets()
            if len(text) % 2:
                raise asn1.Asn1Error("odd-length BMPString")
            bag.friendly_name = text.decode("utf-16-be", errors="replace")
        elif attr_oid == OID_LOCAL_KEY_ID:
            bag.local_key_id = values[0].as_octets()


# --- opening: MAC first, then decryption -------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    bmp: bytes  # for the PKCS#12 KDF (MAC, PKCS#12 PBE)
    text: str | None  # for PBKDF2 (UTF-8)


def _candidates(password: str | None) -> list[_Candidate]:
    if password is None:
        return [_Candidate(b"", None), _Candidate(bmp_password(""), "")]
    out = [_Candidate(bmp_password(password), password)]
    if password == "":
        out.append(_Candidate(b"", None))
    if not password.isascii():
        # Files from OpenSSL < 1.1 turned UTF-8 bytes into a BMPString byte by byte;
        # OpenSSL 3 still accepts them, and so do we.
        broken = password.encode("utf-8").decode("latin-1")
        out.append(_Candidate(bmp_password(broken), broken))
    return out


@dataclass(slots=True)
class OpenedPfx:
    """A PFX whose MAC verified (or that has none), with the password that opened it."""

    raw: RawPfx
    password: str | None
    mac_verified: bool


def verify_mac(raw: RawPfx, password: str | None) -> OpenedPfx:
    """Check the MAC with the password; distinguish a wrong password from damage."""
    if raw.mac is None:
        return OpenedPfx(raw, password, mac_verified=False)
    mac = raw.mac
    try:
        digest = mac_digest_name(mac.digest_oid)
        candidates = _candidates(password)
        for candidate in candidates:
            expected = compute_mac(digest, candidate.bmp, mac.salt, mac.iterations, raw.mac_content)
            if hmac.compare_digest(expected, mac.value):
                return OpenedPfx(raw, candidate.text, mac_verified=True)
        probe = _password_opens_something(raw, candidates[0].text)
    except UnsupportedAlgorithm as exc:
        raise _unsupported(exc.what) from None
    except asn1.Asn1Error as exc:
        raise _corrupt(str(exc)) from None
    if probe:
        raise _corrupt(
            "the integrity check (MAC) fails although the password decrypts the contents: "
            "the file was altered after it was made"
        )
    raise Pkcs12PasswordError(
        "wrong password (PIN) for this PKCS#12 file: its integrity check does not verify "
        "(if you are sure of the password, the file may be damaged)"
    )


def _password_opens_something(raw: RawPfx, password: str | None) -> bool:
    """After a MAC failure: does the password decrypt some encrypted part to a
    well-formed structure? Then the password is right and the file was altered."""
    # keys first: they are small and usually 3DES/AES (fast); encrypted safes may be RC2
    keys: list[tuple[asn1.Tlv, bytes, bool]] = []
    safes: list[tuple[asn1.Tlv, bytes, bool]] = []
    for safe in raw.safes:
        if safe.encrypted and safe.algorithm is not None:
            safes.append((safe.algorithm, safe.ciphertext, False))
        for bag in safe.bags or ():
            if bag.kind == "shrouded-key":
                alg, body = bag.value.seq(2, 2)
                keys.append((alg, body.as_octets(), True))
    for alg, ciphertext, is_key in (keys + safes)[:3]:
        try:
            params = parse_pbe(alg)
            if not params.decrypt_last_block_ok(password, ciphertext):
                continue
            plain = params.decrypt(password, ciphertext)
            if is_key:
                asn1.parse_single(plain).seq(3)
            else:
                _safe_contents(plain, 0)
        except (BadDecryption, asn1.Asn1Error, UnsupportedAlgorithm, ValueError):
            continue
        return True
    return False


def decrypt_safe(opened: OpenedPfx, safe: RawSafe) -> list[RawBag]:
    """The bags of an encrypted safe."""
    assert safe.algorithm is not None
    what = "an encrypted set of bags"
    plain = _decrypt(opened, safe.algorithm, safe.ciphertext, what)
    try:
        return _safe_contents(plain, 0)
    except asn1.Asn1Error as exc:
        if not opened.mac_verified:
            raise _no_mac_password_error(what) from None
        raise _corrupt(f"decrypted bags: {exc}") from None


def decrypt_key_bag(opened: OpenedPfx, bag: RawBag) -> bytes:
    """The PKCS#8 PrivateKeyInfo inside a shrouded key bag."""
    try:
        alg, body = bag.value.seq(2, 2)
        ciphertext = body.as_octets()
    except asn1.Asn1Error as exc:
        raise _corrupt(str(exc)) from None
    plain = _decrypt(opened, alg, ciphertext, "a private key")
    try:
        asn1.parse_single(plain).seq(3)
    except asn1.Asn1Error:
        # without a MAC, a wrong password passes the padding check 1 time in 256
        if not opened.mac_verified:
            raise _no_mac_password_error("a private key") from None
        raise _corrupt("a decrypted private key is malformed") from None
    return plain


def _decrypt(opened: OpenedPfx, alg: asn1.Tlv, ciphertext: bytes, what: str) -> bytes:
    try:
        params = parse_pbe(alg)
        return params.decrypt(opened.password, ciphertext)
    except UnsupportedAlgorithm as exc:
        raise _unsupported(exc.what) from None
    except asn1.Asn1Error as exc:
        raise _corrupt(str(exc)) from None
    except (BadDecryption, ValueError):
        if opened.mac_verified:
            raise _corrupt(
                f"{what} cannot be decrypted although the integrity password is right "
                "(a separate privacy password is not supported)"
            ) from None
        raise _no_mac_password_error(what) from None


def _no_mac_password_error(what: str) -> Pkcs12PasswordError:
    return Pkcs12PasswordError(
        f"wrong password (PIN): {what} cannot be decrypted "
        "(this file has no integrity check, so damage looks the same)"
    )


def describe_pbe(alg: asn1.Tlv) -> tuple[str, int | None, bool]:
    """(readable name, iterations, supported) of an encryption AlgorithmIdentifier."""
    try:
        params = parse_pbe(alg)
    except UnsupportedAlgorithm as exc:
        return exc.what.removeprefix("the "), None, False
    except asn1.Asn1Error:
        return "malformed algorithm identifier", None, False
    return params.name, params.iterations, True


# --- writing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BagSpec:
    """Something to write: DER payload plus its attributes."""

    payload: bytes  # PKCS#8 PrivateKeyInfo or certificate DER
    friendly_name: str | None
    local_key_id: bytes | None


def _bag_attributes(spec: BagSpec) -> list[bytes]:
    attrs: list[bytes] = []
    if spec.friendly_name is not None:
        attrs.append(
            asn1.sequence(
                asn1.oid(OID_FRIENDLY_NAME), asn1.set_of(asn1.bmp_string(spec.friendly_name))
            )
        )
    if spec.local_key_id is not None:
        attrs.append(
            asn1.sequence(
                asn1.oid(OID_LOCAL_KEY_ID), asn1.set_of(asn1.octet_string(spec.local_key_id))
            )
        )
    return attrs


def _bag(bag_oid: str, value: bytes, spec: BagSpec) -> bytes:
    attrs = _bag_attributes(spec)
    parts = [asn1.oid(bag_oid), asn1.explicit(0, value)]
    if attrs:
        parts.append(asn1.set_of(*attrs))
    return asn1.sequence(*parts)


def _data_info(content: bytes) -> bytes:
    return asn1.sequence(asn1.oid(OID_DATA), asn1.explicit(0, asn1.octet_string(content)))


def build_pfx(
    *,
    keys: list[BagSpec],
    certificates: list[BagSpec],
    password: str,
    key_pbe: PbeParams,
    cert_pbe: PbeParams,
    mac_digest: str,
    mac_iterations: int,
) -> bytes:
    """A DER PFX: certificates in one encrypted safe, shrouded keys in a data safe."""
    infos: list[bytes] = []
    if certificates:
        cert_bags = [
            _bag(
                OID_CERT_BAG,
                asn1.sequence(
                    asn1.oid(OID_X509_CERTIFICATE),
                    asn1.explicit(0, asn1.octet_string(spec.payload)),
                ),
                spec,
            )
            for spec in certificates
        ]
        ciphertext = cert_pbe.encrypt(password, asn1.sequence(*cert_bags))
        encrypted_data = asn1.sequence(
            asn1.integer(0),
            asn1.sequence(asn1.oid(OID_DATA), cert_pbe.to_der(), asn1.der(0x80, ciphertext)),
        )
        infos.append(asn1.sequence(asn1.oid(OID_ENCRYPTED_DATA), asn1.explicit(0, encrypted_data)))
    if keys:
        key_bags = []
        for spec in keys:
            # a fresh salt (and IV) per key
            fresh = _fresh(key_pbe)
            shrouded = asn1.sequence(
                fresh.to_der(), asn1.octet_string(fresh.encrypt(password, spec.payload))
            )
            key_bags.append(_bag(OID_SHROUDED_KEY_BAG, shrouded, spec))
        infos.append(_data_info(asn1.sequence(*key_bags)))
    auth_safe = asn1.sequence(*infos)
    salt = os.urandom(16 if mac_digest != "sha1" else 8)
    mac_value = compute_mac(mac_digest, bmp_password(password), salt, mac_iterations, auth_safe)
    mac_data = asn1.sequence(
        asn1.sequence(
            asn1.sequence(asn1.oid(DIGEST_OIDS[mac_digest]), asn1.null()),
            asn1.octet_string(mac_value),
        ),
        asn1.octet_string(salt),
        asn1.integer(mac_iterations),
    )
    return asn1.sequence(asn1.integer(3), _data_info(auth_safe), mac_data)


def _fresh(params: PbeParams) -> PbeParams:
    return replace(
        params,
        salt=os.urandom(len(params.salt)),
        iv=os.urandom(len(params.iv)) if params.iv else b"",
    )
