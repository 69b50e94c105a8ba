"""Private: the RC2 block cipher (RFC 2268), CBC mode, for legacy PKCS#12 files.

``cryptography`` only offers RC2 with 128-bit keys and a fixed effective key
length, while PKCS#12 ``pbeWithSHAAnd40BitRC2-CBC`` (what FNMT and old Windows
write for certificate bags) needs 40-bit keys with 40 effective bits. This is a
plain implementation written from the RFC; it is only used to *read* legacy files
and to write test vectors. RC2 is broken: never use it to protect anything.
"""

from __future__ import annotations

__all__ = ["rc2_cbc_decrypt", "rc2_cbc_encrypt"]

# RFC 2268 section 2: PITABLE, a permutation of 0..255 derived from the digits of pi.
_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
_MASK = 0xFFFF


def _expand_key(key: bytes, effective_bits: int) -> list[int]:
    """RFC 2268 section 2: the 64 16-bit round keys K[0..63]."""
    if not 1 <= len(key) <= 128 or not 1 <= effective_bits <= 1024:
        raise ValueError("bad RC2 key or effective key length")
    length = len(key)
    expanded = bytearray(128)
    expanded[:length] = key
    for i in range(length, 128):
        expanded[i] = _PITABLE[(expanded[i - 1] + expanded[i - length]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    tm = 0xFF % (1 << (8 + effective_bits - 8 * t8))
    expanded[128 - t8] = _PITABLE[expanded[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        expanded[i] = _PITABLE[expanded[i + 1] ^ expanded[i + t8]]
    return [expanded[2 * i] | (expanded[2 * i + 1] << 8) for i in range(64)]


def _encrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[0] | block[1] << 8, block[2] | block[3] << 8, block[4] | block[5] << 8]
    r.append(block[6] | block[7] << 8)
    j = 0
    for rnd in range(16):
        for i in range(4):
            x = (r[i] + k[j] + (r[i - 1] & r[i - 2]) + (~r[i - 1] & r[i - 3])) & _MASK
            shift = (1, 2, 3, 5)[i]
            r[i] = ((x << shift) | (x >> (16 - shift))) & _MASK
            j += 1
        if rnd in (4, 10):
            for i in range(4):
                r[i] = (r[i] + k[r[i - 1] & 63]) & _MASK
    return b"".join(w.to_bytes(2, "little") for w in r)


def _decrypt_block(k: list[int], block: bytes) -> bytes:
    # RFC 2268 section 4, with the four words in locals (this is the hot loop of
    # every legacy FNMT/Windows load).
    r0 = block[0] | block[1] << 8
    r1 = block[2] | block[3] << 8
    r2 = block[4] | block[5] << 8
    r3 = block[6] | block[7] << 8
    j = 63
    for rnd in range(15, -1, -1):
        r3 = ((r3 >> 5) | (r3 << 11)) & _MASK
        r3 = (r3 - k[j] - (r2 & r1) - (~r2 & r0)) & _MASK
        r2 = ((r2 >> 3) | (r2 << 13)) & _MASK
        r2 = (r2 - k[j - 1] - (r1 & r0) - (~r1 & r3)) & _MASK
        r1 = ((r1 >> 2) | (r1 << 14)) & _MASK
        r1 = (r1 - k[j - 2] - (r0 & r3) - (~r0 & r2)) & _MASK
        r0 = ((r0 >> 1) | (r0 << 15)) & _MASK
        r0 = (r0 - k[j - 3] - (r3 & r2) - (~r3 & r1)) & _MASK
        j -= 4
        if rnd == 5 or rnd == 11:
            r3 = (r3 - k[r2 & 63]) & _MASK
            r2 = (r2 - k[r1 & 63]) & _MASK
            r1 = (r1 - k[r0 & 63]) & _MASK
            r0 = (r0 - k[r3 & 63]) & _MASK
    return bytes((r0 & 0xFF, r0 >> 8, r1 & 0xFF, r1 >> 8, r2 & 0xFF, r2 >> 8, r3 & 0xFF, r3 >> 8))


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def rc2_cbc_encrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC encryption of *data* (a multiple of 8 bytes; no padding added)."""
    if len(data) % 8 or len(iv) != 8:
        raise ValueError("RC2-CBC needs whole 8-byte blocks and an 8-byte IV")
    k = _expand_key(key, effective_bits)
    previous = iv
    out = bytearray()
    for pos in range(0, len(data), 8):
        previous = _encrypt_block(k, _xor(data[pos : pos + 8], previous))
        out += previous
    return bytes(out)


def rc2_cbc_decrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption of *data* (a multiple of 8 bytes; padding left in place)."""
    if len(data) % 8 or len(iv) != 8:
        raise ValueError("RC2-CBC needs whole 8-byte blocks and an 8-byte IV")
    k = _expand_key(key, effective_bits)
    plain = b"".join(_decrypt_block(k, data[pos : pos + 8]) for pos in range(0, len(data), 8))
    chained = int.from_bytes(plain, "big") ^ int.from_bytes(iv + data[:-8], "big")
    return chained.to_bytes(len(data), "big")
