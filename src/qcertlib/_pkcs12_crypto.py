"""Private: PKCS#12 password-based cryptography.

* the PKCS#12 key derivation (RFC 7292 Appendix B) over the password as a
  BMPString (UTF-16BE plus two zero bytes), for PBES1-style PKCS#12 PBE and the MAC;
* PBES2 (RFC 8018): PBKDF2 with an HMAC PRF, AES-CBC or 3DES-CBC; the password
  enters PBKDF2 as UTF-8 bytes, which is what OpenSSL 3, Java and NSS do;
* the legacy PKCS#12 PBE schemes pbeWithSHAAnd{3,2}-KeyTripleDES-CBC,
  pbeWithSHAAnd{128,40}BitRC2-CBC and pbeWithSHAAnd{128,40}BitRC4.

Algorithm parameters are parsed here from :class:`~qcertlib._pkcs12_der.Tlv`;
structural problems raise :class:`~qcertlib._pkcs12_der.Asn1Error`, algorithms we
do not implement raise :class:`UnsupportedAlgorithm`, and a wrong key shows up as
:class:`BadDecryption` (bad padding).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, CipherAlgorithm, algorithms, modes

from qcertlib import _pkcs12_der as asn1
from qcertlib._rc2 import rc2_cbc_decrypt, rc2_cbc_encrypt

__all__ = [
    "MAX_ITERATIONS",
    "BadDecryption",
    "PbeParams",
    "UnsupportedAlgorithm",
    "bmp_password",
    "mac_digest_name",
    "parse_pbe",
    "pkcs12_kdf",
]

#: Iteration counts above this are refused (Java refuses above 5,000,000 too): a
#: damaged or hostile file must not make us hash for minutes.
MAX_ITERATIONS = 5_000_000


class UnsupportedAlgorithm(Exception):
    """A well-formed algorithm identifier we do not implement (carries a readable name)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class BadDecryption(Exception):
    """Decryption produced bad padding: wrong key (or damaged ciphertext)."""


# --- OIDs -------------------------------------------------------------------------

PBES2 = "1.2.840.113549.1.5.13"
PBKDF2 = "1.2.840.113549.1.5.12"
PBE_SHA1_RC4_128 = "1.2.840.113549.1.12.1.1"
PBE_SHA1_RC4_40 = "1.2.840.113549.1.12.1.2"
PBE_SHA1_3DES = "1.2.840.113549.1.12.1.3"
PBE_SHA1_2DES = "1.2.840.113549.1.12.1.4"
PBE_SHA1_RC2_128 = "1.2.840.113549.1.12.1.5"
PBE_SHA1_RC2_40 = "1.2.840.113549.1.12.1.6"

HMAC_PRFS = {
    "1.2.840.113549.2.7": "sha1",
    "1.2.840.113549.2.8": "sha224",
    "1.2.840.113549.2.9": "sha256",
    "1.2.840.113549.2.10": "sha384",
    "1.2.840.113549.2.11": "sha512",
    "1.2.840.113549.2.12": "sha512_224",
    "1.2.840.113549.2.13": "sha512_256",
}
PRF_OIDS = {name: dotted for dotted, name in HMAC_PRFS.items()}

AES_CBC = {
    "2.16.840.1.101.3.4.1.2": 16,
    "2.16.840.1.101.3.4.1.22": 24,
    "2.16.840.1.101.3.4.1.42": 32,
}
DES_EDE3_CBC = "1.2.840.113549.3.7"

MAC_DIGESTS = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
    "2.16.840.1.101.3.4.2.5": "sha512_224",
    "2.16.840.1.101.3.4.2.6": "sha512_256",
}
DIGEST_OIDS = {name: dotted for dotted, name in MAC_DIGESTS.items()}

