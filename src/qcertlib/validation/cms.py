"""Validation of CMS / CAdES signatures (``.p7s``) with ETSI EN 319 102-1 verdicts.

For each SignerInfo :func:`validate_cms` checks, in this order (the first failure
decides the verdict):

1. the signer certificate is found (SignedData certificates, policy
   intermediates, trust roots) and matches the ESS signing-certificate attribute
   — else ``INDETERMINATE / NO_SIGNING_CERTIFICATE_FOUND``;
2. the content is available (attached or given) — else ``INDETERMINATE /
   SIGNED_DATA_NOT_FOUND``; its digest equals message-digest — else
   ``TOTAL_FAILED / HASH_FAILURE``;
3. the signature over the signed attributes verifies — else ``TOTAL_FAILED /
   SIG_CRYPTO_FAILURE``;
4. a signature timestamp (if any) is verified (imprint over the signature value,
   TSA certificate with critical timeStamping EKU, chain to the trust roots); its
   genTime becomes the proven signing time. A token that does not verify, or
   whose TSA certificate was revoked before genTime, is reported and ignored;
5. a path to a trust root exists — else ``INDETERMINATE /
   NO_CERTIFICATE_CHAIN_FOUND``; the certificates were valid at the proven time
   (or at validation time) — else ``NOT_YET_VALID`` / ``OUT_OF_BOUNDS_NO_POE``;
6. revocation (``policy.check_revocation``) from the CRLs / OCSP responses in the
   SignedData, and fetched with :mod:`qcertlib.revocation` when
   ``policy.fetch_revocation``: revoked at or before the signing time →
   ``TOTAL_FAILED / REVOKED``; revoked later without a timestamp proving the
   signature older → ``INDETERMINATE / REVOKED_NO_POE``; a revoked CA →
   ``INDETERMINATE / REVOKED_CA_NO_POE``; no usable data → ``INDETERMINATE /
   TRY_LATER``.

The level reached (B-B, B-T, B-LT) is detected from what is present and valid.
The signer is summarised with :func:`qcertlib.profiles.inspect` and linted with
:func:`qcertlib.profiles.lint`.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from qcertlib.errors import QcertError, TimestampError, ValidationInputError
from qcertlib.signing import _cms
from qcertlib.signing._chain import build_path, valid_at
from qcertlib.signing.options import SignatureLevel
from qcertlib.signing.timestamps import TimestampInfo, verify_token
from qcertlib.validation.report import (
    Indication,
    RevocationStatus,
    SignatureReport,
    SubIndication,
    ValidationPolicy,
    ValidationReport,
)

__all__ = ["validate_cms"]

_PEM = re.compile(rb"-----BEGIN (?:PKCS7|CMS|PKCS #7 SIGNED DATA)-----(.+?)-----END", re.S)
_SPI = "1.2.840.113549.1.9.16.2.15"
_SHA256 = hashes.SHA256()
_MATERIAL_ERRORS: tuple[type[Exception], ...] = (QcertError, *_cms.MALFORMED)


def _decode(signature: bytes) -> tuple[cms.SignedData, memoryview | None]:
    """The SignedData and, for an attached signature, a view of its content."""
    if not signature or not signature.strip():
        raise ValidationInputError("the signature file is empty")
    match = _PEM.search(signature)
    if match:
        try:
            signature = base64.b64decode(b"".join(match.group(1).split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationInputError("the PEM signature is not valid base64") from None
    detached, content = _cms.split_content(signature)
    try:
        return _cms.load_signed_data(detached), content
    except _cms.MALFORMED as exc:
        raise ValidationInputError(f"not a CMS SignedData (.p7s) signature: {exc}") from None


def validate_cms(
    signature: bytes,
    content: bytes | str | os.PathLike[str] | None = None,
    policy: ValidationPolicy | None = None,
    *,
    name: str = "signature.p7s",
) -> ValidationReport:
    """Validate every signature of a CMS ``SignedData`` (detached needs ``content``).

    ``content`` is the signed data as bytes or a path (hashed in chunks, so a large
    detached document is never held in memory).

    Raises :class:`~qcertlib.errors.ValidationInputError` only when the input is not
    CMS at all (empty, garbage); every verdict on a readable signature is a report.
    """
    policy = policy or ValidationPolicy()
    sd, attached = _decode(signature)
    try:
        signed: bytes | memoryview | str | os.PathLike[str] | None = content
        if signed is None:
            signed = attached
        if signed is None:
            embedded = sd["encap_content_info"]["content"]
            if not isinstance(embedded, core.Void) and embedded.native is not None:
                signed = bytes(embedded.native)
        ctx = _Context(sd, signed, policy)
        signer_infos = list(sd["signer_infos"])
    except _cms.MALFORMED as exc:
        raise ValidationInputError(f"malformed CMS SignedData: {exc}") from None
    reports = tuple(ctx.validate_safely(si) for si in signer_infos)
    return ValidationReport(name, reports)


@dataclass
class _Verdict:
    indication: Indication = Indication.TOTAL_PASSED
    sub: SubIndication | None = None
    messages: list[str] = field(default_factory=list)

    def fail(self, indication: Indication, sub: SubIndication, message: str) -> None:
        if self.indication is Indication.TOTAL_PASSED:
            self.indication, self.sub = indication, sub
        self.messages.append(message)


class _Context:
    def __init__(
        self,
        sd: cms.SignedData,
        content: bytes | memoryview | str | os.PathLike[str] | None,
        policy: ValidationPolicy,
    ):
        self.sd = sd
        self.content = content
        self._digests: dict[str, bytes] = {}
        self.policy = policy
        self.now = policy.at or datetime.now(UTC)
        self.embedded = _cms.certificates_of(sd)
        self.pool = _cms.dedupe([*self.embedded, *policy.intermediates])
        self.crls, self.ocsps = _cms.revocation_values(sd)

    # -- one signer ---------------------------------------------------------
    def validate_safely(self, si: cms.SignerInfo) -> SignatureReport:
        """:meth:`validate`, turning a malformed part into FORMAT_FAILURE."""
        try:
            return self.validate(si)
        except _cms.MALFORMED as exc:
            return SignatureReport(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                messages=(f"malformed signature structure: {exc}",),
                format="cades",
            )

    def validate(self, si: cms.SignerInfo) -> SignatureReport:
        v = _Verdict()
        attrs = si["signed_attrs"]
        signing_time = _signing_time(attrs)
        cert = _cms.find_certificate(si["sid"], [*self.pool, *self.policy.trust_roots])
        base = {"signing_time": signing_time, "format": "cades"}
        if cert is None:
            return SignatureReport(
                Indication.INDETERMINATE,
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                messages=("the signer certificate is not in the signature nor in the policy",),
                **base,  # type: ignore[arg-type]
            )
        summary, lint = self._describe(cert)
        level = self._check_crypto(si, cert, v)
        ts: TimestampInfo | None = None
        if v.indication is Indication.TOTAL_PASSED:
            ts = self._timestamp(si, v)
            if ts is not None and level is SignatureLevel.B_B:
                level = SignatureLevel.B_T
        rev_status = RevocationStatus.NOT_CHECKED
        if v.indication is Indication.TOTAL_PASSED:
            rev_status, lt = self._chain_and_revocation(cert, signing_time, ts, v)
            if lt and ts is not None and level is SignatureLevel.B_T:
                level = SignatureLevel.B_LT
        spi = _cms.attr_values(attrs, _SPI)
        if spi:
            v.messages.append(f"explicit signature policy (EPES) {_policy_oid(spi[0])}")
        return SignatureReport(
            v.indication,
            v.sub,
            level=level,
            signer=summary,
            signing_time=signing_time,
            timestamp_time=ts.gen_time if ts else None,
            revocation_status=rev_status,
            lint=lint,
            messages=tuple(v.messages),
            signer_certificate=cert,
            format="cades",
        )

    def _describe(self, cert: x509.Certificate) -> tuple[Any, Any]:
        summary = lint_report = None
        try:
            from qcertlib.profiles import inspect

            summary = inspect(cert, at=self.now)
        except (ImportError, QcertError, ValueError):
            summary = None
        if self.policy.lint:
            try:
                from qcertlib.profiles import lint

                lint_report = lint(cert, at=self.now)
            except (ImportError, QcertError, ValueError):
                lint_report = None
        return summary, lint_report

    def _content_digest(self, name: str) -> bytes:
        """Digest of the content (bytes, or a file hashed in chunks), once per algorithm."""
        if name not in self._digests:
            content = self.content
            assert content is not None
            if isinstance(content, bytes | bytearray | memoryview):
                self._digests[name] = _cms.digest_with(name, content)
            else:
                h = hashes.Hash(_cms.hash_for_name(name))
                try:
                    with Path(content).open("rb") as fh:
                        while chunk := fh.read(1 << 20):
                            h.update(chunk)
                except OSError as exc:
                    raise ValidationInputError(
                        f"cannot read the signed content: {exc.strerror or exc}"
                    ) from None
                self._digests[name] = h.finalize()
        return self._digests[name]

    def _check_crypto(
        self, si: cms.SignerInfo, cert: x509.Certificate, v: _Verdict
    ) -> SignatureLevel | None:
        attrs = si["signed_attrs"]
        digest_name = si["digest_algorithm"]["algorithm"].native
        if isinstance(attrs, core.Void):
            v.fail(
                Indication.TOTAL_FAILED,
                SubIndication.FORMAT_FAILURE,
                "no signed attributes: not a CAdES signature",
            )
            return None
        ess = _cms.signing_certificate_matches(attrs, cert)
        if ess is False:
            v.fail(
                Indication.INDETERMINATE,
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                "the signing-certificate attribute does not match the signer certificate",
            )
            return None
        if self.content is None:
            v.fail(
                Indication.INDETERMINATE,
                SubIndication.SIGNED_DATA_NOT_FOUND,
                "detached signature: the signed content was not given",
            )
            return None
        digests = _cms.attr_values(attrs, "message_digest")
        try:
            actual = self._content_digest(digest_name)
        except ValueError:
            v.fail(
                Indication.INDETERMINATE,
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE,
                f"unsupported digest algorithm {digest_name}",
            )
            return None
        if len(digests) != 1 or digests[0].native != actual:
            v.fail(
                Indication.TOTAL_FAILED,
                SubIndication.HASH_FAILURE,
                "the content does not match the signed message digest (altered content?)",
            )
            return None
        ok = _cms.verify_signature(
            cert.public_key(),
            si["signature_algorithm"],
            digest_name,
            _cms.signed_attrs_der(si),
            si["signature"].native,
        )
        if not ok:
            v.fail(
                Indication.TOTAL_FAILED,
                SubIndication.SIG_CRYPTO_FAILURE,
                "the signature value does not verify with the signer's public key",
            )
            return None
        if ess is None:
            v.messages.append("no signing-certificate(-v2) attribute: not a baseline CAdES")
            return None
        return SignatureLevel.B_B

    def _timestamp(self, si: cms.SignerInfo, v: _Verdict) -> TimestampInfo | None:
        tokens = _cms.attr_values(si["unsigned_attrs"], "signature_time_stamp_token")
        if not tokens:
            return None
        token = bytes(tokens[0].dump())
        signature = si["signature"].native
        try:
            from qcertlib.signing.timestamps import token_info

            _imprint, alg, _gen = token_info(token)
            info = verify_token(
                token,
                alg.digest(signature),
                alg,
                trust_roots=self.policy.trust_roots,
                intermediates=self.pool,
            )
        except TimestampError as exc:
            v.messages.append(f"signature timestamp ignored: {exc}")
            return None
        if self.policy.check_revocation and info.path:
            for i, c in enumerate(info.path[:-1]):
                found = self._status_of(c, info.path[i + 1])
                if found is not None and found[0] == "revoked":
                    when = found[1]
                    if when is None or when <= info.gen_time:
                        v.messages.append(
                            f"signature timestamp ignored: {c.subject.rfc4514_string()} "
                            f"was revoked on {_iso(when)}, before the token's genTime"
                        )
                        return None
        return info

    # -- path, validity, revocation -----------------------------------------
    def _chain_and_revocation(
        self,
        cert: x509.Certificate,
        signing_time: datetime | None,
        ts: TimestampInfo | None,
        v: _Verdict,
    ) -> tuple[RevocationStatus, bool]:
        path = build_path(cert, self.pool, self.policy.trust_roots)
        if path is None:
            v.fail(
                Indication.INDETERMINATE,
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                "the signer certificate does not chain to a trusted root",
            )
            return RevocationStatus.NOT_CHECKED, False
        proven = ts.gen_time if ts is not None else None
        ref = proven or self.now
        if cert.not_valid_before_utc > ref:
            v.fail(
                Indication.TOTAL_FAILED,
                SubIndication.NOT_YET_VALID,
                "the signer certificate was not yet valid at the signing time",
            )
            return RevocationStatus.NOT_CHECKED, False
        for c in path:
            if not valid_at(c, ref):
                v.fail(
                    Indication.INDETERMINATE,
                    SubIndication.OUT_OF_BOUNDS_NO_POE,
                    f"{c.subject.rfc4514_string()} is outside its validity period "
                    "and no timestamp proves the signature older",
                )
                return RevocationStatus.NOT_CHECKED, False
        lt = self._has_lt_data(path, ts)
        if not self.policy.check_revocation:
            return RevocationStatus.NOT_CHECKED, lt
        claimed = proven or signing_time or self.now
        status = RevocationStatus.GOOD
        for i, c in enumerate(path[:-1]):
            issuer = path[i + 1]
            found = self._status_of(c, issuer)
            who = c.subject.rfc4514_string()
            if found is None:
                v.fail(
                    Indication.INDETERMINATE,
                    SubIndication.TRY_LATER,
                    f"no usable revocation information for {who}",
                )
                return (RevocationStatus.UNKNOWN if i == 0 else status), lt
            if found[0] == "revoked":
                when = found[1]
                if i > 0:
                    v.fail(
                        Indication.INDETERMINATE,
                        SubIndication.REVOKED_CA_NO_POE,
                        f"the CA certificate {who} is revoked",
                    )
                    return status, lt
                if when is None or when <= claimed:
                    v.fail(
                        Indication.TOTAL_FAILED,
                        SubIndication.REVOKED,
                        f"the signer certificate was revoked on {_iso(when)}, "
                        f"before the signing time {_iso(claimed)}",
                    )
                    return RevocationStatus.REVOKED, lt
                if proven is None:
                    v.fail(
                        Indication.INDETERMINATE,
                        SubIndication.REVOKED_NO_POE,
                        f"the signer certificate was revoked on {_iso(when)} and no "
                        "timestamp proves the signature older",
                    )
                    return RevocationStatus.REVOKED, lt
                v.messages.append(
                    f"the signer certificate was revoked on {_iso(when)}, after the "
                    f"timestamped signing time {_iso(proven)}"
                )
                status = RevocationStatus.REVOKED
        return status, lt

    def _status_of(
        self, cert: x509.Certificate, issuer: x509.Certificate
    ) -> tuple[str, datetime | None] | None:
        """('good'|'revoked', revocation time) from embedded or fetched data, or None."""
        found = _from_material(cert, issuer, self.ocsps, self.crls)
        if found is not None or not self.policy.fetch_revocation:
            return found
        try:
            from qcertlib.revocation import Status, check

            result = check(cert, issuer, self.policy.revocation, at=self.now)
        except (ImportError, QcertError):
            return None
        if result.status is Status.GOOD:
            return ("good", None)
        if result.status is Status.REVOKED:
            return ("revoked", result.revocation_time)
        return None

    def _has_lt_data(self, path: Sequence[x509.Certificate], ts: TimestampInfo | None) -> bool:
        """B-LT: every certificate of the signer and TSA paths and their revocation data
        are inside the signature."""
        if ts is None:
            return False
        tsa_path = ts.path or build_path(ts.tsa_certificate, self.pool, self.policy.trust_roots)
        if tsa_path is None:
            return False
        embedded = {c.fingerprint(_SHA256) for c in self.embedded}
        for chain in (path, tsa_path):
            for i, c in enumerate(chain):
                is_root = i == len(chain) - 1
                if not is_root and c.fingerprint(_SHA256) not in embedded:
                    return False
                if not is_root and _from_material(c, chain[i + 1], self.ocsps, self.crls) is None:
                    return False
        return True


def _from_material(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    ocsps: Sequence[bytes],
    crls: Sequence[bytes],
) -> tuple[str, datetime | None] | None:
    from qcertlib.revocation import NoncePolicy
    from qcertlib.revocation.crl import load_crl, verify_crl
    from qcertlib.revocation.ocsp import verify_response

    for der in ocsps:
        try:
            single = ocsp.load_der_ocsp_response(der)
            when = single.this_update_utc
            result = verify_response(
                der, cert, issuer, nonce_policy=NoncePolicy.OFF, at=when, max_age=None
            )
        except _MATERIAL_ERRORS:
            continue
        status = result.status.value
        if status in ("good", "revoked"):
            return status, result.cert_status.revocation_time
    for der in crls:
        try:
            crl = load_crl(der)
            if crl.issuer != issuer.subject:
                continue
            verify_crl(crl, issuer, at=crl.this_update)
        except _MATERIAL_ERRORS:
            continue
        entry = crl.lookup(cert.serial_number)
        return entry.status.value, entry.revocation_time
    return None


def _signing_time(attrs: Any) -> datetime | None:
    values = _cms.attr_values(attrs, "signing_time")
    if not values:
        return None
    when = values[0].native
    return when if isinstance(when, datetime) else None


def _policy_oid(value: Any) -> str:
    """The sigPolicyId of a SignaturePolicyIdentifier value (``?`` if unreadable)."""
    try:
        der = bytes(value.dump())
        _tag, inner, _end = _tlv(der, 0)
        _tag, _start, end = _tlv(der, inner)
        return str(core.ObjectIdentifier.load(der[inner:end]).dotted)
    except (ValueError, TypeError, IndexError):
        return "?"


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of element) of the DER element at ``pos``."""
    tag = der[pos]
    length = der[pos + 1]
    start = pos + 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(der[start : start + n], "big")
        start += n
    return tag, start, start + length


def _iso(when: datetime | None) -> str:
    return when.isoformat() if when else "an unknown date"
