"""RFC 3161 timestamps: a client that verifies what it gets, and a TSA responder core.

Client side: :func:`build_request`, :func:`parse_response`, :func:`verify_token`
(all pure) and :class:`Timestamper`, which POSTs to a TSA over HTTP. A token is
accepted only if its message imprint and nonce match the request, its CMS signature
verifies, the ESS signing-certificate attribute names the TSA certificate, that
certificate has the *critical* extended key usage ``timeStamping`` and, when trust
roots are given, chains to one of them and was valid at ``genTime``.

Responder side: :class:`TsaResponder` turns a ``TimeStampReq`` into a
``TimeStampResp`` (policy, unique serial, genTime, accuracy, nonce echo,
ESSCertIDv2) or refuses it with the proper ``PKIStatus`` / ``PKIFailureInfo``.
It does no I/O; :mod:`qcertlib.services` mounts it at ``/tsa``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from qcertlib.errors import SigningError, TimestampError
from qcertlib.signing import _cms
from qcertlib.signing._chain import build_path, valid_at
from qcertlib.signing.backends import SoftwareKeyBackend
from qcertlib.signing.options import DigestAlgorithm

__all__ = [
    "DEFAULT_TSA_POLICY",
    "TIMESTAMP_QUERY_TYPE",
    "TIMESTAMP_REPLY_TYPE",
    "TimestampInfo",
    "TimestampRequest",
    "Timestamper",
    "TsaResponder",
    "build_request",
    "check_tsa_certificate",
    "parse_response",
    "verify_token",
]

_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
_TST_INFO = "1.2.840.113549.1.9.16.1.4"

#: ETSI EN 319 421 best-practices time-stamp policy (0.4.0.2023.1.1).
DEFAULT_TSA_POLICY = x509.ObjectIdentifier("0.4.0.2023.1.1")

TIMESTAMP_QUERY_TYPE = "application/timestamp-query"
TIMESTAMP_REPLY_TYPE = "application/timestamp-reply"

_FAIL_TEXT = {
    "bad_alg": "unrecognized or unsupported hash algorithm",
    "bad_request": "transaction not permitted or supported",
    "bad_data_format": "the data submitted has the wrong format",
    "time_not_available": "the TSA's time source is not available",
    "unaccepted_policy": "the requested TSA policy is not supported",
    "unaccepted_extensions": "the requested extension is not supported",
    "add_info_not_available": "the additional information requested is not available",
    "system_failure": "the request cannot be handled due to a system failure",
}


class _TimeStampResp(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """TimeStampResp with the token OPTIONAL, as RFC 3161 says (asn1crypto makes it required)."""

    _fields: ClassVar[list[tuple[str, Any, dict[str, bool]]]] = [
        ("status", tsp.PKIStatusInfo, {}),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


@dataclass(frozen=True, slots=True)
class TimestampRequest:
    """A DER ``TimeStampReq`` and what the answer must echo."""

    der: bytes
    digest: bytes
    algorithm: DigestAlgorithm
    nonce: int | None
    cert_req: bool
    policy: x509.ObjectIdentifier | None = None


@dataclass(frozen=True, slots=True)
class TimestampInfo:
    """A verified timestamp token (``token`` is the DER TimeStampToken)."""

    gen_time: datetime
    serial_number: int
    policy: x509.ObjectIdentifier
    digest: bytes
    algorithm: DigestAlgorithm
    nonce: int | None
    accuracy: timedelta | None
    tsa_certificate: x509.Certificate
    certificates: tuple[x509.Certificate, ...]
    token: bytes = field(repr=False)
    path: tuple[x509.Certificate, ...] = ()


def build_request(
    digest: bytes,
    algorithm: DigestAlgorithm,
    *,
    nonce: int | None = None,
    cert_req: bool = True,
    policy: x509.ObjectIdentifier | None = None,
) -> TimestampRequest:
    """A ``TimeStampReq`` for a digest; a random 64-bit nonce unless one is given."""
    if len(digest) != algorithm.digest_size:
        raise ValueError(
            f"digest is {len(digest)} bytes, {algorithm.value} needs {algorithm.digest_size}"
        )
    if nonce is None:
        nonce = secrets.randbits(63) | (1 << 62)
    fields: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": algorithm.value},
            "hashed_message": digest,
        },
        "nonce": nonce,
        "cert_req": cert_req,
    }
    if policy is not None:
        fields["req_policy"] = policy.dotted_string
    der = bytes(tsp.TimeStampReq(fields).dump())
    return TimestampRequest(der, digest, algorithm, nonce, cert_req, policy)


def parse_response(
    response: bytes,
    request: TimestampRequest,
    *,
    trust_roots: Sequence[x509.Certificate] = (),
    intermediates: Sequence[x509.Certificate] = (),
) -> TimestampInfo:
    """Check a ``TimeStampResp`` against its request and return the verified token.

    A refusal (status other than granted / grantedWithMods) raises
    :class:`TimestampError` naming the status, the failInfo bits and the TSA's text.
    """
    try:
        resp = _TimeStampResp.load(response, strict=True)
        status = resp["status"]
        status_name = status["status"].native
        fail_bits = _fail_names(status["fail_info"])
        texts = [str(t) for t in (status["status_string"].native or [])]
        token = resp["time_stamp_token"]
        token_der = None if isinstance(token, core.Void) else bytes(token.dump())
    except _cms.MALFORMED as exc:
        raise TimestampError(f"the TSA answer is not a TimeStampResp ({exc})") from None
    if status_name not in ("granted", "granted_with_mods"):
        detail = ", ".join(f"{b} ({_FAIL_TEXT.get(b, b)})" for b in fail_bits) or "none given"
        text = f"; TSA says: {' / '.join(texts)}" if texts else ""
        raise TimestampError(
            f"the TSA refused the request: status {status_name}, failInfo {detail}{text}"
        )
    if token_der is None:
        raise TimestampError("the TSA granted the request but sent no token")
    return verify_token(
        token_der,
        request.digest,
        request.algorithm,
        nonce=request.nonce,
        trust_roots=trust_roots,
        intermediates=intermediates,
        require_certificate=request.cert_req,
    )


def _fail_names(fail_info: Any) -> list[str]:
    if isinstance(fail_info, core.Void):
        return []
    native = fail_info.native
    return sorted(str(n) for n in native) if native else []


def check_tsa_certificate(cert: x509.Certificate) -> None:
    """RFC 3161 2.3: the TSA certificate's only EKU is ``timeStamping`` and it is critical."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise TimestampError("the TSA certificate has no extended key usage extension") from None
    if not ext.critical:
        raise TimestampError("the TSA certificate's extended key usage is not critical")
    if list(ext.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise TimestampError("the TSA certificate's extended key usage is not only timeStamping")


def verify_token(
    token: bytes,
    digest: bytes,
    algorithm: DigestAlgorithm,
    *,
    nonce: int | None = None,
    trust_roots: Sequence[x509.Certificate] = (),
    intermediates: Sequence[x509.Certificate] = (),
    require_certificate: bool = False,
) -> TimestampInfo:
    """Verify a bare ``TimeStampToken`` for ``digest``; :class:`TimestampError` if it fails.

    Checks the message imprint (algorithm and value), the nonce (when given), the
    CMS signature, the ESS signing-certificate attribute, the TSA certificate's
    critical ``timeStamping`` EKU and, with ``trust_roots``, its chain and its
    validity at ``genTime``. The TSA certificate is looked up in the token and in
    ``intermediates`` (``require_certificate``: it must be in the token).
    """
    try:
        return _verify_token(
            token,
            digest,
            algorithm,
            nonce=nonce,
            trust_roots=trust_roots,
            intermediates=intermediates,
            require_certificate=require_certificate,
        )
    except TimestampError:
        raise
    except _cms.MALFORMED as exc:
        raise TimestampError(f"the timestamp token is malformed ({exc})") from None


def _verify_token(
    token: bytes,
    digest: bytes,
    algorithm: DigestAlgorithm,
    *,
    nonce: int | None = None,
    trust_roots: Sequence[x509.Certificate] = (),
    intermediates: Sequence[x509.Certificate] = (),
    require_certificate: bool = False,
) -> TimestampInfo:
    """See :func:`verify_token`."""
    try:
        sd = _cms.load_signed_data(token)
        encap = sd["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise TimestampError("the token does not contain a TSTInfo")
        tst_der = bytes(encap["content"].contents)
        tst = tsp.TSTInfo.load(tst_der, strict=True)
        _ = tst.native
        signer_infos = list(sd["signer_infos"])
    except TimestampError:
        raise
    except _cms.MALFORMED as exc:
        raise TimestampError(f"the timestamp token is malformed ({exc})") from None
    if len(signer_infos) != 1:
        raise TimestampError(f"the token has {len(signer_infos)} signers, expected 1")
    imprint = tst["message_imprint"]
    imprint_alg = imprint["hash_algorithm"]["algorithm"].native
    if imprint_alg != algorithm.value or imprint["hashed_message"].native != digest:
        raise TimestampError("message imprint mismatch: the token is not for this data")
    token_nonce = tst["nonce"].native
    if nonce is not None and token_nonce != nonce:
        raise TimestampError("nonce mismatch: the token does not answer this request")

    embedded = _cms.certificates_of(sd)
    si = signer_infos[0]
    tsa_cert = _cms.find_certificate(si["sid"], embedded)
    if tsa_cert is None and not require_certificate:
        tsa_cert = _cms.find_certificate(si["sid"], [*intermediates, *trust_roots])
    if tsa_cert is None:
        raise TimestampError("the TSA certificate is not in the token")
    _verify_signer_info(si, tst_der, tsa_cert, content_type="tst_info")
    check_tsa_certificate(tsa_cert)
    gen_time = tst["gen_time"].native
    path: tuple[x509.Certificate, ...] = ()
    if trust_roots:
        found = build_path(tsa_cert, [*embedded, *intermediates], trust_roots)
        if found is None:
            raise TimestampError("the TSA certificate does not chain to a trusted root")
        path = found
        if not valid_at(tsa_cert, gen_time):
            raise TimestampError("the TSA certificate was not valid at the token's genTime")
    return TimestampInfo(
        gen_time=gen_time,
        serial_number=tst["serial_number"].native,
        policy=x509.ObjectIdentifier(tst["policy"].dotted),
        digest=digest,
        algorithm=algorithm,
        nonce=token_nonce,
        accuracy=_accuracy(tst["accuracy"]),
        tsa_certificate=tsa_cert,
        certificates=tuple(embedded),
        token=token,
        path=path,
    )


def token_info(token: bytes) -> tuple[bytes, DigestAlgorithm, datetime]:
    """(hashed message, algorithm, genTime) of a token, without verifying it."""
    try:
        sd = _cms.load_signed_data(token)
        tst = sd["encap_content_info"]["content"].parsed
        imprint = tst["message_imprint"]
        alg = DigestAlgorithm.from_name(imprint["hash_algorithm"]["algorithm"].native)
        return imprint["hashed_message"].native, alg, tst["gen_time"].native
    except _cms.MALFORMED as exc:
        raise TimestampError(f"the timestamp token is malformed ({exc})") from None


def _verify_signer_info(
    si: cms.SignerInfo, content: bytes, cert: x509.Certificate, *, content_type: str
) -> None:
    digest_name = si["digest_algorithm"]["algorithm"].native
    attrs = si["signed_attrs"]
    if isinstance(attrs, core.Void):
        raise TimestampError("the token's SignerInfo has no signed attributes")
    try:
        expected = _cms.digest_with(digest_name, content)
    except ValueError:
        raise TimestampError(f"the token uses an unsupported digest ({digest_name})") from None
    digests = _cms.attr_values(attrs, "message_digest")
    if len(digests) != 1 or digests[0].native != expected:
        raise TimestampError("the token's message-digest attribute does not match its TSTInfo")
    types = _cms.attr_values(attrs, "content_type")
    if len(types) != 1 or types[0].native != content_type:
        raise TimestampError("the token's content-type attribute is not id-ct-TSTInfo")
    matches = _cms.signing_certificate_matches(attrs, cert)
    if matches is None:
        raise TimestampError("the token has no ESS signing-certificate attribute")
    if not matches:
        raise TimestampError("the token's ESS signing-certificate does not name its signer")
    ok = _cms.verify_signature(
        cert.public_key(),
        si["signature_algorithm"],
        digest_name,
        _cms.signed_attrs_der(si),
        si["signature"].native,
    )
    if not ok:
        raise TimestampError("the token's signature does not verify")


def _accuracy(acc: Any) -> timedelta | None:
    if isinstance(acc, core.Void):
        return None
    n = acc.native or {}
    return timedelta(
        seconds=n.get("seconds") or 0,
        milliseconds=n.get("millis") or 0,
        microseconds=n.get("micros") or 0,
    )


class Timestamper:
    """An RFC 3161 client for one TSA URL (HTTP POST ``application/timestamp-query``).

    ``hash`` is the default imprint algorithm. Tokens are verified before they are
    returned (see :func:`verify_token`); with ``trust_roots`` the TSA certificate
    must also chain to one of them. Network errors and refusals raise
    :class:`TimestampError`.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        hash: DigestAlgorithm = DigestAlgorithm.SHA256,
        trust_roots: Sequence[x509.Certificate] = (),
        intermediates: Sequence[x509.Certificate] = (),
        policy: x509.ObjectIdentifier | None = None,
        max_response_size: int = 1024 * 1024,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"TSA URL must be http(s): {url!r}")
        self.url = url
        self.timeout = timeout
        self.hash = hash
        self.trust_roots = tuple(trust_roots)
        self.intermediates = tuple(intermediates)
        self.policy = policy
        self.max_response_size = max_response_size

    def __repr__(self) -> str:
        return f"Timestamper({self.url!r})"

    def timestamp(self, data_digest: bytes, algorithm: DigestAlgorithm | None = None) -> bytes:
        """A verified TimeStampToken (DER) for ``data_digest``."""
        return self.timestamp_info(data_digest, algorithm).token

    def timestamp_data(self, data: bytes) -> bytes:
        """Hash ``data`` with :attr:`hash` and timestamp it."""
        return self.timestamp(self.hash.digest(data), self.hash)

    def timestamp_info(
        self, data_digest: bytes, algorithm: DigestAlgorithm | None = None
    ) -> TimestampInfo:
        """Like :meth:`timestamp`, returning the verified :class:`TimestampInfo`."""
        request = build_request(data_digest, algorithm or self.hash, policy=self.policy)
        answer = self._post(request.der)
        return parse_response(
            answer, request, trust_roots=self.trust_roots, intermediates=self.intermediates
        )

    def _post(self, body: bytes) -> bytes:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": TIMESTAMP_QUERY_TYPE, "Accept": TIMESTAMP_REPLY_TYPE},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                data: bytes = resp.read(self.max_response_size + 1)
        except urllib.error.HTTPError as exc:
            raise TimestampError(f"TSA {self.url} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TimestampError(f"cannot reach TSA {self.url}: {reason}") from None
        if len(data) > self.max_response_size:
            raise TimestampError(f"TSA {self.url} answer exceeds {self.max_response_size} bytes")
        return data


class _Refusal(Exception):
    def __init__(self, fail: str, text: str) -> None:
        super().__init__(text)
        self.fail = fail
        self.text = text


class TsaResponder:
    """A Time-Stamping Authority core: ``TimeStampReq`` DER in, ``TimeStampResp`` DER out.

    ``certificate`` must carry the critical ``timeStamping`` EKU (else
    :class:`SigningError`). ``policy`` is the TSA policy OID put in every token;
    requests asking for another policy than ``policy`` / ``accepted_policies`` are
    refused with ``unacceptedPolicy``. ``serial`` returns a fresh serial number
    (default: 128 random bits, unique with overwhelming probability). Pure: the
    time is the ``at`` argument (``None`` = now).
    """

    def __init__(
        self,
        key: Any,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
        *,
        policy: x509.ObjectIdentifier,
        accepted_policies: Iterable[x509.ObjectIdentifier] = (),
        accuracy: timedelta = timedelta(seconds=1),
        digests: Iterable[DigestAlgorithm] = tuple(DigestAlgorithm),
        signature_digest: DigestAlgorithm = DigestAlgorithm.SHA256,
        serial: Callable[[], int] | None = None,
        include_tsa_name: bool = True,
    ) -> None:
        try:
            check_tsa_certificate(certificate)
        except TimestampError as exc:
            raise SigningError(f"unusable TSA certificate: {exc}") from None
        self._backend = SoftwareKeyBackend(key, certificate, chain)
        self.certificate = certificate
        self.chain = tuple(chain)
        self.policy = policy
        self.accepted_policies = frozenset({policy, *accepted_policies})
        self.accuracy = accuracy
        self.digests = frozenset(digests)
        self.signature_digest = signature_digest
        self._serial = serial or (lambda: secrets.randbits(127) | (1 << 126))
        self.include_tsa_name = include_tsa_name

    def __repr__(self) -> str:
        return f"TsaResponder({self.certificate.subject.rfc4514_string()!r})"

    def respond(self, request: bytes, *, at: datetime | None = None) -> bytes:
        """Answer a DER ``TimeStampReq`` with a DER ``TimeStampResp`` (never raises on input)."""
        try:
            digest, alg, nonce, cert_req = self._parse(request)
        except _Refusal as refusal:
            return self._refusal(refusal.fail, refusal.text)
        token = self._token(digest, alg, nonce=nonce, cert_req=cert_req, at=at)
        resp = _TimeStampResp(
            {
                "status": {"status": "granted"},
                "time_stamp_token": cms.ContentInfo.load(token),
            }
        )
        return bytes(resp.dump())

    def timestamp(self, data_digest: bytes, algorithm: DigestAlgorithm) -> bytes:
        """A token directly (no HTTP): lets a local TSA serve as a timestamp source."""
        if algorithm not in self.digests:
            raise TimestampError(f"this TSA does not accept {algorithm.value}")
        if len(data_digest) != algorithm.digest_size:
            raise ValueError("digest length does not match the algorithm")
        return self._token(data_digest, algorithm, nonce=None, cert_req=True, at=None)

    def _parse(self, request: bytes) -> tuple[bytes, DigestAlgorithm, int | None, bool]:
        try:
            req = tsp.TimeStampReq.load(request, strict=True)
            native = req.native
        except _cms.MALFORMED:
            raise _Refusal("bad_data_format", "the request is not a DER TimeStampReq") from None
        if native["version"] != "v1":
            raise _Refusal("bad_request", "only version 1 requests are supported")
        imprint = req["message_imprint"]
        try:
            alg = DigestAlgorithm.from_oid(imprint["hash_algorithm"]["algorithm"].dotted)
        except ValueError:
            alg = None
        if alg is None or alg not in self.digests:
            raise _Refusal("bad_alg", "unsupported hash algorithm in the message imprint")
        digest = imprint["hashed_message"].native
        if len(digest) != alg.digest_size:
            raise _Refusal("bad_data_format", "the hashed message has the wrong length")
        policy = native.get("req_policy")
        if policy is not None:
            dotted = req["req_policy"].dotted
            if x509.ObjectIdentifier(dotted) not in self.accepted_policies:
                raise _Refusal("unaccepted_policy", f"policy {dotted} is not supported")
        if native.get("extensions"):
            raise _Refusal("unaccepted_extensions", "request extensions are not supported")
        return digest, alg, native.get("nonce"), bool(native.get("cert_req"))

    def _refusal(self, fail: str, text: str) -> bytes:
        resp = _TimeStampResp(
            {
                "status": {
                    "status": "rejection",
                    "status_string": [text],
                    "fail_info": {fail},
                }
            }
        )
        return bytes(resp.dump())

    def _token(
        self,
        digest: bytes,
        alg: DigestAlgorithm,
        *,
        nonce: int | None,
        cert_req: bool,
        at: datetime | None,
    ) -> bytes:
        gen_time = (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        acc = self.accuracy
        accuracy: dict[str, int] = {}
        if acc.seconds or acc.days:
            accuracy["seconds"] = int(acc.total_seconds())
        if acc.microseconds // 1000:
            accuracy["millis"] = acc.microseconds // 1000
        if acc.microseconds % 1000:
            accuracy["micros"] = acc.microseconds % 1000
        fields: dict[str, Any] = {
            "version": "v1",
            "policy": self.policy.dotted_string,
            "message_imprint": {
                "hash_algorithm": {"algorithm": alg.value},
                "hashed_message": digest,
            },
            "serial_number": self._serial(),
            "gen_time": gen_time,
        }
        if accuracy:
            fields["accuracy"] = accuracy
        if nonce is not None:
            fields["nonce"] = nonce
        if self.include_tsa_name:
            fields["tsa"] = asn1_x509.GeneralName(
                {"directory_name": _cms.asn1_cert(self.certificate).subject}
            )
        tst_der = bytes(tsp.TSTInfo(fields).dump())
        sig_alg = self.signature_digest
        attrs_der = _cms.der_set_of(
            [
                _cms.encode_attribute(_CONTENT_TYPE, [core.ObjectIdentifier(_TST_INFO).dump()]),
                _cms.encode_attribute(_SIGNING_TIME, [core.GeneralizedTime(gen_time).dump()]),
                _cms.encode_attribute(
                    _MESSAGE_DIGEST, [_cms.der_tlv(0x04, sig_alg.digest(tst_der))]
                ),
                _cms.encode_attribute(
                    _SIGNING_CERTIFICATE_V2,
                    [_cms.signing_certificate_v2_der(self.certificate, sig_alg)],
                ),
            ]
        )
        attrs = cms.CMSAttributes.load(attrs_der)
        (signature,) = self._backend.sign_digests([sig_alg.digest(attrs_der)], sig_alg)
        si = _cms.build_signer_info(
            self.certificate, sig_alg, attrs, signature, self._backend.mechanism
        )
        return _cms.build_signed_data(
            content_type="tst_info",
            content=tst_der,
            digest_algorithms=[sig_alg],
            certificates=[self.certificate, *self.chain] if cert_req else [],
            signer_infos=[si],
        )
