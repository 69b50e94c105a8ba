"""A tiny, fast DER reader/writer for the few structures the revocation core walks.

Only definite lengths (DER); anything else raises :class:`ValueError`, which callers
turn into a typed :class:`~qcertlib.errors.QcertError`.
"""

from __future__ import annotations

__all__ = ["encode_tlv", "read_tlv", "spki_key_bits"]


def read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Read one TLV at *pos*: return ``(tag, content_start, content_end)``."""
    try:
        tag = data[pos]
        first = data[pos + 1]
    except IndexError:
        raise ValueError("truncated DER") from None
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers are not supported")
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, pos, end


def encode_length(length: int) -> bytes:
    """The DER length octets for *length*."""
    if length < 0x80:
        return bytes((length,))
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def encode_tlv(tag: int, content: bytes) -> bytes:
    """Encode one TLV."""
    return bytes((tag,)) + encode_length(len(content)) + content


def spki_key_bits(spki_der: bytes) -> bytes:
    """The subjectPublicKey BIT STRING value (without the unused-bits octet)."""
    tag, start, _end = read_tlv(spki_der, 0)
    if tag != 0x30:
        raise ValueError("not a SubjectPublicKeyInfo")
    _t, _s, alg_end = read_tlv(spki_der, start)
    tag, bstart, bend = read_tlv(spki_der, alg_end)
    if tag != 0x03:
        raise ValueError("not a SubjectPublicKeyInfo")
    return spki_der[bstart + 1 : bend]
