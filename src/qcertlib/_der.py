"""A small, strict DER reader/writer for the few ASN.1 shapes qcertlib handles itself.

Only definite lengths in their minimal form are accepted (that is what DER means);
anything else raises :class:`DerError`, a private exception the callers turn into
a typed error or a reported defect. The reader never recurses on its own: callers
walk the structure one level at a time, so no input can exhaust the stack.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

__all__ = [
    "BMP_STRING",
    "IA5_STRING",
    "INTEGER",
    "OBJECT_IDENTIFIER",
    "OCTET_STRING",
    "PRINTABLE_STRING",
    "SEQUENCE",
    "SET",
    "UTF8_STRING",
    "DerError",
    "Tlv",
    "decode_integer",
    "decode_oid",
    "encode_integer",
    "encode_length",
    "encode_oid",
    "encode_tlv",
    "parse_all",
    "parse_one",
    "parse_single",
    "read_tlv",
    "spki_key_bits",
]

# Identifier octets (class + constructed bit + number) of the universal types we use.
INTEGER: Final = 0x02
OCTET_STRING: Final = 0x04
OBJECT_IDENTIFIER: Final = 0x06
UTF8_STRING: Final = 0x0C
PRINTABLE_STRING: Final = 0x13
IA5_STRING: Final = 0x16
BMP_STRING: Final = 0x1E
SEQUENCE: Final = 0x30
SET: Final = 0x31


class DerError(ValueError):
    """The bytes are not the DER the caller expected (private to qcertlib)."""


@dataclass(frozen=True, slots=True)
class Tlv:
    """One parsed element: its identifier octet, its contents and its full encoding."""

    tag: int
    content: bytes
    raw: bytes

    @property
    def constructed(self) -> bool:
        """Whether the constructed bit is set."""
        return bool(self.tag & 0x20)

    def children(self) -> list[Tlv]:
        """The elements inside a constructed element (one level)."""
        if not self.constructed:
            raise DerError(f"tag 0x{self.tag:02x} is primitive, expected a constructed type")
        return parse_all(self.content)


def parse_one(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Parse the element starting at *offset*; return it and the offset after it."""
    end = len(data)
    if offset >= end:
        raise DerError("unexpected end of data: expected a tag")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not used here")
    pos = offset + 1
    if pos >= end:
        raise DerError("unexpected end of data: expected a length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError("indefinite length is not DER")
    else:
        count = first & 0x7F
        if count > 8:
            raise DerError("length of length too large")
        if pos + count > end:
            raise DerError("unexpected end of data inside a length")
        length_bytes = data[pos : pos + count]
        pos += count
        if length_bytes[0] == 0:
            raise DerError("length not minimally encoded")
        length = int.from_bytes(length_bytes, "big")
        if length < 0x80:
            raise DerError("length not minimally encoded")
    if pos + length > end:
        raise DerError(f"element of {length} bytes runs past the end of the data")
    content = bytes(data[pos : pos + length])
    return Tlv(tag, content, bytes(data[offset : pos + length])), pos + length


def parse_all(data: bytes) -> list[Tlv]:
    """Parse a concatenation of elements that must fill *data* exactly."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        item, offset = parse_one(data, offset)
        items.append(item)
    return items


def parse_single(data: bytes) -> Tlv:
    """Parse exactly one element with nothing after it."""
    item, offset = parse_one(data)
    if offset != len(data):
        raise DerError(f"{len(data) - offset} unexpected bytes after the element")
    return item


def encode_length(length: int) -> bytes:
    """DER length octets."""
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_tlv(tag: int, content: bytes) -> bytes:
    """Encode one element."""
    return bytes([tag]) + encode_length(len(content)) + content


def encode_integer(value: int) -> bytes:
    """A DER INTEGER (two's complement, minimal)."""
    size = (value + (value < 0)).bit_length() // 8 + 1
    return encode_tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def decode_integer(item: Tlv) -> int:
    """The value of a DER INTEGER element."""
    if item.tag != INTEGER:
        raise DerError(f"expected INTEGER, found tag 0x{item.tag:02x}")
    content = item.content
    if not content:
        raise DerError("empty INTEGER")
    if len(content) > 1 and (
        (content[0] == 0 and content[1] < 0x80) or (content[0] == 0xFF and content[1] >= 0x80)
    ):
        raise DerError("INTEGER not minimally encoded")
    return int.from_bytes(content, "big", signed=True)


@functools.lru_cache(maxsize=1024)
def encode_oid(dotted: str) -> bytes:
    """A DER OBJECT IDENTIFIER from its dotted form (already validated by the caller)."""
    arcs = [int(a) for a in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(
            f"not an encodable OID: {dotted}"
        )  # pragma: no cover - cryptography checks
    body = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return encode_tlv(OBJECT_IDENTIFIER, bytes(body))


def decode_oid(item: Tlv) -> str:
    """The dotted form of a DER OBJECT IDENTIFIER element."""
    if item.tag != OBJECT_IDENTIFIER:
        raise DerError(f"expected OBJECT IDENTIFIER, found tag 0x{item.tag:02x}")
    content = item.content
    if not content:
        raise DerError("empty OBJECT IDENTIFIER")
    if content[-1] & 0x80:
        raise DerError("truncated OBJECT IDENTIFIER")
    subids: list[int] = []
    value = 0
    start = True
    for byte in content:
        if start and byte == 0x80:
            raise DerError("OBJECT IDENTIFIER arc not minimally encoded")
        value = (value << 7) | (byte & 0x7F)
        start = not byte & 0x80
        if start:
            subids.append(value)
            value = 0
    first = subids[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in [*head, *subids[1:]])


# -- a fast positional reader, for hot paths (the OCSP responder parses every request) --


def read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """Read one TLV at *pos*: return ``(tag, content_start, content_end)``."""
    try:
        tag = data[pos]
        first = data[pos + 1]
    except IndexError:
        raise DerError("truncated DER") from None
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not supported")
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DerError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("truncated DER")
    return tag, pos, end


def spki_key_bits(spki_der: bytes) -> bytes:
    """The subjectPublicKey BIT STRING value (without the unused-bits octet)."""
    tag, start, _end = read_tlv(spki_der, 0)
    if tag != 0x30:
        raise DerError("not a SubjectPublicKeyInfo")
    _t, _s, alg_end = read_tlv(spki_der, start)
    tag, bstart, bend = read_tlv(spki_der, alg_end)
    if tag != 0x03:
        raise DerError("not a SubjectPublicKeyInfo")
    return spki_der[bstart + 1 : bend]