KNOWN_NAMES = {
    PBES2: "PBES2",
    PBE_SHA1_RC4_128: "pbeWithSHAAnd128BitRC4",
    PBE_SHA1_RC4_40: "pbeWithSHAAnd40BitRC4",
    PBE_SHA1_3DES: "pbeWithSHAAnd3-KeyTripleDES-CBC",
    PBE_SHA1_2DES: "pbeWithSHAAnd2-KeyTripleDES-CBC",
    PBE_SHA1_RC2_128: "pbeWithSHAAnd128BitRC2-CBC",
    PBE_SHA1_RC2_40: "pbeWithSHAAnd40BitRC2-CBC",
    "1.2.840.113549.1.5.1": "pbeWithMD2AndDES-CBC",
    "1.2.840.113549.1.5.3": "pbeWithMD5AndDES-CBC",
    "1.2.840.113549.1.5.4": "pbeWithMD2AndRC2-CBC",
    "1.2.840.113549.1.5.6": "pbeWithMD5AndRC2-CBC",
    "1.2.840.113549.1.5.10": "pbeWithSHA1AndDES-CBC",
    "1.2.840.113549.1.5.11": "pbeWithSHA1AndRC2-CBC",
    "1.2.840.113549.3.2": "rc2-cbc",
    "1.3.14.3.2.7": "des-cbc",
    "1.2.392.200011.61.1.1.1.2": "camellia-128-cbc",
    "1.2.392.200011.61.1.1.1.3": "camellia-192-cbc",
    "1.2.392.200011.61.1.1.1.4": "camellia-256-cbc",
    "1.2.410.200046.1.1.2": "aria-128-cbc",
    "1.2.410.200046.1.1.12": "aria-256-cbc",
    "1.2.840.113549.2.5": "md5",
    "1.2.840.113549.2.2": "md2",
    "1.2.840.113549.1.5.14": "PBMAC1",
    "1.2.840.113549.1.7.3": "envelopedData",
}


def algorithm_name(dotted: str) -> str:
    """A readable name for an OID, or the OID itself."""
    return KNOWN_NAMES.get(dotted) or _reverse_name(dotted) or dotted


def _reverse_name(dotted: str) -> str | None:
    if dotted in AES_CBC:
        return f"aes-{AES_CBC[dotted] * 8}-cbc"
    if dotted == DES_EDE3_CBC:
        return "des-ede3-cbc"
    if dotted in HMAC_PRFS:
        return "hmacWith" + HMAC_PRFS[dotted].upper().replace("_", "/")
    if dotted in MAC_DIGESTS:
        return MAC_DIGESTS[dotted].upper().replace("_", "/")
    return None


# --- passwords --------------------------------------------------------------------


def password_text(password: str | bytes | None) -> str | None:
    """The password as text: ``bytes`` are UTF-8, or Latin-1 if not valid UTF-8
    (what OpenSSL does with a non-UTF-8 password)."""
    if password is None or isinstance(password, str):
        return password
    try:
        return password.decode("utf-8")
    except UnicodeDecodeError:
        return password.decode("latin-1")


def bmp_password(password: str | None) -> bytes:
    """RFC 7292 B.1: BMPString (UTF-16BE) with a two-zero-byte terminator.

    ``None`` (no password at all) is the empty byte string, which is how OpenSSL
    writes files with a NULL password.
    """
    if password is None:
        return b""
    return password.encode("utf-16-be") + b"\x00\x00"


# --- RFC 7292 Appendix B key derivation --------------------------------------------


