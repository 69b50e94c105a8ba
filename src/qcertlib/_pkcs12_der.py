"""Private: a small, tolerant BER reader and a DER writer for PKCS#12 structures.

The reader accepts what real PKCS#12 producers write (definite and indefinite
lengths, constructed OCTET STRINGs as Windows and FNMT write them) and rejects
anything else with :class:`Asn1Error`, which the PKCS#12 codec turns into a
:class:`~qcertlib.errors.Pkcs12CorruptError`. It never recurses deeper than
:data:`MAX_DEPTH` and never reads past the end of its input.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_DEPTH",
    "Asn1Error",
    "Tlv",
    "bmp_string",
    "decode_oid",
    "der",
    "encode_oid",
    "explicit",
    "integer",
    "null",
    "octet_string",
    "oid",
    "parse_single",
    "sequence",
    "set_of",
    "to_der",
]

MAX_DEPTH = 48

# Universal tags used here.
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
UTF8_STRING = 0x0C
SEQUENCE = 0x10
SET = 0x11
BMP_STRING = 0x1E

CLASS_UNIVERSAL = 0
CLASS_CONTEXT = 2


class Asn1Error(Exception):
    """The bytes are not the BER structure that was expected (internal)."""


@dataclass(frozen=True, slots=True)
class Tlv:
    """One BER element: identifier, and where its contents lie in ``data``."""

    data: bytes
    tag_class: int
    constructed: bool
    tag: int
    start: int  # first byte of the identifier
    content_start: int
    content_end: int  # exclusive; excludes the end-of-contents octets
    end: int  # exclusive; first byte after the element

    @property
    def raw(self) -> bytes:
        """The element's own encoding, as found."""
        return self.data[self.start : self.end]

    @property
    def content(self) -> bytes:
        return self.data[self.content_start : self.content_end]

    def is_universal(self, tag: int) -> bool:
        return self.tag_class == CLASS_UNIVERSAL and self.tag == tag

    def is_context(self, tag: int) -> bool:
        return self.tag_class == CLASS_CONTEXT and self.tag == tag

    def children(self) -> list[Tlv]:
        """The elements inside a constructed element."""
        if not self.constructed:
            raise Asn1Error("expected a constructed element")
        out: list[Tlv] = []
        pos = self.content_start
        while pos < self.content_end:
            child = _read(self.data, pos, self.content_end, 0)
            out.append(child)
            pos = child.end
        return out

    def expect(self, tag: int, *, constructed: bool | None = None) -> Tlv:
        """Check that this is the universal *tag*; return self."""
        if not self.is_universal(tag):
            raise Asn1Error(f"expected universal tag {tag}, found {self.tag_class}/{self.tag}")
        if constructed is not None and self.constructed != constructed:
            raise Asn1Error("wrong primitive/constructed form")
        return self

    def seq(self, minimum: int = 0, maximum: int | None = None) -> list[Tlv]:
        """Children of a SEQUENCE, checking their count."""
        self.expect(SEQUENCE, constructed=True)
        items = self.children()
        if len(items) < minimum or (maximum is not None and len(items) > maximum):
            raise Asn1Error("wrong number of SEQUENCE elements")
        return items

    def octets(self, _depth: int = 0) -> bytes:
        """The value of an OCTET STRING (or an implicitly tagged one), BER pieces joined."""
        if not self.constructed:
            return self.content
        if _depth > MAX_DEPTH:
            raise Asn1Error("OCTET STRING nested too deeply")
        pieces = self.children()
        for piece in pieces:
            if not piece.is_universal(OCTET_STRING):
                raise Asn1Error("a piece of a constructed OCTET STRING is not an OCTET STRING")
        return b"".join(piece.octets(_depth + 1) for piece in pieces)

    def as_int(self) -> int:
        self.expect(INTEGER, constructed=False)
        content = self.content
        if not content or len(content) > 64:
            raise Asn1Error("bad INTEGER")
        return int.from_bytes(content, "big", signed=True)

    def as_oid(self) -> str:
        self.expect(OID, constructed=False)
        return decode_oid(self.content)

    def as_octets(self) -> bytes:
        self.expect(OCTET_STRING)
        return self.octets()

    def explicit_inner(self, tag: int) -> Tlv:
        """The single element inside an ``[tag] EXPLICIT`` wrapper."""
        if not (self.is_context(tag) and self.constructed):
            raise Asn1Error(f"expected [{tag}] EXPLICIT")
        inner = self.children()
        if len(inner) != 1:
            raise Asn1Error(f"[{tag}] EXPLICIT must hold exactly one element")
        return inner[0]


