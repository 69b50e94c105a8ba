"""CRLs, pure: parse, verify (signature, issuer, freshness, number) and look up fast.

:func:`load_crl` parses a DER or PEM CRL with cryptography and builds a hash index
of its revoked serial numbers with a small DER walker (no Python object per entry),
so a CRL with 100,000+ entries loads in a fraction of a second and every lookup is
a dictionary hit. Entry details (revocation time, reason) are decoded only for the
serials that are actually found.

Delta CRLs (RFC 5280 §5.2.4) are recognised by their deltaCRLIndicator;
:meth:`Crl.lookup` with ``delta=`` consults the delta first (``removeFromCRL``
there means the certificate is no longer on hold).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from qcertlib._der import read_tlv
from qcertlib.errors import RevocationResponseError
from qcertlib.revocation._model import CertStatus, Status
from qcertlib.revocation.ocsp import _signature_ok

__all__ = ["Crl", "load_crl", "verify_crl"]

_REASON_OID = bytes.fromhex("0603551d15")
_REASONS: dict[int, x509.ReasonFlags] = {
    0: x509.ReasonFlags.unspecified,
    1: x509.ReasonFlags.key_compromise,
    2: x509.ReasonFlags.ca_compromise,
    3: x509.ReasonFlags.affiliation_changed,
    4: x509.ReasonFlags.superseded,
    5: x509.ReasonFlags.cessation_of_operation,
    6: x509.ReasonFlags.certificate_hold,
    8: x509.ReasonFlags.remove_from_crl,
    9: x509.ReasonFlags.privilege_withdrawn,
    10: x509.ReasonFlags.aa_compromise,
}


def _serial_key(serial: int) -> bytes:
    """The DER INTEGER content octets of *serial* (the index key)."""
    length = serial.bit_length() // 8 + 1
    return serial.to_bytes(length, "big", signed=True)


def _parse_time(data: bytes, start: int, end: int, tag: int) -> datetime:
    text = data[start:end].decode("ascii")
    fmt = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def _index_entries(tbs: bytes) -> dict[bytes, int]:
    """Map serial content octets to the offset of each revokedCertificates entry."""
    tag, pos, end = read_tlv(tbs, 0)
    if tag != 0x30:
        raise ValueError("TBSCertList is not a SEQUENCE")
    tag, s, e = read_tlv(tbs, pos)
    if tag == 0x02:  # version
        pos = e
    for _ in range(3):  # signature, issuer, thisUpdate
        _t, _s, pos = read_tlv(tbs, pos)
    index: dict[bytes, int] = {}
    if pos >= end:
        return index
    tag, s, e = read_tlv(tbs, pos)
    if tag in (0x17, 0x18):  # nextUpdate
        pos = e
        if pos >= end:
            return index
        tag, s, e = read_tlv(tbs, pos)
    if tag != 0x30:
        return index
    pos, list_end = s, e
    data = tbs
    while pos < list_end:
        # entry: SEQUENCE { INTEGER serial, Time, Extensions OPTIONAL }; inline for speed
        entry = pos
        first = data[pos + 1]
        if first < 0x80:
            inner = pos + 2
            entry_end = inner + first
        else:
            n = first & 0x7F
            inner = pos + 2 + n
            entry_end = inner + int.from_bytes(data[pos + 2 : pos + 2 + n], "big")
        slen = data[inner + 1]
        if data[inner] != 0x02 or slen >= 0x80:
            _t, ss, se = read_tlv(data, inner)
            index[data[ss:se]] = entry
        else:
            index[data[inner + 2 : inner + 2 + slen]] = entry
        pos = entry_end
    if pos != list_end:
        raise ValueError("revokedCertificates is malformed")
    return index


@dataclass(frozen=True, slots=True)
class Crl:
    """A parsed CRL with a serial-number index. Build it with :func:`load_crl`."""

    der: bytes = field(repr=False)
    issuer: x509.Name
    this_update: datetime
    next_update: datetime | None
    number: int | None
    base_number: int | None
    """For a delta CRL, the number of its base CRL (deltaCRLIndicator); else ``None``."""
    freshest_urls: tuple[str, ...]
    _crl: x509.CertificateRevocationList = field(repr=False, compare=False)
    _tbs: bytes = field(repr=False, compare=False)
    _index: dict[bytes, int] = field(repr=False, compare=False)
    _verified_by: set[x509.Certificate] = field(default_factory=set, repr=False, compare=False)

    @property
    def is_delta(self) -> bool:
        """True for a delta CRL."""
        return self.base_number is not None

    def __len__(self) -> int:
        return len(self._index)

    def _entry(self, offset: int) -> CertStatus:
        data = self._tbs
        _tag, pos, end = read_tlv(data, offset)
        _t, _s, pos = read_tlv(data, pos)  # serial
        tag, s, e = read_tlv(data, pos)
        when = _parse_time(data, s, e, tag)
        reason = None
        if e < end:
            _t, xpos, xend = read_tlv(data, e)
            while xpos < xend:
                _t, es, ee = read_tlv(data, xpos)
                _t, _os, oe = read_tlv(data, es)
                if data[es:oe] == _REASON_OID:
                    tag, vs, ve = read_tlv(data, oe)
                    if tag == 0x01:
                        tag, vs, ve = read_tlv(data, ve)
                    _t, rs, re_ = read_tlv(data, vs)
                    reason = _REASONS.get(int.from_bytes(data[rs:re_], "big"))
                xpos = ee
        return CertStatus.revoked(when, reason)

    def lookup(self, serial_number: int, *, delta: Crl | None = None) -> CertStatus:
        """``good`` when *serial_number* is not listed, else ``revoked`` with time/reason.

        With *delta* (a delta CRL whose base is this CRL or older), the delta decides
        first; an entry with reason ``removeFromCRL`` there means ``good``.
        """
        if delta is not None:
            found = delta.lookup(serial_number)
            if found.status is Status.REVOKED:
                if found.reason is x509.ReasonFlags.remove_from_crl:
                    return CertStatus.good()
                return found
        offset = self._index.get(_serial_key(serial_number))
        if offset is None:
            return CertStatus.good()
        try:
            return self._entry(offset)
        except (ValueError, IndexError):
            raise RevocationResponseError("a CRL entry is malformed") from None


def load_crl(data: bytes) -> Crl:
    """Parse a DER or PEM CRL and index its entries.

    Raises :class:`~qcertlib.errors.RevocationResponseError` on malformed input.
    """
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            crl = x509.load_pem_x509_crl(data)
            der = crl.public_bytes(serialization.Encoding.DER)
        else:
            crl = x509.load_der_x509_crl(data)
            der = bytes(data)
        tbs = crl.tbs_certlist_bytes
        index = _index_entries(tbs)
        number = base = None
        freshest: list[str] = []
        for ext in crl.extensions:
            value = ext.value
            if isinstance(value, x509.CRLNumber):
                number = value.crl_number
            elif isinstance(value, x509.DeltaCRLIndicator):
                base = value.crl_number
            elif isinstance(value, x509.FreshestCRL):
                for point in value:
                    for name in point.full_name or ():
                        if isinstance(name, x509.UniformResourceIdentifier):
                            freshest.append(name.value)
        return Crl(
            der,
            crl.issuer,
            crl.last_update_utc,
            crl.next_update_utc,
            number,
            base,
            tuple(freshest),
            crl,
            tbs,
            index,
        )
    except (ValueError, IndexError, UnsupportedAlgorithm) as exc:
        raise RevocationResponseError(f"CRL is malformed: {exc}") from None


def _verify_issuer(crl: Crl, issuer: x509.Certificate) -> None:
    if crl.issuer != issuer.subject:
        raise RevocationResponseError(
            f"CRL issuer {crl.issuer.rfc4514_string()!r} is not the certificate's issuer"
        )
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not usage.crl_sign:
        raise RevocationResponseError("the issuer's keyUsage does not allow signing CRLs")
    raw = crl._crl
    try:
        sig_hash = raw.signature_hash_algorithm
    except UnsupportedAlgorithm:
        sig_hash = None
    if not _signature_ok(issuer.public_key(), raw.signature, crl._tbs, sig_hash):
        raise RevocationResponseError("CRL signature does not verify with the issuer's key")


def verify_crl(
    crl: Crl,
    issuer: x509.Certificate,
    *,
    at: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
) -> None:
    """Check that *crl* was issued and signed by *issuer* and is current at *at*.

    Checks: the CRL issuer name equals the issuer's subject, the issuer may sign
    CRLs (keyUsage cRLSign when keyUsage is present), the signature, thisUpdate not
    in the future and nextUpdate not passed (a CRL without nextUpdate is refused).
    Raises :class:`~qcertlib.errors.RevocationResponseError`.
    """
    now = at if at is not None else datetime.now(UTC)
    if issuer not in crl._verified_by:  # issuer-dependent checks: once per issuer
        _verify_issuer(crl, issuer)
        crl._verified_by.add(issuer)
    if crl.this_update > now + clock_skew:
        raise RevocationResponseError(
            f"CRL thisUpdate {crl.this_update.isoformat()} is in the future"
        )
    if crl.next_update is None:
        raise RevocationResponseError("CRL has no nextUpdate")
    if crl.next_update < now - clock_skew:
        raise RevocationResponseError(
            f"CRL is expired: nextUpdate {crl.next_update.isoformat()} has passed"
        )