def pkcs12_kdf(
    digest: str, password_bmp: bytes, salt: bytes, iterations: int, purpose: int, length: int
) -> bytes:
    """RFC 7292 B.2: *purpose* 1 = key, 2 = IV, 3 = MAC key."""
    _check_iterations(iterations)
    hasher: Callable[[bytes], hashlib._Hash] = getattr(hashlib, digest, None) or partial(
        hashlib.new, digest
    )
    u = hasher(b"").digest_size
    v = hasher(b"").block_size
    d = bytes([purpose]) * v

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        count = v * ((len(value) + v - 1) // v)
        return (value * (count // len(value) + 1))[:count]

    i_block = bytearray(stretch(salt) + stretch(password_bmp))
    out = bytearray()
    while True:
        a = _iterate(hasher, hasher(d + bytes(i_block)).digest(), iterations - 1)
        out += a
        if len(out) >= length:
            return bytes(out[:length])
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for pos in range(0, len(i_block), v):
            chunk = int.from_bytes(i_block[pos : pos + v], "big")
            chunk = (chunk + b + 1) % (1 << (8 * v))
            i_block[pos : pos + v] = chunk.to_bytes(v, "big")


def _iterate(hasher: Callable[[bytes], hashlib._Hash], a: bytes, count: int) -> bytes:
    """Apply *hasher* *count* times. Unrolled by 8: the loop is the hot spot of every
    legacy load, and one Python line per 8 hashes also keeps tracers (coverage) cheap."""
    h = hasher
    for _ in range(count >> 3):
        a = h(
            h(h(h(h(h(h(h(a).digest()).digest()).digest()).digest()).digest()).digest()).digest()
        ).digest()
    for _ in range(count & 7):
        a = h(a).digest()
    return a


def _check_iterations(iterations: int) -> None:
    if iterations < 1:
        raise asn1.Asn1Error("iteration count below 1")
    if iterations > MAX_ITERATIONS:
        raise UnsupportedAlgorithm(
            f"an iteration count of {iterations} (more than {MAX_ITERATIONS:,} is refused)"
        )


def mac_digest_name(dotted: str) -> str:
    try:
        return MAC_DIGESTS[dotted]
    except KeyError:
        raise UnsupportedAlgorithm(f"the MAC digest {algorithm_name(dotted)}") from None


def compute_mac(
    digest: str, password_bmp: bytes, salt: bytes, iterations: int, data: bytes
) -> bytes:
    size = hashlib.new(digest).digest_size
    key = pkcs12_kdf(digest, password_bmp, salt, iterations, 3, size)
    return hmac.new(key, data, digest).digest()


# --- PBE parameters -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PbeParams:
    """A parsed, supported encryption algorithm identifier."""

    scheme: str  # "pkcs12" or "pbes2"
    name: str  # readable, e.g. "PBES2/PBKDF2-hmacWithSHA256/aes-256-cbc"
    oid: str
    iterations: int
    salt: bytes
    # pkcs12 PBE: cipher family and key length; pbes2: cipher OID, key length, IV, PRF
    cipher: str  # "3des", "rc2", "rc4", "aes"
    key_length: int
    effective_bits: int = 0
    iv: bytes = b""
    prf: str = "sha1"

    def decrypt(self, password: str | None, data: bytes) -> bytes:
        key, iv = self._key_iv(password)
        return _decrypt(self.cipher, key, iv, self.effective_bits, data)

    def decrypt_last_block_ok(self, password: str | None, data: bytes) -> bool:
        """Cheap pre-check: does the last CBC block carry valid padding?"""
        if self.cipher == "rc4":
            return True
        block = 16 if self.cipher == "aes" else 8
        if len(data) < block or len(data) % block:
            return False
        key, iv = self._key_iv(password)
        prev = data[-2 * block : -block] if len(data) >= 2 * block else iv
        try:
            _decrypt(self.cipher, key, prev, self.effective_bits, data[-block:])
        except BadDecryption:
            return False
        return True

    def encrypt(self, password: str | None, data: bytes) -> bytes:
        key, iv = self._key_iv(password)
        return _encrypt(self.cipher, key, iv, self.effective_bits, data)

    def _key_iv(self, password: str | None) -> tuple[bytes, bytes]:
        if self.scheme == "pbes2":
            secret = b"" if password is None else password.encode("utf-8")
            _check_iterations(self.iterations)
            key = hashlib.pbkdf2_hmac(self.prf, secret, self.salt, self.iterations, self.key_length)
            return key, self.iv
        bmp = bmp_password(password)
        key = pkcs12_kdf("sha1", bmp, self.salt, self.iterations, 1, self.key_length)
        iv = (
            b""
            if self.cipher == "rc4"
            else pkcs12_kdf("sha1", bmp, self.salt, self.iterations, 2, 8)
        )
        return key, iv

    def to_der(self) -> bytes:
        """The AlgorithmIdentifier for this scheme."""
        if self.scheme == "pkcs12":
            params = asn1.sequence(asn1.octet_string(self.salt), asn1.integer(self.iterations))
            return asn1.sequence(asn1.oid(self.oid), params)
        kdf_params = [asn1.octet_string(self.salt), asn1.integer(self.iterations)]
        if self.prf != "sha1":
            kdf_params.append(asn1.sequence(asn1.oid(PRF_OIDS[self.prf]), asn1.null()))
        kdf = asn1.sequence(asn1.oid(PBKDF2), asn1.sequence(*kdf_params))
        cipher_oid = next(o for o, n in AES_CBC.items() if n == self.key_length)
        enc = asn1.sequence(asn1.oid(cipher_oid), asn1.octet_string(self.iv))
        return asn1.sequence(asn1.oid(PBES2), asn1.sequence(kdf, enc))


_PKCS12_PBES = {
    PBE_SHA1_3DES: ("3des", 24, 0),
    PBE_SHA1_2DES: ("3des", 16, 0),
    PBE_SHA1_RC2_128: ("rc2", 16, 128),
    PBE_SHA1_RC2_40: ("rc2", 5, 40),
    PBE_SHA1_RC4_128: ("rc4", 16, 0),
    PBE_SHA1_RC4_40: ("rc4", 5, 0),
}


def parse_pbe(alg: asn1.Tlv) -> PbeParams:
    """Parse an encryption AlgorithmIdentifier (PKCS#12 PBE or PBES2)."""
    items = alg.seq(1, 2)
    dotted = items[0].as_oid()
    if dotted in _PKCS12_PBES:
        if len(items) != 2:
            raise asn1.Asn1Error("PBE parameters missing")
        params = items[1].seq(2, 2)
        family, size, bits = _PKCS12_PBES[dotted]
        return PbeParams(
            scheme="pkcs12",
            name=KNOWN_NAMES[dotted],
            oid=dotted,
            iterations=params[1].as_int(),
            salt=params[0].as_octets(),
            cipher=family,
            key_length=size,
            effective_bits=bits,
        )
    if dotted != PBES2:
        raise UnsupportedAlgorithm(f"the encryption algorithm {algorithm_name(dotted)}")
    if len(items) != 2:
        raise asn1.Asn1Error("PBES2 parameters missing")
    kdf, enc = items[1].seq(2, 2)
    kdf_items = kdf.seq(1, 2)
    kdf_oid = kdf_items[0].as_oid()
    if kdf_oid != PBKDF2:
        raise UnsupportedAlgorithm(f"the PBES2 key derivation {algorithm_name(kdf_oid)}")
    if len(kdf_items) != 2:
        raise asn1.Asn1Error("PBKDF2 parameters missing")
    kp = kdf_items[1].seq(2, 4)
    salt = kp[0].as_octets()
    iterations = kp[1].as_int()
    key_length: int | None = None
    prf = "sha1"
    for extra in kp[2:]:
        if extra.is_universal(asn1.INTEGER):
            key_length = extra.as_int()
        else:
            prf_items = extra.seq(1, 2)
            prf_oid = prf_items[0].as_oid()
            if prf_oid not in HMAC_PRFS:
                raise UnsupportedAlgorithm(f"the PBKDF2 function {algorithm_name(prf_oid)}")
            prf = HMAC_PRFS[prf_oid]
    enc_items = enc.seq(1, 2)
    enc_oid = enc_items[0].as_oid()
    if enc_oid in AES_CBC:
        cipher, natural = "aes", AES_CBC[enc_oid]
    elif enc_oid == DES_EDE3_CBC:
        cipher, natural = "3des", 24
    else:
        raise UnsupportedAlgorithm(f"the PBES2 cipher {algorithm_name(enc_oid)}")
    if len(enc_items) != 2:
        raise asn1.Asn1Error("cipher parameters missing")
    iv = enc_items[1].as_octets()
    if len(iv) != (16 if cipher == "aes" else 8):
        raise asn1.Asn1Error("bad IV length")
    if key_length is not None and key_length != natural:
        raise asn1.Asn1Error("PBKDF2 key length does not match the cipher")
    return PbeParams(
        scheme="pbes2",
        name=f"PBES2/PBKDF2-hmacWith{prf.upper()}/{algorithm_name(enc_oid)}",
        oid=PBES2,
        iterations=iterations,
        salt=salt,
        cipher=cipher,
        key_length=natural,
        iv=iv,
        prf=prf,
    )


def new_pbes2_aes256(iterations: int) -> PbeParams:
    return PbeParams(
        scheme="pbes2",
        name="PBES2/PBKDF2-hmacWithSHA256/aes-256-cbc",
        oid=PBES2,
        iterations=iterations,
        salt=os.urandom(16),
        cipher="aes",
        key_length=32,
        iv=os.urandom(16),
        prf="sha256",
    )


def new_pbe_3des(iterations: int) -> PbeParams:
    return PbeParams(
        scheme="pkcs12",
        name=KNOWN_NAMES[PBE_SHA1_3DES],
        oid=PBE_SHA1_3DES,
        iterations=iterations,
        salt=os.urandom(8),
        cipher="3des",
        key_length=24,
    )


def new_pbe_rc2_40(iterations: int) -> PbeParams:
    """Only for building legacy test vectors: RC2-40 protects nothing."""
    return PbeParams(
        scheme="pkcs12",
        name=KNOWN_NAMES[PBE_SHA1_RC2_40],
        oid=PBE_SHA1_RC2_40,
        iterations=iterations,
        salt=os.urandom(8),
        cipher="rc2",
        key_length=5,
        effective_bits=40,
    )


# --- ciphers --------------------------------------------------------------------------


def _block_algorithm(cipher: str, key: bytes) -> CipherAlgorithm:
    if cipher == "aes":
        return algorithms.AES(key)
    if len(key) == 16:  # two-key 3DES: K1 K2 K1
        key = key + key[:8]
    return TripleDES(key)


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise BadDecryption
    pad = data[-1]
    if not 1 <= pad <= block or data[-pad:] != bytes([pad]) * pad:
        raise BadDecryption
    return data[:-pad]


def _pad(data: bytes, block: int) -> bytes:
    pad = block - len(data) % block
    return data + bytes([pad]) * pad


def _decrypt(cipher: str, key: bytes, iv: bytes, bits: int, data: bytes) -> bytes:
    if cipher == "rc4":
        decryptor = Cipher(ARC4(key), mode=None).decryptor()
        return decryptor.update(data) + decryptor.finalize()
    block = 16 if cipher == "aes" else 8
    if not data or len(data) % block:
        raise BadDecryption
    if cipher == "rc2":
        plain = rc2_cbc_decrypt(key, bits, iv, data)
    else:
        decryptor = Cipher(_block_algorithm(cipher, key), modes.CBC(iv)).decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
    return _unpad(plain, block)


def _encrypt(cipher: str, key: bytes, iv: bytes, bits: int, data: bytes) -> bytes:
    if cipher == "rc4":
        encryptor = Cipher(ARC4(key), mode=None).encryptor()
        return encryptor.update(data) + encryptor.finalize()
    block = 16 if cipher == "aes" else 8
    padded = _pad(data, block)
    if cipher == "rc2":
        return rc2_cbc_encrypt(key, bits, iv, padded)
    encryptor = Cipher(_block_algorithm(cipher, key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()