def parse_single(data: bytes) -> Tlv:
    """Parse *data* as exactly one BER element (trailing bytes are an error)."""
    if not data:
        raise Asn1Error("empty input")
    element = _read(data, 0, len(data), 0)
    if element.end != len(data):
        raise Asn1Error("trailing data after the element")
    return element


def _read(data: bytes, pos: int, limit: int, depth: int) -> Tlv:
    if depth > MAX_DEPTH:
        raise Asn1Error("nested too deeply")
    start = pos
    if pos >= limit:
        raise Asn1Error("truncated: identifier expected")
    first = data[pos]
    pos += 1
    tag_class = first >> 6
    constructed = bool(first & 0x20)
    tag = first & 0x1F
    if tag == 0x1F:
        tag = 0
        for _ in range(4):
            if pos >= limit:
                raise Asn1Error("truncated tag")
            byte = data[pos]
            pos += 1
            tag = (tag << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        else:
            raise Asn1Error("tag number too large")
    if pos >= limit:
        raise Asn1Error("truncated: length expected")
    length_byte = data[pos]
    pos += 1
    if length_byte == 0x80:
        if not constructed:
            raise Asn1Error("indefinite length on a primitive element")
        content_start = pos
        while True:
            if pos + 2 > limit:
                raise Asn1Error("truncated: end-of-contents expected")
            if data[pos] == 0 and data[pos + 1] == 0:
                return Tlv(data, tag_class, constructed, tag, start, content_start, pos, pos + 2)
            pos = _read(data, pos, limit, depth + 1).end
    if length_byte & 0x80:
        count = length_byte & 0x7F
        if count > 4 or count == 0x7F:
            raise Asn1Error("length too large")
        if pos + count > limit:
            raise Asn1Error("truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        length = length_byte
    end = pos + length
    if end > limit:
        raise Asn1Error("truncated: content shorter than its length")
    return Tlv(data, tag_class, constructed, tag, start, pos, end, end)


def to_der(element: Tlv, _depth: int = 0) -> bytes:
    """Re-encode a BER element as DER (definite lengths, primitive strings)."""
    if _depth > MAX_DEPTH:
        raise Asn1Error("nested too deeply")
    ident = _identifier(element.tag_class, element.constructed, element.tag)
    if not element.constructed:
        return ident + _length(len(element.content)) + element.content
    if element.tag_class == CLASS_UNIVERSAL and element.tag in (OCTET_STRING, BIT_STRING):
        if element.tag == BIT_STRING:
            raise Asn1Error("constructed BIT STRING is not supported")
        value = element.octets()
        return _identifier(CLASS_UNIVERSAL, False, element.tag) + _length(len(value)) + value
    body = b"".join(to_der(child, _depth + 1) for child in element.children())
    return ident + _length(len(body)) + body


def _identifier(tag_class: int, constructed: bool, tag: int) -> bytes:
    first = (tag_class << 6) | (0x20 if constructed else 0)
    if tag < 0x1F:
        return bytes([first | tag])
    parts = [tag & 0x7F]
    tag >>= 7
    while tag:
        parts.append(0x80 | (tag & 0x7F))
        tag >>= 7
    return bytes([first | 0x1F, *reversed(parts)])


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def decode_oid(content: bytes) -> str:
    """Dotted form of OBJECT IDENTIFIER contents."""
    if not content or content[-1] & 0x80 or len(content) > 64:
        raise Asn1Error("bad OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for byte in content:
        if value == 0 and byte == 0x80:
            raise Asn1Error("bad OBJECT IDENTIFIER (non-minimal arc)")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def encode_oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER contents of a dotted OID."""
    arcs = [int(part) for part in dotted.split(".")]
    values = [arcs[0] * 40 + arcs[1], *arcs[2:]]
    out = bytearray()
    for value in values:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


# --- DER writer -------------------------------------------------------------------


def der(tag_byte: int, content: bytes) -> bytes:
    """One DER element from its identifier octet and contents."""
    return bytes([tag_byte]) + _length(len(content)) + content


def sequence(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    """DER SET OF: elements sorted by their encodings."""
    return der(0x31, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    length = max(1, (value.bit_length() + 8) // 8)
    return der(0x02, value.to_bytes(length, "big", signed=True))


def octet_string(value: bytes) -> bytes:
    return der(0x04, value)


def null() -> bytes:
    return b"\x05\x00"


def oid(dotted: str) -> bytes:
    return der(0x06, encode_oid(dotted))


def bmp_string(text: str) -> bytes:
    return der(0x1E, text.encode("utf-16-be"))


def explicit(tag: int, inner: bytes) -> bytes:
    """``[tag] EXPLICIT`` (context-specific, constructed)."""
    return der(0xA0 | tag, inner)
