"""The OCSP responder core (RFC 6960), pure: DER request in, signed DER response out.

No HTTP and no clock: :meth:`OcspResponder.respond` takes the request bytes and the
time ``at``. Statuses come from a :class:`StatusSource` (the CA's registry, an
openssl ``index.txt``, an in-memory table). The responder

* accepts several requests in one OCSPRequest and SHA-1/256/384/512 CertIDs,
* answers ``good``, ``revoked`` (time and reason) or ``unknown`` per certificate,
* signs with a delegated OCSP signer (``id-kp-OCSPSigning``, included in the
  response) or with the CA key itself, responderID by key hash,
* echoes the request nonce (RFC 8954; nonces longer than 32 octets are refused),
* answers ``malformedRequest`` for anything that is not a well-formed OCSPRequest and
  ``unauthorized`` when no CertID names the CA it serves.

Responses to requests without a nonce are *pre-produced*: kept and served again
byte for byte until half their validity has passed. Every cached response is tied to
the source's :meth:`StatusSource.generation`; any revocation changes the generation
and drops the cache, so a revocation is visible in the very next response.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeAlias, runtime_checkable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from qcertlib._der import encode_tlv, read_tlv
from qcertlib.revocation._model import CertStatus, Status
from qcertlib.revocation.ocsp import issuer_hashes, issuer_key_hash

__all__ = [
    "MALFORMED_REQUEST",
    "UNAUTHORIZED",
    "OcspResponder",
    "ResponderKey",
    "StatusSource",
]

ResponderKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
"""Key types the responder signs with."""


@runtime_checkable
class StatusSource(Protocol):
    """Where the responder learns certificate statuses.

    ``lookup`` answers for one serial number of the CA the responder serves.
    ``generation`` returns a value that changes whenever any status changes (a
    counter, a file's mtime, a database's data version); the responder drops every
    cached response when it changes.
    """

    def lookup(self, serial_number: int) -> CertStatus:
        """The status of the certificate with this serial number."""
        ...

    def generation(self) -> Hashable:
        """A token that changes whenever any status changes."""
        ...


def _status_response(code: int) -> bytes:
    return encode_tlv(0x30, encode_tlv(0x0A, bytes((code,))))


MALFORMED_REQUEST = _status_response(1)
"""The DER ``malformedRequest`` OCSP response."""
INTERNAL_ERROR = _status_response(2)
TRY_LATER = _status_response(3)
UNAUTHORIZED = _status_response(6)
"""The DER ``unauthorized`` OCSP response."""

_HASH_OIDS = {
    bytes.fromhex("06052b0e03021a"): "sha1",
    bytes.fromhex("0609608648016503040201"): "sha256",
    bytes.fromhex("0609608648016503040202"): "sha384",
    bytes.fromhex("0609608648016503040203"): "sha512",
}
_NONCE_OID = bytes.fromhex("06092b0601050507300102")
_BASIC_OID = bytes.fromhex("06092b0601050507300101")
_MAX_REQUESTS = 64
_MAX_NONCE = 32

_REASON_CODES: dict[x509.ReasonFlags, int] = {
    x509.ReasonFlags.unspecified: 0,
    x509.ReasonFlags.key_compromise: 1,
    x509.ReasonFlags.ca_compromise: 2,
    x509.ReasonFlags.affiliation_changed: 3,
    x509.ReasonFlags.superseded: 4,
    x509.ReasonFlags.cessation_of_operation: 5,
    x509.ReasonFlags.certificate_hold: 6,
    x509.ReasonFlags.remove_from_crl: 8,
    x509.ReasonFlags.privilege_withdrawn: 9,
    x509.ReasonFlags.aa_compromise: 10,
}


class _Malformed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _ParsedRequest:
    cert_ids: tuple[tuple[bytes, str, bytes, bytes, int], ...]  # raw, hash, name, key, serial
    nonce_value: bytes | None  # the raw extnValue content of the nonce extension


def _octets(data: bytes, pos: int) -> tuple[bytes, int]:
    tag, start, end = read_tlv(data, pos)
    if tag != 0x04:
        raise _Malformed
    return data[start:end], end


def _parse_cert_id(data: bytes, start: int, end: int) -> tuple[str, bytes, bytes, int]:
    tag, astart, aend = read_tlv(data, start)
    if tag != 0x30:
        raise _Malformed
    _otag, _ostart, oend = read_tlv(data, astart)
    hash_name = _HASH_OIDS.get(data[astart:oend], "")
    if oend != aend and data[oend:aend] != b"\x05\x00":
        raise _Malformed
    name_hash, pos = _octets(data, aend)
    key_hash, pos = _octets(data, pos)
    tag, sstart, send = read_tlv(data, pos)
    if tag != 0x02 or send != end or sstart == send:
        raise _Malformed
    serial = int.from_bytes(data[sstart:send], "big", signed=True)
    return hash_name, name_hash, key_hash, serial


def _parse_extensions_for_nonce(data: bytes, start: int, end: int) -> bytes | None:
    tag, pos, seq_end = read_tlv(data, start)
    if tag != 0x30 or seq_end != end:
        raise _Malformed
    nonce = None
    while pos < seq_end:
        tag, estart, eend = read_tlv(data, pos)
        if tag != 0x30:
            raise _Malformed
        otag, _ostart, oend = read_tlv(data, estart)
        if otag != 0x06:
            raise _Malformed
        vpos = oend
        tag, vstart, vend = read_tlv(data, vpos)
        if tag == 0x01:  # critical
            tag, vstart, vend = read_tlv(data, vend)
        if tag != 0x04 or vend != eend:
            raise _Malformed
        if data[estart:oend] == _NONCE_OID:
            value = data[vstart:vend]
            # RFC 8954: the nonce is an OCTET STRING of 1..32 octets.
            inner_tag, istart, iend = read_tlv(value, 0)
            if inner_tag != 0x04 or iend != len(value) or not 1 <= iend - istart <= _MAX_NONCE:
                raise _Malformed
            nonce = value
        pos = eend
    return nonce


_ALG_IDS = {name: encode_tlv(0x30, oid + b"\x05\x00") for oid, name in _HASH_OIDS.items()}


def _cert_id_der(hash_name: str, name_hash: bytes, key_hash: bytes, serial: int) -> bytes:
    """Re-encode a CertID canonically (DER), so a response never echoes odd encodings."""
    serial_der = serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True)
    return encode_tlv(
        0x30,
        _ALG_IDS[hash_name]
        + encode_tlv(0x04, name_hash)
        + encode_tlv(0x04, key_hash)
        + encode_tlv(0x02, serial_der),
    )


def _parse_request(der: bytes) -> _ParsedRequest:
    tag, start, end = read_tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise _Malformed
    tag, tstart, tend = read_tlv(der, start)
    if tag != 0x30:
        raise _Malformed
    if tend != end:  # optionalSignature [0] EXPLICIT; we accept and ignore it
        stag, _s, send = read_tlv(der, tend)
        if stag != 0xA0 or send != end:
            raise _Malformed
    pos = tstart
    tag, cstart, cend = read_tlv(der, pos)
    if tag == 0xA0:  # version, must be v1 (0)
        if der[cstart:cend] != b"\x02\x01\x00":
            raise _Malformed
        pos = cend
        tag, cstart, cend = read_tlv(der, pos)
    if tag == 0xA1:  # requestorName
        pos = cend
        tag, cstart, cend = read_tlv(der, pos)
    if tag != 0x30:
        raise _Malformed
    ids = []
    rpos = cstart
    while rpos < cend:
        rtag, rstart, rend = read_tlv(der, rpos)
        if rtag != 0x30:
            raise _Malformed
        ctag, cid_start, cid_end = read_tlv(der, rstart)
        if ctag != 0x30:
            raise _Malformed
        if cid_end != rend:
            xtag, _xs, xend = read_tlv(der, cid_end)
            if xtag != 0xA0 or xend != rend:
                raise _Malformed
        hash_name, name_hash, key_hash, serial = _parse_cert_id(der, cid_start, cid_end)
        if hash_name:  # CertIDs with a hash we do not know are left unanswered
            raw = _cert_id_der(hash_name, name_hash, key_hash, serial)
            ids.append((raw, hash_name, name_hash, key_hash, serial))
        rpos = rend
        if len(ids) > _MAX_REQUESTS:
            raise _Malformed
    if not ids and rpos == cstart:  # an empty requestList
        raise _Malformed
    nonce = None
    if cend != tend:
        xtag, xstart, xend = read_tlv(der, cend)
        if xtag != 0xA2 or xend != tend:
            raise _Malformed
        nonce = _parse_extensions_for_nonce(der, xstart, xend)
    return _ParsedRequest(tuple(ids), nonce)


def _gtime(value: datetime) -> bytes:
    return encode_tlv(0x18, value.astimezone(UTC).strftime("%Y%m%d%H%M%SZ").encode())


def _signature_algorithm(key: ResponderKey) -> tuple[bytes, hashes.HashAlgorithm | None]:
    if isinstance(key, rsa.RSAPrivateKey):
        return bytes.fromhex("300d06092a864886f70d01010b0500"), hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size > 256:
            return bytes.fromhex("300a06082a8648ce3d040303"), hashes.SHA384()
        return bytes.fromhex("300a06082a8648ce3d040302"), hashes.SHA256()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return bytes.fromhex("300506032b6570"), None
    raise TypeError("unsupported responder key type")


def _signing_function(
    key: ResponderKey, sig_hash: hashes.HashAlgorithm | None
) -> Callable[[bytes], bytes]:
    """``tbs -> signature`` for the responder key (padding/ECDSA objects made once)."""
    if isinstance(key, rsa.RSAPrivateKey):
        assert sig_hash is not None
        pkcs1 = padding.PKCS1v15()
        return lambda tbs: key.sign(tbs, pkcs1, sig_hash)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert sig_hash is not None
        ecdsa = ec.ECDSA(sig_hash)
        return lambda tbs: key.sign(tbs, ecdsa)
    return key.sign


class OcspResponder:
    """Answers OCSP requests for the certificates of one issuing CA.

    *signer_cert*/*signer_key* is the delegated OCSP signer (a certificate issued by
    *issuer* with ``id-kp-OCSPSigning``, ideally ``ocsp-nocheck``); when
    *signer_cert* is ``None`` the CA signs with its own key (*signer_key*). Each
    response is valid for *validity* (nextUpdate = thisUpdate + validity);
    pre-produced responses are refreshed after *refresh* (default: half the validity).
    At most *cache_size* pre-produced responses are kept (about 1 KB each); the
    table is emptied when full, so hostile request streams cannot grow it.
    A delegated signer's certificate is included in every response unless
    *include_certificate* is false (clients then cannot verify the delegation).
    """

    def __init__(
        self,
        issuer: x509.Certificate,
        source: StatusSource,
        signer_key: ResponderKey,
        *,
        signer_cert: x509.Certificate | None = None,
        validity: timedelta = timedelta(hours=1),
        refresh: timedelta | None = None,
        cache_size: int = 50_000,
        include_certificate: bool = True,
    ) -> None:
        if validity <= timedelta(0):
            raise ValueError("validity must be positive")
        self.issuer = issuer
        self.source = source
        self.signer_cert = signer_cert if signer_cert is not None else issuer
        self._key = signer_key
        self._validity = validity
        self._refresh = refresh if refresh is not None else validity / 2
        self._cache_size = cache_size
        self._alg_id, self._sig_hash = _signature_algorithm(signer_key)
        signer_pub = signer_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        cert_pub = self.signer_cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if signer_pub != cert_pub:
            raise ValueError("signer_key does not match the signer certificate")
        self._responder_id = encode_tlv(
            0xA2, encode_tlv(0x04, issuer_key_hash(self.signer_cert, "sha1"))
        )
        certs = b""
        if include_certificate and signer_cert is not None and signer_cert != issuer:
            der = signer_cert.public_bytes(serialization.Encoding.DER)
            certs = encode_tlv(0xA0, encode_tlv(0x30, der))
        self._certs = certs
        self._issuer_hashes = issuer_hashes(issuer)
        self._generation: Hashable = object()
        self._responses: dict[bytes, tuple[datetime, bytes]] = {}
        self._sign_tbs = _signing_function(signer_key, self._sig_hash)
        # (second, producedAt GeneralizedTime, thisUpdate + [0] nextUpdate): every
        # response produced within one second shares them (strftime is not free)
        self._times: tuple[datetime, bytes, bytes] | None = None

    def _check_generation(self) -> None:
        generation = self.source.generation()
        if generation != self._generation:
            self._generation = generation
            self._responses.clear()

    def _time_parts(self, at: datetime) -> tuple[bytes, bytes]:
        times = self._times
        if times is None or times[0] != at:
            now = _gtime(at)
            times = (at, now, now + encode_tlv(0xA0, _gtime(at + self._validity)))
            self._times = times
        return times[1], times[2]

    def _single(self, cert_id_der: bytes, status: CertStatus, this_update: datetime) -> bytes:
        if status.status is Status.GOOD:
            state = b"\x80\x00"
        elif status.status is Status.REVOKED:
            assert status.revocation_time is not None
            info = _gtime(status.revocation_time)
            if status.reason is not None:
                code = _REASON_CODES[status.reason]
                info += encode_tlv(0xA0, encode_tlv(0x0A, bytes((code,))))
            state = encode_tlv(0xA1, info)
        else:
            state = b"\x82\x00"
        return encode_tlv(0x30, cert_id_der + state + self._time_parts(this_update)[1])

    def _sign(self, singles: list[bytes], nonce_value: bytes | None, at: datetime) -> bytes:
        extensions = b""
        if nonce_value is not None:
            ext = encode_tlv(0x30, _NONCE_OID + encode_tlv(0x04, nonce_value))
            extensions = encode_tlv(0xA1, encode_tlv(0x30, ext))
        tbs = encode_tlv(
            0x30,
            self._responder_id
            + self._time_parts(at)[0]
            + encode_tlv(0x30, b"".join(singles))
            + extensions,
        )
        signature = self._sign_tbs(tbs)
        basic = encode_tlv(
            0x30, tbs + self._alg_id + encode_tlv(0x03, b"\x00" + signature) + self._certs
        )
        response_bytes = encode_tlv(0x30, _BASIC_OID + encode_tlv(0x04, basic))
        return encode_tlv(0x30, b"\x0a\x01\x00" + encode_tlv(0xA0, response_bytes))

    def respond(self, request_der: bytes, *, at: datetime | None = None) -> bytes:
        """Answer one DER OCSPRequest with a DER OCSPResponse (never raises on input)."""
        now = (at if at is not None else datetime.now(UTC)).replace(microsecond=0)
        try:
            self._check_generation()
        except Exception:
            return TRY_LATER
        cached = self._responses.get(request_der)
        if cached is not None and now < cached[0]:
            return cached[1]
        try:
            parsed = _parse_request(request_der)
        except (_Malformed, ValueError):
            return MALFORMED_REQUEST
        singles = []
        authoritative = False
        for raw_id, hash_name, name_hash, key_hash, serial in parsed.cert_ids:
            ours = self._issuer_hashes.get(hash_name)
            if ours is not None and ours == (name_hash, key_hash):
                authoritative = True
                try:
                    status = self.source.lookup(serial)
                except Exception:
                    return INTERNAL_ERROR
            else:
                status = CertStatus.unknown()
            singles.append(self._single(raw_id, status, now))
        if not authoritative:
            return UNAUTHORIZED
        response = self._sign(singles, parsed.nonce_value, now)
        if parsed.nonce_value is None:
            if len(self._responses) >= self._cache_size:
                self._responses.clear()
            self._responses[request_der] = (now + self._refresh, response)
        return response
