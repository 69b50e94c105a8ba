"""Precomputed DER pieces for the batch core (private).

A batch signs thousands of CMS structures that differ only in a few fields: the
message digest and signing time inside the signed attributes, the signature value
and (B-T) the timestamp token. Instead of building each one with asn1crypto, the
batch takes **one** structure made by the signing modules themselves
(:func:`qcertlib.signing.cades.finish_cades`, pyHanko for PAdES) at batch start and
cuts it into constant byte pieces; every document's structure is then those pieces
around its own values, with the DER lengths recomputed. The tests check that the
result is byte-identical to what the signing modules produce for the same input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from qcertlib._der import DerError, read_tlv
from qcertlib._der import encode_tlv as tlv

__all__ = ["CmsTemplate", "DigestSlot", "SignedAttrsTemplate", "der_time", "minimal_pdf", "tlv"]

_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")
_TST_ATTR_OID = bytes.fromhex("060b2a864886f70d010910020e")  # id-aa-signatureTimeStampToken


def _read(der: bytes, pos: int, limit: int | None = None) -> tuple[int, int, int]:
    """``(tag, content_start, content_end)`` of the TLV at ``pos``, inside ``limit``."""
    tag, start, end = read_tlv(der, pos)
    if limit is not None and end > limit:
        raise DerError("truncated DER")
    return tag, start, end


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """``(tag, tlv_start, content_start, content_end)`` of each child in ``der[start:end]``."""
    out = []
    pos = start
    while pos < end:
        tag, cstart, cend = _read(der, pos, end)
        out.append((tag, pos, cstart, cend))
        pos = cend
    return out


def der_length(der: bytes) -> int:
    """Total length of the TLV starting at offset 0 (ignores trailing bytes, e.g. padding)."""
    _tag, _start, end = _read(der, 0)
    return end


def der_time(when: datetime) -> bytes:
    """CMS ``Time`` as RFC 5652 wants it: UTCTime for 1950-2049, else GeneralizedTime."""
    when = when.astimezone(UTC)
    if 1950 <= when.year < 2050:
        return tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(0x18, when.strftime("%Y%m%d%H%M%SZ").encode())


@dataclass(frozen=True, slots=True)
class CmsTemplate:
    """A ``ContentInfo(SignedData)`` with one SignerInfo, cut around its variable parts.

    Made from a complete structure with :meth:`from_der`; :meth:`assemble` builds the
    structure for other signed attributes / signature values / unsigned attributes.
    Everything else (version, digest algorithms, encapsulated content info,
    certificates, revocation values, signer identifier, algorithms) is reused as is.
    """

    signed_data_head: bytes
    signer_info_head: bytes
    signature_algorithm: bytes

    @classmethod
    def from_der(cls, der: bytes) -> CmsTemplate:
        """Cut a DER ContentInfo(SignedData) with exactly one SignerInfo."""
        tag, start, end = _read(der, 0)
        top = _children(der, start, end)
        if tag != 0x30 or len(top) != 2 or der[top[0][1] : top[0][3]] != _SIGNED_DATA_OID:
            raise ValueError("not a ContentInfo(SignedData)")
        t0, _, s0, e0 = top[1]
        if t0 != 0xA0:
            raise ValueError("ContentInfo content is not [0] EXPLICIT")
        sd_tag, sd_start, sd_end = _read(der, s0, e0)
        if sd_tag != 0x30:
            raise ValueError("SignedData is not a SEQUENCE")
        parts = _children(der, sd_start, sd_end)
        last_tag, last_pos, sis_start, sis_end = parts[-1]
        if last_tag != 0x31:
            raise ValueError("SignedData does not end with signerInfos")
        sis = _children(der, sis_start, sis_end)
        if len(sis) != 1 or sis[0][0] != 0x30:
            raise ValueError("the template must have exactly one SignerInfo")
        si_fields = _children(der, sis[0][2], sis[0][3])
        # version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature, [1]?
        if len(si_fields) < 6 or si_fields[3][0] != 0xA0 or si_fields[5][0] != 0x04:
            raise ValueError("the template SignerInfo has no signed attributes")
        return cls(
            signed_data_head=der[sd_start:last_pos],
            signer_info_head=der[si_fields[0][1] : si_fields[2][3]],
            signature_algorithm=der[si_fields[4][1] : si_fields[4][3]],
        )

    def assemble(
        self, signed_attrs: bytes, signature: bytes, unsigned_attrs: bytes | None = None
    ) -> bytes:
        """The DER ContentInfo for ``signed_attrs`` (DER ``SET``, as hashed), a signature
        value and optional unsigned attributes (DER ``SET`` of attributes)."""
        if not signed_attrs or signed_attrs[0] != 0x31:
            raise ValueError("signed attributes must be a DER SET")
        body = (
            self.signer_info_head
            + b"\xa0"
            + signed_attrs[1:]
            + self.signature_algorithm
            + tlv(0x04, signature)
        )
        if unsigned_attrs is not None:
            body += b"\xa1" + unsigned_attrs[1:]
        signed_data = tlv(0x30, self.signed_data_head + tlv(0x31, tlv(0x30, body)))
        return tlv(0x30, _SIGNED_DATA_OID + tlv(0xA0, signed_data))


def timestamp_attrs(token: bytes) -> bytes:
    """The unsigned attributes (DER ``SET``) holding one signature-time-stamp token."""
    return tlv(0x31, tlv(0x30, _TST_ATTR_OID + tlv(0x31, token)))


def signed_attrs_of(der: bytes) -> bytes:
    """The signed attributes of the (single) SignerInfo of a ContentInfo, as a DER SET."""
    _tag, start, end = _read(der, 0)
    top = _children(der, start, end)
    _t, s0, e0 = _read(der, top[1][2], top[1][3])
    parts = _children(der, s0, e0)
    sis = _children(der, parts[-1][2], parts[-1][3])
    fields = _children(der, sis[0][2], sis[0][3])
    _t3, _p3, a_start, a_end = fields[3]
    return tlv(0x31, der[a_start:a_end])


@dataclass(frozen=True, slots=True)
class SignedAttrsTemplate:
    """CAdES signed attributes cut around the message digest and the signing time.

    ``pieces`` alternate constant bytes and slots: the attributes are
    ``pieces[0] + slot0 + pieces[1] + slot1 + pieces[2]``, where ``order`` tells which
    slot is the digest value and which the encoded time. Lengths do not change (same
    digest algorithm, same time encoding), so the SET stays DER-sorted.
    """

    pieces: tuple[bytes, bytes, bytes]
    digest_first: bool
    time_length: int

    @classmethod
    def cut(cls, attrs: bytes, digest: bytes, time_der: bytes) -> SignedAttrsTemplate:
        """Find ``digest`` (as an OCTET STRING value) and ``time_der`` in ``attrs``."""
        dpat = tlv(0x04, digest)
        d_at = attrs.find(dpat)
        t_at = attrs.find(time_der)
        if d_at < 0 or attrs.find(dpat, d_at + 1) >= 0:
            raise ValueError("the message digest is not found exactly once in the attributes")
        if t_at < 0 or attrs.find(time_der, t_at + 1) >= 0:
            raise ValueError("the signing time is not found exactly once in the attributes")
        d_at += len(dpat) - len(digest)
        slots = sorted([(d_at, len(digest), True), (t_at, len(time_der), False)])
        (a, alen, a_is_digest), (b, blen, _) = slots
        return cls(
            pieces=(attrs[:a], attrs[a + alen : b], attrs[b + blen :]),
            digest_first=a_is_digest,
            time_length=len(time_der),
        )

    def render(self, digest: bytes, time_der: bytes) -> bytes:
        """The signed attributes for one document."""
        if len(time_der) != self.time_length:
            raise ValueError("the signing time encoding changed length within the batch")
        first, second = (digest, time_der) if self.digest_first else (time_der, digest)
        p0, p1, p2 = self.pieces
        return p0 + first + p1 + second + p2


@dataclass(frozen=True, slots=True)
class DigestSlot:
    """Signed attributes whose only per-document value is the message digest (PAdES:
    no signing-time attribute): ``prefix + digest + suffix``."""

    prefix: bytes
    suffix: bytes
    digest_length: int

    @classmethod
    def cut(cls, attrs: bytes, digest: bytes) -> DigestSlot:
        """Find ``digest`` (as an OCTET STRING value) exactly once in ``attrs``."""
        pattern = tlv(0x04, digest)
        at = attrs.find(pattern)
        if at < 0 or attrs.find(pattern, at + 1) >= 0:
            raise ValueError("the message digest is not found exactly once in the attributes")
        at += len(pattern) - len(digest)
        return cls(attrs[:at], attrs[at + len(digest) :], len(digest))

    def render(self, digest: bytes) -> bytes:
        """The signed attributes for one document."""
        if len(digest) != self.digest_length:
            raise ValueError("digest length differs from the batch template")
        return self.prefix + digest + self.suffix


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with a line of text (exact cross-reference offsets); the batch
    prepares two of these at start to derive and check its PAdES templates."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1"
        b" /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
